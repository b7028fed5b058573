//! The sending half: cheap to clone, shared by any number of threads.

use std::fmt;
use std::sync::Arc;

use crate::error::SendError;
use crate::shared::Shared;

/// The sending half of a mailbox.
///
/// Clone it to give each producer its own; it is `Send` and `Sync`, so one
/// can also be shared by reference. Sending never blocks and never takes a
/// lock: it pushes onto a lock-free queue and pays for a wake-up only when
/// the reader sleeps. When the last sender is dropped the receiver, after
/// draining what was sent, sees the mailbox disconnected.
pub struct Sender<T> {
    /// The mailbox.
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Sends a command.
    ///
    /// Fails only when the [`Receiver`](crate::Receiver) is gone, handing the
    /// command back in the error.
    ///
    /// ```
    /// let (tx, rx) = smolmq_mailbox::mailbox();
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn send(&self, cmd: T) -> Result<(), SendError<T>> {
        self.shared.push(cmd).map_err(SendError)
    }

    /// True once the receiver is gone: every send from now on fails.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// Commands sent and not yet received, at this instant.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// True if no command is waiting for the receiver, at this instant.
    pub fn is_empty(&self) -> bool {
        self.shared.is_empty()
    }

    /// True if both senders feed the same mailbox.
    pub fn same_mailbox(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.add_sender();
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.remove_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("mailbox", &self.shared)
            .finish()
    }
}
