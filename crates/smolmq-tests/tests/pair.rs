//! PAIR sockets over inproc, ipc and tcp: what issue 4 asks of the socket
//! core, on every transport.

use bytes::Bytes;
use smolmq_core::{Error, Msg, SocketEvent};
use smolmq_tests::{bind, context, pair, socket_with, Transport, ALL, TIMEOUT};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Waits (bounded) for a monitor event matching `pred`.
fn expect_event(
    events: &smolmq_mailbox::Receiver<SocketEvent>,
    what: &str,
    pred: impl Fn(&SocketEvent) -> bool,
) -> SocketEvent {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(e) if pred(&e) => return e,
            Ok(_) => {}
            Err(e) => panic!("no {what} event: {e:?}"),
        }
    }
}

#[test]
fn sizes_from_empty_to_100_mib() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t);
        for size in [0usize, 64, 1 << 20, 100 << 20] {
            let body = Bytes::from(vec![(size % 251) as u8; size]);
            client.send_blocking(Msg::from(body.clone())).unwrap();
            let got = server.recv_blocking().unwrap();
            assert_eq!(got.size(), size, "{t:?}");
            assert!(got.first() == body, "{t:?}: {size} bytes corrupted");
            // And back.
            server.send_blocking(got).unwrap();
            assert_eq!(client.recv_blocking().unwrap().size(), size);
        }
    }
}

#[test]
fn multipart_of_1_to_100_frames() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t);
        for parts in 1..=100usize {
            let msg =
                Msg::from_frames((0..parts).map(|p| Bytes::from(vec![p as u8; p % 7]))).unwrap();
            client.send_blocking(msg.clone()).unwrap();
            assert_eq!(server.recv_blocking().unwrap(), msg, "{t:?}");
        }
    }
}

#[test]
fn a_message_over_maxmsgsize_drops_the_peer_with_an_event() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut server = socket_with(&ctx, |o| o.maxmsgsize = Some(1000));
        let events = server.monitor();
        let endpoint = bind(&mut server, t);
        let mut client = socket_with(&ctx, |_| {});
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from(vec![1u8; 1000])).unwrap();
        client.send_blocking(Msg::from(vec![2u8; 1001])).unwrap();
        assert_eq!(server.recv_blocking().unwrap().size(), 1000, "{t:?}");
        let e = expect_event(&events, "disconnected", |e| {
            matches!(e, SocketEvent::Disconnected { .. })
        });
        let SocketEvent::Disconnected { reason, .. } = e else {
            unreachable!()
        };
        assert!(reason.contains("1001"), "{t:?}: {reason}");
        // The client reconnects; later messages within the limit arrive
        // (one sent while the old connection was going down may be lost).
        await_delivery(&mut client, &mut server, t);
    }
}

/// Sends numbered messages until the server receives one: the client has
/// (re)connected. Messages sent into a connection that was going down may
/// be lost, as in libzmq.
fn await_delivery(
    client: &mut smolmq_core::Socket,
    server: &mut smolmq_core::Socket,
    t: Transport,
) {
    let mut opts = server.options().clone();
    let saved = opts.rcvtimeo;
    opts.rcvtimeo = Some(Duration::from_millis(100));
    server.set_options(opts.clone()).unwrap();
    let since = Instant::now();
    let mut n = 0u32;
    loop {
        client
            .send_blocking(Msg::from(format!("after {n}")))
            .unwrap();
        n += 1;
        match server.recv_blocking() {
            Ok(m) if m.first().starts_with(b"after") => break,
            Ok(_) | Err(Error::Timeout) => {}
            Err(e) => panic!("{t:?}: {e}"),
        }
        assert!(since.elapsed() < TIMEOUT, "{t:?}: never reconnected");
    }
    opts.rcvtimeo = saved;
    server.set_options(opts).unwrap();
}

#[test]
fn garbage_client_is_dropped_and_the_listener_keeps_serving() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut server = socket_with(&ctx, |_| {});
        let events = server.monitor();
        let endpoint = bind(&mut server, t);
        // A raw client that sends garbage instead of a greeting.
        let mut raw: Box<dyn ReadWrite> = match t {
            Transport::Tcp => Box::new(
                std::net::TcpStream::connect(endpoint.trim_start_matches("tcp://")).unwrap(),
            ),
            Transport::Ipc => Box::new(
                std::os::unix::net::UnixStream::connect(endpoint.trim_start_matches("ipc://"))
                    .unwrap(),
            ),
            Transport::Inproc => unreachable!(),
        };
        raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        expect_event(&events, "handshake failed", |e| {
            matches!(e, SocketEvent::HandshakeFailed { .. })
        });
        // The server closed the garbage connection.
        let mut rest = Vec::new();
        let _ = raw.read_to_end(&mut rest);
        // A real client is served.
        let mut client = socket_with(&ctx, |_| {});
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("real")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("real"), "{t:?}");
    }
}

/// A byte stream of either kind.
trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

#[test]
fn the_connected_side_carries_on_after_the_bound_side_rebinds() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut server = socket_with(&ctx, |_| {});
        let endpoint = bind(&mut server, t);
        let mut client = socket_with(&ctx, |_| {});
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("before")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("before"));
        drop(server);
        // The client keeps sending while nobody is bound; these may be lost
        // (see the docs: messages in flight when a peer goes are lost).
        for _ in 0..10 {
            let _ = client.try_send(Msg::from("in between"));
        }
        let mut server = socket_with(&ctx, |_| {});
        server.bind(&endpoint).unwrap();
        // The client reconnects and its new messages arrive.
        await_delivery(&mut client, &mut server, t);
    }
}

#[test]
fn two_hundred_clients_on_one_listener() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut server = socket_with(&ctx, |_| {});
        let endpoint = bind(&mut server, t);
        let mut clients: Vec<_> = (0..200)
            .map(|_| {
                let mut c = socket_with(&ctx, |o| {
                    o.reconnect_ivl = Some(Duration::from_millis(200));
                    // Refused clients keep a queued message; with the default
                    // LINGER they would keep retrying to deliver it after
                    // being dropped (as libzmq's would).
                    o.linger = Some(Duration::ZERO);
                });
                c.connect(&endpoint).unwrap();
                c
            })
            .collect();
        for (i, c) in clients.iter_mut().enumerate() {
            let _ = c.try_send(Msg::from(format!("client {i}")));
        }
        // PAIR serves exactly one of them.
        let first = server.recv_blocking().unwrap();
        assert!(first.first().starts_with(b"client "), "{t:?}");
        drop(clients);
        // The listener is still healthy after the storm. (A message sent on
        // a connection the PAIR refuses, while it still drains a departed
        // peer, is lost with that connection: keep sending until one
        // arrives.)
        let mut late = socket_with(&ctx, |_| {});
        late.connect(&endpoint).unwrap();
        await_delivery(&mut late, &mut server, t);
    }
}

#[test]
fn close_with_messages_queued_delivers_them_with_default_linger() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t);
        for i in 0..1000u32 {
            client.send_blocking(Msg::from(i.to_string())).unwrap();
        }
        drop(client);
        for i in 0..1000u32 {
            assert_eq!(
                server.recv_blocking().unwrap(),
                Msg::from(i.to_string()),
                "{t:?}"
            );
        }
    }
}

#[test]
fn close_with_zero_linger_does_not_wait_for_an_absent_peer() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        // Bind to learn a free endpoint, then close it: nobody listens there.
        let mut probe = socket_with(&ctx, |_| {});
        let endpoint = bind(&mut probe, t);
        drop(probe);
        let mut client = socket_with(&ctx, |o| o.linger = Some(Duration::ZERO));
        client.connect(&endpoint).unwrap();
        for _ in 0..10 {
            client.try_send(Msg::from("queued")).unwrap();
        }
        let since = Instant::now();
        drop(client);
        drop(ctx);
        assert!(since.elapsed() < TIMEOUT, "{t:?}: close waited");
    }
}

#[test]
fn monitor_sees_the_connection_life_cycle() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut server = socket_with(&ctx, |_| {});
        let events = server.monitor();
        let endpoint = bind(&mut server, t);
        let mut client = socket_with(&ctx, |_| {});
        let client_events = client.monitor();
        client.connect(&endpoint).unwrap();
        expect_event(&events, "listening", |e| {
            matches!(e, SocketEvent::Listening { .. })
        });
        expect_event(&events, "accepted", |e| {
            matches!(e, SocketEvent::Accepted { .. })
        });
        expect_event(&events, "handshake", |e| {
            matches!(e, SocketEvent::HandshakeSucceeded { .. })
        });
        expect_event(&client_events, "connected", |e| {
            matches!(e, SocketEvent::Connected { .. })
        });
        drop(client);
        expect_event(&events, "disconnected", |e| {
            matches!(e, SocketEvent::Disconnected { .. })
        });
    }
}

#[test]
fn last_endpoint_reports_the_port_chosen() {
    let ctx = context();
    let mut s = socket_with(&ctx, |_| {});
    s.bind("tcp://127.0.0.1:0").unwrap();
    let ep = s.last_endpoint().unwrap().to_string();
    assert!(ep.starts_with("tcp://127.0.0.1:"), "{ep}");
    assert!(!ep.ends_with(":0"), "{ep}");
}
