//! Shared helpers for smolmq's cross-crate tests: sockets over every
//! transport, with the same assertions.
//!
//! This crate is not published. Its tests (`tests/`) run the socket layer
//! of `smolmq-core` over inproc, ipc and tcp, the way an application uses
//! it, and `cargo xtask stress` runs its stress test at full size.
//!
//! ```
//! let ctx = smolmq_tests::context();
//! let (mut server, mut client) = smolmq_tests::pair(&ctx, smolmq_tests::Transport::Tcp);
//! client.send_blocking("hi".into()).unwrap();
//! assert_eq!(server.recv_blocking().unwrap(), "hi".into());
//! ```

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

use smolmq_core::{Context, Socket, SocketOptions};
use smolmq_zmtp::SocketType;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

/// A PAIR socket with [`options`] changed by `tune`.
pub fn socket_with(ctx: &Context, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    let mut s = ctx.socket(SocketType::Pair).expect("PAIR socket");
    let mut o = options();
    tune(&mut o);
    s.set_options(o).expect("valid options");
    s
}

/// A fresh endpoint to bind for `transport` (tcp: port 0; ipc: a unique
/// path in the temp dir; inproc: a unique name).
pub fn bind_endpoint(transport: Transport) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    match transport {
        Transport::Inproc => format!("inproc://test-{}-{n}", std::process::id()),
        Transport::Ipc => {
            let path: PathBuf =
                std::env::temp_dir().join(format!("smolmq-test-{}-{n}.sock", std::process::id()));
            format!("ipc://{}", path.display())
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// Binds `socket` to a fresh endpoint of `transport` and returns the
/// endpoint to connect to (wildcards resolved).
pub fn bind(socket: &mut Socket, transport: Transport) -> String {
    socket.bind(&bind_endpoint(transport)).expect("bind");
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
