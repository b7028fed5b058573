//! The client: requests out, responses matched to them by id.

use crate::wait::{close_and_flush, recv_by, recv_until, send_by, send_until};
use serde::Serialize;
use serde_json::value::RawValue;
use smolmq_core::{Context, Error, Msg, Socket};
use smolmq_jsonl::jsonrpc::{self, ErrorObject, Id, Message};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{Duration, Instant};

/// The timeout of [`Client::call`] unless [`Client::set_timeout`] says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Messages from the server that answer no request (its notifications and
/// requests) kept for [`Client::next_incoming`]; beyond this, new ones are
/// dropped and counted.
pub const MAX_INCOMING: usize = 1024;

/// Why a call did not return a result.
#[derive(Debug)]
pub enum CallError {
    /// The server answered with an error response.
    Rpc(ErrorObject),
    /// No response within the timeout. The request is forgotten: a late
    /// response is dropped.
    Timeout,
    /// The socket failed (closed context, refused send, ...).
    Socket(Error),
    /// [`Client::wait`] for an id that is not pending (never sent, already
    /// answered, or timed out).
    NotPending(Id),
    /// The params given are not a JSON object or array (or cannot be
    /// serialized); nothing was sent.
    Params(String),
}

impl CallError {
    /// The server's error object, if the server answered with one.
    pub fn rpc(&self) -> Option<&ErrorObject> {
        match self {
            CallError::Rpc(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the call timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Rpc(e) => write!(f, "the server answered error {}: {}", e.code, e.message),
            CallError::Timeout => f.write_str("no response within the timeout"),
            CallError::Socket(e) => write!(f, "socket error: {e}"),
            CallError::NotPending(id) => write!(f, "no request with id {id} is pending"),
            CallError::Params(why) => write!(f, "bad params: {why}"),
        }
    }
}

impl std::error::Error for CallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CallError::Socket(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        match e {
            Error::Timeout => CallError::Timeout,
            e => CallError::Socket(e),
        }
    }
}

/// What became of the responses a client received, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Responses matched to a pending request.
    pub matched: u64,
    /// Responses for an id not pending (late, after a timeout, or never
    /// asked): dropped.
    pub unmatched: u64,
    /// Lines that are not JSON-RPC messages, or messages of more than one
    /// frame: dropped.
    pub malformed: u64,
    /// Server notifications and requests dropped because
    /// [`MAX_INCOMING`] were already waiting.
    pub dropped_incoming: u64,
}

/// A pending request's state.
enum Slot {
    /// Sent, no response yet.
    Waiting,
    /// Answered, not yet collected.
    Done(Result<Box<RawValue>, ErrorObject>),
}

/// A JSON-RPC 2.0 client on one socket: requests with integer ids
/// (1, 2, ...), responses matched to their request by id, each call
/// bounded by its timeout.
///
/// Normally a DEALER connected to the server ([`Client::connect`]; over
/// `tcp+jsonl://` the server is any NDJSON JSON-RPC server, over `tcp://`
/// a smolmq or libzmq ROUTER); any socket whose messages are single lines
/// works ([`Client::new`], a PAIR for example).
///
/// Calls can overlap: [`start`](Client::start) sends a request and gives
/// its id, [`wait`](Client::wait) collects the response of one id, keeping
/// the responses of other pending ids that arrive meanwhile.
/// [`call`](Client::call) is both in one. What the server sends that
/// answers no request (notifications, requests of its own, an error with
/// a `null` id) waits in [`next_incoming`](Client::next_incoming).
///
/// Every blocking call has an async twin (`*_async`), usable on any
/// executor: timeouts run on async-io's timers.
pub struct Client {
    /// The socket.
    socket: Socket,
    /// The id of the next request.
    next_id: i64,
    /// Requests sent and not yet collected.
    pending: HashMap<Id, Slot>,
    /// Messages answering no request.
    incoming: VecDeque<Message>,
    /// The timeout of `call` and `call_async`.
    timeout: Duration,
    /// Counters.
    stats: ClientStats,
}

impl Client {
    /// A client on `socket` (already connected, or to be connected through
    /// [`socket`](Client::socket)).
    pub fn new(socket: Socket) -> Client {
        Client {
            socket,
            next_id: 1,
            pending: HashMap::new(),
            incoming: VecDeque::new(),
            timeout: DEFAULT_TIMEOUT,
            stats: ClientStats::default(),
        }
    }

    /// A client on a DEALER connected to `endpoint`
    /// (`tcp+jsonl://127.0.0.1:4000`, ...). Requests sent before the
    /// connection is up wait in the socket's queue.
    pub fn connect(ctx: &Context, endpoint: &str) -> smolmq_core::Result<Client> {
        let mut socket = smolmq_reqrep::dealer(ctx);
        socket.connect(endpoint)?;
        Ok(Client::new(socket))
    }

    /// The socket, for its options and monitor.
    pub fn socket(&mut self) -> &mut Socket {
        &mut self.socket
    }

    /// Closes the socket, waiting at most `limit` for what it queued (a
    /// last notification, say) to be written; whether it all was. Pending
    /// requests are forgotten.
    pub fn close(self, limit: Duration) -> bool {
        close_and_flush(self.socket, limit)
    }

    /// The socket back; pending requests are forgotten.
    pub fn into_socket(self) -> Socket {
        self.socket
    }

    /// Sets the timeout of [`call`](Client::call) and
    /// [`call_async`](Client::call_async).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The counters so far.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The number of requests sent and not yet collected.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Calls `method` with `params` and waits for its result, at most the
    /// client's timeout ([`DEFAULT_TIMEOUT`] unless set).
    ///
    /// `params` is anything serde can serialize to a JSON object or array;
    /// a value that serializes to `null` (`()`, `None`) sends no params.
    pub fn call<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
    ) -> Result<Box<RawValue>, CallError> {
        let timeout = self.timeout;
        self.call_with_timeout(method, params, timeout)
    }

    /// [`call`](Client::call) with its own timeout.
    pub fn call_with_timeout<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
        timeout: Duration,
    ) -> Result<Box<RawValue>, CallError> {
        let deadline = Instant::now() + timeout;
        let id = self.start_by(method, params, Some(deadline))?;
        self.wait_until(&id, Some(deadline))
    }

    /// [`call`](Client::call), async.
    pub async fn call_async<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
    ) -> Result<Box<RawValue>, CallError> {
        let timeout = self.timeout;
        self.call_with_timeout_async(method, params, timeout).await
    }

    /// [`call_with_timeout`](Client::call_with_timeout), async.
    pub async fn call_with_timeout_async<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
        timeout: Duration,
    ) -> Result<Box<RawValue>, CallError> {
        let deadline = Instant::now() + timeout;
        let (id, line) = self.request(method, params)?;
        if let Err(e) = send_by(&mut self.socket, line, Some(deadline)).await {
            self.pending.remove(&id);
            return Err(e.into());
        }
        self.wait_by(&id, Some(deadline)).await
    }

    /// Sends a request and returns its id, to [`wait`](Client::wait) for
    /// later; waits for room in the socket at most the client's timeout.
    pub fn start<P: Serialize>(&mut self, method: &str, params: P) -> Result<Id, CallError> {
        let deadline = Instant::now() + self.timeout;
        self.start_by(method, params, Some(deadline))
    }

    /// [`start`](Client::start), async.
    pub async fn start_async<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
    ) -> Result<Id, CallError> {
        let deadline = Instant::now() + self.timeout;
        let (id, line) = self.request(method, params)?;
        match send_by(&mut self.socket, line, Some(deadline)).await {
            Ok(()) => Ok(id),
            Err(e) => {
                self.pending.remove(&id);
                Err(e.into())
            }
        }
    }

    /// Waits for the response to request `id`, at most `timeout`. On a
    /// timeout the request is forgotten.
    pub fn wait(&mut self, id: &Id, timeout: Duration) -> Result<Box<RawValue>, CallError> {
        self.wait_until(id, Some(Instant::now() + timeout))
    }

    /// [`wait`](Client::wait), async.
    pub async fn wait_async(
        &mut self,
        id: &Id,
        timeout: Duration,
    ) -> Result<Box<RawValue>, CallError> {
        self.wait_by(id, Some(Instant::now() + timeout)).await
    }

    /// Forgets request `id` (its response, if it comes, is dropped);
    /// whether it was pending.
    pub fn cancel(&mut self, id: &Id) -> bool {
        self.pending.remove(id).is_some()
    }

    /// Sends a notification (no response expected).
    pub fn notify<P: Serialize>(&mut self, method: &str, params: P) -> Result<(), CallError> {
        let line = Message::Notification {
            method: method.to_owned(),
            params: to_params(params)?,
        }
        .to_line();
        let deadline = Instant::now() + self.timeout;
        send_until(&mut self.socket, Msg::from(line), Some(deadline))?;
        Ok(())
    }

    /// [`notify`](Client::notify), async.
    pub async fn notify_async<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
    ) -> Result<(), CallError> {
        let line = Message::Notification {
            method: method.to_owned(),
            params: to_params(params)?,
        }
        .to_line();
        let deadline = Instant::now() + self.timeout;
        send_by(&mut self.socket, Msg::from(line), Some(deadline)).await?;
        Ok(())
    }

    /// The oldest message received from the server that answers no
    /// request (a notification, a request, an error response with a
    /// `null` id), if any. Only messages already received are looked at:
    /// calls (or [`poll`](Client::poll)) receive them.
    pub fn next_incoming(&mut self) -> Option<Message> {
        self.incoming.pop_front()
    }

    /// Takes in what has arrived, without waiting: responses are matched to
    /// their requests, other messages queued for
    /// [`next_incoming`](Client::next_incoming).
    pub fn poll(&mut self) -> Result<(), CallError> {
        loop {
            match self.socket.try_recv() {
                Ok(msg) => self.absorb(msg),
                Err(Error::WouldBlock) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Registers a new request and makes its line.
    fn request<P: Serialize>(&mut self, method: &str, params: P) -> Result<(Id, Msg), CallError> {
        let params = to_params(params)?;
        let id = Id::Number(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let line = Message::Request {
            id: id.clone(),
            method: method.to_owned(),
            params,
        }
        .to_line();
        self.pending.insert(id.clone(), Slot::Waiting);
        Ok((id, Msg::from(line)))
    }

    /// [`start`](Client::start) with a deadline.
    fn start_by<P: Serialize>(
        &mut self,
        method: &str,
        params: P,
        deadline: Option<Instant>,
    ) -> Result<Id, CallError> {
        let (id, line) = self.request(method, params)?;
        match send_until(&mut self.socket, line, deadline) {
            Ok(()) => Ok(id),
            Err(e) => {
                self.pending.remove(&id);
                Err(e.into())
            }
        }
    }

    /// The response of `id` if it has arrived; `Err(NotPending)` if `id` is
    /// not pending.
    fn collect(&mut self, id: &Id) -> Option<Result<Box<RawValue>, CallError>> {
        match self.pending.get(id) {
            None => Some(Err(CallError::NotPending(id.clone()))),
            Some(Slot::Waiting) => None,
            Some(Slot::Done(_)) => match self.pending.remove(id) {
                Some(Slot::Done(result)) => Some(result.map_err(CallError::Rpc)),
                _ => None,
            },
        }
    }

    /// [`wait`](Client::wait) with a deadline.
    fn wait_until(
        &mut self,
        id: &Id,
        deadline: Option<Instant>,
    ) -> Result<Box<RawValue>, CallError> {
        loop {
            if let Some(result) = self.collect(id) {
                return result;
            }
            let received = recv_until(&mut self.socket, deadline);
            self.take_received(id, received)?;
        }
    }

    /// [`wait_async`](Client::wait_async) with a deadline.
    async fn wait_by(
        &mut self,
        id: &Id,
        deadline: Option<Instant>,
    ) -> Result<Box<RawValue>, CallError> {
        loop {
            if let Some(result) = self.collect(id) {
                return result;
            }
            let received = recv_by(&mut self.socket, deadline).await;
            self.take_received(id, received)?;
        }
    }

    /// One turn of a wait for `id`'s response: files what arrived, or, if
    /// the receive failed (timeout, socket closed), gives up on `id`.
    fn take_received(&mut self, id: &Id, received: Result<Msg, Error>) -> Result<(), CallError> {
        match received {
            Ok(msg) => {
                self.absorb(msg);
                Ok(())
            }
            Err(e) => {
                self.pending.remove(id);
                Err(e.into())
            }
        }
    }

    /// Files one received message.
    fn absorb(&mut self, msg: Msg) {
        if msg.len() != 1 {
            self.stats.malformed += 1;
            return;
        }
        let parsed = match jsonrpc::parse(msg.first()) {
            Ok(parsed) => parsed,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        let (id, outcome) = match parsed {
            Message::Response { id, result } => (id, Ok(result)),
            Message::Error {
                id: Some(id),
                error,
            } => (id, Err(error)),
            other => {
                if self.incoming.len() < MAX_INCOMING {
                    self.incoming.push_back(other);
                } else {
                    self.stats.dropped_incoming += 1;
                }
                return;
            }
        };
        match self.pending.get_mut(&id) {
            Some(slot @ Slot::Waiting) => {
                *slot = Slot::Done(outcome);
                self.stats.matched += 1;
            }
            // Unknown, or answered twice: the first answer stands.
            _ => self.stats.unmatched += 1,
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("socket", &self.socket)
            .field("pending", &self.pending.len())
            .field("incoming", &self.incoming.len())
            .field("timeout", &self.timeout)
            .field("stats", &self.stats)
            .finish()
    }
}

/// `params` as the raw JSON of a request's params: `None` for `null`; an
/// object or array as is; anything else refused (JSON-RPC allows only
/// those two), before anything is sent.
fn to_params<P: Serialize>(params: P) -> Result<Option<Box<RawValue>>, CallError> {
    let raw = serde_json::value::to_raw_value(&params)
        .map_err(|e| CallError::Params(format!("cannot be serialized: {e}")))?;
    match raw.get().as_bytes().first() {
        Some(b'{' | b'[') => Ok(Some(raw)),
        _ if raw.get() == "null" => Ok(None),
        _ => Err(CallError::Params(format!(
            "must be a JSON object or array, not {}",
            raw.get()
        ))),
    }
}
