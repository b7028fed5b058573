//! [`Error`]: what a socket operation can fail with, and [`Result`].

#![deny(unsafe_code)]

use crate::endpoint::{Endpoint, EndpointError};
use crate::options::OptionError;
use core::fmt;
use smolmq_zmtp::SocketType;
use std::io;

/// A result whose error defaults to the crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The error a socket operation returns.
///
/// libzmq reports both [`WouldBlock`](Error::WouldBlock) and
/// [`Timeout`](Error::Timeout) as `EAGAIN`; they are kept apart here, since
/// a caller usually reacts differently to "not now" and "not in time".
///
/// ```
/// use smolmq_core::{Endpoint, Error};
///
/// let err = Error::from(Endpoint::parse("tpc://localhost:5555").unwrap_err());
/// assert!(err.to_string().contains("unknown transport `tpc://`"));
/// assert!(std::error::Error::source(&err).is_some());
/// assert!(!err.is_would_block());
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// A non-blocking operation could not proceed at once: nothing to
    /// receive, or the send high-water mark reached (libzmq's `EAGAIN`
    /// with `ZMQ_DONTWAIT`).
    WouldBlock,
    /// A blocking operation did not complete within `sndtimeo` /
    /// `rcvtimeo` (libzmq's `EAGAIN` after `ZMQ_SNDTIMEO` /
    /// `ZMQ_RCVTIMEO`).
    Timeout,
    /// The socket or its context has been closed (libzmq's `ETERM`).
    Closed,
    /// An endpoint string was refused.
    Endpoint(EndpointError),
    /// A socket option was refused.
    Option(OptionError),
    /// A message larger than `maxmsgsize` (libzmq's `ZMQ_MAXMSGSIZE`).
    MessageTooLarge {
        /// The message's size in bytes, as far as it is known (a peer's
        /// announced frame length may be all that is known).
        size: u64,
        /// The configured maximum.
        max: u64,
    },
    /// An I/O error from the operating system.
    Io(io::Error),
    /// Something smolmq does not do (yet): a socket type not implemented,
    /// a transport not added to the context. The text says what.
    Unsupported(String),
    /// The operation is not valid in the socket's current state, such as a
    /// REQ sending twice without receiving the reply in between (libzmq's
    /// `EFSM`). The text says what was expected.
    State(&'static str),
    /// The message's routing id names no connected peer, and the socket was
    /// told to report that (ROUTER_MANDATORY; libzmq's `EHOSTUNREACH`).
    Unroutable,
    /// The peer's socket type cannot talk to ours (RFC 37's table), e.g. a
    /// PUB connecting to a PUSH over inproc.
    Incompatible {
        /// Our socket type.
        ours: SocketType,
        /// The peer's.
        peer: SocketType,
    },
    /// The message cannot be sent as one JSON line (a socket with a
    /// `+jsonl` endpoint): more than one frame after routing, an empty
    /// payload, a `\n` inside it or a `\r` at its end. Nothing was sent.
    NotALine(String),
    /// A connecting socket gave up on its endpoint after
    /// `reconnect_max_attempts` failed attempts, and has no peer and no
    /// other endpoint left to send to or receive from.
    ConnectGaveUp {
        /// The endpoint given up on (boxed: the error stays small).
        endpoint: Box<Endpoint>,
        /// The failed attempts in a row.
        attempts: u32,
        /// Why the last attempt failed.
        reason: String,
    },
}

impl Error {
    /// Whether this is [`Error::WouldBlock`]: retry later.
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::WouldBlock)
    }

    /// Whether this is [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout)
    }

    /// Whether this is [`Error::Closed`]: the socket will not work again.
    pub fn is_closed(&self) -> bool {
        matches!(self, Error::Closed)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WouldBlock => f.write_str("operation would block"),
            Error::Timeout => f.write_str("operation timed out"),
            Error::Closed => f.write_str("socket or context closed"),
            Error::Endpoint(err) => write!(f, "invalid endpoint: {err}"),
            Error::Option(err) => write!(f, "invalid socket option: {err}"),
            Error::MessageTooLarge { size, max } => write!(
                f,
                "message of {size} bytes is larger than the maximum of {max} bytes"
            ),
            Error::Io(err) => write!(f, "I/O error: {err}"),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
            Error::State(what) => write!(f, "operation not valid in this state: {what}"),
            Error::Unroutable => f.write_str("no peer with that routing id"),
            Error::Incompatible { ours, peer } => {
                write!(f, "a {ours} socket cannot talk to a {peer} peer")
            }
            Error::NotALine(why) => write!(f, "message cannot be sent as one line: {why}"),
            Error::ConnectGaveUp {
                endpoint,
                attempts,
                reason,
            } => write!(
                f,
                "gave up connecting to {endpoint} after {attempts} failed attempts \
                 (last: {reason})"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Endpoint(err) => Some(err),
            Error::Option(err) => Some(err),
            Error::Io(err) => Some(err),
            Error::WouldBlock
            | Error::Timeout
            | Error::Closed
            | Error::MessageTooLarge { .. }
            | Error::Unsupported(_)
            | Error::State(_)
            | Error::Unroutable
            | Error::Incompatible { .. }
            | Error::NotALine(_)
            | Error::ConnectGaveUp { .. } => None,
        }
    }
}

impl From<EndpointError> for Error {
    fn from(err: EndpointError) -> Error {
        Error::Endpoint(err)
    }
}

impl From<OptionError> for Error {
    fn from(err: OptionError) -> Error {
        Error::Option(err)
    }
}

impl From<io::Error> for Error {
    /// Wraps the I/O error as [`Error::Io`], whatever its kind (an
    /// `io::ErrorKind::WouldBlock` from a raw socket is not a socket-level
    /// [`Error::WouldBlock`]).
    fn from(err: io::Error) -> Error {
        Error::Io(err)
    }
}

impl From<Error> for io::Error {
    /// For callers that speak `io::Result`: `WouldBlock` and `Timeout` map
    /// to the kinds of the same names, `Closed` to `NotConnected`, bad
    /// endpoints and options to `InvalidInput`, an oversized message to
    /// `InvalidData`, a message that cannot be a line to `InvalidInput`, a
    /// connector that gave up to `NotConnected`, and an I/O error is
    /// unwrapped.
    fn from(err: Error) -> io::Error {
        let kind = match err {
            Error::Io(io) => return io,
            Error::WouldBlock => io::ErrorKind::WouldBlock,
            Error::Timeout => io::ErrorKind::TimedOut,
            Error::Closed => io::ErrorKind::NotConnected,
            Error::Endpoint(_) | Error::Option(_) => io::ErrorKind::InvalidInput,
            Error::MessageTooLarge { .. } => io::ErrorKind::InvalidData,
            Error::Unsupported(_) => io::ErrorKind::Unsupported,
            Error::State(_) => io::ErrorKind::InvalidInput,
            Error::Unroutable => io::ErrorKind::HostUnreachable,
            Error::Incompatible { .. } => io::ErrorKind::ConnectionRefused,
            Error::NotALine(_) => io::ErrorKind::InvalidInput,
            Error::ConnectGaveUp { .. } => io::ErrorKind::NotConnected,
        };
        io::Error::new(kind, err)
    }
}

/// Compile-time checks: errors cross threads and box into `dyn Error`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn display_says_what_happened() {
        assert_eq!(Error::WouldBlock.to_string(), "operation would block");
        assert_eq!(Error::Timeout.to_string(), "operation timed out");
        assert_eq!(Error::Closed.to_string(), "socket or context closed");
        assert_eq!(
            Error::MessageTooLarge { size: 11, max: 10 }.to_string(),
            "message of 11 bytes is larger than the maximum of 10 bytes"
        );
        let endpoint = Error::from(EndpointError::EmptyName);
        assert_eq!(
            endpoint.to_string(),
            "invalid endpoint: inproc endpoint has an empty name"
        );
        let option = Error::from(OptionError::RoutingIdReserved);
        assert!(option
            .to_string()
            .starts_with("invalid socket option: `routing_id`"));
        assert_eq!(
            Error::State("a reply must be received before the next request").to_string(),
            "operation not valid in this state: a reply must be received before the next request"
        );
        assert_eq!(
            Error::Unroutable.to_string(),
            "no peer with that routing id"
        );
        assert_eq!(
            Error::Incompatible {
                ours: SocketType::Pub,
                peer: SocketType::Push
            }
            .to_string(),
            "a PUB socket cannot talk to a PUSH peer"
        );
        let io = Error::from(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(io.to_string(), "I/O error: refused");
    }

    #[test]
    fn source_is_the_wrapped_error() {
        assert!(Error::WouldBlock.source().is_none());
        assert!(Error::MessageTooLarge { size: 1, max: 0 }
            .source()
            .is_none());
        let err = Error::from(EndpointError::EmptyPath);
        let source = err.source().and_then(|s| s.downcast_ref::<EndpointError>());
        assert_eq!(source, Some(&EndpointError::EmptyPath));
        let err = Error::from(OptionError::RoutingIdLength { len: 0 });
        assert!(err
            .source()
            .and_then(|s| s.downcast_ref::<OptionError>())
            .is_some());
        let err = Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        let source = err.source().and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(source.map(io::Error::kind), Some(io::ErrorKind::BrokenPipe));
    }

    #[test]
    fn predicates() {
        assert!(Error::WouldBlock.is_would_block());
        assert!(!Error::Timeout.is_would_block());
        assert!(Error::Timeout.is_timeout());
        assert!(Error::Closed.is_closed());
        assert!(!Error::from(io::Error::from(io::ErrorKind::WouldBlock)).is_would_block());
    }

    #[test]
    fn into_io_error() {
        let kind = |err: Error| io::Error::from(err).kind();
        assert_eq!(kind(Error::WouldBlock), io::ErrorKind::WouldBlock);
        assert_eq!(kind(Error::Timeout), io::ErrorKind::TimedOut);
        assert_eq!(kind(Error::Closed), io::ErrorKind::NotConnected);
        assert_eq!(
            kind(EndpointError::Empty.into()),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(OptionError::RoutingIdReserved.into()),
            io::ErrorKind::InvalidInput
        );
        assert_eq!(
            kind(Error::MessageTooLarge { size: 2, max: 1 }),
            io::ErrorKind::InvalidData
        );
        let raw = io::Error::from_raw_os_error(111);
        let back = io::Error::from(Error::from(raw));
        assert_eq!(back.raw_os_error(), Some(111), "an I/O error is unwrapped");
        // The smolmq error stays reachable inside the io::Error.
        let wrapped = io::Error::from(Error::Timeout);
        assert!(wrapped.get_ref().is_some_and(|e| e.is::<Error>()));
    }

    #[test]
    fn result_alias_defaults_to_error() {
        fn fails() -> Result<()> {
            Err(Error::Closed)
        }
        assert!(fails().unwrap_err().is_closed());
        let other: Result<u8, io::Error> = Ok(1);
        assert_eq!(other.ok(), Some(1));
    }
}
