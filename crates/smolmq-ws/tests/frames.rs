//! The data path's WebSocket frames against tungstenite as the peer (an
//! implementation with no smolmq code in it): fragmented messages, ping and
//! pong, a text message refused, and the Close frames of RFC 6455 (the
//! peer's answered, ours with its status when our side ends the
//! connection).

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use async_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame};
use async_tungstenite::tungstenite::{self, Message};
use smolmq_core::{Context, SocketEvent};
use smolmq_tests::{frames, msg, socket_with, TIMEOUT};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
    ctx
}

/// A tungstenite client upgraded to `endpoint` with subprotocol `ZWS2.0`.
fn raw_client(endpoint: &str) -> tungstenite::WebSocket<TcpStream> {
    let addr = endpoint
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut request = endpoint.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "ZWS2.0".parse().unwrap());
    let (ws, response) = tungstenite::client(request, tcp).unwrap();
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "ZWS2.0");
    ws
}

/// A PAIR server bound to a `ws://` endpoint, its options tuned: the
/// socket, its monitor and a tungstenite client connected to it, routing
/// ids exchanged.
fn server_and_client(
    ctx: &Context,
    tune: impl FnOnce(&mut smolmq_core::SocketOptions),
) -> (
    smolmq_core::Socket,
    smolmq_mailbox::Receiver<SocketEvent>,
    tungstenite::WebSocket<TcpStream>,
) {
    let mut server = socket_with(ctx, tune);
    let events = server.monitor();
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();
    let mut ws = raw_client(&endpoint);
    ws.send(Message::binary(&b"\x00"[..])).unwrap();
    assert_eq!(next_binary(&mut ws), b"\x00");
    (server, events, ws)
}

/// The status of the Close frame that comes next (pings and pongs
/// aside); panics on anything else, or on a connection ended without one.
fn close_code(ws: &mut tungstenite::WebSocket<TcpStream>) -> CloseCode {
    loop {
        match ws.read() {
            Ok(Message::Close(Some(frame))) => return frame.code,
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => panic!("expected a Close frame, got {other:?}"),
            Err(e) => panic!("no Close frame: {e}"),
        }
    }
}

/// The next binary message, answering nothing else.
fn next_binary(ws: &mut tungstenite::WebSocket<TcpStream>) -> Vec<u8> {
    loop {
        match ws.read().unwrap() {
            Message::Binary(b) => return b.to_vec(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn fragments_ping_and_close_with_tungstenite() {
    let ctx = context();
    // Routing ids first, both ways (ZWS2.0 without mechanism).
    let (mut server, _events, mut ws) = server_and_client(&ctx, |_| {});

    // A two-frame ZMTP message, its second frame in three fragments.
    ws.send(Message::binary(&b"\x01first"[..])).unwrap();
    let parts: [&[u8]; 3] = [b"\x00frag", b"men", b"ted"];
    for (i, part) in parts.iter().enumerate() {
        let opcode = if i == 0 {
            OpCode::Data(Data::Binary)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(part.to_vec(), opcode, i == parts.len() - 1);
        ws.send(Message::Frame(frame)).unwrap();
    }
    // A ping in between: answered.
    ws.send(Message::Ping(b"are you there"[..].into())).unwrap();
    let got = server.recv_blocking().unwrap();
    assert_eq!(frames(&got), frames(&msg(&[b"first", b"fragmented"])));
    // The pong is the next thing to come (the socket sends nothing else).
    match ws.read().unwrap() {
        Message::Pong(p) => assert_eq!(&p[..], b"are you there"),
        other => panic!("expected the pong, got {other:?}"),
    }

    // Our messages arrive as one binary message per frame, MORE flagged.
    server
        .send_blocking(msg(&[b"a", b"bc"]))
        .map_err(|e| e.into_error())
        .unwrap();
    assert_eq!(next_binary(&mut ws), b"\x01a");
    assert_eq!(next_binary(&mut ws), b"\x00bc");

    // A close is answered with a close, with the same status.
    ws.close(Some(CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    }))
    .unwrap();
    assert_eq!(close_code(&mut ws), CloseCode::Away);
}

#[test]
fn a_text_message_drops_the_connection_with_close_1003() {
    let ctx = context();
    let (_server, events, mut ws) = server_and_client(&ctx, |_| {});
    ws.send(Message::text("hello")).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::Disconnected { reason, .. }) => {
                assert!(reason.contains("text WebSocket message"), "{reason}");
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("no disconnection: {e:?}"),
        }
    }
    assert_eq!(close_code(&mut ws), CloseCode::Unsupported);
}

#[test]
fn a_message_over_maxmsgsize_gets_close_1009() {
    let ctx = context();
    let (_server, _events, mut ws) = server_and_client(&ctx, |o| o.maxmsgsize = Some(100));
    let mut big = vec![0u8; 1000];
    big[0] = 0x00;
    ws.send(Message::binary(big)).unwrap();
    assert_eq!(close_code(&mut ws), CloseCode::Size);
}

#[test]
fn a_message_without_flags_gets_close_1002() {
    let ctx = context();
    let (_server, _events, mut ws) = server_and_client(&ctx, |_| {});
    ws.send(Message::binary(Vec::new())).unwrap();
    assert_eq!(close_code(&mut ws), CloseCode::Protocol);
}

#[test]
fn dropping_the_socket_sends_close_1000() {
    let ctx = context();
    let (server, _events, mut ws) = server_and_client(&ctx, |_| {});
    drop(server);
    assert_eq!(close_code(&mut ws), CloseCode::Normal);
    // Then the connection ends.
    match ws.read() {
        Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::Io(_)) => {}
        other => panic!("expected the end, got {other:?}"),
    }
}

#[test]
fn a_connecting_socket_that_disconnects_sends_close_1000() {
    // tungstenite as the server this time: our side masks its frames.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let peer = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        let answer = |_: &tungstenite::handshake::server::Request,
                      mut response: tungstenite::handshake::server::Response| {
            response
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", "ZWS2.0".parse().unwrap());
            Ok(response)
        };
        let mut ws = tungstenite::accept_hdr(tcp, answer).unwrap();
        ws.send(Message::binary(&b"\x00"[..])).unwrap();
        assert_eq!(next_binary(&mut ws), b"\x00");
        assert_eq!(next_binary(&mut ws), b"\x00hello");
        ws.send(Message::binary(&b"\x00got it"[..])).unwrap();
        close_code(&mut ws)
    });
    let ctx = context();
    let mut client = socket_with(&ctx, |_| {});
    let endpoint = format!("ws://127.0.0.1:{port}/zmq");
    client.connect(&endpoint).unwrap();
    client
        .send_blocking(msg(&[b"hello"]))
        .map_err(|e| e.into_error())
        .unwrap();
    assert_eq!(client.recv_blocking().unwrap().first(), b"got it");
    client.disconnect(&endpoint).unwrap();
    assert_eq!(peer.join().unwrap(), CloseCode::Normal);
}

#[test]
fn heartbeats_without_mechanism_are_websocket_pings() {
    let ctx = context();
    let (mut server, events, mut ws) = server_and_client(&ctx, |o| {
        o.heartbeat_ivl = Some(std::time::Duration::from_millis(50));
        o.heartbeat_timeout = Some(std::time::Duration::from_millis(400));
    });
    // Idle for several timeouts, tungstenite answering the pings as it
    // reads: the pongs keep the connection up.
    let mut pings = 0;
    let until = Instant::now() + std::time::Duration::from_millis(1500);
    while Instant::now() < until {
        match ws.read().unwrap() {
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 3, "{pings} pings");
    ws.send(Message::binary(&b"\x00still here"[..])).unwrap();
    assert_eq!(server.recv_blocking().unwrap().first(), b"still here");
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, SocketEvent::Disconnected { .. }),
            "{event:?}"
        );
    }
}
