//! The method table: one line in, at most one line out, no I/O.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use smolmq_jsonl::jsonrpc::{self, ErrorObject, Id, Message};
use std::collections::HashMap;
use std::fmt;

/// What a handler answers: the `result` as raw JSON, or an error object
/// (sent back as an error response).
pub type HandlerResult = Result<Box<RawValue>, ErrorObject>;

/// One call of a method, as a handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The method name.
    pub method: &'a str,
    /// The parameters (an object or an array) as raw JSON, if given.
    pub params: Option<&'a RawValue>,
    /// The request id; `None` for a notification (no response is sent,
    /// whatever the handler returns).
    pub id: Option<&'a Id>,
    /// Who sent it: the ROUTER's routing id of the connection (empty when
    /// the server's socket is not a ROUTER).
    pub peer: &'a [u8],
}

impl<'a> Call<'a> {
    /// The parameters deserialized as a `T`; a `-32602` Invalid params
    /// error (with serde's reason) when they do not fit. Absent params
    /// deserialize from `null` (so `Option<T>` and `()` accept them).
    pub fn params<T: Deserialize<'a>>(&self) -> Result<T, ErrorObject> {
        let text = self.params.map_or("null", RawValue::get);
        serde_json::from_str(text).map_err(|e| ErrorObject::invalid_params(&e.to_string()))
    }

    /// Whether this is a notification (no response will be sent).
    pub fn is_notification(&self) -> bool {
        self.id.is_none()
    }
}

/// `value` as a handler's result; an Internal error if it cannot be
/// serialized (a map with non-string keys, a failing `Serialize` impl).
pub fn to_result<T: Serialize + ?Sized>(value: &T) -> HandlerResult {
    serde_json::value::to_raw_value(value).map_err(|e| ErrorObject::internal_error(&e.to_string()))
}

/// A method: called with each [`Call`] of its name.
///
/// Any `FnMut(&Call<'_>) -> HandlerResult + Send` is one. Handlers run one
/// at a time on the thread or task serving the socket: a slow handler
/// delays every peer (hand long work to threads of your own and answer
/// later through the socket if that matters).
pub trait Handler: Send {
    /// Answers one call.
    fn call(&mut self, call: &Call<'_>) -> HandlerResult;
}

impl<F> Handler for F
where
    F: FnMut(&Call<'_>) -> HandlerResult + Send,
{
    fn call(&mut self, call: &Call<'_>) -> HandlerResult {
        self(call)
    }
}

/// What a [`Dispatcher`] has seen, counted per kind of line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchStats {
    /// Requests answered (with a result or an error).
    pub requests: u64,
    /// Notifications handed to a handler.
    pub notifications: u64,
    /// Lines answered with `-32700` / `-32600` (not a JSON-RPC message).
    pub rejected: u64,
    /// Requests answered with `-32601` (no such method), and notifications
    /// of unknown methods (dropped, as the spec says).
    pub unknown_method: u64,
    /// Requests whose handler answered with an error object.
    pub handler_errors: u64,
    /// Responses and error responses from peers (a server sends no
    /// requests, so they answer nothing): dropped.
    pub ignored: u64,
}

/// A table of methods, and the JSON-RPC rules around them: each line in
/// gives at most one line out.
///
/// * not JSON: `-32700` Parse error, id `null`;
/// * JSON but not a JSON-RPC 2.0 message: `-32600` Invalid Request (with
///   the message's id when it could be read);
/// * a request for a method not in the table: `-32601` Method not found;
/// * a handler's error object (`-32602` from [`Call::params`], or any code
///   of its own) as an error response; its result as a response;
/// * a notification: handed to its handler, never answered (also when the
///   method is unknown or the handler fails);
/// * a response or error response: dropped (counted in
///   [`DispatchStats::ignored`]).
///
/// ```
/// use smolmq_mcp::{to_result, Call, Dispatcher};
///
/// let mut methods = Dispatcher::new();
/// methods.add("add", |call: &Call<'_>| {
///     let [a, b]: [i64; 2] = call.params()?;
///     to_result(&(a + b))
/// });
/// let reply = methods.handle(b"", br#"{"jsonrpc":"2.0","id":1,"method":"add","params":[2,3]}"#);
/// assert_eq!(reply.unwrap(), &br#"{"jsonrpc":"2.0","id":1,"result":5}"#[..]);
///
/// let reply = methods.handle(b"", br#"{"jsonrpc":"2.0","id":2,"method":"add","params":["x"]}"#);
/// assert!(reply.unwrap().starts_with(br#"{"jsonrpc":"2.0","id":2,"error":{"code":-32602"#));
/// ```
#[derive(Default)]
pub struct Dispatcher {
    /// Handlers by method name.
    methods: HashMap<String, Box<dyn Handler>>,
    /// Counters.
    stats: DispatchStats,
}

impl Dispatcher {
    /// An empty table: every request is answered `-32601`.
    pub fn new() -> Dispatcher {
        Dispatcher::default()
    }

    /// Adds (or replaces) the handler of `method`.
    pub fn add(&mut self, method: impl Into<String>, handler: impl Handler + 'static) -> &mut Self {
        self.methods.insert(method.into(), Box::new(handler));
        self
    }

    /// Whether `method` has a handler.
    pub fn contains(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }

    /// The counters so far.
    pub fn stats(&self) -> DispatchStats {
        self.stats
    }

    /// Handles one line (without its newline) from `peer`; the response
    /// line to send back (without a newline), if any.
    pub fn handle(&mut self, peer: &[u8], line: &[u8]) -> Option<Bytes> {
        let msg = match jsonrpc::parse(line) {
            Ok(msg) => msg,
            Err(rejection) => {
                self.stats.rejected += 1;
                return Some(rejection.response_line());
            }
        };
        match msg {
            Message::Request { id, method, params } => {
                self.stats.requests += 1;
                let Some(handler) = self.methods.get_mut(&method) else {
                    self.stats.unknown_method += 1;
                    return Some(
                        ErrorObject::method_not_found(&method).to_response_line(Some(&id)),
                    );
                };
                let call = Call {
                    method: &method,
                    params: params.as_deref(),
                    id: Some(&id),
                    peer,
                };
                match handler.call(&call) {
                    Ok(result) => Some(Message::Response { id, result }.to_line()),
                    Err(error) => {
                        self.stats.handler_errors += 1;
                        Some(error.to_response_line(Some(&id)))
                    }
                }
            }
            Message::Notification { method, params } => {
                match self.methods.get_mut(&method) {
                    Some(handler) => {
                        self.stats.notifications += 1;
                        let call = Call {
                            method: &method,
                            params: params.as_deref(),
                            id: None,
                            peer,
                        };
                        // Never answered, not even with an error.
                        let _ = handler.call(&call);
                    }
                    None => self.stats.unknown_method += 1,
                }
                None
            }
            Message::Response { .. } | Message::Error { .. } => {
                self.stats.ignored += 1;
                None
            }
        }
    }
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut methods: Vec<&str> = self.methods.keys().map(String::as_str).collect();
        methods.sort_unstable();
        f.debug_struct("Dispatcher")
            .field("methods", &methods)
            .field("stats", &self.stats)
            .finish()
    }
}
