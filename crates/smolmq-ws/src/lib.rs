//! The ws transport of smolmq: ZeroMQ over WebSocket, `ws://host:port/path`
//! endpoints, as RFC 45 (ZWS 2.0) specifies it.
//!
//! [`WsTransport`] implements smolmq-core's [`Transport`]. Add it to a
//! context (the `smolmq` facade does with its `ws` feature) and every
//! socket type binds and connects `ws://` endpoints, talking to other ZWS
//! 2.0 peers: libzmq built with its WebSocket transport, jszmq in a browser
//! or under Node.js.
//!
//! ```
//! use smolmq_core::{Context, Msg};
//! use smolmq_zmtp::SocketType;
//! use std::sync::Arc;
//!
//! let ctx = Context::new()?;
//! ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
//!
//! let mut server = ctx.socket(SocketType::Pair)?;
//! server.bind("ws://127.0.0.1:0/zmq")?;
//! let endpoint = server.last_endpoint().unwrap().to_string(); // the port chosen
//! assert!(endpoint.starts_with("ws://127.0.0.1:") && endpoint.ends_with("/zmq"));
//!
//! let mut client = ctx.socket(SocketType::Pair)?;
//! client.connect(&endpoint)?;
//! client.send_blocking(Msg::from("hello")).map_err(|e| e.into_error())?;
//! assert_eq!(server.recv_blocking()?, Msg::from("hello"));
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # On the wire
//!
//! * **Upgrade.** The tcp connection (made by `smolmq-tcp`, with its
//!   options) is upgraded in [`Transport::establish`], on the connection's
//!   own task and within `handshake_ivl`: the client sends `GET <path>` with
//!   `Host: host:port` and `Sec-WebSocket-Protocol: ZWS2.0/NULL, ZWS2.0`
//!   (NULL mechanism, as libzmq offers) or `ZWS2.0/PLAIN` (PLAIN client or
//!   server); the server refuses a request for another path (404), one
//!   that offers none of its subprotocols (400), and anything that is not
//!   a WebSocket upgrade, each reported as `SocketEvent::HandshakeFailed`
//!   with the reason, and goes on accepting. It picks the first
//!   subprotocol in the client's list that it speaks (as libzmq does).
//! * **Framing.** Each ZMTP frame is one binary WebSocket message: a flags
//!   byte (`0x00` last, `0x01` more, `0x02` command) and the body.
//!   Subscriptions travel as messages (`0x01` / `0x00` and the topic), as
//!   RFC 45 says, never as ZMTP 3.1 SUBSCRIBE / CANCEL commands.
//! * **`ZWS2.0/NULL` and `ZWS2.0/PLAIN`**: the ZMTP handshake's commands
//!   (READY; HELLO, WELCOME, INITIATE), heartbeats (PING / PONG) and ERROR
//!   go as command messages. There is no ZMTP greeting.
//! * **`ZWS2.0`, no mechanism**: each side's first message is its routing
//!   id, then messages only: no socket type check (the peer announces
//!   none), heartbeats as WebSocket ping / pong. jszmq speaks only this.
//!   A server that answers `ZWS2.0/NULL` and then sends a plain message
//!   first (jszmq's server takes the client's first offer whatever it
//!   speaks) is read as `ZWS2.0`.
//!
//! # How it is built
//!
//! The engine speaks ZMTP over a byte stream, and [`ZwsStream`] presents a
//! WebSocket as one: it swallows our greeting, makes up the peer's from the
//! subprotocol, and turns each WebSocket message into a ZMTP frame and
//! back (the [`zws`] module, sans-IO, fuzzed and property-tested). The
//! engine, its handshake, heartbeats and every socket pattern work over it
//! unchanged.
//!
//! The upgrade (HTTP, the key and accept hash, the subprotocol headers) is
//! [tungstenite]'s, through async-tungstenite on futures-io streams (no
//! tokio): the most used Rust WebSocket implementation, maintained, strict
//! about RFC 6455, with a bounded request (64 KiB). The frames after it
//! are this crate's [`frame`] module (sans-IO, the RFC's checks, fuzzed
//! and property-tested), for a measured reason: with tungstenite's
//! message API on the data path, PUSH_PULL at 64 B over ws ran at 0.27x of
//! smolmq's own tcp (target 0.70x), and a profile spread the difference
//! over the library's per-message work (a waker registered per message,
//! a `Bytes` and a frame object per message each way, per-call state
//! checks). [`ZwsStream`] now writes the engine's frames as WebSocket
//! frames straight into one write buffer, in place, and reads frames out
//! of one read buffer; the figures are in `docs/benchmarks.md`. tungstenite
//! itself is the peer of the frames' tests (`tests/frames.rs`), and jszmq's
//! `ws` (Node.js) of the interop tests.
//!
//! **Closing.** When our side ends a connection (the socket dropped or
//! disconnected it, or the peer broke the protocol), a Close frame goes
//! first (RFC 6455, section 5.5.1) with its status: 1000 for a normal
//! close, 1002 for a protocol error, 1003 for a text message, 1009 for a
//! message over the limit. It is sent from the stream's `poll_close`
//! (smolmq-core calls it when the engine ends, bounded in time) or, when
//! the connection's task was cancelled instead (a `disconnect`, LINGER
//! over), by one write on drop that does not wait. We do not wait for the
//! peer's answering Close. A peer's Close is answered with its status, once.
//!
//! Limits: a peer's message is at most MAXMSGSIZE + 1 bytes (its flags
//! byte), 64 MiB when MAXMSGSIZE is unlimited; a fragmented one is
//! gathered up to that limit; a lying length makes the connection reserve
//! at most 1 MiB ahead.
//!
//! [tungstenite]: https://docs.rs/tungstenite
//!
//! # Endpoints
//!
//! `ws://host:port/path`; the path defaults to `/`. Binding delegates to
//! the tcp transport (`*` and port 0 work as for `tcp://`), and the
//! listener reports `ws://0.0.0.0:41234/path` with the port the system
//! chose. One bound endpoint serves one path.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

pub mod frame;
mod stream;
mod upgrade;
#[cfg(feature = "wss")]
mod wss;
pub mod zws;

/// The tls transport `wss://` is built on, for its options
/// ([`tls::TlsOptions`], [`tls::set_tls`]).
#[cfg(feature = "wss")]
pub use smolmq_tls as tls;
pub use stream::ZwsStream;
#[cfg(feature = "wss")]
pub use wss::WssTransport;

use smolmq_core::transport::{BoxFuture, Connection, Listener, Side, Transport};
use smolmq_core::{Endpoint, SocketOptions, TcpAddr, WsAddr};
use smolmq_tcp::{TcpListener, TcpTransport};
use std::fmt;
use std::io;
use upgrade::UpgradeConfig;

/// The ws transport: serves `ws://` endpoints.
///
/// A unit struct without state: every call takes the endpoint and the
/// options it needs. See the [crate docs](crate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WsTransport;

impl WsTransport {
    /// The scheme served, as written before `://`.
    pub const SCHEME: &'static str = "ws";
}

impl Transport for WsTransport {
    fn scheme(&self) -> &'static str {
        Self::SCHEME
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        bind(endpoint, options, Scheme::Ws)
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(connect(endpoint, options, Scheme::Ws))
    }

    fn establish(
        &self,
        conn: Connection,
        endpoint: &Endpoint,
        options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        let conn = Box::pin(std::future::ready(Ok(conn)));
        establish(conn, endpoint, options, side, Scheme::Ws)
    }
}

/// `ws://` or `wss://`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// WebSocket over tcp.
    Ws,
    /// WebSocket over TLS over tcp.
    #[cfg_attr(not(feature = "wss"), allow(dead_code))]
    Wss,
}

impl Scheme {
    /// As written before `://`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

/// Binds the tcp part of a `ws://` / `wss://` endpoint: a tcp listener
/// reporting the endpoint in `scheme` with the port bound. The upgrade
/// comes later, in `establish`, on the connection's task.
pub(crate) fn bind(
    endpoint: &Endpoint,
    options: &SocketOptions,
    scheme: Scheme,
) -> io::Result<Box<dyn Listener>> {
    let addr = ws_addr("bind", endpoint, scheme)?;
    let mut tcp = TcpListener::bind(&Endpoint::Tcp(addr.addr().clone()), options)?;
    let bound = WsAddr::new(TcpAddr::from(tcp.local_addr()), addr.path())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    tcp.report_as(match scheme {
        Scheme::Ws => Endpoint::Ws(bound),
        Scheme::Wss => Endpoint::Wss(bound),
    });
    Ok(Box::new(tcp))
}

/// Connects the tcp part of a `ws://` / `wss://` endpoint.
pub(crate) async fn connect(
    endpoint: &Endpoint,
    options: &SocketOptions,
    scheme: Scheme,
) -> io::Result<Connection> {
    let addr = ws_addr("connect to", endpoint, scheme)?;
    TcpTransport
        .connect(&Endpoint::Tcp(addr.addr().clone()), options)
        .await
        .map_err(|e| {
            let message = e
                .to_string()
                .replacen("tcp://", &format!("{}://", scheme.as_str()), 1);
            io::Error::new(e.kind(), message)
        })
}

/// The `establish` step of ws and wss: `conn` (for wss, the TLS
/// handshake), then the WebSocket upgrade over the connection it gives.
pub(crate) fn establish(
    conn: BoxFuture<'static, io::Result<Connection>>,
    endpoint: &Endpoint,
    options: &SocketOptions,
    side: Side,
    scheme: Scheme,
) -> BoxFuture<'static, io::Result<Connection>> {
    let addr = ws_addr("upgrade a connection of", endpoint, scheme).cloned();
    let config = UpgradeConfig::new(options, scheme);
    Box::pin(async move {
        let addr = addr?;
        let Connection { stream, peer } = conn.await?;
        let stream = match side {
            Side::Accepted => upgrade::accept(stream, &addr, &config, &peer).await?,
            Side::Connected => upgrade::connect(stream, &addr, &config).await?,
        };
        Ok(Connection {
            stream: Box::new(stream),
            peer,
        })
    })
}

/// The WebSocket address of `endpoint` in `scheme`, or an error naming
/// `action`.
pub(crate) fn ws_addr<'a>(
    action: &str,
    endpoint: &'a Endpoint,
    scheme: Scheme,
) -> io::Result<&'a WsAddr> {
    match (endpoint, scheme) {
        (Endpoint::Ws(addr), Scheme::Ws) | (Endpoint::Wss(addr), Scheme::Wss) => Ok(addr),
        (other, scheme) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot {action} {other}: the {s} transport serves {s}:// endpoints only",
                s = scheme.as_str()
            ),
        )),
    }
}

/// A ZWS 2.0 subprotocol, as named in `Sec-WebSocket-Protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subprotocol {
    /// `ZWS2.0`: no mechanism; each side's first message is its routing id.
    Bare,
    /// `ZWS2.0/NULL`: ZMTP's NULL mechanism (READY commands).
    Null,
    /// `ZWS2.0/PLAIN`: ZMTP's PLAIN mechanism.
    Plain,
}

impl Subprotocol {
    /// The name in `Sec-WebSocket-Protocol`.
    ///
    /// ```
    /// assert_eq!(smolmq_ws::Subprotocol::Null.as_str(), "ZWS2.0/NULL");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Subprotocol::Bare => "ZWS2.0",
            Subprotocol::Null => "ZWS2.0/NULL",
            Subprotocol::Plain => "ZWS2.0/PLAIN",
        }
    }
}

impl fmt::Display for Subprotocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compile-time checks: the transport and its stream move between
/// threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    const fn assert_send<T: Send>() {}
    assert_send_sync::<WsTransport>();
    assert_send::<ZwsStream>();
};
