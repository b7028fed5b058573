//! Shared helpers for smolmq's cross-crate tests: sockets over every
//! transport, with the same assertions.
//!
//! This crate is not published. Its tests (`tests/`) run the socket layer
//! of `smolmq-core` over inproc, ipc and tcp, the way an application uses
//! it, and `cargo xtask stress` runs its stress test at full size. The
//! pattern crates' tests use its helpers too (as a dev-dependency): a
//! context with every transport, sockets with test options, endpoints per
//! transport, bounded waits, message building.
//!
//! ```
//! let ctx = smolmq_tests::context();
//! let (mut server, mut client) = smolmq_tests::pair(&ctx, smolmq_tests::Transport::Tcp);
//! client.send_blocking("hi".into()).unwrap();
//! assert_eq!(server.recv_blocking().unwrap(), "hi".into());
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

pub mod certs;

use bytes::Bytes;
use smolmq_core::pattern::Pattern;
use smolmq_core::{Context, Error, Msg, Socket, SocketOptions};
use smolmq_zmtp::SocketType;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The transports the tests run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `inproc://`
    Inproc,
    /// `ipc://` (a socket file in the temp dir)
    Ipc,
    /// `tcp://127.0.0.1`
    Tcp,
}

/// Every transport.
pub const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

/// The stream transports (those whose connecting pipes reconnect).
pub const STREAMS: [Transport; 2] = [Transport::Ipc, Transport::Tcp];

/// Longest a test operation may wait before it is a failure (generous: the
/// machine may be slow and busy).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A context with the tcp and ipc transports.
pub fn context() -> Context {
    let ctx = Context::new().expect("starting the I/O thread");
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    ctx
}

/// Options with SNDTIMEO and RCVTIMEO set to [`TIMEOUT`], so a bug fails a
/// test instead of hanging it.
pub fn options() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(TIMEOUT),
        rcvtimeo: Some(TIMEOUT),
        reconnect_ivl: Some(Duration::from_millis(20)),
        ..SocketOptions::default()
    }
}

/// [`options`] changed by `tune`.
pub fn options_with(tune: impl FnOnce(&mut SocketOptions)) -> SocketOptions {
    let mut o = options();
    tune(&mut o);
    o
}

/// `socket` with [`options`] changed by `tune` set on it: for sockets made
/// by a pattern crate's constructor (`smolmq_pipeline::push_socket(&ctx)`).
pub fn with_options(mut socket: Socket, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    socket
        .set_options(options_with(tune))
        .expect("valid options");
    socket
}

/// A socket of type `kind` routed by `pattern`, with [`options`] changed
/// by `tune`.
pub fn socket_of(
    ctx: &Context,
    kind: SocketType,
    pattern: Box<dyn Pattern>,
    tune: impl FnOnce(&mut SocketOptions),
) -> Socket {
    with_options(ctx.socket_with(kind, pattern), tune)
}

/// A PAIR socket with [`options`] changed by `tune`.
pub fn socket_with(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    with_options(ctx.socket(SocketType::Pair).expect("PAIR socket"), tune)
}

/// A fresh endpoint to bind for `transport` (tcp: port 0; ipc: a unique
/// path in the temp dir; inproc: a unique name).
pub fn bind_endpoint(transport: Transport) -> String {
    endpoint(transport, "test")
}

/// A fresh endpoint to bind for `transport`, naming test `name`: tcp port
/// 0 on loopback, an ipc path in the temp dir (a stale file there is
/// removed) or an inproc name, unique per process and call.
pub fn endpoint(transport: Transport, name: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    match transport {
        Transport::Inproc => format!("inproc://{name}-{pid}-{n}"),
        Transport::Ipc => {
            let path: PathBuf = std::env::temp_dir().join(format!("smolmq-{name}-{pid}-{n}.sock"));
            let _ = std::fs::remove_file(&path);
            format!("ipc://{}", path.display())
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// Binds `socket` to a fresh endpoint of `transport` and returns the
/// endpoint to connect to (wildcards resolved).
pub fn bind(socket: &mut Socket, transport: Transport) -> String {
    bind_named(socket, transport, "test")
}

/// As [`bind`], the endpoint naming test `name` (see [`endpoint`]).
pub fn bind_named(socket: &mut Socket, transport: Transport, name: &str) -> String {
    socket.bind(&endpoint(transport, name)).expect("bind");
    socket.last_endpoint().expect("bound endpoint").to_string()
}

/// A bound and a connected PAIR socket over `transport`, with
/// [`options`].
pub fn pair(ctx: &Context, transport: Transport) -> (Socket, Socket) {
    pair_with(ctx, transport, |_| {}, |_| {})
}

/// As [`pair`], tuning each side's options.
pub fn pair_with(
    ctx: &Context,
    transport: Transport,
    tune_server: impl FnOnce(&mut SocketOptions),
    tune_client: impl FnOnce(&mut SocketOptions),
) -> (Socket, Socket) {
    let mut server = socket_with(ctx, tune_server);
    let endpoint = bind(&mut server, transport);
    let mut client = socket_with(ctx, tune_client);
    client.connect(&endpoint).expect("connect");
    (server, client)
}

/// Waits (bounded by [`TIMEOUT`]) until `cond` holds, handling the
/// socket's events in between (new peers, pipes ending).
pub fn wait_until(socket: &mut Socket, what: &str, mut cond: impl FnMut(&mut Socket) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond(socket) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        match socket.wait_activity(Some(Duration::from_millis(20))) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

/// Polls `cond` (which may drive sockets) until it holds, bounded by
/// [`TIMEOUT`].
pub fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let since = Instant::now();
    while !cond() {
        assert!(since.elapsed() < TIMEOUT, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The next message, or `None` if none comes within `within`.
pub fn recv_within(socket: &mut Socket, within: Duration) -> Option<Msg> {
    let deadline = Instant::now() + within;
    loop {
        match socket.try_recv() {
            Ok(m) => return Some(m),
            Err(Error::WouldBlock) => {}
            Err(e) => panic!("recv: {e}"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        match socket.wait_activity(Some(left.min(Duration::from_millis(50)))) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(e) => panic!("wait: {e}"),
        }
    }
}

/// A message of these frames (at least one).
pub fn msg(frames: &[&[u8]]) -> Msg {
    Msg::from_frames(frames.iter().map(|f| Bytes::copy_from_slice(f))).expect("a frame")
}

/// The frames of `m`, as byte vectors.
pub fn frames(m: &Msg) -> Vec<Vec<u8>> {
    m.iter().map(|f| f[..].to_vec()).collect()
}

/// The first frame of `m` as text (lossy).
pub fn text(m: &Msg) -> String {
    let f: &[u8] = m.first();
    String::from_utf8_lossy(f).into_owned()
}
