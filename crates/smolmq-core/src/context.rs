//! The context: I/O threads, the transports sockets may use, and the
//! inproc endpoint registry.

use crate::io_thread::IoThreads;
use crate::pattern::{Pair, Pattern, Peer, PeerSlot};
use crate::pipe::Pipe;
use crate::socket::{Socket, SocketShared};
use crate::transport::Transport;
use crate::{Error, Msg, Result};
use smolmq_zmtp::SocketType;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

/// What an inproc name stands for.
pub(crate) enum Inproc {
    /// A socket is bound to it.
    Bound(Binder),
    /// Sockets connected before any bind; their pipes wait here.
    Pending(Vec<PendingConnect>),
}

/// An inproc connect waiting for its bind.
pub(crate) struct PendingConnect {
    /// The binder's end of the pipe.
    pub(crate) pipe: Pipe<Msg>,
    /// The connector, as the binder will see it.
    pub(crate) peer: Peer,
    /// Where the connector learns who bound.
    pub(crate) slot: Arc<PeerSlot>,
    /// The connector, told when the bind comes.
    pub(crate) connector: Arc<SocketShared>,
    /// The connector's token for the pipe.
    pub(crate) token: usize,
}

/// A socket bound to an inproc name.
pub(crate) struct Binder {
    /// Where its commands go.
    pub(crate) shared: Arc<SocketShared>,
    /// Its RCVHWM and SNDHWM, for sizing connecting pipes.
    pub(crate) hwm: (usize, usize),
    /// The binder, as connectors see it.
    pub(crate) peer: Peer,
}

/// Shared by a context's handles and its sockets.
pub(crate) struct ContextInner {
    /// The I/O threads.
    pub(crate) io: IoThreads,
    /// The stream transports sockets may bind and connect with.
    transports: Mutex<Vec<Arc<dyn Transport>>>,
    /// inproc name → binder or pending connections.
    inproc: Mutex<HashMap<String, Inproc>>,
}

impl ContextInner {
    /// The transport for `scheme`, if one was added.
    pub(crate) fn transport(&self, scheme: &str) -> Option<Arc<dyn Transport>> {
        lock(&self.transports)
            .iter()
            .find(|t| t.scheme() == scheme)
            .cloned()
    }

    /// The inproc registry.
    pub(crate) fn inproc(&self) -> MutexGuard<'_, HashMap<String, Inproc>> {
        lock(&self.inproc)
    }
}

/// Locks `m`, ignoring poisoning (no invariant spans a panic here).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A smolmq context: owns the I/O threads and creates sockets.
///
/// Cheap to clone (a handle). The I/O threads stop when the last handle
/// and the last socket are gone.
///
/// ```
/// use smolmq_core::{Context, Msg};
/// use smolmq_zmtp::SocketType;
///
/// let ctx = Context::new()?;
/// let mut server = ctx.socket(SocketType::Pair)?;
/// server.bind("inproc://doc-example")?;
/// let mut client = ctx.socket(SocketType::Pair)?;
/// client.connect("inproc://doc-example")?;
/// client.send_blocking(Msg::from("ping")).map_err(|e| e.into_error())?;
/// assert_eq!(server.recv_blocking()?, Msg::from("ping"));
/// # Ok::<(), smolmq_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    /// The shared state.
    pub(crate) inner: Arc<ContextInner>,
}

impl Context {
    /// A context with one I/O thread and no stream transports (inproc
    /// only); add transports with [`add_transport`](Context::add_transport).
    pub fn new() -> io::Result<Context> {
        Context::with_io_threads(1)
    }

    /// A context with `count` I/O threads (at least one).
    pub fn with_io_threads(count: usize) -> io::Result<Context> {
        Ok(Context {
            inner: Arc::new(ContextInner {
                io: IoThreads::new(count)?,
                transports: Mutex::new(Vec::new()),
                inproc: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Lets this context's sockets use `transport` for its scheme,
    /// replacing any transport added earlier for the same scheme.
    pub fn add_transport(&self, transport: Arc<dyn Transport>) {
        let mut transports = lock(&self.inner.transports);
        transports.retain(|t| t.scheme() != transport.scheme());
        transports.push(transport);
    }

    /// Creates a socket of type `kind` with its built-in pattern.
    ///
    /// Only PAIR is built in; other types fail with [`Error::Unsupported`]
    /// (pattern crates create them with [`socket_with`](Context::socket_with)).
    pub fn socket(&self, kind: SocketType) -> Result<Socket> {
        if kind != SocketType::Pair {
            return Err(Error::Unsupported(format!(
                "{kind} sockets are not implemented yet (only PAIR is)"
            )));
        }
        Ok(self.socket_with(kind, Box::new(Pair::default())))
    }

    /// Creates a socket that announces itself as `kind` in its handshakes
    /// and routes messages with `pattern`.
    pub fn socket_with(&self, kind: SocketType, pattern: Box<dyn Pattern>) -> Socket {
        Socket::new(self.inner.clone(), kind, pattern)
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schemes: Vec<&str> = lock(&self.inner.transports)
            .iter()
            .map(|t| t.scheme())
            .collect();
        f.debug_struct("Context")
            .field("io_threads", &self.inner.io.len())
            .field("transports", &schemes)
            .finish_non_exhaustive()
    }
}
