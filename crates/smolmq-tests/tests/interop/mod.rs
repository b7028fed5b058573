//! Shared by the `interop_*` tests: smolmq sockets (through the facade)
//! and libzmq 4.3 sockets (through the `zmq` crate, which builds libzmq
//! from source), linked with either side binding, over tcp or ipc.
//!
//! Every blocking call is bounded: SNDTIMEO / RCVTIMEO on both sides, so
//! a bug fails a test instead of hanging it.

#![allow(dead_code)] // Each test file uses its own subset.
#![allow(unreachable_pub)] // A module of test helpers, shared by file.

use bytes::Bytes;
use smolmq::{Context, Msg, Socket, SocketOptions, SocketType};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a blocking operation may take before it is a failure
/// (generous: the machine may be slow and busy).
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// [`TIMEOUT`] for libzmq, in milliseconds.
pub const ZMQ_TIMEOUT_MS: i32 = 20_000;

/// A short wait, for loops that poll until something arrives (slow
/// joiners) and for checking that something does *not* arrive.
pub const SHORT: Duration = Duration::from_millis(50);

/// Which library binds; the other connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// smolmq binds, libzmq connects.
    SmolmqBinds,
    /// libzmq binds, smolmq connects.
    LibzmqBinds,
}

/// The transports libzmq and smolmq share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `tcp://127.0.0.1`
    Tcp,
    /// `ipc://` on a unique path in the temp dir.
    Ipc,
}

/// Every (role, transport) combination.
pub fn cases() -> Vec<(Role, Transport)> {
    let mut v = Vec::new();
    for role in [Role::SmolmqBinds, Role::LibzmqBinds] {
        for t in [Transport::Tcp, Transport::Ipc] {
            v.push((role, t));
        }
    }
    v
}

/// A fresh endpoint to bind: tcp port chosen by the OS, or a unique ipc
/// path (process id, test tag, counter).
pub fn bind_endpoint(t: Transport, zmq_wildcard: bool) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    match t {
        Transport::Tcp if zmq_wildcard => "tcp://127.0.0.1:*".to_owned(),
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!(
                "smolmq-interop-{}-{}-{n}.sock",
                std::process::id(),
                std::thread::current()
                    .name()
                    .unwrap_or("t")
                    .rsplit("::")
                    .next()
                    .unwrap_or("t")
            ));
            let _ = std::fs::remove_file(&path);
            let endpoint = format!("ipc://{}", path.display());
            IPC_FILES.with(|files| files.borrow_mut().push(path));
            endpoint
        }
    }
}

std::thread_local! {
    /// The ipc paths [`bind_endpoint`] gave out on this thread. libzmq
    /// leaves the socket file of an ipc endpoint behind when it closes
    /// (smolmq removes its own), so the tests remove them.
    static IPC_FILES: std::cell::RefCell<Vec<std::path::PathBuf>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Removes the ipc socket files handed out on this thread (when dropped,
/// so also after a failure).
pub struct IpcCleanup;

impl Drop for IpcCleanup {
    fn drop(&mut self) {
        for path in IPC_FILES.with(|files| std::mem::take(&mut *files.borrow_mut())) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A smolmq context (tcp and ipc).
pub fn context() -> Context {
    Context::new().expect("starting the I/O thread")
}

/// The options every smolmq socket of these tests starts from.
pub fn options() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(TIMEOUT),
        rcvtimeo: Some(TIMEOUT),
        reconnect_ivl: Some(Duration::from_millis(20)),
        linger: Some(Duration::ZERO),
        ..SocketOptions::default()
    }
}

/// A smolmq socket of `kind` with [`options`] changed by `tune`.
pub fn ours(ctx: &Context, kind: SocketType, tune: impl FnOnce(&mut SocketOptions)) -> Socket {
    let mut s = ctx.socket(kind).expect("socket type compiled in");
    let mut o = options();
    tune(&mut o);
    s.set_options(o).expect("valid options");
    s
}

/// A libzmq socket of `kind` with timeouts, LINGER 0 and a fast
/// reconnect.
pub fn theirs(zctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = zctx.socket(kind).expect("libzmq socket");
    s.set_rcvtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_sndtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s.set_reconnect_ivl(20).unwrap();
    s
}

/// Binds one side and connects the other, as `role` says. Returns the
/// endpoint bound (wildcards resolved).
pub fn link(role: Role, t: Transport, ours: &mut Socket, theirs: &zmq::Socket) -> String {
    match role {
        Role::SmolmqBinds => {
            ours.bind(&bind_endpoint(t, false)).expect("smolmq bind");
            let endpoint = ours.last_endpoint().expect("bound").to_string();
            theirs.connect(&endpoint).expect("libzmq connect");
            endpoint
        }
        Role::LibzmqBinds => {
            theirs.bind(&bind_endpoint(t, true)).expect("libzmq bind");
            let endpoint = theirs.get_last_endpoint().unwrap().unwrap();
            ours.connect(&endpoint).expect("smolmq connect");
            endpoint
        }
    }
}

/// A message of these frames.
pub fn msg<F: AsRef<[u8]>>(frames: &[F]) -> Msg {
    Msg::from_frames(frames.iter().map(|f| Bytes::copy_from_slice(f.as_ref())))
        .expect("at least one frame")
}

/// A message's frames, copied.
pub fn frames(msg: &Msg) -> Vec<Vec<u8>> {
    msg.iter().map(|f| f[..].to_vec()).collect()
}

/// A multipart message with a short frame, an empty one, a long one (over
/// 255 bytes: the 8-byte length form) and a one-byte one.
pub fn sample() -> Vec<Vec<u8>> {
    vec![
        b"header".to_vec(),
        Vec::new(),
        (0..1000u32).map(|i| i as u8).collect(),
        vec![0x7f],
    ]
}

/// Sends on smolmq, failing the test on error.
pub fn send(s: &mut Socket, frames: &[Vec<u8>]) {
    s.send_blocking(msg(frames))
        .map_err(|e| e.into_error())
        .expect("smolmq send");
}

/// Receives on smolmq, failing the test on error.
pub fn recv(s: &mut Socket) -> Vec<Vec<u8>> {
    frames(&s.recv_blocking().expect("smolmq recv"))
}

/// Receives on smolmq within `wait`, `None` if nothing came.
pub fn recv_within(s: &mut Socket, wait: Duration) -> Option<Vec<Vec<u8>>> {
    let deadline = Instant::now() + wait;
    loop {
        match s.try_recv() {
            Ok(m) => return Some(frames(&m)),
            Err(e) if e.is_would_block() => {}
            Err(e) => panic!("smolmq recv: {e}"),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let _ = s.wait_activity(Some(left.min(Duration::from_millis(10))));
    }
}

/// Receives on libzmq within `ms` milliseconds, `None` if nothing came.
pub fn zrecv_within(s: &zmq::Socket, ms: i64) -> Option<Vec<Vec<u8>>> {
    match s.poll(zmq::POLLIN, ms) {
        Ok(n) if n > 0 => Some(s.recv_multipart(0).expect("libzmq recv")),
        _ => None,
    }
}

/// Sends on libzmq, failing the test on error.
pub fn zsend(s: &zmq::Socket, frames: &[Vec<u8>]) {
    s.send_multipart(frames.iter().map(|f| &f[..]), 0)
        .expect("libzmq send");
}

/// Receives on libzmq, failing the test on error.
pub fn zrecv(s: &zmq::Socket) -> Vec<Vec<u8>> {
    s.recv_multipart(0).expect("libzmq recv")
}

/// Frames from byte strings.
pub fn parts(frames: &[&[u8]]) -> Vec<Vec<u8>> {
    frames.iter().map(|f| f.to_vec()).collect()
}

/// Runs `f` for every case, each in its own thread (so the cases of a
/// test run side by side), naming the case in a failure.
pub fn for_each_case(name: &str, f: impl Fn(Role, Transport) + Send + Sync + Copy + 'static) {
    let handles: Vec<_> = cases()
        .into_iter()
        .map(|(role, t)| {
            std::thread::Builder::new()
                .name(format!("{name}-{role:?}-{t:?}"))
                .spawn(move || {
                    let _cleanup = IpcCleanup;
                    f(role, t)
                })
                .unwrap()
        })
        .collect();
    let mut failed = Vec::new();
    for (h, case) in handles.into_iter().zip(cases()) {
        if h.join().is_err() {
            failed.push(case);
        }
    }
    assert!(failed.is_empty(), "{name} failed for {failed:?}");
}

/// The messages [`one_way`] sends: the multipart [`sample`], a message of
/// one empty frame, a 300-byte frame, a 100 KiB frame, then 200 numbered
/// messages (order kept).
pub fn traffic() -> Vec<Vec<Vec<u8>>> {
    let mut v = vec![
        sample(),
        vec![Vec::new()],
        vec![vec![0x55; 300]],
        vec![vec![0xaa; 100 * 1024]],
    ];
    v.extend((0..200u32).map(|i| vec![format!("msg {i}").into_bytes()]));
    v
}

/// smolmq sends [`traffic`], libzmq receives it whole and in order.
pub fn ours_to_theirs(a: &mut Socket, b: &zmq::Socket) {
    for m in traffic() {
        send(a, &m);
    }
    for m in traffic() {
        assert_eq!(zrecv(b), m);
    }
}

/// libzmq sends [`traffic`], smolmq receives it whole and in order.
pub fn theirs_to_ours(b: &zmq::Socket, a: &mut Socket) {
    for m in traffic() {
        zsend(b, &m);
    }
    for m in traffic() {
        assert_eq!(recv(a), m);
    }
}

/// Which library plays a given part of a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lib {
    /// smolmq.
    Smolmq,
    /// libzmq.
    Libzmq,
}

/// A socket of either library, to write a test once for both.
pub trait Peer {
    /// Sends a message, failing the test on error.
    fn put(&mut self, frames: &[Vec<u8>]);
    /// Sends a message; `false` if it was refused as unroutable
    /// (ROUTER_MANDATORY), failing the test on other errors.
    fn try_put(&mut self, frames: &[Vec<u8>]) -> bool;
    /// Receives a message, failing the test on error or timeout.
    fn take(&mut self) -> Vec<Vec<u8>>;
    /// Receives a message within `wait`, `None` if nothing came.
    fn take_within(&mut self, wait: Duration) -> Option<Vec<Vec<u8>>>;
}

impl Peer for Socket {
    fn put(&mut self, frames: &[Vec<u8>]) {
        send(self, frames)
    }
    fn try_put(&mut self, frames: &[Vec<u8>]) -> bool {
        match self.send_blocking(msg(frames)) {
            Ok(()) => true,
            Err(e) if matches!(e.error(), smolmq::Error::Unroutable) => false,
            Err(e) => panic!("smolmq send: {}", e.into_error()),
        }
    }
    fn take(&mut self) -> Vec<Vec<u8>> {
        recv(self)
    }
    fn take_within(&mut self, wait: Duration) -> Option<Vec<Vec<u8>>> {
        recv_within(self, wait)
    }
}

impl Peer for zmq::Socket {
    fn put(&mut self, frames: &[Vec<u8>]) {
        zsend(self, frames)
    }
    fn try_put(&mut self, frames: &[Vec<u8>]) -> bool {
        match self.send_multipart(frames.iter().map(|f| &f[..]), 0) {
            Ok(()) => true,
            Err(zmq::Error::EHOSTUNREACH) => false,
            Err(e) => panic!("libzmq send: {e}"),
        }
    }
    fn take(&mut self) -> Vec<Vec<u8>> {
        zrecv(self)
    }
    fn take_within(&mut self, wait: Duration) -> Option<Vec<Vec<u8>>> {
        zrecv_within(self, wait.as_millis() as i64)
    }
}

/// A smolmq socket linked to a libzmq one, with the contexts that keep
/// them running.
pub struct Link {
    /// The smolmq side.
    pub ours: Socket,
    /// The libzmq side.
    pub theirs: zmq::Socket,
    /// The endpoint bound.
    pub endpoint: String,
    /// Keeps smolmq's I/O thread.
    pub ctx: Context,
    /// Keeps libzmq's.
    pub zctx: zmq::Context,
}

impl Link {
    /// Makes and links the two sockets: `tune_ours` and `tune_theirs` run
    /// before bind / connect.
    pub fn new(
        role: Role,
        t: Transport,
        ours_kind: SocketType,
        tune_ours: impl FnOnce(&mut Socket),
        theirs_kind: zmq::SocketType,
        tune_theirs: impl FnOnce(&zmq::Socket),
    ) -> Link {
        Link::new_in(
            zmq::Context::new(),
            role,
            t,
            ours_kind,
            tune_ours,
            theirs_kind,
            tune_theirs,
        )
    }

    /// As [`Link::new`], the libzmq socket made in `zctx` (which may serve
    /// a ZAP handler).
    pub fn new_in(
        zctx: zmq::Context,
        role: Role,
        t: Transport,
        ours_kind: SocketType,
        tune_ours: impl FnOnce(&mut Socket),
        theirs_kind: zmq::SocketType,
        tune_theirs: impl FnOnce(&zmq::Socket),
    ) -> Link {
        let ctx = context();
        let mut a = ours(&ctx, ours_kind, |_| {});
        tune_ours(&mut a);
        let b = theirs(&zctx, theirs_kind);
        tune_theirs(&b);
        let endpoint = link(role, t, &mut a, &b);
        Link {
            ours: a,
            theirs: b,
            endpoint,
            ctx,
            zctx,
        }
    }

    /// The two sockets as (the part `lib` plays, the other part).
    pub fn parts(&mut self, lib: Lib) -> (&mut dyn Peer, &mut dyn Peer) {
        match lib {
            Lib::Smolmq => (&mut self.ours, &mut self.theirs),
            Lib::Libzmq => (&mut self.theirs, &mut self.ours),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // The file of its ipc endpoint, which a libzmq bind leaves behind.
        if let Some(path) = self.endpoint.strip_prefix("ipc://") {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Sets smolmq's routing id option.
pub fn set_routing_id(s: &mut Socket, id: &[u8]) {
    let mut o = s.options().clone();
    o.routing_id = Some(Bytes::copy_from_slice(id));
    s.set_options(o).expect("valid routing id");
}

/// Receives on `wanted` while keeping `idle` serviced.
///
/// A socket (in libzmq and in smolmq alike) takes in a new connection only
/// when the application calls into it: a bound XSUB sends its
/// subscriptions to a publisher that connected after they were made only
/// once the application next uses it. A real subscriber keeps receiving;
/// this does the same for a socket that expects nothing meanwhile.
pub fn take_servicing(wanted: &mut dyn Peer, idle: &mut dyn Peer) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(m) = wanted.take_within(Duration::from_millis(10)) {
            return m;
        }
        let unexpected = idle.take_within(Duration::from_millis(1));
        assert_eq!(unexpected, None, "nothing should arrive here");
        assert!(Instant::now() < deadline, "nothing arrived");
    }
}
