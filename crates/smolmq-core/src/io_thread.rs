//! I/O threads: the threads a context owns to run engines, listeners and
//! connectors.
//!
//! Each thread runs an async executor inside `async_io::block_on`, so the
//! tasks it runs are driven by the async-io reactor (epoll / kqueue through
//! `polling`) and woken from any thread. Nothing here needs a runtime from
//! the application: sockets can be used from plain threads or any executor.
//!
//! # Spinning before sleeping
//!
//! After running tasks, a thread keeps looking for more work for a short
//! time (the *spin*, [`DEFAULT_IO_SPIN`] unless set with
//! [`IoThreads::with_spin`] or `ContextConfig::io_spin`) before it blocks in
//! the reactor. While it spins it polls the reactor without blocking
//! (`epoll_wait` with a zero timeout) and runs whatever became ready, so a
//! message arriving on a socket, or sent by the application, is picked up
//! at once: no wake-up of a sleeping thread (an eventfd write by the waker,
//! a futex or `epoll_wait` return on this side) on the message's way. On
//! the project's test machine this cut PAIR ping-pong latency over ipc and
//! tcp several times (see `docs/architecture.md`, "The data path").
//!
//! After the first 10 µs of a spin the thread yields its core before each
//! look, so on a machine with more runnable threads than cores the spin
//! does not keep the threads it waits for off the CPU.
//!
//! The price is CPU: a thread spins for the whole spin after every burst of
//! work, so a connection with a message every few tens of microseconds
//! keeps its I/O thread busy all the time, on a core the application may
//! want. A spin of zero restores plain sleeping.
//!
//! ```
//! use smolmq_core::io_thread::IoThreads;
//! use std::sync::mpsc;
//!
//! let io = IoThreads::new(2)?;
//! let (tx, rx) = mpsc::channel();
//! for i in 0..4 {
//!     let tx = tx.clone();
//!     io.spawn(async move { tx.send(i).unwrap() }).detach();
//! }
//! let mut got: Vec<i32> = (0..4).map(|_| rx.recv().unwrap()).collect();
//! got.sort();
//! assert_eq!(got, [0, 1, 2, 3]);
//! # Ok::<(), std::io::Error>(())
//! ```

use async_executor::{Executor, Task};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long an I/O thread keeps looking for work after its last task ran
/// before it blocks in the reactor, unless configured otherwise: 50 µs.
///
/// Long enough to cover the gap between two messages of a busy connection
/// and a ping-pong round trip on the same machine; short enough that an
/// idle context stops using CPU at once. See the [module docs](self) for
/// what it costs.
pub const DEFAULT_IO_SPIN: Duration = Duration::from_micros(50);

/// How long a spinning I/O thread looks without yielding its core; after
/// that it yields before every look (see `run`).
const SPIN_BEFORE_YIELD: Duration = Duration::from_micros(10);

/// Tasks run between two looks at the reactor while there is work.
const TICKS_PER_LOOK: usize = 16;

/// One I/O thread's shared state.
struct Shared {
    /// The executor its tasks run on.
    executor: Executor<'static>,
    /// Set when the thread must stop (the thread is then woken by a no-op
    /// task).
    stop: AtomicBool,
}

/// One I/O thread.
struct IoThread {
    /// Reached by spawners and by the thread itself.
    shared: Arc<Shared>,
    /// Joined on drop.
    handle: Option<JoinHandle<()>>,
}

/// A set of I/O threads; tasks are spread over them round robin.
///
/// Dropping it stops the threads: tasks still running are dropped (a
/// dropped engine closes its connection), and the drop waits for the
/// threads to finish (all but the calling thread, when a task of an I/O
/// thread drops the last handle).
pub struct IoThreads {
    /// The threads (none when the tasks go to `foreign`).
    threads: Vec<IoThread>,
    /// An executor of the application's that runs the tasks instead (see
    /// [`IoThreads::on_executor`]).
    foreign: Option<Arc<Executor<'static>>>,
    /// Round-robin cursor.
    next: AtomicUsize,
    /// Tasks spawned and not yet finished or dropped.
    live: Arc<AtomicUsize>,
}

/// Counts a task as live until its future is done or dropped.
struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl IoThreads {
    /// Starts `count` I/O threads (at least one), named `smolmq-io-<n>`,
    /// spinning [`DEFAULT_IO_SPIN`] before they sleep.
    pub fn new(count: usize) -> io::Result<IoThreads> {
        IoThreads::with_spin(count, DEFAULT_IO_SPIN)
    }

    /// Starts `count` I/O threads (at least one) that keep looking for work
    /// for `spin` after their last task ran before they block in the
    /// reactor (zero: block at once). See the [module docs](self).
    pub fn with_spin(count: usize, spin: Duration) -> io::Result<IoThreads> {
        let mut threads = Vec::with_capacity(count.max(1));
        for n in 0..count.max(1) {
            let shared = Arc::new(Shared {
                executor: Executor::new(),
                stop: AtomicBool::new(false),
            });
            let inside = shared.clone();
            let handle = thread::Builder::new()
                .name(format!("smolmq-io-{n}"))
                .spawn(move || run(&inside, spin))?;
            threads.push(IoThread {
                shared,
                handle: Some(handle),
            });
        }
        Ok(IoThreads {
            threads,
            foreign: None,
            next: AtomicUsize::new(0),
            live: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// No threads of its own: every task is spawned on `executor`, which
    /// the application runs (on one thread or several, e.g. with
    /// `async_io::block_on(executor.run(...))`, so that the thread that
    /// runs it also drives the reactor).
    ///
    /// Engines then run beside the application's own tasks, and nothing
    /// spins. With one thread running the executor, a message sent from a
    /// task on it wakes its engine through the executor's queue with no
    /// other thread involved (async-executor queues a woken task in its
    /// shared queue and wakes a sleeping runner, if there is one: with
    /// several threads running it, a wake-up may still cross). While
    /// the executor is not running, no connection makes progress; a
    /// blocking call (`recv_blocking`, `send_blocking`, ...) made on a
    /// thread that is the only one running the executor waits for ever
    /// (or for its timeout), so use the async calls there. Dropping the
    /// last handle does not cancel tasks on `executor` (there is no
    /// thread to stop): each connection's engine ends as its socket's
    /// close and LINGER say, as it would on an I/O thread whose context
    /// lives on.
    ///
    /// ```
    /// use async_executor::Executor;
    /// use smolmq_core::io_thread::IoThreads;
    /// use std::sync::Arc;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let io = IoThreads::on_executor(ex.clone());
    /// let task = io.spawn(async { 6 * 7 });
    /// assert_eq!(async_io::block_on(ex.run(task)), 42);
    /// ```
    pub fn on_executor(executor: Arc<Executor<'static>>) -> IoThreads {
        IoThreads {
            threads: Vec::new(),
            foreign: Some(executor),
            next: AtomicUsize::new(0),
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Number of threads of its own: 0 with
    /// [`on_executor`](IoThreads::on_executor).
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// True with [`on_executor`](IoThreads::on_executor): no threads of
    /// its own.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Runs `future` on the next thread, round robin. Dropping the returned
    /// task cancels it; `detach` lets it run to completion.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.live.fetch_add(1, Ordering::Relaxed);
        let live = Live(self.live.clone());
        let future = async move {
            let _live = live;
            future.await
        };
        if let Some(executor) = &self.foreign {
            return executor.spawn(future);
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        self.threads[n].shared.executor.spawn(future)
    }

    /// Tasks spawned and not yet finished (or cancelled): listeners,
    /// connectors, connections. For leak checks; a snapshot.
    pub fn tasks(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}

/// The body of an I/O thread: run tasks until told to stop, spinning for
/// `spin` after the last one before sleeping.
fn run(shared: &Shared, spin: Duration) {
    async_io::block_on(async {
        let mut last_work = Instant::now();
        loop {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let mut ran = false;
            for _ in 0..TICKS_PER_LOOK {
                if !shared.executor.try_tick() {
                    break;
                }
                ran = true;
            }
            if ran {
                last_work = Instant::now();
                // Let `block_on` poll the reactor (without blocking: we
                // woke ourselves) so that sockets that became ready get
                // their tasks scheduled.
                YieldNow(false).await;
                continue;
            }
            let idle = last_work.elapsed();
            if idle < spin {
                // Nothing ready: poll the reactor again without blocking.
                // Past the first few microseconds, offer the core to any
                // other runnable thread before each look: on a busy
                // machine that is often the very thread we wait for (a
                // plain spin then kept it off the core and made latency
                // worse than sleeping); on an idle one the yield returns
                // at once.
                if idle < SPIN_BEFORE_YIELD {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
                YieldNow(false).await;
                continue;
            }
            // Sleep in the reactor until a task is scheduled (stopping
            // schedules a no-op task).
            shared.executor.tick().await;
            last_work = Instant::now();
        }
    });
}

/// Returns `Pending` once, waking itself: `async_io::block_on` then polls
/// the reactor without blocking before polling again.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl Drop for IoThreads {
    fn drop(&mut self) {
        for t in &self.threads {
            t.shared.stop.store(true, Ordering::Release);
            // Wakes a sleeping thread, which then sees `stop`.
            t.shared.executor.spawn(async {}).detach();
        }
        let me = thread::current().id();
        for t in &mut self.threads {
            if let Some(handle) = t.handle.take() {
                if handle.thread().id() == me {
                    // Dropped by one of its own tasks: this thread stops
                    // when that task returns; it cannot wait for itself.
                    continue;
                }
                // A panic on an I/O thread was already reported by the
                // panic hook; there is nothing more to do with it here.
                let _ = handle.join();
            }
        }
    }
}

impl fmt::Debug for IoThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoThreads")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}
