//! Helpers shared by the pipeline tests: contexts, sockets with timeouts,
//! endpoints per transport, bounded waits, numbered messages.

#![allow(dead_code, unreachable_pub)]

use smolmq_core::{Context, Error, Msg, Socket, SocketOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The transports every scenario runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Inproc,
    Ipc,
    Tcp,
}

/// Every transport.
pub const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

/// The longest any one wait may take before the test fails (generous: the
/// machine is slow and busy).
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A context with the tcp and ipc transports.
pub fn context() -> Context {
    let ctx = Context::new().expect("I/O thread");
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    ctx
}

/// Options with SNDTIMEO / RCVTIMEO of [`TIMEOUT`] and quick reconnects,
/// changed by `tune`.
pub fn options(tune: impl FnOnce(&mut SocketOptions)) -> SocketOptions {
    let mut o = SocketOptions {
        sndtimeo: Some(TIMEOUT),
        rcvtimeo: Some(TIMEOUT),
        reconnect_ivl: Some(Duration::from_millis(20)),
        ..SocketOptions::default()
    };
    tune(&mut o);
    o
}

/// A PUSH socket with [`options`].
pub fn push(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    let mut s = smolmq_pipeline::push_socket(ctx);
    s.set_options(options(tune)).expect("options");
    s
}

/// A PULL socket with [`options`].
pub fn pull(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    let mut s = smolmq_pipeline::pull_socket(ctx);
    s.set_options(options(tune)).expect("options");
    s
}

/// A fresh endpoint of `t` for test `name`: tcp port 0 on loopback, an ipc
/// path in the temp dir or an inproc name, unique per process and call.
pub fn endpoint(t: Transport, name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    match t {
        Transport::Inproc => format!("inproc://{name}-{pid}-{n}"),
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!("smolmq-pl-{pid}-{name}-{n}.sock"));
            format!("ipc://{}", path.display())
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// Binds `s` to a fresh endpoint of `t`; returns where to connect.
pub fn bind(s: &mut Socket, t: Transport, name: &str) -> String {
    s.bind(&endpoint(t, name)).expect("bind");
    s.last_endpoint().expect("bound").to_string()
}

/// Waits (bounded) until `s` has `n` peers attached.
pub fn wait_peers(s: &mut Socket, n: usize, what: &str) {
    let deadline = Instant::now() + TIMEOUT;
    while s.peer_count() != n {
        assert!(
            Instant::now() < deadline,
            "{what}: {} peers, not {n}",
            s.peer_count()
        );
        let _ = s.wait_activity(Some(Duration::from_millis(50)));
    }
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
