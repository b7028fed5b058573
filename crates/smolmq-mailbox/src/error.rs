//! The errors of sending and receiving.
//!
//! Each is a small value: a send hands the command back, a receive says only
//! why nothing came.

use std::error::Error;
use std::fmt;

/// A command could not be sent because the [`Receiver`](crate::Receiver) is
/// gone; the command is handed back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The command that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

// By hand, so that the error is `Debug` (and so `Error`) for any `T`.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending into a mailbox whose receiver is gone")
    }
}

impl<T> Error for SendError<T> {}

/// Why [`Receiver::try_recv`](crate::Receiver::try_recv) returned no command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// The mailbox is empty for now; senders are still alive.
    Empty,
    /// Every sender is gone and every command has been received.
    Disconnected,
}

impl TryRecvError {
    /// True for [`TryRecvError::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// True for [`TryRecvError::Disconnected`].
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TryRecvError::Disconnected)
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving from an empty mailbox"),
            TryRecvError::Disconnected => {
                f.write_str("receiving from an empty mailbox whose senders are gone")
            }
        }
    }
}

impl Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Disconnected
    }
}

/// Every sender is gone and every command has been received: a blocking or
/// async receive will never return a command again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving from an empty mailbox whose senders are gone")
    }
}

impl Error for RecvError {}

/// Why [`Receiver::recv_timeout`](crate::Receiver::recv_timeout) returned no
/// command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecvTimeoutError {
    /// No command came before the timeout; senders are still alive.
    Timeout,
    /// Every sender is gone and every command has been received.
    Disconnected,
}

impl RecvTimeoutError {
    /// True for [`RecvTimeoutError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// True for [`RecvTimeoutError::Disconnected`].
    pub fn is_disconnected(&self) -> bool {
        matches!(self, RecvTimeoutError::Disconnected)
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving from a mailbox"),
            RecvTimeoutError::Disconnected => {
                f.write_str("receiving from an empty mailbox whose senders are gone")
            }
        }
    }
}

impl Error for RecvTimeoutError {}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> Self {
        RecvTimeoutError::Disconnected
    }
}
