//! The tcp transport of smolmq: `tcp://host:port` endpoints over IPv4 and
//! IPv6, on async-io.
//!
//! [`TcpTransport`] implements smolmq-core's
//! [`Transport`]: binding gives a
//! [`Listener`] of accepted connections, connecting gives
//! a [`Connection`]; both carry an
//! `async_io::Async<std::net::TcpStream>` as a futures-io byte stream. The
//! transport knows nothing of ZMTP: the engine runs its codec over the
//! stream.
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//! use smolmq_core::transport::{accept, Transport};
//! use smolmq_core::{Endpoint, SocketOptions};
//! use smolmq_tcp::TcpTransport;
//!
//! let options = SocketOptions::default();
//! async_io::block_on(async {
//!     // Port 0: the system picks one, and the listener says which.
//!     let mut listener = TcpTransport.bind(&Endpoint::parse("tcp://127.0.0.1:0")?, &options)?;
//!     let bound = listener.local_endpoint().clone();
//!     assert!(bound.to_string().starts_with("tcp://127.0.0.1:"));
//!
//!     let mut client = TcpTransport.connect(&bound, &options).await?;
//!     let mut server = accept(&mut *listener).await?;
//!
//!     // Echo a few bytes back.
//!     client.stream.write_all(b"hello").await?;
//!     let mut buf = [0; 5];
//!     server.stream.read_exact(&mut buf).await?;
//!     server.stream.write_all(&buf).await?;
//!     client.stream.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"hello");
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Binding
//!
//! | endpoint | binds | [`local_endpoint`](Listener::local_endpoint) |
//! |---|---|---|
//! | `tcp://127.0.0.1:5555` | that address | `tcp://127.0.0.1:5555` |
//! | `tcp://[::1]:0` | that address, a port chosen by the system | `tcp://[::1]:41234` |
//! | `tcp://*:5555` | every IPv4 interface (`0.0.0.0`) | `tcp://0.0.0.0:5555` |
//! | `tcp://*:5555`, `ipv6` on | every interface, IPv6 and IPv4 (`[::]`, dual stack) | `tcp://[::]:5555` |
//! | `tcp://localhost:0` | the first address the name resolves to | `tcp://127.0.0.1:41234` |
//!
//! As libzmq does, the listener reports the address it actually bound
//! (`0.0.0.0` for `*`), so its endpoint can be handed to a peer on the same
//! host. The listening socket has `SO_REUSEADDR` (as libzmq on Unix, so
//! that a restarted server can bind its port while old connections linger
//! in `TIME_WAIT`; two live listeners still cannot share a port), and a
//! listen backlog of [`SocketOptions::backlog`].
//!
//! # Connecting
//!
//! IP literals are used as they are. A host name is resolved with the
//! system resolver (`getaddrinfo`), which blocks the calling thread: this
//! crate has no thread pool to hide it, so a name that resolves slowly
//! stalls the executor polling the connect future for that long. Use IP
//! literals where that matters. The addresses are tried in the order the
//! resolver gives them until one accepts; with
//! [`ipv6`](SocketOptions::ipv6) off (the default) only IPv4 addresses of a
//! name are used. An IPv6 *literal* is always honoured, as is `ipv6` for
//! `*` and names only.
//!
//! [`connect_timeout`](SocketOptions::connect_timeout) bounds the whole
//! attempt (resolution excepted); when it expires the error is
//! [`TimedOut`](io::ErrorKind::TimedOut). Bind-only endpoints (`*` or port
//! 0) are refused with [`InvalidInput`](io::ErrorKind::InvalidInput).
//!
//! # Options applied to every connection
//!
//! Both accepted and connected streams get:
//!
//! * `TCP_NODELAY` when [`tcp_nodelay`](SocketOptions::tcp_nodelay) is set
//!   (the default);
//! * `SO_KEEPALIVE` per [`tcp_keepalive`](SocketOptions::tcp_keepalive):
//!   left alone for `OsDefault`, off for `Off`, on for `On`, and then
//!   `TCP_KEEPIDLE` / `TCP_KEEPCNT` / `TCP_KEEPINTVL` from the
//!   `tcp_keepalive_*` fields that are set (as libzmq, these are applied only
//!   with keepalive on, and skipped silently on systems without them);
//! * `SO_SNDBUF` and `SO_RCVBUF` from [`sndbuf`](SocketOptions::sndbuf) and
//!   [`rcvbuf`](SocketOptions::rcvbuf) where set; with `sndbuf` unset, a
//!   connection whose peer is a loopback address gets
//!   [`LOOPBACK_SNDBUF`](smolmq_core::LOOPBACK_SNDBUF) (the field says why).
//!
//! A listener applies the options it was bound with to every connection it
//! accepts.
//!
//! # Errors
//!
//! Every error is an [`io::Error`] of the original kind (`AddrInUse`,
//! `ConnectionRefused`, `TimedOut`, ...) whose message names the endpoint:
//! `cannot bind tcp://127.0.0.1:5555: Address already in use (os error 98)`.
//!
//! # Without the trait
//!
//! [`TcpListener`] and [`connect`] give the concrete
//! `Async<TcpStream>` and the peer's [`SocketAddr`](std::net::SocketAddr),
//! for callers that want to inspect or tune the socket.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod connect;
mod listener;
mod sockopt;

pub use connect::connect;
pub use listener::TcpListener;

use smolmq_core::transport::{BoxFuture, Connection, Listener, Transport};
use smolmq_core::{Endpoint, SocketOptions};
use std::io;

/// The tcp transport: serves `tcp://` endpoints.
///
/// A unit struct without state: every call takes the endpoint and the
/// options it needs. See the [crate docs](crate) for what bind and connect
/// do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpTransport;

impl TcpTransport {
    /// The scheme served, as written before `://`.
    pub const SCHEME: &'static str = "tcp";
}

impl Transport for TcpTransport {
    fn scheme(&self) -> &'static str {
        Self::SCHEME
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        Ok(Box::new(TcpListener::bind(endpoint, options)?))
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(async move {
            let (stream, peer) = connect(endpoint, options).await?;
            Ok(Connection {
                stream: Box::new(stream),
                peer: peer.to_string(),
            })
        })
    }
}

/// The same error kind, with a message that says what was being done:
/// `cannot bind tcp://...: <the original message>`.
fn context(err: io::Error, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

/// The error for an endpoint of another transport.
fn wrong_scheme(action: &str, endpoint: &Endpoint) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("cannot {action} {endpoint}: the tcp transport serves tcp:// endpoints only"),
    )
}

/// Compile-time checks: the transport and its listener move between
/// threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    const fn assert_send<T: Send>() {}
    assert_send_sync::<TcpTransport>();
    assert_send_sync::<TcpListener>();
    assert_send::<Connection>();
};
