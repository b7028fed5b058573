//! The ipc transport of smolmq: `ipc://` endpoints over Unix domain
//! sockets, on async-io.
//!
//! [`IpcTransport`] implements smolmq-core's [`Transport`]: binding gives a
//! [`Listener`] of accepted connections, connecting gives a [`Connection`];
//! both carry an `async_io::Async<std::os::unix::net::UnixStream>` as a
//! futures-io byte stream. The transport knows nothing of ZMTP: the engine
//! runs its codec over the stream.
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncWriteExt};
//! use smolmq_core::transport::{accept, Transport};
//! use smolmq_core::{Endpoint, SocketOptions};
//! use smolmq_ipc::IpcTransport;
//!
//! let options = SocketOptions::default();
//! async_io::block_on(async {
//!     // `ipc://*`: a fresh socket file in the temp directory.
//!     let mut listener = IpcTransport.bind(&Endpoint::parse("ipc://*")?, &options)?;
//!     let bound = listener.local_endpoint().clone();
//!     assert!(bound.to_string().ends_with(".sock"));
//!
//!     let mut client = IpcTransport.connect(&bound, &options).await?;
//!     let mut server = accept(&mut *listener).await?;
//!
//!     // Echo a few bytes back.
//!     client.stream.write_all(b"hello").await?;
//!     let mut buf = [0; 5];
//!     server.stream.read_exact(&mut buf).await?;
//!     server.stream.write_all(&buf).await?;
//!     client.stream.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"hello");
//!
//!     // Dropping the listener removes its socket file.
//!     drop(listener);
//!     let path = bound.to_string()["ipc://".len()..].to_owned();
//!     assert!(!std::path::Path::new(&path).exists());
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Binding
//!
//! | endpoint | binds | [`local_endpoint`](Listener::local_endpoint) |
//! |---|---|---|
//! | `ipc:///run/app/feed.sock` | that path | the same |
//! | `ipc://feed.sock` | a path relative to the working directory | the same |
//! | `ipc://@feed` | the name `feed` in the Linux abstract namespace (Linux and Android only) | the same |
//! | `ipc://*` | a new path in the temp directory: `$TMPDIR/smolmq-<pid>-<n>.sock` | that path |
//!
//! The listen backlog is [`SocketOptions::backlog`]; the kernel buffer
//! sizes of every connection, accepted or connected, are
//! [`SocketOptions::sndbuf`] and [`SocketOptions::rcvbuf`] where set (the
//! system's otherwise: unlike tcp, a Unix socket's default send buffer is
//! small and fixed, `net.core.wmem_default`). No other option concerns
//! ipc.
//!
//! **Socket files.** Binding a path creates a socket file there. If a file
//! is already there:
//!
//! * a socket file nobody listens on (left by a process that ended without
//!   cleaning up: *stale*) is removed and the path bound again;
//! * a socket someone listens on is never taken over: binding fails with
//!   [`AddrInUse`](io::ErrorKind::AddrInUse) (libzmq removes the file
//!   regardless, silently cutting the other listener off);
//! * any other file (a regular file, a directory) is left alone and binding
//!   fails with `AddrInUse`.
//!
//! To tell a stale socket from a live one the listener tries to connect to
//! it; a live listener sees that probe as a connection that closes at once.
//!
//! Dropping the listener removes the socket file it created, if that file
//! is still there (same device and inode: a file another process bound
//! since is kept). Abstract names have no file: the name is released when
//! the listener closes.
//!
//! # Connecting
//!
//! A Unix connect completes at once, so
//! [`connect_timeout`](SocketOptions::connect_timeout) has nothing to bound.
//! It fails with [`NotFound`](io::ErrorKind::NotFound) when the path does
//! not exist, [`ConnectionRefused`](io::ErrorKind::ConnectionRefused) when
//! nobody listens there (a stale file), and
//! [`WouldBlock`](io::ErrorKind::WouldBlock) when the listener's backlog is
//! full (try again later, as libzmq's reconnect does). `ipc://*` is refused
//! with [`InvalidInput`](io::ErrorKind::InvalidInput).
//!
//! # Errors
//!
//! Every error is an [`io::Error`] of the original kind whose message
//! names the endpoint: `cannot bind ipc:///tmp/feed.sock: Address already in
//! use (os error 98): a listener is live on this path`. A path too long for
//! a Unix socket address is refused when the endpoint is parsed
//! ([`EndpointError::PathTooLong`](smolmq_core::EndpointError::PathTooLong)),
//! and for `ipc://*` when the temp directory's path leaves no room for the
//! file name (`InvalidInput`).
//!
//! # Without the trait
//!
//! [`IpcListener`] and [`connect`] give the concrete `Async<UnixStream>`,
//! for callers that want to inspect or tune the socket.

#![cfg(unix)]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod connect;
mod listener;
mod sys;

pub use connect::connect;
pub use listener::IpcListener;

use smolmq_core::transport::{BoxFuture, Connection, Listener, Transport};
use smolmq_core::{Endpoint, IpcAddr, SocketOptions};
use std::io;

/// The ipc transport: serves `ipc://` endpoints over Unix domain sockets.
///
/// A unit struct without state: every call takes the endpoint and the
/// options it needs. See the [crate docs](crate) for what bind and connect
/// do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpcTransport;

impl IpcTransport {
    /// The scheme served, as written before `://`.
    pub const SCHEME: &'static str = "ipc";
}

impl Transport for IpcTransport {
    fn scheme(&self) -> &'static str {
        Self::SCHEME
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        Ok(Box::new(IpcListener::bind(endpoint, options)?))
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(async move {
            let stream = connect(endpoint, options).await?;
            // The peer is the listener's address; an accepted stream's peer
            // is unnamed.
            let peer = match endpoint {
                Endpoint::Ipc(addr @ (IpcAddr::Path(_) | IpcAddr::Abstract(_))) => addr.to_string(),
                _ => String::new(),
            };
            Ok(Connection {
                stream: Box::new(stream),
                peer,
            })
        })
    }
}

/// The same error kind, with a message that says what was being done:
/// `cannot bind ipc://...: <the original message>`.
fn context(err: io::Error, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

/// The error for an endpoint of another transport.
fn wrong_scheme(action: &str, endpoint: &Endpoint) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("cannot {action} {endpoint}: the ipc transport serves ipc:// endpoints only"),
    )
}

/// Compile-time checks: the transport and its listener move between
/// threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IpcTransport>();
    assert_send_sync::<IpcListener>();
};
