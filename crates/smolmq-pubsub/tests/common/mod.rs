//! Helpers for the socket tests: sockets over inproc, ipc and tcp, bounded
//! waits, slow-joiner probes.
#![allow(dead_code, unreachable_pub)]

use smolmq_core::{Context, Error, Msg, Socket, SocketOptions};
use smolmq_zmtp::SocketType;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The transports the tests run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Inproc,
    Ipc,
    Tcp,
}

/// Every transport.
pub const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

/// The stream transports (those that reconnect).
pub const STREAMS: [Transport; 2] = [Transport::Ipc, Transport::Tcp];

/// Longest any wait may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A context with the tcp and ipc transports.
pub fn context() -> Context {
    let ctx = Context::new().expect("context");
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    ctx
}

/// Options with timeouts (a bug fails instead of hanging) and quick
/// reconnects.
pub fn options() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(TIMEOUT),
        rcvtimeo: Some(TIMEOUT),
        reconnect_ivl: Some(Duration::from_millis(20)),
        ..SocketOptions::default()
    }
}

/// A socket of `kind` with [`options`] changed by `tune`.
pub fn socket_with(
    ctx: &Context,
    kind: SocketType,
    tune: impl FnOnce(&mut SocketOptions),
) -> Socket {
    let mut s = smolmq_pubsub::socket(ctx, kind).expect("pub-sub socket");
    let mut o = options();
    tune(&mut o);
    s.set_options(o).expect("options");
    s
}

/// A socket of `kind` with [`options`].
pub fn socket(ctx: &Context, kind: SocketType) -> Socket {
    socket_with(ctx, kind, |_| {})
}

/// A fresh endpoint for `t`, unique to this process, test and call.
pub fn endpoint(t: Transport, test: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    match t {
        Transport::Inproc => format!("inproc://pubsub-{test}-{pid}-{n}"),
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!("smolmq-pubsub-{test}-{pid}-{n}.sock"));
            let _ = std::fs::remove_file(&path);
            format!("ipc://{}", path.display())
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// Binds `s` to a fresh endpoint of `t`; returns the address to connect to.
pub fn bind(s: &mut Socket, t: Transport, test: &str) -> String {
    s.bind(&endpoint(t, test)).expect("bind");
    s.last_endpoint().expect("bound").to_string()
}

/// The next message, or `None` if none comes within `within`.
pub fn recv_within(s: &mut Socket, within: Duration) -> Option<Msg> {
    let deadline = Instant::now() + within;
    loop {
        match s.try_recv() {
            Ok(m) => return Some(m),
            Err(Error::WouldBlock) => {}
            Err(e) => panic!("recv: {e}"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        match s.wait_activity(Some(left.min(Duration::from_millis(50)))) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(e) => panic!("wait: {e}"),
        }
    }
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

/// The first frame as text.
pub fn text(m: &Msg) -> String {
    let f: &[u8] = m.first();
    String::from_utf8_lossy(f).into_owned()
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

/// Polls `cond` (which may drive sockets) until it holds (bounded).
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let since = Instant::now();
    while !cond() {
        assert!(since.elapsed() < TIMEOUT, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
