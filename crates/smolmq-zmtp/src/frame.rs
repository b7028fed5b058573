//! Frames: the unit of traffic after the greeting, and the incremental,
//! zero-copy frame decoder.
//!
//! ```text
//! short frame:  flags (bit 1 = 0)  size (1 octet)            body
//! long frame:   flags (bit 1 = 1)  size (8 octets, big end)  body
//! flags: bit 0 MORE, bit 1 LONG, bit 2 COMMAND, bits 3-7 reserved (zero)
//! ```

use crate::command::{Command, CommandError};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;

/// Flag bit: more frames of this message follow.
pub const FLAG_MORE: u8 = 0x01;
/// Flag bit: the size field is 8 octets.
pub const FLAG_LONG: u8 = 0x02;
/// Flag bit: the frame carries a command.
pub const FLAG_COMMAND: u8 = 0x04;
/// Flag bits 3-7, reserved: must be zero.
pub const FLAGS_RESERVED: u8 = 0xF8;

/// Largest body sent in a short frame; larger bodies use the long form.
pub const MAX_SHORT_SIZE: usize = 255;
/// Longest frame header (flags + 8-octet size).
pub const MAX_HEADER_LEN: usize = 9;

/// The largest per-frame limit a decoder accepts: a frame of this size and
/// its header still fit in `isize::MAX` bytes.
pub const MAX_FRAME_SIZE_LIMIT: u64 = isize::MAX as u64 - MAX_HEADER_LEN as u64;

/// Most a decoder reserves at once for the rest of a partial frame (1 MiB).
///
/// A frame up to this size gets room for all of it as soon as its header is
/// in, so one read can complete it; a larger frame gets this much, and the
/// buffer grows (doubling) as its body arrives. A peer thus cannot make a
/// connection allocate a huge frame with a 9-byte header alone.
pub const MAX_RESERVE_AHEAD: usize = 1 << 20;

/// One frame: a message part or a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// More frames of the same message follow (always false on a command).
    pub more: bool,
    /// The frame carries a command rather than message data.
    pub command: bool,
    /// The body, usually a slice of the read buffer.
    pub body: Bytes,
}

impl Frame {
    /// A message frame.
    pub fn message(body: impl Into<Bytes>, more: bool) -> Frame {
        Frame {
            more,
            command: false,
            body: body.into(),
        }
    }

    /// Parses a command frame's body; an error if this is a message frame
    /// or the body is malformed.
    pub fn into_command(self) -> Result<Command, CommandError> {
        if !self.command {
            return Err(CommandError::NotACommand);
        }
        Command::decode(self.body)
    }

    /// Length of the frame on the wire (header and body).
    pub fn wire_len(&self) -> usize {
        header_len(self.body.len()) + self.body.len()
    }

    /// Appends the frame (header and a copy of the body) to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.wire_len());
        encode_header(out, self.body.len(), self.more, self.command);
        out.put_slice(&self.body);
    }
}

/// Length of the header of a frame whose body is `size` bytes: 2 if it
/// fits the short form, 9 otherwise.
pub fn header_len(size: usize) -> usize {
    if size <= MAX_SHORT_SIZE {
        2
    } else {
        MAX_HEADER_LEN
    }
}

/// Appends a frame header (flags and size) for a body of `size` bytes,
/// choosing the short form for bodies of up to 255 bytes, as libzmq does.
pub fn encode_header(out: &mut impl BufMut, size: usize, more: bool, command: bool) {
    let mut flags = 0;
    if more {
        flags |= FLAG_MORE;
    }
    if command {
        flags |= FLAG_COMMAND;
    }
    if size <= MAX_SHORT_SIZE {
        out.put_slice(&[flags, size as u8]);
    } else {
        let mut header = [0; MAX_HEADER_LEN];
        header[0] = flags | FLAG_LONG;
        header[1..].copy_from_slice(&(size as u64).to_be_bytes());
        out.put_slice(&header);
    }
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A reserved flag bit (3-7) is set.
    ReservedFlags {
        /// The flags byte received.
        flags: u8,
    },
    /// A command frame has the MORE bit set (RFC 37: it SHALL be zero).
    MoreOnCommand {
        /// The flags byte received.
        flags: u8,
    },
    /// The size header announces a frame larger than the decoder's limit.
    /// Nothing of the body has been buffered or allocated.
    TooLarge {
        /// Size announced by the header.
        size: u64,
        /// The decoder's per-frame limit.
        max: u64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::ReservedFlags { flags } => {
                write!(f, "frame flags {flags:#04x} set reserved bits 3-7")
            }
            DecodeError::MoreOnCommand { flags } => {
                write!(
                    f,
                    "command frame with the MORE flag set (flags {flags:#04x})"
                )
            }
            DecodeError::TooLarge { size, max } => write!(
                f,
                "frame of {size} bytes exceeds the maximum frame size of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Cuts frames out of a read buffer.
///
/// `max_frame_size` bounds each frame's body, like libzmq's
/// `ZMQ_MAXMSGSIZE` (which, for ZMTP 3, libzmq also applies per frame). A
/// frame whose size header exceeds it is refused as soon as the header is
/// in, before any of its body is buffered. Values above
/// [`MAX_FRAME_SIZE_LIMIT`] are lowered to it.
///
/// The decoder keeps no state between calls besides the limit: a partial
/// frame simply stays in the buffer until the rest arrives, so input may be
/// split at any byte. When the header of a partial frame is in, `decode`
/// reserves room in the buffer for the rest of the frame (at most
/// [`MAX_RESERVE_AHEAD`] at a time, and never beyond `max_frame_size` plus
/// the header), so the next read can bring it in at once.
///
/// ```
/// use bytes::BytesMut;
/// use smolmq_zmtp::{DecodeError, FrameDecoder};
///
/// let mut decoder = FrameDecoder::new(1024);
/// let mut input = BytesMut::from(&b"\x01\x05hello\x00\x05wor"[..]);
/// let first = decoder.decode(&mut input).unwrap().unwrap();
/// assert!(first.more);
/// assert_eq!(&first.body[..], b"hello");
/// assert_eq!(decoder.decode(&mut input), Ok(None)); // half a frame
/// input.extend_from_slice(b"ld");
/// assert_eq!(&decoder.decode(&mut input).unwrap().unwrap().body[..], b"world");
///
/// // 2000 bytes announced: refused from the header alone.
/// let mut input = BytesMut::from(&b"\x02\0\0\0\0\0\0\x07\xd0"[..]);
/// assert_eq!(
///     decoder.decode(&mut input),
///     Err(DecodeError::TooLarge { size: 2000, max: 1024 })
/// );
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    /// Largest body accepted.
    max_frame_size: u64,
}

impl FrameDecoder {
    /// A decoder refusing frames whose body exceeds `max_frame_size` bytes.
    pub fn new(max_frame_size: u64) -> FrameDecoder {
        FrameDecoder {
            max_frame_size: max_frame_size.min(MAX_FRAME_SIZE_LIMIT),
        }
    }

    /// The per-frame limit in force.
    pub fn max_frame_size(&self) -> u64 {
        self.max_frame_size
    }

    /// Takes the next complete frame out of `input`, or returns `None` and
    /// leaves `input` as it was (save for reserved capacity) if the frame is
    /// not all there yet. The body is split off `input` without a copy.
    ///
    /// After an error the stream cannot be resynchronised: close the
    /// connection.
    #[inline]
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        let Some(header) = self.complete_header(input)? else {
            return Ok(None);
        };
        input.advance(header.header_len);
        let body = input.split_to(header.body_len).freeze();
        Ok(Some(Frame {
            more: header.more,
            command: header.command,
            body,
        }))
    }

    /// Borrows the next complete frame where it lies in `input`, without
    /// taking it: the caller copies what it needs, then consumes the frame
    /// with `input.advance(wire_len)` once the view is dropped (or takes it
    /// as a [`Frame`] with [`decode`](FrameDecoder::decode)). Returns `None`
    /// if the frame is not all there yet.
    ///
    /// For small frames, copying the body out and advancing is cheaper than
    /// [`decode`](FrameDecoder::decode)'s slice: a `Bytes` slice shares the
    /// read buffer's reference count, which the thread that drops the frame
    /// then has to touch. The checks and reservations are the same as
    /// `decode`'s: an over-limit header is refused before its body is
    /// buffered, and at most [`MAX_RESERVE_AHEAD`] is reserved at a time.
    ///
    /// ```
    /// use bytes::{Buf, BytesMut};
    /// use smolmq_zmtp::FrameDecoder;
    ///
    /// let mut decoder = FrameDecoder::new(1024);
    /// let mut input = BytesMut::from(&b"\x00\x02hi\x01\x03"[..]);
    /// let view = decoder.peek(&mut input).unwrap().unwrap();
    /// assert_eq!((view.body, view.more, view.wire_len), (&b"hi"[..], false, 4));
    /// let (copy, wire_len) = (view.body.to_vec(), view.wire_len);
    /// input.advance(wire_len);
    /// assert_eq!(copy, b"hi");
    /// // The next frame is not complete: nothing to peek at yet.
    /// assert_eq!(decoder.peek(&mut input), Ok(None));
    /// assert_eq!(&input[..], b"\x01\x03");
    /// ```
    #[inline]
    pub fn peek<'a>(
        &mut self,
        input: &'a mut BytesMut,
    ) -> Result<Option<FrameView<'a>>, DecodeError> {
        let Some(header) = self.complete_header(input)? else {
            return Ok(None);
        };
        let wire_len = header.header_len + header.body_len;
        Ok(Some(FrameView {
            more: header.more,
            command: header.command,
            body: &input[header.header_len..wire_len],
            wire_len,
        }))
    }

    /// Like [`peek`](FrameDecoder::peek), on any byte slice (for a decode
    /// loop that keeps its own cursor into the read buffer and advances it
    /// once per batch), but without reserving anything: when it returns
    /// `None`, call `peek` or `decode` on the buffer (from the frame's
    /// start) to reserve room for the rest of the frame.
    ///
    /// ```
    /// use smolmq_zmtp::FrameDecoder;
    ///
    /// let decoder = FrameDecoder::new(1024);
    /// let wire = b"\x01\x01a\x00\x01b\x00";
    /// let mut pos = 0;
    /// let mut bodies = Vec::new();
    /// while let Some(view) = decoder.peek_slice(&wire[pos..]).unwrap() {
    ///     bodies.push(view.body);
    ///     pos += view.wire_len;
    /// }
    /// assert_eq!(bodies, [b"a", b"b"]);
    /// assert_eq!(pos, 6); // a partial frame is left
    /// ```
    #[inline]
    pub fn peek_slice<'a>(&self, input: &'a [u8]) -> Result<Option<FrameView<'a>>, DecodeError> {
        let Some(header) = self.parse_header(input)? else {
            return Ok(None);
        };
        let wire_len = header.header_len + header.body_len;
        let Some(body) = input.get(header.header_len..wire_len) else {
            return Ok(None);
        };
        Ok(Some(FrameView {
            more: header.more,
            command: header.command,
            body,
            wire_len,
        }))
    }

    /// Parses and checks the header of the next frame, which need not be
    /// all there: for a caller that reads a large body straight into a
    /// buffer of its own rather than through `input`. `None` if the header
    /// itself is not complete. The per-frame limit is checked here, as in
    /// [`decode`](FrameDecoder::decode); nothing is reserved.
    ///
    /// ```
    /// use smolmq_zmtp::FrameDecoder;
    ///
    /// let decoder = FrameDecoder::new(1 << 20);
    /// // A long frame of 100 000 bytes, of which only the header arrived.
    /// let mut wire = vec![0x02];
    /// wire.extend_from_slice(&100_000u64.to_be_bytes());
    /// let header = decoder.peek_header(&wire).unwrap().unwrap();
    /// assert_eq!((header.header_len, header.body_len, header.more), (9, 100_000, false));
    /// assert_eq!(decoder.peek_header(&wire[..4]), Ok(None));
    /// ```
    #[inline]
    pub fn peek_header(&self, input: &[u8]) -> Result<Option<FrameHeader>, DecodeError> {
        self.parse_header(input)
    }

    /// Parses the header at the front of `input` and checks it; `None`
    /// (after reserving room for the rest) unless the whole frame is in.
    #[inline]
    fn complete_header(&self, input: &mut BytesMut) -> Result<Option<FrameHeader>, DecodeError> {
        let Some(header) = self.parse_header(input)? else {
            return Ok(None);
        };
        let total = header.header_len + header.body_len;
        if input.len() < total {
            input.reserve((total - input.len()).min(MAX_RESERVE_AHEAD));
            return Ok(None);
        }
        Ok(Some(header))
    }

    /// Parses and checks the header at the front of `input`; `None` if the
    /// header itself is not all there. The body may not be.
    #[inline]
    fn parse_header(&self, input: &[u8]) -> Result<Option<FrameHeader>, DecodeError> {
        let Some(&flags) = input.first() else {
            return Ok(None);
        };
        if flags & FLAGS_RESERVED != 0 {
            return Err(DecodeError::ReservedFlags { flags });
        }
        let more = flags & FLAG_MORE != 0;
        let command = flags & FLAG_COMMAND != 0;
        if more && command {
            return Err(DecodeError::MoreOnCommand { flags });
        }
        let (header, size) = if flags & FLAG_LONG == 0 {
            match input.get(1) {
                Some(&size) => (2, u64::from(size)),
                None => return Ok(None),
            }
        } else {
            match input.get(1..MAX_HEADER_LEN) {
                Some(size) => {
                    let mut be = [0; 8];
                    be.copy_from_slice(size);
                    (MAX_HEADER_LEN, u64::from_be_bytes(be))
                }
                None => return Ok(None),
            }
        };
        if size > self.max_frame_size {
            return Err(DecodeError::TooLarge {
                size,
                max: self.max_frame_size,
            });
        }
        // size <= MAX_FRAME_SIZE_LIMIT, so neither this nor the sum with
        // the header truncates or overflows.
        let size = size as usize;
        Ok(Some(FrameHeader {
            more,
            command,
            header_len: header,
            body_len: size,
        }))
    }
}

/// The checked header of a frame: [`FrameDecoder::peek_header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// More frames of the same message follow (always false on a command).
    pub more: bool,
    /// The frame carries a command rather than message data.
    pub command: bool,
    /// Length of the header: 2 or 9.
    pub header_len: usize,
    /// Length of the body, within the decoder's limit.
    pub body_len: usize,
}

/// A complete frame still in the read buffer: [`FrameDecoder::peek`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameView<'a> {
    /// More frames of the same message follow (always false on a command).
    pub more: bool,
    /// The frame carries a command rather than message data.
    pub command: bool,
    /// The body, borrowed from the buffer.
    pub body: &'a [u8],
    /// Bytes the frame takes at the front of the buffer (header and body):
    /// what to `advance` past it.
    pub wire_len: usize,
}
