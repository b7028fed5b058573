//! The tcp transport over loopback: bind, connect, accept, options and
//! errors. Every wait is bounded by [`LIMIT`].

use async_io::{Async, Timer};
use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use rustix::net::sockopt;
use smolmq_core::transport::{accept, Transport};
use smolmq_core::{Endpoint, SocketOptions, TcpKeepalive, LOOPBACK_SNDBUF};
use smolmq_tcp::{TcpListener, TcpTransport};
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// The most any test waits for anything.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `fut` on this thread, failing the test if it takes over [`LIMIT`].
fn run<T>(fut: impl Future<Output = T>) -> T {
    async_io::block_on(future::or(async { Some(fut.await) }, async {
        Timer::after(LIMIT).await;
        None
    }))
    .expect("the test timed out")
}

fn ep(text: &str) -> Endpoint {
    Endpoint::parse(text).unwrap()
}

fn opts() -> SocketOptions {
    SocketOptions::default()
}

/// Binds `[::1]:0`, or `None` (the test is skipped) where the machine has
/// no IPv6 loopback.
fn bind_ipv6_loopback(options: &SocketOptions) -> Option<TcpListener> {
    match TcpListener::bind(&ep("tcp://[::1]:0"), options) {
        Ok(listener) => Some(listener),
        Err(err) => {
            eprintln!("skipped: no IPv6 loopback here ({err})");
            None
        }
    }
}

/// Sends `data` from `a` to `b` and `reply` back, checking both arrive.
async fn exchange<A, B>(a: &mut A, b: &mut B, data: &[u8], reply: &[u8])
where
    A: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + ?Sized,
    B: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + ?Sized,
{
    a.write_all(data).await.unwrap();
    a.flush().await.unwrap();
    let mut got = vec![0; data.len()];
    b.read_exact(&mut got).await.unwrap();
    assert_eq!(got, data);
    b.write_all(reply).await.unwrap();
    b.flush().await.unwrap();
    let mut got = vec![0; reply.len()];
    a.read_exact(&mut got).await.unwrap();
    assert_eq!(got, reply);
}

#[test]
fn scheme_is_tcp() {
    assert_eq!(TcpTransport.scheme(), "tcp");
}

#[test]
fn port_zero_binds_a_real_port_shown_in_the_endpoint() {
    let listener = TcpTransport
        .bind(&ep("tcp://127.0.0.1:0"), &opts())
        .unwrap();
    let Endpoint::Tcp(addr) = listener.local_endpoint() else {
        panic!("not a tcp endpoint: {}", listener.local_endpoint());
    };
    assert_ne!(addr.port(), 0);
    assert_eq!(
        listener.local_endpoint().to_string(),
        format!("tcp://127.0.0.1:{}", addr.port())
    );
    // `*` as a port is the same as 0.
    let star = TcpListener::bind(&ep("tcp://127.0.0.1:*"), &opts()).unwrap();
    assert_ne!(star.local_addr().port(), 0);
}

#[test]
fn ipv6_loopback_binds_and_carries_bytes() {
    let Some(listener) = bind_ipv6_loopback(&opts()) else {
        return;
    };
    let port = listener.local_addr().port();
    assert_ne!(port, 0);
    assert_eq!(
        listener.local_endpoint().to_string(),
        format!("tcp://[::1]:{port}")
    );
    run(async {
        let mut client = TcpTransport
            .connect(listener.local_endpoint(), &opts())
            .await
            .unwrap();
        let (mut server, peer) = listener.accept_stream().await.unwrap();
        assert_eq!(peer.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(client.peer, format!("[::1]:{port}"));
        exchange(&mut *client.stream, &mut server, b"over six", b"and back").await;
    });
}

#[test]
fn connect_accept_and_exchange_both_ways() {
    let mut listener = TcpTransport
        .bind(&ep("tcp://127.0.0.1:0"), &opts())
        .unwrap();
    let bound = listener.local_endpoint().clone();
    run(async {
        let mut client = TcpTransport.connect(&bound, &opts()).await.unwrap();
        let mut server = accept(&mut *listener).await.unwrap();
        // Each side names the other.
        assert_eq!(format!("tcp://{}", client.peer), bound.to_string());
        assert!(server.peer.starts_with("127.0.0.1:"), "{}", server.peer);
        assert_ne!(server.peer, client.peer);

        exchange(&mut *client.stream, &mut *server.stream, b"hello", b"world").await;
        exchange(&mut *server.stream, &mut *client.stream, &[0u8; 0], b"x").await;

        // A larger transfer in both directions at once.
        let big: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let (mut c_read, mut c_write) = futures_lite::io::split(client.stream);
        let (mut s_read, mut s_write) = futures_lite::io::split(server.stream);
        let send_c = async {
            c_write.write_all(&big).await.unwrap();
            c_write.flush().await.unwrap();
        };
        let send_s = async {
            s_write.write_all(&big).await.unwrap();
            s_write.flush().await.unwrap();
        };
        let recv_c = async {
            let mut got = vec![0; big.len()];
            c_read.read_exact(&mut got).await.unwrap();
            got
        };
        let recv_s = async {
            let mut got = vec![0; big.len()];
            s_read.read_exact(&mut got).await.unwrap();
            got
        };
        // All four at once: neither side's writes wait for its own reads.
        let (((), ()), (at_client, at_server)) =
            future::zip(future::zip(send_c, send_s), future::zip(recv_c, recv_s)).await;
        assert!(at_client == big && at_server == big);
    });
}

#[test]
fn many_connections_are_accepted() {
    let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
    run(async {
        let mut clients = Vec::new();
        for _ in 0..64 {
            clients.push(
                smolmq_tcp::connect(listener.local_endpoint(), &opts())
                    .await
                    .unwrap(),
            );
        }
        let mut peers = Vec::new();
        for _ in 0..64 {
            let (_stream, peer) = listener.accept_stream().await.unwrap();
            peers.push(peer);
        }
        let mut expected: Vec<SocketAddr> = clients
            .iter()
            .map(|(stream, _)| stream.get_ref().local_addr().unwrap())
            .collect();
        expected.sort();
        peers.sort();
        assert_eq!(peers, expected);
    });
}

#[test]
fn wildcard_binds_every_ipv4_interface() {
    let listener = TcpListener::bind(&ep("tcp://*:0"), &opts()).unwrap();
    let port = listener.local_addr().port();
    assert_eq!(
        listener.local_endpoint().to_string(),
        format!("tcp://0.0.0.0:{port}")
    );
    run(async {
        let target = ep(&format!("tcp://127.0.0.1:{port}"));
        let (mut client, _) = smolmq_tcp::connect(&target, &opts()).await.unwrap();
        let (mut server, _) = listener.accept_stream().await.unwrap();
        exchange(&mut client, &mut server, b"any", b"where").await;
    });
}

#[test]
fn wildcard_with_ipv6_is_dual_stack() {
    let options = SocketOptions {
        ipv6: true,
        ..opts()
    };
    if bind_ipv6_loopback(&options).is_none() {
        return;
    }
    let listener = TcpListener::bind(&ep("tcp://*:0"), &options).unwrap();
    let port = listener.local_addr().port();
    assert_eq!(
        listener.local_endpoint().to_string(),
        format!("tcp://[::]:{port}")
    );
    run(async {
        for host in ["127.0.0.1", "[::1]"] {
            let target = ep(&format!("tcp://{host}:{port}"));
            let (mut client, _) = smolmq_tcp::connect(&target, &options).await.unwrap();
            let (mut server, _) = listener.accept_stream().await.unwrap();
            exchange(&mut client, &mut server, host.as_bytes(), b"ok").await;
        }
    });
}

#[test]
fn host_names_are_resolved_for_bind_and_connect() {
    // `localhost` comes from the hosts file: no network involved.
    let listener = TcpListener::bind(&ep("tcp://localhost:0"), &opts()).unwrap();
    let port = listener.local_addr().port();
    // IPv4 only unless the ipv6 option is on.
    assert!(listener.local_addr().is_ipv4());
    assert_eq!(
        listener.local_endpoint().to_string(),
        format!("tcp://{}:{port}", listener.local_addr().ip())
    );
    run(async {
        let target = ep(&format!("tcp://localhost:{port}"));
        let (mut client, peer) = smolmq_tcp::connect(&target, &opts()).await.unwrap();
        assert_eq!(peer, listener.local_addr());
        let (mut server, _) = listener.accept_stream().await.unwrap();
        exchange(&mut client, &mut server, b"by name", b"ok").await;
    });
}

#[test]
fn binding_a_port_in_use_fails_with_addr_in_use_naming_the_endpoint() {
    let first = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
    let taken = first.local_endpoint().clone();
    let err = TcpTransport.bind(&taken, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    assert!(
        err.to_string().contains(&format!("cannot bind {taken}")),
        "{err}"
    );
    // The first listener is untouched.
    run(async {
        let _client = smolmq_tcp::connect(&taken, &opts()).await.unwrap();
        first.accept_stream().await.unwrap();
    });
}

#[test]
fn a_port_can_be_bound_again_while_old_connections_linger() {
    let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
    assert!(sockopt::socket_reuseaddr(&listener).unwrap());
    let bound = listener.local_endpoint().clone();
    run(async {
        let (mut client, _) = smolmq_tcp::connect(&bound, &opts()).await.unwrap();
        let (server, _) = listener.accept_stream().await.unwrap();
        // The server closes first: its side of the connection enters
        // TIME_WAIT, holding the port.
        drop(server);
        let mut buf = [0; 1];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        drop(client);
    });
    drop(listener);
    let again = TcpListener::bind(&bound, &opts()).unwrap();
    assert_eq!(again.local_endpoint(), &bound);
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let closed = {
        let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
        listener.local_endpoint().clone()
    };
    let err = run(TcpTransport.connect(&closed, &opts())).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("cannot connect to {closed}")),
        "{err}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connect_timeout_expires_when_the_listener_backlog_is_full() {
    // With a backlog of 0, Linux queues one connection and then drops
    // further SYNs, so a later connect hangs until its timeout.
    let listener = TcpListener::bind(
        &ep("tcp://127.0.0.1:0"),
        &SocketOptions {
            backlog: 0,
            ..opts()
        },
    )
    .unwrap();
    let options = SocketOptions {
        connect_timeout: Some(Duration::from_millis(300)),
        ..opts()
    };
    let bound = listener.local_endpoint().clone();
    let mut held = Vec::new();
    let err = run(async {
        for _ in 0..16 {
            match smolmq_tcp::connect(&bound, &options).await {
                Ok(stream) => held.push(stream),
                Err(err) => return err,
            }
        }
        panic!("16 connections completed into a backlog of 0");
    });
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot connect to {bound}")),
        "{text}"
    );
    assert!(text.contains("connect timeout"), "{text}");
}

#[test]
fn connect_timeout_does_not_hurt_a_quick_connect() {
    let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
    let options = SocketOptions {
        connect_timeout: Some(Duration::from_secs(5)),
        ..opts()
    };
    run(async {
        let (mut client, _) = smolmq_tcp::connect(listener.local_endpoint(), &options)
            .await
            .unwrap();
        let (mut server, _) = listener.accept_stream().await.unwrap();
        exchange(&mut client, &mut server, b"quick", b"yes").await;
    });
}

/// A connected and an accepted stream over loopback, both made with
/// `options`.
fn connected_pair(options: &SocketOptions) -> (Async<TcpStream>, Async<TcpStream>) {
    let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), options).unwrap();
    run(async {
        let (client, _) = smolmq_tcp::connect(listener.local_endpoint(), options)
            .await
            .unwrap();
        let (server, _) = listener.accept_stream().await.unwrap();
        (client, server)
    })
}

#[test]
fn tcp_nodelay_is_set_on_both_sides() {
    let (client, server) = connected_pair(&opts());
    assert!(sockopt::tcp_nodelay(&client).unwrap(), "connected stream");
    assert!(sockopt::tcp_nodelay(&server).unwrap(), "accepted stream");
}

#[test]
fn tcp_nodelay_off_is_left_off() {
    let options = SocketOptions {
        tcp_nodelay: false,
        ..opts()
    };
    let (client, server) = connected_pair(&options);
    assert!(!sockopt::tcp_nodelay(&client).unwrap());
    assert!(!sockopt::tcp_nodelay(&server).unwrap());
}

#[test]
fn keepalive_on_applies_its_settings_to_both_sides() {
    let options = SocketOptions {
        tcp_keepalive: TcpKeepalive::On,
        tcp_keepalive_idle: Some(Duration::from_secs(42)),
        tcp_keepalive_cnt: Some(7),
        tcp_keepalive_intvl: Some(Duration::from_secs(9)),
        ..opts()
    };
    let (client, server) = connected_pair(&options);
    for (side, stream) in [("connected", &client), ("accepted", &server)] {
        assert!(sockopt::socket_keepalive(stream).unwrap(), "{side}");
        assert_eq!(
            sockopt::tcp_keepidle(stream).unwrap(),
            Duration::from_secs(42),
            "{side}"
        );
        assert_eq!(sockopt::tcp_keepcnt(stream).unwrap(), 7, "{side}");
        assert_eq!(
            sockopt::tcp_keepintvl(stream).unwrap(),
            Duration::from_secs(9),
            "{side}"
        );
    }
}

/// What the kernel reports for a buffer size it was given: Linux doubles
/// it (for its bookkeeping), other systems report it as given.
fn reported(size: u32) -> usize {
    if cfg!(target_os = "linux") {
        2 * size as usize
    } else {
        size as usize
    }
}

#[test]
fn loopback_connections_get_the_loopback_send_buffer() {
    let (client, server) = connected_pair(&opts());
    for (side, stream) in [("connected", &client), ("accepted", &server)] {
        assert_eq!(
            sockopt::socket_send_buffer_size(stream).unwrap(),
            reported(LOOPBACK_SNDBUF),
            "{side}"
        );
    }
}

#[test]
fn chosen_buffer_sizes_are_applied_to_both_sides() {
    let options = SocketOptions {
        sndbuf: Some(96 * 1024),
        rcvbuf: Some(80 * 1024),
        ..opts()
    };
    let (client, server) = connected_pair(&options);
    for (side, stream) in [("connected", &client), ("accepted", &server)] {
        assert_eq!(
            sockopt::socket_send_buffer_size(stream).unwrap(),
            reported(96 * 1024),
            "{side}"
        );
        assert_eq!(
            sockopt::socket_recv_buffer_size(stream).unwrap(),
            reported(80 * 1024),
            "{side}"
        );
    }
}

#[test]
fn keepalive_off_turns_it_off() {
    let options = SocketOptions {
        tcp_keepalive: TcpKeepalive::Off,
        ..opts()
    };
    let (client, server) = connected_pair(&options);
    assert!(!sockopt::socket_keepalive(&client).unwrap());
    assert!(!sockopt::socket_keepalive(&server).unwrap());
}

#[test]
fn bind_only_endpoints_cannot_be_connected_to() {
    for text in ["tcp://*:5555", "tcp://127.0.0.1:0", "tcp://*:*"] {
        let err = run(TcpTransport.connect(&ep(text), &opts())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{text}: {err}");
        assert!(err.to_string().contains("valid for bind only"), "{err}");
    }
}

#[test]
fn endpoints_of_other_transports_are_refused() {
    for text in ["ipc:///tmp/x.sock", "inproc://x"] {
        let endpoint = ep(text);
        let err = TcpTransport.bind(&endpoint, &opts()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(text), "{err}");
        let err = run(TcpTransport.connect(&endpoint, &opts())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[test]
fn binding_an_address_that_is_not_local_fails_naming_the_endpoint() {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never assigned to a local
    // interface. Binding it sends nothing on the network.
    let endpoint = ep("tcp://192.0.2.1:0");
    let err = TcpTransport.bind(&endpoint, &opts()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrNotAvailable, "{err}");
    assert!(
        err.to_string().contains("cannot bind tcp://192.0.2.1:0"),
        "{err}"
    );
}

#[test]
fn debug_output_names_the_endpoint() {
    let listener = TcpListener::bind(&ep("tcp://127.0.0.1:0"), &opts()).unwrap();
    let text = format!("{listener:?}");
    assert!(
        text.contains(&listener.local_endpoint().to_string()),
        "{text}"
    );
    assert_eq!(format!("{TcpTransport:?}"), "TcpTransport");
}
