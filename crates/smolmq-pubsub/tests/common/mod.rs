//! Helpers for the socket tests: smolmq-tests' contexts, options,
//! endpoints and waits, plus pub-sub sockets and slow-joiner probes.
#![allow(dead_code, unreachable_pub, unused_imports)]

use smolmq_core::{Context, Msg, Socket, SocketOptions};
use smolmq_zmtp::SocketType;
use std::time::{Duration, Instant};

pub use smolmq_tests::{
    bind_named as bind, context, endpoint, eventually, options, recv_within, text, Transport, ALL,
    STREAMS, TIMEOUT,
};

/// A socket of `kind` with [`options`] changed by `tune`.
pub fn socket_with(
    ctx: &Context,
    kind: SocketType,
    tune: impl FnOnce(&mut SocketOptions),
) -> Socket {
    let s = smolmq_pubsub::socket(ctx, kind).expect("pub-sub socket");
    smolmq_tests::with_options(s, tune)
}

/// A socket of `kind` with [`options`].
pub fn socket(ctx: &Context, kind: SocketType) -> Socket {
    socket_with(ctx, kind, |_| {})
}

/// The next message (within [`TIMEOUT`]).
pub fn recv(s: &mut Socket) -> Msg {
    s.recv_blocking().expect("recv within the timeout")
}

/// Sends (within [`TIMEOUT`]).
pub fn send(s: &mut Socket, msg: impl Into<Msg>) {
    s.send_blocking(msg.into())
        .map_err(|e| e.into_error())
        .expect("send");
}

/// Slow joiner: sends `probe` from `publisher` until `sub` receives a
/// message starting with it (bounded); other messages `sub` receives
/// meanwhile are returned, in order.
pub fn await_probe(publisher: &mut Socket, sub: &mut Socket, probe: &str) -> Vec<Msg> {
    let since = Instant::now();
    let mut other = Vec::new();
    loop {
        publisher
            .try_send(Msg::from(probe.to_owned()))
            .map_err(|e| e.into_error())
            .expect("probe send");
        while let Some(m) = recv_within(sub, Duration::from_millis(20)) {
            if text(&m).starts_with(probe) {
                return other;
            }
            other.push(m);
        }
        assert!(since.elapsed() < TIMEOUT, "probe {probe:?} never arrived");
    }
}

/// Receives, skipping messages that start with `probe`.
pub fn recv_skipping(s: &mut Socket, probe: &str) -> Msg {
    loop {
        let m = recv(s);
        if !text(&m).starts_with(probe) {
            return m;
        }
    }
}
