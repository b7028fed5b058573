//! A cross-thread wake-up that a thread can block on and a task can await.
//!
//! One side calls `signal()`; the other consumes the signal with `try_recv()`
//! (never waits), `wait()` / `wait_timeout()` (blocks the thread) or
//! `recv().await` (suspends a task, on any executor). A signal sent before
//! anyone waits is kept until it is consumed, and signals sent while one is
//! pending coalesce: a signal means "look again", not "one more item". This is
//! the wake-up half of libzmq's ypipe-plus-signaler hand-off: the writer
//! signals only when its `flush()` says the reader went to sleep.
//!
//! Two implementations share the method names:
//!
//! - [`Signaler`]: an atomic word plus an [`event_listener::Event`]. No file
//!   descriptor, no system call unless a thread really sleeps. The default.
//! - [`FdSignaler`] (Unix): an eventfd (Linux, Android) or pipe that is
//!   readable while a signal is pending, for a caller that waits in its own
//!   `poll`/`epoll`/`kqueue` loop, like libzmq's `ZMQ_FD`. Its methods
//!   return [`std::io::Result`].
//!
//! # Examples
//!
//! A thread signals, another blocks until it does:
//!
//! ```
//! use smolmq_signaler::Signaler;
//! use std::sync::Arc;
//! use std::thread;
//!
//! let signaler = Arc::new(Signaler::new());
//! let remote = signaler.clone();
//! let handle = thread::spawn(move || remote.signal());
//!
//! signaler.wait(); // Returns even if the signal came first.
//! handle.join().unwrap();
//!
//! signaler.signal();
//! signaler.signal(); // Coalesces with the pending one.
//! assert!(signaler.try_recv());
//! assert!(!signaler.try_recv());
//! ```
//!
//! The same in a task, here on `futures_lite`'s `block_on` (any executor
//! will do), and with the file-descriptor variant:
//!
//! ```
//! use smolmq_signaler::Signaler;
//! use std::sync::Arc;
//! use std::thread;
//!
//! let signaler = Arc::new(Signaler::new());
//! let remote = signaler.clone();
//! let handle = thread::spawn(move || remote.signal());
//! futures_lite::future::block_on(signaler.recv());
//! handle.join().unwrap();
//!
//! #[cfg(unix)]
//! {
//!     use smolmq_signaler::FdSignaler;
//!
//!     let signaler = Arc::new(FdSignaler::new()?);
//!     let remote = signaler.clone();
//!     let handle = thread::spawn(move || remote.signal());
//!     futures_lite::future::block_on(signaler.recv())?;
//!     handle.join().unwrap()?;
//! }
//! # std::io::Result::Ok(())
//! ```
//!
//! # Which is used where, and why
//!
//! | median per run, range over four runs         | `Signaler`       | `FdSignaler`      |
//! |----------------------------------------------|------------------|-------------------|
//! | `signal()` while one is pending              | 9 – 13 ns        | 148 – 293 ns      |
//! | the same from two threads at once            | 9 – 35 ns        | 347 – 581 ns      |
//! | `signal()` then `try_recv()`, nobody waiting | 18 – 33 ns       | 299 – 466 ns      |
//! | blocking round trip (two wake-ups)           | 0.30 – 2.0 µs    | 2.8 – 83 µs       |
//! | async round trip (`block_on` on both sides)  | 8.7 – 83 µs      | 55 – 386 µs       |
//! | file descriptors                             | none             | 1 (eventfd) or 2  |
//!
//! Baselines in the same runs: a blocking round trip through
//! `std::thread::park`/`unpark` took 1.6 – 83 µs, through a
//! `std::sync::mpsc` channel of `()` 3.1 – 86 µs; an atomic swap (a signal
//! that always writes its flag) 8 – 18 ns alone and 16 – 39 ns from two
//! threads.
//!
//! - **[`Signaler`] is the default**, used wherever both ends are smolmq's
//!   own code: the mailboxes of sockets and I/O threads, the reader wake-up
//!   behind a ypipe. Its `signal()` never enters the kernel unless a waiter
//!   is asleep, and when a signal is already pending it only reads the
//!   flag (writers signalling a busy reader share its cache line instead of
//!   passing it around). Its blocking `wait()` keeps looking at the flag for
//!   about 20 µs, spinning and yielding by turns, before it parks: that keeps
//!   the round trip at 0.3 – 0.7 µs while each thread has a core (2 µs when
//!   other work crowded the machine), where everything that sleeps at once
//!   (the eventfd, park/unpark, the channel) pays for waking an idle vCPU,
//!   which here costs anything from 1 to 40 µs. When both threads share one
//!   core (`taskset -c 0`) the yields keep it level with the rest: 2.5 µs
//!   against 2.1 µs for park/unpark and 3.4 µs for the eventfd.
//! - **[`FdSignaler`] is for the edge**: a ZMQ_FD-like descriptor for
//!   applications that run their own poll loop (mio, glib, libuv, a raw
//!   epoll set), or for waiting on a signal and other descriptors in one
//!   `poll`. Every `signal()` is a `write(2)`, coalesced or not, and `recv()`
//!   learns of the signal only through `async-io`'s reactor, so it is the
//!   slower choice everywhere else.
//! - In tasks, both wake through the executor's waker and the executor's
//!   parking dominates; `Signaler` wakes the task straight from `signal()`,
//!   `FdSignaler` only once the reactor has seen the descriptor. A task's
//!   `recv()` never spins (that would stall the executor).
//!
//! The figures come from `cargo bench -p smolmq-benches --bench signaler`
//! (quick mode), four runs on a shared 2-vCPU virtual machine (Intel Xeon)
//! while other builds ran; anything that parks a thread swings widely with
//! how idle the vCPUs are.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(unix)]
mod fd;
mod listener;

#[cfg(unix)]
pub use fd::{FdRecv, FdSignaler};
pub use listener::{Recv, Signaler};

/// Compile-time checks: signalers are shared between threads through `Arc`,
/// and their futures may move between threads with their tasks.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Signaler>();
    assert_send_sync::<Recv<'static>>();
    #[cfg(unix)]
    assert_send_sync::<FdSignaler>();
    #[cfg(unix)]
    assert_send_sync::<FdRecv<'static>>();
};
