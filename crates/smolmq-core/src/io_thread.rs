//! I/O threads: the threads a context owns to run engines, listeners and
//! connectors.
//!
//! Each thread runs an async executor inside `async_io::block_on`, so the
//! tasks it runs are driven by the async-io reactor (epoll / kqueue through
//! `polling`) and woken from any thread. Nothing here needs a runtime from
//! the application: sockets can be used from plain threads or any executor.
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
use event_listener::Event;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

/// One I/O thread's shared state.
struct Shared {
    /// The executor its tasks run on.
    executor: Executor<'static>,
    /// Set when the thread must stop.
    stop: AtomicBool,
    /// Wakes the thread to look at `stop`.
    stopped: Event,
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
    /// The threads.
    threads: Vec<IoThread>,
    /// Round-robin cursor.
    next: AtomicUsize,
}

impl IoThreads {
    /// Starts `count` I/O threads (at least one), named `smolmq-io-<n>`.
    pub fn new(count: usize) -> io::Result<IoThreads> {
        let mut threads = Vec::with_capacity(count.max(1));
        for n in 0..count.max(1) {
            let shared = Arc::new(Shared {
                executor: Executor::new(),
                stop: AtomicBool::new(false),
                stopped: Event::new(),
            });
            let inside = shared.clone();
            let handle = thread::Builder::new()
                .name(format!("smolmq-io-{n}"))
                .spawn(move || run(&inside))?;
            threads.push(IoThread {
                shared,
                handle: Some(handle),
            });
        }
        Ok(IoThreads {
            threads,
            next: AtomicUsize::new(0),
        })
    }

    /// Number of threads.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Always false: there is at least one thread.
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
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        self.threads[n].shared.executor.spawn(future)
    }
}

/// The body of an I/O thread: run tasks until told to stop.
fn run(shared: &Shared) {
    let stop = async {
        loop {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let listener = shared.stopped.listen();
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    };
    async_io::block_on(shared.executor.run(stop));
}

impl Drop for IoThreads {
    fn drop(&mut self) {
        for t in &self.threads {
            t.shared.stop.store(true, Ordering::Release);
            t.shared.stopped.notify(usize::MAX);
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
