//! PUB, SUB, XPUB and XSUB sockets for smolmq (RFC 29/PUBSUB): prefix
//! subscriptions on a trie, resent after reconnects.
//!
//! ```
//! use smolmq_core::{Context, Msg};
//! use smolmq_pubsub::{subscribe, Pub, Sub};
//! use smolmq_zmtp::SocketType;
//! use std::time::Duration;
//!
//! let ctx = Context::new()?;
//! let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pub::default()));
//! publisher.bind("inproc://weather")?;
//!
//! let mut sub = ctx.socket_with(SocketType::Sub, Box::new(Sub::default()));
//! let mut opts = sub.options().clone();
//! opts.rcvtimeo = Some(Duration::from_secs(10));
//! sub.set_options(opts)?;
//! sub.connect("inproc://weather")?;
//! subscribe(&mut sub, b"paris ")?;
//!
//! // A multipart message is matched by its first frame and delivered whole.
//! let mut update = Msg::from("sunny");
//! update.push_front(bytes::Bytes::from_static(b"paris "));
//! publisher.try_send(Msg::from("london rain")).map_err(|e| e.into_error())?;
//! publisher.try_send(update.clone()).map_err(|e| e.into_error())?;
//! assert_eq!(sub.recv_blocking()?, update);
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! Make sockets with [`socket`] (or `Context::socket_with` and the
//! patterns [`Pub`], [`Sub`], [`XPub`], [`XSub`]); subscribe with
//! [`subscribe`] / [`unsubscribe`]; set XPUB's options with the
//! `set_xpub_*` functions. Subscriptions travel as one-frame messages, `1`
//! then the topic to subscribe, `0` then the topic to cancel; the engine
//! turns them into ZMTP 3.1 SUBSCRIBE / CANCEL commands and back.
//!
//! # Semantics (libzmq 4.3)
//!
//! * **Matching**: a message goes to every subscriber holding a
//!   subscription that is a prefix of its first frame (the empty topic
//!   matches everything), each message whole, once per subscriber. The
//!   publisher's store is a radix trie ([`trie::MultiTrie`]) of pipe sets:
//!   a subscriber subscribing twice to a topic is subscribed once, and one
//!   cancel removes it. The subscriber counts ([`trie::CountingTrie`]):
//!   every subscribe goes out, and the cancel only when the last
//!   subscription to the topic goes, so the two agree.
//! * **PUB** never blocks: a subscriber at its HWM misses messages until
//!   it has room again; with nobody subscribed a message is dropped.
//!   Receiving fails with `Error::Unsupported`.
//! * **XPUB** receives subscription messages: a subscribe that is the
//!   topic's first and a cancel that removes its last subscriber, or every
//!   subscribe (VERBOSE), or every subscribe and cancel (VERBOSER); when a
//!   subscriber leaves, a cancel for each topic nobody else holds (with
//!   VERBOSER, for each topic it held). As libzmq, a cancel for a topic the
//!   pipe did not hold is passed on too. NODROP makes a send at a
//!   subscriber's HWM would-block; MANUAL passes every subscription message
//!   and applies none (the application calls [`XPub::subscribe_last`]);
//!   WELCOME_MSG is sent to each subscriber as it attaches. Messages a
//!   subscriber sends that are no subscriptions are received too.
//! * **SUB** sends its subscriptions to every publisher, to each new one
//!   as it attaches, and again after a reconnection
//!   (`PipeEvent::Identified` with a new handshake generation); it filters
//!   what it receives; `has_in` is true only for a message that passes the
//!   filter (one message is read ahead for it). Sending fails with
//!   `Error::Unsupported`.
//! * **XSUB** sends what the application sends to every publisher,
//!   keeping its own count of subscriptions (for reconnections and new
//!   publishers) and passing only the last cancel of a topic; it receives
//!   everything, unfiltered. Receiving is fair-queued for SUB and XSUB
//!   (smolmq-core's [`FairQueue`](smolmq_core::pattern::FairQueue): one
//!   message from each publisher that has some, in turn).
//!
//! # Differences from libzmq
//!
//! * Only a message of **one frame** can be a subscription. libzmq also
//!   reads each frame of a multipart message that starts with 0 or 1 as a
//!   subscription; here a multipart message is data (an XSUB sends it on,
//!   an XPUB receives it), which is also how the ZMTP engine treats it.
//! * A SUB or XSUB **never drops a subscription** at its SNDHWM: what the
//!   pipe refuses waits in a per-pipe backlog and is written when there is
//!   room (libzmq drops it). Non-subscription messages an XSUB sends are
//!   dropped at the HWM as in libzmq, and also while that pipe still has
//!   subscriptions waiting (to keep the order).
//! * **XPUB_MANUAL** is a method ([`XPub::subscribe_last`],
//!   [`XPub::unsubscribe_last`], or [`subscribe`] / [`unsubscribe`] on the
//!   socket) instead of `setsockopt(ZMQ_SUBSCRIBE)` on the XPUB. The "last
//!   pipe" is the pipe of the last *subscription message* received (a
//!   non-subscription message leaves it unchanged; libzmq's queue of
//!   pipes can fall out of step with such messages), and it is cleared
//!   when that subscriber leaves, so a late call does nothing
//!   (`Ok(false)`) rather than subscribe a pipe that reused the slot.
//! * Subscriptions are sent again on a reconnection only when the pipe's
//!   handshake generation moved past the one they were written for, not
//!   on the first connection of a connecting pipe (what was written before
//!   it is still queued in the pipe and goes out on it).
//! * Not implemented: `ZMQ_XPUB_MANUAL_LAST_VALUE`, `ZMQ_INVERT_MATCHING`,
//!   `ZMQ_ONLY_FIRST_SUBSCRIBE` and `ZMQ_XSUB_VERBOSE_UNSUBSCRIBE` (drafts
//!   or later additions), and message metadata on XPUB's notifications.
//! * As in libzmq, a *connecting* PUB / XPUB keeps a pipe's subscriptions
//!   across reconnections (the pipe survives them); the subscriber on the
//!   new connection sends its own again, and what is stale stays until the
//!   pipe ends. A subscriber filters what it did not ask for.

#![forbid(unsafe_code)]

mod publisher;
mod subscriber;
pub mod trie;

pub use publisher::{Pub, XPub, XPubOptions};
pub use subscriber::{Sub, XSub};

use bytes::Bytes;
use smolmq_core::pattern::Pattern;
use smolmq_core::{Context, Error, Result, Socket};
use smolmq_zmtp::SocketType;

/// The pattern for a publish-subscribe socket type: PUB, SUB, XPUB or
/// XSUB; `None` for other types.
pub fn pattern(kind: SocketType) -> Option<Box<dyn Pattern>> {
    match kind {
        SocketType::Pub => Some(Box::new(Pub::default())),
        SocketType::Sub => Some(Box::new(Sub::default())),
        SocketType::XPub => Some(Box::new(XPub::default())),
        SocketType::XSub => Some(Box::new(XSub::default())),
        _ => None,
    }
}

/// A new PUB, SUB, XPUB or XSUB socket in `ctx`; `Error::Unsupported` for
/// other types.
///
/// ```
/// let ctx = smolmq_core::Context::new()?;
/// let sub = smolmq_pubsub::socket(&ctx, smolmq_zmtp::SocketType::Sub)?;
/// assert_eq!(sub.kind(), smolmq_zmtp::SocketType::Sub);
/// assert!(smolmq_pubsub::socket(&ctx, smolmq_zmtp::SocketType::Req).is_err());
/// # Ok::<(), smolmq_core::Error>(())
/// ```
pub fn socket(ctx: &Context, kind: SocketType) -> Result<Socket> {
    let pattern = pattern(kind).ok_or_else(|| {
        Error::Unsupported(format!(
            "{kind} is not a publish-subscribe socket type (PUB, SUB, XPUB, XSUB)"
        ))
    })?;
    Ok(ctx.socket_with(kind, pattern))
}

/// Subscribes `socket` to messages starting with `topic` (`ZMQ_SUBSCRIBE`).
///
/// * SUB: counted (each subscribe needs its own unsubscribe); sent to every
///   publisher, now and after reconnections.
/// * XSUB: the same as sending `1` then `topic`.
/// * XPUB with XPUB_MANUAL: subscribes the pipe of the last subscription
///   message received (nothing if it has left). Without XPUB_MANUAL, and
///   for other socket types: `Error::Unsupported`.
pub fn subscribe(socket: &mut Socket, topic: &[u8]) -> Result<()> {
    change_subscription(socket, true, topic)
}

/// Cancels one subscription of `socket` to `topic` (`ZMQ_UNSUBSCRIBE`);
/// the counterpart of [`subscribe`], for the same socket types.
pub fn unsubscribe(socket: &mut Socket, topic: &[u8]) -> Result<()> {
    change_subscription(socket, false, topic)
}

/// [`subscribe`] or [`unsubscribe`].
fn change_subscription(socket: &mut Socket, on: bool, topic: &[u8]) -> Result<()> {
    let done = socket.with_pattern::<Sub, _>(|sub, pipes| {
        if on {
            sub.subscribe(pipes, topic)
        } else {
            sub.unsubscribe(pipes, topic)
        }
    });
    if done.is_some() {
        return Ok(());
    }
    let done = socket.with_pattern::<XSub, _>(|xsub, pipes| {
        if on {
            xsub.subscribe(pipes, topic)
        } else {
            xsub.unsubscribe(pipes, topic)
        }
    });
    if done.is_some() {
        return Ok(());
    }
    match socket.with_pattern::<XPub, _>(|xpub, _| {
        if on {
            xpub.subscribe_last(topic)
        } else {
            xpub.unsubscribe_last(topic)
        }
    }) {
        Some(result) => result.map(|_| ()),
        None => Err(Error::Unsupported(format!(
            "{} sockets have no subscriptions to change (SUB, XSUB and manual XPUB do)",
            socket.kind()
        ))),
    }
}

/// Runs `f` on the socket's XPUB pattern, or fails for other types.
fn with_xpub<R>(socket: &mut Socket, f: impl FnOnce(&mut XPub) -> R) -> Result<R> {
    let kind = socket.kind();
    socket
        .with_pattern::<XPub, _>(|xpub, _| f(xpub))
        .ok_or_else(|| Error::Unsupported(format!("{kind} socket is no XPUB")))
}

/// `ZMQ_XPUB_VERBOSE` on an XPUB socket: see [`XPub::set_verbose`].
pub fn set_xpub_verbose(socket: &mut Socket, on: bool) -> Result<()> {
    with_xpub(socket, |x| x.set_verbose(on))
}

/// `ZMQ_XPUB_VERBOSER` on an XPUB socket: see [`XPub::set_verboser`].
pub fn set_xpub_verboser(socket: &mut Socket, on: bool) -> Result<()> {
    with_xpub(socket, |x| x.set_verboser(on))
}

/// `ZMQ_XPUB_NODROP` on an XPUB socket: see [`XPub::set_nodrop`].
pub fn set_xpub_nodrop(socket: &mut Socket, on: bool) -> Result<()> {
    with_xpub(socket, |x| x.set_nodrop(on))
}

/// `ZMQ_XPUB_MANUAL` on an XPUB socket: see [`XPub::set_manual`].
pub fn set_xpub_manual(socket: &mut Socket, on: bool) -> Result<()> {
    with_xpub(socket, |x| x.set_manual(on))
}

/// `ZMQ_XPUB_WELCOME_MSG` on an XPUB socket: see [`XPub::set_welcome_msg`].
pub fn set_xpub_welcome_msg(socket: &mut Socket, welcome: Option<Bytes>) -> Result<()> {
    with_xpub(socket, |x| x.set_welcome_msg(welcome))
}

/// `ZMQ_TOPICS_COUNT`: how many distinct topics a PUB / XPUB has
/// subscribers for, or a SUB / XSUB is subscribed to.
pub fn topics_count(socket: &mut Socket) -> Result<usize> {
    if let Some(n) = socket.with_pattern::<Pub, _>(|p, _| p.topics_count()) {
        return Ok(n);
    }
    if let Some(n) = socket.with_pattern::<XPub, _>(|p, _| p.topics_count()) {
        return Ok(n);
    }
    if let Some(n) = socket.with_pattern::<Sub, _>(|p, _| p.topics_count()) {
        return Ok(n);
    }
    if let Some(n) = socket.with_pattern::<XSub, _>(|p, _| p.topics_count()) {
        return Ok(n);
    }
    Err(Error::Unsupported(format!(
        "{} is not a publish-subscribe socket",
        socket.kind()
    )))
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
