//! The encoder: frames and commands batched into one write buffer, large
//! payloads passed through as their own segments for a vectored write.

use crate::command::{Command, CommandError};
use crate::frame::{encode_header, header_len, Frame, FLAG_MORE, MAX_SHORT_SIZE};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

/// Default size from which a payload is passed through rather than copied.
///
/// Below it, copying the payload into the batch is cheaper than an extra
/// `IoSlice` (the kernel pays per iovec segment too); above it, the copy
/// costs more than it saves. Measured over a Unix socket pair with 64 KiB
/// batches of equal frames (`writev`, a reader thread draining): copying
/// wins up to 4 KiB payloads (256 B: 6.8 vs 2.7 GB/s), passing through from
/// 8 KiB (8 KiB: 8.4 vs 6.4 GB/s; 64 KiB: 10.7 vs 5.5 GB/s). 8 KiB is also
/// libzmq's batch size.
pub const DEFAULT_COPY_THRESHOLD: usize = 8 * 1024;

/// Most slices [`Encoder::io_slices`] hands out at once: Linux's `IOV_MAX`.
pub const MAX_IO_SLICES: usize = 1024;

/// Once this many written bytes sit at the front of the batch buffer, and
/// they are at least half of it, the unwritten rest is moved to the front.
const COMPACT_AT: usize = 64 * 1024;

/// One run of bytes to write.
#[derive(Debug)]
enum Segment {
    /// The next `len` bytes of the batch buffer.
    Inline(usize),
    /// A payload passed through without a copy.
    Shared(Bytes),
}

/// Batches frames for writing.
///
/// Headers, commands and small payloads are copied into one buffer; a
/// payload of `copy_threshold` bytes or more is kept as its own `Bytes`
/// (a reference count, not a copy). [`Encoder::io_slices`] lists what is
/// left to write, in order, for `write_vectored`; [`Encoder::advance`]
/// drops what was written. Once everything is written the buffer is
/// cleared and reused: an encoder that keeps up allocates nothing in
/// steady state.
///
/// ```
/// use bytes::Bytes;
/// use smolmq_zmtp::Encoder;
///
/// let mut enc = Encoder::new(1024);
/// enc.frame(&Bytes::from_static(b"key"), true);
/// enc.frame(&Bytes::from(vec![7u8; 4096]), false); // passed through
/// assert_eq!(enc.len(), 2 + 3 + 9 + 4096);
///
/// let mut slices = Vec::new();
/// enc.io_slices(&mut slices);
/// assert_eq!(slices.len(), 2); // header+key+header, then the payload
/// drop(slices);
///
/// let mut wire = Vec::new();
/// while !enc.is_empty() {
///     enc.write_to(&mut wire).unwrap();
/// }
/// assert_eq!(&wire[..5], b"\x01\x03key");
/// ```
#[derive(Debug)]
pub struct Encoder {
    /// Copied bytes: headers, commands, small payloads.
    buf: BytesMut,
    /// Bytes at the front of `buf` already written.
    head: usize,
    /// What is left to write, in order.
    segments: VecDeque<Segment>,
    /// Payloads of at least this many bytes are not copied.
    copy_threshold: usize,
    /// Bytes left to write in all.
    len: usize,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new(DEFAULT_COPY_THRESHOLD)
    }
}

impl Encoder {
    /// An encoder that copies payloads shorter than `copy_threshold` and
    /// passes longer ones through. A threshold of 0 passes every non-empty
    /// payload through; `usize::MAX` copies everything.
    pub fn new(copy_threshold: usize) -> Encoder {
        Encoder::with_capacity(copy_threshold, 0)
    }

    /// Like [`Encoder::new`], with room for `capacity` copied bytes
    /// allocated up front.
    pub fn with_capacity(copy_threshold: usize, capacity: usize) -> Encoder {
        Encoder {
            buf: BytesMut::with_capacity(capacity),
            head: 0,
            segments: VecDeque::new(),
            copy_threshold,
            len: 0,
        }
    }

    /// The pass-through threshold.
    pub fn copy_threshold(&self) -> usize {
        self.copy_threshold
    }

    /// Bytes left to write.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether everything has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Capacity of the batch buffer (for checking that it is reused).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Adds a message frame. The body is copied if shorter than the
    /// threshold, otherwise cloned (a reference count increment).
    #[inline]
    pub fn frame(&mut self, body: &Bytes, more: bool) {
        let size = body.len();
        encode_header(&mut self.buf, size, more, false);
        let header = header_len(size);
        if size >= self.copy_threshold && size > 0 {
            self.push_inline(header);
            self.segments.push_back(Segment::Shared(body.clone()));
        } else {
            self.buf.extend_from_slice(body);
            self.push_inline(header + size);
        }
        self.len += header + size;
    }

    /// Adds a message frame, always copying the body.
    #[inline]
    pub fn frame_slice(&mut self, body: &[u8], more: bool) {
        let size = body.len();
        if size <= MAX_SHORT_SIZE {
            // The small-message path, written out: one reservation, the
            // two header bytes and the body appended. (Through the generic
            // `encode_header` this cost about 115 instructions per 64-byte
            // frame under callgrind.)
            let flags = if more { FLAG_MORE } else { 0 };
            self.buf.reserve(2 + size);
            self.buf.extend_from_slice(&[flags, size as u8]);
            self.buf.extend_from_slice(body);
            self.push_inline(2 + size);
            self.len += 2 + size;
            return;
        }
        encode_header(&mut self.buf, size, more, false);
        self.buf.extend_from_slice(body);
        self.push_inline(header_len(size) + size);
        self.len += header_len(size) + size;
    }

    /// Adds a whole message: every part but the last with MORE set.
    pub fn message(&mut self, parts: &[Bytes]) {
        if let Some((last, rest)) = parts.split_last() {
            for part in rest {
                self.frame(part, true);
            }
            self.frame(last, false);
        }
    }

    /// Adds a decoded frame as it is (a command frame stays a command).
    pub fn encode_frame(&mut self, frame: &Frame) {
        if frame.command {
            let size = frame.body.len();
            encode_header(&mut self.buf, size, false, true);
            self.buf.extend_from_slice(&frame.body);
            self.push_inline(header_len(size) + size);
            self.len += header_len(size) + size;
        } else {
            self.frame(&frame.body, frame.more);
        }
    }

    /// Adds a command frame (always copied). Nothing is added if a field is
    /// over its limit.
    pub fn command(&mut self, command: &Command) -> Result<(), CommandError> {
        let size = command.body_len()?;
        encode_header(&mut self.buf, size, false, true);
        command.put_body(&mut self.buf);
        self.push_inline(header_len(size) + size);
        self.len += header_len(size) + size;
        Ok(())
    }

    /// Appends to `out` a slice for each segment left to write, in order,
    /// until `out` holds [`MAX_IO_SLICES`] slices. Pass them to
    /// `write_vectored`, then call [`Encoder::advance`] with the count
    /// written.
    pub fn io_slices<'a>(&'a self, out: &mut Vec<IoSlice<'a>>) {
        let mut pos = self.head;
        for segment in &self.segments {
            if out.len() >= MAX_IO_SLICES {
                return;
            }
            match segment {
                Segment::Inline(len) => {
                    out.push(IoSlice::new(&self.buf[pos..pos + len]));
                    pos += len;
                }
                Segment::Shared(bytes) => out.push(IoSlice::new(bytes)),
            }
        }
    }

    /// Fills `out` with slices of the segments left to write, in order, as
    /// many as fit, and returns how many it wrote: [`io_slices`](Encoder::io_slices)
    /// without a `Vec`, for callers that keep the slices on the stack.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use smolmq_zmtp::Encoder;
    /// use std::io::IoSlice;
    ///
    /// let mut enc = Encoder::new(1024);
    /// enc.frame(&Bytes::from_static(b"key"), true);
    /// enc.frame(&Bytes::from(vec![7u8; 4096]), false);
    /// let mut slices = [IoSlice::new(&[]); 8];
    /// let n = enc.io_slices_to(&mut slices);
    /// assert_eq!(n, 2);
    /// assert_eq!(slices[..n].iter().map(|s| s.len()).sum::<usize>(), enc.len());
    /// ```
    pub fn io_slices_to<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let mut pos = self.head;
        let mut n = 0;
        for (segment, slot) in self.segments.iter().zip(out.iter_mut()) {
            *slot = match segment {
                Segment::Inline(len) => {
                    let slice = IoSlice::new(&self.buf[pos..pos + len]);
                    pos += len;
                    slice
                }
                Segment::Shared(bytes) => IoSlice::new(bytes),
            };
            n += 1;
        }
        n
    }

    /// Iterates over the byte runs left to write, in order (the same runs
    /// [`Encoder::io_slices`] lists, without its cap).
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut pos = self.head;
        self.segments.iter().map(move |segment| match segment {
            Segment::Inline(len) => {
                let chunk = &self.buf[pos..pos + len];
                pos += len;
                chunk
            }
            Segment::Shared(bytes) => &bytes[..],
        })
    }

    /// Drops the first `written` bytes (after a write that took them).
    ///
    /// # Panics
    ///
    /// If `written` is more than [`Encoder::len`].
    pub fn advance(&mut self, written: usize) {
        assert!(
            written <= self.len,
            "advance({written}) past the {} bytes left to write",
            self.len
        );
        self.len -= written;
        let mut left = written;
        while left > 0 {
            let Some(front) = self.segments.front_mut() else {
                break;
            };
            match front {
                Segment::Inline(len) => {
                    let n = left.min(*len);
                    *len -= n;
                    self.head += n;
                    left -= n;
                    if *len == 0 {
                        self.segments.pop_front();
                    }
                }
                Segment::Shared(bytes) => {
                    let n = left.min(bytes.len());
                    bytes.advance(n);
                    left -= n;
                    if bytes.is_empty() {
                        self.segments.pop_front();
                    }
                }
            }
        }
        if self.segments.is_empty() {
            // Everything written: reuse the whole buffer.
            self.buf.clear();
            self.head = 0;
        } else if self.head >= COMPACT_AT && self.head * 2 >= self.buf.len() {
            // A writer that never quite catches up: move the rest down.
            self.buf.copy_within(self.head.., 0);
            self.buf.truncate(self.buf.len() - self.head);
            self.head = 0;
        }
    }

    /// Writes as much as `writer` takes in one `write_vectored` call and
    /// advances past it; returns the count written.
    pub fn write_to<W: Write + ?Sized>(&mut self, writer: &mut W) -> io::Result<usize> {
        let mut slices = Vec::with_capacity(self.segments.len().min(MAX_IO_SLICES));
        self.io_slices(&mut slices);
        let written = writer.write_vectored(&slices)?;
        drop(slices);
        self.advance(written);
        Ok(written)
    }

    /// Adds `n` bytes just written to `buf` to the inline run at the back.
    #[inline]
    fn push_inline(&mut self, n: usize) {
        if let Some(Segment::Inline(len)) = self.segments.back_mut() {
            *len += n;
        } else {
            self.segments.push_back(Segment::Inline(n));
        }
    }
}
