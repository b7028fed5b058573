//! wss://: every pattern over a WebSocket inside TLS (certificates made
//! at test time), a wrong CA and plain peers refused with clear reasons,
//! the listener unharmed, option mistakes reported by bind.

use smolmq_core::{Context, Msg, Socket, SocketEvent};
use smolmq_mailbox::Receiver;
use smolmq_tests::certs::Pki;
use smolmq_tests::{frames, msg, recv_within, with_options, TIMEOUT};
use smolmq_ws::tls::{set_tls, TlsOptions};
use smolmq_zmtp::SocketType;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
    ctx.add_transport(Arc::new(smolmq_ws::WssTransport::new()));
    ctx
}

fn socket(ctx: &Context, kind: SocketType) -> Socket {
    let socket = match kind {
        SocketType::Pair => ctx.socket(kind).unwrap(),
        SocketType::Pub | SocketType::Sub => smolmq_pubsub::socket(ctx, kind).unwrap(),
        SocketType::Push => smolmq_pipeline::push_socket(ctx),
        SocketType::Pull => smolmq_pipeline::pull_socket(ctx),
        SocketType::Dealer => smolmq_reqrep::dealer(ctx),
        SocketType::Router => smolmq_reqrep::router(ctx),
        SocketType::Req => smolmq_reqrep::req(ctx),
        SocketType::Rep => smolmq_reqrep::rep(ctx),
        other => panic!("no {other:?} here"),
    };
    with_options(socket, |_| {})
}

/// A server of `server` bound on wss with a certificate of `pki` for
/// localhost, and a client of `client` connected to it, trusting `trust`.
fn connected(
    ctx: &Context,
    pki: &Pki,
    trust: &Pki,
    server: SocketType,
    client: SocketType,
) -> (Socket, Socket) {
    let id = pki.issue(&["localhost"]);
    let mut s = socket(ctx, server);
    set_tls(&mut s, TlsOptions::server(id.cert_pem, id.key_pem)).unwrap();
    s.bind("wss://127.0.0.1:0/zmq").unwrap();
    let bound = s.last_endpoint().unwrap().to_string();
    assert!(
        bound.starts_with("wss://127.0.0.1:") && bound.ends_with("/zmq"),
        "{bound}"
    );
    let port = s.last_endpoint().unwrap().tcp_addr().unwrap().port();
    let mut c = socket(ctx, client);
    set_tls(&mut c, TlsOptions::client(trust.ca_pem())).unwrap();
    c.connect(&format!("wss://localhost:{port}/zmq")).unwrap();
    (s, c)
}

fn send(socket: &mut Socket, m: Msg) {
    socket.send_blocking(m).map_err(|e| e.into_error()).unwrap();
}

/// The next `HandshakeFailed` reason on `events`.
fn failed_reason(events: &Receiver<SocketEvent>) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => return reason,
            Ok(_) => {}
            Err(e) => panic!("no failed handshake: {e:?}"),
        }
    }
}

#[test]
fn every_pattern_over_wss() {
    let ctx = context();
    let pki = Pki::new("wss test CA");

    // PAIR, both ways, a large frame too.
    let (mut server, mut client) = connected(&ctx, &pki, &pki, SocketType::Pair, SocketType::Pair);
    let big = vec![3u8; 100 * 1024];
    for m in [msg(&[b"hello", b""]), msg(&[&big[..]])] {
        send(&mut client, m.clone());
        assert_eq!(frames(&server.recv_blocking().unwrap()), frames(&m));
        send(&mut server, m.clone());
        assert_eq!(frames(&client.recv_blocking().unwrap()), frames(&m));
    }

    // PUB / SUB.
    let (mut publisher, mut subscriber) =
        connected(&ctx, &pki, &pki, SocketType::Pub, SocketType::Sub);
    smolmq_pubsub::subscribe(&mut subscriber, b"news").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let got = loop {
        assert!(Instant::now() < deadline, "the subscription never arrived");
        send(&mut publisher, msg(&[b"weather", b"rain"]));
        send(&mut publisher, msg(&[b"news", b"today"]));
        if let Some(m) = recv_within(&mut subscriber, Duration::from_millis(50)) {
            break m;
        }
    };
    assert_eq!(frames(&got), frames(&msg(&[b"news", b"today"])));

    // DEALER / ROUTER.
    let (mut router, mut dealer) =
        connected(&ctx, &pki, &pki, SocketType::Router, SocketType::Dealer);
    send(&mut dealer, msg(&[b"request"]));
    let mut got = router.recv_blocking().unwrap();
    let id = got.pop_front().unwrap();
    assert_eq!(got.first(), b"request");
    let mut reply = msg(&[b"reply"]);
    reply.push_front(id);
    send(&mut router, reply);
    assert_eq!(dealer.recv_blocking().unwrap().first(), b"reply");

    // REQ / REP.
    let (mut rep, mut req) = connected(&ctx, &pki, &pki, SocketType::Rep, SocketType::Req);
    for i in 0..5 {
        send(&mut req, Msg::from(format!("ping {i}")));
        assert_eq!(
            rep.recv_blocking().unwrap().first(),
            format!("ping {i}").as_bytes()
        );
        send(&mut rep, Msg::from(format!("pong {i}")));
        assert_eq!(
            req.recv_blocking().unwrap().first(),
            format!("pong {i}").as_bytes()
        );
    }

    // PUSH / PULL, in order.
    let (mut pull, mut push) = connected(&ctx, &pki, &pki, SocketType::Pull, SocketType::Push);
    for i in 0..200u32 {
        send(&mut push, Msg::from(i.to_le_bytes().to_vec()));
    }
    for i in 0..200u32 {
        assert_eq!(pull.recv_blocking().unwrap().first(), &i.to_le_bytes());
    }
}

#[test]
fn a_wrong_ca_and_plain_peers_are_refused_and_the_listener_serves_on() {
    let ctx = context();
    let pki = Pki::new("the server's CA");
    let other = Pki::new("another CA");

    // A client trusting another CA refuses the server; nothing arrives.
    let (mut server, mut client) =
        connected(&ctx, &pki, &other, SocketType::Pair, SocketType::Pair);
    let server_events = server.monitor();
    let client_events = client.monitor();
    client
        .try_send(Msg::from("never"))
        .map_err(|e| e.into_error())
        .unwrap();
    let reason = failed_reason(&client_events);
    assert!(reason.contains("TLS handshake"), "{reason}");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    drop(client);
    // The server saw it fail too (the client's alert).
    let reason = failed_reason(&server_events);
    assert!(reason.contains("TLS handshake"), "{reason}");

    // A plain ws:// client on the wss:// endpoint.
    let port = server.last_endpoint().unwrap().tcp_addr().unwrap().port();
    let mut plain = socket(&ctx, SocketType::Pair);
    plain
        .connect(&format!("ws://127.0.0.1:{port}/zmq"))
        .unwrap();
    plain
        .try_send(Msg::from("plain"))
        .map_err(|e| e.into_error())
        .unwrap();
    let reason = failed_reason(&server_events);
    assert!(reason.contains("does not speak TLS"), "{reason}");
    drop(plain);

    // Nothing was delivered; a good client gets through.
    assert_eq!(recv_within(&mut server, Duration::from_millis(100)), None);
    let mut good = socket(&ctx, SocketType::Pair);
    set_tls(&mut good, TlsOptions::client(pki.ca_pem())).unwrap();
    good.connect(&format!("wss://localhost:{port}/zmq"))
        .unwrap();
    send(&mut good, Msg::from("hello"));
    assert_eq!(server.recv_blocking().unwrap().first(), b"hello");
}

#[test]
fn a_wss_client_refuses_a_plain_ws_server() {
    let ctx = context();
    let pki = Pki::new("CA");
    let mut server = socket(&ctx, SocketType::Pair);
    server.bind("ws://127.0.0.1:0/zmq").unwrap();
    let port = server.last_endpoint().unwrap().tcp_addr().unwrap().port();
    let mut client = socket(&ctx, SocketType::Pair);
    set_tls(&mut client, TlsOptions::client(pki.ca_pem())).unwrap();
    let events = client.monitor();
    client
        .connect(&format!("wss://localhost:{port}/zmq"))
        .unwrap();
    let reason = failed_reason(&events);
    assert!(reason.contains("TLS handshake"), "{reason}");
}

#[test]
fn option_mistakes_are_errors_of_bind_and_connect() {
    let ctx = context();
    // A server without a certificate.
    let mut server = socket(&ctx, SocketType::Pair);
    let err = server
        .bind("wss://127.0.0.1:0/zmq")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot bind wss://127.0.0.1:0/zmq"), "{err}");
    // A key that is not PEM.
    let pki = Pki::new("CA");
    let id = pki.issue(&["localhost"]);
    set_tls(&mut server, TlsOptions::server(id.cert_pem, "not a key")).unwrap();
    let err = server
        .bind("wss://127.0.0.1:0/zmq")
        .unwrap_err()
        .to_string();
    assert!(err.contains("key"), "{err}");
    // A client whose CA bundle is not PEM.
    let mut client = socket(&ctx, SocketType::Pair);
    set_tls(&mut client, TlsOptions::client("garbage")).unwrap();
    let err = client
        .connect("wss://localhost:1/zmq")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot connect to wss://localhost:1/zmq"),
        "{err}"
    );
}
