//! DEALER, ROUTER, REQ and REP sockets for smolmq (RFC 28/REQREP), with
//! libzmq 4.3's semantics: round robin out, fair queueing in, routing ids
//! and envelopes.
//!
//! ```
//! use bytes::Bytes;
//! use smolmq_core::{Context, Msg};
//!
//! let ctx = Context::new()?;
//! let mut server = smolmq_reqrep::router(&ctx);
//! server.bind("inproc://reqrep-docs")?;
//! let mut client = smolmq_reqrep::req(&ctx);
//! let mut options = client.options().clone();
//! options.routing_id = Some(Bytes::from_static(b"client-1"));
//! client.set_options(options)?;
//! client.connect("inproc://reqrep-docs")?;
//!
//! // REQ puts an empty delimiter in front; ROUTER the client's routing id.
//! client.send_blocking(Msg::from("ping")).map_err(|e| e.into_error())?;
//! let request = server.recv_blocking()?;
//! assert_eq!(format!("{request:?}"), r#"Msg["client-1", "", "ping"]"#);
//!
//! // The reply goes back to the id in its first frame.
//! let reply = Msg::from_frames(["client-1", "", "pong"].map(Bytes::from)).unwrap();
//! server.send_blocking(reply).map_err(|e| e.into_error())?;
//! assert_eq!(client.recv_blocking()?, Msg::from("pong"));
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # The socket types
//!
//! * [`Dealer`]: round robin out ([`LoadBalancer`]), fair queueing in
//!   ([`FairQueue`]), messages unchanged. Blocks (never drops) when every
//!   peer is at its HWM.
//! * [`Router`]: a received message gets the sender's routing id in
//!   front; a sent message goes to the peer its first frame names.
//! * [`Req`]: request, reply, request, reply: an empty delimiter frame in
//!   front of each request, replies only from the peer asked.
//! * [`Rep`]: takes a request from any peer, keeps its envelope, sends the
//!   reply back with it.
//!
//! Make sockets with [`dealer`], [`router`], [`req`] and [`rep`] (or
//! `Context::socket_with` and the pattern types), and set the options of
//! these types with the functions here: [`set_probe_router`],
//! [`set_router_mandatory`], [`set_router_handover`], [`set_router_notify`],
//! [`set_connect_routing_id`], [`set_req_relaxed`], [`set_req_correlate`];
//! [`routing_ids`] lists a ROUTER's peers.
//!
//! # Routing ids
//!
//! A ROUTER calls each peer by the id it announced (its `routing_id`
//! option), else by a generated 5-byte id (a zero byte and a 32-bit
//! counter, starting at a random value, as libzmq), or, for the pipe of
//! the next `connect` after [`set_connect_routing_id`], by that id. A pipe
//! made by `connect` over tcp or ipc learns its peer's id at the end of
//! the handshake, and again after each reconnection; until the first one
//! it cannot be addressed (a ROUTER_MANDATORY send to it fails with
//! `Error::Unroutable`).
//!
//! When a peer announces an id already in use: with ROUTER_HANDOVER it
//! takes the id over and the old peer's pipe is closed; without it, as in
//! libzmq, the newcomer is ignored: it stays connected, but nothing can
//! be sent to it and what it sends is dropped, until the peer holding the
//! id leaves: then the newcomer gets the id.
//!
//! # Differences from libzmq
//!
//! * Messages are whole: a multipart message is one `Msg`, so there is no
//!   SNDMORE / RCVMORE state, and atomicity is by construction (libzmq's
//!   `lb` drop mode and rollbacks have no equivalent).
//! * A peer ignored for announcing a routing id already in use gets that
//!   id once its holder leaves (so a peer that reconnects before the
//!   ROUTER noticed its old connection drop is not lost). libzmq never
//!   gives it the id, and instead takes each later message of such a peer
//!   as a new routing id candidate (an artifact of its identity
//!   messages), which can make the peer addressable under an id taken
//!   from its data.
//! * A connecting pipe that reconnects and announces a *different* routing
//!   id is re-keyed to it (subject to the duplicate rules above); libzmq
//!   keeps the first id for the life of the pipe. An empty announcement
//!   keeps the id the pipe had.
//! * ROUTER_HANDOVER closes the old pipe at once, dropping what it had sent
//!   and we had not read; libzmq lets it finish delivering first.
//! * CONNECT_ROUTING_ID naming a peer already present: libzmq asserts
//!   (aborts); here [`set_connect_routing_id`] fails, and if the id was
//!   taken between that and the `connect`, the connection is refused
//!   (`connect` fails).
//! * REQ_RELAXED: a send that would block leaves the pending request
//!   pending (libzmq forgets it, so a receive then fails with EFSM).
//! * A malformed reply reaching a REQ (no delimiter, a wrong request id)
//!   is dropped; libzmq's REQ session also drops the tcp / ipc connection
//!   it came on (and reconnects).
//! * `has_in` is exact for every type: ROUTER, REQ and REP take the next
//!   deliverable message ahead (dropping what they would drop anyway) and
//!   hand it to the next receive. libzmq's REQ reports POLLIN for a reply
//!   it will then drop.
//! * PROBE_ROUTER is offered for DEALER and ROUTER only (libzmq also
//!   accepts it on REQ, which inherits from DEALER).
//! * REQ_CORRELATE request ids are 4 bytes in host byte order, as libzmq
//!   (only the REQ reads them).

#![forbid(unsafe_code)]

mod dealer;
mod id_hash;
mod rep;
mod req;
mod router;

pub use dealer::Dealer;
pub use rep::Rep;
pub use req::Req;
pub use router::Router;

/// The load balancer and fair queue these patterns route with, shared
/// with the other pattern crates: they live in
/// [`smolmq_core::pattern`] and are re-exported here under their old
/// paths, for compatibility.
pub use smolmq_core::pattern::{FairQueue, LoadBalancer};

use bytes::Bytes;
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes};
use smolmq_core::{Context, Error, Result, Socket};
use smolmq_zmtp::SocketType;

/// A DEALER socket ([`Dealer`]).
pub fn dealer(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Dealer, Box::new(Dealer::new()))
}

/// A ROUTER socket ([`Router`]).
pub fn router(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Router, Box::new(Router::new()))
}

/// A REQ socket ([`Req`]).
pub fn req(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Req, Box::new(Req::new()))
}

/// A REP socket ([`Rep`]).
pub fn rep(ctx: &Context) -> Socket {
    ctx.socket_with(SocketType::Rep, Box::new(Rep::new()))
}

/// The error for an option set on a socket of the wrong type.
fn wrong_type(option: &str, wants: &str, socket: &Socket) -> Error {
    Error::Unsupported(format!(
        "{option} applies to {wants} sockets (of this crate), not to this {} socket",
        socket.kind()
    ))
}

/// Runs `f` on the socket's [`Router`], or fails naming `option`.
fn on_router<R>(
    socket: &mut Socket,
    option: &str,
    f: impl FnOnce(&mut Router, &mut Pipes) -> R,
) -> Result<R> {
    socket
        .with_pattern::<Router, R>(f)
        .ok_or_else(|| wrong_type(option, "ROUTER", socket))
}

/// Runs `f` on the socket's [`Req`], or fails naming `option`.
fn on_req<R>(socket: &mut Socket, option: &str, f: impl FnOnce(&mut Req) -> R) -> Result<R> {
    socket
        .with_pattern::<Req, R>(|p, _| f(p))
        .ok_or_else(|| wrong_type(option, "REQ", socket))
}

/// PROBE_ROUTER for a DEALER or ROUTER: every peer attached from now on is
/// sent an empty message first, so a ROUTER at the other end learns its
/// routing id before it sends anything. Set it before `connect` / `bind`.
pub fn set_probe_router(socket: &mut Socket, on: bool) -> Result<()> {
    if socket
        .with_pattern::<Dealer, _>(|p, _| p.set_probe_router(on))
        .is_some()
    {
        return Ok(());
    }
    on_router(socket, "PROBE_ROUTER", |p, _| p.set_probe_router(on))
        .map_err(|_| wrong_type("PROBE_ROUTER", "DEALER and ROUTER", socket))
}

/// ROUTER_MANDATORY: a message to an unknown routing id fails with
/// [`Error::Unroutable`], and one to a peer whose pipe is full waits
/// (`Error::WouldBlock` from `try_send`), instead of being dropped.
pub fn set_router_mandatory(socket: &mut Socket, on: bool) -> Result<()> {
    on_router(socket, "ROUTER_MANDATORY", |p, _| p.set_mandatory(on))
}

/// ROUTER_HANDOVER: a new peer announcing a routing id already in use
/// takes it over; the old peer's pipe is closed.
pub fn set_router_handover(socket: &mut Socket, on: bool) -> Result<()> {
    on_router(socket, "ROUTER_HANDOVER", |p, _| p.set_handover(on))
}

/// CONNECT_ROUTING_ID: the routing id a ROUTER gives the peer of its next
/// `connect` (whatever that peer announces). Set it, then connect; it is
/// used once.
///
/// Fails if `id` is empty or names a peer already.
pub fn set_connect_routing_id(socket: &mut Socket, id: impl Into<Bytes>) -> Result<()> {
    let id = id.into();
    on_router(socket, "CONNECT_ROUTING_ID", |p, _| {
        p.set_connect_routing_id(id)
    })?
}

/// ROUTER_NOTIFY's flag for arrivals (libzmq's `ZMQ_NOTIFY_CONNECT`).
pub const NOTIFY_CONNECT: u8 = 1;

/// ROUTER_NOTIFY's flag for departures (libzmq's `ZMQ_NOTIFY_DISCONNECT`).
pub const NOTIFY_DISCONNECT: u8 = 2;

/// ROUTER_NOTIFY: a ROUTER receives `[id, ""]` when a peer becomes
/// addressable under `id` ([`NOTIFY_CONNECT`]) and after the last message
/// of a peer that left ([`NOTIFY_DISCONNECT`]); `flags` is either or both
/// (`NOTIFY_CONNECT | NOTIFY_DISCONNECT`), 0 for neither. On a
/// `tcp+jsonl://` ROUTER this is how the application sees its NDJSON
/// clients come and go.
///
/// A peer that takes over an id (ROUTER_HANDOVER) is announced; the peer
/// that lost the id is not (the id lives on). Set it before `bind` /
/// `connect`: peers attached earlier are not announced.
pub fn set_router_notify(socket: &mut Socket, flags: u8) -> Result<()> {
    if flags & !(NOTIFY_CONNECT | NOTIFY_DISCONNECT) != 0 {
        return Err(Error::Unsupported(format!(
            "ROUTER_NOTIFY flags {flags:#x}: only NOTIFY_CONNECT (1) and NOTIFY_DISCONNECT (2) exist"
        )));
    }
    on_router(socket, "ROUTER_NOTIFY", |p, _| p.set_notify(flags))
}

/// The routing ids of a ROUTER's addressable peers, in pipe order.
pub fn routing_ids(socket: &mut Socket) -> Result<Vec<Bytes>> {
    on_router(socket, "routing_ids", |p, _| p.routing_ids())
}

/// REQ_RELAXED: a REQ may send a new request before the reply to the last
/// one; a late reply to the old request is then dropped (reliably only
/// with REQ_CORRELATE, or when it comes from another peer).
pub fn set_req_relaxed(socket: &mut Socket, on: bool) -> Result<()> {
    on_req(socket, "REQ_RELAXED", |p| p.set_relaxed(on))
}

/// REQ_CORRELATE: a REQ puts a 4-byte request id before the delimiter and
/// takes only a reply carrying the id of its last request.
pub fn set_req_correlate(socket: &mut Socket, on: bool) -> Result<()> {
    on_req(socket, "REQ_CORRELATE", |p| p.set_correlate(on))
}

/// What the patterns here do with a pipe event: `Readable` and `Closed`
/// put the pipe back in the fair queue (`Closed`, so what the peer sent
/// is read and the pipe then ends; a pipe with nothing left is recorded as
/// ended at once), `Writable` back in the load balancer.
pub(crate) fn route_event(
    pipes: &mut Pipes,
    id: PipeId,
    event: PipeEvent,
    lb: Option<&mut LoadBalancer>,
    fq: &mut FairQueue,
) {
    match event {
        PipeEvent::Readable => fq.activated(id),
        PipeEvent::Writable => {
            if let Some(lb) = lb {
                lb.activated(id);
            }
        }
        PipeEvent::Closed => {
            fq.activated(id);
            let _ = pipes.is_ended(id);
        }
        _ => {}
    }
}

/// A random `u32`, from the standard library's hasher seeds.
pub(crate) fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish() as u32
}

/// Compile-time check: the patterns can move with their socket.
#[allow(dead_code)]
fn _assert_send() {
    fn pattern<P: Pattern>() {}
    pattern::<Dealer>();
    pattern::<Router>();
    pattern::<Req>();
    pattern::<Rep>();
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
