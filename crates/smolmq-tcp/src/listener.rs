//! [`TcpListener`]: a bound tcp endpoint accepting connections.

use crate::connect::resolve;
use crate::sockopt::{new_socket, no_sigpipe, StreamOptions};
use crate::{context, wrong_scheme};
use async_io::Async;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::net::{sockopt, AddressFamily};
use smolmq_core::transport::{Connection, Listener};
use smolmq_core::{Endpoint, Host, SocketOptions, TcpAddr};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::task::{ready, Context, Poll};

/// A bound tcp endpoint, accepting connections.
///
/// Made by [`TcpListener::bind`] (or by
/// [`TcpTransport::bind`](smolmq_core::transport::Transport::bind), which
/// boxes it). Dropping it closes the listening socket; connections already
/// accepted are not affected.
///
/// ```
/// use smolmq_core::{Endpoint, SocketOptions};
/// use smolmq_tcp::TcpListener;
///
/// let listener = TcpListener::bind(&Endpoint::parse("tcp://127.0.0.1:0")?, &SocketOptions::default())?;
/// let port = listener.local_addr().port();
/// assert_ne!(port, 0);
/// assert_eq!(listener.local_endpoint().to_string(), format!("tcp://127.0.0.1:{port}"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TcpListener {
    /// The listening socket, registered with the async-io reactor.
    listener: Async<std::net::TcpListener>,
    /// The address actually bound.
    local_addr: SocketAddr,
    /// `local_addr` as an endpoint (libzmq's LAST_ENDPOINT).
    endpoint: Endpoint,
    /// The options applied to every accepted connection.
    stream_options: StreamOptions,
}

impl TcpListener {
    /// Binds `endpoint` (a `tcp://` endpoint) and starts listening.
    ///
    /// See the [crate docs](crate#binding) for how hosts and ports are
    /// read. A host name is resolved with the system resolver, which may
    /// block. The options kept for accepted connections are those of
    /// `options` now; later changes to the caller's copy do not reach the
    /// listener.
    ///
    /// # Errors
    ///
    /// An [`io::Error`] naming the endpoint: `InvalidInput` for an endpoint
    /// of another transport, `AddrInUse` when someone listens on the port,
    /// `AddrNotAvailable` for an address that is not local, the resolver's
    /// error for a name that does not resolve, and so on.
    pub fn bind(endpoint: &Endpoint, options: &SocketOptions) -> io::Result<TcpListener> {
        let Endpoint::Tcp(addr) = endpoint else {
            return Err(wrong_scheme("bind", endpoint));
        };
        let what = || format!("cannot bind {endpoint}");
        let backlog = i32::try_from(options.backlog).unwrap_or(i32::MAX);
        let listener = match addr.host() {
            // `*` with IPv6: every interface of both families, or IPv4 alone
            // where the system has no IPv6 (as libzmq falls back).
            Host::Any if options.ipv6 => {
                match listen((Ipv6Addr::UNSPECIFIED, addr.port()).into(), backlog) {
                    Err(err)
                        if err.raw_os_error()
                            == Some(rustix::io::Errno::AFNOSUPPORT.raw_os_error()) =>
                    {
                        listen((Ipv4Addr::UNSPECIFIED, addr.port()).into(), backlog)
                    }
                    other => other,
                }
            }
            _ => bind_addr(addr, options.ipv6).and_then(|local| listen(local, backlog)),
        }
        .map_err(|err| context(err, what()))?;
        let local_addr = listener.local_addr().map_err(|err| context(err, what()))?;
        let listener = Async::new_nonblocking(listener).map_err(|err| context(err, what()))?;
        Ok(TcpListener {
            listener,
            local_addr,
            endpoint: Endpoint::from(local_addr),
            stream_options: StreamOptions::new(options),
        })
    }

    /// The endpoint bound, with wildcards resolved: the address the system
    /// gave (`tcp://0.0.0.0:41234` for `tcp://*:0`).
    pub fn local_endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The socket address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Makes the listener report `endpoint` as its
    /// [`local_endpoint`](Self::local_endpoint), and name it in its errors,
    /// instead of the `tcp://` one: the listener of a transport layered on
    /// tcp (`tls://`, `ws://`), whose own handshake comes later, in
    /// [`Transport::establish`](smolmq_core::transport::Transport::establish),
    /// so that accepting never waits on a peer. Make `endpoint` from
    /// [`local_addr`](Self::local_addr), the address and port bound.
    ///
    /// ```
    /// use smolmq_core::{Endpoint, SocketOptions, TcpAddr};
    /// use smolmq_tcp::TcpListener;
    ///
    /// let mut listener = TcpListener::bind(&Endpoint::parse("tcp://127.0.0.1:0")?, &SocketOptions::default())?;
    /// listener.report_as(Endpoint::Tls(TcpAddr::from(listener.local_addr())));
    /// assert!(listener.local_endpoint().to_string().starts_with("tls://127.0.0.1:"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report_as(&mut self, endpoint: Endpoint) {
        self.endpoint = endpoint;
    }

    /// Polls for the next connection: the stream, with the listener's
    /// options applied, and the peer's address.
    ///
    /// An error concerns one incoming connection (the peer reset it before
    /// it was accepted, an option could not be set on it) or a resource
    /// limit (`EMFILE`: too many open files); the listener stays usable and
    /// the caller decides whether and when to go on.
    pub fn poll_accept_stream(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<(Async<TcpStream>, SocketAddr)>> {
        loop {
            match self.listener.get_ref().accept() {
                Ok((stream, peer)) => return Poll::Ready(self.configure(stream, peer)),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.listener.poll_readable(cx)).map_err(|err| {
                        context(err, format_args!("cannot accept on {}", self.endpoint))
                    })?;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    return Poll::Ready(Err(context(
                        err,
                        format_args!("cannot accept on {}", self.endpoint),
                    )))
                }
            }
        }
    }

    /// Accepts the next connection: the stream, with the listener's options
    /// applied, and the peer's address. See
    /// [`poll_accept_stream`](TcpListener::poll_accept_stream).
    pub async fn accept_stream(&self) -> io::Result<(Async<TcpStream>, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept_stream(cx)).await
    }

    /// Applies the options to an accepted stream and registers it.
    fn configure(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> io::Result<(Async<TcpStream>, SocketAddr)> {
        let what = || {
            format!(
                "cannot set up the connection from {peer} on {}",
                self.endpoint
            )
        };
        self.stream_options
            .apply(&stream, peer)
            .and_then(|()| no_sigpipe(&stream))
            .map_err(|err| context(err, what()))?;
        let stream = Async::new(stream).map_err(|err| context(err, what()))?;
        Ok((stream, peer))
    }
}

impl Listener for TcpListener {
    fn local_endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Connection>> {
        self.poll_accept_stream(cx)
            .map_ok(|(stream, peer)| Connection {
                stream: Box::new(stream),
                peer: peer.to_string(),
            })
    }
}

impl AsFd for TcpListener {
    /// The listening socket, e.g. to read its options.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("endpoint", &self.endpoint.to_string())
            .field("stream_options", &self.stream_options)
            .finish_non_exhaustive()
    }
}

/// The socket address to bind for `addr`: an IP literal as it is, `*` as
/// `0.0.0.0`, a name as the first address it resolves to (IPv4 only unless
/// `ipv6`).
fn bind_addr(addr: &TcpAddr, ipv6: bool) -> io::Result<SocketAddr> {
    let port = addr.port();
    match addr.host() {
        Host::Any => Ok((Ipv4Addr::UNSPECIFIED, port).into()),
        Host::Ipv4(ip) => Ok((*ip, port).into()),
        Host::Ipv6(ip) => Ok((*ip, port).into()),
        Host::Name(name) => {
            let addrs = resolve(name.as_str(), port, ipv6)?;
            // `resolve` never returns an empty list.
            addrs.into_iter().next().ok_or_else(|| {
                io::Error::new(io::ErrorKind::AddrNotAvailable, "no address to bind")
            })
        }
        other => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("host `{other}` is not supported by this version of smolmq-tcp"),
        )),
    }
}

/// A listening socket bound to `addr`, with `SO_REUSEADDR` and `backlog`.
/// The wildcard IPv6 address is made dual-stack where the system allows.
fn listen(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = new_socket(family)?;
    sockopt::set_socket_reuseaddr(&fd, true)?;
    if let SocketAddr::V6(v6) = addr {
        if v6.ip().is_unspecified() {
            // Best effort: a system without dual stack (OpenBSD) refuses,
            // and then `[::]` serves IPv6 alone.
            let _ = sockopt::set_ipv6_v6only(&fd, false);
        }
    }
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, backlog)?;
    Ok(std::net::TcpListener::from(fd))
}
