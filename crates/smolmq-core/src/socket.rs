//! Sockets: the application's handle on a set of connections.
//!
//! A socket is owned by one thread or task at a time (`&mut self`
//! operations, like libzmq's sockets), so sending and receiving take no
//! lock. I/O threads talk to it through its mailbox: new pipes (`Attach`)
//! and pipe events (`Activate`). Every operation comes in three forms: async
//! (`send`, `recv`), blocking with SNDTIMEO / RCVTIMEO (`send_blocking`,
//! `recv_blocking`) and non-blocking (`try_send`, `try_recv`).
//!
//! What a socket does with its peers is its [`Pattern`](crate::pattern::Pattern):
//! PAIR ([`Pair`](crate::pattern::Pair)) is built in; other socket types
//! come from pattern crates through [`Context::socket_with`](crate::Context::socket_with).
//!
//! # What can be lost
//!
//! As in libzmq: messages a peer sent are delivered in order while its
//! connection stays up. When a connection drops, messages already handed
//! to the kernel or to the engine of that connection may be lost; messages
//! still queued in a connecting socket's pipe go out on the next
//! connection (the pipe survives reconnects). A bound socket gets a new
//! pipe for each connection, so what it had queued for a peer that left is
//! dropped with that peer's pipe.
//!
//! Closing writes out what was queued (bounded by LINGER), then closes the
//! connections; it does not wait for the peers to read what the kernel
//! holds for them, nor does libzmq. A libzmq 4.3 receiver over ipc can
//! lose that last part: when its engine has stopped reading at its receive
//! HWM and the sender closes, it takes the closing Unix socket's hang-up
//! for an I/O error and drops the connection, with what the kernel still
//! held, once it reads again (libzmq's own senders close the same way;
//! over tcp a close is no hang-up for the reader). A receive HWM of 0 on
//! the libzmq side, or an answer from it before closing, avoids it.
//!
//! # JSON lines
//!
//! An endpoint with `+jsonl` (`tcp+jsonl://`, `ipc+jsonl://`) speaks
//! line-delimited JSON instead of ZMTP: each line from the peer is a
//! one-frame message (a ROUTER receives `[id, line]`), each one-frame
//! message sent is written as its bytes and `"\n"`. PAIR, DEALER, ROUTER,
//! PUSH and PULL sockets take such endpoints; REQ / REP (envelopes) and the
//! publish-subscribe types (subscriptions) have no line form and are
//! refused at bind / connect. Once a socket has such
//! an endpoint, every send is checked to be one line, over all its
//! endpoints: exactly one frame (a ROUTER: the routing id and one frame),
//! not empty, no `\n` in it and no `\r` at its end; anything else fails
//! with [`Error::NotALine`] and is handed back, nothing of it written. A
//! line longer than `maxmsgsize` (16 MiB when unset) is answered with one
//! JSON-RPC error line (code -32600) and the connection is closed. The
//! ZMTP-only options (heartbeats, routing id, mechanism) do not apply;
//! `handshake_ivl` bounds only the transport's own handshake (TLS), and
//! `idle_timeout`, the reconnect options and `connect_timeout` apply as on
//! ZMTP. See `docs/architecture.md` for the engine.

use crate::context::{lock, Binder, ContextInner, Inproc, PendingConnect};
use crate::engine::{Engine, EngineConfig, EngineExit, EngineObserver};
use crate::lines::{LineConfig, LineEngine, DEFAULT_MAX_LINE};
use crate::monitor::SocketEvent;
use crate::pattern::{Pattern, Peer, PeerSlot, PipeEvent, PipeId, Pipes, Refused, PACE_WAIT};
use crate::pipe::{pipe_pair, Pipe, PipeEvents};
use crate::transport::{
    self, BoxFuture, BoxStream, Connection, Listener, Side, Transport, CLOSE_TIMEOUT,
};
use crate::{Endpoint, Error, Msg, Result, SocketOptions, Wire};
use async_executor::Task;
use async_io::Timer;
use smolmq_mailbox::{mailbox, Receiver, RecvTimeoutError, Sender};
use smolmq_signaler::Signaler;
use smolmq_zmtp::{HandshakeConfig, PeerInfo, SocketType};
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

/// What I/O threads (and inproc peers) tell a socket.
pub(crate) enum Command {
    /// A new pipe to a peer, and who the peer is.
    Attach(Pipe<Msg>, Arc<PeerSlot>),
    /// Pipe (token) changed state: tell the pattern.
    Activate(usize, PipeEvent),
    /// A connector gave up (`reconnect_max_attempts`); its pipe (token)
    /// is gone.
    GaveUp {
        /// The pipe's token.
        token: usize,
        /// The endpoint.
        endpoint: Endpoint,
        /// Failed attempts in a row.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
}

/// The part of a socket that I/O tasks and peers reach.
pub(crate) struct SocketShared {
    /// The socket's mailbox.
    commands: Sender<Command>,
    /// Where monitor events go, if anyone listens.
    monitor: Mutex<Option<Sender<SocketEvent>>>,
    /// A poller waiting on this socket (and others), woken with every
    /// command; `watched` says whether there is one without the lock.
    watch: Mutex<Option<Arc<Signaler>>>,
    /// Whether `watch` is set.
    watched: AtomicBool,
}

impl SocketShared {
    /// Reports a monitor event (dropped when nobody monitors).
    pub(crate) fn emit(&self, event: SocketEvent) {
        if let Some(tx) = lock(&self.monitor).as_ref() {
            let _ = tx.send(event);
        }
    }

    /// Hands the socket a new pipe; `false` if the socket is gone (the
    /// pipe is then dropped, which ends whatever serves its other end).
    pub(crate) fn attach(&self, pipe: Pipe<Msg>, peer: Arc<PeerSlot>) -> bool {
        self.command(Command::Attach(pipe, peer))
    }

    /// Tells the socket that pipe `token`'s peer has (re)identified itself.
    pub(crate) fn identified(&self, token: usize) {
        self.command(Command::Activate(token, PipeEvent::Identified));
    }

    /// Sends the socket a command and wakes a poller watching it; `false`
    /// if the socket is gone.
    fn command(&self, cmd: Command) -> bool {
        let sent = self.commands.send(cmd).is_ok();
        if self.watched.load(Ordering::Acquire) {
            if let Some(signal) = lock(&self.watch).as_ref() {
                signal.signal();
            }
        }
        sent
    }

    /// Makes `signal` (or nobody) the poller woken by this socket's
    /// commands.
    pub(crate) fn set_watch(&self, signal: Option<Arc<Signaler>>) {
        let mut watch = lock(&self.watch);
        self.watched.store(signal.is_some(), Ordering::Release);
        *watch = signal;
    }
}

/// The socket's sink for its pipes' events.
struct Sink(Arc<SocketShared>);

impl PipeEvents for Sink {
    fn readable(&self, token: usize) {
        self.0
            .command(Command::Activate(token, PipeEvent::Readable));
    }
    fn writable(&self, token: usize) {
        self.0
            .command(Command::Activate(token, PipeEvent::Writable));
    }
    fn closed(&self, token: usize) {
        self.0.command(Command::Activate(token, PipeEvent::Closed));
    }
}

/// A message that could not be sent, and why; the message is handed back.
#[derive(Debug)]
pub struct SendError {
    /// Why.
    error: Error,
    /// The message.
    msg: Msg,
}

impl SendError {
    /// Why the send failed.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The message that was not sent.
    pub fn into_msg(self) -> Msg {
        self.msg
    }

    /// The error, dropping the message.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "message not sent: {}", self.error)
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A listener shared by the socket (which closes it) and its accept task.
type SharedListener = Arc<Mutex<Option<Box<dyn Listener>>>>;

/// A listener or connector task and the endpoint it serves.
struct EndpointTask {
    /// The endpoint as given to bind or connect.
    endpoint: Endpoint,
    /// Bound: the listener, closed by the socket itself on unbind or close
    /// (so the address is free when that returns); `None` for a connector.
    listener: Option<SharedListener>,
    /// A connector's pipe token (`None` for a bind).
    pipe: Option<usize>,
    /// The task; dropping it stops the listener / connector.
    task: Task<()>,
}

impl EndpointTask {
    /// True for a bind.
    fn bound(&self) -> bool {
        self.listener.is_some()
    }

    /// Stops the task; a listener is closed before this returns.
    fn stop(self) {
        if let Some(listener) = &self.listener {
            lock(listener).take();
        }
        drop(self.task);
    }
}

/// A socket: binds and connects endpoints, sends and receives messages.
///
/// Owned by one thread or task at a time (`&mut self` operations, like
/// libzmq's sockets), so sending and receiving take no lock. Every
/// operation comes in three forms: async ([`send`](Socket::send),
/// [`recv`](Socket::recv)), blocking with SNDTIMEO / RCVTIMEO
/// ([`send_blocking`](Socket::send_blocking),
/// [`recv_blocking`](Socket::recv_blocking)) and non-blocking
/// ([`try_send`](Socket::try_send), [`try_recv`](Socket::try_recv)).
///
/// # What can be lost
///
/// As in libzmq: messages a peer sent are delivered in order while its
/// connection stays up. When a connection drops, messages already handed to
/// the kernel or to the engine of that connection may be lost; messages
/// still queued in a connecting socket's pipe go out on the next connection
/// (the pipe survives reconnects). A bound socket gets a new pipe for each
/// connection, so what it had queued for a peer that left is dropped with
/// that peer's pipe.
pub struct Socket {
    /// The context.
    ctx: Arc<ContextInner>,
    /// The socket type.
    kind: SocketType,
    /// Options, read when binding and connecting (set them first).
    options: SocketOptions,
    /// Reached by I/O tasks and peers.
    shared: Arc<SocketShared>,
    /// The socket's mailbox.
    commands: Receiver<Command>,
    /// One pipe per peer.
    pipes: Pipes,
    /// What the socket type does with them.
    pattern: Box<dyn Pattern>,
    /// Listeners and connectors.
    tasks: Vec<EndpointTask>,
    /// inproc names this socket is bound to.
    inproc_names: Vec<String>,
    /// The endpoint last bound, wildcards resolved.
    last_endpoint: Option<Endpoint>,
    /// Some endpoint speaks JSON lines: sends are checked to be lines.
    lines: bool,
    /// The last connector that gave up, as the error to report once
    /// nothing else is left.
    gave_up: Option<(Endpoint, u32, String)>,
}

impl Socket {
    /// A new socket of `kind` in `ctx`, routing with `pattern`.
    pub(crate) fn new(
        ctx: Arc<ContextInner>,
        kind: SocketType,
        pattern: Box<dyn Pattern>,
    ) -> Socket {
        let (tx, rx) = mailbox();
        let mut pipes = Pipes::default();
        pipes.set_pacing(paces(kind));
        Socket {
            ctx,
            kind,
            options: SocketOptions::default(),
            shared: Arc::new(SocketShared {
                commands: tx,
                monitor: Mutex::new(None),
                watch: Mutex::new(None),
                watched: AtomicBool::new(false),
            }),
            commands: rx,
            pipes,
            pattern,
            tasks: Vec::new(),
            inproc_names: Vec::new(),
            last_endpoint: None,
            lines: false,
            gave_up: None,
        }
    }

    /// The socket type.
    pub fn kind(&self) -> SocketType {
        self.kind
    }

    /// The options.
    pub fn options(&self) -> &SocketOptions {
        &self.options
    }

    /// Replaces the options after validating them. They apply to
    /// connections made from then on (set them before bind and connect).
    pub fn set_options(&mut self, options: SocketOptions) -> Result<()> {
        options.validate()?;
        self.options = options;
        Ok(())
    }

    /// The endpoint last bound, with wildcards resolved (libzmq's
    /// LAST_ENDPOINT): after binding `tcp://127.0.0.1:0`, the port chosen.
    pub fn last_endpoint(&self) -> Option<&Endpoint> {
        self.last_endpoint.as_ref()
    }

    /// Starts monitoring: events from now on go to the returned receiver
    /// (replacing an earlier monitor). Events nobody receives are dropped
    /// when the receiver is.
    pub fn monitor(&mut self) -> Receiver<SocketEvent> {
        let (tx, rx) = mailbox();
        *lock(&self.shared.monitor) = Some(tx);
        rx
    }

    /// Binds `endpoint` and starts accepting peers.
    ///
    /// `tcp://` and `ipc://` need the transport added to the context;
    /// `inproc://` always works. Errors (a bad endpoint, an address in use,
    /// a missing transport) are reported at once.
    pub fn bind(&mut self, endpoint: &str) -> Result<()> {
        let endpoint = Endpoint::parse(endpoint)?;
        if let Endpoint::Inproc(name) = &endpoint {
            return self.bind_inproc(name.as_str(), endpoint.clone());
        }
        self.check_wire(&endpoint)?;
        let transport = self.transport_for(&endpoint)?;
        // The transport sees the stream endpoint; the wire is ours.
        let listener = transport.bind(endpoint.stream(), &self.options)?;
        let local = endpoint.with_stream(listener.local_endpoint().clone());
        self.lines |= endpoint.wire() == Wire::JsonLines;
        self.shared.emit(SocketEvent::Listening {
            endpoint: local.clone(),
        });
        let listener: SharedListener = Arc::new(Mutex::new(Some(listener)));
        let task = self.ctx.io.spawn(accept_loop(
            Arc::downgrade(&self.ctx),
            transport,
            listener.clone(),
            local.clone(),
            self.shared.clone(),
            self.options.clone(),
            self.kind,
        ));
        self.tasks.push(EndpointTask {
            endpoint,
            listener: Some(listener),
            pipe: None,
            task,
        });
        self.last_endpoint = Some(local);
        Ok(())
    }

    /// Connects to `endpoint`. Returns at once: the connection is made in
    /// the background, and remade after it drops (RECONNECT_IVL, doubling
    /// up to RECONNECT_IVL_MAX, with `reconnect_jitter`). Messages sent
    /// meanwhile wait in the pipe, up to SNDHWM. With
    /// `reconnect_max_attempts` set, the socket gives up on the endpoint
    /// after that many failed attempts in a row (see
    /// [`Error::ConnectGaveUp`]).
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        let endpoint = Endpoint::parse(endpoint)?;
        endpoint.check_connectable()?;
        if let Endpoint::Inproc(name) = &endpoint {
            return self.connect_inproc(name.as_str());
        }
        self.check_wire(&endpoint)?;
        let transport = self.transport_for(&endpoint)?;
        transport.check_connect(endpoint.stream(), &self.options)?;
        self.lines |= endpoint.wire() == Wire::JsonLines;
        let (ours, theirs) = pipe_pair(self.options.sndhwm, self.options.rcvhwm);
        // Who is there is known after the first handshake.
        let peer = Arc::new(PeerSlot::new(Peer {
            connected: true,
            ..Peer::default()
        }));
        let Some(id) = self.adopt(ours, peer.clone()) else {
            return Err(refused_peer(self.kind, &endpoint));
        };
        let task = self.ctx.io.spawn(connect_loop(
            transport,
            endpoint.clone(),
            theirs,
            self.shared.clone(),
            (peer, id.index()),
            self.options.clone(),
            self.kind,
        ));
        self.tasks.push(EndpointTask {
            endpoint,
            listener: None,
            pipe: Some(id.index()),
            task,
        });
        Ok(())
    }

    /// Stops listening on an endpoint given to [`bind`](Socket::bind)
    /// (as given, or as resolved by `last_endpoint`). Connections already
    /// accepted stay up.
    pub fn unbind(&mut self, endpoint: &str) -> Result<()> {
        let endpoint = Endpoint::parse(endpoint)?;
        if let Endpoint::Inproc(name) = &endpoint {
            let name = name.as_str().to_owned();
            if !self.inproc_names.contains(&name) {
                return Err(not_found(&endpoint));
            }
            self.inproc_names.retain(|n| *n != name);
            self.ctx.inproc().remove(&name);
            return Ok(());
        }
        let last = self.last_endpoint.clone();
        let (gone, kept): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.tasks).into_iter().partition(|t| {
                t.bound() && (t.endpoint == endpoint || last.as_ref() == Some(&endpoint))
            });
        self.tasks = kept;
        if gone.is_empty() {
            return Err(not_found(&endpoint));
        }
        gone.into_iter().for_each(EndpointTask::stop);
        Ok(())
    }

    /// Drops the connection to an endpoint given to
    /// [`connect`](Socket::connect), and stops reconnecting to it.
    pub fn disconnect(&mut self, endpoint: &str) -> Result<()> {
        let endpoint = Endpoint::parse(endpoint)?;
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|t| !t.bound() && t.endpoint == endpoint);
        self.tasks = kept;
        if gone.is_empty() {
            return Err(not_found(&endpoint));
        }
        gone.into_iter().for_each(EndpointTask::stop);
        Ok(())
    }

    /// Refuses a JSON-lines endpoint on a socket type whose messages have
    /// no line form: REQ / REP add an envelope frame, PUB / SUB / XPUB /
    /// XSUB exchange subscriptions.
    fn check_wire(&self, endpoint: &Endpoint) -> Result<()> {
        let fits = matches!(
            self.kind,
            SocketType::Pair
                | SocketType::Dealer
                | SocketType::Router
                | SocketType::Push
                | SocketType::Pull
        );
        if endpoint.wire() == Wire::JsonLines && !fits {
            return Err(Error::Unsupported(format!(
                "{endpoint}: JSON lines carry one-frame messages only, for PAIR, DEALER, \
                 ROUTER, PUSH and PULL sockets, not {}",
                self.kind
            )));
        }
        Ok(())
    }

    /// The transport for a stream endpoint.
    fn transport_for(&self, endpoint: &Endpoint) -> Result<Arc<dyn Transport>> {
        let scheme = endpoint.transport();
        self.ctx.transport(scheme).ok_or_else(|| {
            Error::Unsupported(format!(
                "no {scheme} transport in this context (add one with Context::add_transport)"
            ))
        })
    }

    /// How this socket describes itself to an inproc peer.
    fn inproc_self(&self, connected: bool) -> Peer {
        Peer {
            socket_type: Some(self.kind),
            routing_id: self.options.routing_id.clone().unwrap_or_default(),
            connected,
            generation: 1,
            wire: Wire::Zmtp,
        }
    }

    /// Binds an inproc name; connections that came before are completed.
    fn bind_inproc(&mut self, name: &str, endpoint: Endpoint) -> Result<()> {
        let pending = {
            let mut registry = self.ctx.inproc();
            let binder = Inproc::Bound(Binder {
                shared: self.shared.clone(),
                hwm: (self.options.rcvhwm, self.options.sndhwm),
                peer: self.inproc_self(true),
            });
            match registry.insert(name.to_owned(), binder) {
                Some(Inproc::Bound(b)) => {
                    // Put the first binder back.
                    registry.insert(name.to_owned(), Inproc::Bound(b));
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("{endpoint} is already bound"),
                    )));
                }
                Some(Inproc::Pending(pipes)) => pipes,
                None => Vec::new(),
            }
        };
        self.inproc_names.push(name.to_owned());
        for connect in pending {
            let compatible = connect
                .peer
                .socket_type
                .is_some_and(|t| self.kind.is_compatible_with(t));
            if !compatible {
                // The connector sees its pipe closed.
                continue;
            }
            connect.slot.identify(
                self.kind,
                self.options.routing_id.clone().unwrap_or_default(),
            );
            connect.connector.identified(connect.token);
            // A refused connector sees its pipe closed.
            self.adopt(connect.pipe, Arc::new(PeerSlot::new(connect.peer)));
        }
        self.shared.emit(SocketEvent::Listening {
            endpoint: endpoint.clone(),
        });
        self.last_endpoint = Some(endpoint);
        Ok(())
    }

    /// Connects to an inproc name, bound or not yet.
    fn connect_inproc(&mut self, name: &str) -> Result<()> {
        let kind = self.kind;
        let refused = || refused_peer(kind, format_args!("inproc://{name}"));
        let mut registry = self.ctx.inproc();
        match registry.get_mut(name) {
            Some(Inproc::Bound(binder)) => {
                let their = binder.peer.clone();
                let their_type = their.socket_type.unwrap_or(self.kind);
                if !self.kind.is_compatible_with(their_type) {
                    return Err(Error::Incompatible {
                        ours: self.kind,
                        peer: their_type,
                    });
                }
                // HWMs add up as in libzmq: our SNDHWM plus their RCVHWM.
                let (their_rcv, their_snd) = binder.hwm;
                let out = add_hwm(self.options.sndhwm, their_rcv);
                let back = add_hwm(their_snd, self.options.rcvhwm);
                let (ours, theirs) = pipe_pair(out, back);
                let us = Arc::new(PeerSlot::new(self.inproc_self(false)));
                if !binder.shared.attach(theirs, us) {
                    // The binder is gone but not unregistered yet.
                    return Err(Error::Closed);
                }
                drop(registry);
                if self.adopt(ours, Arc::new(PeerSlot::new(their))).is_none() {
                    return Err(refused());
                }
            }
            _ => {
                let (ours, theirs) = pipe_pair(self.options.sndhwm, self.options.rcvhwm);
                // The binder, when it comes, tells us who it is.
                let slot = Arc::new(PeerSlot::new(Peer {
                    connected: true,
                    ..Peer::default()
                }));
                let pending = PendingConnect {
                    pipe: theirs,
                    peer: self.inproc_self(false),
                    slot: slot.clone(),
                    connector: self.shared.clone(),
                    token: 0,
                };
                drop(registry);
                let Some(id) = self.adopt(ours, slot) else {
                    return Err(refused());
                };
                let pending = PendingConnect {
                    token: id.index(),
                    ..pending
                };
                let mut registry = self.ctx.inproc();
                match registry.get_mut(name) {
                    Some(Inproc::Pending(pipes)) => pipes.push(pending),
                    None => {
                        registry.insert(name.to_owned(), Inproc::Pending(vec![pending]));
                    }
                    Some(Inproc::Bound(_)) => {
                        // Bound in the meantime: complete it here.
                        drop(registry);
                        self.pipes_remove_now(id);
                        return self.connect_inproc(name);
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes pipe `id` at once and tells the pattern.
    fn pipes_remove_now(&mut self, id: PipeId) {
        if self.pipes.remove(id).is_some() {
            self.pattern.detach(id);
        }
    }

    /// Offers a pipe to a new peer to the pattern; `None` if it refused
    /// (the pipe is dropped, which closes the peer's side).
    fn adopt(&mut self, pipe: Pipe<Msg>, peer: Arc<PeerSlot>) -> Option<PipeId> {
        let id = self.pipes.insert(pipe, peer);
        // The sink first: a pattern that reads the pipe in `attach` and
        // finds it empty must be woken when messages come.
        if let Some(pipe) = self.pipes.get(id) {
            pipe.attach(Arc::new(Sink(self.shared.clone())), id.index());
        }
        let accepted = self.pattern.attach(&mut self.pipes, id);
        if !accepted {
            if let Some(pipe) = self.pipes.remove(id) {
                pipe.detach();
            }
        }
        self.reap();
        accepted.then_some(id)
    }

    /// Removes the pipes found ended and tells the pattern.
    #[inline]
    fn reap(&mut self) {
        if self.pipes.has_ended() {
            self.reap_ended();
        }
    }

    /// The work of [`reap`](Socket::reap), when there is some.
    #[cold]
    fn reap_ended(&mut self) {
        for id in self.pipes.take_ended() {
            if self.pipes.remove(id).is_some() {
                self.pattern.detach(id);
            }
        }
    }

    /// Handles everything in the mailbox.
    fn process_commands(&mut self) {
        while let Ok(cmd) = self.commands.try_recv() {
            self.handle(cmd);
        }
    }

    /// Handles what is in the mailbox, if anything: one atomic look when
    /// it is empty. New peers and pipe events reach the pattern this way
    /// even while messages flow (a PUB that never blocks still sees new
    /// subscribers).
    #[inline]
    fn poll_commands(&mut self) {
        if !self.commands.is_empty() {
            self.process_commands();
        }
    }

    /// Runs `f` on the socket's pattern if it is a `P`: how pattern crates
    /// offer their options (ROUTER_MANDATORY, subscriptions, ...). `None`
    /// if the pattern is of another type.
    ///
    /// The mailbox is handled first, so `f` sees every peer that arrived.
    pub fn with_pattern<P: Pattern, R>(
        &mut self,
        f: impl FnOnce(&mut P, &mut Pipes) -> R,
    ) -> Option<R> {
        self.process_commands();
        let pattern: &mut dyn std::any::Any = &mut *self.pattern;
        let pattern = pattern.downcast_mut::<P>()?;
        let result = f(pattern, &mut self.pipes);
        self.reap();
        Some(result)
    }

    /// The handle a poller registers with.
    pub(crate) fn shared(&self) -> &SocketShared {
        &self.shared
    }

    /// Whether a receive would succeed now (a poller's POLLIN).
    pub fn has_in(&mut self) -> bool {
        self.process_commands();
        let has = self.pattern.has_in(&mut self.pipes);
        self.reap();
        has
    }

    /// Whether a send would succeed now (a poller's POLLOUT).
    pub fn has_out(&mut self) -> bool {
        self.process_commands();
        let has = self.pattern.has_out(&mut self.pipes);
        self.reap();
        has
    }

    /// The number of peers attached now.
    pub fn peer_count(&mut self) -> usize {
        self.process_commands();
        self.reap();
        self.pipes.len()
    }

    /// Sends `msg` if it can be sent now.
    ///
    /// Fails with [`Error::WouldBlock`] when there is no peer yet (a bound
    /// PAIR before anyone connects) or the peer's pipe is at SNDHWM; the
    /// message is handed back in the error.
    pub fn try_send(&mut self, msg: Msg) -> std::result::Result<(), SendError> {
        if self.lines {
            if let Err(error) = check_line(self.kind, &msg) {
                return Err(SendError { error, msg });
            }
        }
        // One atomic look at the mailbox per call; it is read in full only
        // when it holds something, or when the pattern cannot go on.
        self.poll_commands();
        let refused = match self.pattern.send(&mut self.pipes, msg) {
            Ok(()) => {
                self.reap();
                return Ok(());
            }
            Err(refused) => refused,
        };
        // Kept off the common path: moving the refusal (a message and an
        // error, 136 bytes) cost a `memcpy` call per message when both
        // outcomes shared one exit.
        self.try_send_refused(refused)
    }

    /// The rest of [`try_send`](Socket::try_send) after the pattern refused
    /// the message: on `WouldBlock`, read the mailbox and try once more.
    #[cold]
    #[inline(never)]
    fn try_send_refused(&mut self, refused: Refused) -> std::result::Result<(), SendError> {
        let sent = match refused {
            Refused {
                error: Error::WouldBlock,
                msg,
            } => {
                self.process_commands();
                self.pattern.send(&mut self.pipes, msg)
            }
            other => Err(other),
        };
        self.reap();
        sent.map_err(|Refused { error, msg }| {
            let error = match error {
                Error::WouldBlock => self.gave_up_error().unwrap_or(Error::WouldBlock),
                other => other,
            };
            SendError { error, msg }
        })
    }

    /// Receives a message if one is waiting; [`Error::WouldBlock`] if not.
    pub fn try_recv(&mut self) -> Result<Msg> {
        // As in `try_send`. One `received`, checked in place and returned
        // as it is: matching it into a new `Result` moved the 80-byte
        // message twice more per receive.
        self.poll_commands();
        let mut received = self.pattern.recv(&mut self.pipes);
        if matches!(received, Err(Error::WouldBlock)) {
            self.process_commands();
            received = self.pattern.recv(&mut self.pipes);
        }
        self.reap();
        if matches!(received, Err(Error::WouldBlock)) {
            if let Some(error) = self.gave_up_error() {
                return Err(error);
            }
        }
        received
    }

    /// Sends `msg`, waiting while it cannot be sent, at most SNDTIMEO
    /// (forever when unset); [`Error::Timeout`] after that.
    ///
    /// # Pacing without a HWM
    ///
    /// With SNDHWM 0 (no limit) nothing is ever refused or dropped, but a
    /// sender that is faster than its connection would queue without end.
    /// So a blocking send of a socket whose sends wait at the HWM (PAIR,
    /// DEALER, PUSH, REQ, CLIENT, SCATTER, CHANNEL) that finds the peer's
    /// pipe more than [`PACE_AHEAD`](crate::pattern::PACE_AHEAD) bytes
    /// behind (counted in messages of the size just sent, at least 16)
    /// waits, after its message is queued, until half of that has been
    /// taken, for at most [`PACE_WAIT`](crate::pattern::PACE_WAIT) and
    /// never past SNDTIMEO. A wait whose time runs out marks the pipe
    /// stalled, and it is not paced again until its reader reports taking
    /// more; a reader that has taken nothing since it was first asked is
    /// never waited for: a send to a peer that does not read does not
    /// wait. Only a socket with one peer paces (with several, one slow
    /// peer would hold up the others' messages), and only a pipe without
    /// a HWM (over inproc: SNDHWM and the peer's RCVHWM both 0).
    /// [`try_send`](Socket::try_send) and the async
    /// [`send`](Socket::send) never wait for this.
    ///
    /// Why: the queued messages live in memory freed by nobody yet, so
    /// each new one is fresh memory that the kernel zeroes page by page on
    /// first touch, on the sender's thread, and that has left the caches
    /// by the time the I/O thread writes it out. Keeping the lead to a few
    /// MiB cut the page faults of a 128 KiB stream over ipc fourfold and
    /// its CPU time by a fifth on the project's 2-core test machine
    /// (`docs/benchmarks.md`, "Pacing a sender without a HWM").
    pub fn send_blocking(&mut self, msg: Msg) -> std::result::Result<(), SendError> {
        // The clock is read only once the send has to wait: a send that
        // goes through at once (the common case) costs no clock read.
        let mut deadline = None;
        let mut msg = msg;
        // A pipe found lagging by an earlier non-blocking send is not this
        // send's business.
        self.pipes.take_lagging();
        loop {
            match self.try_send(msg) {
                Ok(()) => {
                    if let Some((id, bound)) = self.pipes.take_lagging() {
                        let deadline = deadline
                            .unwrap_or_else(|| self.options.sndtimeo.map(|t| Instant::now() + t));
                        self.pace(id, bound, deadline);
                    }
                    return Ok(());
                }
                Err(SendError {
                    error: Error::WouldBlock,
                    msg: back,
                }) => msg = back,
                Err(e) => return Err(e),
            }
            let deadline =
                *deadline.get_or_insert_with(|| self.options.sndtimeo.map(|t| Instant::now() + t));
            if let Err(error) = self.wait(deadline) {
                return Err(SendError { error, msg });
            }
        }
    }

    /// Receives a message, waiting at most RCVTIMEO (forever when unset);
    /// [`Error::Timeout`] after that.
    pub fn recv_blocking(&mut self) -> Result<Msg> {
        // As in `send_blocking`: the clock only when there is a wait.
        let mut deadline = None;
        loop {
            match self.try_recv() {
                Err(Error::WouldBlock) => {}
                other => return other,
            }
            let deadline =
                *deadline.get_or_insert_with(|| self.options.rcvtimeo.map(|t| Instant::now() + t));
            self.wait(deadline)?;
        }
    }

    /// Sends `msg`, awaiting room (no timeout: wrap the future in one).
    pub async fn send(&mut self, msg: Msg) -> std::result::Result<(), SendError> {
        let mut msg = msg;
        loop {
            match self.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(SendError {
                    error: Error::WouldBlock,
                    msg: back,
                }) => msg = back,
                Err(e) => return Err(e),
            }
            if let Ok(cmd) = self.commands.recv().await {
                self.handle(cmd);
            }
        }
    }

    /// Receives a message, awaiting one (no timeout: wrap the future in
    /// one).
    ///
    /// Unlike [`recv_blocking`](Socket::recv_blocking) it does not wait at
    /// an empty pipe for a message about to arrive: the task yields its
    /// thread to the executor's other tasks and is woken when one comes.
    pub async fn recv(&mut self) -> Result<Msg> {
        loop {
            self.pipes.set_patient(false);
            let received = self.try_recv();
            self.pipes.set_patient(true);
            match received {
                Err(Error::WouldBlock) => {}
                other => return other,
            }
            if let Ok(cmd) = self.commands.recv().await {
                self.handle(cmd);
            }
        }
    }

    /// Blocks until something about the socket may have changed, or
    /// `timeout` passes ([`Error::Timeout`]; `None` waits forever).
    ///
    /// For event loops built on [`try_send`](Socket::try_send) and
    /// [`try_recv`](Socket::try_recv): call them until both would block,
    /// then wait here. A message arriving, room freeing up after a refused
    /// send, and a peer arriving or leaving all end the wait; it may also
    /// end with nothing to do (look again).
    pub fn wait_activity(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.wait(deadline)
    }

    /// Handles one command.
    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Attach(pipe, peer) => {
                self.adopt(pipe, peer);
            }
            Command::GaveUp {
                token,
                endpoint,
                attempts,
                reason,
            } => {
                let id = PipeId::from_index(token);
                if self.pipes.contains(id) {
                    self.pipes.close(id);
                    self.reap();
                }
                // Only that connector (the same endpoint may be connected
                // twice); its task has ended.
                self.tasks.retain(|t| t.pipe != Some(token));
                self.gave_up = Some((endpoint, attempts, reason));
            }
            Command::Activate(token, event) => {
                // Tokens are slot indices; an event for a pipe removed since
                // is dropped (one for a slot reused since is a harmless hint).
                let id = PipeId::from_index(token);
                if self.pipes.contains(id) {
                    self.pattern.activated(&mut self.pipes, id, event);
                    self.reap();
                }
            }
        }
    }

    /// The error for an operation that would block when a connector gave
    /// up and nothing else is left that could bring a peer.
    #[cold]
    fn gave_up_error(&mut self) -> Option<Error> {
        let (endpoint, attempts, reason) = self.gave_up.as_ref()?;
        let alone = self.pipes.is_empty() && self.tasks.is_empty() && self.inproc_names.is_empty();
        alone.then(|| Error::ConnectGaveUp {
            endpoint: Box::new(endpoint.clone()),
            attempts: *attempts,
            reason: reason.clone(),
        })
    }

    /// Pacing, after a blocking send went through (see
    /// [`send_blocking`](Socket::send_blocking), "Pacing without a HWM"):
    /// pipe `id` has no HWM and its reader is `bound` messages behind.
    /// Waits until the reader has taken half of that, for at most
    /// [`PACE_WAIT`] and not past the send's own `deadline`; a wait whose
    /// time runs out marks the pipe stalled. Only a socket with one peer
    /// gets here (`Pipes::write` looks only then).
    #[cold]
    #[inline(never)]
    fn pace(&mut self, id: PipeId, bound: usize, deadline: Option<Instant>) {
        let until = Instant::now() + PACE_WAIT;
        let until = deadline.map_or(until, |d| d.min(until));
        let target = bound.div_ceil(2);
        while !self.pipes.wait_lead(id, target) {
            // `wait` hands over a queued command even past its deadline.
            let waited = if Instant::now() < until {
                self.wait(Some(until))
            } else {
                Err(Error::Timeout)
            };
            match waited {
                Ok(()) => {}
                Err(Error::Timeout) => {
                    self.pipes.stalled(id);
                    return;
                }
                Err(_) => return,
            }
        }
    }

    /// Blocks until a command arrives (then handles it) or the deadline.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<()> {
        let cmd = match deadline {
            None => self.commands.recv_blocking().map_err(|_| Error::Closed)?,
            Some(deadline) => match self.commands.recv_deadline(deadline) {
                Ok(cmd) => cmd,
                Err(RecvTimeoutError::Timeout) => return Err(Error::Timeout),
                Err(RecvTimeoutError::Disconnected) => return Err(Error::Closed),
            },
        };
        self.handle(cmd);
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        for name in self.inproc_names.drain(..) {
            self.ctx.inproc().remove(&name);
        }
        // Dropping our pipe ends tells the engines to write out what is
        // queued and stop (bounded by LINGER, see `EngineConfig::linger`).
        self.pipes = Pipes::default();
        let mut connectors = Vec::new();
        for t in self.tasks.drain(..) {
            if t.bound() {
                // Stop listening now: the address is free when we return.
                t.stop();
            } else {
                connectors.push(t.task);
            }
        }
        match self.options.linger {
            Some(linger) if linger.is_zero() => drop(connectors),
            Some(linger) => self
                .ctx
                .io
                .spawn(async move {
                    // Connectors end by themselves once their queue is
                    // written; whatever is left after LINGER is dropped.
                    Timer::after(linger).await;
                    drop(connectors);
                })
                .detach(),
            None => connectors.into_iter().for_each(Task::detach),
        }
        self.shared.emit(SocketEvent::Closed);
    }
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("kind", &self.kind)
            .field("peers", &self.pipes.len())
            .field("last_endpoint", &self.last_endpoint)
            .finish_non_exhaustive()
    }
}

/// Whether sockets of `kind` pace their blocking sends on pipes without a
/// HWM: those whose send waits at the HWM, so that a short wait is the
/// kind of thing their sender expects (PAIR, DEALER, PUSH, REQ, CLIENT,
/// SCATTER, CHANNEL). PUB, XPUB, RADIO and XSUB never wait for a peer; a
/// ROUTER, REP, SERVER or PEER drops at the HWM rather than wait for one;
/// the others do not send messages.
fn paces(kind: SocketType) -> bool {
    matches!(
        kind,
        SocketType::Pair
            | SocketType::Dealer
            | SocketType::Push
            | SocketType::Req
            | SocketType::Client
            | SocketType::Scatter
            | SocketType::Channel
    )
}

/// The error for a connect the pattern refused (PAIR already has a peer,
/// ROUTER's CONNECT_ROUTING_ID already in use, ...).
fn refused_peer(kind: SocketType, target: impl fmt::Display) -> Error {
    let why = match kind {
        SocketType::Pair => ": it takes one peer at a time",
        _ => " (its pattern did not accept the peer)",
    };
    Error::Unsupported(format!(
        "{kind} socket refused a connection to {target}{why}"
    ))
}

/// `a + b` for HWMs where 0 means unlimited.
fn add_hwm(a: usize, b: usize) -> usize {
    if a == 0 || b == 0 {
        0
    } else {
        a.saturating_add(b)
    }
}

/// The error for unbind / disconnect of an endpoint the socket does not use.
fn not_found(endpoint: &Endpoint) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{endpoint} is not bound or connected by this socket"),
    ))
}

/// The engine configuration a socket's options give.
fn engine_config(options: &SocketOptions, kind: SocketType) -> EngineConfig {
    let mut handshake = HandshakeConfig::new(kind);
    handshake.identity = options.routing_id.clone();
    handshake.mechanism = options.mechanism.clone();
    EngineConfig {
        handshake,
        max_msg_size: options.maxmsgsize,
        handshake_ivl: options.handshake_ivl,
        heartbeat_ivl: options.heartbeat_ivl,
        heartbeat_ttl: options.heartbeat_ttl,
        heartbeat_timeout: options.heartbeat_timeout,
        linger: options.linger,
        idle_timeout: options.idle_timeout,
    }
}

/// The line engine configuration a socket's options give: `maxmsgsize`,
/// else 16 MiB, as the longest line.
fn line_config(options: &SocketOptions) -> LineConfig {
    LineConfig {
        max_line: options.maxmsgsize.map_or(DEFAULT_MAX_LINE, |m| {
            usize::try_from(m).unwrap_or(usize::MAX)
        }),
        idle_timeout: options.idle_timeout,
        linger: options.linger,
    }
}

/// Checks that `msg` can be written as one JSON line by a socket of `kind`:
/// one frame (a ROUTER: a routing id and one frame), not empty, no `\n`
/// inside, no `\r` at the end.
fn check_line(kind: SocketType, msg: &Msg) -> Result<()> {
    let (frames, body) = match kind {
        SocketType::Router => (2, msg.get(1)),
        _ => (1, msg.get(0)),
    };
    if msg.len() != frames {
        return Err(Error::NotALine(format!(
            "{} frames where a {kind} socket over JSON lines takes {frames}",
            msg.len()
        )));
    }
    smolmq_jsonl::check_payload(body.unwrap_or_default())
        .map_err(|e| Error::NotALine(e.to_string()))
}

/// Reports handshakes of a connection; on a bound socket also hands the
/// socket its pipe once the peer proved to speak ZMTP.
struct Observer {
    /// The socket.
    shared: Arc<SocketShared>,
    /// The endpoint the connection belongs to.
    endpoint: Endpoint,
    /// Bound side: the socket's end of the pipe, handed over after the
    /// handshake (so a peer that fails it never occupies the socket).
    pipe: Option<Pipe<Msg>>,
    /// Connecting side: where the peer's description goes, and the pipe's
    /// token, to tell the socket about it.
    identify: Option<(Arc<PeerSlot>, usize)>,
}

impl EngineObserver for Observer {
    fn handshake_succeeded(&mut self, peer: &PeerInfo) {
        self.shared.emit(SocketEvent::HandshakeSucceeded {
            endpoint: self.endpoint.clone(),
            peer_type: peer.socket_type,
        });
        if let Some(pipe) = self.pipe.take() {
            let slot = Arc::new(PeerSlot::new(Peer {
                socket_type: Some(peer.socket_type),
                routing_id: peer.identity.clone(),
                connected: false,
                generation: 1,
                wire: Wire::Zmtp,
            }));
            // If the socket is gone, the pipe drops and the engine ends.
            let _ = self.shared.attach(pipe, slot);
        }
        if let Some((slot, token)) = &self.identify {
            slot.identify(peer.socket_type, peer.identity.clone());
            self.shared.identified(*token);
        }
    }
}

/// Reports how an engine ended.
fn report_exit(shared: &SocketShared, endpoint: &Endpoint, exit: &EngineExit) {
    match exit {
        EngineExit::Handshake(_) | EngineExit::HandshakeTimeout => {
            shared.emit(SocketEvent::HandshakeFailed {
                endpoint: endpoint.clone(),
                reason: exit.to_string(),
            })
        }
        // The transport's handshake, refused late (TLS 1.3's client).
        EngineExit::Io(e) if transport::is_handshake_refused(e) => {
            shared.emit(SocketEvent::HandshakeFailed {
                endpoint: endpoint.clone(),
                reason: e.to_string(),
            })
        }
        _ => shared.emit(SocketEvent::Disconnected {
            endpoint: endpoint.clone(),
            reason: exit.to_string(),
        }),
    }
}

/// Accepts connections on `listener` for as long as the socket keeps the
/// task.
async fn accept_loop(
    ctx: Weak<ContextInner>,
    transport: Arc<dyn Transport>,
    listener: SharedListener,
    endpoint: Endpoint,
    shared: Arc<SocketShared>,
    options: SocketOptions,
    kind: SocketType,
) {
    loop {
        let accepted = std::future::poll_fn(|cx| match lock(&listener).as_mut() {
            Some(l) => l.poll_accept(cx).map(Some),
            // The socket closed the listener.
            None => Poll::Ready(None),
        })
        .await;
        let conn = match accepted {
            None => return,
            Some(Ok(conn)) => conn,
            Some(Err(e)) => {
                shared.emit(SocketEvent::AcceptFailed {
                    endpoint: endpoint.clone(),
                    reason: e.to_string(),
                });
                // Out of descriptors and the like: do not spin.
                Timer::after(Duration::from_millis(10)).await;
                continue;
            }
        };
        shared.emit(SocketEvent::Accepted {
            endpoint: endpoint.clone(),
            peer: conn.peer.clone(),
        });
        let establish = transport.establish(conn, endpoint.stream(), &options, Side::Accepted);
        // The task must not keep the context alive: it is the context that
        // stops the task.
        let Some(ctx) = ctx.upgrade() else {
            return;
        };
        let served = serve_accepted(
            establish,
            endpoint.clone(),
            shared.clone(),
            options.clone(),
            kind,
        );
        ctx.io.spawn(served).detach();
    }
}

/// Runs one accepted connection: the transport's handshake, then the
/// engine of the endpoint's wire, then reports how it ended.
async fn serve_accepted(
    establish: BoxFuture<'static, io::Result<Connection>>,
    endpoint: Endpoint,
    shared: Arc<SocketShared>,
    options: SocketOptions,
    kind: SocketType,
) {
    let conn = match established(establish, options.handshake_ivl).await {
        Ok(conn) => conn,
        Err(e) => {
            shared.emit(SocketEvent::HandshakeFailed {
                endpoint,
                reason: e.to_string(),
            });
            return;
        }
    };
    let (ours, mut theirs) = pipe_pair(options.sndhwm, options.rcvhwm);
    let (exit, stream) = match endpoint.wire() {
        Wire::JsonLines => {
            // No handshake: the socket gets the pipe at once.
            let slot = Arc::new(PeerSlot::new(Peer {
                socket_type: None,
                routing_id: bytes::Bytes::new(),
                connected: false,
                generation: 1,
                wire: Wire::JsonLines,
            }));
            if !shared.attach(ours, slot) {
                return;
            }
            let mut engine = LineEngine::new(conn.stream, &mut theirs, line_config(&options));
            ((&mut engine).await, Some(engine.into_stream()))
        }
        _ => {
            let observer = Observer {
                shared: shared.clone(),
                endpoint: endpoint.clone(),
                pipe: Some(ours),
                identify: None,
            };
            let config = engine_config(&options, kind);
            run_engine(conn.stream, &mut theirs, config, observer).await
        }
    };
    report_exit(&shared, &endpoint, &exit);
    // The socket sees the peer gone now, not after the close.
    drop(theirs);
    close_stream(stream).await;
}

/// Runs a ZMTP engine over `stream` to its end: how it ended, and the
/// stream to close (none when the engine could not start).
async fn run_engine(
    stream: BoxStream,
    pipe: &mut Pipe<Msg>,
    config: EngineConfig,
    observer: Observer,
) -> (EngineExit, Option<BoxStream>) {
    match Engine::with_observer(stream, pipe, config, observer) {
        Ok(mut engine) => ((&mut engine).await, Some(engine.into_stream())),
        Err(e) => (
            EngineExit::Io(io::Error::new(io::ErrorKind::InvalidInput, e)),
            None,
        ),
    }
}

/// Closes a connection whose engine ended: the stream's `poll_close` (a
/// TLS close_notify, a WebSocket Close frame, a FIN), for at most
/// [`CLOSE_TIMEOUT`]; its errors are of no use to anyone now.
async fn close_stream(stream: Option<BoxStream>) {
    let Some(mut stream) = stream else {
        return;
    };
    let mut timer = Timer::after(CLOSE_TIMEOUT);
    std::future::poll_fn(|cx| {
        if futures_io::AsyncWrite::poll_close(std::pin::Pin::new(&mut stream), cx).is_ready() {
            return Poll::Ready(());
        }
        std::pin::Pin::new(&mut timer).poll(cx).map(|_| ())
    })
    .await;
}

/// A random number for reconnect jitter (std's randomly keyed hasher).
fn jitter_random(attempt: u32) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    h.finish() as u32
}

/// Connects, runs the engine, and reconnects after it ends, reusing the
/// pipe, until the socket is gone with nothing left to send, reconnection
/// is disabled, or `reconnect_max_attempts` attempts in a row failed.
async fn connect_loop(
    transport: Arc<dyn Transport>,
    endpoint: Endpoint,
    mut pipe: Pipe<Msg>,
    shared: Arc<SocketShared>,
    identify: (Arc<PeerSlot>, usize),
    options: SocketOptions,
    kind: SocketType,
) {
    // Waits since the last connection that was up (the backoff's step).
    let mut attempt = 0u32;
    // Attempts that failed in a row, and the last reason.
    let mut failed = 0u32;
    loop {
        if pipe.is_peer_gone() && !pipe.check_read() {
            // The socket closed and nothing it sent is waiting.
            return;
        }
        let failure = match transport.connect(endpoint.stream(), &options).await {
            Ok(conn) => {
                shared.emit(SocketEvent::Connected {
                    endpoint: endpoint.clone(),
                    peer: conn.peer.clone(),
                });
                let establish =
                    transport.establish(conn, endpoint.stream(), &options, Side::Connected);
                match established(establish, options.handshake_ivl).await {
                    Ok(conn) => {
                        attempt = 0;
                        failed = 0;
                        let (exit, stream) = run_connected(
                            conn, &mut pipe, &shared, &identify, &endpoint, &options, kind,
                        )
                        .await;
                        report_exit(&shared, &endpoint, &exit);
                        close_stream(stream).await;
                        if matches!(exit, EngineExit::PipeClosed) {
                            return;
                        }
                        None
                    }
                    Err(e) => {
                        shared.emit(SocketEvent::HandshakeFailed {
                            endpoint: endpoint.clone(),
                            reason: e.to_string(),
                        });
                        Some(e.to_string())
                    }
                }
            }
            Err(e) => {
                shared.emit(SocketEvent::ConnectFailed {
                    endpoint: endpoint.clone(),
                    reason: e.to_string(),
                });
                Some(e.to_string())
            }
        };
        if let Some(reason) = failure {
            failed = failed.saturating_add(1);
            if options
                .reconnect_max_attempts
                .is_some_and(|max| failed >= max)
            {
                // The socket first: whoever sees the event finds the
                // socket already knowing.
                shared.command(Command::GaveUp {
                    token: identify.1,
                    endpoint: endpoint.clone(),
                    attempts: failed,
                    reason: reason.clone(),
                });
                shared.emit(SocketEvent::ConnectGaveUp {
                    endpoint,
                    attempts: failed,
                    reason,
                });
                // Dropping the pipe drops what was queued for the endpoint.
                return;
            }
        }
        let Some(delay) = options.reconnect_delay(attempt) else {
            return;
        };
        let delay = options.jittered(delay, jitter_random(attempt));
        attempt = attempt.saturating_add(1);
        shared.emit(SocketEvent::ConnectRetried {
            endpoint: endpoint.clone(),
            delay,
        });
        Timer::after(delay).await;
    }
}

/// Runs the engine of the endpoint's wire over an established connection
/// of a connecting socket: how it ended, and the stream to close.
async fn run_connected(
    conn: Connection,
    pipe: &mut Pipe<Msg>,
    shared: &Arc<SocketShared>,
    identify: &(Arc<PeerSlot>, usize),
    endpoint: &Endpoint,
    options: &SocketOptions,
    kind: SocketType,
) -> (EngineExit, Option<BoxStream>) {
    match endpoint.wire() {
        Wire::JsonLines => {
            // No handshake: the peer is known to be there now.
            identify.0.identify_lines();
            shared.identified(identify.1);
            let mut engine = LineEngine::new(conn.stream, pipe, line_config(options));
            ((&mut engine).await, Some(engine.into_stream()))
        }
        _ => {
            let observer = Observer {
                shared: shared.clone(),
                endpoint: endpoint.clone(),
                pipe: None,
                identify: Some(identify.clone()),
            };
            run_engine(conn.stream, pipe, engine_config(options, kind), observer).await
        }
    }
}

/// Awaits a transport's [`establish`](Transport::establish), for at most
/// `limit` (the handshake interval; `None`: no limit).
async fn established(
    establish: BoxFuture<'static, io::Result<Connection>>,
    limit: Option<Duration>,
) -> io::Result<Connection> {
    let Some(limit) = limit else {
        return establish.await;
    };
    let mut establish = establish;
    let mut timer = Timer::after(limit);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(done) = establish.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        match std::pin::Pin::new(&mut timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("transport handshake not done within {limit:?} (handshake_ivl)"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Compile-time checks: a socket and a context can move to another thread;
/// a context handle can be shared.
#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Socket>();
    send::<crate::Context>();
    sync::<crate::Context>();
}
