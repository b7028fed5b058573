//! [`Signaler`]: a wake-up built on `event-listener` and one atomic word, with
//! no file descriptor.

use std::fmt;
use std::future::Future;
use std::hint;
use std::pin::Pin;
use std::sync::atomic::{self, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use event_listener::{listener, Event, EventListener, Listener};

/// Bit of [`Signaler::state`]: a signal is pending (sent and not consumed).
const PENDING: usize = 1;

/// One unit of the waiter count that the upper bits of [`Signaler::state`]
/// hold: the number of registered listeners that may be asleep.
const WAITER: usize = 2;

/// How long a blocking wait keeps looking at the flag before it registers a
/// listener and parks.
///
/// Waking a parked thread costs tens of microseconds on a virtual machine
/// (the idle vCPU must be woken), while a peer running on another core
/// usually answers within a microsecond; looking for about as long as a
/// wake-up would cost makes ping-pong many times faster (see the crate docs)
/// and costs an idle waiter only this much CPU per wait.
const SPIN_FOR: Duration = Duration::from_micros(20);

/// Spin-loop hints per round of looking at the flag (about 0.3 µs). Between
/// rounds the waiter yields its core: if the peer that will signal shares
/// it, the peer runs at once rather than after the whole spin.
const SPINS_PER_ROUND: u32 = 32;

/// A cross-thread wake-up without a file descriptor.
///
/// Any thread may [`signal`](Signaler::signal); a consumer takes the signal
/// with [`try_recv`](Signaler::try_recv) (never waits),
/// [`wait`](Signaler::wait) / [`wait_timeout`](Signaler::wait_timeout)
/// (block the thread) or [`recv`](Signaler::recv) (await it in a task).
/// Signals sent while one is already pending coalesce into one: a signal says
/// "look again", not "one more item".
///
/// A signal sent before anyone waits is kept until it is consumed, so the
/// usual loop (drain the queue; wait; repeat) loses no wake-up.
///
/// # Memory ordering
///
/// Whatever the signalling thread published before
/// [`signal`](Signaler::signal) through atomics or locks (a queue, a mutex,
/// an atomic flag) is visible to the thread that consumes the signal once its
/// consuming call returns, also when the signal coalesced with one already
/// pending. A coalescing signal does not write the signaler's memory (that
/// is what keeps it cheap), so it is no release by itself: plain
/// (non-atomic) data must travel through such a structure, as it does in any
/// real queue.
///
/// # Examples
///
/// ```
/// use smolmq_signaler::Signaler;
/// use std::sync::Arc;
/// use std::thread;
///
/// let signaler = Arc::new(Signaler::new());
/// let remote = signaler.clone();
/// let handle = thread::spawn(move || remote.signal());
/// signaler.wait();
/// handle.join().unwrap();
/// assert!(!signaler.try_recv());
/// ```
pub struct Signaler {
    /// [`PENDING`] plus [`WAITER`] times the number of announced waiters.
    ///
    /// Keeping both in one word lets a signal see in the same atomic step
    /// whether anyone needs to be woken at all.
    state: AtomicUsize,
    /// Where announced waiters sleep.
    event: Event,
}

impl Signaler {
    /// A signaler with no signal pending.
    pub fn new() -> Signaler {
        Signaler {
            state: AtomicUsize::new(0),
            event: Event::new(),
        }
    }

    /// Sends a signal: wakes one waiter, or leaves the signal pending for the
    /// next consumer.
    ///
    /// Never blocks. When a signal is already pending this is one fence and
    /// one load; otherwise one atomic read-modify-write, plus a wake-up only
    /// if a waiter is asleep.
    #[inline]
    pub fn signal(&self) {
        if self.state.load(Ordering::Relaxed) & PENDING != 0 {
            // Order the caller's writes before the second look at the flag:
            // the consumer fences after it clears the flag, so either it sees
            // those writes or this load sees the flag cleared.
            atomic::fence(Ordering::SeqCst);
            if self.state.load(Ordering::Relaxed) & PENDING != 0 {
                return;
            }
        }
        let old = self.state.fetch_or(PENDING, Ordering::SeqCst);
        if old & PENDING == 0 && old >= WAITER {
            // Someone announced that it may sleep: wake one.
            self.event.notify(1);
        }
    }

    /// Consumes a pending signal without waiting; `true` if there was one.
    #[inline]
    pub fn try_recv(&self) -> bool {
        if self.state.load(Ordering::Relaxed) & PENDING == 0 {
            return false;
        }
        let old = self.state.fetch_and(!PENDING, Ordering::SeqCst);
        consumed(old)
    }

    /// Blocks the thread until a signal arrives, and consumes it.
    ///
    /// Returns at once when a signal is pending. Before it parks it polls the
    /// flag for about 20 µs, spinning and yielding its core in turns (a prompt
    /// reply then costs no wake-up); a parked thread uses no CPU.
    pub fn wait(&self) {
        let received = self.wait_until(None);
        debug_assert!(received);
    }

    /// Blocks the thread until a signal arrives or `timeout` passes.
    ///
    /// Returns `true` if it consumed a signal, `false` on timeout. A pending
    /// signal is consumed even with a zero timeout.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // A timeout too far away to represent is no timeout.
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Waits for a signal in a task: the future resolves to `()` once it has
    /// consumed a signal.
    ///
    /// Dropping the future before it resolves consumes nothing. Several tasks
    /// (and threads) may wait at once; each signal wakes one of them.
    pub fn recv(&self) -> Recv<'_> {
        Recv {
            signaler: self,
            listener: None,
        }
    }

    /// The blocking wait behind [`wait`](Signaler::wait) and
    /// [`wait_timeout`](Signaler::wait_timeout); `None` waits forever.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.try_recv() {
            return true;
        }
        if self.spin(deadline) {
            return true;
        }
        loop {
            // Try, listen, try again, wait: the announcement is the second
            // try, since it reads the flag in the same atomic step.
            listener!(self.event => listener);
            if !self.announce() {
                match deadline {
                    None => listener.wait(),
                    // The flag, not the listener, says whether we got a signal.
                    Some(deadline) => _ = listener.wait_deadline(deadline),
                }
            }
            if self.withdraw() {
                return true;
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return false;
            }
        }
    }

    /// Looks at the flag for up to [`SPIN_FOR`] (and not past `deadline`),
    /// in rounds of [`SPINS_PER_ROUND`] spin-loop hints with a yield between
    /// rounds, to catch a prompt signal without parking; `true` if it
    /// consumed one.
    fn spin(&self, deadline: Option<Instant>) -> bool {
        let until = Instant::now() + SPIN_FOR;
        let until = deadline.map_or(until, |deadline| deadline.min(until));
        loop {
            for _ in 0..SPINS_PER_ROUND {
                hint::spin_loop();
                if self.state.load(Ordering::Relaxed) & PENDING != 0 && self.try_recv() {
                    return true;
                }
            }
            if Instant::now() >= until {
                return false;
            }
            thread::yield_now();
        }
    }

    /// Counts the caller, whose listener is registered, among the waiters a
    /// signal must wake; `true` if a signal was already pending (then the
    /// caller should not sleep).
    fn announce(&self) -> bool {
        self.state.fetch_add(WAITER, Ordering::SeqCst) & PENDING != 0
    }

    /// Undoes [`announce`](Signaler::announce) and consumes a pending signal,
    /// in one atomic step; `true` if it consumed one.
    fn withdraw(&self) -> bool {
        let old = self
            .state
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |state| {
                Some((state - WAITER) & !PENDING)
            });
        // The closure never declines.
        consumed(old.unwrap_or_else(|state| state))
    }
}

/// Finishes a consumption whose atomic step read `old`; `true` if that step
/// took a pending signal.
#[inline]
fn consumed(old: usize) -> bool {
    if old & PENDING == 0 {
        return false;
    }
    // Pairs with the fence of a signal that found the flag set: either that
    // signal sees the flag cleared (and sets it again) or its writes are
    // visible after this fence.
    atomic::fence(Ordering::SeqCst);
    true
}

impl Default for Signaler {
    fn default() -> Signaler {
        Signaler::new()
    }
}

impl fmt::Debug for Signaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Signaler")
            .field("pending", &(state & PENDING != 0))
            .field("waiters", &(state / WAITER))
            .finish()
    }
}

/// The future returned by [`Signaler::recv`]: resolves to `()` once it has
/// consumed a signal.
#[must_use = "futures do nothing unless polled"]
pub struct Recv<'a> {
    /// The signaler waited on.
    signaler: &'a Signaler,
    /// The registered listener, present while this future is announced as a
    /// waiter.
    listener: Option<EventListener>,
}

impl Future for Recv<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            match this.listener.as_mut() {
                None => {
                    if this.signaler.try_recv() {
                        return Poll::Ready(());
                    }
                    this.listener = Some(this.signaler.event.listen());
                    if this.signaler.announce() {
                        this.listener = None;
                        if this.signaler.withdraw() {
                            return Poll::Ready(());
                        }
                    }
                }
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.listener = None;
                    if this.signaler.withdraw() {
                        return Poll::Ready(());
                    }
                    // Another consumer took the signal: listen again.
                }
            }
        }
    }
}

impl Drop for Recv<'_> {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            // A notification this listener got passes on to the next one.
            drop(listener);
            self.signaler.state.fetch_sub(WAITER, Ordering::SeqCst);
        }
    }
}

impl fmt::Debug for Recv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("signaler", self.signaler)
            .field("listening", &self.listener.is_some())
            .finish()
    }
}
