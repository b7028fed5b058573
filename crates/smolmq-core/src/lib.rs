//! The core of smolmq: the pieces every transport and socket pattern shares.
//!
//! smolmq is a pure-Rust messaging library in the ZeroMQ family, speaking
//! ZMTP 3.1 on the wire. This crate is its middle layer. **Work in
//! progress:** what exists so far is
//!
//! * [`Msg`]: a multipart message of [`bytes::Bytes`] frames, cheap to
//!   clone, 32 bytes by value, with no allocation of its own for a single
//!   frame;
//! * [`Endpoint`]: `tcp://host:port`, `tcp://[::1]:port`, `tcp://*:0`,
//!   `ipc:///path`, `ipc://@abstract`, `ipc://*` and `inproc://name`, parsed
//!   with precise errors ([`EndpointError`]) and displayed back in canonical
//!   form;
//! * [`SocketOptions`]: the socket options with libzmq 4.3's defaults, their
//!   validation ([`OptionError`]) and the reconnect backoff;
//! * [`Error`] and [`Result`]: what socket operations fail with;
//! * [`pipe`]: the lock-free message pipes, with high-water marks, between a
//!   socket and each of its peers.
//!
//! The engine, the transports and the I/O threads come next.
//!
//! ```
//! use bytes::Bytes;
//! use smolmq_core::{Endpoint, Msg, SocketOptions};
//!
//! // A two-frame message: building it copies no payload.
//! let mut msg = Msg::from("world");
//! msg.push_front(Bytes::from_static(b"hello"));
//! assert_eq!(msg.len(), 2);
//! assert_eq!(msg.size(), 10);
//! assert_eq!(format!("{msg:?}"), r#"Msg["hello", "world"]"#);
//!
//! // Endpoints parse into their parts and display back canonically.
//! let ep: Endpoint = "tcp://*:*".parse()?;
//! assert!(ep.is_bind_only());
//! assert_eq!(ep.to_string(), "tcp://*:0");
//! let err = Endpoint::parse("tcp://localhost").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "tcp endpoint `tcp://localhost` has no port (use `:*` or `:0` to bind a port chosen by the system)"
//! );
//!
//! // Options start from libzmq's defaults.
//! let opts = SocketOptions::default();
//! assert_eq!((opts.sndhwm, opts.rcvhwm), (1000, 1000));
//! opts.validate()?;
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # Safety
//!
//! The modules of messages, endpoints, options and errors deny `unsafe`
//! code.

#![warn(missing_docs, missing_debug_implementations)]

#[cfg(not(loom))]
mod context;
mod endpoint;
#[cfg(not(loom))]
pub mod engine;
mod error;
#[cfg(not(loom))]
pub mod io_thread;
pub mod monitor;
mod msg;
mod options;
pub mod pattern;
pub mod pipe;
#[cfg(not(loom))]
mod socket;
mod sync;
pub mod transport;

#[cfg(not(loom))]
pub use context::Context;
pub use endpoint::{
    AbstractName, Endpoint, EndpointError, Host, HostName, InprocName, IpcAddr, IpcPath, TcpAddr,
    INPROC_NAME_MAX, IPC_PATH_MAX, SUPPORTED_SCHEMES,
};
pub use error::{Error, Result};
pub use monitor::SocketEvent;
pub use msg::{EmptyMsgError, IntoFrames, Msg};
pub use options::{
    OptionError, SocketOptions, TcpKeepalive, MAX_DURATION, MAX_HEARTBEAT_TTL, MAX_ROUTING_ID,
};
#[cfg(not(loom))]
pub use socket::{SendError, Socket};
