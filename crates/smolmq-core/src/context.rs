//! The context: I/O threads, the transports sockets may use, and the
//! inproc endpoint registry.

use crate::io_thread::{IoThreads, DEFAULT_IO_SPIN};
use crate::pattern::{Pair, Pattern, Peer, PeerSlot};
use crate::pipe::Pipe;
use crate::socket::{Socket, SocketShared};
use crate::transport::Transport;
use crate::{Error, Msg, Result};
use async_executor::Executor;
use smolmq_zmtp::SocketType;
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

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

/// How a [`Context`] is set up: [`Context::with_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextConfig {
    /// Number of I/O threads (at least one is started).
    io_threads: usize,
    /// How long an I/O thread looks for more work before sleeping.
    io_spin: Duration,
    /// The application's executor to run the I/O tasks on, instead of
    /// I/O threads.
    executor: Option<ForeignExecutor>,
}

/// An executor given to [`ContextConfig::executor`]; configurations
/// compare equal when they name the same one.
#[derive(Clone)]
struct ForeignExecutor(Arc<Executor<'static>>);

impl PartialEq for ForeignExecutor {
    fn eq(&self, other: &ForeignExecutor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for ForeignExecutor {}

impl fmt::Debug for ForeignExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Executor")
    }
}

impl ContextConfig {
    /// One I/O thread spinning [`DEFAULT_IO_SPIN`], as [`Context::new`].
    pub fn new() -> ContextConfig {
        ContextConfig {
            io_threads: 1,
            io_spin: DEFAULT_IO_SPIN,
            executor: None,
        }
    }

    /// Runs the context's I/O tasks (every connection's engine, listeners,
    /// connectors) on `executor`, an executor of the application's,
    /// instead of on I/O threads of its own; `io_threads` and `io_spin`
    /// are then ignored. The application runs the executor, from one
    /// thread or several (`async_io::block_on(executor.run(...))`): see
    /// [`IoThreads::on_executor`] for what that changes, and for the one
    /// rule: a thread that alone runs the executor must not make blocking
    /// calls on the context's sockets.
    ///
    /// ```
    /// use async_executor::Executor;
    /// use smolmq_core::{Context, ContextConfig, Msg};
    /// use smolmq_zmtp::SocketType;
    /// use std::sync::Arc;
    ///
    /// let ex = Arc::new(Executor::new());
    /// let ctx = Context::with_config(ContextConfig::new().executor(ex.clone()))?;
    /// let mut a = ctx.socket(SocketType::Pair)?;
    /// a.bind("inproc://on-executor")?;
    /// let mut b = ctx.socket(SocketType::Pair)?;
    /// b.connect("inproc://on-executor")?;
    /// let got = async_io::block_on(ex.run(async move {
    ///     b.send(Msg::from("hi")).await.map_err(|e| e.into_error())?;
    ///     a.recv().await
    /// }))?;
    /// assert_eq!(got, Msg::from("hi"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn executor(mut self, executor: Arc<Executor<'static>>) -> ContextConfig {
        self.executor = Some(ForeignExecutor(executor));
        self
    }

    /// Sets the number of I/O threads (0 counts as 1).
    pub fn io_threads(mut self, count: usize) -> ContextConfig {
        self.io_threads = count;
        self
    }

    /// Sets how long an I/O thread keeps looking for work after its last
    /// task ran before it blocks in the reactor ([`DEFAULT_IO_SPIN`], 50 µs,
    /// by default; zero: block at once).
    ///
    /// Spinning takes the wake-ups off a busy connection's path (lower
    /// latency, more throughput for small messages) and costs CPU: after
    /// every burst of work the thread stays busy for the whole spin. See
    /// [`io_thread`](crate::io_thread).
    pub fn io_spin(mut self, spin: Duration) -> ContextConfig {
        self.io_spin = spin;
        self
    }
}

impl Default for ContextConfig {
    fn default() -> ContextConfig {
        ContextConfig::new()
    }
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
        Context::with_config(ContextConfig::new().io_threads(count))
    }

    /// A context set up as `config` says.
    ///
    /// ```
    /// use smolmq_core::{Context, ContextConfig};
    /// use std::time::Duration;
    ///
    /// // Two I/O threads that sleep as soon as they run out of work.
    /// let config = ContextConfig::new().io_threads(2).io_spin(Duration::ZERO);
    /// let ctx = Context::with_config(config)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_config(config: ContextConfig) -> io::Result<Context> {
        Ok(Context {
            inner: Arc::new(ContextInner {
                io: match config.executor {
                    Some(ForeignExecutor(executor)) => IoThreads::on_executor(executor),
                    None => IoThreads::with_spin(config.io_threads, config.io_spin)?,
                },
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

    /// The tasks running on the I/O threads now: one per listener, per
    /// connector and per connection. A snapshot, for tests and leak checks
    /// (it falls back once closed connections have been cleaned up).
    pub fn io_tasks(&self) -> usize {
        self.inner.io.tasks()
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
