//! WebSocket framing (RFC 6455, section 5), sans-IO: the data path's
//! frames after the upgrade.
//!
//! tungstenite does the upgrade; the frames are this module's, because
//! its per-message costs measured too high for the data path (see the
//! crate docs, "How it is built"). What it checks of a peer's frames: no
//! RSV bits (no extension is negotiated), a known opcode, control frames
//! whole and at most 125 bytes, masked frames from a client and unmasked
//! ones from a server, a 64-bit length with its top bit clear, and a
//! payload within the limit, checked from the header before the payload
//! is buffered.

use bytes::{Buf, BytesMut};
use std::fmt;

/// Continuation of a fragmented message.
pub const OP_CONTINUATION: u8 = 0x0;
/// A text message (refused by ZWS, which is binary).
pub const OP_TEXT: u8 = 0x1;
/// A binary message.
pub const OP_BINARY: u8 = 0x2;
/// Close.
pub const OP_CLOSE: u8 = 0x8;
/// Ping.
pub const OP_PING: u8 = 0x9;
/// Pong.
pub const OP_PONG: u8 = 0xA;

/// Close status (RFC 6455, section 7.4.1): a normal closure.
pub const CLOSE_NORMAL: u16 = 1000;
/// Close status: the peer broke the protocol.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close status: data of a type we do not take (a text message).
pub const CLOSE_UNSUPPORTED_DATA: u16 = 1003;
/// Close status: a message too big to process.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// The most a frame header takes: 2 bytes, 8 of length, 4 of mask.
pub const MAX_HEADER_LEN: usize = 14;

/// What is reserved ahead for a payload that has not arrived yet: a
/// lying header cannot make the connection allocate its claim at once.
const MAX_RESERVE_AHEAD: usize = 1 << 20;

/// Which end of the connection we are: a client masks what it sends and
/// takes unmasked frames, a server the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We sent the upgrade request.
    Client,
    /// We answered it.
    Server,
}

/// A peer's frame that RFC 6455 (or our limit) does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// RSV1, RSV2 or RSV3 set, with no extension negotiated.
    ReservedBits(u8),
    /// An opcode RFC 6455 does not define.
    UnknownOpcode(u8),
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControlFrame,
    /// An unmasked frame from a client, or a masked one from a server.
    Masking {
        /// Whether the frame was masked.
        masked: bool,
    },
    /// A 64-bit length with the top bit set.
    BadLength,
    /// A payload (or a message, with its fragments) over the limit.
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A continuation frame without a message to continue, or a new
    /// message before the last one ended.
    BadFragment,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::ReservedBits(bits) => write!(
                f,
                "WebSocket frame with reserved bits {bits:#04x} set (no extension was negotiated)"
            ),
            FrameError::UnknownOpcode(op) => {
                write!(f, "WebSocket frame with unknown opcode {op:#x}")
            }
            FrameError::BadControlFrame => {
                f.write_str("a fragmented or over-long (> 125 bytes) WebSocket control frame")
            }
            FrameError::Masking { masked: false } => {
                f.write_str("an unmasked WebSocket frame from a client (RFC 6455 requires masking)")
            }
            FrameError::Masking { masked: true } => {
                f.write_str("a masked WebSocket frame from a server (RFC 6455 forbids it)")
            }
            FrameError::BadLength => f.write_str("a WebSocket frame length with its top bit set"),
            FrameError::TooLarge { size, max } => write!(
                f,
                "a WebSocket message of {size} bytes, over the limit of {max} (MAXMSGSIZE + 1)"
            ),
            FrameError::BadFragment => f.write_str("WebSocket fragments out of order"),
        }
    }
}

impl std::error::Error for FrameError {}

impl FrameError {
    /// The status our Close frame gives for this error:
    /// [`CLOSE_TOO_BIG`] for [`FrameError::TooLarge`],
    /// [`CLOSE_PROTOCOL_ERROR`] for the others.
    ///
    /// ```
    /// use smolmq_ws::frame::{FrameError, CLOSE_TOO_BIG};
    /// assert_eq!(FrameError::TooLarge { size: 10, max: 5 }.close_code(), CLOSE_TOO_BIG);
    /// ```
    pub fn close_code(&self) -> u16 {
        match self {
            FrameError::TooLarge { .. } => CLOSE_TOO_BIG,
            _ => CLOSE_PROTOCOL_ERROR,
        }
    }
}

/// What [`FrameDecoder::decode_in_place`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A whole frame.
    Frame(FrameAt),
    /// Not yet: the frame needs this many bytes from the buffer's start.
    Need(usize),
}

/// A whole frame where it lies in a buffer, its payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameAt {
    /// The last frame of its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// Where the payload is; the frame ends where it ends.
    pub payload: std::ops::Range<usize>,
}

/// A decoded frame, unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The last frame of its message.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The payload, unmasked.
    pub payload: BytesMut,
}

/// Cuts a peer's frames out of a read buffer.
///
/// ```
/// use bytes::BytesMut;
/// use smolmq_ws::frame::{encode, FrameDecoder, Role, OP_BINARY};
///
/// let mut wire = BytesMut::new();
/// encode(&mut wire, OP_BINARY, b"\x00hi", Some([1, 2, 3, 4])); // a client's frame
/// let frame = FrameDecoder::new(Role::Server, 1024).decode(&mut wire)?.unwrap();
/// assert_eq!((frame.fin, frame.opcode, &frame.payload[..]), (true, OP_BINARY, &b"\x00hi"[..]));
/// # Ok::<(), smolmq_ws::frame::FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    /// Our role: what masking to expect.
    role: Role,
    /// The largest payload accepted.
    max_payload: u64,
}

impl FrameDecoder {
    /// A decoder for our `role`, taking payloads of at most `max_payload`
    /// bytes.
    pub fn new(role: Role, max_payload: u64) -> FrameDecoder {
        FrameDecoder { role, max_payload }
    }

    /// The next whole frame of `buf`, or `None` until one is there (room
    /// for the rest of it is reserved, at most 1 MiB ahead).
    ///
    /// # Errors
    ///
    /// A [`FrameError`] for a frame RFC 6455 or the limit does not allow;
    /// the connection is then unusable.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match self.decode_in_place(buf)? {
            Decoded::Frame(at) => {
                buf.advance(at.payload.start);
                let payload = buf.split_to(at.payload.len());
                Ok(Some(Frame {
                    fin: at.fin,
                    opcode: at.opcode,
                    payload,
                }))
            }
            Decoded::Need(need) => {
                buf.reserve((need - buf.len()).min(MAX_RESERVE_AHEAD));
                Ok(None)
            }
        }
    }

    /// The next frame at the start of `buf`, its payload unmasked where it
    /// lies, or how many bytes are needed for it. The caller drops the
    /// frame's bytes (`..at.payload.end`) before the next call: unmasking
    /// twice would mask again.
    ///
    /// # Errors
    ///
    /// As [`decode`](FrameDecoder::decode).
    pub fn decode_in_place(&self, buf: &mut [u8]) -> Result<Decoded, FrameError> {
        let Some(Header {
            len: header,
            payload: len,
            mask,
        }) = self.header(buf)?
        else {
            return Ok(Decoded::Need(buf.len() + 1));
        };
        let Some(whole) = usize::try_from(len)
            .ok()
            .and_then(|len| len.checked_add(header))
        else {
            return Err(FrameError::TooLarge {
                size: len,
                max: self.max_payload,
            });
        };
        if buf.len() < whole {
            return Ok(Decoded::Need(whole));
        }
        if let Some(mask) = mask {
            apply_mask(&mut buf[header..whole], mask);
        }
        Ok(Decoded::Frame(FrameAt {
            fin: buf[0] & 0x80 != 0,
            opcode: buf[0] & 0x0F,
            payload: header..whole,
        }))
    }

    /// The header at the start of `buf`, checked: its length, the
    /// payload's, the mask. `None` until it is whole.
    fn header(&self, buf: &[u8]) -> Result<Option<Header>, FrameError> {
        let [b0, b1, ..] = *buf else {
            return Ok(None);
        };
        if b0 & 0x70 != 0 {
            return Err(FrameError::ReservedBits(b0 & 0x70));
        }
        let opcode = b0 & 0x0F;
        let control = opcode & 0x08 != 0;
        match opcode {
            OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG => {}
            other => return Err(FrameError::UnknownOpcode(other)),
        }
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return Err(FrameError::Masking { masked });
        }
        let (mut at, len) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(b) => (4, u64::from(u16::from_be_bytes([b[0], b[1]]))),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(b) => {
                    let mut len = [0; 8];
                    len.copy_from_slice(b);
                    let len = u64::from_be_bytes(len);
                    if len >> 63 != 0 {
                        return Err(FrameError::BadLength);
                    }
                    (10, len)
                }
                None => return Ok(None),
            },
            short => (2, u64::from(short)),
        };
        if control && (b0 & 0x80 == 0 || len > 125) {
            return Err(FrameError::BadControlFrame);
        }
        if len > self.max_payload && !control {
            return Err(FrameError::TooLarge {
                size: len,
                max: self.max_payload,
            });
        }
        let mask = if masked {
            let Some(key) = buf.get(at..at + 4) else {
                return Ok(None);
            };
            at += 4;
            Some([key[0], key[1], key[2], key[3]])
        } else {
            None
        };
        Ok(Some(Header {
            len: at,
            payload: len,
            mask,
        }))
    }
}

/// A frame header, checked.
struct Header {
    /// Its length in bytes.
    len: usize,
    /// The payload's length.
    payload: u64,
    /// The masking key, for a client's frame.
    mask: Option<[u8; 4]>,
}

/// Appends one whole frame (FIN set): the header, then `payload`, masked
/// with `mask` if given (a client's frames).
pub fn encode(out: &mut BytesMut, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) {
    encode_parts(out, opcode, None, payload, mask);
}

/// As [`encode`], the payload being `head` (one byte, if given) then
/// `body`: a ZWS message is its flags byte and the ZMTP frame's body, taken
/// from wherever the engine wrote it.
pub fn encode_parts(
    out: &mut BytesMut,
    opcode: u8,
    head: Option<u8>,
    body: &[u8],
    mask: Option<[u8; 4]>,
) {
    let len = usize::from(head.is_some()) + body.len();
    // The header, the mask and the head byte are put together on the
    // stack and appended at once: one append for them and one for the
    // body (appending each piece cost about 120 instructions a message).
    let mut front = [0u8; MAX_HEADER_LEN + 1];
    front[0] = 0x80 | opcode;
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let mut at = if len < 126 {
        front[1] = mask_bit | len as u8;
        2
    } else if let Ok(len) = u16::try_from(len) {
        front[1] = mask_bit | 126;
        front[2..4].copy_from_slice(&len.to_be_bytes());
        4
    } else {
        front[1] = mask_bit | 127;
        front[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        10
    };
    if let Some(mask) = mask {
        front[at..at + 4].copy_from_slice(&mask);
        at += 4;
    }
    let payload_start = out.len() + at;
    if let Some(head) = head {
        front[at] = head;
        at += 1;
    }
    out.reserve(at + body.len());
    out.extend_from_slice(&front[..at]);
    out.extend_from_slice(body);
    if let Some(mask) = mask {
        apply_mask(&mut out[payload_start..], mask);
    }
}

/// XORs `buf` with the repeated 4-byte `mask`, from the mask's start.
pub fn apply_mask(buf: &mut [u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut b = [0; 8];
        b.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(b) ^ word).to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(role: Role, wire: &[u8], max: u64) -> Result<Vec<Frame>, FrameError> {
        let mut buf = BytesMut::from(wire);
        let d = FrameDecoder::new(role, max);
        let mut out = Vec::new();
        while let Some(f) = d.decode(&mut buf)? {
            out.push(f);
        }
        Ok(out)
    }

    #[test]
    fn rfc_6455_examples() {
        // Section 5.7: a single-frame unmasked text message "Hello".
        let f = decode_all(Role::Client, b"\x81\x05\x48\x65\x6c\x6c\x6f", 100).unwrap();
        assert_eq!(&f[0].payload[..], b"Hello");
        assert_eq!(f[0].opcode, OP_TEXT);
        // A single-frame masked text message "Hello".
        let f = decode_all(
            Role::Server,
            b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
            100,
        )
        .unwrap();
        assert_eq!(&f[0].payload[..], b"Hello");
        // A fragmented unmasked text message.
        let f = decode_all(Role::Client, b"\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f", 100).unwrap();
        assert_eq!(
            (f[0].fin, f[1].fin, f[1].opcode),
            (false, true, OP_CONTINUATION)
        );
        // 256 bytes and 64 KiB binary messages, unmasked: the 16 and 64-bit
        // lengths.
        let mut wire = BytesMut::new();
        encode(&mut wire, OP_BINARY, &[0; 256], None);
        assert_eq!(&wire[..4], b"\x82\x7e\x01\x00");
        let mut wire = BytesMut::new();
        encode(&mut wire, OP_BINARY, &[0; 65536], None);
        assert_eq!(&wire[..10], b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00");
    }

    #[test]
    fn peers_frames_are_checked() {
        let check = |role, wire: &[u8]| decode_all(role, wire, 1000).unwrap_err();
        assert_eq!(
            check(Role::Client, b"\xc2\x00"),
            FrameError::ReservedBits(0x40)
        );
        assert_eq!(
            check(Role::Client, b"\x83\x00"),
            FrameError::UnknownOpcode(3)
        );
        assert_eq!(
            check(Role::Client, b"\x09\x00"),
            FrameError::BadControlFrame
        );
        assert_eq!(
            check(Role::Server, b"\x82\x00"),
            FrameError::Masking { masked: false }
        );
        assert_eq!(
            check(Role::Client, b"\x82\x80\0\0\0\0"),
            FrameError::Masking { masked: true }
        );
        assert_eq!(
            check(Role::Client, b"\x82\x7f\x80\0\0\0\0\0\0\0"),
            FrameError::BadLength
        );
        assert_eq!(
            check(Role::Client, b"\x82\x7e\x04\x00"),
            FrameError::TooLarge {
                size: 1024,
                max: 1000
            }
        );
        let mut long_ping = vec![0x89, 126, 0, 126];
        long_ping.extend([0; 126]);
        assert_eq!(check(Role::Client, &long_ping), FrameError::BadControlFrame);
    }

    #[test]
    fn a_lying_length_reserves_little() {
        let mut buf = BytesMut::from(&b"\x82\x7f\x00\x00\x00\x00\x10\x00\x00\x00"[..]);
        let d = FrameDecoder::new(Role::Client, u64::MAX >> 1);
        assert_eq!(d.decode(&mut buf), Ok(None));
        assert!(buf.capacity() <= MAX_RESERVE_AHEAD + 64);
    }

    proptest! {
        #[test]
        fn frames_round_trip_whatever_the_cuts(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70_000), 1..4),
            masked in any::<bool>(),
            mask in any::<[u8; 4]>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut wire = BytesMut::new();
            for p in &payloads {
                encode(&mut wire, OP_BINARY, p, masked.then_some(mask));
            }
            let role = if masked { Role::Server } else { Role::Client };
            let d = FrameDecoder::new(role, 1 << 20);
            let cut = cut.index(wire.len() + 1);
            let mut buf = BytesMut::from(&wire[..cut]);
            let mut got = Vec::new();
            while let Some(f) = d.decode(&mut buf).unwrap() {
                got.push(f.payload.to_vec());
            }
            buf.extend_from_slice(&wire[cut..]);
            while let Some(f) = d.decode(&mut buf).unwrap() {
                got.push(f.payload.to_vec());
            }
            prop_assert_eq!(got, payloads);
            prop_assert!(buf.is_empty());
        }

        #[test]
        fn any_bytes_decode_without_panic(
            wire in proptest::collection::vec(any::<u8>(), 0..300),
            server in any::<bool>(),
        ) {
            let role = if server { Role::Server } else { Role::Client };
            let _ = decode_all(role, &wire, 200);
        }

        #[test]
        fn masking_twice_is_the_identity(data in proptest::collection::vec(any::<u8>(), 0..100), mask in any::<[u8; 4]>()) {
            let mut buf = data.clone();
            apply_mask(&mut buf, mask);
            for (i, (a, b)) in buf.iter().zip(&data).enumerate() {
                prop_assert_eq!(*a, b ^ mask[i % 4]);
            }
            apply_mask(&mut buf, mask);
            prop_assert_eq!(buf, data);
        }
    }
}
