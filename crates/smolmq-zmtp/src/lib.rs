//! A sans-IO codec for ZMTP 3.1, the ZeroMQ Message Transport Protocol
//! ([RFC 37](https://rfc.zeromq.org/spec/37/)), which also talks to ZMTP 3.0
//! peers ([RFC 23](https://rfc.zeromq.org/spec/23/)).
//!
//! There are no sockets in this crate: bytes go in and frames or commands
//! come out, frames go in and bytes come out. An engine (smolmq-core) owns
//! the stream, a read buffer (`BytesMut`) and a vectored write path, and
//! drives these pieces:
//!
//! * [`Handshake`]: the 64-byte [`Greeting`] and the security handshake,
//!   NULL (READY / READY) or PLAIN (HELLO / WELCOME / INITIATE / READY, with
//!   a hook that accepts or refuses credentials), with the socket-type
//!   compatibility check of the RFC and the ERROR command. It ends with
//!   [`PeerInfo`]: version, socket type, identity, every metadata property,
//!   PLAIN user name.
//! * [`FrameDecoder`]: cuts [`Frame`]s out of the read buffer, each body a
//!   zero-copy slice of it; input may be split at any byte; a per-frame
//!   size limit is enforced from the size header, before anything is
//!   buffered.
//! * [`Encoder`]: batches frames and [`Command`]s into one write buffer;
//!   payloads from a threshold up are passed through as separate
//!   `IoSlice`s instead of being copied.
//! * [`Command`] (READY, ERROR, PLAIN's, PING / PONG, SUBSCRIBE / CANCEL and
//!   any other kept as [`Command::Unknown`]), [`Metadata`], [`SocketType`],
//!   [`Subscription`] (ZMTP 3.0's subscription messages and 3.1's commands).
//!
//! # Example: a connection in memory
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use smolmq_zmtp::{
//!     Encoder, FrameDecoder, Handshake, HandshakeConfig, HandshakeStatus, SocketType,
//! };
//!
//! // Two peers, each with a read buffer that the other side's bytes land in.
//! let mut client = Handshake::new(HandshakeConfig::new(SocketType::Push)).unwrap();
//! let mut server = Handshake::new(HandshakeConfig::new(SocketType::Pull)).unwrap();
//! let (mut to_client, mut to_server) = (BytesMut::new(), BytesMut::new());
//!
//! let mut server_peer = None;
//! for _ in 0..3 {
//!     client.poll_transmit(&mut to_server);
//!     server.poll_transmit(&mut to_client);
//!     client.receive(&mut to_client).unwrap();
//!     if let HandshakeStatus::Done(peer) = server.receive(&mut to_server).unwrap() {
//!         server_peer = Some(peer);
//!     }
//! }
//! assert!(client.is_done());
//! assert_eq!(server_peer.unwrap().socket_type, SocketType::Push);
//!
//! // Traffic: the client batches a two-part message...
//! let mut encoder = Encoder::default();
//! encoder.message(&[Bytes::from_static(b"topic"), Bytes::from_static(b"payload")]);
//! let mut wire = Vec::new();
//! while !encoder.is_empty() {
//!     encoder.write_to(&mut wire).unwrap(); // a vectored write
//! }
//! to_server.extend_from_slice(&wire);
//!
//! // ...and the server cuts the frames out of its read buffer.
//! let mut decoder = FrameDecoder::new(1 << 20);
//! let first = decoder.decode(&mut to_server).unwrap().unwrap();
//! let second = decoder.decode(&mut to_server).unwrap().unwrap();
//! assert_eq!((&first.body[..], first.more), (&b"topic"[..], true));
//! assert_eq!((&second.body[..], second.more), (&b"payload"[..], false));
//! assert!(decoder.decode(&mut to_server).unwrap().is_none());
//! ```
//!
//! # Versions
//!
//! Our greeting announces 3.1. Peers announcing 3.0 are spoken to in 3.0
//! (subscriptions as messages, see [`Subscription::encode`]); peers
//! announcing 3.1 or anything higher (4.x included) in 3.1, as RFC 37 asks
//! ("a peer SHALL always use its own protocol when talking to an equal or
//! higher protocol peer"). ZMTP 1.0 and 2.0 peers are refused at the first
//! byte that gives them away: byte 0 or 9 of the signature, or the major
//! version at byte 10. The whole greeting is sent at once (the RFC's
//! "second case"), with zero padding.
//!
//! # Limits and errors
//!
//! Every malformed input ends in an error value naming the offending value
//! ([`GreetingError`], [`DecodeError`], [`CommandError`], [`MetadataError`],
//! [`HandshakeError`]), never a panic. Memory driven by the peer is bounded:
//! the frame decoder reserves room for a partial frame only up to the
//! configured frame limit (plus a 9-byte header) and at most
//! [`MAX_RESERVE_AHEAD`] (1 MiB) ahead of what has arrived; the handshake at
//! most
//! [`HandshakeConfig::max_command_size`] (64 KiB by default).
//!
//! CURVE is recognised in the greeting and refused
//! ([`HandshakeError::MechanismNotSupported`]); the state machine has room
//! for it as another [`MechanismConfig`].

#![warn(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod command;
mod encoder;
mod frame;
mod greeting;
mod handshake;
mod metadata;
mod socket_type;
mod subscription;

pub use command::{Command, CommandError, MAX_PING_CONTEXT, MAX_SHORT_STRING};
pub use encoder::{Encoder, DEFAULT_COPY_THRESHOLD, MAX_IO_SLICES};
pub use frame::{
    encode_header, header_len, DecodeError, Frame, FrameDecoder, FrameHeader, FrameView,
    FLAGS_RESERVED, FLAG_COMMAND, FLAG_LONG, FLAG_MORE, MAX_FRAME_SIZE_LIMIT, MAX_HEADER_LEN,
    MAX_RESERVE_AHEAD, MAX_SHORT_SIZE,
};
pub use greeting::{Greeting, GreetingDecoder, GreetingError, Mechanism, Version, GREETING_LEN};
pub use handshake::{
    ConfigError, Handshake, HandshakeConfig, HandshakeError, HandshakeStatus, MechanismConfig,
    PeerInfo, PlainAuthenticator, PlainCredentials, DEFAULT_MAX_HANDSHAKE_COMMAND,
};
pub use metadata::{
    Metadata, MetadataError, IDENTITY, MAX_IDENTITY_LEN, MAX_VALUE_LEN, RESOURCE, SOCKET_TYPE,
};
pub use socket_type::{SocketType, UnknownSocketType};
pub use subscription::Subscription;

/// Compile-time checks: every piece can move to (and be shared with) an
/// I/O thread.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Handshake>();
    send_sync::<HandshakeConfig>();
    send_sync::<FrameDecoder>();
    send_sync::<Encoder>();
    send_sync::<Frame>();
    send_sync::<Command>();
    send_sync::<HandshakeError>();
}
