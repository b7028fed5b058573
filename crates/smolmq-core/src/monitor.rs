//! Socket monitor events: what happened to a socket's connections, as
//! libzmq's and zlink's socket monitors report it.
//!
//! [`Socket::monitor`](crate::Socket::monitor) returns a receiver of
//! [`SocketEvent`]s; receive them blocking, with a timeout or awaiting.

use crate::Endpoint;
use smolmq_zmtp::SocketType;
use std::time::Duration;

/// Something that happened to a socket's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketEvent {
    /// A bind succeeded; `endpoint` has its wildcards resolved.
    Listening {
        /// The endpoint bound.
        endpoint: Endpoint,
    },
    /// A listener accepted a connection (its handshake comes next).
    Accepted {
        /// The listening endpoint.
        endpoint: Endpoint,
        /// The peer's address.
        peer: String,
    },
    /// A listener failed to accept a connection; it keeps listening.
    AcceptFailed {
        /// The listening endpoint.
        endpoint: Endpoint,
        /// Why.
        reason: String,
    },
    /// A connection to a connected endpoint was established (its handshake
    /// comes next).
    Connected {
        /// The endpoint.
        endpoint: Endpoint,
        /// The peer's address.
        peer: String,
    },
    /// Connecting failed; a retry follows ([`SocketEvent::ConnectRetried`])
    /// unless reconnection is off.
    ConnectFailed {
        /// The endpoint.
        endpoint: Endpoint,
        /// Why.
        reason: String,
    },
    /// The socket will connect again after `delay`.
    ConnectRetried {
        /// The endpoint.
        endpoint: Endpoint,
        /// How long it waits first.
        delay: Duration,
    },
    /// A connecting socket stopped trying: `attempts` connection attempts
    /// in a row failed (`reconnect_max_attempts`). The messages queued for
    /// the endpoint are dropped; see
    /// [`Error::ConnectGaveUp`](crate::Error::ConnectGaveUp) for what sends
    /// and receives do then.
    ConnectGaveUp {
        /// The endpoint.
        endpoint: Endpoint,
        /// The failed attempts in a row.
        attempts: u32,
        /// Why the last one failed.
        reason: String,
    },
    /// The ZMTP handshake with a peer succeeded.
    HandshakeSucceeded {
        /// The endpoint the connection belongs to.
        endpoint: Endpoint,
        /// The peer's socket type.
        peer_type: SocketType,
    },
    /// The ZMTP handshake failed; the connection is closed.
    HandshakeFailed {
        /// The endpoint the connection belongs to.
        endpoint: Endpoint,
        /// Why (e.g. a bad greeting, an incompatible socket type).
        reason: String,
    },
    /// An established connection ended.
    Disconnected {
        /// The endpoint the connection belonged to.
        endpoint: Endpoint,
        /// Why (peer closed, protocol error, message too large, heartbeat
        /// timeout, ...).
        reason: String,
    },
    /// The socket was closed.
    Closed,
}
