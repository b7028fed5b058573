//! The ZMTP engine between two pipes, over a Unix socket pair: handshake,
//! messages of every size both ways, backpressure with a tiny HWM and a
//! slow consumer, limits, protocol errors and endings.
#![cfg(not(loom))]

use async_io::Async;
use bytes::Bytes;
use smolmq_core::engine::{Engine, EngineConfig, EngineExit};
use smolmq_core::pipe::{pipe_pair, Pipe, PipeEvents, WriteError};
use smolmq_core::Msg;
use smolmq_zmtp::{HandshakeConfig, HandshakeError, SocketType};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Longest any single wait in these tests may take before it is a failure.
const DEADLINE: Duration = Duration::from_secs(60);

/// Wakes the thread that plays the socket (the thread that made the
/// [`Side`]: make it on the thread that will wait).
struct ThreadWake {
    thread: thread::Thread,
    pending: AtomicBool,
}

impl ThreadWake {
    fn wait(&self, what: &str, since: Instant) {
        while !self.pending.swap(false, Ordering::SeqCst) {
            assert!(since.elapsed() < DEADLINE, "stuck: {what}");
            thread::park_timeout(Duration::from_millis(50));
        }
    }
}

impl PipeEvents for ThreadWake {
    fn readable(&self, _: usize) {
        self.pending.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
    fn writable(&self, _: usize) {
        self.readable(0)
    }
    fn closed(&self, _: usize) {
        self.readable(0)
    }
}

/// The socket's side of a pipe, used from one thread with blocking calls.
struct Side {
    pipe: Pipe<Msg>,
    wake: Arc<ThreadWake>,
}

impl Side {
    fn new(pipe: Pipe<Msg>) -> Side {
        let wake = Arc::new(ThreadWake {
            thread: thread::current(),
            pending: AtomicBool::new(false),
        });
        pipe.attach(wake.clone(), 0);
        Side { pipe, wake }
    }

    fn send(&mut self, msg: Msg) {
        let since = Instant::now();
        let mut msg = msg;
        loop {
            match self.pipe.write(msg) {
                Ok(()) => break,
                Err(WriteError::Full(m)) => {
                    msg = m;
                    self.wake.wait("send at HWM", since);
                }
                Err(WriteError::Closed(_)) => panic!("engine gone while sending"),
            }
        }
        self.pipe.flush();
    }

    fn recv(&mut self) -> Option<Msg> {
        let since = Instant::now();
        loop {
            if let Some(m) = self.pipe.read() {
                return Some(m);
            }
            if self.pipe.is_peer_gone() {
                return self.pipe.read();
            }
            self.wake.wait("recv", since);
        }
    }
}

fn pair_config() -> EngineConfig {
    EngineConfig::new(HandshakeConfig::new(SocketType::Pair))
}

/// Two engines joined by a Unix socket pair, run on their own thread; the
/// socket-side ends of their pipes, and a handle to join the engine thread.
fn connected(
    a: EngineConfig,
    b: EngineConfig,
    hwm: usize,
) -> (
    Pipe<Msg>,
    Pipe<Msg>,
    thread::JoinHandle<(EngineExit, EngineExit)>,
) {
    let (sa, sb) = UnixStream::pair().unwrap();
    let (sock_a, mut eng_a) = pipe_pair::<Msg>(hwm, hwm);
    let (sock_b, mut eng_b) = pipe_pair::<Msg>(hwm, hwm);
    let engines = thread::spawn(move || {
        let ea = Engine::new(Box::new(Async::new(sa).unwrap()), &mut eng_a, a).unwrap();
        let eb = Engine::new(Box::new(Async::new(sb).unwrap()), &mut eng_b, b).unwrap();
        async_io::block_on(futures_lite::future::zip(ea, eb))
    });
    (sock_a, sock_b, engines)
}

#[test]
fn messages_of_every_size_both_ways() {
    let (a, b, engines) = connected(pair_config(), pair_config(), 1000);
    // Around every threshold: inline (77), the encoder's copy (8 KiB), the
    // bodies read into their own buffers (32 KiB to 256 KiB) and past them.
    let sizes = [
        0usize,
        1,
        64,
        77,
        78,
        79,
        255,
        256,
        8191,
        8192,
        32767,
        32768,
        65536,
        100_000,
        131_072,
        262_144,
        262_145,
        1 << 20,
    ];
    let body = |n: usize| Bytes::from((0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let msgs: Vec<Msg> = sizes
        .iter()
        .map(|&n| Msg::from(body(n)))
        .chain((1..=100).map(|parts| {
            Msg::from_frames((0..parts).map(|p| Bytes::from(format!("part {p} of {parts}"))))
                .unwrap()
        }))
        // Large frames inside multipart messages, between small ones.
        .chain([
            Msg::from_frames([body(3), body(40_000), body(5), body(70_000)]).unwrap(),
            Msg::from_frames([body(65_536), body(65_536), body(0)]).unwrap(),
        ])
        .collect();
    let expected = msgs.clone();
    let peer = thread::spawn(move || {
        let mut b = Side::new(b);
        for want in &expected {
            let got = b.recv().expect("engine ended early");
            assert_eq!(&got, want);
            b.send(got); // echo
        }
    });
    let mut a = Side::new(a);
    for m in &msgs {
        a.send(m.clone());
    }
    for want in &msgs {
        assert_eq!(&a.recv().expect("engine ended early"), want);
    }
    peer.join().unwrap();
    drop(a);
    // Whichever side closed first, both engines end cleanly.
    let (ea, eb) = engines.join().unwrap();
    for exit in [ea, eb] {
        assert!(
            matches!(exit, EngineExit::PeerClosed | EngineExit::PipeClosed),
            "{exit}"
        );
    }
}

/// Both directions at once, HWM 10 on every pipe, one side consuming
/// slowly: backpressure crosses the HWM thousands of times; nothing may
/// hang, be lost or reordered.
#[test]
fn both_directions_with_tiny_hwm_and_slow_consumer() {
    // `SMOLMQ_STRESS_COUNT` raises the count (e.g. 1,000,000 in
    // `cargo xtask stress`); the default still crosses the HWM thousands of
    // times.
    let count: u64 = std::env::var("SMOLMQ_STRESS_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    for _round in 0..3 {
        let (a, b, engines) = connected(pair_config(), pair_config(), 10);
        let slow = thread::spawn(move || exchange(Side::new(b), count, true));
        exchange(Side::new(a), count, false);
        slow.join().unwrap();
        engines.join().unwrap();
    }
}

/// Sends `count` numbered messages and receives `count`, interleaved.
fn exchange(mut side: Side, count: u64, slow: bool) {
    let since = Instant::now();
    let (mut sent, mut received) = (0u64, 0u64);
    while sent < count || received < count {
        assert!(
            since.elapsed() < DEADLINE,
            "stuck at sent {sent} received {received}"
        );
        let mut progress = false;
        while sent < count {
            match side
                .pipe
                .write(Msg::from(Bytes::copy_from_slice(&sent.to_be_bytes())))
            {
                Ok(()) => {
                    sent += 1;
                    progress = true;
                    if sent % 32 == 0 {
                        break;
                    }
                }
                Err(WriteError::Full(_)) => break,
                Err(WriteError::Closed(_)) => panic!("engine gone"),
            }
        }
        side.pipe.flush();
        for _ in 0..if slow { 2 } else { 64 } {
            match side.pipe.read() {
                Some(m) => {
                    let n = u64::from_be_bytes(m.first()[..].try_into().unwrap());
                    assert_eq!(n, received, "lost or reordered");
                    received += 1;
                    progress = true;
                }
                None => break,
            }
        }
        if slow {
            thread::yield_now();
        }
        if !progress {
            side.wake
                .wait(&format!("sent {sent} received {received}"), Instant::now());
        }
    }
    drop(side);
}

#[test]
fn a_frame_over_maxmsgsize_drops_the_peer_after_what_came_before() {
    let mut small = pair_config();
    small.max_msg_size = Some(1000);
    let (a, b, engines) = connected(pair_config(), small, 1000);
    let mut a = Side::new(a);
    a.send(Msg::from(vec![1u8; 1000]));
    a.send(Msg::from(vec![2u8; 1001]));
    let mut b = Side::new(b);
    assert_eq!(
        b.recv().unwrap().size(),
        1000,
        "the message at the limit arrives"
    );
    assert_eq!(b.recv(), None, "the engine is gone");
    let (ea, eb) = engines.join().unwrap();
    assert!(
        matches!(
            eb,
            EngineExit::Protocol(smolmq_zmtp::DecodeError::TooLarge {
                size: 1001,
                max: 1000
            })
        ),
        "{eb}"
    );
    assert!(
        matches!(ea, EngineExit::PeerClosed | EngineExit::Io(_)),
        "{ea}"
    );
}

#[test]
fn incompatible_socket_types_fail_the_handshake_on_both_sides() {
    let publisher = EngineConfig::new(HandshakeConfig::new(SocketType::Pub));
    let (_a, _b, engines) = connected(pair_config(), publisher, 10);
    let (ea, eb) = engines.join().unwrap();
    for exit in [ea, eb] {
        assert!(
            matches!(
                exit,
                EngineExit::Handshake(_) | EngineExit::PeerError(_) | EngineExit::PeerClosed
            ),
            "{exit}"
        );
    }
}

#[test]
fn garbage_instead_of_a_greeting_fails_fast() {
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let (_sock, mut eng) = pipe_pair::<Msg>(10, 10);
    let engine = Engine::new(Box::new(Async::new(ours).unwrap()), &mut eng, pair_config()).unwrap();
    theirs.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let exit = async_io::block_on(engine);
    assert!(
        matches!(exit, EngineExit::Handshake(HandshakeError::Greeting(_))),
        "{exit}"
    );
}

#[test]
fn a_silent_peer_fails_the_handshake_after_handshake_ivl() {
    let (ours, _theirs) = UnixStream::pair().unwrap();
    let (_sock, mut eng) = pipe_pair::<Msg>(10, 10);
    let mut config = pair_config();
    config.handshake_ivl = Some(Duration::from_millis(100));
    let engine = Engine::new(Box::new(Async::new(ours).unwrap()), &mut eng, config).unwrap();
    let exit = async_io::block_on(engine);
    assert!(matches!(exit, EngineExit::HandshakeTimeout), "{exit}");
}

#[test]
fn heartbeats_drop_a_peer_that_stops_answering() {
    // The raw peer completes the handshake, then reads nothing and answers
    // no PING.
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (_sock, mut eng) = pipe_pair::<Msg>(10, 10);
    let mut config = pair_config();
    config.heartbeat_ivl = Some(Duration::from_millis(50));
    config.heartbeat_timeout = Some(Duration::from_millis(200));
    let engine = Engine::new(Box::new(Async::new(ours).unwrap()), &mut eng, config).unwrap();
    let raw = thread::spawn(move || raw_handshake(theirs));
    let since = Instant::now();
    let exit = async_io::block_on(engine);
    assert!(matches!(exit, EngineExit::HeartbeatTimeout), "{exit}");
    assert!(since.elapsed() < DEADLINE);
    drop(raw.join().unwrap());
}

#[test]
fn heartbeats_keep_a_live_peer() {
    let mut hb = pair_config();
    hb.heartbeat_ivl = Some(Duration::from_millis(50));
    hb.heartbeat_timeout = Some(Duration::from_secs(1));
    let (a, b, engines) = connected(hb.clone(), hb, 10);
    // Idle for many heartbeat intervals and more than two timeouts (only
    // PONGs keep the connection up), then still connected.
    thread::sleep(Duration::from_millis(2500));
    let mut a = Side::new(a);
    let mut b = Side::new(b);
    a.send(Msg::from("still here"));
    assert_eq!(b.recv().unwrap(), Msg::from("still here"));
    drop((a, b));
    engines.join().unwrap();
}

/// Runs the NULL handshake as a PAIR peer over a blocking stream, then
/// returns the stream without reading further.
fn raw_handshake(mut stream: UnixStream) -> UnixStream {
    let mut hs = smolmq_zmtp::Handshake::new(HandshakeConfig::new(SocketType::Pair)).unwrap();
    let mut out = bytes::BytesMut::new();
    let mut input = bytes::BytesMut::new();
    let since = Instant::now();
    loop {
        hs.poll_transmit(&mut out);
        stream.write_all(&out).unwrap();
        out.clear();
        match hs.receive(&mut input).unwrap() {
            smolmq_zmtp::HandshakeStatus::Done(_) => {
                hs.poll_transmit(&mut out);
                stream.write_all(&out).unwrap();
                return stream;
            }
            smolmq_zmtp::HandshakeStatus::InProgress => {}
        }
        assert!(since.elapsed() < DEADLINE);
        let mut buf = [0u8; 256];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "engine closed during the handshake");
        input.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn large_frames_arriving_in_pieces_are_whole_and_in_order() {
    // A raw peer writes, in pieces cut at awkward places, a small message,
    // a large one (read straight into its own buffer), a multipart message
    // with a large middle frame, and a small one right behind it.
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (sock, mut eng) = pipe_pair::<Msg>(1000, 1000);
    let big = |n: usize, seed: u8| {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(7) ^ seed)
            .collect::<Vec<u8>>()
    };
    let expected = vec![
        Msg::from("before"),
        Msg::from(big(100_000, 1)),
        Msg::from_frames([
            Bytes::from("head"),
            Bytes::from(big(33_000, 2)),
            Bytes::from("tail"),
        ])
        .unwrap(),
        Msg::from("after"),
    ];
    let mut wire = Vec::new();
    for msg in &expected {
        let last = msg.len() - 1;
        for (i, frame) in msg.iter().enumerate() {
            smolmq_zmtp::encode_header(&mut wire, frame.len(), i < last, false);
            wire.extend_from_slice(frame);
        }
    }
    let raw = thread::spawn(move || {
        let mut stream = raw_handshake(theirs);
        // Cuts inside headers, right after them, and deep in the bodies.
        let cuts = [3usize, 1, 9, 2, 5000, 1, 60_000, 7, 30_000, 9, 4, 1];
        let mut pos = 0;
        for cut in cuts.iter().cycle() {
            let end = (pos + cut).min(wire.len());
            stream.write_all(&wire[pos..end]).unwrap();
            stream.flush().unwrap();
            pos = end;
            if pos == wire.len() {
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        stream
    });
    let reader = thread::spawn(move || {
        let mut side = Side::new(sock);
        let got: Vec<Msg> = (0..4)
            .map(|_| side.recv().expect("engine ended early"))
            .collect();
        got
    });
    let engine = thread::spawn(move || {
        let engine =
            Engine::new(Box::new(Async::new(ours).unwrap()), &mut eng, pair_config()).unwrap();
        async_io::block_on(engine)
    });
    let got = reader.join().unwrap();
    assert_eq!(got, expected);
    drop(raw.join().unwrap());
    let exit = engine.join().unwrap();
    assert!(
        matches!(exit, EngineExit::PeerClosed | EngineExit::PipeClosed),
        "{exit}"
    );
}

#[test]
fn backpressure_is_not_mistaken_for_a_silent_peer() {
    // A heartbeats with a short timeout; its socket side stops reading, so
    // A holds a message at the HWM and stops reading the stream (and so
    // cannot see B's PONGs) for many timeouts. It must not drop B.
    let mut hb = pair_config();
    hb.heartbeat_ivl = Some(Duration::from_millis(20));
    hb.heartbeat_timeout = Some(Duration::from_millis(150));
    let (a, b, engines) = connected(hb, pair_config(), 10);
    let sender = thread::spawn(move || {
        // The side is made on the thread that waits on it.
        let mut b = Side::new(b);
        for i in 0..1000u32 {
            b.send(Msg::from(i.to_string()));
        }
        b
    });
    thread::sleep(Duration::from_millis(900));
    let mut a = Side::new(a);
    for i in 0..1000u32 {
        assert_eq!(a.recv(), Some(Msg::from(i.to_string())), "message {i}");
    }
    let b = sender.join().unwrap();
    drop((a, b));
    let (ea, _) = engines.join().unwrap();
    assert!(!matches!(ea, EngineExit::HeartbeatTimeout), "{ea}");
}
