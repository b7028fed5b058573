//! Helpers shared by the pipeline tests: smolmq-tests' contexts, options,
//! endpoints and waits, plus PUSH / PULL sockets, numbered messages and
//! filling / draining sockets.

#![allow(dead_code, unreachable_pub, unused_imports)]

use smolmq_core::{Context, Error, Msg, Socket, SocketOptions};
use std::time::{Duration, Instant};

pub use smolmq_tests::{
    bind_named as bind, context, endpoint, options_with as options, Transport, ALL, TIMEOUT,
};

/// A PUSH socket with [`options`].
pub fn push(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    smolmq_tests::with_options(smolmq_pipeline::push_socket(ctx), tune)
}

/// A PULL socket with [`options`].
pub fn pull(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    smolmq_tests::with_options(smolmq_pipeline::pull_socket(ctx), tune)
}

/// Waits (bounded) until `s` has `n` peers attached.
pub fn wait_peers(s: &mut Socket, n: usize, what: &str) {
    smolmq_tests::wait_until(s, &format!("{what}: {n} peers"), |s| s.peer_count() == n);
}

/// A message `(sender, seq)` padded to `size` bytes (at least 8).
pub fn numbered(sender: u32, seq: u32, size: usize) -> Msg {
    let mut body = vec![0u8; size.max(8)];
    body[..4].copy_from_slice(&sender.to_be_bytes());
    body[4..8].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in body[8..].iter_mut().enumerate() {
        *b = (seq as usize + i) as u8;
    }
    Msg::from(body)
}

/// The `(sender, seq)` of a [`numbered`] message, checking its padding.
pub fn number_of(msg: &Msg) -> (u32, u32) {
    assert!(msg.is_single(), "one frame expected, got {}", msg.len());
    let body: &[u8] = msg.first();
    assert!(body.len() >= 8, "short message: {} bytes", body.len());
    let sender = u32::from_be_bytes(body[..4].try_into().unwrap());
    let seq = u32::from_be_bytes(body[4..8].try_into().unwrap());
    for (i, &b) in body[8..].iter().enumerate() {
        assert_eq!(b, (seq as usize + i) as u8, "padding of {sender}/{seq}");
    }
    (sender, seq)
}

/// Sends numbered messages `(sender, 0..)` of `size` bytes without blocking
/// until the socket stays full for a while (or `max` went out); returns how
/// many went out. Waiting for room is bounded by `settle` per wait and by
/// [`TIMEOUT`] in all.
pub fn fill(s: &mut Socket, sender: u32, size: usize, max: u32) -> u32 {
    let settle = Duration::from_millis(300);
    let deadline = Instant::now() + TIMEOUT;
    let mut seq = 0;
    while seq < max {
        match s.try_send(numbered(sender, seq, size)) {
            Ok(()) => seq += 1,
            Err(e) if matches!(e.error(), Error::WouldBlock) => {
                if Instant::now() >= deadline {
                    break;
                }
                match s.wait_activity(Some(settle)) {
                    Ok(()) => {}
                    Err(Error::Timeout) => break,
                    Err(e) => panic!("waiting for room: {e}"),
                }
            }
            Err(e) => panic!("send: {e}"),
        }
    }
    seq
}

/// Receives from `pulls` until `total` messages arrived, from whichever has
/// some (bounded by [`TIMEOUT`]); returns them per socket, in order.
pub fn drain(pulls: &mut [Socket], total: usize) -> Vec<Vec<Msg>> {
    let deadline = Instant::now() + TIMEOUT;
    let mut got: Vec<Vec<Msg>> = pulls.iter().map(|_| Vec::new()).collect();
    let mut count = 0;
    while count < total {
        let mut idle = true;
        for (i, p) in pulls.iter_mut().enumerate() {
            match p.try_recv() {
                Ok(m) => {
                    got[i].push(m);
                    count += 1;
                    idle = false;
                }
                Err(Error::WouldBlock) => {}
                Err(e) => panic!("recv: {e}"),
            }
        }
        if idle {
            assert!(
                Instant::now() < deadline,
                "only {count} of {total} messages arrived"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    got
}
