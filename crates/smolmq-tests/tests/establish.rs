//! `Transport::establish`: a transport's own per-connection handshake (TLS,
//! the WebSocket upgrade) runs on the connection's task. A peer that stalls
//! in it or fails it is a `HandshakeFailed` event, and the listener goes on
//! serving the others.

use smolmq_core::transport::{BoxFuture, Connection, Listener, Side, Transport};
use smolmq_core::{Context, Endpoint, SocketEvent, SocketOptions};
use smolmq_tests::{socket_with, TIMEOUT};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// tcp, with a gate on accepted connections: the first never finishes its
/// handshake, the second fails it, every later one passes.
#[derive(Debug, Default)]
struct Gated {
    accepted: AtomicUsize,
}

impl Transport for Gated {
    fn scheme(&self) -> &'static str {
        "tcp"
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        smolmq_tcp::TcpTransport.bind(endpoint, options)
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        smolmq_tcp::TcpTransport.connect(endpoint, options)
    }

    fn establish(
        &self,
        conn: Connection,
        _endpoint: &Endpoint,
        _options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        if side == Side::Connected {
            return Box::pin(std::future::ready(Ok(conn)));
        }
        match self.accepted.fetch_add(1, Ordering::SeqCst) {
            // Holds the connection open and never answers.
            0 => Box::pin(async move {
                let _held = conn;
                std::future::pending().await
            }),
            1 => Box::pin(std::future::ready(Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the gate says no",
            )))),
            _ => Box::pin(std::future::ready(Ok(conn))),
        }
    }
}

#[test]
fn stalled_and_failed_transport_handshakes_do_not_block_the_listener() {
    let ctx = Context::new().unwrap();
    ctx.add_transport(Arc::new(Gated::default()));
    let mut server = socket_with(&ctx, |o| o.handshake_ivl = Some(Duration::from_millis(300)));
    let events = server.monitor();
    server.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();

    // Three clients: the first stalls, the second is refused (and retries),
    // the third, and the second's retry, get through.
    let mut clients: Vec<_> = (0..3)
        .map(|_| {
            let mut c = socket_with(&ctx, |_| {});
            c.connect(&endpoint).unwrap();
            c
        })
        .collect();
    // PAIR keeps its first peer, so one client's message arrives.
    for (i, c) in clients.iter_mut().enumerate() {
        c.try_send(format!("from {i}").into()).unwrap();
    }
    let got = server.recv_blocking().unwrap();
    assert!(smolmq_tests::text(&got).starts_with("from "), "{got:?}");

    let mut reasons = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while reasons.len() < 2 {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => reasons.push(reason),
            Ok(_) => {}
            Err(e) => panic!("expected two failed handshakes, saw {reasons:?}: {e:?}"),
        }
    }
    assert!(
        reasons.iter().any(|r| r.contains("(handshake_ivl)")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r == "the gate says no"),
        "{reasons:?}"
    );
}
