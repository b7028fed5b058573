//! Connecting: name resolution, the connect itself, and its timeout.

use crate::sockopt::StreamOptions;
use crate::{context, wrong_scheme};
use async_io::{Async, Timer};
use smolmq_core::{Endpoint, Host, SocketOptions};
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Connects to `endpoint` (a `tcp://` endpoint) and applies the options:
/// returns the stream and the address it is connected to.
///
/// A host name is resolved first with the system resolver, which blocks
/// the calling thread (see the [crate docs](crate#connecting)); its
/// addresses are then tried in order (IPv4 ones only unless
/// [`ipv6`](SocketOptions::ipv6)). [`connect_timeout`](SocketOptions::connect_timeout)
/// bounds the attempts together.
///
/// ```
/// use smolmq_core::{Endpoint, SocketOptions};
/// use smolmq_tcp::TcpListener;
///
/// let options = SocketOptions::default();
/// let listener = TcpListener::bind(&Endpoint::parse("tcp://127.0.0.1:0")?, &options)?;
/// let (stream, peer) = async_io::block_on(smolmq_tcp::connect(listener.local_endpoint(), &options))?;
/// assert_eq!(peer, listener.local_addr());
/// assert!(stream.get_ref().nodelay()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An [`io::Error`] naming the endpoint: `InvalidInput` for a bind-only
/// endpoint (`*` or port 0) or one of another transport, `TimedOut` when
/// `connect_timeout` expired, `ConnectionRefused` when nobody listens, the
/// resolver's error for a name that does not resolve, and so on. When
/// several addresses were tried, the error is the last one's.
pub async fn connect(
    endpoint: &Endpoint,
    options: &SocketOptions,
) -> io::Result<(Async<TcpStream>, SocketAddr)> {
    let Endpoint::Tcp(addr) = endpoint else {
        return Err(wrong_scheme("connect to", endpoint));
    };
    endpoint
        .check_connectable()
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
    let what = || format!("cannot connect to {endpoint}");
    let addrs = match addr.host() {
        Host::Ipv4(ip) => vec![SocketAddr::from((*ip, addr.port()))],
        Host::Ipv6(ip) => vec![SocketAddr::from((*ip, addr.port()))],
        Host::Name(name) => {
            resolve(name.as_str(), addr.port(), options.ipv6).map_err(|err| context(err, what()))?
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "{}: host `{other}` is not supported by this version of smolmq-tcp",
                    what()
                ),
            ))
        }
    };
    let stream_options = StreamOptions::new(options);
    let attempt = async {
        let mut last = None;
        for peer in addrs {
            match Async::<TcpStream>::connect(peer).await {
                Ok(stream) => return Ok((stream, peer)),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::AddrNotAvailable, "no address")))
    };
    let (stream, peer) = match with_timeout(attempt, options.connect_timeout).await {
        Some(result) => result.map_err(|err| context(err, what()))?,
        None => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "{}: no connection within the connect timeout of {:?}",
                    what(),
                    options.connect_timeout.unwrap_or_default()
                ),
            ))
        }
    };
    stream_options
        .apply(&stream, peer)
        .map_err(|err| context(err, what()))?;
    Ok((stream, peer))
}

/// Resolves `name` with the system resolver (blocking): every address, in
/// the resolver's order, IPv4 ones only unless `ipv6`. Never returns an
/// empty list.
pub(crate) fn resolve(name: &str, port: u16, ipv6: bool) -> io::Result<Vec<SocketAddr>> {
    let all: Vec<SocketAddr> = (name, port).to_socket_addrs()?.collect();
    let addrs: Vec<SocketAddr> = all
        .iter()
        .copied()
        .filter(|addr| ipv6 || addr.is_ipv4())
        .collect();
    if addrs.is_empty() {
        let reason = if all.is_empty() {
            format!("`{name}` resolves to no address")
        } else {
            format!(
                "`{name}` has no IPv4 address (turn the ipv6 option on to use its IPv6 addresses)"
            )
        };
        return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, reason));
    }
    Ok(addrs)
}

/// Runs `fut` to completion, or until `limit` has passed: `None` then.
/// Without a limit, it just awaits `fut`.
async fn with_timeout<F: Future>(fut: F, limit: Option<Duration>) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let Some(limit) = limit else {
        return Some(fut.await);
    };
    let mut timer = Timer::after(limit);
    poll_fn(|cx| {
        // The future first: a result that is ready wins over the timer.
        if let Poll::Ready(output) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if std::pin::Pin::new(&mut timer).poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::with_timeout;
    use std::future::{pending, ready};
    use std::time::Duration;

    #[test]
    fn a_future_that_never_ends_times_out() {
        let out = async_io::block_on(with_timeout(
            pending::<()>(),
            Some(Duration::from_millis(20)),
        ));
        assert_eq!(out, None);
    }

    #[test]
    fn a_ready_future_wins_over_an_expired_timer() {
        let out = async_io::block_on(with_timeout(ready(7), Some(Duration::from_nanos(1))));
        assert_eq!(out, Some(7));
    }

    #[test]
    fn no_limit_awaits_the_future() {
        let out = async_io::block_on(with_timeout(
            async {
                async_io::Timer::after(Duration::from_millis(5)).await;
                3
            },
            None,
        ));
        assert_eq!(out, Some(3));
    }
}
