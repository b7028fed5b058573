//! Helpers shared by the tests: smolmq-tests' contexts, options,
//! endpoints, waits and message building, plus sockets with routing ids.
#![allow(dead_code, unreachable_pub, unused_imports)]

use bytes::Bytes;
use smolmq_core::{Context, Msg, Socket, SocketOptions};

pub use smolmq_tests::{
    bind_named as bind, context, endpoint, frames, msg, options, wait_until, Transport, ALL,
    TIMEOUT,
};

/// `make(ctx)` with [`options`] changed by `tune`.
pub fn socket(
    ctx: &Context,
    make: fn(&Context) -> Socket,
    tune: impl FnOnce(&mut SocketOptions),
) -> Socket {
    smolmq_tests::with_options(make(ctx), tune)
}

/// As [`socket`] with routing id `id`.
pub fn socket_id(ctx: &Context, make: fn(&Context) -> Socket, id: &str) -> Socket {
    let id = Bytes::copy_from_slice(id.as_bytes());
    socket(ctx, make, |o| o.routing_id = Some(id))
}

/// `frames` of a message built from string literals, for comparisons.
pub fn strs(frames: &[&str]) -> Vec<Vec<u8>> {
    frames.iter().map(|f| f.as_bytes().to_vec()).collect()
}

/// Sends, panicking with the error.
pub fn send(s: &mut Socket, m: Msg) {
    if let Err(e) = s.send_blocking(m) {
        panic!("send failed: {e}");
    }
}

/// Receives, panicking with the error; the frames.
pub fn recv(s: &mut Socket) -> Vec<Vec<u8>> {
    match s.recv_blocking() {
        Ok(m) => frames(&m),
        Err(e) => panic!("recv failed: {e}"),
    }
}

/// Waits until `s` has `n` peers.
pub fn wait_peers(s: &mut Socket, n: usize) {
    wait_until(s, &format!("{n} peers"), |s| s.peer_count() == n);
}
