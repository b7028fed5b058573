//! JSON-RPC 2.0 and MCP on smolmq sockets.
//!
//! MCP (the Model Context Protocol) speaks JSON-RPC 2.0, one message per
//! line. smolmq carries such lines over `tcp+jsonl://` and `ipc+jsonl://`
//! (plain NDJSON on the wire, so the peer can be any program that reads
//! and writes lines) and, between smolmq sockets, over ZMTP (`tcp://`,
//! `ipc://`, `inproc://`: one line per message). This crate adds the
//! JSON-RPC layer:
//!
//! * [`Server`]: a loop on a ROUTER socket that hands each request to the
//!   handler of its method ([`Dispatcher`]) and sends the response back to
//!   the peer that asked, blocking ([`Server::run`]) or async
//!   ([`Server::run_async`]); peers connecting and leaving reach
//!   [`Server::on_peer`] (ROUTER_NOTIFY), for per-connection state.
//! * [`Client`]: requests from a DEALER socket with ids 1, 2, ..., responses
//!   matched to requests by id, a timeout per request, blocking
//!   ([`Client::call`]) or async ([`Client::call_async`]); several
//!   requests may be in flight ([`Client::start`], [`Client::wait`]).
//! * The envelopes are those of [`smolmq_jsonl::jsonrpc`] (re-exported
//!   as [`jsonrpc`]): request, notification, response, error response, ids
//!   that are strings or integers; `params` and `result` stay raw JSON
//!   text until a handler asks for its own types ([`Call::params`]).
//!
//! ```
//! use smolmq_mcp::{to_result, Call, Client, Dispatcher, Server};
//! use std::time::Duration;
//!
//! let ctx = smolmq_core::Context::new()?;
//! let mut methods = Dispatcher::new();
//! methods.add("echo", |call: &Call<'_>| {
//!     let text: String = call.params::<(String,)>()?.0;
//!     to_result(&text)
//! });
//! // `tcp+jsonl://127.0.0.1:0` for NDJSON peers (`nc`, any MCP client
//! // speaking lines over TCP); inproc here.
//! let mut server = Server::bind(&ctx, "inproc://mcp-docs", methods)?;
//! let serving = std::thread::spawn(move || {
//!     // Two messages: a request and a line that is not JSON.
//!     for _ in 0..2 {
//!         server.serve_next(Some(Duration::from_secs(10)))?;
//!     }
//!     Ok::<_, smolmq_core::Error>(server)
//! });
//!
//! let mut client = Client::connect(&ctx, "inproc://mcp-docs")?;
//! let result = client.call("echo", ["hello"]).unwrap();
//! assert_eq!(result.get(), r#""hello""#);
//!
//! // Bad input is answered as the specification says.
//! let mut raw = client.into_socket();
//! raw.send_blocking("not json".into()).unwrap();
//! let reply = raw.recv_blocking()?;
//! assert!(reply.first().starts_with(br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700"#));
//! serving.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors answered
//!
//! A server answers every request, and never a notification:
//!
//! | input | answer |
//! |---|---|
//! | not JSON | `-32700` Parse error, id `null` |
//! | JSON, not a JSON-RPC 2.0 message (no `"jsonrpc":"2.0"`, a method that is not a string, a batch, ...) | `-32600` Invalid Request, with the id when it could be read |
//! | a method with no handler | `-32601` Method not found |
//! | params a handler cannot use ([`Call::params`]) | `-32602` Invalid params |
//! | a handler's own error object | that error |
//!
//! # Timeouts and what can be lost
//!
//! A call that gets no response within its timeout fails with
//! [`CallError::Timeout`] and its id is forgotten: a response that comes
//! later is dropped (counted in [`ClientStats::unmatched`]). Over a
//! connection that stays up nothing is lost or reordered; when a
//! connection drops, the requests in flight on it get no response (their
//! calls time out) and a DEALER reconnects and sends what it queued
//! meanwhile. A server drops a response it cannot send within
//! [`DEFAULT_SEND_TIMEOUT`] (its peer stopped reading, or left).
//!
//! # MCP
//!
//! MCP's methods (`initialize`, `tools/list`, `tools/call`, `ping`, ...)
//! are ordinary methods here; `examples/echo_server.rs` and
//! `examples/echo_client.rs` are an MCP-style echo tool server and a
//! client of it (`cargo run -p smolmq-mcp --example echo_server`).

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod client;
mod dispatch;
mod server;
mod wait;

pub use client::{CallError, Client, ClientStats, DEFAULT_TIMEOUT, MAX_INCOMING};
pub use dispatch::{to_result, Call, DispatchStats, Dispatcher, Handler, HandlerResult};
/// Raw JSON text, the type of params and results (serde_json's).
pub use serde_json::value::RawValue;
pub use server::{PeerEvent, Server, DEFAULT_SEND_TIMEOUT};
pub use smolmq_jsonl::jsonrpc;
pub use smolmq_jsonl::jsonrpc::{ErrorObject, Id, Message};

/// Compile-time checks that servers and clients can move between threads.
#[allow(dead_code)]
fn _assert_send() {
    fn send<T: Send>() {}
    send::<Server>();
    send::<Client>();
    send::<Dispatcher>();
    send::<CallError>();
}
