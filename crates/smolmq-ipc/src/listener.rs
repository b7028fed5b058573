//! [`IpcListener`]: a bound ipc endpoint accepting connections, and the
//! socket file it owns.

use crate::sys::{new_socket, no_sigpipe, path_addr, probe, socket_addr, Buffers, Probe};
use crate::{context, wrong_scheme};
use async_io::Async;
use rustix::fd::{AsFd, BorrowedFd};
use rustix::net::SocketAddrUnix;
use smolmq_core::transport::{Connection, Listener};
use smolmq_core::{Endpoint, IpcAddr, IpcPath, SocketOptions};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};

/// How many generated paths `ipc://*` tries before giving up (each is
/// skipped only if a live socket or another file holds it).
const GENERATED_TRIES: u32 = 64;

/// The number in the next generated path of this process.
static NEXT_GENERATED: AtomicU64 = AtomicU64::new(0);

/// A bound ipc endpoint, accepting connections.
///
/// Made by [`IpcListener::bind`] (or by
/// [`IpcTransport::bind`](smolmq_core::transport::Transport::bind), which
/// boxes it). Dropping it removes the socket file it created (if it is
/// still the same file) and closes the listening socket; connections
/// already accepted are not affected.
///
/// ```
/// use smolmq_core::{Endpoint, SocketOptions};
/// use smolmq_ipc::IpcListener;
///
/// let listener = IpcListener::bind(&Endpoint::parse("ipc://*")?, &SocketOptions::default())?;
/// let file = listener.socket_file().unwrap().to_owned();
/// assert!(file.exists());
/// assert_eq!(listener.local_endpoint().to_string(), format!("ipc://{}", file.display()));
/// drop(listener);
/// assert!(!file.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct IpcListener {
    /// The listening socket, registered with the async-io reactor.
    listener: Async<UnixListener>,
    /// The endpoint bound, with `*` replaced by the generated path.
    endpoint: Endpoint,
    /// The socket file to remove on drop (`None` for an abstract name).
    file: Option<SocketFile>,
    /// The buffer sizes applied to every accepted connection.
    buffers: Buffers,
}

/// A socket file created by a listener: where, and which file it is.
#[derive(Debug)]
struct SocketFile {
    /// The absolute path (so that a later change of working directory does
    /// not matter).
    path: PathBuf,
    /// The device holding it.
    dev: u64,
    /// Its inode.
    ino: u64,
}

impl SocketFile {
    /// Records the file just bound at `path`, or `None` if it cannot be
    /// examined (then it is never removed).
    fn record(path: &Path) -> Option<SocketFile> {
        let meta = fs::symlink_metadata(path).ok()?;
        let path = std::path::absolute(path).ok()?;
        Some(SocketFile {
            path,
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Removes the file if it is still the one recorded.
    fn remove(&self) {
        if let Ok(meta) = fs::symlink_metadata(&self.path) {
            if meta.dev() == self.dev && meta.ino() == self.ino {
                // Nothing to do about a failure while dropping.
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

impl IpcListener {
    /// Binds `endpoint` (an `ipc://` endpoint) and starts listening, with a
    /// backlog of [`SocketOptions::backlog`].
    ///
    /// A stale socket file at the path is replaced; a live one, or a file
    /// that is not a socket, is left alone (see the
    /// [crate docs](crate#binding)).
    ///
    /// # Errors
    ///
    /// An [`io::Error`] naming the endpoint: `InvalidInput` for an endpoint
    /// of another transport or a temp directory too long for `ipc://*`,
    /// `AddrInUse` when someone listens on the path (or a file that is not
    /// a socket is there), `NotFound` when its directory does not exist,
    /// `PermissionDenied`, and so on.
    pub fn bind(endpoint: &Endpoint, options: &SocketOptions) -> io::Result<IpcListener> {
        let Endpoint::Ipc(addr) = endpoint else {
            return Err(wrong_scheme("bind", endpoint));
        };
        let backlog = i32::try_from(options.backlog).unwrap_or(i32::MAX);
        let what = || format!("cannot bind {endpoint}");
        let (listener, endpoint, file) = match addr {
            IpcAddr::Path(path) => {
                let listener =
                    bind_path(path.as_path(), backlog).map_err(|err| context(err, what()))?;
                let file = SocketFile::record(path.as_path());
                (listener, endpoint.clone(), file)
            }
            IpcAddr::Any => bind_generated(backlog).map_err(|err| context(err, what()))?,
            _ => {
                let addr = socket_addr(addr).map_err(|err| context(err, what()))?;
                let listener = listen(&addr, backlog).map_err(|err| context(err, what()))?;
                (listener, endpoint.clone(), None)
            }
        };
        // The socket was made non-blocking when created.
        let listener = match Async::new_nonblocking(listener) {
            Ok(listener) => listener,
            Err(err) => {
                if let Some(file) = &file {
                    file.remove();
                }
                return Err(context(err, what()));
            }
        };
        Ok(IpcListener {
            listener,
            endpoint,
            file,
            buffers: Buffers::of(options),
        })
    }

    /// The endpoint bound: as given, or with `*` replaced by the generated
    /// path.
    pub fn local_endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The socket file this listener created and removes when dropped, as
    /// an absolute path; `None` for an abstract name.
    pub fn socket_file(&self) -> Option<&Path> {
        self.file.as_ref().map(|file| file.path.as_path())
    }

    /// Polls for the next connection.
    ///
    /// An error concerns one incoming connection or a resource limit
    /// (`EMFILE`: too many open files); the listener stays usable and the
    /// caller decides whether and when to go on.
    pub fn poll_accept_stream(&self, cx: &mut Context<'_>) -> Poll<io::Result<Async<UnixStream>>> {
        let what = || format!("cannot accept on {}", self.endpoint);
        loop {
            match self.listener.get_ref().accept() {
                Ok((stream, _unnamed)) => {
                    return Poll::Ready(
                        no_sigpipe(&stream)
                            .and_then(|()| self.buffers.apply(&stream))
                            .and_then(|()| Async::new(stream))
                            .map_err(|err| context(err, what())),
                    )
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.listener.poll_readable(cx)).map_err(|err| context(err, what()))?;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(context(err, what()))),
            }
        }
    }

    /// Accepts the next connection. See
    /// [`poll_accept_stream`](IpcListener::poll_accept_stream).
    pub async fn accept_stream(&self) -> io::Result<Async<UnixStream>> {
        std::future::poll_fn(|cx| self.poll_accept_stream(cx)).await
    }
}

impl Drop for IpcListener {
    fn drop(&mut self) {
        // Remove the file first, so that nobody connects to a socket about
        // to close; the socket itself closes when the fields drop.
        if let Some(file) = &self.file {
            file.remove();
        }
    }
}

impl Listener for IpcListener {
    fn local_endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Connection>> {
        self.poll_accept_stream(cx).map_ok(|stream| Connection {
            stream: Box::new(stream),
            // An accepted Unix stream's peer has no address.
            peer: String::new(),
        })
    }
}

impl AsFd for IpcListener {
    /// The listening socket, e.g. to read its options.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

impl fmt::Debug for IpcListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpcListener")
            .field("endpoint", &self.endpoint.to_string())
            .field("socket_file", &self.socket_file())
            .finish_non_exhaustive()
    }
}

/// A listening socket bound to `addr`, non-blocking.
fn listen(addr: &SocketAddrUnix, backlog: i32) -> io::Result<UnixListener> {
    let fd = new_socket()?;
    rustix::net::bind(&fd, addr)?;
    rustix::net::listen(&fd, backlog)?;
    Ok(UnixListener::from(fd))
}

/// Binds a path, replacing a stale socket file found there.
fn bind_path(path: &Path, backlog: i32) -> io::Result<UnixListener> {
    let addr = path_addr(path)?;
    match listen(&addr, backlog) {
        Err(err) if err.kind() == io::ErrorKind::AddrInUse => {}
        other => return other,
    }
    // A file is in the way. Replace it only if it is a socket nobody
    // listens on.
    let in_use = |reason: &str| {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "{}: {reason}",
                io::Error::from(rustix::io::Errno::ADDRINUSE)
            ),
        )
    };
    let before = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        // It went away meanwhile: try again, once.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return listen(&addr, backlog),
        Err(err) => return Err(err),
    };
    if !before.file_type().is_socket() {
        return Err(in_use("a file that is not a socket is in the way"));
    }
    match probe(&addr)? {
        Probe::Live => Err(in_use("a listener is live on this path")),
        Probe::Dead => {
            // Stale. Remove it, unless it was replaced since we looked.
            match fs::symlink_metadata(path) {
                Ok(now) if now.dev() == before.dev() && now.ino() == before.ino() => {
                    match fs::remove_file(path) {
                        Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                        _ => {}
                    }
                }
                Ok(_) => return Err(in_use("the socket file was replaced while binding")),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
            listen(&addr, backlog)
        }
    }
}

/// Binds a generated path for `ipc://*`: `smolmq-<pid>-<n>.sock` in the
/// temp directory, skipping paths that are taken.
fn bind_generated(backlog: i32) -> io::Result<(UnixListener, Endpoint, Option<SocketFile>)> {
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..GENERATED_TRIES {
        let n = NEXT_GENERATED.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("smolmq-{pid}-{n}.sock"));
        let checked = path
            .to_str()
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("the temp directory `{}` is not UTF-8", dir.display()),
                )
            })
            .and_then(|text| {
                IpcPath::new(text).map_err(|err| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("the generated path `{text}` is not usable (set TMPDIR to a shorter directory): {err}"),
                    )
                })
            })?;
        match bind_path(&path, backlog) {
            Ok(listener) => {
                let file = SocketFile::record(&path);
                return Ok((listener, Endpoint::Ipc(IpcAddr::Path(checked)), file));
            }
            // Taken by a live socket or another file: try the next number.
            Err(err) if err.kind() == io::ErrorKind::AddrInUse => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}
