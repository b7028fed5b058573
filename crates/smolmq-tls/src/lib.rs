//! The tls transport of smolmq: `tls://host:port` endpoints, ZMTP over TLS
//! 1.2 / 1.3 over tcp.
//!
//! [`TlsTransport`] implements smolmq-core's [`Transport`]: it binds and
//! connects tcp through [`smolmq_tcp`], and runs the TLS handshake in
//! [`Transport::establish`], on each connection's own task, so a slow or
//! failing peer holds up nobody and a failed handshake is a
//! `SocketEvent::HandshakeFailed` with rustls's reason. The engine then
//! speaks ZMTP over the encrypted stream, unchanged: every socket type,
//! heartbeats and PLAIN work as over tcp.
//!
//! TLS is [rustls](https://docs.rs/rustls) on its *ring* crypto provider
//! (no OpenSSL, no aws-lc: it builds with a C compiler alone), driven over
//! futures-io by futures-rustls, so no runtime is tied in.
//!
//! Each socket carries its own [`TlsOptions`] (certificates and keys as
//! PEM, CA bundle, verification on or off, mutual TLS, the server name to
//! check, the system roots), set with [`set_tls`]:
//!
//! ```
//! use smolmq_core::{Context, Msg};
//! use smolmq_zmtp::SocketType;
//! use smolmq_tls::{set_tls, TlsOptions, TlsTransport};
//! use std::sync::Arc;
//!
//! // A certificate for "localhost", made for the example (rcgen); a real
//! // one comes from a file: std::fs::read("server.pem")?.
//! let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
//! let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
//!
//! let ctx = Context::new()?;
//! ctx.add_transport(Arc::new(TlsTransport::new()));
//!
//! let mut server = ctx.socket(SocketType::Pair)?;
//! set_tls(&mut server, TlsOptions::server(cert_pem.clone(), key_pem))?;
//! server.bind("tls://127.0.0.1:0")?;
//! let port = server.last_endpoint().unwrap().tcp_addr().unwrap().port();
//!
//! // The client trusts that certificate and checks the name "localhost".
//! let mut client = ctx.socket(SocketType::Pair)?;
//! set_tls(&mut client, TlsOptions::client(cert_pem))?;
//! client.connect(&format!("tls://localhost:{port}"))?;
//!
//! client.send_blocking(Msg::from("hello")).map_err(|e| e.into_error())?;
//! assert_eq!(server.recv_blocking()?, Msg::from("hello"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Endpoints
//!
//! `tls://host:port` is bound and connected as `tcp://host:port` is (see
//! [`smolmq_tcp`]: wildcards, port 0, names, IPv6, the tcp options); the
//! listener reports `tls://` with the port it got. A client checks the
//! server's certificate against the endpoint's host, a DNS name or an IP
//! address, unless [`TlsOptions::server_name`] names another.
//! `tls+jsonl://` (MCP over TLS) reaches this transport with its inner
//! `tls://` endpoint.
//!
//! # Errors
//!
//! * At `Socket::bind` / `Socket::connect`: a server without a
//!   certificate, a PEM that does not parse, a key that does not match
//!   its certificate, a client with nothing to verify the server with.
//!   The message names the [`TlsOptions`] field.
//! * Per connection, as `HandshakeFailed { reason }` on the side that
//!   found the fault: rustls's reason (`invalid peer certificate:
//!   UnknownIssuer`, `... certificate expired ...`, `... not valid for
//!   name ...`, `peer sent no certificates`, `received fatal alert: ...`),
//!   or "the peer does not speak TLS" for a plain ZMTP peer. The listener
//!   goes on accepting; a connecting socket retries after its reconnect
//!   interval.
//! * A client refused late: in TLS 1.3 the client's handshake is over
//!   before the server checks the client's certificate, so a server that
//!   requires one and gets none (or one it does not trust) answers with
//!   an alert where its ZMTP greeting should be. A TLS error read before
//!   the server's first bytes is therefore reported on the client too as
//!   `HandshakeFailed`, with the alert (`... received fatal alert:
//!   CertificateRequired`), not as `Disconnected`.
//! * Closing: when a connection ends, the socket closes its stream, and
//!   the session sends its close_notify alert (bounded in time, best
//!   effort).
//!
//! # For other transports
//!
//! `wss://` is a WebSocket over TLS: a transport that needs TLS under its
//! own protocol keeps a `TlsTransport` and calls its
//! [`establish`](Transport::establish) (which takes any endpoint with a
//! tcp address, e.g. `wss://`) before its own handshake, and
//! [`TlsTransport::server_config`] / [`TlsTransport::check_client`] at
//! bind / connect to report mistakes early. [`server_config`] and
//! [`client_config`] make rustls configurations from [`TlsOptions`]
//! directly.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod config;
mod options;
mod stream;

pub use config::{client_config, server_config};
pub use options::{TlsOptions, TlsVersion};
/// The rustls crate this transport is built on, for its configuration
/// types.
pub use rustls;

use config::Configs;
use futures_rustls::{TlsAcceptor, TlsConnector};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use smolmq_core::transport::{BoxFuture, Connection, Listener, Side, Transport};
use smolmq_core::{Endpoint, Host, Socket, SocketOptions, TcpAddr};
use smolmq_tcp::{TcpListener, TcpTransport};
use std::io;
use std::sync::{Arc, LazyLock};
use stream::{ClientSession, FullReads, ReadBuffered};

/// The most encrypted bytes a session holds unsent (rustls's limit on
/// what `write` accepts, 64 KiB by default). The engine writes batches of
/// up to 64 KiB of plaintext; with rustls's default a batch that found a
/// few records still queued was accepted only in part, and the rest went
/// out in a second, small `writev` (twice tcp's count of them). Four
/// batches' worth lets a whole batch in; it still bounds what a session
/// buffers while its socket cannot take more.
const SEND_BUFFER_LIMIT: usize = 256 * 1024;

/// Sets `tls` on `socket`, for the `tls://` endpoints it binds or connects
/// afterwards (endpoints already bound or connected keep what they had).
///
/// The same as `SocketOptions::set_extension(tls)` followed by
/// `Socket::set_options`.
///
/// # Errors
///
/// Those of [`Socket::set_options`]; the TLS options themselves are
/// checked when the socket binds or connects.
pub fn set_tls(socket: &mut Socket, tls: TlsOptions) -> smolmq_core::Result<()> {
    let mut options = socket.options().clone();
    options.set_extension(tls);
    socket.set_options(options)
}

/// The socket's TLS options, or the defaults when none were set.
pub fn tls_options(options: &SocketOptions) -> &TlsOptions {
    static DEFAULT: LazyLock<TlsOptions> = LazyLock::new(TlsOptions::default);
    options.extension::<TlsOptions>().unwrap_or(&DEFAULT)
}

/// The tls transport: serves `tls://` endpoints.
///
/// It remembers the rustls configurations it made from the sockets'
/// [`TlsOptions`] (a few, by value), so that connections share one. Add one
/// to a context: `ctx.add_transport(Arc::new(TlsTransport::new()))`.
#[derive(Debug, Default)]
pub struct TlsTransport {
    /// The configurations made so far.
    configs: Configs,
}

impl TlsTransport {
    /// The scheme served, as written before `://`.
    pub const SCHEME: &'static str = "tls";

    /// A transport with no configuration made yet.
    pub fn new() -> TlsTransport {
        TlsTransport::default()
    }

    /// The server configuration for a socket's options (made once per
    /// distinct [`TlsOptions`]).
    ///
    /// # Errors
    ///
    /// As [`server_config`]: `InvalidInput`, naming the field at fault.
    pub fn server_config(&self, options: &SocketOptions) -> io::Result<Arc<ServerConfig>> {
        self.configs.server(tls_options(options))
    }

    /// The client configuration for a socket's options (made once per
    /// distinct [`TlsOptions`]).
    ///
    /// # Errors
    ///
    /// As [`client_config`]: `InvalidInput`, naming the field at fault.
    pub fn client_config(&self, options: &SocketOptions) -> io::Result<Arc<ClientConfig>> {
        self.configs.client(tls_options(options))
    }

    /// Checks that a client with `options` can connect to `endpoint` (any
    /// endpoint with a tcp address: `tls://`, `wss://`): its configuration
    /// can be made and there is a name to check the server's certificate
    /// against. What [`Transport::check_connect`] does for `tls://`, for a
    /// transport that runs TLS under its own protocol.
    ///
    /// # Errors
    ///
    /// `InvalidInput`, naming the field at fault.
    pub fn check_client(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<()> {
        self.client_config(options)?;
        server_name(endpoint, tls_options(options))?;
        Ok(())
    }
}

impl Transport for TlsTransport {
    fn scheme(&self) -> &'static str {
        Self::SCHEME
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        let addr = tls_addr(endpoint, "bind")?;
        self.server_config(options)
            .map_err(|err| context(err, format!("cannot bind {endpoint}")))?;
        // A tcp listener reporting `tls://`: the handshake happens in
        // `establish`, not at accept, so accepting never waits on a peer.
        let tcp = Endpoint::Tcp(addr.clone());
        let mut listener =
            TcpListener::bind(&tcp, options).map_err(|err| renamed(err, &tcp, endpoint))?;
        listener.report_as(Endpoint::Tls(TcpAddr::from(listener.local_addr())));
        Ok(Box::new(listener))
    }

    fn check_connect(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<()> {
        let what = || format!("cannot connect to {endpoint}");
        tls_addr(endpoint, "connect to")?;
        self.check_client(endpoint, options)
            .map_err(|err| context(err, what()))
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(async move {
            let addr = tls_addr(endpoint, "connect to")?;
            let tcp = Endpoint::Tcp(addr.clone());
            TcpTransport
                .connect(&tcp, options)
                .await
                .map_err(|err| renamed(err, &tcp, endpoint))
        })
    }

    /// The TLS handshake: as the server on an accepted connection, as the
    /// client on one we made (checking the certificate against
    /// [`TlsOptions::server_name`] or the endpoint's host). Takes any
    /// endpoint with a tcp address (`tls://`, `wss://`).
    fn establish(
        &self,
        conn: Connection,
        endpoint: &Endpoint,
        options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        let tls = tls_options(options);
        let peer = conn.peer;
        let stream = ReadBuffered::new(conn.stream);
        match side {
            Side::Accepted => {
                let config = match self.configs.server(tls) {
                    Ok(config) => config,
                    Err(err) => return Box::pin(std::future::ready(Err(err))),
                };
                Box::pin(async move {
                    let mut stream = TlsAcceptor::from(config)
                        .accept(stream)
                        .await
                        .map_err(|err| handshake_failed(err, &peer))?;
                    stream.get_mut().1.set_buffer_limit(Some(SEND_BUFFER_LIMIT));
                    Ok(Connection {
                        stream: Box::new(FullReads::new(stream)),
                        peer,
                    })
                })
            }
            Side::Connected => {
                let made = self
                    .configs
                    .client(tls)
                    .and_then(|config| Ok((config, server_name(endpoint, tls)?)));
                let (config, name) = match made {
                    Ok(made) => made,
                    Err(err) => return Box::pin(std::future::ready(Err(err))),
                };
                Box::pin(async move {
                    let mut stream = TlsConnector::from(config)
                        .connect(name, stream)
                        .await
                        .map_err(|err| handshake_failed(err, &peer))?;
                    stream.get_mut().1.set_buffer_limit(Some(SEND_BUFFER_LIMIT));
                    Ok(Connection {
                        stream: Box::new(FullReads::new(ClientSession::new(stream, peer.clone()))),
                        peer,
                    })
                })
            }
        }
    }
}

/// The tcp address of a `tls://` endpoint (or of the `tls://` inside a
/// `tls+jsonl://` one).
fn tls_addr<'a>(endpoint: &'a Endpoint, action: &str) -> io::Result<&'a TcpAddr> {
    match endpoint.stream() {
        Endpoint::Tls(addr) => Ok(addr),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot {action} {endpoint}: the tls transport serves tls:// endpoints only"),
        )),
    }
}

/// The name the server's certificate must carry: `server_name`, or the
/// endpoint's host.
fn server_name(endpoint: &Endpoint, tls: &TlsOptions) -> io::Result<ServerName<'static>> {
    if let Some(name) = &tls.server_name {
        return ServerName::try_from(name.clone()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("server_name: `{name}` is neither a DNS name nor an IP address"),
            )
        });
    }
    let host = endpoint.tcp_addr().map(TcpAddr::host);
    match host {
        Some(Host::Ipv4(ip)) => Ok(ServerName::from(std::net::IpAddr::from(*ip))),
        Some(Host::Ipv6(ip)) => Ok(ServerName::from(std::net::IpAddr::from(*ip))),
        Some(Host::Name(name)) => ServerName::try_from(name.as_str().to_owned()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{name}` is not a DNS name a certificate can carry: set TlsOptions::server_name"),
            )
        }),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{endpoint} has no host name to check the server's certificate against: set TlsOptions::server_name"),
        )),
    }
}

/// A failed handshake's error, saying so, with the peer and a hint for
/// the usual causes.
pub(crate) fn handshake_failed(err: io::Error, peer: &str) -> io::Error {
    let tls = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let reason = match tls {
        Some(rustls::Error::InvalidMessage(_)) => {
            format!("{err} (the peer does not speak TLS: a tcp:// endpoint?)")
        }
        _ if err.kind() == io::ErrorKind::UnexpectedEof => {
            "the peer closed the connection during the handshake".to_owned()
        }
        _ => err.to_string(),
    };
    let with = if peer.is_empty() {
        String::new()
    } else {
        format!(" with {peer}")
    };
    io::Error::new(err.kind(), format!("TLS handshake{with} failed: {reason}"))
}

/// The same error kind, with a message that says what was being done.
fn context(err: io::Error, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

/// A tcp error naming the tls endpoint instead of the tcp one.
fn renamed(err: io::Error, tcp: &Endpoint, endpoint: &Endpoint) -> io::Error {
    let message = err
        .to_string()
        .replacen(&tcp.to_string(), &endpoint.to_string(), 1);
    io::Error::new(err.kind(), message)
}

/// Compile-time checks: the transport moves between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TlsTransport>();
    assert_send_sync::<TlsOptions>();
};
