//! smolmq: ZeroMQ-family messaging in pure Rust.
//!
//! Sockets with messaging patterns (PAIR, PUB / SUB / XPUB / XSUB, PUSH /
//! PULL, DEALER / ROUTER / REQ / REP) over `inproc://`, `ipc://` and
//! `tcp://`, speaking ZMTP 3.1 on the wire, so they talk to libzmq, pyzmq
//! and every other ZeroMQ peer. Every socket works from plain threads
//! (blocking calls with SNDTIMEO / RCVTIMEO), from any async executor, and
//! without blocking at all (`try_send` / `try_recv`).
//!
//! ```
//! use smolmq::{Context, Msg, SocketType};
//!
//! let ctx = Context::new()?;
//! let mut publisher = ctx.socket(SocketType::Pub)?;
//! publisher.bind("tcp://127.0.0.1:0")?;
//! let endpoint = publisher.last_endpoint().unwrap().to_string();
//!
//! let mut subscriber = ctx.socket(SocketType::Sub)?;
//! smolmq::pubsub::subscribe(&mut subscriber, b"weather")?;
//! subscriber.connect(&endpoint)?;
//!
//! // A subscription takes a moment to reach the publisher ("slow joiner"):
//! // publish until the subscriber hears, as a real publisher would.
//! subscriber.set_options(smolmq::SocketOptions {
//!     rcvtimeo: Some(std::time::Duration::from_millis(20)),
//!     ..Default::default()
//! })?;
//! let got = loop {
//!     publisher.send_blocking(Msg::from("sport: 1-0")).map_err(|e| e.into_error())?;
//!     publisher.send_blocking(Msg::from("weather: sunny")).map_err(|e| e.into_error())?;
//!     match subscriber.recv_blocking() {
//!         Ok(msg) => break msg,
//!         Err(e) if e.is_timeout() => continue,
//!         Err(e) => return Err(e),
//!     }
//! };
//! assert_eq!(got, Msg::from("weather: sunny"));
//! # Ok::<(), smolmq::Error>(())
//! ```
//!
//! # Crates and features
//!
//! This crate gathers smolmq's crates behind feature flags, all but `tls`
//! and `ws` on by default; a program that needs less depends on fewer:
//!
//! | feature | crate | gives |
//! |---|---|---|
//! | `tcp` | [`smolmq_tcp`] | `tcp://` endpoints |
//! | `ipc` | [`smolmq_ipc`] | `ipc://` endpoints (Unix domain sockets) |
//! | `tls` (off by default) | `smolmq_tls` | `tls://` endpoints: ZMTP over TLS 1.2 / 1.3 (rustls, ring); options per socket with `smolmq::tls::set_tls` |
//! | `ws` (not default) | `smolmq_ws` | `ws://` endpoints: ZeroMQ over WebSocket (RFC 45, ZWS 2.0) |
//! | `wss` (not default) | `smolmq_ws` with smolmq-tls | `wss://` endpoints: the same over TLS (options: `smolmq::ws::tls::set_tls`) |
//! | `pubsub` | [`smolmq_pubsub`] | PUB, SUB, XPUB, XSUB |
//! | `pipeline` | [`smolmq_pipeline`] | PUSH, PULL |
//! | `reqrep` | [`smolmq_reqrep`] | DEALER, ROUTER, REQ, REP |
//! | `mcp` (not default) | `smolmq_mcp` | JSON-RPC 2.0 / MCP server loop and client, as `smolmq::mcp` |
//!
//! `tls` is off by default because of its build: rustls and ring (C and
//! assembly, built by the C compiler) and their dependencies, 19 crates
//! that quadruple the facade's build time.
//!
//! PAIR and `inproc://` are part of the core and always there. A socket
//! type whose feature is off is refused by [`Context::socket`] with an
//! error that names the feature; an endpoint whose transport is off, with
//! one that names the transport.
//!
//! Each crate also stands on its own: a program can depend on
//! `smolmq-core` and `smolmq-pipeline` alone.
//!
//! # The pieces
//!
//! * [`Context`]: the I/O threads and the transports; makes sockets.
//! * [`Socket`], [`Msg`], [`SocketOptions`], [`Error`]: from
//!   [`smolmq_core`].
//! * [`poller`]: wait on many sockets; [`proxy`]: `zmq_proxy` and
//!   `zmq_proxy_steerable`.
//! * Pattern options and operations: [`pubsub`] (subscribe, XPUB options),
//!   [`reqrep`] (ROUTER_MANDATORY, routing ids, REQ_RELAXED, ...).

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::ops::Deref;

pub use bytes::Bytes;
pub use smolmq_core::{
    pattern, poller, proxy, ContextConfig, Endpoint, Error, IntoFrames, MechanismConfig, Msg,
    PlainCredentials, Result, SendError, Socket, SocketEvent, SocketOptions,
};
pub use smolmq_zmtp::SocketType;

#[cfg(feature = "ipc")]
pub use smolmq_ipc as ipc;
#[cfg(feature = "mcp")]
pub use smolmq_mcp as mcp;
#[cfg(feature = "pipeline")]
pub use smolmq_pipeline as pipeline;
#[cfg(feature = "pubsub")]
pub use smolmq_pubsub as pubsub;
#[cfg(feature = "reqrep")]
pub use smolmq_reqrep as reqrep;
#[cfg(feature = "tcp")]
pub use smolmq_tcp as tcp;
#[cfg(feature = "tls")]
pub use smolmq_tls as tls;
#[cfg(feature = "ws")]
pub use smolmq_ws as ws;

/// A smolmq context: the I/O threads, the transports compiled in, and a
/// factory for every socket type compiled in.
///
/// Cheap to clone (a handle). It dereferences to [`smolmq_core::Context`],
/// so [`socket_with`](smolmq_core::Context::socket_with) (sockets with a
/// pattern of your own) and
/// [`add_transport`](smolmq_core::Context::add_transport) are there too.
#[derive(Clone)]
pub struct Context {
    /// The core context, with the transports added.
    inner: smolmq_core::Context,
}

impl Context {
    /// A context with one I/O thread and every transport compiled in.
    pub fn new() -> io::Result<Context> {
        Context::with_io_threads(1)
    }

    /// A context with `count` I/O threads (at least one) and every
    /// transport compiled in.
    pub fn with_io_threads(count: usize) -> io::Result<Context> {
        Context::with_config(ContextConfig::new().io_threads(count))
    }

    /// A context set up as `config` says (I/O threads, their spin, or an
    /// executor of the application's to run the I/O on: see
    /// [`ContextConfig`]) with every transport compiled in.
    pub fn with_config(config: ContextConfig) -> io::Result<Context> {
        let inner = smolmq_core::Context::with_config(config)?;
        #[cfg(feature = "tcp")]
        inner.add_transport(std::sync::Arc::new(smolmq_tcp::TcpTransport));
        #[cfg(feature = "ipc")]
        inner.add_transport(std::sync::Arc::new(smolmq_ipc::IpcTransport));
        #[cfg(feature = "tls")]
        inner.add_transport(std::sync::Arc::new(smolmq_tls::TlsTransport::new()));
        #[cfg(feature = "ws")]
        inner.add_transport(std::sync::Arc::new(smolmq_ws::WsTransport));
        #[cfg(feature = "wss")]
        inner.add_transport(std::sync::Arc::new(smolmq_ws::WssTransport::new()));
        Ok(Context { inner })
    }

    /// A socket of type `kind`.
    ///
    /// Fails with [`Error::Unsupported`] for a type whose feature is not
    /// compiled in (the message names the feature) and for the draft types
    /// (CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER, PEER, CHANNEL), which
    /// smolmq does not implement.
    pub fn socket(&self, kind: SocketType) -> Result<Socket> {
        let pattern = pattern_for(kind)?;
        Ok(self.inner.socket_with(kind, pattern))
    }

    /// The core context.
    pub fn core(&self) -> &smolmq_core::Context {
        &self.inner
    }
}

impl Deref for Context {
    type Target = smolmq_core::Context;

    fn deref(&self) -> &smolmq_core::Context {
        &self.inner
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

/// The error for a socket type whose feature is off.
#[allow(dead_code)] // Unused when every feature is on.
fn feature_off(kind: SocketType, feature: &str) -> Error {
    Error::Unsupported(format!(
        "{kind} sockets need the `{feature}` feature of smolmq, which is not enabled"
    ))
}

/// The routing of a socket type, as compiled in.
fn pattern_for(kind: SocketType) -> Result<Box<dyn pattern::Pattern>> {
    use SocketType::*;
    match kind {
        Pair => Ok(Box::new(pattern::Pair::default())),
        Pub | Sub | XPub | XSub => {
            #[cfg(feature = "pubsub")]
            {
                smolmq_pubsub::pattern(kind).ok_or_else(|| feature_off(kind, "pubsub"))
            }
            #[cfg(not(feature = "pubsub"))]
            {
                Err(feature_off(kind, "pubsub"))
            }
        }
        Push | Pull => {
            #[cfg(feature = "pipeline")]
            {
                Ok(match kind {
                    Push => Box::new(smolmq_pipeline::Push::default()),
                    _ => Box::new(smolmq_pipeline::Pull::default()),
                })
            }
            #[cfg(not(feature = "pipeline"))]
            {
                Err(feature_off(kind, "pipeline"))
            }
        }
        Dealer | Router | Req | Rep => {
            #[cfg(feature = "reqrep")]
            {
                Ok(match kind {
                    Dealer => Box::new(smolmq_reqrep::Dealer::default()),
                    Router => Box::new(smolmq_reqrep::Router::default()),
                    Req => Box::new(smolmq_reqrep::Req::default()),
                    _ => Box::new(smolmq_reqrep::Rep::default()),
                })
            }
            #[cfg(not(feature = "reqrep"))]
            {
                Err(feature_off(kind, "reqrep"))
            }
        }
        // CLIENT, SERVER, RADIO, DISH, SCATTER, GATHER, PEER, CHANNEL and
        // any type added later.
        _ => Err(Error::Unsupported(format!(
            "{kind} is a draft socket type, which smolmq does not implement"
        ))),
    }
}

/// The workspace README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// This crate's README example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct CrateReadmeDoctests;
