//! Unix socket plumbing: creating sockets, their addresses, and probing a
//! path for a live listener.

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketType};
use smolmq_core::{IpcAddr, SocketOptions};
use std::io;
use std::path::Path;

/// The socket address of a path.
pub(crate) fn path_addr(path: &Path) -> io::Result<SocketAddrUnix> {
    Ok(SocketAddrUnix::new(path)?)
}

/// The socket address of a path or an abstract name (`ipc://*` has none:
/// the listener generates a path for it).
pub(crate) fn socket_addr(addr: &IpcAddr) -> io::Result<SocketAddrUnix> {
    match addr {
        IpcAddr::Path(path) => path_addr(path.as_path()),
        IpcAddr::Abstract(name) => abstract_addr(name.as_str()),
        IpcAddr::Any => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "`ipc://*` is not an address",
        )),
        _ => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this kind of ipc address is not supported by this version of smolmq-ipc",
        )),
    }
}

/// The socket address of a name in the abstract namespace.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_addr(name: &str) -> io::Result<SocketAddrUnix> {
    Ok(SocketAddrUnix::new_abstract_name(name.as_bytes())?)
}

/// Other systems have no abstract namespace (the endpoint parser refuses
/// `ipc://@name` there already).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_addr(_name: &str) -> io::Result<SocketAddrUnix> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "this system has no abstract socket namespace",
    ))
}

/// Whether a path's socket has a live listener, found by connecting to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Someone listens (the connect succeeded or the backlog is full).
    Live,
    /// Nobody listens (refused), or the file is gone.
    Dead,
}

/// Connects to `addr` without blocking to learn whether anyone listens.
/// The probe connection, if made, is closed at once.
pub(crate) fn probe(addr: &SocketAddrUnix) -> io::Result<Probe> {
    let fd = new_socket()?;
    match rustix::net::connect(&fd, addr) {
        Ok(()) => Ok(Probe::Live),
        Err(err) if is_in_progress(err) => Ok(Probe::Live),
        Err(Errno::CONNREFUSED | Errno::NOENT) => Ok(Probe::Dead),
        Err(err) => Err(err.into()),
    }
}

/// Whether a non-blocking connect's error means "not yet": the backlog is
/// full (`EAGAIN` on Linux) or the connect goes on in the background.
pub(crate) fn is_in_progress(err: Errno) -> bool {
    err == Errno::AGAIN || err == Errno::WOULDBLOCK || err == Errno::INPROGRESS
}

/// A new Unix stream socket, close-on-exec, non-blocking, and without
/// `SIGPIPE` where that is per socket.
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
pub(crate) fn new_socket() -> io::Result<OwnedFd> {
    use rustix::net::SocketFlags;
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )?;
    no_sigpipe(&fd)?;
    Ok(fd)
}

/// A new Unix stream socket, close-on-exec and non-blocking (set after
/// creation where `socket` cannot take the flags).
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
pub(crate) fn new_socket() -> io::Result<OwnedFd> {
    let fd = rustix::net::socket(AddressFamily::UNIX, SocketType::STREAM, None)?;
    rustix::io::fcntl_setfd(&fd, rustix::io::FdFlags::CLOEXEC)?;
    rustix::io::ioctl_fionbio(&fd, true)?;
    no_sigpipe(&fd)?;
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

/// The kernel buffer sizes chosen for ipc connections
/// ([`SocketOptions::sndbuf`], [`SocketOptions::rcvbuf`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Buffers {
    /// `SO_SNDBUF`, if chosen.
    sndbuf: Option<u32>,
    /// `SO_RCVBUF`, if chosen.
    rcvbuf: Option<u32>,
}

impl Buffers {
    /// The sizes `options` choose.
    pub(crate) fn of(options: &SocketOptions) -> Buffers {
        Buffers {
            sndbuf: options.sndbuf,
            rcvbuf: options.rcvbuf,
        }
    }

    /// Sets the chosen sizes on `fd`; the error names the option that
    /// failed.
    pub(crate) fn apply(self, fd: impl AsFd) -> io::Result<()> {
        let fd = fd.as_fd();
        let named = |option: &str, err: Errno| {
            let err = io::Error::from(err);
            io::Error::new(err.kind(), format!("cannot set {option}: {err}"))
        };
        if let Some(size) = self.sndbuf {
            rustix::net::sockopt::set_socket_send_buffer_size(fd, size as usize)
                .map_err(|e| named("SO_SNDBUF", e))?;
        }
        if let Some(size) = self.rcvbuf {
            rustix::net::sockopt::set_socket_recv_buffer_size(fd, size as usize)
                .map_err(|e| named("SO_RCVBUF", e))?;
        }
        Ok(())
    }
}
