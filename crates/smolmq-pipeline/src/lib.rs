//! PUSH and PULL sockets for smolmq (RFC 30/PIPELINE): load-balanced out,
//! fair-queued in.
//!
//! A PUSH socket hands each message, whole, to one of its peers in turn
//! (round robin over the peers with room); a PULL socket takes messages
//! from its peers in turn (fair queueing). Together they make pipelines:
//! a ventilator PUSHes tasks to workers, the workers PUSH results to a
//! sink that PULLs them.
//!
//! ```
//! use smolmq_core::{Context, Msg};
//!
//! let ctx = Context::new()?;
//! let mut sink = smolmq_pipeline::pull_socket(&ctx);
//! sink.bind("inproc://pipeline-docs")?;
//! let mut workers: Vec<_> = (0..2)
//!     .map(|_| {
//!         let mut w = smolmq_pipeline::push_socket(&ctx);
//!         w.connect("inproc://pipeline-docs").unwrap();
//!         w
//!     })
//!     .collect();
//! for (i, w) in workers.iter_mut().enumerate() {
//!     w.send_blocking(Msg::copy_from_slice(format!("result {i}").as_bytes()))
//!         .map_err(|e| e.into_error())?;
//! }
//! let mut got = vec![sink.recv_blocking()?, sink.recv_blocking()?];
//! got.sort_by(|a, b| a.first()[..].cmp(&b.first()[..]));
//! assert_eq!(&got[0].first()[..], b"result 0");
//! assert_eq!(&got[1].first()[..], b"result 1");
//!
//! // A PULL cannot send, a PUSH cannot receive.
//! assert!(matches!(workers[0].try_recv(), Err(smolmq_core::Error::Unsupported(_))));
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # Semantics
//!
//! As libzmq 4.3's `push` / `pull` (its `lb` and `fq` helpers):
//!
//! * **PUSH** ([`Push`]) sends each message to the next peer in turn that
//!   has room. A peer whose pipe is at its HWM leaves the turn until the
//!   pipe has room again; when no peer has room, or there is no peer yet, a
//!   send waits (`send_blocking` up to SNDTIMEO, then
//!   [`Error::Timeout`](smolmq_core::Error::Timeout)) or `try_send` fails
//!   with [`Error::WouldBlock`](smolmq_core::Error::WouldBlock); either way
//!   the message is handed back. A connecting PUSH queues messages for its
//!   peer before the connection is made. Receiving fails with
//!   [`Error::Unsupported`](smolmq_core::Error::Unsupported).
//! * **PULL** ([`Pull`]) takes one message from each peer that has messages
//!   in turn; a peer read empty leaves the turn until more arrive. A peer
//!   that left is read to the end, then dropped (a PULL notices when it
//!   reads that peer's pipe empty: a receive that would block, or
//!   `has_in`, reads every ready pipe). Sending fails with
//!   [`Error::Unsupported`](smolmq_core::Error::Unsupported).
//! * Messages are whole: a multipart message goes to one peer and is
//!   delivered all at once or not at all.
//! * `has_out` (PUSH) and `has_in` (PULL) say whether a send or a receive
//!   would succeed now; `has_in` on a PUSH and `has_out` on a PULL are
//!   always `false`.
//! * What can be lost is what libzmq loses: messages already queued to a
//!   peer that leaves (on its pipe, in its connection's buffers) go with
//!   it. Messages sent after the PUSH has noticed the peer left go to the
//!   others.
//!
//! # Cost per message
//!
//! Each socket keeps its pipes in an *active list* (libzmq's layout): one
//! vector, the ready pipes first, a cursor over those: PUSH in a
//! [`LoadBalancer`](smolmq_core::pattern::LoadBalancer), PULL in a
//! [`FairQueue`](smolmq_core::pattern::FairQueue), both from
//! `smolmq-core`. A send or a receive
//! looks at the pipe under the cursor, moves the cursor on, and is done; a
//! pipe that refuses is swapped out of the ready part in O(1) and swapped
//! back when its event arrives. No allocation, no scan of the pipes, no lock
//! per message. The crate's README has the details.
//!
//! # Differences from libzmq
//!
//! * `ZMQ_IMMEDIATE` is not honoured: a PUSH queues messages to a
//!   connecting pipe before its connection is made even when
//!   `SocketOptions::immediate` is set (the socket core does not implement
//!   the option yet).
//! * Since messages are whole, there is no half-sent message to roll back
//!   when a peer's pipe fills in the middle of one, and no half-read one to
//!   finish on a PULL.
//! * libzmq's PUSH never reads its pipes. When a peer leaves, smolmq's PUSH
//!   discards anything that peer sent it (a PULL sends nothing; only a
//!   non-conforming peer could), so the pipe ends at once.

#![forbid(unsafe_code)]

mod pull;
mod push;

pub use pull::Pull;
pub use push::Push;

use smolmq_core::{Context, Socket};
use smolmq_zmtp::SocketType;

/// A new PUSH socket in `ctx` (bind or connect it, then send).
pub fn push_socket(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Push, Box::new(Push::new()))
}

/// A new PULL socket in `ctx` (bind or connect it, then receive).
pub fn pull_socket(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Pull, Box::new(Pull::new()))
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
