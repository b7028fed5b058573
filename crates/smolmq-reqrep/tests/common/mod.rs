//! Helpers shared by the tests: sockets over inproc, ipc and tcp, message
//! building, bounded waits.
#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use smolmq_core::{Context, Error, Msg, Socket, SocketOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest any wait in a test may take before it is a failure.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The transports the tests run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `inproc://`
    Inproc,
    /// `ipc://` under the temp dir
    Ipc,
    /// `tcp://127.0.0.1`
    Tcp,
}

/// Every transport.
pub const ALL: [Transport; 3] = [Transport::Inproc, Transport::Ipc, Transport::Tcp];

/// A context with the tcp and ipc transports.
pub fn context() -> Context {
    let ctx = Context::new().expect("I/O thread");
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    ctx
}

/// Test options: SNDTIMEO / RCVTIMEO so a bug fails instead of hanging,
/// quick reconnects.
pub fn options() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(TIMEOUT),
        rcvtimeo: Some(TIMEOUT),
        reconnect_ivl: Some(Duration::from_millis(20)),
        ..SocketOptions::default()
    }
}

/// `make(ctx)` with [`options`] changed by `tune`.
pub fn socket(
    ctx: &Context,
    make: fn(&Context) -> Socket,
    tune: impl FnOnce(&mut SocketOptions),
) -> Socket {
    let mut s = make(ctx);
    let mut o = options();
    tune(&mut o);
    s.set_options(o).expect("valid options");
    s
}

/// As [`socket`] with routing id `id`.
pub fn socket_id(ctx: &Context, make: fn(&Context) -> Socket, id: &str) -> Socket {
    let id = Bytes::copy_from_slice(id.as_bytes());
    socket(ctx, make, |o| o.routing_id = Some(id))
}

/// A fresh endpoint to bind: tcp port 0, a unique ipc path (process id,
/// test name, counter), a unique inproc name.
pub fn endpoint(t: Transport, test: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    match t {
        Transport::Inproc => format!("inproc://reqrep-{test}-{pid}-{n}"),
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!("smolmq-rr-{pid}-{test}-{n}.sock"));
            let _ = std::fs::remove_file(&path);
            format!("ipc://{}", path.display())
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// Binds `s` to a fresh endpoint and returns the one to connect to.
pub fn bind(s: &mut Socket, t: Transport, test: &str) -> String {
    s.bind(&endpoint(t, test)).expect("bind");
    s.last_endpoint().expect("bound").to_string()
}

/// A message of these frames.
pub fn msg(frames: &[&[u8]]) -> Msg {
    Msg::from_frames(frames.iter().map(|f| Bytes::copy_from_slice(f))).expect("a frame")
}

/// The frames of `m`, as byte vectors.
pub fn frames(m: &Msg) -> Vec<Vec<u8>> {
    m.iter().map(|f| f[..].to_vec()).collect()
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

/// Waits (bounded by [`TIMEOUT`]) until `cond` holds, handling the
/// socket's events in between.
pub fn wait_until(s: &mut Socket, what: &str, mut cond: impl FnMut(&mut Socket) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond(s) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        match s.wait_activity(Some(Duration::from_millis(20))) {
            Ok(()) | Err(Error::Timeout) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

/// Waits until `s` has `n` peers.
pub fn wait_peers(s: &mut Socket, n: usize) {
    wait_until(s, &format!("{n} peers"), |s| s.peer_count() == n);
}
