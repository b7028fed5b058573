//! Every socket pattern over ws://: PAIR, PUB / SUB, XPUB / XSUB,
//! DEALER / ROUTER, REQ / REP, PUSH / PULL, and PLAIN authentication.

use bytes::Bytes;
use smolmq_core::{Context, Error, MechanismConfig, Msg, Socket, SocketEvent};
use smolmq_tests::{frames, msg, options_with, recv_within, with_options, TIMEOUT};
use smolmq_zmtp::SocketType;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A context with tcp and ws.
fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
    ctx
}

/// A socket of `kind` with the test options.
fn socket(ctx: &Context, kind: SocketType) -> Socket {
    let socket = match kind {
        SocketType::Pair => ctx.socket(kind).unwrap(),
        SocketType::Pub | SocketType::Sub | SocketType::XPub | SocketType::XSub => {
            smolmq_pubsub::socket(ctx, kind).unwrap()
        }
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

/// Binds a ws endpoint on loopback; returns the endpoint to connect to.
fn bind(socket: &mut Socket) -> String {
    socket.bind("ws://127.0.0.1:0/zmq").unwrap();
    let endpoint = socket.last_endpoint().unwrap().to_string();
    assert!(endpoint.starts_with("ws://127.0.0.1:"), "{endpoint}");
    assert!(endpoint.ends_with("/zmq"), "{endpoint}");
    endpoint
}

fn send(socket: &mut Socket, m: Msg) {
    socket.send_blocking(m).map_err(|e| e.into_error()).unwrap();
}

#[test]
fn pair_both_ways_multipart_long_and_empty_frames() {
    let ctx = context();
    let mut server = socket(&ctx, SocketType::Pair);
    let endpoint = bind(&mut server);
    let mut client = socket(&ctx, SocketType::Pair);
    client.connect(&endpoint).unwrap();

    let big = vec![7u8; 100 * 1024];
    let cases: Vec<Msg> = vec![
        msg(&[b"hello"]),
        msg(&[b"a", b"", b"c"]),
        msg(&[b""]),
        msg(&[&[1u8; 300][..]]),
        msg(&[&big[..], b"tail"]),
    ];
    for m in &cases {
        send(&mut client, m.clone());
        assert_eq!(frames(&server.recv_blocking().unwrap()), frames(m));
        send(&mut server, m.clone());
        assert_eq!(frames(&client.recv_blocking().unwrap()), frames(m));
    }
    // Many in a row, in order, both ways at once.
    for i in 0..500u32 {
        send(&mut client, Msg::from(i.to_be_bytes().to_vec()));
        send(&mut server, Msg::from(i.to_be_bytes().to_vec()));
    }
    for i in 0..500u32 {
        assert_eq!(client.recv_blocking().unwrap().first(), &i.to_be_bytes());
        assert_eq!(server.recv_blocking().unwrap().first(), &i.to_be_bytes());
    }
}

#[test]
fn pub_sub_filters_by_topic() {
    let ctx = context();
    let mut publisher = socket(&ctx, SocketType::Pub);
    let endpoint = bind(&mut publisher);
    let mut subscriber = socket(&ctx, SocketType::Sub);
    subscriber.connect(&endpoint).unwrap();
    smolmq_pubsub::subscribe(&mut subscriber, b"news").unwrap();

    // The slow joiner: publish until the subscription has arrived.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "the subscription never arrived");
        send(&mut publisher, msg(&[b"weather", b"rain"]));
        send(&mut publisher, msg(&[b"news", b"probe"]));
        if recv_within(&mut subscriber, Duration::from_millis(50)).is_some() {
            break;
        }
    }
    while recv_within(&mut subscriber, Duration::from_millis(100)).is_some() {}
    send(&mut publisher, msg(&[b"weather", b"sun"]));
    send(&mut publisher, msg(&[b"news", b"today"]));
    let got = subscriber.recv_blocking().unwrap();
    assert_eq!(frames(&got), frames(&msg(&[b"news", b"today"])));

    // Cancelled: nothing more arrives.
    smolmq_pubsub::unsubscribe(&mut subscriber, b"news").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while smolmq_pubsub::topics_count(&mut publisher).unwrap() > 0 {
        assert!(Instant::now() < deadline, "the cancel never arrived");
        let _ = publisher.wait_activity(Some(Duration::from_millis(20)));
    }
    send(&mut publisher, msg(&[b"news", b"late"]));
    assert_eq!(
        recv_within(&mut subscriber, Duration::from_millis(200)),
        None
    );
}

#[test]
fn xpub_sees_subscriptions_from_an_xsub() {
    let ctx = context();
    let mut xpub = socket(&ctx, SocketType::XPub);
    let endpoint = bind(&mut xpub);
    let mut xsub = socket(&ctx, SocketType::XSub);
    xsub.connect(&endpoint).unwrap();
    send(&mut xsub, Msg::from(&b"\x01topic"[..]));
    assert_eq!(xpub.recv_blocking().unwrap().first(), b"\x01topic");
    send(&mut xpub, msg(&[b"topic", b"body"]));
    assert_eq!(
        frames(&xsub.recv_blocking().unwrap()),
        frames(&msg(&[b"topic", b"body"]))
    );
    send(&mut xsub, Msg::from(&b"\x00topic"[..]));
    assert_eq!(xpub.recv_blocking().unwrap().first(), b"\x00topic");
}

#[test]
fn dealer_router_with_routing_ids() {
    let ctx = context();
    let mut router = socket(&ctx, SocketType::Router);
    let endpoint = bind(&mut router);
    let mut dealer = with_options(smolmq_reqrep::dealer(&ctx), |o| {
        o.routing_id = Some(Bytes::from_static(b"d1"));
    });
    dealer.connect(&endpoint).unwrap();
    send(&mut dealer, msg(&[b"request"]));
    let got = router.recv_blocking().unwrap();
    assert_eq!(frames(&got), frames(&msg(&[b"d1", b"request"])));
    send(&mut router, msg(&[b"d1", b"reply"]));
    assert_eq!(
        frames(&dealer.recv_blocking().unwrap()),
        frames(&msg(&[b"reply"]))
    );
}

#[test]
fn req_rep_round_trips() {
    let ctx = context();
    let mut rep = socket(&ctx, SocketType::Rep);
    let endpoint = bind(&mut rep);
    let mut req = socket(&ctx, SocketType::Req);
    req.connect(&endpoint).unwrap();
    for i in 0..20 {
        send(&mut req, Msg::from(format!("ping {i}")));
        let got = rep.recv_blocking().unwrap();
        assert_eq!(got.first(), format!("ping {i}").as_bytes());
        send(&mut rep, Msg::from(format!("pong {i}")));
        let got = req.recv_blocking().unwrap();
        assert_eq!(got.first(), format!("pong {i}").as_bytes());
    }
}

#[test]
fn push_pull_in_order() {
    let ctx = context();
    let mut pull = socket(&ctx, SocketType::Pull);
    let endpoint = bind(&mut pull);
    let mut push = socket(&ctx, SocketType::Push);
    push.connect(&endpoint).unwrap();
    for i in 0..1000u32 {
        send(&mut push, Msg::from(i.to_le_bytes().to_vec()));
    }
    for i in 0..1000u32 {
        assert_eq!(pull.recv_blocking().unwrap().first(), &i.to_le_bytes());
    }
}

#[test]
fn plain_authentication_over_ws() {
    let ctx = context();
    let server_opts = options_with(|o| {
        o.mechanism = MechanismConfig::plain_server(|c: &smolmq_core::PlainCredentials| {
            if &c.username[..] == b"admin" && &c.password[..] == b"secret" {
                Ok(())
            } else {
                Err("wrong password".to_owned())
            }
        });
    });
    let mut server = ctx.socket(SocketType::Pair).unwrap();
    server.set_options(server_opts).unwrap();
    let events = server.monitor();
    let endpoint = bind(&mut server);

    // A wrong password: refused, nothing delivered.
    let mut bad = ctx.socket(SocketType::Pair).unwrap();
    bad.set_options(options_with(|o| {
        o.mechanism = MechanismConfig::plain_client("admin", "guess");
    }))
    .unwrap();
    bad.connect(&endpoint).unwrap();
    bad.try_send(Msg::from("intruder"))
        .map_err(|e| e.into_error())
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { .. }) => break,
            Ok(_) => {}
            Err(e) => panic!("no failed handshake: {e:?}"),
        }
    }
    drop(bad);

    let mut good = ctx.socket(SocketType::Pair).unwrap();
    good.set_options(options_with(|o| {
        o.mechanism = MechanismConfig::plain_client("admin", "secret");
    }))
    .unwrap();
    good.connect(&endpoint).unwrap();
    send(&mut good, Msg::from("welcome"));
    let got = server.recv_blocking().unwrap();
    assert_eq!(got.first(), b"welcome");
    assert!(matches!(server.try_recv(), Err(Error::WouldBlock)));
}

#[test]
fn heartbeats_keep_an_idle_connection() {
    let ctx = context();
    let tune = |o: &mut smolmq_core::SocketOptions| {
        o.heartbeat_ivl = Some(Duration::from_millis(50));
        o.heartbeat_timeout = Some(Duration::from_millis(300));
    };
    let mut server = with_options(ctx.socket(SocketType::Pair).unwrap(), tune);
    let events = server.monitor();
    let endpoint = bind(&mut server);
    let mut client = with_options(ctx.socket(SocketType::Pair).unwrap(), tune);
    client.connect(&endpoint).unwrap();
    send(&mut client, Msg::from("first"));
    assert_eq!(server.recv_blocking().unwrap().first(), b"first");
    // Idle for five timeouts: only the PINGs and PONGs keep it up.
    std::thread::sleep(Duration::from_millis(1500));
    send(&mut client, Msg::from("second"));
    assert_eq!(server.recv_blocking().unwrap().first(), b"second");
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, SocketEvent::Disconnected { .. }),
            "{event:?}"
        );
    }
}
