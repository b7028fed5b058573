//! Socket creation and the options applied to every tcp connection.

use rustix::fd::{AsFd, OwnedFd};
use rustix::net::{sockopt, AddressFamily, SocketType};
use smolmq_core::{SocketOptions, TcpKeepalive};
use std::io;
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
        }
    }

    /// Applies the options to a connected socket. The error names the
    /// option that failed.
    pub(crate) fn apply(&self, fd: impl AsFd) -> io::Result<()> {
        let fd = fd.as_fd();
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
