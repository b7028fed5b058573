//! Socket creation and the options applied to every tcp connection.

use rustix::fd::{AsFd, OwnedFd};
use rustix::net::{sockopt, AddressFamily, SocketType};
use smolmq_core::{SocketOptions, TcpKeepalive, LOOPBACK_SNDBUF};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// The per-connection options, copied out of [`SocketOptions`] (a listener
/// keeps them for the connections it accepts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamOptions {
    /// Set `TCP_NODELAY`.
    nodelay: bool,
    /// What to do with `SO_KEEPALIVE`.
    keepalive: TcpKeepalive,
    /// `TCP_KEEPIDLE`, when keepalive is on.
    keepalive_idle: Option<Duration>,
    /// `TCP_KEEPCNT`, when keepalive is on.
    keepalive_cnt: Option<u32>,
    /// `TCP_KEEPINTVL`, when keepalive is on.
    keepalive_intvl: Option<Duration>,
    /// `SO_SNDBUF`, if chosen.
    sndbuf: Option<u32>,
    /// `SO_RCVBUF`, if chosen.
    rcvbuf: Option<u32>,
}

impl StreamOptions {
    /// The tcp options of `options`.
    pub(crate) fn new(options: &SocketOptions) -> StreamOptions {
        StreamOptions {
            nodelay: options.tcp_nodelay,
            keepalive: options.tcp_keepalive,
            keepalive_idle: options.tcp_keepalive_idle,
            keepalive_cnt: options.tcp_keepalive_cnt,
            keepalive_intvl: options.tcp_keepalive_intvl,
            sndbuf: options.sndbuf,
            rcvbuf: options.rcvbuf,
        }
    }

    /// Applies the options to a socket connected to `peer`. The error
    /// names the option that failed.
    pub(crate) fn apply(&self, fd: impl AsFd, peer: SocketAddr) -> io::Result<()> {
        let fd = fd.as_fd();
        if let Some(size) = send_buffer(self.sndbuf, peer) {
            sockopt::set_socket_send_buffer_size(fd, size as usize)
                .map_err(|e| named("SO_SNDBUF", e))?;
        }
        if let Some(size) = self.rcvbuf {
            sockopt::set_socket_recv_buffer_size(fd, size as usize)
                .map_err(|e| named("SO_RCVBUF", e))?;
        }
        if self.nodelay {
            sockopt::set_tcp_nodelay(fd, true).map_err(|e| named("TCP_NODELAY", e))?;
        }
        match self.keepalive {
            TcpKeepalive::On => {
                sockopt::set_socket_keepalive(fd, true).map_err(|e| named("SO_KEEPALIVE", e))?;
                self.apply_keepalive_tuning(fd)?;
            }
            TcpKeepalive::Off => {
                sockopt::set_socket_keepalive(fd, false).map_err(|e| named("SO_KEEPALIVE", e))?;
            }
            TcpKeepalive::OsDefault => {}
        }
        Ok(())
    }

    /// Sets `TCP_KEEPIDLE`, `TCP_KEEPCNT` and `TCP_KEEPINTVL` where given.
    #[cfg(not(any(
        target_os = "haiku",
        target_os = "nto",
        target_os = "openbsd",
        target_os = "redox"
    )))]
    fn apply_keepalive_tuning(&self, fd: rustix::fd::BorrowedFd<'_>) -> io::Result<()> {
        if let Some(idle) = self.keepalive_idle {
            sockopt::set_tcp_keepidle(fd, idle).map_err(|e| named("TCP_KEEPIDLE", e))?;
        }
        if let Some(cnt) = self.keepalive_cnt {
            sockopt::set_tcp_keepcnt(fd, cnt).map_err(|e| named("TCP_KEEPCNT", e))?;
        }
        if let Some(intvl) = self.keepalive_intvl {
            sockopt::set_tcp_keepintvl(fd, intvl).map_err(|e| named("TCP_KEEPINTVL", e))?;
        }
        Ok(())
    }

    /// These systems have no per-socket keepalive tuning: skipped, as
    /// libzmq does.
    #[cfg(any(
        target_os = "haiku",
        target_os = "nto",
        target_os = "openbsd",
        target_os = "redox"
    ))]
    fn apply_keepalive_tuning(&self, _fd: rustix::fd::BorrowedFd<'_>) -> io::Result<()> {
        Ok(())
    }
}

/// The `SO_SNDBUF` to set on a connection to `peer`: the chosen one, or
/// [`LOOPBACK_SNDBUF`] for a loopback peer, or none (the system sizes it).
fn send_buffer(chosen: Option<u32>, peer: SocketAddr) -> Option<u32> {
    chosen.or_else(|| {
        peer.ip()
            .to_canonical()
            .is_loopback()
            .then_some(LOOPBACK_SNDBUF)
    })
}

/// An error from setting socket option `option`.
fn named(option: &str, err: rustix::io::Errno) -> io::Error {
    let err = io::Error::from(err);
    io::Error::new(err.kind(), format!("cannot set {option}: {err}"))
}

/// A new stream socket of `family`, close-on-exec and non-blocking.
#[cfg(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd"
))]
pub(crate) fn new_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    use rustix::net::SocketFlags;
    Ok(rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?)
}

/// A new stream socket of `family`, close-on-exec and non-blocking (set
/// after creation where `socket` cannot take the flags).
#[cfg(not(any(
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "fuchsia",
    target_os = "illumos",
    target_os = "linux",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
pub(crate) fn new_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    let fd = rustix::net::socket(family, SocketType::STREAM, None)?;
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    Ok(fd)
}

/// Asks for `EPIPE` instead of `SIGPIPE` when writing to a socket the peer
/// closed, on systems that offer it per socket (Linux writes with
/// `MSG_NOSIGNAL` instead).
#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd"
))]
pub(crate) fn no_sigpipe(fd: impl AsFd) -> io::Result<()> {
    Ok(rustix::net::sockopt::set_socket_nosigpipe(fd, true)?)
}

/// Nothing to do here: this system has no per-socket `SO_NOSIGPIPE`.
#[cfg(not(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd"
)))]
pub(crate) fn no_sigpipe(fd: impl AsFd) -> io::Result<()> {
    let _ = fd;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(addr: &str) -> SocketAddr {
        addr.parse().unwrap()
    }

    #[test]
    fn loopback_peers_get_the_loopback_send_buffer_unless_one_is_chosen() {
        for peer in [
            "127.0.0.1:5555",
            "127.3.2.1:1",
            "[::1]:5555",
            "[::ffff:127.0.0.1]:9",
        ] {
            assert_eq!(send_buffer(None, at(peer)), Some(LOOPBACK_SNDBUF), "{peer}");
            assert_eq!(send_buffer(Some(4096), at(peer)), Some(4096), "{peer}");
        }
        for peer in [
            "10.0.0.1:5555",
            "192.168.1.2:80",
            "[2001:db8::1]:5555",
            "[::ffff:10.0.0.1]:9",
        ] {
            assert_eq!(send_buffer(None, at(peer)), None, "{peer}");
            assert_eq!(
                send_buffer(Some(1 << 20), at(peer)),
                Some(1 << 20),
                "{peer}"
            );
        }
    }
}
