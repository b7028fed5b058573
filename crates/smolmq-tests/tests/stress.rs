//! The two lessons from zlink, over every transport: PAIR to PAIR, HWM 10
//! on both sides, a slow consumer, both directions at once, repeated; no
//! hang, nothing lost, everything in order.
//!
//! The default size still crosses the HWM many thousand times.
//! `cargo xtask stress` runs it at the full size (1M messages, 20
//! rounds) by setting `SMOLMQ_STRESS_COUNT` and `SMOLMQ_STRESS_ROUNDS`.

use bytes::Bytes;
use smolmq_core::{Error, Msg, Socket};
use smolmq_tests::{context, pair_with, Transport, ALL, TIMEOUT};
use std::thread;
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `count` numbered messages and receives `count`, interleaved, with
/// only non-blocking operations and `wait_activity`.
fn exchange(mut socket: Socket, count: u64, slow: bool, t: Transport) -> Socket {
    let since = Instant::now();
    let (mut sent, mut received) = (0u64, 0u64);
    while sent < count || received < count {
        assert!(
            since.elapsed() < TIMEOUT * 5,
            "{t:?}: stuck at sent {sent} received {received}"
        );
        let mut progress = false;
        // A burst of sends, until the HWM.
        for _ in 0..64 {
            if sent == count {
                break;
            }
            match socket.try_send(Msg::from(Bytes::copy_from_slice(&sent.to_be_bytes()))) {
                Ok(()) => {
                    sent += 1;
                    progress = true;
                }
                Err(e) if e.error().is_would_block() => break,
                Err(e) => panic!("{t:?}: {e}"),
            }
        }
        // A burst of receives; the slow side takes few at a time.
        for _ in 0..if slow { 3 } else { 256 } {
            match socket.try_recv() {
                Ok(m) => {
                    let n = u64::from_be_bytes(m.first()[..].try_into().unwrap());
                    assert_eq!(n, received, "{t:?}: lost or reordered");
                    received += 1;
                    progress = true;
                }
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("{t:?}: {e}"),
            }
        }
        if slow {
            thread::yield_now();
        }
        if !progress {
            match socket.wait_activity(Some(Duration::from_secs(1))) {
                Ok(()) | Err(Error::Timeout) => {}
                Err(e) => panic!("{t:?}: {e}"),
            }
        }
    }
    socket
}

#[test]
fn both_directions_hwm_10_slow_consumer_every_transport() {
    let count = env("SMOLMQ_STRESS_COUNT", 20_000);
    let rounds = env("SMOLMQ_STRESS_ROUNDS", 2);
    for t in ALL {
        for _ in 0..rounds {
            let ctx = context();
            let hwm = |o: &mut smolmq_core::SocketOptions| {
                o.sndhwm = 10;
                o.rcvhwm = 10;
            };
            let (server, client) = pair_with(&ctx, t, hwm, hwm);
            let slow = thread::spawn(move || exchange(server, count, true, t));
            let client = exchange(client, count, false, t);
            let server = slow.join().expect("slow side panicked");
            drop((client, server));
        }
    }
}
