//! The JSON-lines engine: joins one byte stream, smolmq-jsonl's line codec
//! and one pipe, for the `+jsonl` endpoints (`tcp+jsonl://`, `ipc+jsonl://`).
//!
//! No greeting, no handshake, no commands: every line in is a one-frame
//! message, every one-frame message out is written as its bytes and `"\n"`.
//!
//! * **In**: large reads into a buffer, split by
//!   [`LineDecoder::decode_batch`] (one memchr pass; a `\r` before the
//!   `\n` stripped, empty lines skipped; no UTF-8 check here: the bytes are
//!   delivered as they came, and a JSON parser above rejects bad text with
//!   its own error). Lines go to the pipe, flushed once per read; at the
//!   pipe's HWM the engine holds the rest and stops reading, as the ZMTP
//!   engine does. A last line without its `\n` when the peer closes is
//!   delivered too.
//! * **Too long**: a line over the maximum (`maxmsgsize`, else
//!   [`DEFAULT_MAX_LINE`], 16 MiB) is never buffered whole. The lines
//!   before it are delivered, what the socket had queued for the peer is
//!   written, then one JSON-RPC error line (code -32600, id null), then the
//!   connection is shut down for writing and closed once the peer has
//!   closed its side (or after [`CLOSE_GRACE`]); nothing else is read.
//! * **Out**: messages from the pipe are copied into a batch buffer with
//!   their `"\n"`; payloads of [`SHARE_MIN`] bytes and more are passed as
//!   their own slices, without a copy. One vectored write per batch.
//!   The socket refuses sends that cannot be a line (more than one frame
//!   after routing, empty, a `\n` inside, a trailing `\r`) before they
//!   reach a pipe, with [`Error::NotALine`](crate::Error::NotALine); the
//!   engine checks the frame count and the last byte again (not the whole
//!   payload) and ends the connection with [`EngineExit::NotALine`] before
//!   writing any of such a message. An empty message (a ROUTER's
//!   PROBE_ROUTER) has no line form and is skipped.

use crate::engine::{expose_spare, make_room, EngineExit, IdleTimer, InitMark, StreamWake, Wake};
use crate::pipe::{Pipe, WriteError};
use crate::transport::BoxStream;
use crate::{FrameRef, Msg};
use async_io::Timer;
use bytes::{Buf, Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
pub(crate) use smolmq_jsonl::DEFAULT_MAX_LINE;
use smolmq_jsonl::{LineDecoder, LineError};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Bytes asked of the stream per read.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes of output gathered before a write.
const WRITE_BATCH: usize = 64 * 1024;

/// Most slices handed to one vectored write.
const WRITE_SLICES: usize = 64;

/// Payloads at least this long are written from their own buffer instead
/// of being copied into the batch.
const SHARE_MIN: usize = 16 * 1024;

/// Passes through the loop before the engine yields its thread: few, so
/// that one busy connection does not hold back the others of its thread
/// (the ZMTP engine's `BUDGET` says what 32 did).
const BUDGET: usize = 4;

/// After an over-long line: how long the engine waits for the peer to
/// read the error line and close, before it closes anyway.
pub(crate) const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a line engine is set up.
#[derive(Debug, Clone)]
pub(crate) struct LineConfig {
    /// Longest line accepted from the peer, in bytes.
    pub(crate) max_line: usize,
    /// Close when nothing arrives for this long.
    pub(crate) idle_timeout: Option<Duration>,
    /// Once the socket's end of the pipe is gone, keep writing what it
    /// queued for at most this long; `None`: until written.
    pub(crate) linger: Option<Duration>,
}

/// The JSON-RPC error line answering an over-long line (without its `\n`).
pub(crate) fn too_long_line(max: usize) -> Vec<u8> {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{{\"code\":-32600,\"message\":\
         \"Invalid Request\",\"data\":\"line longer than the maximum of {max} bytes\"}}}}"
    )
    .into_bytes()
}

/// Outgoing lines: small ones copied into `batch`, large ones queued as
/// their own buffers, in order.
#[derive(Default)]
struct LineOut {
    /// Written before `batch`, front first.
    queue: VecDeque<Bytes>,
    /// Copied lines after the queue.
    batch: BytesMut,
    /// Bytes in the queue.
    queued: usize,
}

impl LineOut {
    /// Bytes waiting.
    fn len(&self) -> usize {
        self.queued + self.batch.len()
    }

    /// Adds one line: `payload` and `"\n"`.
    fn push(&mut self, payload: FrameRef<'_>) {
        match payload {
            FrameRef::Shared(bytes) if bytes.len() >= SHARE_MIN => {
                if !self.batch.is_empty() {
                    let copied = self.batch.split().freeze();
                    self.queued += copied.len();
                    self.queue.push_back(copied);
                }
                self.queued += bytes.len() + 1;
                self.queue.push_back(bytes.clone());
                self.queue.push_back(Bytes::from_static(b"\n"));
            }
            other => {
                let body = other.as_slice();
                if self.queue.is_empty() && self.batch.is_empty() {
                    // Reuse the buffer from its start.
                    self.batch.clear();
                }
                self.batch.reserve(body.len() + 1);
                self.batch.extend_from_slice(body);
                self.batch.extend_from_slice(b"\n");
            }
        }
    }

    /// Appends raw bytes (an error line with its newline).
    fn push_raw(&mut self, bytes: &[u8]) {
        self.batch.extend_from_slice(bytes);
    }

    /// Fills `slices` with what is waiting, in order; returns how many.
    fn io_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for chunk in &self.queue {
            if n == slices.len() {
                return n;
            }
            slices[n] = IoSlice::new(chunk);
            n += 1;
        }
        if n < slices.len() && !self.batch.is_empty() {
            slices[n] = IoSlice::new(&self.batch);
            n += 1;
        }
        n
    }

    /// Drops the first `n` bytes, which were written.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            if n < front.len() {
                front.advance(n);
                self.queued -= n;
                return;
            }
            n -= front.len();
            self.queued -= front.len();
            self.queue.pop_front();
        }
        self.batch.advance(n);
    }
}

/// The line engine future: see the [module docs](self).
pub(crate) struct LineEngine<'p> {
    /// The connection.
    stream: BoxStream,
    /// Our end of the pipe to the socket.
    pipe: &'p mut Pipe<Msg>,
    /// Woken by the pipe.
    wake: Arc<Wake>,
    /// Woken by the stream's readiness.
    stream_wake: Arc<StreamWake>,
    /// `stream_wake` as a waker, for the stream's reads.
    stream_waker: Waker,
    /// Set-up.
    config: LineConfig,
    /// Bytes received and not yet split.
    read_buf: BytesMut,
    /// How far `read_buf`'s allocation is initialised.
    init: InitMark,
    /// The line splitter.
    decoder: LineDecoder,
    /// Lines split and not yet delivered: `lines[next..]`.
    lines: Vec<Bytes>,
    /// The first line of `lines` not delivered.
    next: usize,
    /// A message the pipe refused at its HWM.
    held: Option<Msg>,
    /// Output not yet written.
    out: LineOut,
    /// The stream reported end of file.
    eof: bool,
    /// The pipe's socket side is gone: finish writing, then stop.
    draining: bool,
    /// LINGER deadline, armed when the socket's end of the pipe goes.
    linger_timer: Option<Timer>,
    /// The idle timeout, when set.
    idle: Option<IdleTimer>,
    /// An over-long line arrived: the error line is queued, nothing more
    /// is read or taken from the pipe; the exit to report.
    closing: Option<Closing>,
}

/// The engine's state after an over-long line.
struct Closing {
    /// The maximum that was exceeded.
    max: usize,
    /// Our side was shut down for writing (everything written).
    shut: bool,
    /// Closes the connection if the peer does not.
    grace: Timer,
}

impl fmt::Debug for LineEngine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineEngine")
            .field("buffered_in", &self.read_buf.len())
            .field("buffered_out", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl<'p> LineEngine<'p> {
    /// The connection, once the engine has ended, for the socket to close.
    pub(crate) fn into_stream(self) -> BoxStream {
        self.stream
    }

    /// An engine over `stream` delivering to and from `pipe`.
    pub(crate) fn new(stream: BoxStream, pipe: &'p mut Pipe<Msg>, config: LineConfig) -> Self {
        let wake = Arc::new(Wake::default());
        pipe.attach(wake.clone(), 0);
        let mut decoder = LineDecoder::new(config.max_line);
        // Bytes are delivered as they came; JSON parsing above checks them.
        decoder.set_utf8_validation(false);
        let stream_wake = StreamWake::new();
        LineEngine {
            stream,
            pipe,
            wake,
            stream_waker: Waker::from(stream_wake.clone()),
            stream_wake,
            idle: config.idle_timeout.map(IdleTimer::new),
            config,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            init: InitMark::default(),
            decoder,
            lines: Vec::new(),
            next: 0,
            held: None,
            out: LineOut::default(),
            eof: false,
            draining: false,
            linger_timer: None,
            closing: None,
        }
    }

    /// Reads what the stream has into the buffer. `Ok(true)` if bytes
    /// arrived; end of file sets `eof`. Does nothing unless the stream may
    /// be readable (see [`StreamWake`]).
    fn read_some(&mut self) -> Result<bool, EngineExit> {
        if self.eof {
            return Ok(false);
        }
        // Cleared before the read: a wake-up during it sets it again.
        if !self.stream_wake.readable.swap(false, Ordering::AcqRel) {
            return Ok(false);
        }
        let mut cx = Context::from_waker(&self.stream_waker);
        let start = self.read_buf.len();
        make_room(&mut self.read_buf, READ_CHUNK);
        let room = self.read_buf.capacity() - start;
        expose_spare(&mut self.read_buf, &mut self.init, room);
        let polled = Pin::new(&mut self.stream).poll_read(&mut cx, &mut self.read_buf[start..]);
        if polled.is_ready() {
            // There may be more: look again next time.
            self.stream_wake.readable.store(true, Ordering::Release);
        }
        let result = match polled {
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                Ok(false)
            }
            Poll::Ready(Ok(n)) => {
                self.read_buf.truncate(start + n);
                if let Some(idle) = self.idle.as_mut() {
                    idle.heard();
                }
                return Ok(true);
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Poll::Ready(Err(e)) => Err(EngineExit::Io(e)),
            Poll::Pending => Ok(false),
        };
        self.read_buf.truncate(start);
        result
    }

    /// Writes buffered output. `Ok(true)` if bytes went out.
    fn write_some(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let mut progress = false;
        while self.out.len() > 0 {
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let n = self.out.io_slices(&mut slices);
            match Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..n]) {
                Poll::Ready(Ok(0)) => {
                    return Err(EngineExit::Io(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    self.out.advance(n);
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(EngineExit::Io(e)),
                Poll::Pending => break,
            }
        }
        if progress && self.out.len() == 0 {
            // A no-op for sockets; a TLS stream may buffer.
            let _ = Pin::new(&mut self.stream).poll_flush(cx);
        }
        Ok(progress)
    }

    /// True when every line split off has reached the pipe.
    fn delivered(&self) -> bool {
        self.held.is_none() && self.next == self.lines.len()
    }

    /// Hands waiting lines to the pipe until it is full. `Ok(true)` if any
    /// went.
    fn deliver(&mut self) -> Result<bool, EngineExit> {
        let mut progress = false;
        if let Some(msg) = self.held.take() {
            if !self.write(msg)? {
                return Ok(false);
            }
            progress = true;
        }
        while self.next < self.lines.len() {
            let line = std::mem::take(&mut self.lines[self.next]);
            self.next += 1;
            progress = true;
            // Short lines are copied into the message (no reference to the
            // read buffer leaves this thread).
            if !self.write(Msg::from(line))? {
                return Ok(true);
            }
        }
        self.lines.clear();
        self.next = 0;
        Ok(progress)
    }

    /// Writes one message to the pipe; `Ok(false)` if it is held at the
    /// HWM.
    fn write(&mut self, msg: Msg) -> Result<bool, EngineExit> {
        match self.pipe.write(msg) {
            Ok(()) => Ok(true),
            Err(WriteError::Full(msg)) => {
                self.held = Some(msg);
                Ok(false)
            }
            Err(WriteError::Closed(_)) => Err(EngineExit::PipeClosed),
        }
    }

    /// Splits what is buffered into lines. On an over-long line, starts
    /// closing (the lines before it are kept for delivery).
    fn split(&mut self) -> bool {
        let before = self.lines.len();
        let result = if self.eof {
            // The peer is gone: an unterminated last line counts too.
            loop {
                match self.decoder.decode_eof(&mut self.read_buf) {
                    Ok(Some(line)) => self.lines.push(line),
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        } else {
            self.decoder
                .decode_batch(&mut self.read_buf, &mut self.lines)
                .map(drop)
        };
        match result {
            Ok(()) => {}
            Err(LineError::TooLong { max, .. }) => self.start_closing(max),
            // UTF-8 validation is off; any other refusal ends the line
            // stream the same way.
            Err(_) => self.start_closing(self.config.max_line),
        }
        self.lines.len() > before
    }

    /// An over-long line arrived: what the socket queued goes out, then
    /// the error line; nothing more is read.
    fn start_closing(&mut self, max: usize) {
        if self.closing.is_some() {
            return;
        }
        let _ = self.encode_from_pipe();
        let mut line = too_long_line(max);
        line.push(b'\n');
        self.out.push_raw(&line);
        self.read_buf.clear();
        self.closing = Some(Closing {
            max,
            shut: false,
            grace: Timer::after(CLOSE_GRACE),
        });
    }

    /// Fills the output from the pipe, up to a batch. `Ok(true)` if any
    /// message was taken.
    fn encode_from_pipe(&mut self) -> Result<bool, EngineExit> {
        let mut progress = false;
        while self.out.len() < WRITE_BATCH {
            let Some(msg) = self.pipe.read() else {
                if self.pipe.is_peer_gone() && !self.draining {
                    self.draining = true;
                    self.linger_timer = self.config.linger.map(Timer::after);
                    // The socket may have sent its last lines between the
                    // read above and its leaving: look again (see the
                    // ZMTP engine's `encode_from_pipe`).
                    continue;
                }
                break;
            };
            progress = true;
            if !msg.is_single() {
                return Err(EngineExit::NotALine(format!(
                    "a message of {} frames",
                    msg.len()
                )));
            }
            let Some(frame) = msg.shared_frames().next() else {
                continue;
            };
            let body = frame.as_slice();
            if body.is_empty() {
                // No line form (a PROBE_ROUTER message): skipped.
                continue;
            }
            // The socket checked the payload of every send (a `\n`
            // anywhere, a trailing `\r`); the last byte is looked at again
            // here, the full scan is not repeated.
            if body.last() == Some(&b'\r') {
                return Err(EngineExit::NotALine(
                    "the payload ends with a carriage return".to_owned(),
                ));
            }
            self.out.push(frame);
        }
        Ok(progress)
    }

    /// One pass: deliver, split, read; then encode and write.
    fn pass(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let mut progress = self.deliver()?;
        if self.closing.is_some() {
            progress |= self.write_some(cx)?;
            progress |= self.linger_close(cx)?;
            self.pipe.flush();
            return Ok(progress);
        }
        if self.delivered() {
            if self.split() {
                progress |= self.deliver()?;
            }
            if self.delivered() && self.closing.is_none() && self.read_some()? {
                progress = true;
                self.split();
                self.deliver()?;
            } else if self.eof && self.closing.is_none() && !self.read_buf.is_empty() {
                // The unterminated last line.
                progress |= self.split();
                self.deliver()?;
            }
        }
        self.pipe.flush();
        if self.closing.is_none() {
            progress |= self.encode_from_pipe()?;
        }
        progress |= self.write_some(cx)?;
        Ok(progress)
    }

    /// While closing, once the output is written: shut our side down, then
    /// read and discard until the peer closes (so that our close does not
    /// reset the connection before the peer read the error line).
    fn linger_close(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let Some(closing) = self.closing.as_mut() else {
            return Ok(false);
        };
        if self.out.len() > 0 {
            return Ok(false);
        }
        if !closing.shut {
            match Pin::new(&mut self.stream).poll_close(cx) {
                Poll::Ready(_) => closing.shut = true,
                Poll::Pending => return Ok(false),
            }
        }
        let mut progress = false;
        while !self.eof {
            self.read_buf.clear();
            if !self.read_some()? {
                break;
            }
            progress = true;
        }
        self.read_buf.clear();
        Ok(progress)
    }

    /// Polls the timers; an error ends the engine.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Result<(), EngineExit> {
        if let Some(t) = self.linger_timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                return Err(EngineExit::PipeClosed);
            }
        }
        if let Some(closing) = self.closing.as_mut() {
            if Pin::new(&mut closing.grace).poll(cx).is_ready() {
                return Err(EngineExit::LineTooLong { max: closing.max });
            }
        }
        let delivered = self.delivered();
        if let Some(idle) = self.idle.as_mut() {
            if !delivered {
                // Not reading (our backpressure) is not the peer's silence.
                idle.heard();
            }
            if idle.poll_expired(cx) {
                return Err(EngineExit::IdleTimeout);
            }
        }
        Ok(())
    }
}

impl Future for LineEngine<'_> {
    type Output = EngineExit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<EngineExit> {
        let this = self.get_mut();
        this.wake.0.register(cx.waker());
        this.stream_wake.task.register(cx.waker());
        for _ in 0..BUDGET {
            let progress = match this.pass(cx).and_then(|p| this.poll_timers(cx).map(|()| p)) {
                Ok(progress) => progress,
                Err(exit) => {
                    let _ = this.write_some(cx);
                    this.pipe.flush();
                    return Poll::Ready(exit);
                }
            };
            if let Some(closing) = &this.closing {
                if this.delivered() && closing.shut && this.eof {
                    this.pipe.flush();
                    return Poll::Ready(EngineExit::LineTooLong { max: closing.max });
                }
            } else {
                if this.draining && this.out.len() == 0 {
                    return Poll::Ready(EngineExit::PipeClosed);
                }
                if this.eof && this.delivered() && this.read_buf.is_empty() {
                    this.pipe.flush();
                    return Poll::Ready(EngineExit::PeerClosed);
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Writes everything `out` holds in pieces of at most `step` bytes (as
    /// short writes would), the way the engine does.
    fn drain(out: &mut LineOut, step: usize) -> Vec<u8> {
        let mut wire = Vec::new();
        while out.len() > 0 {
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let n = out.io_slices(&mut slices);
            let mut budget = step;
            let mut took = 0;
            for s in &slices[..n] {
                let k = s.len().min(budget);
                wire.extend_from_slice(&s[..k]);
                took += k;
                budget -= k;
                if budget == 0 {
                    break;
                }
            }
            out.advance(took);
        }
        wire
    }

    proptest! {
        /// Copied and shared payloads, written in arbitrary pieces, come
        /// out in order, each followed by its newline.
        #[test]
        fn lines_come_out_in_order(
            sizes in proptest::collection::vec(1usize..40_000, 1..20),
            step in 1usize..70_000,
        ) {
            let mut out = LineOut::default();
            let mut want = Vec::new();
            for (i, &len) in sizes.iter().enumerate() {
                let payload: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
                let msg = Msg::from(Bytes::from(payload.clone()));
                out.push(msg.shared_frames().next().unwrap());
                want.extend_from_slice(&payload);
                want.push(b'\n');
            }
            prop_assert_eq!(out.len(), want.len());
            prop_assert_eq!(drain(&mut out, step), want);
            prop_assert_eq!(out.len(), 0);
        }
    }

    #[test]
    fn the_too_long_answer_is_one_json_rpc_error_line() {
        let line = String::from_utf8(too_long_line(1024)).unwrap();
        assert!(!line.contains('\n'));
        assert!(line.starts_with(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"#));
        assert!(line.ends_with(r#""data":"line longer than the maximum of 1024 bytes"}}"#));
    }
}
