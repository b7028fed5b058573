//! The data path's WebSocket frames against tungstenite as the peer (an
//! implementation with no smolmq code in it): fragmented messages, ping and
//! pong, close, and a text message refused.

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use async_tungstenite::tungstenite::protocol::frame::Frame;
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
    let mut server = socket_with(&ctx, |_| {});
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();
    let mut ws = raw_client(&endpoint);

    // Routing ids first, both ways (ZWS2.0 without mechanism).
    ws.send(Message::binary(&b"\x00"[..])).unwrap();
    assert_eq!(next_binary(&mut ws), b"\x00");

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

    // A close is answered with a close.
    ws.close(None).unwrap();
    match ws.read() {
        Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => {}
        Ok(other) => panic!("unexpected {other:?}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn a_text_message_drops_the_connection() {
    let ctx = context();
    let mut server = socket_with(&ctx, |_| {});
    let events = server.monitor();
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();
    let mut ws = raw_client(&endpoint);
    ws.send(Message::binary(&b"\x00"[..])).unwrap();
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
}

#[test]
fn heartbeats_without_mechanism_are_websocket_pings() {
    let ctx = context();
    let mut server = socket_with(&ctx, |o| {
        o.heartbeat_ivl = Some(std::time::Duration::from_millis(50));
        o.heartbeat_timeout = Some(std::time::Duration::from_millis(400));
    });
    let events = server.monitor();
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();
    let mut ws = raw_client(&endpoint);
    ws.send(Message::binary(&b"\x00"[..])).unwrap();
    assert_eq!(next_binary(&mut ws), b"\x00");
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
