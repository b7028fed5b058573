//! Bad upgrades: plain HTTP, a wrong subprotocol, a wrong path, a ZMTP
//! client, garbage. Each is refused with a clear reason in
//! `HandshakeFailed`, nothing is delivered, and the listener goes on
//! serving a good client. And a ws client that meets a server that is not
//! one.

use smolmq_core::{Context, Msg, SocketEvent};
use smolmq_mailbox::Receiver;
use smolmq_tests::{recv_within, socket_with, TIMEOUT};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
    ctx
}

/// Sends `request` on a raw tcp connection to `endpoint` (a ws:// one) and
/// returns what the server answered before closing (bounded in time).
fn raw_exchange(endpoint: &str, request: &[u8]) -> String {
    let addr = endpoint
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    // The server closes after refusing; a reset is an answer too.
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// A WebSocket upgrade request for `path` offering `protocols`.
fn upgrade_request(path: &str, protocols: Option<&str>) -> Vec<u8> {
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(p) = protocols {
        request.push_str(&format!("Sec-WebSocket-Protocol: {p}\r\n"));
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// The next `HandshakeFailed` reason on `events`.
fn failed_reason(events: &Receiver<SocketEvent>) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => {
                eprintln!("refused: {reason}");
                return reason;
            }
            Ok(_) => {}
            Err(e) => panic!("no failed handshake: {e:?}"),
        }
    }
}

#[test]
fn bad_upgrades_are_refused_and_the_listener_serves_on() {
    let ctx = context();
    let mut server = socket_with(&ctx, |o| o.handshake_ivl = Some(Duration::from_secs(20)));
    let events = server.monitor();
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();

    // Plain HTTP, no upgrade.
    let answer = raw_exchange(&endpoint, b"GET /zmq HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert!(!answer.contains("101"), "{answer}");
    let reason = failed_reason(&events);
    assert!(
        reason.contains("WebSocket upgrade from 127.0.0.1:"),
        "{reason}"
    );
    assert!(reason.contains("header"), "{reason}");

    // A WebSocket upgrade for another subprotocol.
    let answer = raw_exchange(&endpoint, &upgrade_request("/zmq", Some("chat, superchat")));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("subprotocol chat, superchat not supported"),
        "{answer}"
    );
    let reason = failed_reason(&events);
    assert!(
        reason.contains("subprotocol chat, superchat not supported (this endpoint speaks ZWS2.0/NULL or ZWS2.0)"),
        "{reason}"
    );

    // No subprotocol at all.
    let answer = raw_exchange(&endpoint, &upgrade_request("/zmq", None));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let reason = failed_reason(&events);
    assert!(
        reason.contains("no Sec-WebSocket-Protocol offered"),
        "{reason}"
    );

    // Another path.
    let answer = raw_exchange(&endpoint, &upgrade_request("/other", Some("ZWS2.0")));
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let reason = failed_reason(&events);
    assert!(
        reason.contains("no ZWS endpoint at path `/other`"),
        "{reason}"
    );

    // A ZMTP client: its greeting is no HTTP request.
    let mut zmtp = socket_with(&ctx, |_| {});
    zmtp.connect(&endpoint.replace("ws://", "tcp://").replace("/zmq", ""))
        .unwrap();
    zmtp.try_send(Msg::from("zmtp intruder"))
        .map_err(|e| e.into_error())
        .unwrap();
    let reason = failed_reason(&events);
    assert!(reason.contains("not an HTTP request"), "{reason}");
    drop(zmtp);

    // Garbage bytes.
    raw_exchange(&endpoint, b"\x00\x01\x02 not http at all\r\n\r\n");
    let reason = failed_reason(&events);
    assert!(reason.contains("not an HTTP request"), "{reason}");

    // Nothing was delivered, and a good client still gets through.
    assert_eq!(recv_within(&mut server, Duration::from_millis(100)), None);
    let mut good = socket_with(&ctx, |_| {});
    good.connect(&endpoint).unwrap();
    good.send_blocking(Msg::from("hello"))
        .map_err(|e| e.into_error())
        .unwrap();
    let got = server.recv_blocking().unwrap();
    assert_eq!(got.first(), b"hello");
}

#[test]
fn a_ws_client_refuses_a_server_that_does_not_upgrade() {
    let ctx = context();
    // A ZMTP (tcp) server: it answers the HTTP request with a greeting.
    let mut server = socket_with(&ctx, |_| {});
    server.bind("tcp://127.0.0.1:0").unwrap();
    let tcp = server.last_endpoint().unwrap().to_string();
    let mut client = socket_with(&ctx, |o| o.handshake_ivl = Some(Duration::from_secs(20)));
    let events = client.monitor();
    client
        .connect(&format!("{}/zmq", tcp.replace("tcp://", "ws://")))
        .unwrap();
    let reason = failed_reason(&events);
    assert!(
        reason.contains("WebSocket upgrade with ws://127.0.0.1:"),
        "{reason}"
    );
    assert_eq!(recv_within(&mut server, Duration::from_millis(100)), None);
}
