//! The transport traits: how an endpoint becomes a listener or a
//! connection carrying bytes.
//!
//! A stream transport (tcp, ipc, later tls and ws) turns an [`Endpoint`]
//! into a [`Listener`] that accepts [`BoxStream`]s, or connects to one. It
//! knows nothing of ZMTP, messages or sockets: the engine runs a codec over
//! whatever stream it gets. (inproc has no bytes and no codec: it hands
//! message pipes straight to the peer socket, and is not a `Transport`.)
//!
//! Transports live in their own crates (`smolmq-tcp`, `smolmq-ipc`) that
//! implement these traits; a context is given the transports it may use.
//!
//! Streams are `futures_io` `AsyncRead + AsyncWrite`, as async-io's
//! `Async<TcpStream>` and `Async<UnixStream>` are, so any runtime-agnostic
//! byte stream (a TLS session, a WebSocket adapter) fits.

use crate::{Endpoint, SocketOptions};
use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// A duplex byte stream a transport hands to an engine.
///
/// # Closing
///
/// When a connection's engine ends (the socket closed its end and what
/// it had queued is written, the peer closed, an error, a timeout), the
/// socket calls the stream's [`AsyncWrite::poll_close`] before dropping
/// it, on the connection's own task, for at most [`CLOSE_TIMEOUT`] (best
/// effort: an error ends it sooner, a peer that does not read makes it
/// wait that long). That is a transport's hook to end its protocol
/// properly: TLS sends its close_notify, a WebSocket its Close frame, tcp
/// its FIN. It is called once per connection, never on the data path.
///
/// A connection whose task is cancelled instead is dropped without it:
/// [`Socket::disconnect`](crate::Socket::disconnect), a connecting
/// socket's LINGER running out, the context ending. A transport that must
/// say goodbye even then can try a write that does not wait in its
/// stream's `Drop` (smolmq-ws does).
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

/// How long the socket waits for a stream's
/// [`poll_close`](AsyncWrite::poll_close) after its engine ended (see
/// [`Stream`]), before it drops the stream anyway.
pub const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Marks `err`, an I/O error of a connection's stream, as the peer
/// refusing the transport's handshake, found only after
/// [`Transport::establish`] had returned: in TLS 1.3 a client's handshake
/// is over before the server checks the client's certificate, and the
/// server's refusal (an alert) arrives with the first bytes the client
/// reads, during the ZMTP greeting. An engine that ends with such an error
/// is reported as a failed handshake (`SocketEvent::HandshakeFailed`,
/// with `err`'s text as the reason) instead of a disconnection. The kind
/// and the text stay `err`'s.
pub fn handshake_refused(err: io::Error) -> io::Error {
    io::Error::new(err.kind(), HandshakeRefused(err.to_string()))
}

/// Whether `err` was marked by [`handshake_refused`].
pub fn is_handshake_refused(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<HandshakeRefused>())
}

/// The mark of [`handshake_refused`]: the error's text.
#[derive(Debug)]
struct HandshakeRefused(String);

impl fmt::Display for HandshakeRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HandshakeRefused {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A boxed [`Stream`]: engines are not generic over transports (one dynamic
/// call per read or write batch costs nothing measurable).
pub type BoxStream = Box<dyn Stream>;

/// A boxed, sendable future, as returned by [`Transport::connect`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A stream transport for one or more endpoint schemes.
pub trait Transport: Send + Sync + 'static {
    /// The scheme this transport serves, as in `Endpoint::transport()`
    /// (`"tcp"`, `"ipc"`).
    fn scheme(&self) -> &'static str;

    /// Binds `endpoint` and returns a listener, ready to accept.
    ///
    /// Wildcards are resolved here: `tcp://*:0` binds all interfaces on a
    /// port chosen by the system, `ipc://*` a generated path; the
    /// listener's [`local_endpoint`](Listener::local_endpoint) says which
    /// (libzmq's LAST_ENDPOINT). Binding is quick and does not block on the
    /// network, so it is synchronous and must be called on a thread where
    /// async-io may register sources (any thread).
    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>>;

    /// Connects to `endpoint`: resolves host names, connects (within
    /// `options.connect_timeout` when set) and applies the options (e.g.
    /// TCP_NODELAY, keepalive).
    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>>;

    /// Checks, when the socket is asked to connect and before any attempt,
    /// that `options` suit `endpoint` (a TLS certificate that parses, a
    /// CA bundle to verify the server with), so that a mistake is an error
    /// of [`Socket::connect`](crate::Socket::connect) rather than a
    /// connection that fails again at every retry. The default accepts
    /// everything.
    fn check_connect(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<()> {
        let _ = (endpoint, options);
        Ok(())
    }

    /// Finishes a new connection before the engine speaks over it: the TLS
    /// handshake, the WebSocket upgrade. The default passes the connection
    /// through unchanged.
    ///
    /// The socket calls it on the connection's own task, after
    /// [`poll_accept`](Listener::poll_accept) (`side` is
    /// [`Side::Accepted`]) or [`connect`](Transport::connect)
    /// ([`Side::Connected`]), so a slow or failing peer holds up no other
    /// connection and the listener goes on accepting. An error is reported
    /// as a failed handshake (`SocketEvent::HandshakeFailed`, with the
    /// error's text as the reason) and the connection is dropped; a
    /// connecting socket then retries as after any failed connection. The
    /// handshake interval (`options.handshake_ivl`) bounds this step too,
    /// apart from the ZMTP handshake that follows it.
    fn establish(
        &self,
        conn: Connection,
        endpoint: &Endpoint,
        options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        let _ = (endpoint, options, side);
        Box::pin(std::future::ready(Ok(conn)))
    }
}

/// Which end of a connection [`Transport::establish`] is finishing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// A connection a listener accepted: we are the server (of TLS, of the
    /// WebSocket upgrade).
    Accepted,
    /// A connection we made: we are the client.
    Connected,
}

/// A bound endpoint accepting connections.
///
/// Dropping the listener unbinds (and, for ipc, removes the socket file it
/// created).
pub trait Listener: Send + fmt::Debug + 'static {
    /// The endpoint actually bound, with wildcards resolved.
    fn local_endpoint(&self) -> &Endpoint;

    /// Accepts the next connection, with the listener's options applied to
    /// it. Errors that concern only one incoming connection (the peer reset
    /// it before it was accepted) are returned and the listener stays
    /// usable; the caller decides whether to go on.
    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Connection>>;
}

/// An established connection: the stream and where it goes.
pub struct Connection {
    /// The byte stream.
    pub stream: BoxStream,
    /// The peer's address, as text for monitoring (e.g. `127.0.0.1:53124`;
    /// empty where the transport has none, e.g. an unnamed Unix socket).
    pub peer: String,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// Accepts the next connection of `listener`, as a future.
pub fn accept(listener: &mut dyn Listener) -> impl Future<Output = io::Result<Connection>> + '_ {
    std::future::poll_fn(move |cx| listener.poll_accept(cx))
}
