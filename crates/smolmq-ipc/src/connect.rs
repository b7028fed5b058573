//! Connecting to a path or an abstract name.

use crate::sys::{new_socket, socket_addr, Buffers};
use crate::{context, wrong_scheme};
use async_io::Async;
use rustix::io::Errno;
use smolmq_core::{Endpoint, SocketOptions};
use std::io;
use std::os::unix::net::UnixStream;

/// Connects to `endpoint` (an `ipc://` path or abstract name).
///
/// A Unix connect completes at once: it never waits for the listener to
/// accept. Of `options`, only the buffer sizes apply
/// ([`sndbuf`](SocketOptions::sndbuf), [`rcvbuf`](SocketOptions::rcvbuf)).
///
/// ```
/// use smolmq_core::{Endpoint, SocketOptions};
/// use smolmq_ipc::IpcListener;
///
/// let options = SocketOptions::default();
/// let listener = IpcListener::bind(&Endpoint::parse("ipc://*")?, &options)?;
/// let stream = async_io::block_on(smolmq_ipc::connect(listener.local_endpoint(), &options))?;
/// assert!(stream.get_ref().peer_addr()?.as_pathname().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An [`io::Error`] naming the endpoint: `NotFound` when the path does not
/// exist, `ConnectionRefused` when nobody listens on it, `WouldBlock` when
/// the listener's backlog is full (it is not accepting fast enough: try
/// again later), `InvalidInput` for `ipc://*` or an endpoint of another
/// transport, `PermissionDenied`, and so on.
pub async fn connect(
    endpoint: &Endpoint,
    options: &SocketOptions,
) -> io::Result<Async<UnixStream>> {
    let Endpoint::Ipc(addr) = endpoint else {
        return Err(wrong_scheme("connect to", endpoint));
    };
    endpoint
        .check_connectable()
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err.to_string()))?;
    let what = || format!("cannot connect to {endpoint}");
    let addr = socket_addr(addr).map_err(|err| context(err, what()))?;
    let fd = new_socket().map_err(|err| context(err, what()))?;
    Buffers::of(options)
        .apply(&fd)
        .map_err(|err| context(err, what()))?;
    let pending = match rustix::net::connect(&fd, &addr) {
        Ok(()) => false,
        // Linux: the listener's queue of connections not yet accepted is
        // full. Nothing is pending; the caller may try again.
        Err(err) if err == Errno::AGAIN || err == Errno::WOULDBLOCK => {
            return Err(context(
                io::Error::from(err),
                format_args!("{}: the listener's backlog is full", what()),
            ))
        }
        // Systems where a Unix connect may complete in the background.
        Err(Errno::INPROGRESS | Errno::INTR) => true,
        Err(err) => return Err(context(err.into(), what())),
    };
    // The socket was made non-blocking when created.
    let stream =
        Async::new_nonblocking(UnixStream::from(fd)).map_err(|err| context(err, what()))?;
    if pending {
        stream
            .writable()
            .await
            .map_err(|err| context(err, what()))?;
        if let Some(err) = stream
            .get_ref()
            .take_error()
            .map_err(|err| context(err, what()))?
        {
            return Err(context(err, what()));
        }
        // Writable without an error yet not connected: fail plainly.
        stream
            .get_ref()
            .peer_addr()
            .map_err(|err| context(err, what()))?;
    }
    Ok(stream)
}
