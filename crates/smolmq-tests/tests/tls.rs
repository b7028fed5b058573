//! Every socket pattern over tls://, through the facade (feature `tls`):
//! PAIR, PUB / SUB, XPUB / XSUB, DEALER / ROUTER, PUSH / PULL, REQ / REP,
//! with a CA and certificates made by the test, and JSON lines over TLS
//! (`tls+jsonl://`) with a plain rustls client. The refusals (wrong CA,
//! expired, wrong host, no client certificate, plain tcp) are tested in
//! smolmq-tls's own tests.

use smolmq::tls::{set_tls, TlsOptions};
use smolmq::{Context, Msg, Socket, SocketType};
use smolmq_tests::certs::Pki;
use smolmq_tests::{frames, msg, recv_within, with_options};
use std::time::Duration;

/// The test's CA, a context, and sockets with TLS options from it.
struct Tls {
    /// Issues the server's certificate; every client trusts it.
    pki: Pki,
    /// Server options: a certificate for localhost and 127.0.0.1, client
    /// certificates required (mutual TLS, so both directions are checked).
    server: TlsOptions,
    /// Client options: a certificate of its own, the CA trusted.
    client: TlsOptions,
    /// The facade's context, with tls compiled in.
    ctx: Context,
}

impl Tls {
    fn new() -> Tls {
        let pki = Pki::new("pattern CA");
        let server_id = pki.issue(&["localhost", "127.0.0.1"]);
        let client_id = pki.issue(&["client.test"]);
        let server = TlsOptions {
            ca: Some(pki.ca_pem().into()),
            require_client_cert: true,
            ..TlsOptions::server(server_id.cert_pem, server_id.key_pem)
        };
        let client = TlsOptions {
            cert_chain: Some(client_id.cert_pem.into()),
            key: Some(client_id.key_pem.into()),
            ..TlsOptions::client(pki.ca_pem())
        };
        Tls {
            pki,
            server,
            client,
            ctx: Context::new().unwrap(),
        }
    }

    /// A socket of `kind` with the test options and `tls`.
    fn socket(&self, kind: SocketType, tls: &TlsOptions) -> Socket {
        let mut s = with_options(self.ctx.socket(kind).unwrap(), |_| {});
        set_tls(&mut s, tls.clone()).unwrap();
        s
    }

    /// A server socket of `kind` bound to `tls://127.0.0.1:0`, and the
    /// endpoint to connect to.
    fn bind(&self, kind: SocketType) -> (Socket, String) {
        let mut s = self.socket(kind, &self.server);
        s.bind("tls://127.0.0.1:0").unwrap();
        let port = s.last_endpoint().unwrap().tcp_addr().unwrap().port();
        (s, format!("tls://localhost:{port}"))
    }

    /// A client socket of `kind` connected to `endpoint`.
    fn connect(&self, kind: SocketType, endpoint: &str) -> Socket {
        let mut s = self.socket(kind, &self.client);
        s.connect(endpoint).unwrap();
        s
    }
}

#[test]
fn pair() {
    let t = Tls::new();
    let (mut server, endpoint) = t.bind(SocketType::Pair);
    let mut client = t.connect(SocketType::Pair, &endpoint);
    client.send_blocking(msg(&[b"ping", b"1"])).unwrap();
    assert_eq!(
        frames(&server.recv_blocking().unwrap()),
        [b"ping".to_vec(), b"1".to_vec()]
    );
    server.send_blocking(Msg::from("pong")).unwrap();
    assert_eq!(client.recv_blocking().unwrap(), Msg::from("pong"));
    assert!(!t.pki.ca_pem().is_empty());
}

/// Publishes `topic`-prefixed messages on `publisher` until `subscriber`
/// hears one (a subscription reaches the publisher some time after it is
/// made: the slow joiner), then returns what it heard.
fn publish_until_heard(publisher: &mut Socket, subscriber: &mut Socket, body: &str) -> Msg {
    for _ in 0..500 {
        publisher.send_blocking(Msg::from("other: skip")).unwrap();
        publisher.send_blocking(Msg::from(body.to_owned())).unwrap();
        if let Some(m) = recv_within(subscriber, Duration::from_millis(50)) {
            return m;
        }
    }
    panic!("the subscriber never heard");
}

#[test]
fn pub_sub() {
    let t = Tls::new();
    let (mut publisher, endpoint) = t.bind(SocketType::Pub);
    let mut subscriber = t.connect(SocketType::Sub, &endpoint);
    smolmq::pubsub::subscribe(&mut subscriber, b"weather").unwrap();
    let got = publish_until_heard(&mut publisher, &mut subscriber, "weather: sunny");
    assert_eq!(got, Msg::from("weather: sunny"));
    // Filtered: only the topic arrives.
    publisher.send_blocking(Msg::from("other: no")).unwrap();
    publisher.send_blocking(Msg::from("weather: rain")).unwrap();
    loop {
        let m = subscriber.recv_blocking().unwrap();
        assert!(smolmq_tests::text(&m).starts_with("weather"), "{m:?}");
        if m == Msg::from("weather: rain") {
            break;
        }
    }
}

#[test]
fn xpub_xsub() {
    let t = Tls::new();
    let (mut xpub, endpoint) = t.bind(SocketType::XPub);
    let mut xsub = t.connect(SocketType::XSub, &endpoint);
    xsub.send_blocking(Msg::from(&b"\x01news"[..])).unwrap();
    // The subscription reaches the XPUB as a message.
    assert_eq!(xpub.recv_blocking().unwrap(), Msg::from(&b"\x01news"[..]));
    xpub.send_blocking(Msg::from("news: tls works")).unwrap();
    assert_eq!(xsub.recv_blocking().unwrap(), Msg::from("news: tls works"));
}

#[test]
fn dealer_router() {
    let t = Tls::new();
    let (mut router, endpoint) = t.bind(SocketType::Router);
    let mut dealers: Vec<Socket> = (0..2)
        .map(|i| {
            let mut d = t.socket(SocketType::Dealer, &t.client);
            let mut o = d.options().clone();
            o.routing_id = Some(format!("dealer-{i}").into_bytes().into());
            d.set_options(o).unwrap();
            d.connect(&endpoint).unwrap();
            d
        })
        .collect();
    for (i, d) in dealers.iter_mut().enumerate() {
        d.send_blocking(Msg::from(format!("hello from {i}")))
            .unwrap();
    }
    for _ in 0..2 {
        let m = router.recv_blocking().unwrap();
        let f = frames(&m);
        let id = String::from_utf8(f[0].clone()).unwrap();
        let i = id.strip_prefix("dealer-").unwrap();
        assert_eq!(f[1], format!("hello from {i}").into_bytes());
        // Routed back by id.
        router
            .send_blocking(msg(&[&f[0], format!("reply to {i}").as_bytes()]))
            .unwrap();
    }
    for (i, d) in dealers.iter_mut().enumerate() {
        assert_eq!(
            d.recv_blocking().unwrap(),
            Msg::from(format!("reply to {i}"))
        );
    }
}

#[test]
fn push_pull() {
    let t = Tls::new();
    let (mut pull, endpoint) = t.bind(SocketType::Pull);
    let mut pushes: Vec<Socket> = (0..2)
        .map(|_| t.connect(SocketType::Push, &endpoint))
        .collect();
    for (p, push) in pushes.iter_mut().enumerate() {
        for i in 0..50 {
            push.send_blocking(Msg::from(format!("{p}:{i}"))).unwrap();
        }
    }
    // Fair-queued, each in order.
    let mut next = [0usize; 2];
    for _ in 0..100 {
        let m = smolmq_tests::text(&pull.recv_blocking().unwrap());
        let (p, i) = m.split_once(':').unwrap();
        let p: usize = p.parse().unwrap();
        assert_eq!(i.parse::<usize>().unwrap(), next[p], "{m}");
        next[p] += 1;
    }
    assert_eq!(next, [50, 50]);
}

#[test]
fn req_rep() {
    let t = Tls::new();
    let (mut rep, endpoint) = t.bind(SocketType::Rep);
    let mut req = t.connect(SocketType::Req, &endpoint);
    for i in 0..20 {
        req.send_blocking(Msg::from(format!("question {i}")))
            .unwrap();
        let q = rep.recv_blocking().unwrap();
        assert_eq!(q, Msg::from(format!("question {i}")));
        rep.send_blocking(Msg::from(format!("answer {i}"))).unwrap();
        assert_eq!(
            req.recv_blocking().unwrap(),
            Msg::from(format!("answer {i}"))
        );
    }
}

/// A plain rustls client over a std `TcpStream` (no smolmq in it), as an
/// MCP client over TLS would be: writes `lines`, reads as many back.
fn ndjson_over_tls(ca_pem: String, port: u16, lines: &[&str]) -> Vec<String> {
    use smolmq::tls::rustls;
    use std::io::{BufRead, BufReader, Write};
    let config = smolmq::tls::client_config(&TlsOptions::client(ca_pem)).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    for line in lines {
        tls.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    tls.flush().unwrap();
    let mut reader = BufReader::new(tls);
    lines
        .iter()
        .map(|_| {
            let mut got = String::new();
            reader.read_line(&mut got).unwrap();
            got.trim_end().to_owned()
        })
        .collect()
}

#[test]
fn json_lines_over_tls() {
    let t = Tls::new();
    // A ROUTER serving JSON lines over TLS (server certificate only: an
    // MCP client rarely has one).
    let server_id = t.pki.issue(&["localhost", "127.0.0.1"]);
    let mut router = t.socket(
        SocketType::Router,
        &TlsOptions::server(server_id.cert_pem, server_id.key_pem),
    );
    router.bind("tls+jsonl://127.0.0.1:0").unwrap();
    let bound = router.last_endpoint().unwrap().to_string();
    assert!(bound.starts_with("tls+jsonl://127.0.0.1:"), "{bound}");
    let port = router.last_endpoint().unwrap().tcp_addr().unwrap().port();

    // It echoes each [id, line] back.
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    ];
    let ca = t.pki.ca_pem();
    let client = std::thread::spawn(move || ndjson_over_tls(ca, port, &lines));
    for line in lines {
        let m = router.recv_blocking().unwrap();
        assert_eq!(frames(&m)[1], line.as_bytes());
        router.send_blocking(m).unwrap();
    }
    assert_eq!(client.join().unwrap(), lines);

    // A smolmq DEALER talks JSON lines over TLS too.
    let mut dealer = t.socket(SocketType::Dealer, &TlsOptions::client(t.pki.ca_pem()));
    dealer
        .connect(&format!("tls+jsonl://localhost:{port}"))
        .unwrap();
    dealer.send_blocking(Msg::from(r#"{"id":3}"#)).unwrap();
    let m = router.recv_blocking().unwrap();
    assert_eq!(frames(&m)[1], br#"{"id":3}"#);
    router.send_blocking(m).unwrap();
    assert_eq!(dealer.recv_blocking().unwrap(), Msg::from(r#"{"id":3}"#));
}
