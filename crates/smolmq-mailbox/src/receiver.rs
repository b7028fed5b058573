//! The receiving half: one reader that drains without locks and sleeps on
//! the signaler only when the mailbox is empty.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use crate::error::{RecvError, RecvTimeoutError, TryRecvError};
use crate::shared::Shared;

/// The receiving half of a mailbox.
///
/// There is exactly one: it is `Send` but neither `Clone` nor `Sync`, so
/// at most one thread receives at a time, and [`Receiver::recv`] borrows it
/// mutably, so at most one receive future waits at a time. That single
/// sleeping reader is what lets a sender skip the wake-up while it is busy.
/// Receiving takes no lock; the reader sleeps on the mailbox's signaler only
/// when the queue is empty.
///
/// Dropping the receiver closes the mailbox: later sends fail and hand their
/// command back, and the commands still queued are dropped at once.
pub struct Receiver<T> {
    /// The mailbox.
    shared: Arc<Shared<T>>,
    /// Makes the receiver `!Sync` (but still `Send`): the sleep protocol
    /// assumes a single reader.
    _single_reader: PhantomData<Cell<()>>,
}

impl<T> Receiver<T> {
    /// The receiver of a fresh mailbox.
    pub(crate) fn new(shared: Arc<Shared<T>>) -> Self {
        Receiver {
            shared,
            _single_reader: PhantomData,
        }
    }

    /// Receives a command if one is waiting, without blocking.
    ///
    /// Fails with [`TryRecvError::Empty`] if none is, and with
    /// [`TryRecvError::Disconnected`] once every sender is gone and every
    /// command has been received.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.shared.try_pop()
    }

    /// Receives a command, blocking the thread while the mailbox is empty.
    ///
    /// Fails only once every sender is gone and every command has been
    /// received.
    pub fn recv_blocking(&self) -> Result<T, RecvError> {
        loop {
            match self.shared.try_pop() {
                Err(TryRecvError::Empty) => {}
                result => return result.map_err(|_| RecvError),
            }
            match self.shared.prepare_sleep() {
                Err(TryRecvError::Empty) => {}
                result => return result.map_err(|_| RecvError),
            }
            self.shared.signaler.wait();
            self.shared.woke();
        }
    }

    /// Receives a command, blocking the thread for at most `timeout` while
    /// the mailbox is empty.
    ///
    /// Fails with [`RecvTimeoutError::Timeout`] if no command came in time,
    /// and with [`RecvTimeoutError::Disconnected`] once every sender is gone
    /// and every command has been received.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        match Instant::now().checked_add(timeout) {
            Some(deadline) => self.recv_deadline(deadline),
            // Too far away to represent: as good as never.
            None => self.recv_blocking().map_err(RecvTimeoutError::from),
        }
    }

    /// Receives a command, blocking the thread until `deadline` at most while
    /// the mailbox is empty. Fails as [`Receiver::recv_timeout`] does.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        loop {
            match self.shared.try_pop() {
                Ok(cmd) => return Ok(cmd),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(RecvTimeoutError::Timeout);
            }
            match self.shared.prepare_sleep() {
                Ok(cmd) => return Ok(cmd),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            // Woken or timed out, look again: the deadline check above ends
            // the loop once time is up.
            self.shared.signaler.wait_timeout(deadline - now);
            self.shared.woke();
        }
    }

    /// Receives a command asynchronously, waiting while the mailbox is empty.
    ///
    /// The future fails only once every sender is gone and every command has
    /// been received. It needs no runtime: any executor, or
    /// `futures_lite::future::block_on`, can drive it. Dropping it before it
    /// completes loses no command.
    ///
    /// ```
    /// use futures_lite::future::block_on;
    ///
    /// let (tx, mut rx) = smolmq_mailbox::mailbox();
    /// std::thread::spawn(move || tx.send("ping").unwrap());
    /// assert_eq!(block_on(rx.recv()), Ok("ping"));
    /// assert!(block_on(rx.recv()).is_err()); // The sender is gone.
    /// ```
    ///
    /// It takes `&mut self` because the sleep protocol has room for one
    /// sleeping reader: two receive futures of one receiver alive at once
    /// (say, joined in one task) would share one sleep announcement, and the
    /// one left waiting after the other took a command would not be woken
    /// by later sends. The borrow rules out that misuse:
    ///
    /// ```compile_fail,E0499
    /// let (_tx, mut rx) = smolmq_mailbox::mailbox::<u8>();
    /// let first = rx.recv();
    /// let second = rx.recv();
    /// futures_lite::future::block_on(futures_lite::future::zip(first, second));
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            shared: &self.shared,
            waiting: false,
        }
    }

    /// An iterator over the commands waiting right now; it ends when the
    /// mailbox is empty (or disconnected), and never blocks.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { receiver: self }
    }

    /// Commands waiting, at this instant.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// True if no command is waiting, at this instant.
    pub fn is_empty(&self) -> bool {
        self.shared.is_empty()
    }

    /// True once every sender is gone. Commands may still be waiting: the
    /// receive calls report the disconnection only after draining them.
    pub fn is_disconnected(&self) -> bool {
        self.shared.sender_count() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // Fail later sends, and drop the queued commands now rather than
        // when the last sender goes.
        self.shared.close_and_drain();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("mailbox", &self.shared)
            .finish()
    }
}

pin_project! {
    /// The future returned by [`Receiver::recv`]: resolves to the next command,
    /// or to [`RecvError`] once the mailbox is empty and every sender is gone.
    ///
    /// While it waits, its task's waker is registered with the mailbox, and
    /// the sender that finds the reader asleep wakes it (no lock, no
    /// thread parked). Dropping it withdraws the announcement.
    #[must_use = "futures do nothing unless polled"]
    pub struct Recv<'a, T> {
        // The mailbox. (pin-project-lite takes no doc comments on fields.)
        shared: &'a Shared<T>,
        // True while the reader's sleep is announced.
        waiting: bool,
    }

    impl<'a, T> PinnedDrop for Recv<'a, T> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped while asleep: withdraw the announcement, so that
            // senders stop waking a reader that no longer waits.
            if *this.waiting {
                this.shared.woke();
            }
        }
    }
}

impl<'a, T> Future for Recv<'a, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let shared: &'a Shared<T> = this.shared;
        if *this.waiting {
            // Woken (or polled again for another reason): withdraw, then
            // look and announce again, as a first poll does.
            *this.waiting = false;
            shared.woke();
        }
        match shared.try_pop() {
            Err(TryRecvError::Empty) => {}
            result => return Poll::Ready(result.map_err(|_| RecvError)),
        }
        match shared.prepare_task_sleep(cx.waker()) {
            Err(TryRecvError::Empty) => {
                *this.waiting = true;
                Poll::Pending
            }
            result => Poll::Ready(result.map_err(|_| RecvError)),
        }
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("mailbox", &self.shared)
            .field("waiting", &self.waiting)
            .finish()
    }
}

/// The iterator of [`Receiver::try_iter`]: the commands waiting, without
/// blocking.
pub struct TryIter<'a, T> {
    /// The receiver drained.
    receiver: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.try_recv().ok()
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryIter")
            .field("receiver", &self.receiver)
            .finish()
    }
}
