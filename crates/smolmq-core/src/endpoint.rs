//! [`Endpoint`]: ZeroMQ endpoint strings (`tcp://host:port`, `ipc:///path`,
//! `inproc://name`, `tls://host:port`, `ws://host:port/path`,
//! `wss://host:port/path`, and the JSON-lines wire `tcp+jsonl://host:port`,
//! `ipc+jsonl:///path`), parsed with precise errors and displayed back in a
//! canonical form.
//!
//! # Grammar
//!
//! ```text
//! endpoint = "tcp://" host ":" port
//!          | "ipc://" ( path | "@" abstract-name | "*" )
//!          | "inproc://" name
//!          | "tls://" host ":" port
//!          | ( "ws://" | "wss://" ) host ":" port [ ws-path ]
//!          | "tcp+jsonl://" host ":" port
//!          | "ipc+jsonl://" ( path | "@" abstract-name | "*" )
//!          | "tls+jsonl://" host ":" port
//! host     = "*" | IPv4 | "[" IPv6 "]" | IPv6 | dns-name
//! port     = 0..=65535 | "*"
//! ws-path  = "/" *printable-ascii        ; "/" when left out
//! ```
//!
//! * `tls://` is ZMTP over TLS on a tcp connection; `ws://` and `wss://`
//!   carry ZeroMQ over a WebSocket (RFC 45, ZWS 2.0), the latter over TLS.
//!   Their transports live in their own crates; this module only parses.
//! * `+jsonl` selects the other wire format: line-delimited JSON (MCP /
//!   JSON-RPC 2.0 framing) instead of ZMTP, on the same tcp, ipc or tls
//!   transport. [`Endpoint::wire`] tells which; [`Endpoint::stream`] gives
//!   the endpoint the transport binds or connects.
//!
//! * A host `*` (all interfaces) and a port `*` or `0` (an ephemeral port
//!   chosen by the system) are valid only for bind: see
//!   [`Endpoint::check_connectable`]. `*` as a port is the same as `0`, and
//!   displays as `0`.
//! * An IPv6 literal is written in brackets (`tcp://[::1]:5555`). As libzmq
//!   does, an unbracketed one is accepted too (the port follows the last
//!   `:`); it displays with brackets. Zone ids (`%eth0`) are not supported.
//! * A DNS name is checked for syntax only (labels of 1 to 63 letters,
//!   digits, `-` or `_`, not starting or ending with `-`, 253 bytes at most,
//!   an optional trailing `.`, and a last label that is not all digits);
//!   resolving it is the transport's job. An interface name such as `eth0`
//!   passes the same check.
//! * An ipc path may be absolute (`ipc:///tmp/sock`) or relative
//!   (`ipc://sock`). It must fit a Unix socket address: at most
//!   [`IPC_PATH_MAX`] bytes (107 on Linux and Android, 103 elsewhere, one
//!   byte being kept for the terminating NUL). `ipc://@name` names the Linux
//!   abstract namespace (the `@` counts towards the limit), and is refused
//!   on other platforms. `ipc://*` asks the transport to bind a generated
//!   path.
//! * An inproc name is 1 to [`INPROC_NAME_MAX`] bytes.
//! * Whitespace and control characters (NUL included) are refused anywhere,
//!   even inside an ipc path. Schemes are lower case.
//!
//! # Canonical form
//!
//! [`Display`](fmt::Display) writes the canonical form, and parsing it gives
//! back an equal endpoint: `parse(&e.to_string()) == Ok(e)` for every
//! endpoint `e`. Different inputs may share one canonical form (`tcp://*:*`
//! and `tcp://*:0`, `tcp://::1:80` and `tcp://[::1]:80`, `:080` and `:80`).

#![deny(unsafe_code)]

use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// The transports this version parses, as written before `://`.
pub const SUPPORTED_SCHEMES: &[&str] = &[
    "tcp",
    "ipc",
    "inproc",
    "tls",
    "ws",
    "wss",
    "tcp+jsonl",
    "ipc+jsonl",
    "tls+jsonl",
];

/// Schemes known from the ZeroMQ family or planned for smolmq but not
/// supported yet: an endpoint using one gets a "not supported yet" error
/// rather than "unknown".
const PLANNED_SCHEMES: &[&str] = &["udp", "pgm", "epgm", "norm", "vmci", "tipc"];

/// The longest ipc path, in bytes, that fits a Unix socket address on this
/// platform: `sun_path` holds 108 bytes on Linux and Android and 104 on the
/// BSDs and macOS, one of which is kept for the terminating NUL.
pub const IPC_PATH_MAX: usize = if cfg!(any(target_os = "linux", target_os = "android")) {
    107
} else {
    103
};

/// The longest inproc name, in bytes.
pub const INPROC_NAME_MAX: usize = 255;

/// The longest WebSocket path, in bytes.
pub const WS_PATH_MAX: usize = 1024;

/// The longest DNS name, in bytes, without a trailing dot.
const HOST_NAME_MAX: usize = 253;
/// The longest DNS label, in bytes.
const LABEL_MAX: usize = 63;

/// Whether this platform has the Linux abstract socket namespace.
const HAS_ABSTRACT_NAMESPACE: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// A parsed ZeroMQ endpoint: a transport and an address for it.
///
/// ```
/// use smolmq_core::{Endpoint, Host};
///
/// let ep: Endpoint = "tcp://[::1]:5555".parse()?;
/// assert_eq!(ep.transport(), "tcp");
/// let Endpoint::Tcp(addr) = &ep else { unreachable!() };
/// assert_eq!(addr.host(), &Host::Ipv6("::1".parse().unwrap()));
/// assert_eq!(addr.port(), 5555);
/// assert_eq!(ep.to_string(), "tcp://[::1]:5555");
///
/// // Wildcards are for bind only.
/// let any = Endpoint::parse("tcp://*:*")?;
/// assert!(any.is_bind_only());
/// assert!(any.check_connectable().is_err());
/// // After binding, the transport reports the port it got.
/// let bound = any.with_port(40001).unwrap();
/// assert_eq!(bound.to_string(), "tcp://*:40001");
/// # Ok::<(), smolmq_core::EndpointError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `tcp://host:port`.
    Tcp(TcpAddr),
    /// `ipc://path`, `ipc://@abstract` or `ipc://*`.
    Ipc(IpcAddr),
    /// `inproc://name`.
    Inproc(InprocName),
    /// `tls://host:port`: ZMTP over TLS over tcp.
    Tls(TcpAddr),
    /// `ws://host:port/path`: ZeroMQ over a WebSocket (ZWS 2.0).
    Ws(WsAddr),
    /// `wss://host:port/path`: ZeroMQ over a WebSocket over TLS.
    Wss(WsAddr),
    /// `tcp+jsonl://host:port`, `ipc+jsonl://path` or `tls+jsonl://host:port`:
    /// line-delimited JSON instead of ZMTP, over the inner endpoint, which
    /// is always an [`Endpoint::Tcp`], [`Endpoint::Ipc`] or [`Endpoint::Tls`].
    JsonLines(Box<Endpoint>),
}

/// The wire format spoken over an endpoint's byte stream.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Wire {
    /// ZMTP 3.1, ZeroMQ's protocol (every scheme without `+jsonl`).
    #[default]
    Zmtp,
    /// Line-delimited JSON: each message is one line ending in `\n`
    /// (MCP's and JSON-RPC 2.0's framing over a stream).
    JsonLines,
}

impl Endpoint {
    /// Parses an endpoint string. Same as [`str::parse`].
    pub fn parse(input: &str) -> Result<Endpoint, EndpointError> {
        if input.is_empty() {
            return Err(EndpointError::Empty);
        }
        check_chars(input)?;
        let Some((scheme, rest)) = input.split_once("://") else {
            return Err(EndpointError::MissingScheme {
                input: input.to_owned(),
            });
        };
        match scheme {
            "" => Err(EndpointError::MissingScheme {
                input: input.to_owned(),
            }),
            "tcp" => TcpAddr::parse_addr(rest).map(Endpoint::Tcp),
            "ipc" => IpcAddr::parse_addr(rest).map(Endpoint::Ipc),
            "inproc" => InprocName::new(rest).map(Endpoint::Inproc),
            "tls" => TcpAddr::parse_addr(rest).map(Endpoint::Tls),
            "ws" => WsAddr::parse_addr(rest).map(Endpoint::Ws),
            "wss" => WsAddr::parse_addr(rest).map(Endpoint::Wss),
            "tcp+jsonl" => TcpAddr::parse_addr(rest)
                .map(|addr| Endpoint::JsonLines(Box::new(Endpoint::Tcp(addr)))),
            "ipc+jsonl" => IpcAddr::parse_addr(rest)
                .map(|addr| Endpoint::JsonLines(Box::new(Endpoint::Ipc(addr)))),
            "tls+jsonl" => TcpAddr::parse_addr(rest)
                .map(|addr| Endpoint::JsonLines(Box::new(Endpoint::Tls(addr)))),
            _ => Err(EndpointError::UnknownScheme {
                scheme: scheme.to_owned(),
            }),
        }
    }

    /// The transport's name: the scheme before `://` without a `+wire`
    /// suffix (`"tcp"`, `"ipc"`, `"inproc"`, `"tls"`, `"ws"`, `"wss"`; also
    /// `"tcp"` for `tcp+jsonl://`). A context's transports are looked up by
    /// it ([`Transport::scheme`](crate::transport::Transport::scheme)).
    pub fn transport(&self) -> &'static str {
        match self {
            Endpoint::Tcp(_) => "tcp",
            Endpoint::Ipc(_) => "ipc",
            Endpoint::Inproc(_) => "inproc",
            Endpoint::Tls(_) => "tls",
            Endpoint::Ws(_) => "ws",
            Endpoint::Wss(_) => "wss",
            Endpoint::JsonLines(inner) => inner.transport(),
        }
    }

    /// The wire format spoken over the endpoint: [`Wire::JsonLines`] for
    /// the `+jsonl` schemes, [`Wire::Zmtp`] for all others.
    ///
    /// ```
    /// use smolmq_core::{Endpoint, Wire};
    ///
    /// let ep = Endpoint::parse("tcp+jsonl://127.0.0.1:7000")?;
    /// assert_eq!(ep.wire(), Wire::JsonLines);
    /// assert_eq!(ep.transport(), "tcp");
    /// assert_eq!(ep.stream().to_string(), "tcp://127.0.0.1:7000");
    /// assert_eq!(ep.to_string(), "tcp+jsonl://127.0.0.1:7000");
    /// # Ok::<(), smolmq_core::EndpointError>(())
    /// ```
    pub fn wire(&self) -> Wire {
        match self {
            Endpoint::JsonLines(_) => Wire::JsonLines,
            _ => Wire::Zmtp,
        }
    }

    /// The endpoint the transport binds or connects: the inner endpoint of
    /// a `+jsonl` one, `self` for the others.
    pub fn stream(&self) -> &Endpoint {
        match self {
            Endpoint::JsonLines(inner) => inner,
            other => other,
        }
    }

    /// `stream` (as a transport reported it after binding) wrapped in this
    /// endpoint's wire: `tcp://127.0.0.1:4000` becomes
    /// `tcp+jsonl://127.0.0.1:4000` for a `+jsonl` endpoint, and is
    /// returned as it is for the others.
    pub fn with_stream(&self, stream: Endpoint) -> Endpoint {
        match self {
            Endpoint::JsonLines(_) => Endpoint::JsonLines(Box::new(stream)),
            _ => stream,
        }
    }

    /// Whether the endpoint can only be bound, not connected to: a tcp
    /// endpoint with host `*` or port 0, or `ipc://*`.
    pub fn is_bind_only(&self) -> bool {
        self.not_connectable_reason().is_some()
    }

    /// Checks that the endpoint can be connected to: `Ok` unless it is
    /// [bind-only](Endpoint::is_bind_only), in which case the error says why.
    ///
    /// ```
    /// use smolmq_core::{Endpoint, EndpointError};
    ///
    /// let ep = Endpoint::parse("tcp://localhost:0")?;
    /// assert!(matches!(
    ///     ep.check_connectable(),
    ///     Err(EndpointError::NotConnectable { .. })
    /// ));
    /// # Ok::<(), EndpointError>(())
    /// ```
    pub fn check_connectable(&self) -> Result<(), EndpointError> {
        match self.not_connectable_reason() {
            None => Ok(()),
            Some(reason) => Err(EndpointError::NotConnectable {
                endpoint: self.to_string(),
                reason,
            }),
        }
    }

    /// The same tcp endpoint with another port, or `None` for other
    /// transports.
    ///
    /// A transport that bound port 0 uses it to report the port it got (as
    /// libzmq's `ZMQ_LAST_ENDPOINT`); to report the bound address as well,
    /// build the endpoint from the listener's [`SocketAddr`] instead
    /// (`Endpoint::from(local_addr)`).
    pub fn with_port(&self, port: u16) -> Option<Endpoint> {
        match self {
            Endpoint::Tcp(addr) => Some(Endpoint::Tcp(addr.with_port(port))),
            Endpoint::Tls(addr) => Some(Endpoint::Tls(addr.with_port(port))),
            Endpoint::Ws(addr) => Some(Endpoint::Ws(addr.with_port(port))),
            Endpoint::Wss(addr) => Some(Endpoint::Wss(addr.with_port(port))),
            Endpoint::JsonLines(inner) => inner
                .with_port(port)
                .map(|inner| Endpoint::JsonLines(Box::new(inner))),
            Endpoint::Ipc(_) | Endpoint::Inproc(_) => None,
        }
    }

    /// The tcp address of a `tcp://`, `tls://`, `ws://`, `wss://` or
    /// `tcp+jsonl://` endpoint: what a transport built on tcp binds or
    /// connects.
    pub fn tcp_addr(&self) -> Option<&TcpAddr> {
        match self {
            Endpoint::Tcp(addr) | Endpoint::Tls(addr) => Some(addr),
            Endpoint::Ws(ws) | Endpoint::Wss(ws) => Some(&ws.addr),
            Endpoint::JsonLines(inner) => inner.tcp_addr(),
            Endpoint::Ipc(_) | Endpoint::Inproc(_) => None,
        }
    }

    /// Why the endpoint cannot be connected to, if it cannot.
    fn not_connectable_reason(&self) -> Option<&'static str> {
        if let Endpoint::JsonLines(inner) = self {
            return inner.not_connectable_reason();
        }
        if let Endpoint::Ipc(IpcAddr::Any) = self {
            return Some("`ipc://*` means a path generated at bind");
        }
        match self.tcp_addr() {
            Some(addr) if addr.host == Host::Any => {
                Some("the host `*` means every local interface")
            }
            Some(addr) if addr.port == 0 => {
                Some("port 0 means a port chosen by the system at bind")
            }
            _ => None,
        }
    }
}

impl FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(input: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(input)
    }
}

impl TryFrom<&str> for Endpoint {
    type Error = EndpointError;

    fn try_from(input: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(input)
    }
}

impl fmt::Display for Endpoint {
    /// The canonical form, which parses back to an equal endpoint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(addr) => write!(f, "tcp://{addr}"),
            Endpoint::Ipc(addr) => write!(f, "ipc://{addr}"),
            Endpoint::Inproc(name) => write!(f, "inproc://{name}"),
            Endpoint::Tls(addr) => write!(f, "tls://{addr}"),
            Endpoint::Ws(addr) => write!(f, "ws://{addr}"),
            Endpoint::Wss(addr) => write!(f, "wss://{addr}"),
            Endpoint::JsonLines(inner) => match &**inner {
                Endpoint::Tcp(addr) => write!(f, "tcp+jsonl://{addr}"),
                Endpoint::Ipc(addr) => write!(f, "ipc+jsonl://{addr}"),
                Endpoint::Tls(addr) => write!(f, "tls+jsonl://{addr}"),
                // Not built by the parser; written as its inner endpoint
                // with the wire appended to the scheme all the same.
                other => {
                    let text = other.to_string();
                    let (scheme, rest) = text.split_once("://").unwrap_or(("", &text));
                    write!(f, "{scheme}+jsonl://{rest}")
                }
            },
        }
    }
}

impl From<TcpAddr> for Endpoint {
    fn from(addr: TcpAddr) -> Endpoint {
        Endpoint::Tcp(addr)
    }
}

impl From<IpcAddr> for Endpoint {
    fn from(addr: IpcAddr) -> Endpoint {
        Endpoint::Ipc(addr)
    }
}

impl From<InprocName> for Endpoint {
    fn from(name: InprocName) -> Endpoint {
        Endpoint::Inproc(name)
    }
}

impl From<SocketAddr> for Endpoint {
    /// A tcp endpoint for a socket address (an IPv6 scope id is dropped).
    fn from(addr: SocketAddr) -> Endpoint {
        Endpoint::Tcp(TcpAddr::from(addr))
    }
}

/// The address of a tcp endpoint: a host and a port.
///
/// ```
/// use smolmq_core::{Host, TcpAddr};
///
/// let addr = TcpAddr::new(Host::Any, 0);
/// assert!(addr.is_bind_only());
/// assert_eq!(addr.with_port(5555).to_string(), "*:5555");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpAddr {
    /// Where to bind or connect.
    host: Host,
    /// The port; 0 means one chosen by the system at bind.
    port: u16,
}

impl TcpAddr {
    /// A tcp address from its parts.
    pub fn new(host: Host, port: u16) -> TcpAddr {
        TcpAddr { host, port }
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port; 0 means one chosen by the system at bind (written `0` or
    /// `*`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The same host with another port.
    pub fn with_port(&self, port: u16) -> TcpAddr {
        TcpAddr {
            host: self.host.clone(),
            port,
        }
    }

    /// Whether the address is valid for bind only (host `*` or port 0).
    pub fn is_bind_only(&self) -> bool {
        self.host == Host::Any || self.port == 0
    }

    /// The socket address, when the host is an IP literal (not `*`, not a
    /// name to resolve).
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.host.ip().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// Parses what follows `tcp://`.
    fn parse_addr(addr: &str) -> Result<TcpAddr, EndpointError> {
        if addr.is_empty() {
            return Err(EndpointError::MissingHost {
                addr: addr.to_owned(),
            });
        }
        let (host, port) = if let Some(bracketed) = addr.strip_prefix('[') {
            let Some((inside, after)) = bracketed.split_once(']') else {
                return Err(invalid_host(addr, "`[` without a closing `]`"));
            };
            let host = inside
                .parse::<Ipv6Addr>()
                .map(Host::Ipv6)
                .map_err(|_| invalid_host(&addr[..inside.len() + 2], "not an IPv6 address"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => port,
                None if after.is_empty() => {
                    return Err(EndpointError::MissingPort {
                        addr: addr.to_owned(),
                    })
                }
                None => {
                    return Err(invalid_host(
                        addr,
                        "expected `:port` after the bracketed IPv6 address",
                    ))
                }
            };
            (host, port)
        } else {
            let Some((host, port)) = addr.rsplit_once(':') else {
                return Err(EndpointError::MissingPort {
                    addr: addr.to_owned(),
                });
            };
            if host.is_empty() {
                return Err(EndpointError::MissingHost {
                    addr: addr.to_owned(),
                });
            }
            (Host::parse_unbracketed(host)?, port)
        };
        Ok(TcpAddr {
            host,
            port: parse_port(port, addr)?,
        })
    }
}

impl fmt::Display for TcpAddr {
    /// `host:port`, with an IPv6 host in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl From<SocketAddr> for TcpAddr {
    /// The address of an IP literal host (an IPv6 scope id is dropped).
    fn from(addr: SocketAddr) -> TcpAddr {
        TcpAddr::new(Host::from(addr.ip()), addr.port())
    }
}

/// The address of a `ws://` or `wss://` endpoint: a tcp address and the
/// HTTP path of the WebSocket upgrade.
///
/// ```
/// use smolmq_core::Endpoint;
///
/// let ep = Endpoint::parse("ws://127.0.0.1:8080")?;
/// let Endpoint::Ws(addr) = &ep else { unreachable!() };
/// assert_eq!(addr.path(), "/");
/// assert_eq!(addr.addr().port(), 8080);
/// assert_eq!(ep.to_string(), "ws://127.0.0.1:8080/");
/// # Ok::<(), smolmq_core::EndpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WsAddr {
    /// Host and port.
    addr: TcpAddr,
    /// Starts with `/`; printable ASCII, at most [`WS_PATH_MAX`] bytes.
    path: String,
}

impl WsAddr {
    /// A WebSocket address; `path` must start with `/` and be printable
    /// ASCII of at most [`WS_PATH_MAX`] bytes.
    pub fn new(addr: TcpAddr, path: &str) -> Result<WsAddr, EndpointError> {
        check_ws_path(path)?;
        Ok(WsAddr {
            addr,
            path: path.to_owned(),
        })
    }

    /// Host and port.
    pub fn addr(&self) -> &TcpAddr {
        &self.addr
    }

    /// The path of the upgrade request, starting with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The same address with another port.
    pub fn with_port(&self, port: u16) -> WsAddr {
        WsAddr {
            addr: self.addr.with_port(port),
            path: self.path.clone(),
        }
    }

    /// Parses what follows `ws://`: `host:port`, then an optional path.
    fn parse_addr(text: &str) -> Result<WsAddr, EndpointError> {
        // Neither a host nor a port holds a `/`, so the first one starts
        // the path.
        let (addr, path) = match text.find('/') {
            Some(at) => (&text[..at], &text[at..]),
            None => (text, "/"),
        };
        WsAddr::new(TcpAddr::parse_addr(addr)?, path)
    }
}

impl fmt::Display for WsAddr {
    /// `host:port/path`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.addr, self.path)
    }
}

/// Checks a WebSocket path.
fn check_ws_path(path: &str) -> Result<(), EndpointError> {
    let invalid = |reason| EndpointError::InvalidPath {
        path: path.to_owned(),
        reason,
    };
    if !path.starts_with('/') {
        return Err(invalid("a WebSocket path starts with `/`"));
    }
    if path.len() > WS_PATH_MAX {
        return Err(invalid("longer than 1024 bytes"));
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "only printable ASCII is allowed (percent-encode the rest)",
        ));
    }
    Ok(())
}

/// Parses a port: decimal digits up to 65535, or `*` for 0.
fn parse_port(port: &str, addr: &str) -> Result<u16, EndpointError> {
    if port.is_empty() {
        return Err(EndpointError::MissingPort {
            addr: addr.to_owned(),
        });
    }
    if port == "*" {
        return Ok(0);
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::InvalidPort {
            port: port.to_owned(),
        });
    }
    port.parse::<u16>().map_err(|_| EndpointError::InvalidPort {
        port: port.to_owned(),
    })
}

/// The host of a tcp endpoint.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// `*`: every local interface (bind only).
    Any,
    /// An IPv4 literal.
    Ipv4(Ipv4Addr),
    /// An IPv6 literal (written in brackets).
    Ipv6(Ipv6Addr),
    /// A DNS name (or an interface name), checked for syntax only.
    Name(HostName),
}

impl Host {
    /// Parses a host as written in a tcp endpoint: `*`, an IPv4 literal, an
    /// IPv6 literal with or without brackets, or a DNS name.
    pub fn parse(host: &str) -> Result<Host, EndpointError> {
        check_chars(host)?;
        match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(inside) => inside
                .parse::<Ipv6Addr>()
                .map(Host::Ipv6)
                .map_err(|_| invalid_host(host, "not an IPv6 address")),
            None if host.is_empty() => Err(EndpointError::MissingHost {
                addr: String::new(),
            }),
            None => Host::parse_unbracketed(host),
        }
    }

    /// The IP address, for an IPv4 or IPv6 literal.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
            Host::Any | Host::Name(_) => None,
        }
    }

    /// Parses a non-empty host that has no brackets.
    fn parse_unbracketed(host: &str) -> Result<Host, EndpointError> {
        if host == "*" {
            return Ok(Host::Any);
        }
        if host.contains(':') {
            return host
                .parse::<Ipv6Addr>()
                .map(Host::Ipv6)
                .map_err(|_| invalid_host(host, "contains `:` but is not an IPv6 address"));
        }
        if let Ok(ip) = host.parse::<Ipv4Addr>() {
            return Ok(Host::Ipv4(ip));
        }
        HostName::new(host).map(Host::Name)
    }
}

impl fmt::Display for Host {
    /// As written in an endpoint: `*`, `1.2.3.4`, `[::1]` or the name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Any => f.write_str("*"),
            Host::Ipv4(ip) => write!(f, "{ip}"),
            Host::Ipv6(ip) => write!(f, "[{ip}]"),
            Host::Name(name) => write!(f, "{name}"),
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        match ip {
            IpAddr::V4(ip) => Host::Ipv4(ip),
            IpAddr::V6(ip) => Host::Ipv6(ip),
        }
    }
}

impl From<Ipv4Addr> for Host {
    fn from(ip: Ipv4Addr) -> Host {
        Host::Ipv4(ip)
    }
}

impl From<Ipv6Addr> for Host {
    fn from(ip: Ipv6Addr) -> Host {
        Host::Ipv6(ip)
    }
}

impl From<HostName> for Host {
    fn from(name: HostName) -> Host {
        Host::Name(name)
    }
}

/// A DNS name (or interface name) whose syntax has been checked; never
/// resolved here.
///
/// Kept as written: names compare case-sensitively (`Example.com` and
/// `example.com` are different endpoints, though they resolve alike), and
/// a trailing `.` is kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostName(String);

impl HostName {
    /// Checks a name: 1 to 253 bytes (plus an optional trailing `.`) of
    /// dot-separated labels, each 1 to 63 ASCII letters, digits, `-` or
    /// `_`, neither starting nor ending with `-`; the last label is not all
    /// digits (that would be a malformed IPv4 address).
    pub fn new(name: &str) -> Result<HostName, EndpointError> {
        let bare = name.strip_suffix('.').unwrap_or(name);
        if bare.is_empty() {
            return Err(invalid_host(name, "empty host name"));
        }
        if bare.len() > HOST_NAME_MAX {
            return Err(invalid_host(name, "longer than 253 bytes"));
        }
        let mut last = "";
        for label in bare.split('.') {
            if label.is_empty() {
                return Err(invalid_host(
                    name,
                    "empty label (two dots in a row, or a leading dot)",
                ));
            }
            if label.len() > LABEL_MAX {
                return Err(invalid_host(name, "a label is longer than 63 bytes"));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid_host(
                    name,
                    "only ASCII letters, digits, `-`, `_` and `.` are allowed in a host name",
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid_host(name, "a label starts or ends with `-`"));
            }
            last = label;
        }
        if last.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_host(
                name,
                "not a valid IPv4 address, and a host name cannot end in an all-digit label",
            ));
        }
        Ok(HostName(name.to_owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for HostName {
    type Err = EndpointError;

    fn from_str(name: &str) -> Result<HostName, EndpointError> {
        HostName::new(name)
    }
}

/// The address of an ipc endpoint.
///
/// ```
/// use smolmq_core::{Endpoint, IpcAddr};
///
/// let Endpoint::Ipc(IpcAddr::Path(path)) = Endpoint::parse("ipc:///tmp/feed.sock")? else {
///     unreachable!()
/// };
/// assert_eq!(path.as_path(), std::path::Path::new("/tmp/feed.sock"));
/// assert_eq!(Endpoint::parse("ipc://*")?, Endpoint::Ipc(IpcAddr::Any));
/// # Ok::<(), smolmq_core::EndpointError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IpcAddr {
    /// A filesystem path, absolute or relative to the working directory.
    Path(IpcPath),
    /// A name in the Linux abstract socket namespace (`ipc://@name`).
    Abstract(AbstractName),
    /// `ipc://*`: bind to a path the transport generates (bind only).
    Any,
}

impl IpcAddr {
    /// Parses what follows `ipc://`.
    fn parse_addr(addr: &str) -> Result<IpcAddr, EndpointError> {
        if addr == "*" {
            return Ok(IpcAddr::Any);
        }
        match addr.strip_prefix('@') {
            Some(name) => AbstractName::new(name).map(IpcAddr::Abstract),
            None => IpcPath::new(addr).map(IpcAddr::Path),
        }
    }
}

impl fmt::Display for IpcAddr {
    /// As written after `ipc://`: the path, `@name` or `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpcAddr::Path(path) => f.write_str(path.as_str()),
            IpcAddr::Abstract(name) => write!(f, "@{}", name.as_str()),
            IpcAddr::Any => f.write_str("*"),
        }
    }
}

impl From<IpcPath> for IpcAddr {
    fn from(path: IpcPath) -> IpcAddr {
        IpcAddr::Path(path)
    }
}

impl From<AbstractName> for IpcAddr {
    fn from(name: AbstractName) -> IpcAddr {
        IpcAddr::Abstract(name)
    }
}

/// A filesystem path for an ipc endpoint, checked to fit a Unix socket
/// address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpcPath(String);

impl IpcPath {
    /// Checks a path: 1 to [`IPC_PATH_MAX`] bytes, no whitespace or control
    /// characters, not `*` (use [`IpcAddr::Any`]) and not starting with `@`
    /// (use [`AbstractName`]; write `./@name` for a file named `@name`).
    pub fn new(path: &str) -> Result<IpcPath, EndpointError> {
        check_chars(path)?;
        if path.is_empty() {
            return Err(EndpointError::EmptyPath);
        }
        if path == "*" {
            return Err(EndpointError::InvalidPath {
                path: path.to_owned(),
                reason: "`*` stands for a generated path (IpcAddr::Any)",
            });
        }
        if path.starts_with('@') {
            return Err(EndpointError::InvalidPath {
                path: path.to_owned(),
                reason: "a leading `@` names the abstract namespace (AbstractName)",
            });
        }
        if path.len() > IPC_PATH_MAX {
            return Err(EndpointError::PathTooLong {
                len: path.len(),
                max: IPC_PATH_MAX,
            });
        }
        Ok(IpcPath(path.to_owned()))
    }

    /// The path as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as a [`Path`].
    pub fn as_path(&self) -> &Path {
        Path::new(&self.0)
    }
}

impl fmt::Display for IpcPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name in the Linux abstract socket namespace, without the leading `@`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AbstractName(String);

impl AbstractName {
    /// Checks a name: at least one byte, `@` plus the name at most
    /// [`IPC_PATH_MAX`] bytes, no whitespace or control characters. Fails
    /// with [`EndpointError::AbstractUnsupported`] on platforms other than
    /// Linux and Android.
    pub fn new(name: &str) -> Result<AbstractName, EndpointError> {
        check_chars(name)?;
        if name.is_empty() {
            return Err(EndpointError::EmptyPath);
        }
        if !HAS_ABSTRACT_NAMESPACE {
            return Err(EndpointError::AbstractUnsupported {
                name: name.to_owned(),
            });
        }
        let len = name.len().saturating_add(1);
        if len > IPC_PATH_MAX {
            return Err(EndpointError::PathTooLong {
                len,
                max: IPC_PATH_MAX,
            });
        }
        Ok(AbstractName(name.to_owned()))
    }

    /// The name, without the leading `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AbstractName {
    /// The name with its leading `@`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// The name of an inproc endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InprocName(String);

impl InprocName {
    /// Checks a name: 1 to [`INPROC_NAME_MAX`] bytes, no whitespace or
    /// control characters.
    pub fn new(name: &str) -> Result<InprocName, EndpointError> {
        check_chars(name)?;
        if name.is_empty() {
            return Err(EndpointError::EmptyName);
        }
        if name.len() > INPROC_NAME_MAX {
            return Err(EndpointError::NameTooLong {
                len: name.len(),
                max: INPROC_NAME_MAX,
            });
        }
        Ok(InprocName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InprocName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Refuses whitespace and control characters (NUL included).
fn check_chars(text: &str) -> Result<(), EndpointError> {
    match text
        .char_indices()
        .find(|&(_, ch)| ch.is_whitespace() || ch.is_control())
    {
        Some((index, ch)) => Err(EndpointError::InvalidChar { ch, index }),
        None => Ok(()),
    }
}

/// An [`EndpointError::InvalidHost`].
fn invalid_host(host: &str, reason: &'static str) -> EndpointError {
    EndpointError::InvalidHost {
        host: host.to_owned(),
        reason,
    }
}

/// Why an endpoint string (or part of one) was refused.
///
/// Each variant carries the offending part of the input, and its
/// `Display` says what was expected.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointError {
    /// The endpoint string is empty.
    Empty,
    /// A whitespace or control character (NUL included) at byte `index` of
    /// the checked text.
    InvalidChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        index: usize,
    },
    /// No `scheme://` prefix.
    MissingScheme {
        /// The whole input.
        input: String,
    },
    /// A scheme that is not (or not yet) supported.
    UnknownScheme {
        /// The scheme, without `://`.
        scheme: String,
    },
    /// A tcp endpoint without a host.
    MissingHost {
        /// What followed `tcp://`.
        addr: String,
    },
    /// A tcp host that is neither `*`, an IP literal nor a valid DNS name.
    InvalidHost {
        /// The host as written.
        host: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tcp endpoint without a port.
    MissingPort {
        /// What followed `tcp://`.
        addr: String,
    },
    /// A port that is not a number from 0 to 65535 or `*`.
    InvalidPort {
        /// The port as written.
        port: String,
    },
    /// An ipc endpoint with an empty path or abstract name.
    EmptyPath,
    /// An ipc path (or `@` plus abstract name) longer than a Unix socket
    /// address holds on this platform.
    PathTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit, [`IPC_PATH_MAX`].
        max: usize,
    },
    /// A path refused by [`IpcPath::new`], or a bad WebSocket path.
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `ipc://@name` on a platform without an abstract socket namespace.
    AbstractUnsupported {
        /// The name, without `@`.
        name: String,
    },
    /// An inproc endpoint with an empty name.
    EmptyName,
    /// An inproc name longer than [`INPROC_NAME_MAX`].
    NameTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A bind-only endpoint given to connect.
    NotConnectable {
        /// The endpoint, in canonical form.
        endpoint: String,
        /// Which part is bind-only.
        reason: &'static str,
    },
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointError::Empty => f.write_str(
                "empty endpoint (expected e.g. `tcp://127.0.0.1:5555`, `ipc:///tmp/sock` or `inproc://name`)",
            ),
            EndpointError::InvalidChar { ch, index } => write!(
                f,
                "endpoint contains {ch:?} at byte {index}: whitespace and control characters are not allowed"
            ),
            EndpointError::MissingScheme { input } => write!(
                f,
                "endpoint `{input}` has no `transport://` prefix (supported: {})",
                Schemes
            ),
            EndpointError::UnknownScheme { scheme } => {
                if PLANNED_SCHEMES.contains(&scheme.as_str()) {
                    write!(f, "transport `{scheme}://` is not supported yet (supported: {})", Schemes)
                } else {
                    write!(f, "unknown transport `{scheme}://` (supported: {})", Schemes)
                }
            }
            EndpointError::MissingHost { addr } => write!(
                f,
                "tcp endpoint `tcp://{addr}` has no host (use `*` to bind every interface)"
            ),
            EndpointError::InvalidHost { host, reason } => {
                write!(f, "invalid host `{host}` in tcp endpoint: {reason}")
            }
            EndpointError::MissingPort { addr } => write!(
                f,
                "tcp endpoint `tcp://{addr}` has no port (use `:*` or `:0` to bind a port chosen by the system)"
            ),
            EndpointError::InvalidPort { port } => write!(
                f,
                "invalid port `{port}`: expected a number from 0 to 65535, or `*`"
            ),
            EndpointError::EmptyPath => f.write_str(
                "ipc endpoint has an empty path (use `ipc://*` to bind a generated path)",
            ),
            EndpointError::PathTooLong { len, max } => write!(
                f,
                "ipc path of {len} bytes does not fit a Unix socket address (at most {max} bytes on this platform)"
            ),
            EndpointError::InvalidPath { path, reason } => {
                write!(f, "invalid path `{path}`: {reason}")
            }
            EndpointError::AbstractUnsupported { name } => write!(
                f,
                "ipc endpoint `ipc://@{name}` names the Linux abstract socket namespace, which this platform does not have"
            ),
            EndpointError::EmptyName => f.write_str("inproc endpoint has an empty name"),
            EndpointError::NameTooLong { len, max } => write!(
                f,
                "inproc name of {len} bytes is longer than the {max} bytes allowed"
            ),
            EndpointError::NotConnectable { endpoint, reason } => write!(
                f,
                "cannot connect to `{endpoint}`: {reason} (valid for bind only)"
            ),
        }
    }
}

impl std::error::Error for EndpointError {}

/// Writes the supported schemes as `tcp://, ipc://, inproc://`.
struct Schemes;

impl fmt::Display for Schemes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scheme) in SUPPORTED_SCHEMES.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{scheme}://")?;
        }
        Ok(())
    }
}

/// Compile-time checks: endpoints and their errors cross threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Endpoint>();
    assert_send_sync::<EndpointError>();
};
