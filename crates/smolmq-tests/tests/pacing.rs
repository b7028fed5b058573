//! Pacing of blocking sends without a HWM (`Socket::send_blocking`,
//! "Pacing without a HWM"): everything is delivered, in order; a peer that
//! never read is not waited for, one that stops reading holds a sender up
//! once, not at every send; non-blocking sends never wait.

use bytes::Bytes;
use smolmq_core::pattern::{PACE_AHEAD, PACE_WAIT};
use smolmq_core::{Msg, Socket};
use smolmq_tests::{bind, context, socket_with, Transport, ALL};
use std::time::Instant;

/// Large enough that a few dozen of them are more than [`PACE_AHEAD`].
const BIG: usize = 128 << 10;

/// Messages a test sends: several times the paced lead.
const COUNT: usize = 8 * PACE_AHEAD / BIG;

/// A PAIR socket without a HWM either way.
fn unlimited(ctx: &smolmq_core::Context) -> Socket {
    socket_with(ctx, |o| {
        o.sndhwm = 0;
        o.rcvhwm = 0;
    })
}

/// Message `i`: `BIG` bytes, each the low byte of `i`, the first eight
/// its number.
fn numbered(i: usize) -> Msg {
    let mut body = vec![i as u8; BIG];
    body[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Msg::from(Bytes::from(body))
}

/// Which message `m` is, checking that its body is intact.
fn number_of(m: &Msg) -> usize {
    let body = m.first();
    assert_eq!(body.len(), BIG, "size");
    let i = u64::from_le_bytes(body[..8].try_into().unwrap()) as usize;
    assert!(
        body[8..].iter().all(|&b| b == i as u8),
        "message {i} corrupted"
    );
    i
}

/// Sends messages `from..to` with blocking sends; returns how many of
/// the sends took [`PACE_WAIT`] or longer.
fn send_range(s: &mut Socket, from: usize, to: usize) -> usize {
    let mut slow = 0;
    for i in from..to {
        let msg = numbered(i);
        let started = Instant::now();
        s.send_blocking(msg).expect("send");
        if started.elapsed() >= PACE_WAIT {
            slow += 1;
        }
    }
    slow
}

#[test]
fn a_paced_stream_arrives_whole_and_in_order() {
    for t in ALL {
        let ctx = context();
        let mut server = unlimited(&ctx);
        let endpoint = bind(&mut server, t);
        let mut client = unlimited(&ctx);
        client.connect(&endpoint).unwrap();
        let reader = std::thread::spawn(move || {
            for i in 0..COUNT {
                let m = server.recv_blocking().expect("recv");
                assert_eq!(number_of(&m), i, "{t:?}: out of order");
            }
            server
        });
        send_range(&mut client, 0, COUNT);
        let _server = reader.join().expect("reader");
    }
}

/// A client without a HWM connected to a tcp listener that never
/// accepts: the kernel completes the connection, the ZMTP handshake never
/// ends, nothing leaves the client's pipe and no count is ever reported.
/// Keep the listener alive while the client is used.
fn client_of_a_silent_listener(ctx: &smolmq_core::Context) -> (std::net::TcpListener, Socket) {
    let raw = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = unlimited(ctx);
    client
        .connect(&format!("tcp://{}", raw.local_addr().unwrap()))
        .unwrap();
    (raw, client)
}

#[test]
fn a_peer_that_never_read_is_not_waited_for() {
    let ctx = context();
    let (_raw, mut client) = client_of_a_silent_listener(&ctx);
    let slow = send_range(&mut client, 0, COUNT);
    // Paced, every send past the lead would take PACE_WAIT; a busy
    // machine makes a few sends slow anyway.
    assert!(
        slow < COUNT / 2,
        "{slow} of {COUNT} sends waited {PACE_WAIT:?} or more"
    );
}

#[test]
fn a_peer_that_stops_reading_holds_a_blocking_sender_up_once() {
    let ctx = context();
    let mut server = unlimited(&ctx);
    let endpoint = bind(&mut server, Transport::Inproc);
    let mut client = unlimited(&ctx);
    client.connect(&endpoint).unwrap();
    // Far ahead of a reader that has not read yet: not paced.
    let first = COUNT / 4;
    send_range(&mut client, 0, first);
    // The reader takes a few (and reports), then stops.
    for i in 0..16 {
        assert_eq!(number_of(&server.recv_blocking().unwrap()), i);
    }
    // The next sends find it far behind: one waits the whole PACE_WAIT
    // for it; then it counts as stalled and no send waits for it.
    let slow = send_range(&mut client, first, COUNT);
    assert!(slow >= 1, "pacing never waited");
    assert!(
        slow < (COUNT - first) / 2,
        "{slow} of {} sends waited {PACE_WAIT:?} or more",
        COUNT - first
    );
    // All queued, none lost.
    for i in 16..COUNT {
        assert_eq!(number_of(&server.recv_blocking().unwrap()), i);
    }
}

#[test]
fn non_blocking_sends_without_a_hwm_are_never_refused() {
    let ctx = context();
    let (_raw, mut client) = client_of_a_silent_listener(&ctx);
    for i in 0..COUNT {
        client
            .try_send(numbered(i))
            .unwrap_or_else(|e| panic!("message {i}: {}", e.error()));
    }
}
