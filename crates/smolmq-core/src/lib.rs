//! The core of smolmq: messages, pipes, the ZMTP engine, I/O threads and
//! sockets; everything the transports and socket patterns share.
//!
//! smolmq is a pure-Rust messaging library in the ZeroMQ family, speaking
//! ZMTP 3.1 on the wire. A [`Context`] owns the I/O threads; a [`Socket`]
//! binds and connects endpoints and sends and receives [`Msg`]s, routed by
//! its [`pattern::Pattern`] (PAIR is built in; other socket types come from
//! pattern crates). Byte-stream transports (`smolmq-tcp`, `smolmq-ipc`)
//! implement [`transport::Transport`] and are added to the context; inproc
//! is built in.
//!
//! ```
//! use smolmq_core::{Context, Msg};
//! use smolmq_zmtp::SocketType;
//!
//! let ctx = Context::new()?;
//! let mut server = ctx.socket(SocketType::Pair)?;
//! server.bind("inproc://crate-docs")?;
//! let mut client = ctx.socket(SocketType::Pair)?;
//! client.connect("inproc://crate-docs")?;
//!
//! // A two-frame message: a frame pushed in front of the body.
//! let mut msg = Msg::from("world");
//! msg.push_front(bytes::Bytes::from_static(b"hello"));
//! client.send_blocking(msg).map_err(|e| e.into_error())?;
//! let got = server.recv_blocking()?;
//! assert_eq!(format!("{got:?}"), r#"Msg["hello", "world"]"#);
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # The pieces
//!
//! * [`Msg`]: a multipart message, 80 bytes by value; one frame of at most
//!   [`INLINE_MAX`] bytes, or two of [`INLINE2_MAX`] together, is stored
//!   inline (no allocation, no reference count); a copy of up to
//!   [`POOLED_MAX`] bytes is a pooled buffer the message holds alone, with a
//!   routing id of up to [`ROUTED_ID_MAX`] bytes beside it if a ROUTER puts
//!   one in front; other frames are [`bytes::Bytes`].
//! * [`pipe`]: lock-free message pipes with high-water marks between a
//!   socket and each peer, waking their owners only on transitions.
//! * [`engine`]: the ZMTP engine joining a byte stream, the codec and a
//!   pipe: batched vectored writes, zero-copy reads of large frames,
//!   heartbeats. Endpoints with `+jsonl` (`tcp+jsonl://`) get a
//!   JSON-lines engine instead (smolmq-jsonl's framing, no handshake; see
//!   [`Socket`]'s docs).
//! * [`io_thread`]: the threads running engines on the async-io reactor.
//! * [`Context`], [`Socket`], [`pattern`], [`monitor`]: the socket layer;
//!   [`pattern::LoadBalancer`] and [`pattern::FairQueue`] are the routing
//!   the socket patterns share (libzmq's `lb_t` and `fq_t`).
//! * [`poller`]: waiting on many sockets at once; [`proxy`]: libzmq's
//!   `zmq_proxy` and `zmq_proxy_steerable`.
//! * [`Endpoint`], [`SocketOptions`], [`Error`]: endpoints parsed with
//!   precise errors, options with libzmq 4.3's defaults, and what
//!   operations fail with.
//!
//! # Testing with loom
//!
//! The pipes' wake-up protocol is model-checked:
//! `RUSTFLAGS="--cfg loom" cargo test -p smolmq-core --test loom --release`.
//! Under loom only the lock-free half of the crate is built.

#![warn(missing_docs, missing_debug_implementations)]

#[cfg(not(loom))]
mod context;
mod endpoint;
#[cfg(not(loom))]
pub mod engine;
mod error;
mod extensions;
#[cfg(not(loom))]
pub mod io_thread;
#[cfg(not(loom))]
mod lines;
pub mod monitor;
mod msg;
mod options;
pub mod pattern;
pub mod pipe;
#[cfg(not(loom))]
pub mod poller;
#[cfg(not(loom))]
pub mod proxy;
#[cfg(not(loom))]
mod socket;
mod sync;
pub mod transport;

#[cfg(not(loom))]
pub use context::{Context, ContextConfig};
pub use endpoint::{
    AbstractName, Endpoint, EndpointError, Host, HostName, InprocName, IpcAddr, IpcPath, TcpAddr,
    Wire, WsAddr, INPROC_NAME_MAX, IPC_PATH_MAX, SUPPORTED_SCHEMES, WS_PATH_MAX,
};
pub use error::{Error, Result};
pub use extensions::Extensions;
pub use monitor::SocketEvent;
pub use msg::{
    EmptyMsgError, FrameRef, IntoFrames, Iter, Msg, SharedFrames, INLINE2_MAX, INLINE_MAX,
    POOLED_MAX, ROUTED_ID_MAX,
};
pub use options::{
    OptionError, SocketOptions, TcpKeepalive, LOOPBACK_SNDBUF, MAX_DURATION, MAX_HEARTBEAT_TTL,
    MAX_ROUTING_ID,
};
/// The security settings of [`SocketOptions::mechanism`], from
/// `smolmq-zmtp`.
pub use smolmq_zmtp::{MechanismConfig, PlainCredentials};
#[cfg(not(loom))]
pub use socket::{SendError, Socket};
