//! The line decoder: complete lines out of a read buffer, zero-copy.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Default maximum line length: 16 MiB, the limit MCP servers commonly use.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

/// The UTF-8 byte order mark, skipped at the very start of a stream.
const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// Splits a byte stream into lines.
///
/// The decoder does not own the read buffer: the caller reads from its
/// stream into a [`BytesMut`] (appending at the end) and hands the same
/// buffer to [`decode`](Self::decode) or [`decode_batch`](Self::decode_batch),
/// which split complete lines off its front as [`Bytes`] that share the
/// buffer's memory (no copy). A partial last line stays in the buffer for the
/// next read. The decoder remembers how much of that partial tail it has
/// already searched for a newline, so a long line arriving in many reads is
/// scanned once overall. It therefore expects the caller to append to the
/// buffer only at the end and to leave the front to the decoder (if the
/// buffer shrinks behind its back, it starts its search again from the front
/// instead of failing).
///
/// # Framing rules
///
/// * A line ends at `\n`; one `\r` right before the `\n` is removed as well,
///   so CRLF peers are understood.
/// * Empty lines (also a lone `\r`) are skipped, never returned.
/// * A UTF-8 byte order mark (`EF BB BF`) at the very start of the stream is
///   skipped, also when it arrives split across reads. The same bytes later
///   in the stream are data.
/// * With UTF-8 validation on (the default), a line that is not valid UTF-8
///   is consumed and reported as [`LineError::InvalidUtf8`]; the next call
///   goes on with the following line. JSON text must be UTF-8, a bad line is
///   refused where it is found (without costing the lines around it), and
///   the check runs at many GB/s on ASCII-heavy JSON (see the crate docs). Turn it off with
///   [`set_utf8_validation`](Self::set_utf8_validation) when the next stage
///   validates anyway.
///
/// # Maximum line length
///
/// The maximum counts the bytes of the message: the line without its `\n`
/// and without the `\r` that a CRLF peer puts before it. A message of
/// exactly `max_line` bytes is accepted, one of `max_line + 1` bytes is
/// refused.
///
/// The limit is enforced before more is buffered: as soon as the partial
/// tail of the buffer (the bytes after the last newline) is longer than any
/// line of at most `max_line` bytes could be, the decoder drops those bytes
/// from the buffer and returns [`LineError::TooLong`]. It then *discards*
/// everything up to and including the next `\n`, however many reads that
/// takes, and decodes normally from there. No byte of an over-long line is
/// ever returned as a message, and the buffer never holds more than
/// `max_line + 1` bytes of one line plus what one read appended (at stream
/// start, up to two bytes also wait to see whether they begin a byte order
/// mark, which matters only for a maximum of 0). An
/// over-long line that arrives whole (with its newline) in one read is
/// consumed and reported the same way.
///
/// ```
/// use bytes::BytesMut;
/// use smolmq_jsonl::{LineDecoder, LineError};
///
/// let mut decoder = LineDecoder::new(8);
/// let mut buf = BytesMut::from(&b"this line is far too long"[..]);
/// assert!(matches!(decoder.decode(&mut buf), Err(LineError::TooLong { max: 8, .. })));
/// assert!(buf.is_empty(), "the over-long bytes are dropped at once");
///
/// buf.extend_from_slice(b" and goes on\n{\"ok\":1}\n");
/// // The rest of the over-long line is discarded, the next line decodes.
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"{\"ok\":1}"[..]);
/// ```
#[derive(Debug, Clone)]
pub struct LineDecoder {
    /// Longest message accepted, in bytes (without `\n` and a trailing `\r`).
    max_line: usize,
    /// Whether lines are checked to be UTF-8.
    validate_utf8: bool,
    /// Bytes at the front of the buffer already searched for a newline
    /// without finding one.
    scanned: usize,
    /// True while the rest of an over-long line is being thrown away.
    discarding: bool,
    /// True until the decoder has decided whether the stream starts with a
    /// byte order mark.
    at_stream_start: bool,
    /// Bytes of the stream consumed so far (lines, delimiters, skipped and
    /// discarded bytes).
    position: u64,
}

/// Most lines [`LineDecoder::decode_batch`] splits per UTF-8 check.
const WINDOW_LINES: usize = 64;
/// Bytes after which [`LineDecoder::decode_batch`] closes a window at the
/// next newline.
const WINDOW_BYTES: usize = 16 * 1024;

/// What one window of [`LineDecoder::decode_batch`] found.
enum Window {
    /// Every line of the window was split off.
    Split,
    /// This many lines, at least one of them refused, must be taken one by
    /// one; nothing was consumed.
    Refused(usize),
    /// No newline after the scanned part of the buffer.
    NoNewline,
}

/// Length of the message in `input[start..end]` (`end` is the index of its
/// `\n`), not counting a `\r` before the newline.
fn message_len(input: &[u8], start: usize, end: usize) -> usize {
    if end > start && input[end - 1] == b'\r' {
        end - 1 - start
    } else {
        end - start
    }
}

/// What one step of the decoder found.
enum Step {
    /// A complete, non-empty, accepted line.
    Line(Bytes),
    /// An empty line (or a byte order mark, or the end of a discarded line)
    /// was consumed; look again.
    Skipped,
    /// No complete line in the buffer.
    NeedMore,
}

impl Default for LineDecoder {
    /// A decoder with the [`DEFAULT_MAX_LINE`] limit and UTF-8 validation on.
    fn default() -> Self {
        LineDecoder::new(DEFAULT_MAX_LINE)
    }
}

impl LineDecoder {
    /// A decoder that accepts messages of at most `max_line` bytes (not
    /// counting the `\n` and a `\r` before it), with UTF-8 validation on.
    pub fn new(max_line: usize) -> Self {
        LineDecoder {
            max_line,
            validate_utf8: true,
            scanned: 0,
            discarding: false,
            at_stream_start: true,
            position: 0,
        }
    }

    /// The longest message accepted, in bytes.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Turns UTF-8 validation of every line on (the default) or off.
    pub fn set_utf8_validation(&mut self, on: bool) {
        self.validate_utf8 = on;
    }

    /// Whether lines are checked to be UTF-8.
    pub fn utf8_validation(&self) -> bool {
        self.validate_utf8
    }

    /// Bytes of the stream the decoder has consumed from the buffer so far:
    /// returned lines with their delimiters, skipped empty lines, the byte
    /// order mark and discarded over-long lines. Error offsets count from the
    /// same origin.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// True while the decoder is throwing away the rest of an over-long line.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Forgets all state, as for a new stream (a byte order mark is skipped
    /// again, the position restarts at 0). Clear the buffer too.
    pub fn reset(&mut self) {
        *self = LineDecoder {
            validate_utf8: self.validate_utf8,
            ..LineDecoder::new(self.max_line)
        };
    }

    /// Splits the next complete line off the front of `input`.
    ///
    /// Returns `Ok(None)` when the buffer holds no complete line: read more
    /// into the same buffer and call again. After an error, call again to
    /// go on with the following lines.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Bytes>, LineError> {
        // Every `Skipped` consumed at least one byte, so this ends.
        loop {
            match self.step(input)? {
                Step::Line(line) => return Ok(Some(line)),
                Step::Skipped => continue,
                Step::NeedMore => return Ok(None),
            }
        }
    }

    /// Splits every complete line off the front of `input` in one pass and
    /// appends them to `out`; returns how many it appended.
    ///
    /// Each byte is searched for a newline once (only a window of lines that
    /// holds a refused line is searched again, line by line, to report it),
    /// and the partial tail waits in the buffer for the next read. Lines
    /// are UTF-8 checked a window at a time, not one by one.
    ///
    /// On an error, the lines before the offending one are already in
    /// `out`, and the lines after it are still in `input`: handle the error
    /// and call again to go on.
    pub fn decode_batch(
        &mut self,
        input: &mut BytesMut,
        out: &mut Vec<Bytes>,
    ) -> Result<usize, LineError> {
        let before = out.len();
        // Every turn consumes at least one line, or returns.
        loop {
            let refused = if self.at_stream_start || self.discarding || self.scanned > input.len() {
                // Rare states: one careful step.
                1
            } else {
                match self.split_window(input, out) {
                    Window::Split => continue,
                    Window::Refused(lines) => lines,
                    Window::NoNewline => {
                        // All searched: the step only checks the tail.
                        self.scanned = input.len();
                        1
                    }
                }
            };
            // Line by line, with each line checked on its own, so that an
            // error leaves the lines after it in the buffer.
            for _ in 0..refused {
                match self.step(input)? {
                    Step::Line(line) => out.push(line),
                    Step::Skipped => {}
                    Step::NeedMore => return Ok(out.len() - before),
                }
            }
        }
    }

    /// The fast path of [`decode_batch`](Self::decode_batch): finds the
    /// next window of complete lines (at most [`WINDOW_LINES`], ending at
    /// the first newline at or past [`WINDOW_BYTES`]) and, when all of them
    /// are acceptable, splits them off with one UTF-8 check for the whole
    /// window instead of one per line. A `\n` is never part of a multi-byte
    /// sequence, so the window is valid UTF-8 exactly when each of its lines
    /// is. The window is small enough to stay in the L1 cache between the
    /// newline search and the check.
    fn split_window(&mut self, input: &mut BytesMut, out: &mut Vec<Bytes>) -> Window {
        let mut ends = [0usize; WINDOW_LINES];
        let mut found = 0;
        let mut acceptable = true;
        let mut line_start = 0;
        // True unless the window closed before the end of the buffer.
        let mut searched_all = true;
        for i in memchr::memchr_iter(b'\n', &input[self.scanned..]) {
            let end = self.scanned + i;
            acceptable &= message_len(input, line_start, end) <= self.max_line;
            ends[found] = end;
            found += 1;
            line_start = end + 1;
            if found == WINDOW_LINES || end >= WINDOW_BYTES {
                searched_all = false;
                break;
            }
        }
        let Some(&last) = ends[..found].last() else {
            return Window::NoNewline;
        };
        if acceptable && self.validate_utf8 {
            acceptable = simdutf8::basic::from_utf8(&input[..last]).is_ok();
        }
        if !acceptable {
            return Window::Refused(found);
        }
        let mut consumed = 0;
        for &end in &ends[..found] {
            let end = end - consumed;
            let len = message_len(input, 0, end);
            if len == 0 {
                input.advance(end + 1);
            } else {
                let mut line = input.split_to(end + 1);
                line.truncate(len);
                out.push(line.freeze());
            }
            consumed += end + 1;
        }
        self.position += consumed as u64;
        // What is left was searched already if the window ran to the end.
        self.scanned = if searched_all { input.len() } else { 0 };
        Window::Split
    }

    /// Like [`decode`](Self::decode), for when the stream has ended: after
    /// the complete lines, the unterminated rest of the buffer (if any) is
    /// returned as a last line, under the same rules (a trailing `\r`
    /// removed, empty skipped, UTF-8 checked). The rest of an over-long line
    /// is dropped. Call it until it returns `Ok(None)`; the buffer is then
    /// empty.
    pub fn decode_eof(&mut self, input: &mut BytesMut) -> Result<Option<Bytes>, LineError> {
        if let Some(line) = self.decode(input)? {
            return Ok(Some(line));
        }
        // No newline left in the buffer: what remains is one unterminated
        // line (or the tail of a discarded one, or part of a BOM).
        let len = input.len();
        let start = self.position;
        self.position += len as u64;
        self.scanned = 0;
        self.at_stream_start = false;
        if std::mem::take(&mut self.discarding) {
            input.clear();
            return Ok(None);
        }
        let mut line = input.split();
        if line.last() == Some(&b'\r') {
            line.truncate(len - 1);
        }
        self.accept(line, start)
            .map(|l| (!l.is_empty()).then_some(l))
    }

    /// Checks a complete line (delimiters removed) and freezes it.
    fn accept(&self, line: BytesMut, start: u64) -> Result<Bytes, LineError> {
        if line.len() > self.max_line {
            return Err(LineError::TooLong {
                max: self.max_line,
                seen: line.len(),
                offset: start,
            });
        }
        // simdutf8's check is SIMD (AVX2 / SSE4.2 / NEON, chosen at run
        // time) and several times faster than std's on long ASCII lines;
        // std's, run only on failure, says where the line went wrong.
        if self.validate_utf8 && simdutf8::basic::from_utf8(&line).is_err() {
            let valid_up_to = match std::str::from_utf8(&line) {
                Err(e) => e.valid_up_to(),
                Ok(_) => line.len(),
            };
            return Err(LineError::InvalidUtf8 {
                offset: start,
                valid_up_to,
                len: line.len(),
            });
        }
        Ok(line.freeze())
    }

    /// Consumes `n` bytes from the front of `input` without returning them.
    fn skip(&mut self, input: &mut BytesMut, n: usize) {
        input.advance(n);
        self.position += n as u64;
    }

    /// One step: consume at most one line (or skipped span) from `input`.
    fn step(&mut self, input: &mut BytesMut) -> Result<Step, LineError> {
        if self.scanned > input.len() {
            // The caller consumed or replaced the buffer: search it afresh.
            self.scanned = 0;
        }
        if self.at_stream_start {
            if input.len() < BOM.len() && BOM.starts_with(input) {
                // Could still become a byte order mark: wait for more.
                return Ok(Step::NeedMore);
            }
            self.at_stream_start = false;
            if input.starts_with(BOM) {
                self.skip(input, BOM.len());
                return Ok(Step::Skipped);
            }
        }
        let newline = memchr::memchr(b'\n', &input[self.scanned..]).map(|i| self.scanned + i);
        if self.discarding {
            return Ok(match newline {
                Some(end) => {
                    self.discarding = false;
                    self.scanned = 0;
                    self.skip(input, end + 1);
                    Step::Skipped
                }
                None => {
                    self.scanned = 0;
                    self.position += input.len() as u64;
                    input.clear();
                    Step::NeedMore
                }
            });
        }
        match newline {
            Some(end) => {
                self.scanned = 0;
                let start = self.position;
                let len = if end > 0 && input[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                if len == 0 {
                    self.skip(input, end + 1);
                    return Ok(Step::Skipped);
                }
                // Split the line off (consumed even if it is refused).
                let mut line = input.split_to(end + 1);
                self.position += (end + 1) as u64;
                line.truncate(len);
                self.accept(line, start).map(Step::Line)
            }
            None => {
                let tail = input.len();
                // A tail of `max_line + 1` bytes may still be a message of
                // `max_line` bytes followed by `\r\n`; anything longer cannot.
                let limit = self.max_line.saturating_add(1);
                if tail > limit || (tail == limit && input[tail - 1] != b'\r') {
                    let start = self.position;
                    self.position += tail as u64;
                    input.clear();
                    self.scanned = 0;
                    self.discarding = true;
                    return Err(LineError::TooLong {
                        max: self.max_line,
                        seen: tail,
                        offset: start,
                    });
                }
                self.scanned = tail;
                Ok(Step::NeedMore)
            }
        }
    }
}

/// Why the decoder refused a line. After either error the decoder goes on
/// with the next line on the next call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineError {
    /// A line is longer than the maximum. If its newline had not arrived
    /// yet, the decoder now discards the rest of the line up to and
    /// including its newline.
    TooLong {
        /// The maximum message length in force.
        max: usize,
        /// Bytes of the line seen when it was refused (for a line whose
        /// newline had not arrived yet, the line is at least this long).
        seen: usize,
        /// Stream offset (see [`LineDecoder::position`]) of the line's first
        /// byte.
        offset: u64,
    },
    /// A line is not valid UTF-8. The line was consumed and dropped.
    InvalidUtf8 {
        /// Stream offset (see [`LineDecoder::position`]) of the line's first
        /// byte.
        offset: u64,
        /// Length of the longest valid UTF-8 prefix of the line.
        valid_up_to: usize,
        /// Length of the line (without its delimiters).
        len: usize,
    },
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong { max, seen, offset } => write!(
                f,
                "line at stream offset {offset} is too long: {seen} bytes seen, \
                 the maximum is {max} bytes"
            ),
            LineError::InvalidUtf8 {
                offset,
                valid_up_to,
                len,
            } => write!(
                f,
                "line at stream offset {offset} ({len} bytes) is not valid UTF-8: \
                 invalid byte sequence at byte {valid_up_to} of the line"
            ),
        }
    }
}

impl std::error::Error for LineError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_offset_is_kept_across_calls() {
        let mut d = LineDecoder::new(100);
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.scanned, 3);
        buf.extend_from_slice(b"def");
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.scanned, 6);
        buf.extend_from_slice(b"\n");
        assert_eq!(d.decode(&mut buf).unwrap().unwrap(), &b"abcdef"[..]);
        assert_eq!(d.scanned, 0);
    }

    #[test]
    fn batch_searches_the_tail_once() {
        let mut d = LineDecoder::new(100);
        let mut buf = BytesMut::from(&b"a\nb\ncdef"[..]);
        let mut out = Vec::new();
        assert_eq!(d.decode_batch(&mut buf, &mut out).unwrap(), 2);
        assert_eq!(d.scanned, 4, "the tail after the last newline is searched");
        buf.extend_from_slice(b"gh");
        assert_eq!(d.decode_batch(&mut buf, &mut out).unwrap(), 0);
        assert_eq!(d.scanned, 6);
        buf.extend_from_slice(b"\n");
        assert_eq!(d.decode_batch(&mut buf, &mut out).unwrap(), 1);
        assert_eq!(out[2], &b"cdefgh"[..]);
        assert_eq!(d.scanned, 0);
    }

    #[test]
    fn shrunken_buffer_restarts_the_search() {
        let mut d = LineDecoder::new(100);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        buf.clear();
        buf.extend_from_slice(b"x\n");
        assert_eq!(d.decode(&mut buf).unwrap().unwrap(), &b"x"[..]);
    }
}
