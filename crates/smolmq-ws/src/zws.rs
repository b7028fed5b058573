//! ZWS 2.0 framing, sans-IO: ZMTP bytes from the engine to WebSocket
//! messages ([`Outbound`]) and WebSocket messages to ZMTP bytes for the
//! engine ([`Inbound`]).
//!
//! The engine speaks ZMTP 3.1 over a byte stream. Over ZWS there is no
//! greeting and every frame is one binary WebSocket message: a flags byte
//! (`0x00` last frame, `0x01` more, `0x02` command) and the body. So the
//! engine's greeting is swallowed, the peer's is made up from the
//! negotiated subprotocol, and each frame's ZMTP header (flags and length)
//! becomes the one ZWS flags byte, and back.
//!
//! Without a mechanism (subprotocol `ZWS2.0`) the connection has no
//! commands at all: each side's first message is its routing id. The
//! engine still runs its NULL handshake: its READY becomes our routing id
//! message, and the peer's routing id becomes a READY for the engine (with
//! a socket type our own accepts: ZWS 2.0 without a mechanism carries no
//! socket type). PING becomes a WebSocket ping and the peer's pong a PONG.

use crate::frame::{OP_BINARY, OP_PING};
use crate::Subprotocol;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use smolmq_zmtp::{
    encode_header, Command, Greeting, Mechanism, Metadata, SocketType, FLAG_COMMAND, FLAG_LONG,
    FLAG_MORE, GREETING_LEN,
};
use std::fmt;

/// ZWS flag: more frames of this message follow.
pub const ZWS_MORE: u8 = 0x01;
/// ZWS flag: the frame is a command.
pub const ZWS_COMMAND: u8 = 0x02;

/// What a peer sent that ZWS 2.0 does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ZwsError {
    /// A binary message without even the flags byte.
    EmptyMessage,
    /// A flags byte other than `0x00`, `0x01` and `0x02`.
    BadFlags(u8),
    /// A command on a connection without a mechanism (`ZWS2.0`).
    CommandWithoutMechanism,
    /// A routing id longer than 255 bytes.
    RoutingIdTooLong(usize),
    /// A text message: ZWS messages are binary.
    TextMessage,
}

impl fmt::Display for ZwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZwsError::EmptyMessage => f.write_str("an empty WebSocket message (no ZWS flags byte)"),
            ZwsError::BadFlags(flags) => write!(
                f,
                "ZWS flags {flags:#04x} (only 0x00, 0x01 and 0x02 are defined)"
            ),
            ZwsError::CommandWithoutMechanism => {
                f.write_str("a command frame on a ZWS2.0 connection without mechanism")
            }
            ZwsError::RoutingIdTooLong(len) => {
                write!(f, "a routing id of {len} bytes (at most 255)")
            }
            ZwsError::TextMessage => f.write_str("a text WebSocket message (ZWS uses binary ones)"),
        }
    }
}

impl std::error::Error for ZwsError {}

impl ZwsError {
    /// The status our Close frame gives for this error:
    /// [`CLOSE_UNSUPPORTED_DATA`](crate::frame::CLOSE_UNSUPPORTED_DATA)
    /// for a text message,
    /// [`CLOSE_PROTOCOL_ERROR`](crate::frame::CLOSE_PROTOCOL_ERROR) for
    /// the others.
    pub fn close_code(&self) -> u16 {
        match self {
            ZwsError::TextMessage => crate::frame::CLOSE_UNSUPPORTED_DATA,
            _ => crate::frame::CLOSE_PROTOCOL_ERROR,
        }
    }
}

/// One thing to send, made from the engine's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A binary WebSocket message: the ZWS flags byte, then the body.
    Message(Bytes),
    /// A WebSocket ping carrying this payload (a PING without mechanism).
    Ping(Bytes),
}

/// The engine's ZMTP bytes, turned into ZWS messages.
///
/// ```
/// use smolmq_ws::zws::{Outbound, Outgoing};
/// use smolmq_ws::Subprotocol;
///
/// let mut out = Outbound::new(Subprotocol::Null);
/// out.push(&[0; 64]); // the engine's greeting, swallowed
/// out.push(&[0x01, 2, b'h', b'i', 0x00, 0]); // "hi" with MORE, then an empty frame
/// assert_eq!(out.next_outgoing(), Some(Outgoing::Message(b"\x01hi"[..].into())));
/// assert_eq!(out.next_outgoing(), Some(Outgoing::Message(b"\x00"[..].into())));
/// assert_eq!(out.next_outgoing(), None);
/// ```
#[derive(Debug)]
pub struct Outbound {
    /// How the connection was negotiated.
    mode: Subprotocol,
    /// Bytes of the engine's greeting still to swallow.
    greeting_left: usize,
    /// ZMTP bytes not yet made into messages.
    buf: BytesMut,
    /// Our socket type, from our READY (needed without a mechanism).
    our_type: Option<SocketType>,
}

impl Outbound {
    /// Nothing written yet, for a connection negotiated as `mode`.
    pub fn new(mode: Subprotocol) -> Outbound {
        Outbound {
            mode,
            greeting_left: GREETING_LEN,
            buf: BytesMut::new(),
            our_type: None,
        }
    }

    /// Switches to `ZWS2.0` without mechanism (the peer turned out to speak
    /// it; see [`Inbound::message`]).
    pub fn set_bare(&mut self) {
        self.mode = Subprotocol::Bare;
    }

    /// Our socket type, once our READY went by.
    pub fn our_type(&self) -> Option<SocketType> {
        self.our_type
    }

    /// Bytes buffered, not yet made into messages.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Takes ZMTP bytes from the engine.
    pub fn push(&mut self, mut data: &[u8]) {
        if self.greeting_left > 0 {
            let skip = self.greeting_left.min(data.len());
            self.greeting_left -= skip;
            data = &data[skip..];
        }
        self.buf.extend_from_slice(data);
    }

    /// The next thing to send, once a whole frame is buffered.
    ///
    /// The engine's own frames are trusted to be well formed; a frame that
    /// is not (a length beyond the address space) is held forever rather
    /// than panicking.
    pub fn next_outgoing(&mut self) -> Option<Outgoing> {
        loop {
            let (header, size) = frame_header(&self.buf)?;
            let flags = self.buf[0];
            let whole = header.checked_add(size)?;
            if self.buf.len() < whole {
                // Room for the rest at once: one copy per frame, not a
                // growing series.
                self.buf.reserve(whole - self.buf.len());
                return None;
            }
            let command = flags & FLAG_COMMAND != 0;
            if command {
                let body = self.buf.split_to(whole).split_off(header).freeze();
                if let Some(out) = self.command(body) {
                    return Some(out);
                }
                continue;
            }
            // In place: the last header byte becomes the ZWS flags byte, and
            // the message shares the buffer (no copy).
            self.buf[header - 1] = if flags & FLAG_MORE != 0 { ZWS_MORE } else { 0 };
            let mut frame = self.buf.split_to(whole);
            frame.advance(header - 1);
            return Some(Outgoing::Message(frame.freeze()));
        }
    }

    /// Every whole frame buffered, handed to `sink` as a WebSocket opcode
    /// ([`OP_BINARY`] or [`OP_PING`]) and a payload in two parts (a head
    /// byte, the ZWS flags, if given, then the body): what
    /// [`next_outgoing`](Outbound::next_outgoing) gives, data frames
    /// borrowed from the buffer (no allocation, no reference count).
    pub fn drain(&mut self, mut sink: impl FnMut(u8, Option<u8>, &[u8])) {
        loop {
            let Some((header, size)) = frame_header(&self.buf) else {
                return;
            };
            let Some(whole) = header.checked_add(size) else {
                return;
            };
            if self.buf.len() < whole {
                self.buf.reserve(whole - self.buf.len());
                return;
            }
            let flags = self.buf[0];
            if flags & FLAG_COMMAND != 0 {
                let body = self.buf.split_to(whole).split_off(header).freeze();
                self.emit_command(body, &mut sink);
                continue;
            }
            sink(OP_BINARY, Some(zws_flags(flags)), &self.buf[header..whole]);
            self.buf.advance(whole);
        }
    }

    /// Takes ZMTP bytes from the engine and hands every whole frame to
    /// `sink` at once, as [`drain`](Outbound::drain) does: straight from
    /// `data` when nothing is buffered (the common case copies nothing
    /// here); only a frame cut at the end of `data` is kept for later.
    pub fn write(&mut self, mut data: &[u8], mut sink: impl FnMut(u8, Option<u8>, &[u8])) {
        if self.greeting_left > 0 {
            let skip = self.greeting_left.min(data.len());
            self.greeting_left -= skip;
            data = &data[skip..];
        }
        // Finish a frame begun in an earlier write.
        while !self.buf.is_empty() && !data.is_empty() {
            let take = match frame_header(&self.buf) {
                // The header first, a byte at a time (at most 9).
                None => 1,
                Some((header, size)) => header
                    .saturating_add(size)
                    .saturating_sub(self.buf.len())
                    .min(data.len()),
            };
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.drain(&mut sink);
        }
        while let Some((header, size)) = frame_header(data) {
            let Some(whole) = header.checked_add(size) else {
                break;
            };
            if data.len() < whole {
                break;
            }
            let flags = data[0];
            if flags & FLAG_COMMAND != 0 {
                let body = Bytes::copy_from_slice(&data[header..whole]);
                self.emit_command(body, &mut sink);
            } else {
                sink(OP_BINARY, Some(zws_flags(flags)), &data[header..whole]);
            }
            data = &data[whole..];
        }
        self.buf.extend_from_slice(data);
    }

    /// Hands what a command of the engine becomes to `sink`.
    fn emit_command(&mut self, body: Bytes, sink: &mut impl FnMut(u8, Option<u8>, &[u8])) {
        match self.command(body) {
            Some(Outgoing::Message(m)) => sink(OP_BINARY, None, &m),
            Some(Outgoing::Ping(p)) => sink(OP_PING, None, &p),
            None => {}
        }
    }

    /// What a command of the engine becomes; `None` to drop it.
    fn command(&mut self, body: Bytes) -> Option<Outgoing> {
        let command = Command::decode(body.clone()).ok();
        // RFC 45: subscriptions travel as messages (0x01 / 0x00 + topic).
        match &command {
            Some(Command::Subscribe(topic)) => return Some(subscription(1, topic)),
            Some(Command::Cancel(topic)) => return Some(subscription(0, topic)),
            // Our type, in every mode: a NULL peer may turn out to have no
            // mechanism after our READY went out (see `Inbound::message`).
            Some(Command::Ready(metadata)) => {
                if let Some(Ok(kind)) = metadata.socket_type() {
                    self.our_type = Some(kind);
                }
            }
            _ => {}
        }
        if self.mode != Subprotocol::Bare {
            return Some(Outgoing::Message(with_flags(ZWS_COMMAND, &body)));
        }
        match command {
            // Our READY: the routing id goes out as the first message.
            Some(Command::Ready(metadata)) => {
                let id = metadata.identity().cloned().unwrap_or_default();
                Some(Outgoing::Message(with_flags(0, &id)))
            }
            Some(Command::Ping { context, .. }) => Some(Outgoing::Ping(context)),
            // Nothing else has a form without a mechanism.
            _ => None,
        }
    }
}

/// The ZWS flags of a ZMTP data frame's flags.
fn zws_flags(zmtp_flags: u8) -> u8 {
    if zmtp_flags & FLAG_MORE != 0 {
        ZWS_MORE
    } else {
        0
    }
}

/// The header length and body size of the ZMTP frame starting `buf`, once
/// the header is whole.
fn frame_header(buf: &[u8]) -> Option<(usize, usize)> {
    let flags = *buf.first()?;
    if flags & FLAG_LONG != 0 {
        let size: [u8; 8] = buf.get(1..9)?.try_into().ok()?;
        Some((9, usize::try_from(u64::from_be_bytes(size)).ok()?))
    } else {
        Some((2, usize::from(*buf.get(1)?)))
    }
}

/// A message of `flags` then `body`.
fn with_flags(flags: u8, body: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + body.len());
    out.put_u8(flags);
    out.put_slice(body);
    out.freeze()
}

/// A subscription message: flags 0, then `kind` (1 subscribe, 0 cancel),
/// then the topic.
fn subscription(kind: u8, topic: &[u8]) -> Outgoing {
    let mut out = BytesMut::with_capacity(2 + topic.len());
    out.put_u8(0);
    out.put_u8(kind);
    out.put_slice(topic);
    Outgoing::Message(out.freeze())
}

/// The peer's ZWS messages, turned into ZMTP bytes for the engine.
///
/// ```
/// use smolmq_ws::zws::Inbound;
/// use smolmq_ws::Subprotocol;
///
/// let mut inbound = Inbound::new(Subprotocol::Null);
/// assert_eq!(inbound.pending().len(), 64); // the peer's greeting, made up
/// inbound.consume(64);
/// inbound.message(b"\x02\x05READY", None)?; // a command
/// inbound.message(b"\x00hi", None)?;
/// assert_eq!(inbound.pending(), b"\x04\x06\x05READY\x00\x02hi");
/// # Ok::<(), smolmq_ws::zws::ZwsError>(())
/// ```
#[derive(Debug)]
pub struct Inbound {
    /// How the connection was negotiated (or found to be, see
    /// [`message`](Inbound::message)).
    mode: Subprotocol,
    /// ZMTP bytes for the engine.
    out: BytesMut,
    /// Whether the peer's first message arrived.
    started: bool,
    /// Without a mechanism: the peer's routing id, waiting for our socket
    /// type to make its READY.
    pending_id: Option<Bytes>,
}

impl Inbound {
    /// A connection negotiated as `mode`: the peer's greeting is ready to
    /// read at once.
    pub fn new(mode: Subprotocol) -> Inbound {
        let mechanism = match mode {
            Subprotocol::Plain => Mechanism::Plain,
            Subprotocol::Null | Subprotocol::Bare => Mechanism::Null,
        };
        let mut out = BytesMut::with_capacity(GREETING_LEN);
        // As libzmq does, the made-up peer never claims the server role; a
        // smolmq PLAIN handshake refuses only two servers.
        Greeting::new(mechanism, false).encode(&mut out);
        Inbound {
            mode,
            out,
            started: false,
            pending_id: None,
        }
    }

    /// Whether the connection runs without a mechanism (negotiated, or
    /// found out from the peer's first message).
    pub fn is_bare(&self) -> bool {
        self.mode == Subprotocol::Bare
    }

    /// ZMTP bytes ready for the engine.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// Marks `n` pending bytes as read.
    pub fn consume(&mut self, n: usize) {
        self.out.advance(n);
        if self.out.is_empty() {
            // Start over at the front of the allocation.
            self.out.clear();
        }
    }

    /// Whether the peer's routing id waits for our socket type.
    pub fn waits_for_our_type(&self) -> bool {
        self.pending_id.is_some()
    }

    /// Takes one binary message of the peer. `our_type` is our socket type
    /// when known (it is needed only without a mechanism).
    ///
    /// A peer negotiated as `ZWS2.0/NULL` whose first message is not a
    /// command speaks ZWS2.0 without mechanism after all (jszmq's server
    /// accepts whichever subprotocol the client lists first, then sends
    /// its routing id): the connection is read as such from then on; the
    /// caller should switch its [`Outbound`] too ([`is_bare`](Inbound::is_bare)).
    ///
    /// # Errors
    ///
    /// What ZWS 2.0 does not allow: an empty message, unknown flags, a
    /// command without mechanism, an over-long routing id.
    pub fn message(&mut self, msg: &[u8], our_type: Option<SocketType>) -> Result<(), ZwsError> {
        let (&flags, body) = msg.split_first().ok_or(ZwsError::EmptyMessage)?;
        if flags & !(ZWS_MORE | ZWS_COMMAND) != 0 || flags == ZWS_MORE | ZWS_COMMAND {
            return Err(ZwsError::BadFlags(flags));
        }
        let command = flags & ZWS_COMMAND != 0;
        if !self.started {
            self.started = true;
            if self.mode == Subprotocol::Null && !command {
                self.mode = Subprotocol::Bare;
            }
            if self.mode == Subprotocol::Bare {
                if body.len() > 255 {
                    return Err(ZwsError::RoutingIdTooLong(body.len()));
                }
                self.pending_id = Some(Bytes::copy_from_slice(body));
                if let Some(kind) = our_type {
                    self.set_our_type(kind);
                }
                return Ok(());
            }
        }
        if command && self.mode == Subprotocol::Bare {
            return Err(ZwsError::CommandWithoutMechanism);
        }
        encode_header(&mut self.out, body.len(), flags & ZWS_MORE != 0, command);
        self.out.extend_from_slice(body);
        Ok(())
    }

    /// As [`message`](Inbound::message), writing the ZMTP frame straight
    /// into `dst` when that can be done in order (nothing pending, the
    /// handshake part over, room for the whole frame): returns the bytes
    /// written there, 0 when the frame went to [`pending`](Inbound::pending)
    /// instead.
    ///
    /// # Errors
    ///
    /// As [`message`](Inbound::message).
    pub fn message_into(
        &mut self,
        msg: &[u8],
        our_type: Option<SocketType>,
        dst: &mut [u8],
    ) -> Result<usize, ZwsError> {
        let (&flags, body) = match msg.split_first() {
            Some(split) if self.started && self.out.is_empty() && self.pending_id.is_none() => {
                split
            }
            _ => return self.message(msg, our_type).map(|()| 0),
        };
        if flags & !(ZWS_MORE | ZWS_COMMAND) != 0 || flags == ZWS_MORE | ZWS_COMMAND {
            return Err(ZwsError::BadFlags(flags));
        }
        let command = flags & ZWS_COMMAND != 0;
        if command && self.mode == Subprotocol::Bare {
            return Err(ZwsError::CommandWithoutMechanism);
        }
        let header = if body.len() > usize::from(u8::MAX) {
            9
        } else {
            2
        };
        let Some(frame) = dst.get_mut(..header + body.len()) else {
            return self.message(msg, our_type).map(|()| 0);
        };
        let mut flags_out = 0;
        if flags & ZWS_MORE != 0 {
            flags_out |= FLAG_MORE;
        }
        if command {
            flags_out |= FLAG_COMMAND;
        }
        if header == 9 {
            frame[0] = flags_out | FLAG_LONG;
            frame[1..9].copy_from_slice(&(body.len() as u64).to_be_bytes());
        } else {
            frame[0] = flags_out;
            frame[1] = body.len() as u8;
        }
        frame[header..].copy_from_slice(body);
        Ok(frame.len())
    }

    /// Our socket type is known: a routing id that waited for it becomes
    /// the peer's READY.
    pub fn set_our_type(&mut self, ours: SocketType) {
        let Some(id) = self.pending_id.take() else {
            return;
        };
        let mut metadata = Metadata::new();
        // Both insertions are within the limits (a known name, a routing id
        // of at most 255 bytes): they cannot fail.
        let _ = metadata.insert(
            "Socket-Type",
            Bytes::from_static(peer_type(ours).as_bytes()),
        );
        if !id.is_empty() {
            let _ = metadata.insert("Identity", id);
        }
        // Encoding a READY of valid metadata cannot fail either.
        let _ = Command::Ready(metadata).encode_frame(&mut self.out);
    }

    /// A pong from the peer (to a PING sent as a WebSocket ping, without a
    /// mechanism): a PONG for the engine.
    pub fn pong(&mut self, payload: &[u8]) {
        if self.mode == Subprotocol::Bare && self.pending_id.is_none() && self.started {
            let context = Bytes::copy_from_slice(&payload[..payload.len().min(16)]);
            let _ = Command::Pong { context }.encode_frame(&mut self.out);
        }
    }
}

/// A socket type that `ours` accepts as peer, for a peer that announced
/// none (ZWS2.0 without mechanism). The patterns do not depend on which.
fn peer_type(ours: SocketType) -> SocketType {
    match ours {
        SocketType::Pub | SocketType::XPub => SocketType::Sub,
        SocketType::Sub | SocketType::XSub => SocketType::Pub,
        SocketType::Req => SocketType::Router,
        SocketType::Rep | SocketType::Router => SocketType::Dealer,
        SocketType::Dealer => SocketType::Dealer,
        SocketType::Push => SocketType::Pull,
        SocketType::Pull => SocketType::Push,
        _ => ours,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use smolmq_zmtp::{FrameDecoder, Version};

    /// ZMTP bytes of one frame.
    fn zmtp(body: &[u8], more: bool, command: bool) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode_header(&mut out, body.len(), more, command);
        out.extend_from_slice(body);
        out.to_vec()
    }

    fn message(out: Option<Outgoing>) -> Vec<u8> {
        match out {
            Some(Outgoing::Message(m)) => m.to_vec(),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn ready(kind: &str, id: &[u8]) -> Vec<u8> {
        let mut md = Metadata::new();
        md.insert("Socket-Type", Bytes::copy_from_slice(kind.as_bytes()))
            .unwrap();
        if !id.is_empty() {
            md.insert("Identity", Bytes::copy_from_slice(id)).unwrap();
        }
        let mut out = BytesMut::new();
        Command::Ready(md).encode_frame(&mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn a_long_frame_keeps_its_body() {
        let mut out = Outbound::new(Subprotocol::Null);
        out.push(&[0; GREETING_LEN]);
        let body = vec![7; 300];
        out.push(&zmtp(&body, false, false));
        let m = message(out.next_outgoing());
        assert_eq!(m[0], 0);
        assert_eq!(&m[1..], &body[..]);
    }

    #[test]
    fn frames_split_anywhere_come_out_whole() {
        let mut bytes = vec![0; GREETING_LEN];
        bytes.extend(zmtp(b"abc", true, false));
        bytes.extend(zmtp(&[9; 1000], false, false));
        for cut in 0..bytes.len() {
            let mut out = Outbound::new(Subprotocol::Null);
            out.push(&bytes[..cut]);
            let mut got = Vec::new();
            while let Some(m) = out.next_outgoing() {
                got.push(m);
            }
            out.push(&bytes[cut..]);
            while let Some(m) = out.next_outgoing() {
                got.push(m);
            }
            assert_eq!(got.len(), 2, "cut at {cut}");
        }
    }

    #[test]
    fn drain_gives_what_next_outgoing_gives() {
        let mut bytes = vec![0; GREETING_LEN];
        bytes.extend(ready("DEALER", b"me"));
        bytes.extend(zmtp(b"abc", true, false));
        bytes.extend(zmtp(&[9; 1000], false, false));
        let mut frames = BytesMut::new();
        Command::Subscribe(Bytes::from_static(b"t"))
            .encode_frame(&mut frames)
            .unwrap();
        Command::Ping {
            ttl: 0,
            context: Bytes::from_static(b"c"),
        }
        .encode_frame(&mut frames)
        .unwrap();
        bytes.extend(&frames[..]);
        for mode in [Subprotocol::Null, Subprotocol::Bare] {
            let mut a = Outbound::new(mode);
            let mut b = Outbound::new(mode);
            a.push(&bytes);
            b.push(&bytes);
            let mut expected = Vec::new();
            while let Some(out) = a.next_outgoing() {
                expected.push(match out {
                    Outgoing::Message(m) => (OP_BINARY, m.to_vec()),
                    Outgoing::Ping(p) => (OP_PING, p.to_vec()),
                });
            }
            let joined = |op: u8, head: Option<u8>, body: &[u8]| {
                let mut p: Vec<u8> = head.into_iter().collect();
                p.extend_from_slice(body);
                (op, p)
            };
            let mut got = Vec::new();
            b.drain(|op, head, body| got.push(joined(op, head, body)));
            assert_eq!(got, expected, "{mode:?}");
            assert_eq!(b.our_type(), Some(SocketType::Dealer));
            // Written through, cut anywhere: the same.
            for cut in 0..bytes.len() {
                let mut c = Outbound::new(mode);
                let mut got = Vec::new();
                c.write(&bytes[..cut], |op, head, body| {
                    got.push(joined(op, head, body))
                });
                c.write(&bytes[cut..], |op, head, body| {
                    got.push(joined(op, head, body))
                });
                assert_eq!(got, expected, "{mode:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn subscriptions_become_messages() {
        let mut out = Outbound::new(Subprotocol::Null);
        out.push(&[0; GREETING_LEN]);
        let mut frames = BytesMut::new();
        Command::Subscribe(Bytes::from_static(b"news"))
            .encode_frame(&mut frames)
            .unwrap();
        Command::Cancel(Bytes::from_static(b"news"))
            .encode_frame(&mut frames)
            .unwrap();
        out.push(&frames);
        assert_eq!(message(out.next_outgoing()), b"\x00\x01news");
        assert_eq!(message(out.next_outgoing()), b"\x00\x00news");
    }

    #[test]
    fn commands_keep_the_command_flag_with_a_mechanism() {
        let mut out = Outbound::new(Subprotocol::Null);
        out.push(&[0; GREETING_LEN]);
        out.push(&ready("PAIR", b""));
        let m = message(out.next_outgoing());
        assert_eq!(m[0], ZWS_COMMAND);
        assert_eq!(&m[1..7], b"\x05READY");
        // Known even so: a NULL peer may turn out to have no mechanism.
        assert_eq!(out.our_type(), Some(SocketType::Pair));
    }

    #[test]
    fn without_mechanism_ready_becomes_the_routing_id_and_back() {
        let mut out = Outbound::new(Subprotocol::Bare);
        out.push(&[0; GREETING_LEN]);
        out.push(&ready("DEALER", b"me"));
        assert_eq!(message(out.next_outgoing()), b"\x00me");
        assert_eq!(out.our_type(), Some(SocketType::Dealer));
        // A PING is a WebSocket ping; a PONG has no form and is dropped.
        let mut frames = BytesMut::new();
        Command::Ping {
            ttl: 0,
            context: Bytes::from_static(b"c"),
        }
        .encode_frame(&mut frames)
        .unwrap();
        Command::Pong {
            context: Bytes::new(),
        }
        .encode_frame(&mut frames)
        .unwrap();
        out.push(&frames);
        out.push(&zmtp(b"x", false, false));
        assert_eq!(
            out.next_outgoing(),
            Some(Outgoing::Ping(Bytes::from_static(b"c")))
        );
        assert_eq!(message(out.next_outgoing()), b"\x00x");

        // The peer's routing id waits for our type, then is a READY.
        let mut inbound = Inbound::new(Subprotocol::Bare);
        inbound.consume(GREETING_LEN);
        inbound.message(b"\x00peer", None).unwrap();
        assert!(inbound.waits_for_our_type());
        assert!(inbound.pending().is_empty());
        inbound.set_our_type(SocketType::Dealer);
        let mut buf = BytesMut::from(inbound.pending());
        let frame = FrameDecoder::new(u64::MAX)
            .decode(&mut buf)
            .unwrap()
            .unwrap();
        let Ok(Command::Ready(md)) = frame.into_command() else {
            panic!("a READY");
        };
        assert_eq!(md.identity().unwrap(), &b"peer"[..]);
        assert_eq!(md.socket_type(), Some(Ok(SocketType::Dealer)));
    }

    #[test]
    fn a_null_peer_that_starts_with_a_message_speaks_without_mechanism() {
        let mut inbound = Inbound::new(Subprotocol::Null);
        inbound.message(b"\x00", Some(SocketType::Pair)).unwrap();
        assert!(inbound.is_bare());
        assert!(!inbound.waits_for_our_type());
        assert_eq!(
            inbound.message(b"\x02\x04PING", None),
            Err(ZwsError::CommandWithoutMechanism)
        );
    }

    #[test]
    fn message_into_writes_what_message_stages() {
        let msgs: [&[u8]; 5] = [
            b"\x02\x05READY",
            b"\x01a",
            b"\x00",
            &[0; 300],
            b"\x02\x04PING",
        ];
        let mut staged = Inbound::new(Subprotocol::Null);
        let mut direct = Inbound::new(Subprotocol::Null);
        let mut written = Vec::new();
        let mut dst = [0u8; 1024];
        for (i, m) in msgs.iter().enumerate() {
            staged.message(m, None).unwrap();
            // A small destination now and then: the frame is staged.
            let room = if i == 3 { 10 } else { dst.len() };
            let n = direct.message_into(m, None, &mut dst[..room]).unwrap();
            if n == 0 {
                written.extend_from_slice(direct.pending());
                let all = direct.pending().len();
                direct.consume(all);
            } else {
                written.extend_from_slice(&dst[..n]);
            }
        }
        assert_eq!(&written[..], staged.pending());
    }

    #[test]
    fn bad_messages_are_refused() {
        let mut inbound = Inbound::new(Subprotocol::Null);
        assert_eq!(inbound.message(b"", None), Err(ZwsError::EmptyMessage));
        assert_eq!(inbound.message(b"\x03x", None), Err(ZwsError::BadFlags(3)));
        assert_eq!(
            inbound.message(b"\x80x", None),
            Err(ZwsError::BadFlags(0x80))
        );
        let mut bare = Inbound::new(Subprotocol::Bare);
        let mut long = vec![0];
        long.extend([1; 256]);
        assert_eq!(
            bare.message(&long, None),
            Err(ZwsError::RoutingIdTooLong(256))
        );
    }

    #[test]
    fn the_made_up_greeting_names_the_mechanism() {
        for (mode, mechanism) in [
            (Subprotocol::Null, Mechanism::Null),
            (Subprotocol::Bare, Mechanism::Null),
            (Subprotocol::Plain, Mechanism::Plain),
        ] {
            let inbound = Inbound::new(mode);
            let mut buf = BytesMut::from(inbound.pending());
            let greeting = smolmq_zmtp::GreetingDecoder::new()
                .decode(&mut buf)
                .unwrap()
                .unwrap();
            assert_eq!(greeting.mechanism, mechanism);
            assert_eq!(greeting.version, Version::V3_1);
        }
    }

    proptest! {
        /// Frames through Outbound then Inbound come out as the same ZMTP
        /// frames, however the bytes were split.
        #[test]
        fn round_trip(
            frames in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..600), any::<bool>()), 0..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut zmtp_bytes = Vec::new();
            for (body, more) in &frames {
                zmtp_bytes.extend(zmtp(body, *more, false));
            }
            let mut all = vec![0; GREETING_LEN];
            all.extend(&zmtp_bytes);
            let cut = cut.index(all.len() + 1);
            let mut out = Outbound::new(Subprotocol::Null);
            let mut inbound = Inbound::new(Subprotocol::Null);
            inbound.consume(GREETING_LEN);
            // A first command, so that the peer is not taken as bare.
            inbound.message(b"\x02\x04NOOP", None).unwrap();
            let skip = inbound.pending().len();
            inbound.consume(skip);
            for part in [&all[..cut], &all[cut..]] {
                out.push(part);
                while let Some(m) = out.next_outgoing() {
                    let Outgoing::Message(m) = m else { panic!("a message") };
                    inbound.message(&m, None).unwrap();
                }
            }
            prop_assert_eq!(inbound.pending(), &zmtp_bytes[..]);
        }

        /// Whatever a peer sends, Inbound answers without panicking, and
        /// what it accepts is valid ZMTP.
        #[test]
        fn any_message_is_handled(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
            bare in any::<bool>(),
        ) {
            let mode = if bare { Subprotocol::Bare } else { Subprotocol::Null };
            let mut inbound = Inbound::new(mode);
            inbound.consume(GREETING_LEN);
            for m in &msgs {
                if inbound.message(m, Some(SocketType::Pair)).is_err() {
                    break;
                }
            }
            let mut buf = BytesMut::from(inbound.pending());
            let mut decoder = FrameDecoder::new(u64::MAX);
            while !buf.is_empty() {
                prop_assert!(decoder.decode(&mut buf).unwrap().is_some());
            }
        }
    }
}
