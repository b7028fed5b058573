//! A multi-producer, single-consumer command mailbox.
//!
//! This is the mailbox that sockets and I/O threads talk through (libzmq's
//! `mailbox_t`): any number of threads send commands, one reader drains
//! them. It is built for a reader that is usually busy:
//!
//! - sending pushes onto a lock-free unbounded queue and never blocks;
//! - receiving pops from that queue, with no lock on the reader's path;
//! - only when the queue is empty does the reader sleep, on a
//!   [`smolmq_signaler::Signaler`], and a sender pays for a wake-up only if
//!   the reader announced that sleep. While the reader keeps up, sends cost
//!   a push, a fence and a load.
//!
//! Every receive comes in three forms: non-blocking
//! ([`Receiver::try_recv`]), blocking ([`Receiver::recv_blocking`],
//! [`Receiver::recv_timeout`]) and async ([`Receiver::recv`], a future that
//! any executor can drive; no runtime is required).
//!
//! Commands from one sender arrive in the order they were sent; commands of
//! different senders interleave.
//!
//! # Disconnection
//!
//! - When the last [`Sender`] is dropped, the receiver still gets every
//!   command already sent, then sees the mailbox disconnected
//!   ([`TryRecvError::Disconnected`], [`RecvError`]); a receiver asleep at
//!   that moment is woken.
//! - When the [`Receiver`] is dropped, sends fail with [`SendError`], which
//!   hands the command back.
//! - Commands still queued when the receiver goes are dropped then, never
//!   leaked.
//!
//! # Examples
//!
//! Producers on threads, one consumer draining until they are all gone:
//!
//! ```
//! use smolmq_mailbox::mailbox;
//! use std::thread;
//!
//! #[derive(Debug)]
//! enum Command {
//!     Attach { pipe: u32 },
//!     Stop,
//! }
//!
//! let (tx, rx) = mailbox();
//! let producers: Vec<_> = (0..4)
//!     .map(|id| {
//!         let tx = tx.clone();
//!         thread::spawn(move || {
//!             for pipe in 0..100 {
//!                 tx.send(Command::Attach { pipe: id * 100 + pipe }).unwrap();
//!             }
//!             tx.send(Command::Stop).unwrap();
//!         })
//!     })
//!     .collect();
//! // Keep only the producers' senders, so the mailbox disconnects when they end.
//! drop(tx);
//!
//! let (mut attached, mut stopped) = (0, 0);
//! while let Ok(cmd) = rx.recv_blocking() {
//!     match cmd {
//!         Command::Attach { .. } => attached += 1,
//!         Command::Stop => stopped += 1,
//!     }
//! }
//! assert_eq!((attached, stopped), (400, 4));
//! for p in producers {
//!     p.join().unwrap();
//! }
//! ```
//!
//! The same receiver, awaited: here with `futures_lite::future::block_on`,
//! but any executor will do.
//!
//! ```
//! use futures_lite::future::block_on;
//! use smolmq_mailbox::mailbox;
//! use std::thread;
//!
//! let (tx, mut rx) = mailbox::<u64>();
//! let producer = thread::spawn(move || {
//!     for n in 1..=1000 {
//!         tx.send(n).unwrap();
//!     }
//! });
//!
//! let sum = block_on(async {
//!     let mut sum = 0;
//!     while let Ok(n) = rx.recv().await {
//!         sum += n;
//!     }
//!     sum
//! });
//! assert_eq!(sum, 500_500);
//! producer.join().unwrap();
//! ```
//!
//! The receiver has a single reader: it is `Send` but not `Sync`, and
//! [`Receiver::recv`] borrows it mutably, so at most one receive future is
//! alive at a time.
//!
//! ```compile_fail
//! fn shared_between_threads<T: Sync>(_: &T) {}
//! let (_tx, rx) = smolmq_mailbox::mailbox::<u8>();
//! shared_between_threads(&rx);
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod error;
mod receiver;
mod sender;
mod shared;

use std::sync::Arc;

pub use crate::error::{RecvError, RecvTimeoutError, SendError, TryRecvError};
pub use crate::receiver::{Receiver, Recv, TryIter};
pub use crate::sender::Sender;

/// Creates a mailbox: a [`Sender`] to clone for every producer and the one
/// [`Receiver`].
///
/// ```
/// let (tx, rx) = smolmq_mailbox::mailbox();
/// tx.send("hello").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hello"));
/// ```
pub fn mailbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(shared::Shared::new());
    let receiver = Receiver::new(shared.clone());
    (Sender { shared }, receiver)
}

/// The auto traits the API promises, checked at compile time.
#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}

    /// A command that is `Send` but not `Sync`.
    type Cmd = std::cell::Cell<u64>;

    send_sync::<Sender<Cmd>>();
    send::<Receiver<Cmd>>();
    // The future holds the shared state, not the `!Sync` receiver, so an
    // async task that awaits it can move between threads.
    send::<Recv<'static, Cmd>>();
    send_sync::<SendError<u64>>();
    send_sync::<TryRecvError>();
    send_sync::<RecvError>();
    send_sync::<RecvTimeoutError>();
}
