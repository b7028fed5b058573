//! JSON lines over tcp: connections coming, going and coming back, many at
//! once, timeouts, and the cleanup of closed connections (no leaked file
//! descriptors or I/O tasks).

mod jsonl;

use jsonl::*;
use smolmq::reqrep::{set_router_notify, NOTIFY_CONNECT, NOTIFY_DISCONNECT};
use smolmq::{Context, Msg, SocketEvent, SocketType};
use smolmq_tests::eventually;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener};
use std::thread;
use std::time::Duration;

/// File descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn arrivals_and_departures_are_visible() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    set_router_notify(&mut server, NOTIFY_CONNECT | NOTIFY_DISCONNECT).unwrap();
    let events = server.monitor();
    let mut c = client(&addr);
    wait_event(&events, "Accepted", |e| {
        matches!(e, SocketEvent::Accepted { .. })
    });
    // [id, ""] first, then the client's lines, then [id, ""] again.
    let (id, hello) = recv_routed(&mut server);
    assert_eq!(hello, b"");
    write(&mut c, b"{\"bye\":true}\n");
    assert_eq!(
        recv_routed(&mut server),
        (id.clone(), b"{\"bye\":true}".to_vec())
    );
    drop(c);
    assert_eq!(recv_routed(&mut server), (id, Vec::new()));
    let e = wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    let SocketEvent::Disconnected { endpoint, reason } = e else {
        unreachable!()
    };
    assert!(endpoint.to_string().starts_with("tcp+jsonl://"));
    assert!(reason.contains("peer closed"), "{reason}");
}

#[test]
fn router_notify_is_refused_elsewhere_and_checked() {
    let ctx = Context::new().unwrap();
    let mut dealer = ctx.socket(SocketType::Dealer).unwrap();
    assert!(set_router_notify(&mut dealer, NOTIFY_CONNECT).is_err());
    let mut router = ctx.socket(SocketType::Router).unwrap();
    assert!(set_router_notify(&mut router, 4).is_err());
    set_router_notify(&mut router, 0).unwrap();
}

#[test]
fn router_notify_works_over_zmtp_too() {
    let ctx = Context::new().unwrap();
    let mut server = socket(&ctx, SocketType::Router, |_| {});
    set_router_notify(&mut server, NOTIFY_CONNECT | NOTIFY_DISCONNECT).unwrap();
    server.bind("tcp://127.0.0.1:0").unwrap();
    let ep = server.last_endpoint().unwrap().to_string();
    let mut client = socket(&ctx, SocketType::Dealer, |o| {
        o.routing_id = Some(smolmq::Bytes::from_static(b"me"))
    });
    client.connect(&ep).unwrap();
    assert_eq!(recv_routed(&mut server), (b"me".to_vec(), Vec::new()));
    client.send_blocking(Msg::from("x")).unwrap();
    assert_eq!(recv_routed(&mut server), (b"me".to_vec(), b"x".to_vec()));
    drop(client);
    assert_eq!(recv_routed(&mut server), (b"me".to_vec(), Vec::new()));
}

#[test]
fn a_client_reconnects_after_the_server_drops_it() {
    // A plain server: answers one line per connection, then hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        for n in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
            let mut line = Vec::new();
            BufReader::new(conn.try_clone().unwrap())
                .read_until(b'\n', &mut line)
                .unwrap();
            let mut reply = format!("{{\"conn\":{n},\"got\":").into_bytes();
            reply.extend_from_slice(line.strip_suffix(b"\n").unwrap());
            reply.extend_from_slice(b"}\n");
            conn.write_all(&reply).unwrap();
            conn.shutdown(Shutdown::Both).unwrap();
        }
    });
    let ctx = Context::new().unwrap();
    let mut dealer = socket(&ctx, SocketType::Dealer, |_| {});
    let events = dealer.monitor();
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    dealer.send_blocking(Msg::from("{\"n\":1}")).unwrap();
    assert_eq!(
        smolmq_tests::text(&recv(&mut dealer)),
        "{\"conn\":0,\"got\":{\"n\":1}}"
    );
    wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    // Sent while disconnected: waits in the pipe, goes on the next
    // connection.
    dealer.send_blocking(Msg::from("{\"n\":2}")).unwrap();
    assert_eq!(
        smolmq_tests::text(&recv(&mut dealer)),
        "{\"conn\":1,\"got\":{\"n\":2}}"
    );
    server.join().unwrap();
}

#[test]
fn an_idle_connection_is_closed_and_a_receive_times_out() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |o| {
        o.idle_timeout = Some(Duration::from_millis(200));
        o.rcvtimeo = Some(Duration::from_millis(50));
    });
    let events = server.monitor();
    let mut c = client(&addr);
    write(&mut c, b"{\"then\":\"silence\"}\n");
    // Nothing more: the server closes the connection by itself.
    assert_eq!(read_to_end(&mut c), b"");
    let e = wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    let SocketEvent::Disconnected { reason, .. } = e else {
        unreachable!()
    };
    assert!(reason.contains("idle"), "{reason}");
    // The line before the silence was delivered; after it, a receive waits
    // RCVTIMEO and times out.
    assert_eq!(recv_routed(&mut server).1, b"{\"then\":\"silence\"}");
    assert!(server.recv_blocking().unwrap_err().is_timeout());
}

#[test]
fn ten_concurrent_clients_each_get_their_own_replies() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let clients: Vec<_> = (0..10)
        .map(|c| {
            let addr = addr.clone();
            thread::spawn(move || {
                let mut s = client(&addr);
                let mut r = reader(&s);
                let mut want = Vec::new();
                for i in 0..20 {
                    let line = format!("{{\"client\":{c},\"seq\":{i}}}\n");
                    write(&mut s, line.as_bytes());
                    want.extend_from_slice(line.as_bytes());
                }
                assert_eq!(read_exact(&mut r, want.len()), want, "client {c}");
            })
        })
        .collect();
    // Echo each line to the peer it came from.
    for _ in 0..200 {
        let (id, line) = recv_routed(&mut server);
        send_routed(&mut server, &id, &line);
    }
    for c in clients {
        c.join().unwrap();
    }
}

#[test]
fn a_thousand_concurrent_clients_then_no_leaks() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |o| o.backlog = 1024);
    set_router_notify(&mut server, NOTIFY_CONNECT | NOTIFY_DISCONNECT).unwrap();
    let fds = open_fds();
    let tasks = ctx.core().io_tasks();
    const N: usize = 1000;
    let mut clients: Vec<_> = (0..N).map(|_| client(&addr)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        write(c, format!("{{\"id\":{i}}}\n").as_bytes());
    }
    // Every client is announced, then its line arrives.
    let mut ids = HashMap::new();
    let mut lines = 0;
    while lines < N {
        let (id, line) = recv_routed(&mut server);
        if line.is_empty() {
            continue;
        }
        let n: usize = std::str::from_utf8(&line[6..line.len() - 1])
            .unwrap()
            .parse()
            .unwrap();
        assert!(ids.insert(n, id).is_none(), "one line per client");
        lines += 1;
    }
    assert_eq!(ids.len(), N);
    for (n, id) in &ids {
        send_routed(&mut server, id, format!("{{\"reply\":{n}}}").as_bytes());
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let want = format!("{{\"reply\":{i}}}\n");
        assert_eq!(read_exact(c, want.len()), want.as_bytes());
    }
    assert_eq!(server.peer_count(), N);
    clients.clear();
    // Every departure is announced, and everything is cleaned up.
    let mut gone = 0;
    while gone < N {
        let (_, line) = recv_routed(&mut server);
        assert!(line.is_empty());
        gone += 1;
    }
    eventually("closed connections cleaned up", || {
        open_fds() <= fds && ctx.core().io_tasks() <= tasks
    });
    assert_eq!(server.peer_count(), 0);
}

#[test]
fn closed_connections_leave_nothing_behind() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    // Warm up (the first connection may allocate lasting state).
    drop(client(&addr));
    eventually("warm-up cleaned up", || server.peer_count() == 0);
    let fds = open_fds();
    let tasks = ctx.core().io_tasks();
    for round in 0..50 {
        let mut c = client(&addr);
        let mut r = reader(&c);
        write(&mut c, format!("{{\"round\":{round}}}\n").as_bytes());
        let (id, line) = recv_routed(&mut server);
        send_routed(&mut server, &id, &line);
        let mut want = line.clone();
        want.push(b'\n');
        assert_eq!(read_line(&mut r), want);
    }
    eventually("every closed connection cleaned up", || {
        server.peer_count() == 0 && open_fds() <= fds && ctx.core().io_tasks() <= tasks
    });
    // A connecting socket's tasks go when it closes.
    let mut dealer = socket(&ctx, SocketType::Dealer, |o| {
        o.linger = Some(Duration::ZERO)
    });
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    dealer.send_blocking(Msg::from("{}")).unwrap();
    assert_eq!(recv_routed(&mut server).1, b"{}");
    drop(dealer);
    eventually("the dealer's connection cleaned up", || {
        server.peer_count() == 0 && open_fds() <= fds && ctx.core().io_tasks() <= tasks
    });
}

#[test]
fn idle_timeout_applies_to_zmtp_too() {
    let ctx = Context::new().unwrap();
    let mut server = socket(&ctx, SocketType::Pair, |o| {
        o.idle_timeout = Some(Duration::from_millis(100))
    });
    let events = server.monitor();
    server.bind("tcp://127.0.0.1:0").unwrap();
    let ep = server.last_endpoint().unwrap().to_string();
    let mut client = socket(&ctx, SocketType::Pair, |_| {});
    client.connect(&ep).unwrap();
    client.send_blocking(Msg::from("hello")).unwrap();
    assert_eq!(recv(&mut server), Msg::from("hello"));
    // Then silence (no heartbeats): the server drops the connection.
    let e = wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    let SocketEvent::Disconnected { reason, .. } = e else {
        unreachable!()
    };
    assert!(reason.contains("idle"), "{reason}");
}

#[test]
fn a_connect_that_hangs_times_out_and_is_retried() {
    // A listener that never accepts: once its accept queue is full, the
    // kernel drops new SYNs and a connect hangs (unless it is told to reset
    // them instead).
    let abort = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_abort_on_overflow");
    if abort.is_ok_and(|v| v.trim() != "0") {
        eprintln!("skipped: tcp_abort_on_overflow refuses instead of dropping");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    let mut full = false;
    for _ in 0..4096 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => fillers.push(s),
            Err(_) => {
                full = true;
                break;
            }
        }
    }
    assert!(full, "the accept queue never filled");
    let ctx = Context::new().unwrap();
    let mut dealer = socket(&ctx, SocketType::Dealer, |o| {
        o.connect_timeout = Some(Duration::from_millis(50));
        o.reconnect_ivl = Some(Duration::from_millis(10));
    });
    let events = dealer.monitor();
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    let e = wait_event(&events, "ConnectFailed", |e| {
        matches!(e, SocketEvent::ConnectFailed { .. })
    });
    let SocketEvent::ConnectFailed { reason, .. } = e else {
        unreachable!()
    };
    assert!(reason.contains("connect timeout"), "{reason}");
    wait_event(&events, "ConnectRetried", |e| {
        matches!(e, SocketEvent::ConnectRetried { .. })
    });
    drop(fillers);
}
