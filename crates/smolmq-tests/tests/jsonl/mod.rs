//! Helpers shared by the `jsonl_*` tests: a ROUTER serving JSON lines,
//! plain `std` streams as the non-smolmq side, bounded reads.

#![allow(dead_code)]

use smolmq::{Context, Msg, Socket, SocketType};
use smolmq_tests::TIMEOUT;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A socket of `kind` with the test options (timeouts) tuned by `tune`.
pub(crate) fn socket(
    ctx: &Context,
    kind: SocketType,
    tune: impl FnOnce(&mut smolmq::SocketOptions),
) -> Socket {
    let mut s = ctx.socket(kind).expect("socket");
    s.set_options(smolmq_tests::options_with(tune))
        .expect("options");
    s
}

/// A ROUTER bound to `tcp+jsonl://127.0.0.1:0`, and the address its
/// clients connect to.
pub(crate) fn router(
    ctx: &Context,
    tune: impl FnOnce(&mut smolmq::SocketOptions),
) -> (Socket, String) {
    let mut r = socket(ctx, SocketType::Router, tune);
    r.bind("tcp+jsonl://127.0.0.1:0").expect("bind");
    let ep = r.last_endpoint().expect("bound").to_string();
    assert!(ep.starts_with("tcp+jsonl://127.0.0.1:"), "{ep}");
    let addr = ep.trim_start_matches("tcp+jsonl://").to_owned();
    (r, addr)
}

/// A plain TCP client of `addr`, with read and write timeouts.
pub(crate) fn client(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Receives one message within the test timeout.
pub(crate) fn recv(s: &mut Socket) -> Msg {
    s.recv_blocking().expect("a message in time")
}

/// Receives [id, line] on a ROUTER; returns both.
pub(crate) fn recv_routed(s: &mut Socket) -> (Vec<u8>, Vec<u8>) {
    let m = recv(s);
    assert_eq!(m.len(), 2, "a ROUTER gets [id, line]: {m:?}");
    (m.get(0).unwrap().to_vec(), m.get(1).unwrap().to_vec())
}

/// Sends [id, line] on a ROUTER.
pub(crate) fn send_routed(s: &mut Socket, id: &[u8], line: &[u8]) {
    s.send_blocking(smolmq_tests::msg(&[id, line]))
        .map_err(|e| e.into_error())
        .expect("send");
}

/// Reads exactly `n` bytes.
pub(crate) fn read_exact(s: &mut impl Read, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    s.read_exact(&mut buf).expect("bytes in time");
    buf
}

/// Reads one line (with its `\n`) from a buffered stream.
pub(crate) fn read_line(r: &mut impl BufRead) -> Vec<u8> {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).expect("a line in time");
    line
}

/// Reads until the peer closes; returns what came.
pub(crate) fn read_to_end(s: &mut impl Read) -> Vec<u8> {
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("the peer closes in time");
    all
}

/// A buffered reader over a clone of `s`.
pub(crate) fn reader(s: &TcpStream) -> BufReader<TcpStream> {
    BufReader::new(s.try_clone().unwrap())
}

/// Writes all of `bytes`.
pub(crate) fn write(s: &mut impl Write, bytes: &[u8]) {
    s.write_all(bytes).expect("write");
}

/// Waits for the monitor event `want` matches, skipping others.
pub(crate) fn wait_event(
    events: &smolmq_mailbox::Receiver<smolmq::SocketEvent>,
    what: &str,
    mut want: impl FnMut(&smolmq::SocketEvent) -> bool,
) -> smolmq::SocketEvent {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let e = events
            .recv_timeout(left.max(Duration::from_millis(1)))
            .unwrap_or_else(|_| panic!("no {what} event in time"));
        if want(&e) {
            return e;
        }
    }
}
