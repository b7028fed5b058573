//! [`WssTransport`]: `wss://`, the WebSocket transport over TLS.

use crate::{bind, connect, establish, ws_addr, Scheme};
use smolmq_core::transport::{BoxFuture, Connection, Listener, Side, Transport};
use smolmq_core::{Endpoint, SocketOptions};
use smolmq_tls::TlsTransport;
use std::io;

/// The wss transport: serves `wss://` endpoints, ZWS 2.0 over TLS.
///
/// The TLS part is smolmq-tls's: a socket's [`TlsOptions`](smolmq_tls::TlsOptions)
/// (set with [`set_tls`](smolmq_tls::set_tls)) configure it exactly as for
/// `tls://`, and the TLS handshake runs first in
/// [`establish`](Transport::establish), then the WebSocket upgrade over
/// the encrypted stream. Mistakes in the options are errors of bind and
/// connect; a failed handshake of either kind is a `HandshakeFailed`.
///
/// ```
/// use smolmq_core::{Context, Msg};
/// use smolmq_ws::tls::{set_tls, TlsOptions};
/// use smolmq_zmtp::SocketType;
/// use std::sync::Arc;
///
/// # let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
/// # let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
/// let ctx = Context::new()?;
/// ctx.add_transport(Arc::new(smolmq_ws::WssTransport::new()));
///
/// let mut server = ctx.socket(SocketType::Pair)?;
/// set_tls(&mut server, TlsOptions::server(cert_pem.clone(), key_pem))?;
/// server.bind("wss://127.0.0.1:0/zmq")?;
/// let port = server.last_endpoint().unwrap().tcp_addr().unwrap().port();
///
/// let mut client = ctx.socket(SocketType::Pair)?;
/// set_tls(&mut client, TlsOptions::client(cert_pem))?;
/// client.connect(&format!("wss://localhost:{port}/zmq"))?;
/// client.send_blocking(Msg::from("hello")).map_err(|e| e.into_error())?;
/// assert_eq!(server.recv_blocking()?, Msg::from("hello"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct WssTransport {
    /// The TLS layer, with the rustls configurations it made.
    tls: TlsTransport,
}

impl WssTransport {
    /// The scheme served, as written before `://`.
    pub const SCHEME: &'static str = "wss";

    /// A transport with no TLS configuration made yet.
    pub fn new() -> WssTransport {
        WssTransport::default()
    }
}

impl Transport for WssTransport {
    fn scheme(&self) -> &'static str {
        Self::SCHEME
    }

    fn bind(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<Box<dyn Listener>> {
        self.tls
            .server_config(options)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot bind {endpoint}: {e}")))?;
        bind(endpoint, options, Scheme::Wss)
    }

    fn check_connect(&self, endpoint: &Endpoint, options: &SocketOptions) -> io::Result<()> {
        ws_addr("connect to", endpoint, Scheme::Wss)?;
        self.tls
            .check_client(endpoint, options)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {endpoint}: {e}")))
    }

    fn connect<'a>(
        &'a self,
        endpoint: &'a Endpoint,
        options: &'a SocketOptions,
    ) -> BoxFuture<'a, io::Result<Connection>> {
        Box::pin(connect(endpoint, options, Scheme::Wss))
    }

    fn establish(
        &self,
        conn: Connection,
        endpoint: &Endpoint,
        options: &SocketOptions,
        side: Side,
    ) -> BoxFuture<'static, io::Result<Connection>> {
        // TLS first (it checks the server's name against the endpoint's
        // host), then the WebSocket upgrade inside it.
        let tls = self.tls.establish(conn, endpoint, options, side);
        establish(tls, endpoint, options, side, Scheme::Wss)
    }
}
