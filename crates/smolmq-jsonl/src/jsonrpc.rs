//! JSON-RPC 2.0 envelopes (feature `jsonrpc`).
//!
//! [`parse`] reads one line into a [`Message`]: a request, a notification,
//! a response or an error response. Only the envelope is interpreted:
//! `params`, `result` and an error's `data` are kept as raw JSON text
//! ([`RawValue`], checked to be valid JSON but not turned into a tree), for
//! the method handler to deserialize into its own types. That is cheaper
//! than building a `serde_json::Value` that the handler would convert again.
//!
//! A line that is not a valid message is refused with a [`Rejection`]
//! carrying the error object the specification asks for, ready to send back
//! with [`Rejection::response_line`]:
//!
//! * `-32700` Parse error: the line is not valid JSON;
//! * `-32600` Invalid Request: valid JSON, but not a valid JSON-RPC 2.0
//!   object (missing or wrong `"jsonrpc": "2.0"`, a `method` that is not a
//!   string, `params` that is neither an object nor an array, an `id` that
//!   is neither a string nor an integer, a response with both or neither of
//!   `result` and `error`, ...). The rejection echoes the message's `id`
//!   when it could be read, and uses `null` otherwise, as the spec says.
//!
//! # Stricter than the letter of JSON-RPC 2.0, on purpose
//!
//! * **Ids** are strings or integers that fit an `i64`. A request with a
//!   `null` id or a fractional number as id (both "discouraged" by JSON-RPC
//!   and forbidden by MCP) is an Invalid Request. `null` is accepted only
//!   where the spec requires it: as the id of an error response to a
//!   message whose id could not be read.
//! * **Batches** (a JSON array of messages) are refused as a whole with one
//!   Invalid Request error (id `null`): MCP dropped batching in its
//!   2025-06-18 revision, and a stream of lines already lets a peer send
//!   many messages back to back.
//! * Members other than `jsonrpc`, `id`, `method`, `params`, `result` and
//!   `error` are ignored; a member given twice is an Invalid Request.
//!
//! ```
//! use smolmq_jsonl::jsonrpc::{self, Id, Message};
//!
//! let msg = jsonrpc::parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}"#)
//!     .unwrap();
//! match &msg {
//!     Message::Request { id, method, params } => {
//!         assert_eq!(*id, Id::Number(7));
//!         assert_eq!(method, "tools/list");
//!         assert_eq!(params.as_ref().unwrap().get(), "{}");
//!     }
//!     other => panic!("not a request: {other:?}"),
//! }
//!
//! let bad = jsonrpc::parse(br#"{"jsonrpc":"2.0","id":8,"method":42}"#).unwrap_err();
//! assert_eq!(bad.error.code, jsonrpc::INVALID_REQUEST);
//! let reply = bad.response_line();
//! assert!(reply.starts_with(br#"{"jsonrpc":"2.0","id":8,"error":{"code":-32600"#));
//! ```

use bytes::Bytes;
use serde::de::{Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;

/// Error code: the line is not valid JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Error code: valid JSON, but not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// Error code: the method does not exist or is not available.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Error code: invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// Error code: internal JSON-RPC error.
pub const INTERNAL_ERROR: i64 = -32603;

/// A request id: a string or an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// An integer id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(n) => write!(f, "{n}"),
            Id::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// One JSON-RPC 2.0 message.
#[derive(Debug, Clone)]
pub enum Message {
    /// A call that expects a response with the same id.
    Request {
        /// The id the response must carry.
        id: Id,
        /// The method to call.
        method: String,
        /// The parameters (an object or an array), if any, as raw JSON.
        params: Option<Box<RawValue>>,
    },
    /// A call that expects no response.
    Notification {
        /// The method to call.
        method: String,
        /// The parameters (an object or an array), if any, as raw JSON.
        params: Option<Box<RawValue>>,
    },
    /// A successful response.
    Response {
        /// The id of the request answered.
        id: Id,
        /// The result, as raw JSON.
        result: Box<RawValue>,
    },
    /// An error response.
    Error {
        /// The id of the request answered; `None` (`null` on the wire) when
        /// the request's id could not be read.
        id: Option<Id>,
        /// What went wrong.
        error: ErrorObject,
    },
}

impl PartialEq for Message {
    /// Raw JSON members compare by their text.
    fn eq(&self, other: &Self) -> bool {
        use Message::*;
        match (self, other) {
            (
                Request {
                    id: a,
                    method: m,
                    params: p,
                },
                Request {
                    id: b,
                    method: n,
                    params: q,
                },
            ) => a == b && m == n && raw_eq(p.as_deref(), q.as_deref()),
            (
                Notification {
                    method: m,
                    params: p,
                },
                Notification {
                    method: n,
                    params: q,
                },
            ) => m == n && raw_eq(p.as_deref(), q.as_deref()),
            (Response { id: a, result: r }, Response { id: b, result: s }) => {
                a == b && r.get() == s.get()
            }
            (Error { id: a, error: e }, Error { id: b, error: f }) => a == b && e == f,
            _ => false,
        }
    }
}

impl Message {
    /// The message as one compact JSON line, without the trailing newline
    /// (ready for [`LineEncoder::push`](crate::LineEncoder::push)).
    pub fn to_line(&self) -> Bytes {
        let wire = match self {
            Message::Request { id, method, params } => WireMessage {
                jsonrpc: "2.0",
                id: Some(Some(id)),
                method: Some(method),
                params: params.as_deref(),
                result: None,
                error: None,
            },
            Message::Notification { method, params } => WireMessage {
                jsonrpc: "2.0",
                id: None,
                method: Some(method),
                params: params.as_deref(),
                result: None,
                error: None,
            },
            Message::Response { id, result } => WireMessage {
                jsonrpc: "2.0",
                id: Some(Some(id)),
                method: None,
                params: None,
                result: Some(result),
                error: None,
            },
            Message::Error { id, error } => WireMessage {
                jsonrpc: "2.0",
                id: Some(id.as_ref()),
                method: None,
                params: None,
                result: None,
                error: Some(error),
            },
        };
        to_bytes(&wire)
    }
}

/// The error member of an error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The error code (see the constants of this module).
    pub code: i64,
    /// A short description.
    pub message: String,
    /// More about the error, as raw JSON, if any.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub data: Option<Box<RawValue>>,
}

impl PartialEq for ErrorObject {
    /// `data` compares by its JSON text.
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.message == other.message
            && raw_eq(self.data.as_deref(), other.data.as_deref())
    }
}

impl ErrorObject {
    /// An error object with no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// `-32700` Parse error, with `detail` as a JSON string in `data`.
    pub fn parse_error(detail: &str) -> Self {
        ErrorObject::new(PARSE_ERROR, "Parse error").with_detail(detail)
    }

    /// `-32600` Invalid Request, with `detail` as a JSON string in `data`.
    pub fn invalid_request(detail: &str) -> Self {
        ErrorObject::new(INVALID_REQUEST, "Invalid Request").with_detail(detail)
    }

    /// `-32601` Method not found, with the method name in `data`.
    pub fn method_not_found(method: &str) -> Self {
        ErrorObject::new(METHOD_NOT_FOUND, "Method not found").with_detail(method)
    }

    /// `-32602` Invalid params, with `detail` as a JSON string in `data`.
    pub fn invalid_params(detail: &str) -> Self {
        ErrorObject::new(INVALID_PARAMS, "Invalid params").with_detail(detail)
    }

    /// `-32603` Internal error, with `detail` as a JSON string in `data`.
    pub fn internal_error(detail: &str) -> Self {
        ErrorObject::new(INTERNAL_ERROR, "Internal error").with_detail(detail)
    }

    /// The same error with `detail` as a JSON string in `data`.
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.data = serde_json::value::to_raw_value(detail).ok();
        self
    }

    /// The error response line `{"jsonrpc":"2.0","id":...,"error":{...}}`
    /// answering the request with id `id` (`None` for `null`), without the
    /// trailing newline.
    pub fn to_response_line(&self, id: Option<&Id>) -> Bytes {
        to_bytes(&WireMessage {
            jsonrpc: "2.0",
            id: Some(id),
            method: None,
            params: None,
            result: None,
            error: Some(self),
        })
    }
}

/// Why a line is not a valid JSON-RPC 2.0 message, as the error response to
/// send back.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// The id of the offending message if it could be read, else `None`.
    pub id: Option<Id>,
    /// The error object: [`PARSE_ERROR`] or [`INVALID_REQUEST`], with a
    /// description of the problem as a JSON string in `data`.
    pub error: ErrorObject,
}

impl Rejection {
    /// The error response line to send back, without the trailing newline.
    pub fn response_line(&self) -> Bytes {
        self.error.to_response_line(self.id.as_ref())
    }

    /// Builds a rejection with an Invalid Request error.
    fn invalid(id: Option<Id>, detail: &str) -> Self {
        Rejection {
            id,
            error: ErrorObject::invalid_request(detail),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.error.message, self.error.code)?;
        if let Some(data) = &self.error.data {
            match serde_json::from_str::<String>(data.get()) {
                Ok(detail) => write!(f, ": {detail}")?,
                Err(_) => write!(f, ": {}", data.get())?,
            }
        }
        if let Some(id) = &self.id {
            write!(f, " (id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

/// Parses one line (without its newline) into a JSON-RPC 2.0 message.
pub fn parse(line: &[u8]) -> Result<Message, Rejection> {
    // A struct also deserializes from an array (members by position), so
    // batches are caught before.
    if line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(match serde_json::from_slice::<IgnoredAny>(line) {
            Err(e) => Rejection {
                id: None,
                error: ErrorObject::parse_error(&e.to_string()),
            },
            Ok(_) => Rejection::invalid(None, "batch requests (JSON arrays) are not supported"),
        });
    }
    let envelope: Envelope<'_> = match serde_json::from_slice(line) {
        Ok(envelope) => envelope,
        Err(e) => return Err(classify(line, &e)),
    };
    let id = read_id(envelope.id);
    let echo = match &id {
        IdField::Valid(id) => Some(id.clone()),
        _ => None,
    };
    let reject = |detail: &str| Err(Rejection::invalid(echo.clone(), detail));

    match envelope.jsonrpc {
        None => return reject("missing member \"jsonrpc\": \"2.0\""),
        Some(v) if v.get() == "\"2.0\"" => {}
        Some(v) => {
            if serde_json::from_str::<String>(v.get()).ok().as_deref() != Some("2.0") {
                return reject("member \"jsonrpc\" must be the string \"2.0\"");
            }
        }
    }

    if let Some(method) = envelope.method {
        let Ok(method) = serde_json::from_str::<String>(method.get()) else {
            return reject("member \"method\" must be a string");
        };
        if envelope.result.is_some() || envelope.error.is_some() {
            return reject("a request must not have \"result\" or \"error\" members");
        }
        let params = match envelope.params {
            None => None,
            Some(p) if p.get().starts_with(['{', '[']) => Some(p.to_owned()),
            Some(_) => return reject("member \"params\" must be an object or an array"),
        };
        return match id {
            IdField::Absent => Ok(Message::Notification { method, params }),
            IdField::Valid(id) => Ok(Message::Request { id, method, params }),
            IdField::Null => reject("the id of a request must be a string or an integer, not null"),
            IdField::Invalid => reject("member \"id\" must be a string or an integer"),
        };
    }

    if envelope.params.is_some() {
        return reject("a response must not have a \"params\" member");
    }
    match (envelope.result, envelope.error) {
        (None, None) => reject("neither \"method\", \"result\" nor \"error\" is present"),
        (Some(_), Some(_)) => reject("a response must not have both \"result\" and \"error\""),
        (Some(result), None) => match id {
            IdField::Valid(id) => Ok(Message::Response {
                id,
                result: result.to_owned(),
            }),
            IdField::Absent => reject("a response must have an \"id\""),
            IdField::Null => reject("the id of a result must be a string or an integer, not null"),
            IdField::Invalid => reject("member \"id\" must be a string or an integer"),
        },
        (None, Some(error)) => {
            let id = match id {
                IdField::Valid(id) => Some(id),
                IdField::Null => None,
                IdField::Absent => return reject("an error response must have an \"id\""),
                IdField::Invalid => {
                    return reject("member \"id\" must be a string, an integer or null")
                }
            };
            // Checked to be an object: a derived struct would also take
            // an array, member by position.
            let parsed = match error.get().starts_with('{') {
                true => serde_json::from_str::<ErrorObject>(error.get()).ok(),
                false => None,
            };
            match parsed {
                Some(error) => Ok(Message::Error { id, error }),
                None => reject(
                    "member \"error\" must be an object with an integer \"code\" \
                     and a string \"message\"",
                ),
            }
        }
    }
}

/// The envelope members, borrowed from the line as raw JSON text.
#[derive(Deserialize)]
struct Envelope<'a> {
    /// Must be the string "2.0".
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    jsonrpc: Option<&'a RawValue>,
    /// Request id, `null` only in error responses.
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    id: Option<&'a RawValue>,
    /// Method name of a request or notification.
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    method: Option<&'a RawValue>,
    /// Parameters of a request or notification.
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    params: Option<&'a RawValue>,
    /// Result of a response.
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    result: Option<&'a RawValue>,
    /// Error of an error response.
    #[serde(default, borrow, deserialize_with = "present_borrowed")]
    error: Option<&'a RawValue>,
}

/// A present member, even `null` (serde's `Option` would read `null` as
/// absent).
fn present_borrowed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A present member, even `null`, owned.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// What the `id` member holds.
enum IdField {
    /// No `id` member.
    Absent,
    /// `"id": null`.
    Null,
    /// A string or an integer that fits an `i64`.
    Valid(Id),
    /// Anything else.
    Invalid,
}

/// Reads the raw `id` member.
fn read_id(raw: Option<&RawValue>) -> IdField {
    let Some(raw) = raw else {
        return IdField::Absent;
    };
    let text = raw.get();
    if text == "null" {
        IdField::Null
    } else if text.starts_with('"') {
        serde_json::from_str(text).map_or(IdField::Invalid, |s| IdField::Valid(Id::String(s)))
    } else {
        serde_json::from_str(text).map_or(IdField::Invalid, |n| IdField::Valid(Id::Number(n)))
    }
}

/// Turns a failed envelope parse into a Parse error or an Invalid Request.
fn classify(line: &[u8], e: &serde_json::Error) -> Rejection {
    let detail = e.to_string();
    if e.is_syntax() || e.is_eof() {
        return Rejection {
            id: None,
            error: ErrorObject::parse_error(&detail),
        };
    }
    // A data error (e.g. not an object) may have stopped the parse before a
    // syntax error further on: the line is a Parse error unless it is
    // valid JSON as a whole.
    if let Err(syntax) = serde_json::from_slice::<IgnoredAny>(line) {
        return Rejection {
            id: None,
            error: ErrorObject::parse_error(&syntax.to_string()),
        };
    }
    let detail = match line.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => detail,
        _ => "a JSON-RPC message must be a JSON object".to_owned(),
    };
    Rejection::invalid(None, &detail)
}

/// True when both are absent or both hold the same JSON text.
fn raw_eq(a: Option<&RawValue>, b: Option<&RawValue>) -> bool {
    a.map(RawValue::get) == b.map(RawValue::get)
}

/// A message as written: members in the usual order, absent ones skipped.
#[derive(Serialize)]
struct WireMessage<'a> {
    /// Always "2.0".
    jsonrpc: &'static str,
    /// `None`: no member; `Some(None)`: `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<Option<&'a Id>>,
    /// Method of a request or notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    /// Parameters of a request or notification.
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a RawValue>,
    /// Result of a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    /// Error of an error response.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorObject>,
}

/// Serializes `value` as compact JSON.
fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    // Serializing strings, integers and already-valid raw JSON into a Vec
    // cannot fail; an empty line would only be a sign of a serde bug.
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_default()
}
