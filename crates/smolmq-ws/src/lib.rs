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
//! The WebSocket protocol itself is [tungstenite], through
//! async-tungstenite on futures-io streams (no tokio): the most used
//! Rust WebSocket implementation, well kept, strict about RFC 6455 (masks,
//! control frames, UTF-8, the closing handshake) and with bounded buffers
//! (a handshake request of at most 64 KiB; messages of at most
//! MAXMSGSIZE + 1 bytes, or tungstenite's 64 MiB when MAXMSGSIZE is
//! unlimited).
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

mod stream;
mod upgrade;
pub mod zws;

pub use stream::ZwsStream;

use smolmq_core::transport::{BoxFuture, Connection, Listener, Side, Transport};
use smolmq_core::{Endpoint, SocketOptions, WsAddr};
use smolmq_tcp::TcpTransport;
use std::fmt;
use std::io;
use std::task::{Context, Poll};
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
        let addr = ws_addr("bind", endpoint)?;
        let tcp = TcpTransport.bind(&Endpoint::Tcp(addr.addr().clone()), options)?;
        let Some(Endpoint::Tcp(bound)) = Some(tcp.local_endpoint().clone()) else {
            return Err(io::Error::other("the tcp listener reports no tcp endpoint"));
        };
        let endpoint = Endpoint::Ws(
            WsAddr::new(bound, addr.path())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
        );
        Ok(Box::new(WsListener { tcp, endpoint }))
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(async move {
            let addr = ws_addr("connect to", endpoint)?;
            TcpTransport
                .connect(&Endpoint::Tcp(addr.addr().clone()), options)
                .await
                .map_err(|e| io::Error::new(e.kind(), e.to_string().replace("tcp://", "ws://")))
        })
    }

    fn establish(
        &self,
        conn: Connection,
        endpoint: &Endpoint,
        options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        let addr = ws_addr("upgrade a connection of", endpoint).cloned();
        let config = UpgradeConfig::new(options);
        Box::pin(async move {
            let addr = addr?;
            let Connection { stream, peer } = conn;
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
}

/// A bound `ws://` endpoint: the tcp listener, reporting the ws endpoint.
struct WsListener {
    /// The tcp listener underneath.
    tcp: Box<dyn Listener>,
    /// The endpoint bound, wildcards and port resolved.
    endpoint: Endpoint,
}

impl Listener for WsListener {
    fn local_endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Connection>> {
        // The upgrade comes later, in `establish`, on the connection's task.
        self.tcp.poll_accept(cx)
    }
}

impl fmt::Debug for WsListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsListener")
            .field("endpoint", &self.endpoint.to_string())
            .finish_non_exhaustive()
    }
}

/// The WebSocket address of `endpoint`, or an error naming `action`.
fn ws_addr<'a>(action: &str, endpoint: &'a Endpoint) -> io::Result<&'a WsAddr> {
    match endpoint {
        Endpoint::Ws(addr) => Ok(addr),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot {action} {other}: the ws transport serves ws:// endpoints only"),
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

/// Compile-time checks: the transport, its listener and its stream move
/// between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    const fn assert_send<T: Send>() {}
    assert_send_sync::<WsTransport>();
    assert_send::<WsListener>();
    assert_send::<ZwsStream>();
};
