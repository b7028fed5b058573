//! JSON lines: errors are clear, nothing is half written, and connections
//! recover: sends that cannot be a line, sends to a peer that left, bad
//! endpoints, a server that goes away and comes back, and a connector
//! that runs out of attempts.

mod jsonl;

use jsonl::*;
use smolmq::reqrep::{set_router_mandatory, set_router_notify, NOTIFY_CONNECT, NOTIFY_DISCONNECT};
use smolmq::{Context, Error, Msg, SocketEvent, SocketType};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::Duration;

#[test]
fn a_message_that_cannot_be_a_line_is_refused_whole() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    set_router_notify(&mut server, NOTIFY_CONNECT).unwrap();
    let mut c = client(&addr);
    let mut r = reader(&c);
    let (id, _) = recv_routed(&mut server);
    let bad: [&[&[u8]]; 5] = [
        &[&id, b"two\nlines"],
        &[&id, b"{\"cr\":1}\r"],
        &[&id, b""],
        &[&id, b"{\"a\":1}", b"{\"b\":2}"],
        &[&id],
    ];
    for frames in bad {
        let err = server.try_send(smolmq_tests::msg(frames)).unwrap_err();
        assert!(matches!(err.error(), Error::NotALine(_)), "{err}");
        // The message comes back as it was.
        assert_eq!(smolmq_tests::frames(&err.into_msg()), frames);
    }
    // Nothing of them reached the wire: the next line is the first.
    send_routed(&mut server, &id, b"{\"fine\":true}");
    assert_eq!(read_line(&mut r), b"{\"fine\":true}\n");
    write(&mut c, b"{}\n");
    assert_eq!(recv_routed(&mut server).1, b"{}");

    // A client socket: one frame per message.
    let mut dealer = socket(&ctx, SocketType::Dealer, |_| {});
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    let two = smolmq_tests::msg(&[b"a", b"b"]);
    let err = dealer.send_blocking(two).unwrap_err();
    assert!(err.to_string().contains("2 frames"), "{err}");
}

#[test]
fn send_to_a_client_that_left() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    set_router_notify(&mut server, NOTIFY_CONNECT | NOTIFY_DISCONNECT).unwrap();
    let c = client(&addr);
    let (id, _) = recv_routed(&mut server);
    drop(c);
    assert_eq!(recv_routed(&mut server), (id.clone(), Vec::new()));
    // Without ROUTER_MANDATORY a ROUTER drops what it cannot route (as
    // libzmq); with it, the send fails and says so.
    send_routed(&mut server, &id, b"{\"late\":1}");
    set_router_mandatory(&mut server, true).unwrap();
    let err = server
        .send_blocking(smolmq_tests::msg(&[&id, b"{\"late\":2}"]))
        .unwrap_err();
    assert!(matches!(err.error(), Error::Unroutable), "{err}");
}

#[test]
fn bad_endpoints_are_refused_with_a_reason() {
    let ctx = Context::new().unwrap();
    let mut s = ctx.socket(SocketType::Dealer).unwrap();
    for (ep, says) in [
        ("tcp+jsonl://", "tcp"),
        ("udp+jsonl://127.0.0.1:1", "unknown transport"),
        ("inproc+jsonl://x", "unknown transport"),
        ("tcp+jsonl://127.0.0.1:0", "port 0"),
        ("tcp+jsonl://*:4000", "every local interface"),
        ("tcp+jsonl://127.0.0.1:99999", "port"),
    ] {
        let err = s.connect(ep).unwrap_err();
        assert!(matches!(err, Error::Endpoint(_)), "{ep}: {err}");
        assert!(err.to_string().contains(says), "{ep}: {err}");
    }
    // An address in use.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp+jsonl://{}", taken.local_addr().unwrap());
    let mut r = ctx.socket(SocketType::Router).unwrap();
    let err = r.bind(&ep).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == std::io::ErrorKind::AddrInUse),
        "{err}"
    );
}

#[test]
fn a_client_recovers_when_its_server_comes_back() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ctx = Context::new().unwrap();
    let mut dealer = socket(&ctx, SocketType::Dealer, |o| {
        o.reconnect_ivl = Some(Duration::from_millis(10));
        o.reconnect_ivl_max = Duration::from_millis(100);
        o.reconnect_jitter = 50;
    });
    let events = dealer.monitor();
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    let (conn, _) = listener.accept().unwrap();
    // The server goes away, connection and listener: a network error for
    // the client, then refused connections.
    drop(conn);
    drop(listener);
    wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    wait_event(&events, "ConnectFailed", |e| {
        matches!(e, SocketEvent::ConnectFailed { .. })
    });
    // Sent while the server is away: queued.
    dealer
        .send_blocking(Msg::from("{\"queued\":true}"))
        .unwrap();
    // The backoff doubles from 10 ms up to 100 ms, each wait shortened by
    // up to half (the jitter), never lengthened.
    for _ in 0..3 {
        let e = wait_event(&events, "ConnectRetried", |e| {
            matches!(e, SocketEvent::ConnectRetried { .. })
        });
        let SocketEvent::ConnectRetried { delay, .. } = e else {
            unreachable!()
        };
        assert!(delay >= Duration::from_millis(5) && delay <= Duration::from_millis(100));
    }
    // The server is back on the same port: the queued line arrives.
    let listener = TcpListener::bind(addr).unwrap();
    let (conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
    let mut line = Vec::new();
    BufReader::new(conn.try_clone().unwrap())
        .read_until(b'\n', &mut line)
        .unwrap();
    assert_eq!(line, b"{\"queued\":true}\n");
    (&conn).write_all(b"{\"welcome\":\"back\"}\n").unwrap();
    assert_eq!(recv(&mut dealer), Msg::from("{\"welcome\":\"back\"}"));
}

#[test]
fn a_connector_gives_up_after_its_attempts() {
    // A port with nobody listening.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ep = format!("tcp+jsonl://{addr}");
    let ctx = Context::new().unwrap();
    let mut dealer = socket(&ctx, SocketType::Dealer, |o| {
        o.reconnect_ivl = Some(Duration::from_millis(5));
        o.reconnect_max_attempts = Some(3);
    });
    let events = dealer.monitor();
    dealer.connect(&ep).unwrap();
    // Queued before the connector gives up: dropped with its pipe.
    dealer.send_blocking(Msg::from("{\"lost\":true}")).unwrap();
    let mut failed = 0;
    let e = wait_event(&events, "ConnectGaveUp", |e| {
        failed += usize::from(matches!(e, SocketEvent::ConnectFailed { .. }));
        matches!(e, SocketEvent::ConnectGaveUp { .. })
    });
    assert_eq!(failed, 3);
    let SocketEvent::ConnectGaveUp {
        endpoint,
        attempts,
        reason,
    } = e
    else {
        unreachable!()
    };
    assert_eq!(endpoint.to_string(), ep);
    assert_eq!(attempts, 3);
    assert!(!reason.is_empty());
    // With no peer and nothing left to connect, sends and receives fail at
    // once (not after SNDTIMEO / RCVTIMEO) and say why.
    let err = dealer.send_blocking(Msg::from("{}")).unwrap_err();
    assert!(
        matches!(err.error(), Error::ConnectGaveUp { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("gave up connecting"), "{err}");
    let err = dealer.recv_blocking().unwrap_err();
    assert!(matches!(err, Error::ConnectGaveUp { .. }), "{err}");
    // A new connect makes the socket usable again.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    dealer
        .connect(&format!("tcp+jsonl://{}", listener.local_addr().unwrap()))
        .unwrap();
    dealer.send_blocking(Msg::from("{\"again\":1}")).unwrap();
    let (conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
    let mut line = Vec::new();
    BufReader::new(conn).read_until(b'\n', &mut line).unwrap();
    assert_eq!(line, b"{\"again\":1}\n");
}

#[test]
fn zmtp_connectors_give_up_too() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ctx = Context::new().unwrap();
    let mut pair = socket(&ctx, SocketType::Pair, |o| {
        o.reconnect_ivl = Some(Duration::from_millis(5));
        o.reconnect_max_attempts = Some(2);
    });
    let events = pair.monitor();
    pair.connect(&format!("tcp://{addr}")).unwrap();
    wait_event(&events, "ConnectGaveUp", |e| {
        matches!(e, SocketEvent::ConnectGaveUp { attempts: 2, .. })
    });
    // Only the connector that gave up is gone: the same endpoint can be
    // connected again (and given up on again).
    pair.connect(&format!("tcp://{addr}")).unwrap();
    wait_event(&events, "ConnectGaveUp", |e| {
        matches!(e, SocketEvent::ConnectGaveUp { attempts: 2, .. })
    });
    assert!(matches!(
        pair.recv_blocking().unwrap_err(),
        Error::ConnectGaveUp { .. }
    ));
}

#[test]
fn socket_types_without_a_line_form_are_refused() {
    let ctx = Context::new().unwrap();
    for kind in [
        SocketType::Req,
        SocketType::Rep,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::XPub,
        SocketType::XSub,
    ] {
        let mut s = ctx.socket(kind).unwrap();
        let err = s.bind("tcp+jsonl://127.0.0.1:0").unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{kind}: {err}");
        let err = s.connect("tcp+jsonl://127.0.0.1:1").unwrap_err();
        assert!(
            err.to_string().contains("one-frame messages"),
            "{kind}: {err}"
        );
    }
    // PUSH / PULL: one-frame messages both ways.
    let mut pull = socket(&ctx, SocketType::Pull, |_| {});
    pull.bind("tcp+jsonl://127.0.0.1:0").unwrap();
    let mut push = socket(&ctx, SocketType::Push, |_| {});
    push.connect(&pull.last_endpoint().unwrap().to_string())
        .unwrap();
    push.send_blocking(Msg::from("{\"job\":1}")).unwrap();
    assert_eq!(recv(&mut pull), Msg::from("{\"job\":1}"));
}
