//! The server loop: messages from a socket through a [`Dispatcher`] and
//! the responses back.

use crate::dispatch::Dispatcher;
use crate::wait::{close_and_flush, recv_by, recv_until, send_by, send_until};
use bytes::Bytes;
use smolmq_core::{Context, Error, Msg, Result, Socket};
use smolmq_jsonl::jsonrpc::ErrorObject;
use smolmq_zmtp::SocketType;
use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

/// How long a response may wait for room in its peer's pipe (the peer
/// reads nothing while it is at the HWM) before it is dropped, so that
/// one stuck peer cannot stall the others for good.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(5);

/// A peer coming or going, as [`Server::on_peer`] hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerEvent {
    /// A peer connected (its first notice, or its first message).
    Connected,
    /// A peer that had connected left; nothing more will come from it.
    Disconnected,
}

/// The hook told of peers coming and going.
type PeerHook = Box<dyn FnMut(&[u8], PeerEvent) + Send>;

/// A JSON-RPC 2.0 server: receives lines on a socket, dispatches them,
/// sends the responses back to whoever asked.
///
/// The socket is normally a ROUTER (made by [`Server::bind`]): each
/// message is `[routing id, line]` and each response goes back as
/// `[routing id, response]`, so many clients share one server. Over
/// `tcp+jsonl://` or `ipc+jsonl://` they are plain NDJSON peers; over
/// `tcp://` (ZMTP), DEALER or PAIR sockets. Any other socket type (a PAIR
/// for a single client) is served too: the whole message is the line and
/// the response is sent unrouted.
///
/// On a ROUTER, an empty line (`[id, ""]`) is never a request: a
/// [`Server::bind`] socket has ROUTER_NOTIFY on, and these are its
/// notices of peers arriving and leaving, which the server turns into
/// [`PeerEvent`]s for the hook set with [`Server::on_peer`] (over JSON
/// lines an empty line is never a message, so this is exact; over ZMTP a
/// peer's empty message looks the same). A message of more than one frame
/// after the id (a ZMTP peer's multipart message) is answered `-32600`
/// Invalid Request.
///
/// A response that cannot be sent within the send timeout
/// ([`DEFAULT_SEND_TIMEOUT`], [`Server::set_send_timeout`]), or that the
/// socket refuses (its peer has gone), is dropped and counted
/// ([`Server::dropped_responses`]); the loop goes on.
pub struct Server {
    /// The socket served.
    socket: Socket,
    /// The method table.
    dispatcher: Dispatcher,
    /// Whether messages carry a routing id in front (a ROUTER).
    routed: bool,
    /// How long a response may wait for room.
    send_timeout: Option<Duration>,
    /// Responses that could not be sent.
    dropped: u64,
    /// The peers connected now (ROUTER only).
    peers: HashSet<Bytes>,
    /// Told of peers coming and going.
    on_peer: Option<PeerHook>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("socket", &self.socket)
            .field("dispatcher", &self.dispatcher)
            .field("send_timeout", &self.send_timeout)
            .field("dropped", &self.dropped)
            .field("peers", &self.peers.len())
            .finish()
    }
}

impl Server {
    /// Serves `socket` with `dispatcher`'s methods.
    pub fn new(socket: Socket, dispatcher: Dispatcher) -> Server {
        let routed = socket.kind() == SocketType::Router;
        Server {
            socket,
            dispatcher,
            routed,
            send_timeout: Some(DEFAULT_SEND_TIMEOUT),
            dropped: 0,
            peers: HashSet::new(),
            on_peer: None,
        }
    }

    /// A ROUTER bound to `endpoint` (`tcp+jsonl://127.0.0.1:0`, ...),
    /// serving `dispatcher`'s methods, with ROUTER_NOTIFY on (peers
    /// arriving and leaving reach [`on_peer`](Server::on_peer)).
    pub fn bind(ctx: &Context, endpoint: &str, dispatcher: Dispatcher) -> Result<Server> {
        let mut socket = smolmq_reqrep::router(ctx);
        smolmq_reqrep::set_router_notify(
            &mut socket,
            smolmq_reqrep::NOTIFY_CONNECT | smolmq_reqrep::NOTIFY_DISCONNECT,
        )?;
        socket.bind(endpoint)?;
        Ok(Server::new(socket, dispatcher))
    }

    /// The socket, for its options, endpoint and monitor.
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.socket
    }

    /// The method table, to add methods or read its counters.
    pub fn dispatcher(&mut self) -> &mut Dispatcher {
        &mut self.dispatcher
    }

    /// How long a response may wait for room before it is dropped (`None`:
    /// for ever, so a peer that stops reading stalls the server).
    pub fn set_send_timeout(&mut self, timeout: Option<Duration>) {
        self.send_timeout = timeout;
    }

    /// Calls `hook` with each peer's routing id when it connects and when
    /// it leaves (for per-connection state: an MCP session per client).
    /// A peer counts as connected from its ROUTER_NOTIFY notice or its
    /// first message, whichever comes first; only a socket with
    /// ROUTER_NOTIFY on (as [`Server::bind`] makes it) reports departures.
    pub fn on_peer(&mut self, hook: impl FnMut(&[u8], PeerEvent) + Send + 'static) {
        self.on_peer = Some(Box::new(hook));
    }

    /// The number of peers connected now, as far as the server has heard
    /// (ROUTER only).
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Responses dropped because they could not be sent.
    pub fn dropped_responses(&self) -> u64 {
        self.dropped
    }

    /// Closes the socket, waiting at most `limit` for the responses it
    /// queued to be written; whether they all were. Call it before a
    /// program ends: dropping the context stops its I/O threads at once.
    pub fn close(self, limit: Duration) -> bool {
        close_and_flush(self.socket, limit)
    }

    /// The socket and the method table back.
    pub fn into_parts(self) -> (Socket, Dispatcher) {
        (self.socket, self.dispatcher)
    }

    /// Waits for one message, at most `timeout` (`None`: for ever), and
    /// handles it (sending its response, if any).
    ///
    /// [`Error::Timeout`] when nothing arrived; [`Error::Closed`] when the
    /// context is gone.
    pub fn serve_next(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let msg = loop {
            // Peer notices are handled on the way, not counted as a message.
            let msg = recv_until(&mut self.socket, deadline)?;
            if !self.is_notice(&msg) {
                break msg;
            }
        };
        if let Some(reply) = self.answer(msg) {
            let deadline = self.send_timeout.map(|t| Instant::now() + t);
            let sent = send_until(&mut self.socket, reply, deadline);
            self.sent(sent)?;
        }
        Ok(())
    }

    /// Serves until the socket fails ([`Error::Closed`] when the context
    /// is dropped): the error that ended it.
    pub fn run(&mut self) -> Error {
        loop {
            if let Err(e) = self.serve_next(None) {
                return e;
            }
        }
    }

    /// [`serve_next`](Server::serve_next), async.
    pub async fn serve_next_async(&mut self, timeout: Option<Duration>) -> Result<()> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let msg = loop {
            let msg = recv_by(&mut self.socket, deadline).await?;
            if !self.is_notice(&msg) {
                break msg;
            }
        };
        if let Some(reply) = self.answer(msg) {
            let deadline = self.send_timeout.map(|t| Instant::now() + t);
            let sent = send_by(&mut self.socket, reply, deadline).await;
            self.sent(sent)?;
        }
        Ok(())
    }

    /// [`run`](Server::run), async, on any executor.
    pub async fn run_async(&mut self) -> Error {
        loop {
            if let Err(e) = self.serve_next_async(None).await {
                return e;
            }
        }
    }

    /// The response to `msg`, as the message to send, if any.
    fn answer(&mut self, msg: Msg) -> Option<Msg> {
        if !self.routed {
            let line = match msg.len() {
                1 => msg.first(),
                _ => return Some(Msg::from(multipart_error(msg.len()))),
            };
            if line.is_empty() {
                return None;
            }
            return self.dispatcher.handle(b"", line).map(Msg::from);
        }
        let mut msg = msg;
        let peer = msg.pop_front()?;
        let reply = match msg.len() {
            // An id alone: nothing to answer.
            0 => return None,
            // Notices are taken by `is_notice`; an empty message of a
            // socket not made by `bind` ends here too.
            1 if msg.first().is_empty() => return None,
            1 => {
                if !self.peers.contains(&peer) {
                    self.peer_event(peer.clone(), PeerEvent::Connected);
                }
                self.dispatcher.handle(&peer, msg.first())?
            }
            n => multipart_error(n),
        };
        Msg::from_frames([peer, reply])
    }

    /// Whether `msg` is a ROUTER_NOTIFY notice (`[id, ""]`), handling it
    /// if so: an arrival if the peer is not known, else its departure.
    fn is_notice(&mut self, msg: &Msg) -> bool {
        if !self.routed || msg.len() != 2 || !msg.last().is_empty() {
            return false;
        }
        let peer = Bytes::copy_from_slice(msg.first());
        let event = match self.peers.contains(&peer) {
            true => PeerEvent::Disconnected,
            false => PeerEvent::Connected,
        };
        self.peer_event(peer, event);
        true
    }

    /// Records `event` for `peer` and tells the hook.
    fn peer_event(&mut self, peer: Bytes, event: PeerEvent) {
        if let Some(hook) = self.on_peer.as_mut() {
            hook(&peer, event);
        }
        match event {
            PeerEvent::Connected => self.peers.insert(peer),
            PeerEvent::Disconnected => self.peers.remove(&peer),
        };
    }

    /// Counts a response that could not be sent; only a closed socket
    /// ends the loop.
    fn sent(&mut self, sent: Result<()>) -> Result<()> {
        match sent {
            Ok(()) => Ok(()),
            Err(Error::Closed) => Err(Error::Closed),
            Err(_) => {
                self.dropped += 1;
                Ok(())
            }
        }
    }
}

/// The `-32600` answer to a message of `frames` frames.
fn multipart_error(frames: usize) -> Bytes {
    ErrorObject::invalid_request(&format!(
        "a JSON-RPC message is one frame, this one has {frames}"
    ))
    .to_response_line(None)
}
