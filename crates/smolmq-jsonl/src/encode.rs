//! The line encoder: `[payload, "\n"]` as vectored writes, without copying.

use crate::decode::DEFAULT_MAX_LINE;
use bytes::Bytes;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice, Write};

/// The delimiter every payload is followed by.
const NEWLINE: &[u8] = b"\n";

/// The most slices [`LineEncoder::io_slices`] hands out at once: the usual
/// `IOV_MAX` of Linux and the BSDs (a `writev` with more fails).
pub const MAX_IO_SLICES: usize = 1024;

/// Checks that `payload` can be sent as one line.
///
/// Refused: an empty payload (receivers skip empty lines, so it would
/// vanish), a raw `\n` anywhere (it would end the line early), and a `\r` as
/// the last byte (receivers strip it as half of a CRLF). A `\r` elsewhere is
/// harmless to the framing and accepted. JSON produced by `serde_json`
/// (compact or pretty-printed after removing its newlines) never contains a
/// raw newline: inside strings they are escaped as `\n`.
pub fn check_payload(payload: &[u8]) -> Result<(), EncodeError> {
    if payload.is_empty() {
        return Err(EncodeError::Empty);
    }
    if let Some(offset) = memchr::memchr(b'\n', payload) {
        return Err(EncodeError::Newline { offset });
    }
    if payload.last() == Some(&b'\r') {
        return Err(EncodeError::TrailingCarriageReturn {
            offset: payload.len() - 1,
        });
    }
    Ok(())
}

/// The two slices of one line, `[payload, "\n"]`, for a vectored write.
///
/// The payload is checked with [`check_payload`]; nothing is copied.
///
/// ```
/// let line = smolmq_jsonl::encode(br#"{"jsonrpc":"2.0","method":"ping"}"#).unwrap();
/// let mut wire = Vec::new();
/// for slice in &line {
///     wire.extend_from_slice(slice);
/// }
/// assert_eq!(wire, b"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n");
/// assert!(smolmq_jsonl::encode(b"two\nlines").is_err());
/// ```
pub fn encode(payload: &[u8]) -> Result<[IoSlice<'_>; 2], EncodeError> {
    check_payload(payload)?;
    Ok([IoSlice::new(payload), IoSlice::new(NEWLINE)])
}

/// A queue of outgoing lines, written with vectored writes.
///
/// [`push`](Self::push) checks a payload and queues it (the [`Bytes`] is
/// kept, not copied); [`io_slices`](Self::io_slices) lists the queued lines
/// as `[payload, "\n", payload, "\n", ...]` for one `writev`, and
/// [`advance`](Self::advance) drops what the write took, also when it
/// stopped in the middle of a payload.
///
/// ```
/// use bytes::Bytes;
/// use smolmq_jsonl::LineEncoder;
///
/// let mut encoder = LineEncoder::new();
/// encoder.push(Bytes::from_static(b"{\"id\":1}")).unwrap();
/// encoder.push(Bytes::from_static(b"{\"id\":2}")).unwrap();
///
/// let mut wire = Vec::new();
/// while !encoder.is_empty() {
///     // A socket may take only part of it; `write_to` advances by what it took.
///     encoder.write_to(&mut wire).unwrap();
/// }
/// assert_eq!(wire, b"{\"id\":1}\n{\"id\":2}\n");
/// ```
#[derive(Debug, Clone)]
pub struct LineEncoder {
    /// Queued payloads; the front one may be partly written.
    queue: VecDeque<Bytes>,
    /// Bytes of the front line (payload and newline) already written.
    offset: usize,
    /// Bytes not yet written, over all queued lines (delimiters included).
    pending: usize,
    /// Longest payload accepted.
    max_line: usize,
}

impl Default for LineEncoder {
    /// An empty encoder refusing payloads over [`DEFAULT_MAX_LINE`].
    fn default() -> Self {
        LineEncoder::new()
    }
}

impl LineEncoder {
    /// An empty encoder refusing payloads over [`DEFAULT_MAX_LINE`] bytes
    /// (what a default [`LineDecoder`](crate::LineDecoder) accepts).
    pub fn new() -> Self {
        LineEncoder::with_max_line(DEFAULT_MAX_LINE)
    }

    /// An empty encoder refusing payloads over `max_line` bytes (set it to
    /// the peer's limit; `usize::MAX` for none).
    pub fn with_max_line(max_line: usize) -> Self {
        LineEncoder {
            queue: VecDeque::new(),
            offset: 0,
            pending: 0,
            max_line,
        }
    }

    /// Queues one payload as a line. Refuses what [`check_payload`] refuses
    /// and payloads longer than the maximum; a refused payload is not queued.
    pub fn push(&mut self, payload: Bytes) -> Result<(), EncodeError> {
        if payload.len() > self.max_line {
            return Err(EncodeError::TooLong {
                len: payload.len(),
                max: self.max_line,
            });
        }
        check_payload(&payload)?;
        self.pending += payload.len() + NEWLINE.len();
        self.queue.push_back(payload);
        Ok(())
    }

    /// Lines queued and not completely written yet.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when everything queued has been written.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Bytes still to write, delimiters included.
    pub fn pending_bytes(&self) -> usize {
        self.pending
    }

    /// Drops every queued line, written or not.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.offset = 0;
        self.pending = 0;
    }

    /// Appends the unwritten bytes as slices to `out`, in order, at most
    /// [`MAX_IO_SLICES`] of them; returns how many bytes they cover.
    ///
    /// Write them with one vectored write, then call
    /// [`advance`](Self::advance) with the number of bytes written.
    pub fn io_slices<'a>(&'a self, out: &mut Vec<IoSlice<'a>>) -> usize {
        let mut bytes = 0;
        let mut slices = 0;
        let mut skip = self.offset;
        for payload in &self.queue {
            for part in [&payload[..], NEWLINE] {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                if slices == MAX_IO_SLICES {
                    return bytes;
                }
                let part = &part[skip..];
                skip = 0;
                out.push(IoSlice::new(part));
                slices += 1;
                bytes += part.len();
            }
        }
        bytes
    }

    /// Marks `written` bytes as written: whole lines leave the queue, a
    /// partly written line stays at the front. Counts beyond
    /// [`pending_bytes`](Self::pending_bytes) are ignored.
    pub fn advance(&mut self, written: usize) {
        let mut left = written.min(self.pending);
        self.pending -= left;
        // Each turn finishes one line or uses up `left`.
        while left > 0 {
            let Some(front) = self.queue.front() else {
                break;
            };
            let rest = front.len() + NEWLINE.len() - self.offset;
            if left < rest {
                self.offset += left;
                return;
            }
            left -= rest;
            self.offset = 0;
            self.queue.pop_front();
        }
    }

    /// Writes as much as one vectored write takes to `writer` and advances
    /// past it; returns the bytes written (0 when the queue is empty).
    ///
    /// A convenience for blocking writers and tests; an engine with its own
    /// event loop uses [`io_slices`](Self::io_slices) and
    /// [`advance`](Self::advance) directly.
    pub fn write_to<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<usize> {
        if self.is_empty() {
            return Ok(0);
        }
        let mut slices = Vec::with_capacity((self.queue.len() * 2).min(MAX_IO_SLICES));
        self.io_slices(&mut slices);
        let written = writer.write_vectored(&slices)?;
        drop(slices);
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.advance(written);
        Ok(written)
    }
}

/// Why a payload cannot be sent as a line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The payload is empty; receivers skip empty lines.
    Empty,
    /// The payload contains a raw `\n`, which would end the line early.
    Newline {
        /// Offset of the first `\n` in the payload.
        offset: usize,
    },
    /// The payload ends with `\r`, which receivers strip as part of a CRLF.
    TrailingCarriageReturn {
        /// Offset of that `\r` (the payload's last byte).
        offset: usize,
    },
    /// The payload is longer than the encoder's maximum line length.
    TooLong {
        /// Length of the payload.
        len: usize,
        /// The maximum in force.
        max: usize,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Empty => f.write_str("empty payload: receivers skip empty lines"),
            EncodeError::Newline { offset } => {
                write!(f, "payload contains a raw newline at byte {offset}")
            }
            EncodeError::TrailingCarriageReturn { offset } => write!(
                f,
                "payload ends with a carriage return (byte {offset}), which receivers strip"
            ),
            EncodeError::TooLong { len, max } => write!(
                f,
                "payload of {len} bytes is longer than the maximum line length of {max} bytes"
            ),
        }
    }
}

impl std::error::Error for EncodeError {}
