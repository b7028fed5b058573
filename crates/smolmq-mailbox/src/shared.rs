//! The state a mailbox's senders and its receiver share, and the sleep
//! protocol that lets a sender skip the wake-up while the reader is busy.
//!
//! # The sleep protocol
//!
//! The reader never takes a lock: it pops from a lock-free queue, and only
//! when the queue is empty does it go to sleep on the [`Signaler`]. Before
//! it sleeps it *announces* the sleep (`asleep = true`) and looks at the
//! queue once more. A sender pushes its command, then looks at the
//! announcement, and signals only if the reader announced a sleep.
//!
//! ```text
//! reader                              sender
//! ------                              ------
//! pop() -> empty                      queue.push(cmd)
//! asleep.store(true)          (R1)    fence(SeqCst)          (S1)
//! fence(SeqCst)               (R2)    if asleep.load()       (S2)
//! pop() -> empty?             (R3)        && asleep.swap(false)
//!     yes: signaler.wait()                    { signaler.signal() }
//!     no:  asleep.store(false), return the command
//! ```
//!
//! This is Dekker's pattern: each side writes its own location, then reads
//! the other's. The two `SeqCst` fences are ordered one way or the other in
//! the single total order of `SeqCst` operations:
//!
//! - if the reader's fence `R2` comes first, the sender's load `S2`, after
//!   its fence `S1`, sees the announcement `R1` or a later write to `asleep`.
//!   Either it takes the announcement and signals, or another sender took it
//!   first and signalled. In that second case the reader wakes and announces
//!   again; that new announcement is written after the other sender's swap,
//!   which our sender's load already read, so our fence `S1` comes before the
//!   reader's next fence `R2` and its next re-check sees our push (the
//!   second bullet);
//! - if the sender's fence `S1` comes first, the reader's re-check `R3`, after
//!   its fence `R2`, sees the push, so the reader does not sleep.
//!
//! Either way a command is never left in the queue with the reader asleep and
//! no signal on its way. Without the fences both loads could read stale
//! values (a store may sit in a store buffer past a later load, even on x86),
//! and both sides would miss each other. The queue's own atomics are not
//! relied on for this; only that a push is complete when `push` returns and
//! that a `pop` after the fence sees it.
//!
//! The `swap(false)` makes sure that, of the senders that saw one
//! announcement, only one pays for the signal. A signal the reader did not
//! need (it found the command on its re-check, or gave up on a timeout) stays
//! pending in the signaler, which coalesces signals; the reader's next sleep
//! then returns at once, it finds the queue empty and announces again, so a
//! stale signal costs one spurious turn of the loop, never a lost command.
//!
//! When the reader wakes, it clears the announcement and starts the loop
//! over: every sleep is preceded by its own announcement, fence and re-check,
//! which is what the argument above needs.
//!
//! # Two ways to sleep
//!
//! The announcement says how the reader sleeps: a blocking receive parks its
//! thread on the [`Signaler`] (which spins briefly first), an async receive
//! registers its task's waker in an [`AtomicWaker`] and returns `Pending`.
//! The sender that takes the announcement wakes the one named, so a task
//! costs a sender one waker call and no lock: waiting through the
//! signaler's `event-listener` would take a mutex three times per sleep
//! (listen, notify, drop), which a profile of 32 async DEALERs in ping-pong
//! with one I/O thread showed contended (5 % of the application thread).
//! The protocol above is the same for both: only the last step differs.
//!
//! # What it costs a sender
//!
//! The fence `S1` is the one full barrier the protocol adds to a send (on
//! x86-64 a `lock or` on the stack, not an `mfence`). The push itself already
//! does a `SeqCst` compare-and-swap in concurrent-queue 2.5, which would make
//! `S1` redundant, and dropping it measured 15-35% more sends per second on a
//! 2-core x86 machine; but that would tie this protocol's correctness to a
//! private detail of another crate, so the fence stays.

use atomic_waker::AtomicWaker;
use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use smolmq_signaler::Signaler;
use std::fmt;
use std::sync::atomic::{fence, AtomicU8, AtomicUsize, Ordering};
use std::task::Waker;

use crate::error::TryRecvError;

/// [`Shared::asleep`]: the reader is not asleep (or a sender took its
/// announcement).
const AWAKE: u8 = 0;
/// [`Shared::asleep`]: the reader sleeps on the signaler (a blocking
/// receive).
const BLOCKING: u8 = 1;
/// [`Shared::asleep`]: the reader's task waits for its waker (an async
/// receive).
const TASK: u8 = 2;

/// What a mailbox's senders and receiver share.
pub(crate) struct Shared<T> {
    /// The commands in flight: unbounded and lock-free. Closed when the
    /// receiver is gone (sends fail) or when the last sender is gone (the
    /// receiver drains what is left, then sees `Closed`).
    queue: ConcurrentQueue<T>,
    /// Wakes the reader once it sleeps in a blocking receive.
    pub(crate) signaler: Signaler,
    /// Wakes the reader's task once it sleeps in an async receive.
    waker: AtomicWaker,
    /// From the reader's announcement that it is about to sleep until a
    /// sender takes it (to wake it) or the reader withdraws it: [`AWAKE`],
    /// or how the reader sleeps, [`BLOCKING`] or [`TASK`].
    asleep: AtomicU8,
    /// Live [`Sender`](crate::Sender)s.
    senders: AtomicUsize,
}

impl<T> Shared<T> {
    /// A fresh, open mailbox with one sender.
    pub(crate) fn new() -> Self {
        Shared {
            queue: ConcurrentQueue::unbounded(),
            signaler: Signaler::new(),
            waker: AtomicWaker::new(),
            asleep: AtomicU8::new(AWAKE),
            senders: AtomicUsize::new(1),
        }
    }

    // ---- Sender side -------------------------------------------------------

    /// Pushes a command and wakes the reader if it announced a sleep; hands
    /// the command back if the receiver is gone.
    pub(crate) fn push(&self, cmd: T) -> Result<(), T> {
        self.queue.push(cmd).map_err(PushError::into_inner)?;
        // Dekker's fence S1 (see the module docs): the push above must be
        // ordered before the load of the announcement below.
        fence(Ordering::SeqCst);
        // A plain load first: while the reader is busy the flag's cache line
        // stays shared, and senders do not write it.
        if self.asleep.load(Ordering::Relaxed) != AWAKE {
            self.wake();
        }
        Ok(())
    }

    /// Takes the reader's announcement, if it is still there, and wakes the
    /// reader the way it sleeps.
    fn wake(&self) {
        // Only one sender takes a given announcement. Acquire: a task's
        // announcement is a release store after its waker's registration,
        // so the waker taken below is the one registered for this sleep.
        match self.asleep.swap(AWAKE, Ordering::AcqRel) {
            BLOCKING => self.signaler.signal(),
            TASK => self.waker.wake(),
            _ => {}
        }
    }

    /// True once the receiver is gone (while any sender lives, only the
    /// receiver closes the queue).
    pub(crate) fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// Counts one more sender.
    pub(crate) fn add_sender(&self) {
        // As `Arc::clone`: a new sender is made from a live one, so the count
        // cannot be zero here and needs no ordering.
        let old = self.senders.fetch_add(1, Ordering::Relaxed);
        if old > isize::MAX as usize {
            // Only reachable by leaking senders by the billion.
            std::process::abort();
        }
    }

    /// Counts one sender less; the last one closes the queue and wakes the
    /// reader so that it sees the disconnection once it has drained.
    pub(crate) fn remove_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.queue.close();
            // Unconditionally: this happens once, and a pending signal is
            // simpler to reason about than a second Dekker handshake. The
            // reader either is asleep (and wakes), or will find the queue
            // closed before it sleeps, or will find this signal pending (a
            // task: its waker woken, or registered after this and then
            // finding the queue closed on its re-check).
            self.signaler.signal();
            self.waker.wake();
        }
    }

    // ---- Receiver side -----------------------------------------------------

    /// Pops a command without waiting.
    pub(crate) fn try_pop(&self) -> Result<T, TryRecvError> {
        match self.queue.pop() {
            Ok(cmd) => Ok(cmd),
            Err(PopError::Empty) => Err(TryRecvError::Empty),
            Err(PopError::Closed) => Err(TryRecvError::Disconnected),
        }
    }

    /// Announces a sleep and looks at the queue once more.
    ///
    /// `Err(TryRecvError::Empty)` means the reader may now sleep on the
    /// signaler, and must call [`Shared::woke`] after it wakes (or gives up).
    /// Anything else is the result of the receive, the announcement already
    /// withdrawn.
    pub(crate) fn prepare_sleep(&self) -> Result<T, TryRecvError> {
        self.asleep.store(BLOCKING, Ordering::Relaxed);
        self.recheck()
    }

    /// As [`prepare_sleep`](Shared::prepare_sleep), for a task that will
    /// wait to be woken through `waker` instead of on the signaler.
    ///
    /// The waker is registered before the announcement, and the
    /// announcement is a release store that the waking sender's swap
    /// acquires, so a sender that takes it wakes this waker (or a later
    /// one), never an older one.
    pub(crate) fn prepare_task_sleep(&self, waker: &Waker) -> Result<T, TryRecvError> {
        self.waker.register(waker);
        self.asleep.store(TASK, Ordering::Release);
        self.recheck()
    }

    /// The re-check after an announcement.
    fn recheck(&self) -> Result<T, TryRecvError> {
        // Dekker's fence R2 (see the module docs): the announcement before
        // must be ordered before the re-check below.
        fence(Ordering::SeqCst);
        let result = self.try_pop();
        if !matches!(result, Err(TryRecvError::Empty)) {
            self.woke();
        }
        result
    }

    /// Withdraws the announcement after a sleep (or instead of one). A sender
    /// may have taken it already; then a signal is or will be pending, which
    /// only costs the next sleep a spurious turn.
    pub(crate) fn woke(&self) {
        self.asleep.store(AWAKE, Ordering::Relaxed);
    }

    /// Closes the queue for senders and drops every command left in it.
    pub(crate) fn close_and_drain(&self) {
        self.queue.close();
        // Nothing can be pushed after `close`, so this empties the queue.
        while self.queue.pop().is_ok() {}
    }

    /// Commands in the queue right now.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// True if the queue holds no command right now.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Live senders right now.
    pub(crate) fn sender_count(&self) -> usize {
        self.senders.load(Ordering::Relaxed)
    }
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("len", &self.len())
            .field("senders", &self.sender_count())
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}
