//! `Endpoint`: every valid form, every error, the canonical form and the
//! round trip `parse(display(e)) == e`.

use proptest::prelude::*;
use smolmq_core::{
    AbstractName, Endpoint, EndpointError, Host, HostName, InprocName, IpcAddr, IpcPath, TcpAddr,
    Wire, WsAddr, INPROC_NAME_MAX, IPC_PATH_MAX,
};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

fn parse(s: &str) -> Endpoint {
    Endpoint::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn err(s: &str) -> EndpointError {
    match Endpoint::parse(s) {
        Ok(ep) => panic!("{s:?} should fail, parsed as {ep:?}"),
        Err(e) => e,
    }
}

fn tcp(s: &str) -> TcpAddr {
    match parse(s) {
        Endpoint::Tcp(addr) => addr,
        other => panic!("{s:?} is not tcp: {other:?}"),
    }
}

fn name(s: &str) -> Host {
    Host::Name(HostName::new(s).unwrap())
}

// ---- tcp ----

#[test]
fn tcp_ipv4() {
    let addr = tcp("tcp://127.0.0.1:5555");
    assert_eq!(addr.host(), &Host::Ipv4(Ipv4Addr::LOCALHOST));
    assert_eq!(addr.port(), 5555);
    assert_eq!(addr.socket_addr(), Some("127.0.0.1:5555".parse().unwrap()));
    assert_eq!(tcp("tcp://0.0.0.0:65535").port(), 65535);
    assert_eq!(tcp("tcp://10.0.0.1:1").to_string(), "10.0.0.1:1");
}

#[test]
fn tcp_ipv6_bracketed_and_bare() {
    let addr = tcp("tcp://[::1]:5555");
    assert_eq!(addr.host(), &Host::Ipv6(Ipv6Addr::LOCALHOST));
    assert_eq!(addr.port(), 5555);
    assert_eq!(addr.socket_addr(), Some("[::1]:5555".parse().unwrap()));

    let any6 = tcp("tcp://[::]:0");
    assert_eq!(any6.host(), &Host::Ipv6(Ipv6Addr::UNSPECIFIED));
    assert_eq!(any6.port(), 0);

    // As libzmq: an unbracketed IPv6 literal, port after the last colon.
    assert_eq!(parse("tcp://::1:5555"), parse("tcp://[::1]:5555"));
    assert_eq!(parse("tcp://::1:5555").to_string(), "tcp://[::1]:5555");
    assert_eq!(
        parse("tcp://[fe80::1:2:3]:80").to_string(),
        "tcp://[fe80::1:2:3]:80"
    );
    assert_eq!(
        parse("tcp://[::ffff:1.2.3.4]:80").to_string(),
        "tcp://[::ffff:1.2.3.4]:80"
    );
    // Non-canonical spelling displays canonically.
    assert_eq!(
        parse("tcp://[0:0:0:0:0:0:0:1]:80").to_string(),
        "tcp://[::1]:80"
    );
}

#[test]
fn tcp_dns_names() {
    for host in [
        "localhost",
        "example.com",
        "example.com.",
        "a-b.c_d.example",
        "eth0",
        "xn--nxasmq6b.example",
        "1.2.3.example",
        "my_service",
        "A.B",
    ] {
        let addr = tcp(&format!("tcp://{host}:9000"));
        assert_eq!(addr.host(), &name(host));
        assert_eq!(addr.socket_addr(), None, "names are not resolved here");
        assert_eq!(addr.host().ip(), None);
        assert_eq!(
            parse(&format!("tcp://{host}:9000")).to_string(),
            format!("tcp://{host}:9000")
        );
    }
    let label = "a".repeat(63);
    tcp(&format!("tcp://{label}.com:1"));
    let long = [
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61),
    ]
    .join(".");
    assert_eq!(long.len(), 253);
    tcp(&format!("tcp://{long}:1"));
    tcp(&format!("tcp://{long}.:1"));
}

#[test]
fn tcp_wildcards_are_bind_only() {
    let any = tcp("tcp://*:5555");
    assert_eq!(any.host(), &Host::Any);
    assert!(any.is_bind_only());
    assert_eq!(any.socket_addr(), None);

    let star_port = tcp("tcp://127.0.0.1:*");
    assert_eq!(star_port.port(), 0);
    assert_eq!(parse("tcp://127.0.0.1:*"), parse("tcp://127.0.0.1:0"));
    assert_eq!(parse("tcp://*:*").to_string(), "tcp://*:0");

    for s in [
        "tcp://*:5555",
        "tcp://*:0",
        "tcp://localhost:0",
        "tcp://[::1]:*",
    ] {
        let ep = parse(s);
        assert!(ep.is_bind_only(), "{s}");
        match ep.check_connectable() {
            Err(EndpointError::NotConnectable { endpoint, reason }) => {
                assert_eq!(endpoint, ep.to_string());
                assert!(!reason.is_empty());
            }
            other => panic!("{s}: {other:?}"),
        }
    }
    let e = parse("tcp://*:5555").check_connectable().unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot connect to `tcp://*:5555`: the host `*` means every local interface (valid for bind only)"
    );
    let e = parse("tcp://host:0").check_connectable().unwrap_err();
    assert!(e.to_string().contains("port 0"), "{e}");

    for s in [
        "tcp://127.0.0.1:1",
        "tcp://[::]:80",
        "tcp://h:1",
        "ipc:///x",
        "ipc://@x",
        "inproc://x",
    ] {
        let ep = parse(s);
        assert!(!ep.is_bind_only(), "{s}");
        assert_eq!(ep.check_connectable(), Ok(()), "{s}");
    }
}

#[test]
fn tcp_ports() {
    assert_eq!(tcp("tcp://h:0").port(), 0);
    assert_eq!(tcp("tcp://h:65535").port(), 65535);
    assert_eq!(tcp("tcp://h:080").port(), 80);
    assert_eq!(parse("tcp://h:080").to_string(), "tcp://h:80");
}

#[test]
fn with_port_gives_the_bound_endpoint() {
    let bound = parse("tcp://*:0").with_port(45678).unwrap();
    assert_eq!(bound.to_string(), "tcp://*:45678");
    let bound = parse("tcp://[::1]:*").with_port(1).unwrap();
    assert_eq!(bound.to_string(), "tcp://[::1]:1");
    assert!(parse("ipc:///tmp/x").with_port(1).is_none());
    assert!(parse("inproc://x").with_port(1).is_none());

    // Or from the listener's local address.
    let local: SocketAddr = "0.0.0.0:40000".parse().unwrap();
    assert_eq!(Endpoint::from(local).to_string(), "tcp://0.0.0.0:40000");
    let local: SocketAddr = "[::]:40001".parse().unwrap();
    assert_eq!(Endpoint::from(local).to_string(), "tcp://[::]:40001");
}

#[test]
fn tcp_addr_constructors() {
    let addr = TcpAddr::new(Host::from(Ipv4Addr::new(1, 2, 3, 4)), 7);
    assert_eq!(Endpoint::from(addr.clone()).to_string(), "tcp://1.2.3.4:7");
    assert_eq!(addr.with_port(8).port(), 8);
    assert_eq!(addr.with_port(8).host(), addr.host());
    assert_eq!(Host::parse("*"), Ok(Host::Any));
    assert_eq!(Host::parse("[::1]"), Ok(Host::Ipv6(Ipv6Addr::LOCALHOST)));
    assert_eq!(Host::parse("::1"), Ok(Host::Ipv6(Ipv6Addr::LOCALHOST)));
    assert_eq!(
        Host::parse("1.2.3.4"),
        Ok(Host::Ipv4(Ipv4Addr::new(1, 2, 3, 4)))
    );
    assert_eq!(Host::parse("example.org"), Ok(name("example.org")));
    assert!(Host::parse("").is_err());
    assert!(Host::parse("[1.2.3.4]").is_err());
    assert!(Host::parse("a b").is_err());
    assert_eq!(Host::Ipv6(Ipv6Addr::LOCALHOST).to_string(), "[::1]");
    assert_eq!(Host::Any.to_string(), "*");
    assert_eq!(
        "example.org".parse::<HostName>().unwrap().as_str(),
        "example.org"
    );
}

// ---- ipc ----

#[test]
fn ipc_paths() {
    match parse("ipc:///tmp/feed.sock") {
        Endpoint::Ipc(IpcAddr::Path(p)) => {
            assert_eq!(p.as_str(), "/tmp/feed.sock");
            assert_eq!(p.as_path(), std::path::Path::new("/tmp/feed.sock"));
        }
        other => panic!("{other:?}"),
    }
    match parse("ipc://relative/feed.sock") {
        Endpoint::Ipc(IpcAddr::Path(p)) => assert_eq!(p.as_str(), "relative/feed.sock"),
        other => panic!("{other:?}"),
    }
    assert_eq!(parse("ipc:///tmp/x").to_string(), "ipc:///tmp/x");
    assert_eq!(parse("ipc://x").to_string(), "ipc://x");
    assert_eq!(parse("ipc://./@x").to_string(), "ipc://./@x");
    assert_eq!(
        parse("ipc:///tmp/ünïcødé").to_string(),
        "ipc:///tmp/ünïcødé"
    );
    assert_eq!(parse("ipc://*"), Endpoint::Ipc(IpcAddr::Any));
    assert_eq!(parse("ipc://*").to_string(), "ipc://*");
    assert!(parse("ipc://*").is_bind_only());
    assert!(parse("ipc://*").check_connectable().is_err());
    assert_eq!(parse("ipc:///x").transport(), "ipc");
}

#[test]
fn ipc_path_length_limit() {
    let max = format!("/{}", "p".repeat(IPC_PATH_MAX - 1));
    assert_eq!(max.len(), IPC_PATH_MAX);
    assert_eq!(
        parse(&format!("ipc://{max}")).to_string(),
        format!("ipc://{max}")
    );

    let over = format!("/{}", "p".repeat(IPC_PATH_MAX));
    assert_eq!(
        err(&format!("ipc://{over}")),
        EndpointError::PathTooLong {
            len: IPC_PATH_MAX + 1,
            max: IPC_PATH_MAX
        }
    );
    assert!(err(&format!("ipc://{over}"))
        .to_string()
        .contains(&format!("{} bytes", IPC_PATH_MAX + 1)));
    if cfg!(target_os = "linux") {
        assert_eq!(IPC_PATH_MAX, 107);
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn ipc_abstract_namespace() {
    match parse("ipc://@my-socket") {
        Endpoint::Ipc(IpcAddr::Abstract(n)) => {
            assert_eq!(n.as_str(), "my-socket");
            assert_eq!(n.to_string(), "@my-socket");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(parse("ipc://@my-socket").to_string(), "ipc://@my-socket");
    assert_eq!(parse("ipc://@@x").to_string(), "ipc://@@x");
    // The `@` counts towards the limit.
    let name = "n".repeat(IPC_PATH_MAX - 1);
    parse(&format!("ipc://@{name}"));
    assert_eq!(
        err(&format!("ipc://@{name}n")),
        EndpointError::PathTooLong {
            len: IPC_PATH_MAX + 1,
            max: IPC_PATH_MAX
        }
    );
    assert_eq!(err("ipc://@"), EndpointError::EmptyPath);
    assert!(AbstractName::new("x").is_ok());
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[test]
fn ipc_abstract_namespace_is_refused() {
    assert_eq!(
        err("ipc://@my-socket"),
        EndpointError::AbstractUnsupported {
            name: "my-socket".into()
        }
    );
}

#[test]
fn ipc_constructors() {
    let p = IpcPath::new("/run/x.sock").unwrap();
    assert_eq!(
        Endpoint::from(IpcAddr::from(p)).to_string(),
        "ipc:///run/x.sock"
    );
    assert_eq!(IpcPath::new(""), Err(EndpointError::EmptyPath));
    assert!(matches!(
        IpcPath::new("*"),
        Err(EndpointError::InvalidPath { .. })
    ));
    let e = IpcPath::new("@abs").unwrap_err();
    assert!(matches!(&e, EndpointError::InvalidPath { path, .. } if path == "@abs"));
    assert!(e.to_string().contains("`@abs`"), "{e}");
    assert!(matches!(
        IpcPath::new("/a\0b"),
        Err(EndpointError::InvalidChar { ch: '\0', index: 2 })
    ));
}

// ---- inproc ----

#[test]
fn inproc_names() {
    match parse("inproc://workers") {
        Endpoint::Inproc(n) => assert_eq!(n.as_str(), "workers"),
        other => panic!("{other:?}"),
    }
    assert_eq!(parse("inproc://a/b:c@d*").to_string(), "inproc://a/b:c@d*");
    assert_eq!(parse("inproc://x").transport(), "inproc");
    let max = "n".repeat(INPROC_NAME_MAX);
    parse(&format!("inproc://{max}"));
    assert_eq!(
        err(&format!("inproc://{max}n")),
        EndpointError::NameTooLong {
            len: INPROC_NAME_MAX + 1,
            max: INPROC_NAME_MAX
        }
    );
    assert_eq!(err("inproc://"), EndpointError::EmptyName);
    assert_eq!(
        err("inproc://").to_string(),
        "inproc endpoint has an empty name"
    );
    let n = InprocName::new("z").unwrap();
    assert_eq!(Endpoint::from(n).to_string(), "inproc://z");
}

// ---- errors ----

#[test]
fn empty_and_schemes() {
    assert_eq!(err(""), EndpointError::Empty);
    assert!(err("").to_string().starts_with("empty endpoint"));

    for s in [
        "localhost:5555",
        "tcp:/h:1",
        "tcp:h:1",
        "tcp//h:1",
        "://h:1",
        "tcp",
    ] {
        assert_eq!(
            err(s),
            EndpointError::MissingScheme { input: s.into() },
            "{s}"
        );
    }
    assert_eq!(
        err("localhost:5555").to_string(),
        "endpoint `localhost:5555` has no `transport://` prefix (supported: tcp://, ipc://, inproc://, tls://, ws://, wss://, tcp+jsonl://, ipc+jsonl://, tls+jsonl://)"
    );

    assert_eq!(
        err("udp://h:1"),
        EndpointError::UnknownScheme {
            scheme: "udp".into()
        }
    );
    assert_eq!(
        err("TCP://h:1"),
        EndpointError::UnknownScheme {
            scheme: "TCP".into()
        }
    );
    let supported = "tcp://, ipc://, inproc://, tls://, ws://, wss://, tcp+jsonl://, ipc+jsonl://, tls+jsonl://";
    assert_eq!(
        err("foo://bar").to_string(),
        format!("unknown transport `foo://` (supported: {supported})")
    );
    for planned in ["udp", "pgm", "epgm", "norm"] {
        let e = err(&format!("{planned}://h:1"));
        assert_eq!(
            e,
            EndpointError::UnknownScheme {
                scheme: planned.into()
            }
        );
        assert_eq!(
            e.to_string(),
            format!("transport `{planned}://` is not supported yet (supported: {supported})")
        );
    }
    // A wire suffix goes with a stream transport only.
    for bad in ["inproc+jsonl://x", "ws+jsonl://h:1/", "jsonl://h:1"] {
        assert!(
            matches!(err(bad), EndpointError::UnknownScheme { .. }),
            "{bad}"
        );
    }
}

#[test]
fn tls_ws_and_json_lines_endpoints() {
    let tls = Endpoint::parse("tls://example.com:5556").unwrap();
    assert_eq!(tls.transport(), "tls");
    assert_eq!(tls.wire(), Wire::Zmtp);
    assert_eq!(tls.tcp_addr().unwrap().port(), 5556);
    assert_eq!(tls.to_string(), "tls://example.com:5556");

    let ws = Endpoint::parse("ws://[::1]:8080/zmq/v1").unwrap();
    let Endpoint::Ws(addr) = &ws else {
        panic!("{ws:?}")
    };
    assert_eq!(addr.path(), "/zmq/v1");
    assert_eq!(ws.to_string(), "ws://[::1]:8080/zmq/v1");
    assert_eq!(
        Endpoint::parse("wss://h:1").unwrap().to_string(),
        "wss://h:1/"
    );
    assert!(Endpoint::parse("ws://*:0/x").unwrap().is_bind_only());
    assert_eq!(
        Endpoint::parse("ws://*:0/x")
            .unwrap()
            .with_port(9)
            .unwrap()
            .to_string(),
        "ws://*:9/x"
    );
    assert!(matches!(
        err("ws://h:1/a%20b\u{7f}"),
        EndpointError::InvalidChar { .. }
    ));
    assert!(matches!(
        err("ws://h:1/é"),
        EndpointError::InvalidPath { .. }
    ));
    assert!(matches!(
        err("ws://h/path"),
        EndpointError::MissingPort { .. }
    ));

    let lines = Endpoint::parse("tcp+jsonl://127.0.0.1:0").unwrap();
    assert_eq!(lines.wire(), Wire::JsonLines);
    assert_eq!(lines.transport(), "tcp");
    assert!(lines.is_bind_only());
    assert_eq!(
        lines.stream(),
        &Endpoint::parse("tcp://127.0.0.1:0").unwrap()
    );
    let bound = lines.with_stream(Endpoint::parse("tcp://127.0.0.1:4000").unwrap());
    assert_eq!(bound.to_string(), "tcp+jsonl://127.0.0.1:4000");
    let ipc = Endpoint::parse("ipc+jsonl:///tmp/mcp.sock").unwrap();
    assert_eq!(ipc.transport(), "ipc");
    assert_eq!(ipc.stream().to_string(), "ipc:///tmp/mcp.sock");
    assert_eq!(ipc.to_string(), "ipc+jsonl:///tmp/mcp.sock");
    let tls = Endpoint::parse("tls+jsonl://mcp.example:443").unwrap();
    assert_eq!((tls.transport(), tls.wire()), ("tls", Wire::JsonLines));
    assert_eq!(tls.to_string(), "tls+jsonl://mcp.example:443");
}

#[test]
fn whitespace_and_control_characters() {
    let cases: &[(&str, char, usize)] = &[
        (" tcp://h:1", ' ', 0),
        ("tcp://h:1 ", ' ', 9),
        ("tcp://h :1", ' ', 7),
        ("tcp://h:1\n", '\n', 9),
        ("ipc:///tmp/a b", ' ', 12),
        ("ipc:///tmp/a\0b", '\0', 12),
        ("inproc://a\tb", '\t', 10),
        ("inproc://\u{7f}", '\u{7f}', 9),
        ("inproc://a\u{a0}", '\u{a0}', 10),
        ("\0", '\0', 0),
    ];
    for &(s, ch, index) in cases {
        assert_eq!(err(s), EndpointError::InvalidChar { ch, index }, "{s:?}");
    }
    assert_eq!(
        err("tcp://h :1").to_string(),
        "endpoint contains ' ' at byte 7: whitespace and control characters are not allowed"
    );
    assert!(err("ipc:///a\0").to_string().contains(r"'\0'"));
}

#[test]
fn tcp_host_errors() {
    assert_eq!(
        err("tcp://"),
        EndpointError::MissingHost { addr: "".into() }
    );
    assert_eq!(
        err("tcp://:5555"),
        EndpointError::MissingHost {
            addr: ":5555".into()
        }
    );
    assert_eq!(
        err("tcp://:5555").to_string(),
        "tcp endpoint `tcp://:5555` has no host (use `*` to bind every interface)"
    );

    let bad_hosts = [
        ("tcp://[::1:5555", "[::1:5555"),
        ("tcp://[1.2.3.4]:80", "[1.2.3.4]"),
        ("tcp://[nope]:80", "[nope]"),
        ("tcp://[::1]5555", "[::1]5555"),
        ("tcp://a:b:80", "a:b"),
        ("tcp://fe80::1%eth0:80", "fe80::1%eth0"),
        ("tcp://-bad.com:1", "-bad.com"),
        ("tcp://bad-.com:1", "bad-.com"),
        ("tcp://a..b:1", "a..b"),
        ("tcp://.a:1", ".a"),
        ("tcp://a.com..:1", "a.com.."),
        ("tcp://.:1", "."),
        ("tcp://ex!ample.com:1", "ex!ample.com"),
        ("tcp://exämple.com:1", "exämple.com"),
        ("tcp://1.2.3.256:1", "1.2.3.256"),
        ("tcp://1.2.3:1", "1.2.3"),
        ("tcp://01.2.3.4:1", "01.2.3.4"),
        ("tcp://12345:1", "12345"),
        ("tcp://**:1", "**"),
        ("tcp://[*]:1", "[*]"),
        ("tcp://h/p:1", "h/p"),
    ];
    for (s, host) in bad_hosts {
        match err(s) {
            EndpointError::InvalidHost { host: got, reason } => {
                assert_eq!(got, host, "{s}");
                assert!(!reason.is_empty());
            }
            other => panic!("{s}: {other:?}"),
        }
    }
    let long_label = format!("tcp://{}.com:1", "a".repeat(64));
    assert!(
        matches!(err(&long_label), EndpointError::InvalidHost { reason, .. } if reason.contains("63"))
    );
    let long_name = format!("tcp://{}:1", vec!["a".repeat(63); 4].join("."));
    assert!(
        matches!(err(&long_name), EndpointError::InvalidHost { reason, .. } if reason.contains("253"))
    );
    assert_eq!(
        err("tcp://1.2.3.256:1").to_string(),
        "invalid host `1.2.3.256` in tcp endpoint: not a valid IPv4 address, and a host name cannot end in an all-digit label"
    );
}

#[test]
fn tcp_port_errors() {
    for (s, addr) in [
        ("tcp://localhost", "localhost"),
        ("tcp://localhost:", "localhost:"),
        ("tcp://[::1]", "[::1]"),
        ("tcp://[::1]:", "[::1]:"),
        ("tcp://*", "*"),
    ] {
        assert_eq!(
            err(s),
            EndpointError::MissingPort { addr: addr.into() },
            "{s}"
        );
    }
    for (s, port) in [
        ("tcp://h:65536", "65536"),
        ("tcp://h:99999999999999999999", "99999999999999999999"),
        ("tcp://h:-1", "-1"),
        ("tcp://h:+80", "+80"),
        ("tcp://h:http", "http"),
        ("tcp://h:80/x", "80/x"),
        ("tcp://h:**", "**"),
        ("tcp://[::1]:x", "x"),
    ] {
        assert_eq!(
            err(s),
            EndpointError::InvalidPort { port: port.into() },
            "{s}"
        );
    }
    assert_eq!(
        err("tcp://h:65536").to_string(),
        "invalid port `65536`: expected a number from 0 to 65535, or `*`"
    );
}

#[test]
fn ipc_errors() {
    assert_eq!(err("ipc://"), EndpointError::EmptyPath);
    assert_eq!(
        err("ipc://").to_string(),
        "ipc endpoint has an empty path (use `ipc://*` to bind a generated path)"
    );
}

#[test]
fn errors_are_std_errors() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    is_error(&err(""));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err("x"));
    assert!(boxed.to_string().contains("`x`"));
}

#[test]
fn from_str_and_try_from_agree() {
    let s = "tcp://example.com:80";
    assert_eq!(s.parse::<Endpoint>().unwrap(), parse(s));
    assert_eq!(Endpoint::try_from(s).unwrap(), parse(s));
    assert_eq!(parse(s).transport(), "tcp");
}

// ---- properties ----

fn label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,20}[a-zA-Z0-9_])?"
}

fn host_name() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(label(), 0..4),
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        any::<bool>(),
    )
        .prop_map(|(mut labels, last, dot)| {
            labels.push(last);
            let mut name = labels.join(".");
            if dot {
                name.push('.');
            }
            name
        })
}

fn host() -> impl Strategy<Value = Host> {
    prop_oneof![
        Just(Host::Any),
        any::<[u8; 4]>().prop_map(|o| Host::Ipv4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| Host::Ipv6(Ipv6Addr::from(o))),
        host_name().prop_map(|n| Host::Name(HostName::new(&n).unwrap())),
    ]
}

fn path_text(max: usize) -> impl Strategy<Value = String> {
    // Printable text without whitespace, trimmed to the byte limit.
    proptest::string::string_regex("[^\\s\\p{Cc}]{1,120}")
        .unwrap()
        .prop_map(move |s| {
            let mut end = s.len().min(max);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s[..end].to_owned()
        })
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    let tcp = (host(), any::<u16>()).prop_map(|(h, p)| Endpoint::from(TcpAddr::new(h, p)));
    let ipc_path = path_text(IPC_PATH_MAX)
        .prop_filter_map("not a path", |p| IpcPath::new(&p).ok())
        .prop_map(|p| Endpoint::from(IpcAddr::Path(p)));
    let ipc_other = path_text(IPC_PATH_MAX - 1).prop_map(|n| match AbstractName::new(&n) {
        Ok(name) => Endpoint::from(IpcAddr::Abstract(name)),
        Err(_) => Endpoint::Ipc(IpcAddr::Any),
    });
    let inproc =
        path_text(INPROC_NAME_MAX).prop_map(|n| Endpoint::from(InprocName::new(&n).unwrap()));
    let other = (host(), any::<u16>(), 0..4u8, "(/[!-~]{0,20})?").prop_map(|(h, p, kind, path)| {
        let addr = TcpAddr::new(h, p);
        let ws = || WsAddr::new(addr.clone(), if path.is_empty() { "/" } else { &path }).unwrap();
        match kind {
            0 => Endpoint::Tls(addr.clone()),
            1 => Endpoint::Ws(ws()),
            2 => Endpoint::Wss(ws()),
            _ => Endpoint::JsonLines(Box::new(Endpoint::Tcp(addr.clone()))),
        }
    });
    prop_oneof![3 => tcp, 2 => ipc_path, 1 => ipc_other, 1 => inproc, 2 => other]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn display_then_parse_gives_the_same_endpoint(ep in endpoint()) {
        let shown = ep.to_string();
        prop_assert_eq!(Endpoint::parse(&shown), Ok(ep.clone()), "{}", shown);
        prop_assert!(shown.starts_with(ep.transport()));
    }

    #[test]
    fn parse_then_display_is_a_fixed_point(s in "(tcp|ipc|inproc)://[!-~]{0,40}") {
        if let Ok(ep) = Endpoint::parse(&s) {
            let canonical = ep.to_string();
            let again = Endpoint::parse(&canonical).unwrap();
            prop_assert_eq!(&again, &ep);
            prop_assert_eq!(again.to_string(), canonical);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        match Endpoint::parse(&s) {
            Ok(ep) => {
                prop_assert_eq!(Endpoint::parse(&ep.to_string()), Ok(ep.clone()));
                let _ = ep.check_connectable();
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn tcp_like_strings_never_panic(s in "tcp://[\\[\\]:.*0-9a-f%-]{0,30}") {
        if let Ok(ep) = Endpoint::parse(&s) {
            prop_assert_eq!(Endpoint::parse(&ep.to_string()), Ok(ep));
        }
    }
}
