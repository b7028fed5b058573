//! PAIR sockets over tls://, with certificates made by the test: messages
//! both ways, mutual TLS, both TLS versions; mistakes in the options as
//! errors of bind / connect; and every refusal the issue lists (wrong CA,
//! expired certificate, wrong host name, no client certificate, a plain
//! tcp peer) as a failed handshake with its reason, nothing delivered, the
//! listener still serving a good client afterwards.

use bytes::Bytes;
use smolmq_core::{Context, Error, Msg, Socket, SocketEvent};
use smolmq_mailbox::Receiver;
use smolmq_tests::certs::{Identity, Pki};
use smolmq_tests::{recv_within, socket_with, TIMEOUT};
use smolmq_tls::{set_tls, TlsOptions, TlsTransport, TlsVersion};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A context with tcp, ipc and tls.
fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(TlsTransport::new()));
    ctx
}

/// A PAIR socket with the test options and `tls`.
fn tls_socket(ctx: &Context, tls: TlsOptions) -> Socket {
    let mut socket = socket_with(ctx, |_| {});
    set_tls(&mut socket, tls).unwrap();
    socket
}

/// A server with `tls`, bound to a fresh loopback port: the socket, its
/// monitor and the port.
fn bound(ctx: &Context, tls: TlsOptions) -> (Socket, Receiver<SocketEvent>, u16) {
    let mut server = tls_socket(ctx, tls);
    let events = server.monitor();
    server.bind("tls://127.0.0.1:0").unwrap();
    let bound = server.last_endpoint().unwrap().clone();
    assert!(bound.to_string().starts_with("tls://127.0.0.1:"), "{bound}");
    let port = bound.tcp_addr().unwrap().port();
    (server, events, port)
}

/// A server identity for localhost and 127.0.0.1.
fn localhost(pki: &Pki) -> Identity {
    pki.issue(&["localhost", "127.0.0.1"])
}

/// Server options presenting `id`.
fn serving(id: &Identity) -> TlsOptions {
    TlsOptions::server(id.cert_pem.clone(), id.key_pem.clone())
}

/// The reason of the next `HandshakeFailed`, waiting at most [`TIMEOUT`].
fn handshake_failure(events: &Receiver<SocketEvent>) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => return reason,
            Ok(_) => {}
            Err(e) => panic!("no failed handshake: {e:?}"),
        }
    }
}

/// Waits for a `HandshakeSucceeded`.
fn handshake_success(events: &Receiver<SocketEvent>) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeSucceeded { .. }) => return,
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => panic!("handshake failed: {reason}"),
            Ok(_) => {}
            Err(e) => panic!("no handshake: {e:?}"),
        }
    }
}

/// Server options presenting a certificate for localhost and requiring
/// clients to present one from `pki` (mutual TLS).
fn requiring_clients(pki: &Pki) -> TlsOptions {
    TlsOptions {
        ca: Some(pki.ca_pem().into()),
        require_client_cert: true,
        ..serving(&localhost(pki))
    }
}

/// Client options trusting `pki` and presenting `id`.
fn presenting(pki: &Pki, id: Identity) -> TlsOptions {
    TlsOptions {
        cert_chain: Some(id.cert_pem.into()),
        key: Some(id.key_pem.into()),
        ..TlsOptions::client(pki.ca_pem())
    }
}

/// Client options that verify nothing.
fn not_verifying() -> TlsOptions {
    TlsOptions {
        verify: false,
        ..TlsOptions::default()
    }
}

/// A client with `tls` connects to `endpoint` and gets `text` through to
/// `server`, as the first message the server receives.
fn gets_through(
    ctx: &Context,
    tls: TlsOptions,
    endpoint: &str,
    server: &mut Socket,
    text: &'static str,
) {
    let mut client = tls_socket(ctx, tls);
    client.connect(endpoint).unwrap();
    client.send_blocking(Msg::from(text)).unwrap();
    assert_eq!(server.recv_blocking().unwrap(), Msg::from(text));
}

/// A good client (trusting `pki`) gets `"good"` through to `server`.
fn good_client_gets_through(ctx: &Context, pki: &Pki, server: &mut Socket, port: u16) {
    let endpoint = format!("tls://localhost:{port}");
    gets_through(
        ctx,
        TlsOptions::client(pki.ca_pem()),
        &endpoint,
        server,
        "good",
    );
}

#[test]
fn pair_over_tls_both_ways_small_large_multipart() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, events, port) = bound(&ctx, serving(&localhost(&pki)));
    let mut client = tls_socket(&ctx, TlsOptions::client(pki.ca_pem()));
    let client_events = client.monitor();
    client.connect(&format!("tls://localhost:{port}")).unwrap();
    handshake_success(&client_events);
    handshake_success(&events);
    for size in [0usize, 1, 64, 16 * 1024 + 1, 1 << 20] {
        let body = Bytes::from(vec![(size % 251) as u8; size]);
        client.send_blocking(Msg::from(body.clone())).unwrap();
        let got = server.recv_blocking().unwrap();
        assert!(got.first() == body, "{size} bytes corrupted");
        server.send_blocking(got).unwrap();
        assert_eq!(client.recv_blocking().unwrap().size(), size);
    }
    let multipart = smolmq_tests::msg(&[b"a", b"", b"ccc"]);
    client.send_blocking(multipart.clone()).unwrap();
    assert_eq!(server.recv_blocking().unwrap(), multipart);
    // Many in order.
    for i in 0..500u32 {
        client.send_blocking(Msg::from(i.to_string())).unwrap();
    }
    for i in 0..500u32 {
        assert_eq!(server.recv_blocking().unwrap(), Msg::from(i.to_string()));
    }
}

#[test]
fn both_directions_at_once_with_large_messages() {
    // Both sides write while neither reads: the TLS streams fill and hold
    // encrypted records, which must still go out when the socket drains.
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, _events, port) = bound(&ctx, serving(&localhost(&pki)));
    let mut client = tls_socket(&ctx, TlsOptions::client(pki.ca_pem()));
    client.connect(&format!("tls://127.0.0.1:{port}")).unwrap();
    let body = Bytes::from(vec![7u8; 256 * 1024]);
    client.send_blocking(Msg::from("hello")).unwrap();
    assert_eq!(server.recv_blocking().unwrap(), Msg::from("hello"));
    const COUNT: usize = 40;
    for _ in 0..COUNT {
        client.send_blocking(Msg::from(body.clone())).unwrap();
        server.send_blocking(Msg::from(body.clone())).unwrap();
    }
    for _ in 0..COUNT {
        assert!(server.recv_blocking().unwrap().first() == body);
        assert!(client.recv_blocking().unwrap().first() == body);
    }
}

#[test]
fn mutual_tls() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, events, port) = bound(&ctx, requiring_clients(&pki));
    let me = presenting(&pki, pki.issue(&["client.test"]));
    let endpoint = format!("tls://localhost:{port}");
    gets_through(&ctx, me, &endpoint, &mut server, "mutual");
    handshake_success(&events);
}

#[test]
fn tls_1_2_and_1_3() {
    let pki = Pki::new("test CA");
    let ctx = context();
    for (server_versions, client_versions) in [
        (
            (TlsVersion::Tls12, TlsVersion::Tls12),
            (TlsVersion::Tls12, TlsVersion::Tls13),
        ),
        (
            (TlsVersion::Tls12, TlsVersion::Tls13),
            (TlsVersion::Tls12, TlsVersion::Tls12),
        ),
        (
            (TlsVersion::Tls13, TlsVersion::Tls13),
            (TlsVersion::Tls12, TlsVersion::Tls13),
        ),
    ] {
        let (mut server, _events, port) = bound(
            &ctx,
            TlsOptions {
                min_version: server_versions.0,
                max_version: server_versions.1,
                ..serving(&localhost(&pki))
            },
        );
        let client = TlsOptions {
            min_version: client_versions.0,
            max_version: client_versions.1,
            ..TlsOptions::client(pki.ca_pem())
        };
        let endpoint = format!("tls://localhost:{port}");
        gets_through(&ctx, client, &endpoint, &mut server, "v");
    }
}

#[test]
fn no_common_version_is_refused() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, events, port) = bound(
        &ctx,
        TlsOptions {
            min_version: TlsVersion::Tls13,
            ..serving(&localhost(&pki))
        },
    );
    let mut old = tls_socket(
        &ctx,
        TlsOptions {
            max_version: TlsVersion::Tls12,
            ..TlsOptions::client(pki.ca_pem())
        },
    );
    old.connect(&format!("tls://localhost:{port}")).unwrap();
    let reason = handshake_failure(&events);
    assert!(
        reason.starts_with("TLS handshake with 127.0.0.1:"),
        "{reason}"
    );
    assert!(reason.contains("incompatible"), "{reason}");
    old.try_send(Msg::from("old")).unwrap();
    drop(old);
    good_client_gets_through(&ctx, &pki, &mut server, port);
}

#[test]
fn verify_off_accepts_an_unknown_server_and_server_name_overrides_the_host() {
    let ctx = context();
    // A self-signed certificate nobody trusts: fine with verify off.
    let stranger = Pki::new("nobody's CA");
    let (mut server, _events, port) = bound(&ctx, serving(&stranger.issue(&["elsewhere"])));
    let endpoint = format!("tls://127.0.0.1:{port}");
    gets_through(&ctx, not_verifying(), &endpoint, &mut server, "trusting");

    // An IP endpoint, the certificate checked against a DNS name.
    let pki = Pki::new("test CA");
    let (mut server, _events, port) = bound(&ctx, serving(&pki.issue(&["broker.test"])));
    let named = TlsOptions {
        server_name: Some("broker.test".into()),
        ..TlsOptions::client(pki.ca_pem())
    };
    let endpoint = format!("tls://127.0.0.1:{port}");
    gets_through(&ctx, named, &endpoint, &mut server, "named");
}

/// The error of binding `tls://127.0.0.1:0` with `tls`.
fn bind_error(ctx: &Context, tls: TlsOptions) -> String {
    let mut socket = tls_socket(ctx, tls);
    match socket.bind("tls://127.0.0.1:0") {
        Ok(()) => panic!("bound with bad options"),
        Err(e) => e.to_string(),
    }
}

/// The error of connecting to `endpoint` with `tls`.
fn connect_error(ctx: &Context, tls: TlsOptions, endpoint: &str) -> String {
    let mut socket = tls_socket(ctx, tls);
    match socket.connect(endpoint) {
        Ok(()) => panic!("connected with bad options"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn mistakes_in_the_options_are_errors_of_bind_and_connect() {
    let pki = Pki::new("test CA");
    let id = localhost(&pki);
    let other = localhost(&pki);
    let ctx = context();
    let cases: Vec<(TlsOptions, &str)> = vec![
        (TlsOptions::default(), "needs a certificate"),
        (
            TlsOptions {
                key: None,
                ..serving(&id)
            },
            "cert_chain is set but key is not",
        ),
        (
            TlsOptions::server("not a pem", id.key_pem.clone()),
            "no CERTIFICATE block",
        ),
        (
            TlsOptions::server(id.cert_pem.clone(), "-----BEGIN PRIVATE KEY-----\nnope\n"),
            "key:",
        ),
        (
            TlsOptions::server(id.cert_pem.clone(), other.key_pem.clone()),
            "does not match",
        ),
        (
            TlsOptions {
                require_client_cert: true,
                ..serving(&id)
            },
            "require_client_cert needs certificate authorities",
        ),
        (
            TlsOptions {
                min_version: TlsVersion::Tls13,
                max_version: TlsVersion::Tls12,
                ..serving(&id)
            },
            "min_version (TLS 1.3) is above max_version (TLS 1.2)",
        ),
    ];
    for (tls, expected) in cases {
        let err = bind_error(&ctx, tls);
        assert!(err.contains("cannot bind tls://127.0.0.1:0"), "{err}");
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
    }

    let cases: Vec<(TlsOptions, &str, &str)> = vec![
        (
            TlsOptions::default(),
            "tls://localhost:5555",
            "verify needs certificate authorities",
        ),
        (
            TlsOptions::client("garbage"),
            "tls://localhost:5555",
            "ca: no CERTIFICATE block",
        ),
        (
            TlsOptions {
                server_name: Some("not a name!".into()),
                ..TlsOptions::client(pki.ca_pem())
            },
            "tls://localhost:5555",
            "server_name",
        ),
        (
            TlsOptions {
                cert_chain: Some(id.cert_pem.clone().into()),
                ..TlsOptions::client(pki.ca_pem())
            },
            "tls://localhost:5555",
            "cert_chain is set but key is not",
        ),
    ];
    for (tls, endpoint, expected) in cases {
        let err = connect_error(&ctx, tls, endpoint);
        assert!(err.contains("cannot connect to tls://"), "{err}");
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
    }
}

/// Whose monitor reports a refusal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Watch {
    /// The connecting socket's.
    Client,
    /// The listening socket's.
    Server,
}

/// Runs a refused client: a server presenting `id` (issued by the test's
/// CA), a client made by `client` (given the context and that CA),
/// connected to `endpoint(port)`; expects
/// a failed handshake on `watch`'s monitor whose reason contains each of
/// `expected`, checks that nothing reached the server, then shows that a
/// good client gets through.
fn refused(
    id: impl FnOnce(&Pki) -> Identity,
    client: impl FnOnce(&Context, &Pki) -> Socket,
    endpoint: impl FnOnce(u16) -> String,
    watch: Watch,
    expected: &[&str],
) {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, server_events, port) = bound(&ctx, serving(&id(&pki)));
    let mut client = client(&ctx, &pki);
    let client_events = client.monitor();
    client.connect(&endpoint(port)).unwrap();
    // Queued for a connection that never comes up.
    client.try_send(Msg::from("bad")).unwrap();
    let events = match watch {
        Watch::Server => &server_events,
        Watch::Client => &client_events,
    };
    let reason = handshake_failure(events);
    for e in expected {
        assert!(reason.contains(e), "{e:?} not in {reason:?}");
    }
    assert!(
        recv_within(&mut server, Duration::from_millis(200)).is_none(),
        "a refused client's message was delivered"
    );
    drop(client);
    good_client_gets_through(&ctx, &pki, &mut server, port);
}

#[test]
fn a_client_trusting_another_ca_refuses_the_server() {
    let other = Pki::new("another CA");
    refused(
        localhost,
        |ctx, _| tls_socket(ctx, TlsOptions::client(other.ca_pem())),
        |port| format!("tls://localhost:{port}"),
        Watch::Client,
        &["TLS handshake with 127.0.0.1:", "UnknownIssuer"],
    );
}

#[test]
fn an_expired_server_certificate_is_refused() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, events, port) = bound(
        &ctx,
        serving(&pki.issue_expired(&["localhost", "127.0.0.1"])),
    );
    let client = tls_socket(&ctx, TlsOptions::client(pki.ca_pem()));
    let client_events = {
        let mut client = client;
        let e = client.monitor();
        client.connect(&format!("tls://localhost:{port}")).unwrap();
        client.try_send(Msg::from("bad")).unwrap();
        let reason = handshake_failure(&e);
        assert!(reason.contains("expired"), "{reason}");
        e
    };
    drop(client_events);
    assert!(recv_within(&mut server, Duration::from_millis(200)).is_none());
    // The same listener with its expired certificate still serves: a
    // client that does not verify gets through.
    let endpoint = format!("tls://127.0.0.1:{port}");
    gets_through(&ctx, not_verifying(), &endpoint, &mut server, "lenient");
    drop(events);
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    // Valid for "localhost" only: connecting to 127.0.0.1 checks the IP.
    refused(
        |pki| pki.issue(&["localhost"]),
        |ctx, pki| tls_socket(ctx, TlsOptions::client(pki.ca_pem())),
        |port| format!("tls://127.0.0.1:{port}"),
        Watch::Client,
        &["not valid for name", "127.0.0.1"],
    );
}

#[test]
fn a_client_without_a_certificate_is_refused_when_one_is_required() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let (mut server, events, port) = bound(&ctx, requiring_clients(&pki));
    let endpoint = format!("tls://localhost:{port}");
    let mut client = tls_socket(&ctx, TlsOptions::client(pki.ca_pem()));
    let client_events = client.monitor();
    client.connect(&endpoint).unwrap();
    client.try_send(Msg::from("bad")).unwrap();
    let reason = handshake_failure(&events);
    assert!(reason.contains("no certificates"), "{reason}");
    // With TLS 1.3 the client's handshake is over before the server
    // checks it: the server's alert comes where its greeting would, and
    // the client reports it as a failed handshake too, not a disconnection.
    let deadline = Instant::now() + TIMEOUT;
    let heard = loop {
        match client_events.recv_deadline(deadline) {
            Ok(SocketEvent::HandshakeFailed { reason, .. }) => break reason,
            Ok(SocketEvent::Disconnected { reason, .. }) => {
                panic!("the client saw a disconnection, not a failed handshake: {reason}")
            }
            Ok(_) => {}
            Err(e) => panic!("the client heard nothing: {e:?}"),
        }
    };
    assert!(
        heard.starts_with("TLS handshake with 127.0.0.1:"),
        "{heard}"
    );
    assert!(heard.contains("CertificateRequired"), "{heard}");
    assert!(recv_within(&mut server, Duration::from_millis(200)).is_none());
    drop(client);

    // A certificate from another CA is refused too, on both sides.
    let other = Pki::new("another CA").issue(&["client.test"]);
    let mut client = tls_socket(&ctx, presenting(&pki, other));
    let client_events = client.monitor();
    client.connect(&endpoint).unwrap();
    client.try_send(Msg::from("bad")).unwrap();
    // (Retries of the first client may still be reported before.)
    let reason = loop {
        let reason = handshake_failure(&events);
        if !reason.contains("no certificates") {
            break reason;
        }
    };
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    let heard = handshake_failure(&client_events);
    assert!(heard.contains("received fatal alert"), "{heard}");
    assert!(recv_within(&mut server, Duration::from_millis(200)).is_none());
    drop(client);

    // A client with a good certificate gets through.
    let me = presenting(&pki, pki.issue(&["client.test"]));
    gets_through(&ctx, me, &endpoint, &mut server, "good");
}

#[test]
fn a_plain_tcp_client_is_refused_by_a_tls_listener() {
    refused(
        localhost,
        |ctx, _| socket_with(ctx, |_| {}),
        |port| format!("tcp://127.0.0.1:{port}"),
        Watch::Server,
        &["does not speak TLS"],
    );
}

#[test]
fn a_tls_client_refuses_a_plain_tcp_listener() {
    let pki = Pki::new("test CA");
    let ctx = context();
    let mut plain = socket_with(&ctx, |_| {});
    plain.bind("tcp://127.0.0.1:0").unwrap();
    let port = plain.last_endpoint().unwrap().tcp_addr().unwrap().port();
    let mut client = tls_socket(&ctx, TlsOptions::client(pki.ca_pem()));
    let events = client.monitor();
    client.connect(&format!("tls://127.0.0.1:{port}")).unwrap();
    client.try_send(Msg::from("bad")).unwrap();
    let reason = handshake_failure(&events);
    assert!(reason.contains("TLS handshake"), "{reason}");
    assert!(reason.contains("does not speak TLS"), "{reason}");
    assert!(
        recv_within(&mut plain, Duration::from_millis(200)).is_none(),
        "delivered in the clear"
    );
}

#[test]
fn the_socket_without_the_transport_says_so() {
    let ctx = smolmq_tests::context();
    let mut socket = socket_with(&ctx, |_| {});
    match socket.bind("tls://127.0.0.1:0") {
        Err(Error::Unsupported(m)) => assert!(m.contains("no tls transport"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_silent_peer_times_out_and_garbage_is_refused_while_others_are_served() {
    use std::io::Write;
    let pki = Pki::new("test CA");
    let ctx = context();
    let mut server = tls_socket(&ctx, serving(&localhost(&pki)));
    let mut o = server.options().clone();
    o.handshake_ivl = Some(Duration::from_millis(300));
    server.set_options(o).unwrap();
    let events = server.monitor();
    server.bind("tls://127.0.0.1:0").unwrap();
    let port = server.last_endpoint().unwrap().tcp_addr().unwrap().port();

    // Connects and never says a word.
    let _silent = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Sends bytes that are not TLS, then waits.
    let mut garbage = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    garbage.write_all(&[0x42; 300]).unwrap();

    // Meanwhile a good client is served.
    good_client_gets_through(&ctx, &pki, &mut server, port);

    let mut reasons = vec![handshake_failure(&events), handshake_failure(&events)];
    reasons.sort();
    assert!(
        reasons.iter().any(|r| r.contains("(handshake_ivl)")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("does not speak TLS")),
        "{reasons:?}"
    );
}
