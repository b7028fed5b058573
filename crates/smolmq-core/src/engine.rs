//! The ZMTP engine: joins one byte stream, the ZMTP codec and one pipe.
//!
//! An engine is a future, run on an I/O thread. It greets and handshakes
//! with the peer, then moves messages both ways until the stream or the
//! pipe ends:
//!
//! * **In**: reads the stream into a buffer in large reads, decodes every
//!   complete frame (a small single-frame message is copied into its
//!   [`Msg`]; other bodies are slices of the buffer, no copy; a large body,
//!   from [`DIRECT_MIN`] up, is read straight from the stream into a pooled
//!   buffer of its own), assembles multipart messages, writes them to the
//!   pipe and flushes the pipe once per read. When the pipe refuses a message at its high-water mark the
//!   engine stops reading; when the pipe reports room again it delivers the
//!   held message and **reads again at once**, so nothing waits in the
//!   kernel buffer with no read armed (zlink's ipc deadlock).
//! * **Out**: drains the pipe into the encoder up to a batch size, and hands
//!   the batch to one vectored write; large payloads go out as their own
//!   slices, without a copy.
//! * Every pass of the loop does both, reads first, so writes never starve
//!   reads; after a bounded number of passes the engine yields to the other
//!   engines of its thread.
//! * Heartbeats: PING every HEARTBEAT_IVL, a peer silent for
//!   HEARTBEAT_TIMEOUT dropped; PINGs answered with PONG, a peer's TTL
//!   honoured. The handshake must finish within HANDSHAKE_IVL.
//!
//! One waker serves the stream and the pipe: the pipe's events (readable,
//! writable, closed) wake the same task the stream's readiness does.

use crate::pipe::{Pipe, PipeEvents, WriteError};
use crate::transport::BoxStream;
use crate::{FrameRef, Msg, INLINE_MAX};
use async_io::Timer;
use atomic_waker::AtomicWaker;
use bytes::{Buf, Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
use smolmq_pool::{Pool, PoolConfig, PooledBuf};
use smolmq_zmtp::{
    Command, CommandError, DecodeError, Encoder, FrameDecoder, Handshake, HandshakeConfig,
    HandshakeError, HandshakeStatus, PeerInfo, SocketType, Subscription, Version,
    MAX_FRAME_SIZE_LIMIT,
};
use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Bytes asked of the stream per read.
const READ_CHUNK: usize = 64 * 1024;

/// Bytes of encoded output gathered before a write.
const WRITE_BATCH: usize = 64 * 1024;

/// Most slices handed to one vectored write (1 KiB of stack). A batch of
/// small messages is one slice; each payload passed through without a copy
/// (8 KiB and up) adds one or two.
const WRITE_SLICES: usize = 64;

/// Passes through the loop before the engine yields its thread.
///
/// Small, for fairness between the connections of one thread: a pass can
/// deliver a whole pipe's worth of messages while the application drains
/// the pipe on another core, so with 32 passes one connection delivered
/// hundreds of messages in a row while the others, woken, waited their
/// turn (a PULL fed by three PUSHes over tcp saw runs of 250 to 320 from
/// one sender; with 4, at most 40). A batch of small messages is tens of
/// kilobytes per pass, so the extra yields cost no measurable throughput.
const BUDGET: usize = 4;

/// Smallest frame body read straight into a buffer of its own rather than
/// through the read buffer (libzmq does the same for large messages).
/// Through the read buffer, such a body either got sliced out of it, so
/// that the next read needed a fresh, zeroed allocation, or made it grow
/// (a copy of what was there, then zeroing): 69 K of the 98 K instructions
/// the I/O thread spent per 64 KiB message (callgrind, ipc) were `memset`.
pub const DIRECT_MIN: usize = 32 * 1024;

/// Bytes read into the read buffer after a large body: enough for a
/// header and a run of small messages, little to copy out if another large
/// body follows.
const LARGE_LOOKAHEAD: usize = 4096;

/// Largest body read the direct way: the top tier of the body pool.
/// Larger ones go through the read buffer.
pub(crate) const DIRECT_MAX: usize = 256 * 1024;

/// The buffers large bodies are read into: tiers of 32 to 256 KiB, shared
/// by every engine of the process. A buffer goes back when the application
/// drops the last `Bytes` of its message, on whatever thread; pooled
/// buffers are initialised once, so reads into them need no zeroing. What
/// the pool holds is bounded (16 buffers per tier, plus a few per thread).
///
/// Each thread keeps at most 4 per tier (magazines of 2), so that few
/// buffers circulate between a sender, its receiver and the shared pool
/// (a stack: the one given back last comes out first) and the next copy
/// into one lands in cache: inproc PAIR and DEALER_ROUTER at 64 and
/// 128 KiB ran 6-23 % faster than with 8 per thread and a shared queue
/// (docs/benchmarks.md, sixth session).
pub(crate) fn body_pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let config = PoolConfig {
            tiers: vec![DIRECT_MIN, 64 << 10, 128 << 10, DIRECT_MAX],
            max_pooled_per_tier: 16,
            thread_cache_per_tier: 4,
        };
        // The configuration is a constant that validates.
        Pool::new(config).unwrap_or_else(|_| unreachable!("valid pool configuration"))
    })
}

/// A large frame body being read into its own buffer.
struct LargeBody {
    /// Filled up to `body_len`; its capacity may be larger (its tier's).
    buf: PooledBuf,
    /// The body's length.
    body_len: usize,
    /// The frame's MORE flag.
    more: bool,
}

/// How an engine is set up.
#[derive(Clone)]
pub struct EngineConfig {
    /// Our side of the handshake: socket type, identity, mechanism.
    pub handshake: HandshakeConfig,
    /// Largest frame accepted from the peer (libzmq's MAXMSGSIZE, which
    /// applies per frame); `None` for no limit.
    pub max_msg_size: Option<u64>,
    /// The handshake must finish within this time (HANDSHAKE_IVL).
    pub handshake_ivl: Option<Duration>,
    /// Send a PING after this long without sending anything
    /// (HEARTBEAT_IVL); `None`: no heartbeats.
    pub heartbeat_ivl: Option<Duration>,
    /// TTL sent in our PINGs: how long the peer should wait for traffic
    /// from us before dropping us (HEARTBEAT_TTL).
    pub heartbeat_ttl: Option<Duration>,
    /// Drop the peer when nothing arrives for this long after a PING
    /// (HEARTBEAT_TIMEOUT; defaults to HEARTBEAT_IVL).
    pub heartbeat_timeout: Option<Duration>,
    /// Once the socket's end of the pipe is gone, keep writing what it
    /// queued for at most this long (LINGER); `None`: until written.
    pub linger: Option<Duration>,
    /// Close the connection when nothing arrives from the peer for this
    /// long (the socket's `idle_timeout`); `None`: never.
    pub idle_timeout: Option<Duration>,
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("socket_type", &self.handshake.socket_type)
            .field("max_msg_size", &self.max_msg_size)
            .field("handshake_ivl", &self.handshake_ivl)
            .field("heartbeat_ivl", &self.heartbeat_ivl)
            .field("heartbeat_ttl", &self.heartbeat_ttl)
            .field("heartbeat_timeout", &self.heartbeat_timeout)
            .field("linger", &self.linger)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// A configuration with no limits, timeouts or heartbeats.
    pub fn new(handshake: HandshakeConfig) -> Self {
        EngineConfig {
            handshake,
            max_msg_size: None,
            handshake_ivl: None,
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            linger: None,
            idle_timeout: None,
        }
    }
}

/// Why an engine stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum EngineExit {
    /// The peer closed the connection.
    PeerClosed,
    /// The local end of the pipe was dropped (the socket closed or dropped
    /// this peer); what it had sent was written out first.
    PipeClosed,
    /// The handshake failed (bad greeting, incompatible socket type, refused
    /// credentials, ...).
    Handshake(HandshakeError),
    /// The handshake did not finish within HANDSHAKE_IVL.
    HandshakeTimeout,
    /// The peer sent a malformed frame or one over MAXMSGSIZE.
    Protocol(DecodeError),
    /// The peer sent a malformed command.
    Command(CommandError),
    /// The peer sent an ERROR command.
    PeerError(String),
    /// Nothing arrived from the peer within the heartbeat timeout or the
    /// peer's TTL.
    HeartbeatTimeout,
    /// Nothing arrived from the peer within the idle timeout.
    IdleTimeout,
    /// A JSON-lines peer sent a line longer than the maximum; it was
    /// answered with a JSON-RPC error line, then the connection closed.
    LineTooLong {
        /// The maximum line length in force, in bytes.
        max: usize,
    },
    /// A message from the socket could not be written as one line (JSON
    /// lines); the connection was closed rather than write part of it.
    NotALine(String),
    /// Reading or writing the stream failed.
    Io(io::Error),
}

impl fmt::Display for EngineExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineExit::PeerClosed => f.write_str("peer closed the connection"),
            EngineExit::PipeClosed => f.write_str("socket closed the connection"),
            EngineExit::Handshake(e) => write!(f, "handshake failed: {e}"),
            EngineExit::HandshakeTimeout => f.write_str("handshake timed out"),
            EngineExit::Protocol(e) => write!(f, "protocol error: {e}"),
            EngineExit::Command(e) => write!(f, "protocol error: {e}"),
            EngineExit::PeerError(reason) => write!(f, "peer sent ERROR: {reason}"),
            EngineExit::HeartbeatTimeout => f.write_str("heartbeat timed out"),
            EngineExit::IdleTimeout => f.write_str("idle timeout: nothing received"),
            EngineExit::LineTooLong { max } => write!(
                f,
                "peer sent a line longer than the maximum of {max} bytes (answered with a \
                 JSON-RPC error line)"
            ),
            EngineExit::NotALine(why) => write!(f, "message cannot be sent as one line: {why}"),
            EngineExit::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

/// How far the read buffer's current allocation is initialised, as
/// addresses (compared, never dereferenced).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct InitMark {
    /// End address of the allocation the mark describes.
    alloc_end: usize,
    /// Every byte of that allocation below this address is initialised.
    init_end: usize,
}

/// Wakes the engine's task on pipe events.
#[derive(Default)]
pub(crate) struct Wake(pub(crate) AtomicWaker);

/// The idle timeout of a connection: expires when nothing was heard from
/// the peer for `timeout`. Hearing something costs a clock read (once per
/// read that returned bytes), the timer is re-armed only when it fires.
pub(crate) struct IdleTimer {
    /// The limit.
    timeout: Duration,
    /// When the peer was last heard from.
    last: Instant,
    /// Fires at `last + timeout` or earlier.
    timer: Timer,
}

impl IdleTimer {
    /// A timer that expires `timeout` from now unless the peer is heard.
    pub(crate) fn new(timeout: Duration) -> IdleTimer {
        IdleTimer {
            timeout,
            last: Instant::now(),
            timer: Timer::after(timeout),
        }
    }

    /// Something arrived from the peer (or we chose not to read it).
    pub(crate) fn heard(&mut self) {
        self.last = Instant::now();
    }

    /// True once `timeout` has passed since the peer was last heard.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        while Pin::new(&mut self.timer).poll(cx).is_ready() {
            let deadline = self.last + self.timeout;
            if Instant::now() >= deadline {
                return true;
            }
            self.timer.set_at(deadline);
        }
        false
    }
}

impl PipeEvents for Wake {
    fn readable(&self, _: usize) {
        self.0.wake();
    }
    fn writable(&self, _: usize) {
        self.0.wake();
    }
    fn closed(&self, _: usize) {
        self.0.wake();
    }
}

/// The waker an engine reads its stream with: it records that the stream
/// may have become readable, then wakes the engine's task. A pass woken by
/// the pipe alone (messages to write) then skips the read, which would only
/// find nothing: one failed system call less per wake-up. (Found and
/// measured on the line engine first: 4.85 -> 3.0 `recvfrom` per round
/// trip.)
#[derive(Debug)]
pub(crate) struct StreamWake {
    /// The stream may have bytes (or an end of file, or an error) for us:
    /// set by the reactor's wake-up, and after every read that did not find
    /// the stream empty.
    pub(crate) readable: AtomicBool,
    /// The engine's task.
    pub(crate) task: AtomicWaker,
}

impl StreamWake {
    /// A gate that starts open: the first pass reads.
    pub(crate) fn new() -> Arc<StreamWake> {
        Arc::new(StreamWake {
            readable: AtomicBool::new(true),
            task: AtomicWaker::new(),
        })
    }
}

impl std::task::Wake for StreamWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.readable.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// Callbacks an engine reports through; the socket's monitor implements
/// them. All default to doing nothing.
pub trait EngineObserver: Send + 'static {
    /// The handshake succeeded.
    fn handshake_succeeded(&mut self, _peer: &PeerInfo) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct NoObserver;

impl EngineObserver for NoObserver {}

/// The engine future. See the [module docs](self).
///
/// It borrows its end of the pipe, so that the pipe outlives the connection:
/// a connecting socket keeps one pipe across reconnections, and messages
/// queued in it while disconnected go out on the next connection.
pub struct Engine<'p, O = NoObserver> {
    /// The connection.
    stream: BoxStream,
    /// Our end of the pipe to the socket.
    pipe: &'p mut Pipe<Msg>,
    /// Woken by the pipe.
    wake: Arc<Wake>,
    /// Woken by the stream's readiness; gates reads.
    stream_wake: Arc<StreamWake>,
    /// `stream_wake` as a waker, for the stream's reads.
    stream_waker: Waker,
    /// Told about handshake results.
    observer: O,
    /// Set-up.
    config: EngineConfig,
    /// The handshake, until it is done.
    handshake: Option<Handshake>,
    /// Bytes received and not yet decoded.
    read_buf: BytesMut,
    /// How far `read_buf`'s allocation is known to be initialised.
    init: InitMark,
    /// Frame decoder (after the handshake).
    decoder: FrameDecoder,
    /// Frames of a multipart message being received.
    partial: Option<Msg>,
    /// A large body being read straight into its own buffer.
    large: Option<LargeBody>,
    /// The last message decoded had a large body: read little into the
    /// read buffer next (another large body is likely, and what lands in
    /// the read buffer must be copied out of it).
    expect_large: bool,
    /// A complete message the pipe refused at its HWM.
    held: Option<Msg>,
    /// Raw handshake bytes not yet written (greeting, commands); they go
    /// out before anything in `out`.
    raw_out: BytesMut,
    /// Encoded messages and commands not yet written.
    out: Encoder,
    /// Bytes were written since the stream last flushed: a TLS stream may
    /// hold encrypted records that the socket refused, and only a flush
    /// that completes sends them.
    unflushed: bool,
    /// The stream reported end of file.
    eof: bool,
    /// The pipe's socket side is gone: finish writing, then stop.
    draining: bool,
    /// Handshake deadline.
    handshake_timer: Option<Timer>,
    /// When to send the next PING.
    ping_timer: Option<Timer>,
    /// When to give up on a silent peer (armed after a PING goes out, or by
    /// the peer's TTL).
    silence_timer: Option<Timer>,
    /// Something arrived since the silence timer was armed.
    heard_from_peer: bool,
    /// LINGER deadline, armed when the socket's end of the pipe goes.
    linger_timer: Option<Timer>,
    /// The idle timeout, when set.
    idle: Option<IdleTimer>,
    /// The version the peer announced (after the handshake).
    peer_version: Version,
    /// We are a SUB / XSUB: subscription messages from the pipe go out as
    /// SUBSCRIBE / CANCEL commands to a 3.1 peer.
    sends_subscriptions: bool,
    /// We are a PUB / XPUB: SUBSCRIBE / CANCEL commands from the peer go
    /// into the pipe as subscription messages.
    takes_subscriptions: bool,
}

impl<O> fmt::Debug for Engine<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("handshaking", &self.handshake.is_some())
            .field("buffered_in", &self.read_buf.len())
            .field("buffered_out", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl<'p> Engine<'p, NoObserver> {
    /// An engine over `stream` delivering to and from `pipe`. It attaches
    /// itself to the pipe for wake-ups.
    ///
    /// Fails if `config.handshake` is invalid (e.g. an identity over 255
    /// bytes).
    pub fn new(
        stream: BoxStream,
        pipe: &'p mut Pipe<Msg>,
        config: EngineConfig,
    ) -> Result<Self, smolmq_zmtp::ConfigError> {
        Engine::with_observer(stream, pipe, config, NoObserver)
    }
}

impl<'p, O: EngineObserver> Engine<'p, O> {
    /// The connection, once the engine has ended: the socket closes it
    /// (see [`Stream`](crate::transport::Stream)) before dropping it.
    pub fn into_stream(self) -> BoxStream {
        self.stream
    }

    /// As [`Engine::new`], reporting to `observer`.
    pub fn with_observer(
        stream: BoxStream,
        pipe: &'p mut Pipe<Msg>,
        config: EngineConfig,
        observer: O,
    ) -> Result<Self, smolmq_zmtp::ConfigError> {
        let handshake = Handshake::new(config.handshake.clone())?;
        let wake = Arc::new(Wake::default());
        pipe.attach(wake.clone(), 0);
        let max = config.max_msg_size.unwrap_or(MAX_FRAME_SIZE_LIMIT);
        // The greeting and our first handshake command go out first.
        let mut raw_out = BytesMut::new();
        let mut handshake = handshake;
        handshake.poll_transmit(&mut raw_out);
        let ours = config.handshake.socket_type;
        let idle_timeout = config.idle_timeout;
        let stream_wake = StreamWake::new();
        Ok(Engine {
            stream,
            pipe,
            wake,
            stream_waker: Waker::from(stream_wake.clone()),
            stream_wake,
            observer,
            handshake_timer: config.handshake_ivl.map(Timer::after),
            config,
            handshake: Some(handshake),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            init: InitMark::default(),
            decoder: FrameDecoder::new(max),
            partial: None,
            large: None,
            expect_large: false,
            held: None,
            raw_out,
            out: Encoder::default(),
            unflushed: false,
            eof: false,
            draining: false,
            ping_timer: None,
            silence_timer: None,
            heard_from_peer: false,
            linger_timer: None,
            idle: idle_timeout.map(IdleTimer::new),
            peer_version: Version::V3_1,
            sends_subscriptions: matches!(ours, SocketType::Sub | SocketType::XSub),
            takes_subscriptions: matches!(ours, SocketType::Pub | SocketType::XPub),
        })
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
        let read = if self.large.is_some() {
            self.read_large()
        } else {
            self.read_buffered()
        };
        if !matches!(read, Ok(false)) || self.eof {
            // Bytes came (there may be more), or an end or an error: look
            // again next time.
            self.stream_wake.readable.store(true, Ordering::Release);
        }
        read
    }

    /// [`read_some`](Engine::read_some) into the read buffer.
    fn read_buffered(&mut self) -> Result<bool, EngineExit> {
        let start = self.read_buf.len();
        make_room(&mut self.read_buf, READ_CHUNK);
        let mut room = self.read_buf.capacity() - start;
        if self.expect_large {
            room = room.min(LARGE_LOOKAHEAD);
        }
        self.expose_spare(room);
        let mut cx = Context::from_waker(&self.stream_waker);
        let polled = Pin::new(&mut self.stream).poll_read(&mut cx, &mut self.read_buf[start..]);
        match polled {
            Poll::Ready(Ok(0)) => {
                self.read_buf.truncate(start);
                self.eof = true;
                Ok(false)
            }
            Poll::Ready(Ok(n)) => {
                self.read_buf.truncate(start + n);
                self.heard_from_peer = true;
                if let Some(idle) = self.idle.as_mut() {
                    idle.heard();
                }
                Ok(true)
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                self.read_buf.truncate(start);
                Ok(true)
            }
            Poll::Ready(Err(e)) => {
                self.read_buf.truncate(start);
                Err(EngineExit::Io(e))
            }
            Poll::Pending => {
                self.read_buf.truncate(start);
                Ok(false)
            }
        }
    }

    /// Reads the rest of a large body, and no further, into its buffer.
    fn read_large(&mut self) -> Result<bool, EngineExit> {
        let Some(large) = self.large.as_mut() else {
            return Ok(false);
        };
        let want = large.body_len - large.buf.len();
        let spare = &mut large.buf.spare_capacity_mut()[..want];
        let mut cx = Context::from_waker(&self.stream_waker);
        match Pin::new(&mut self.stream).poll_read(&mut cx, spare) {
            Poll::Ready(Ok(0)) => {
                self.eof = true;
                Ok(false)
            }
            Poll::Ready(Ok(n)) => {
                let filled = large.buf.len() + n.min(want);
                // `filled` is within the capacity: `want` was.
                let _ = large.buf.set_len(filled);
                self.heard_from_peer = true;
                if let Some(idle) = self.idle.as_mut() {
                    idle.heard();
                }
                Ok(true)
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Poll::Ready(Err(e)) => Err(EngineExit::Io(e)),
            Poll::Pending => Ok(false),
        }
    }

    /// Starts reading the frame at the front of `read_buf` straight into a
    /// buffer of its own if it is a large data frame: takes its header and
    /// the part of its body already read out of `read_buf`. `Ok(true)` if it
    /// did.
    fn start_large(&mut self) -> Result<bool, EngineExit> {
        let header = match self.decoder.peek_header(&self.read_buf) {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(false),
            Err(e) => return Err(EngineExit::Protocol(e)),
        };
        if header.command || !(DIRECT_MIN..=DIRECT_MAX).contains(&header.body_len) {
            return Ok(false);
        }
        let mut buf = body_pool().get(header.body_len);
        let have = (self.read_buf.len() - header.header_len).min(header.body_len);
        let start = header.header_len;
        // The tier holds `body_len`, so `have` bytes fit.
        let _ = buf.extend_from_slice(&self.read_buf[start..start + have]);
        self.read_buf.advance(start + have);
        self.large = Some(LargeBody {
            buf,
            body_len: header.body_len,
            more: header.more,
        });
        Ok(true)
    }

    /// The large body, once it is all read.
    fn take_large(&mut self) -> Option<(Bytes, bool)> {
        let done = self
            .large
            .as_ref()
            .is_some_and(|large| large.buf.len() == large.body_len);
        if !done {
            return None;
        }
        let large = self.large.take()?;
        self.expect_large = true;
        Some((large.buf.freeze(), large.more))
    }

    /// Extends `read_buf` by `room` initialised bytes to read into (see
    /// [`expose_spare`]).
    fn expose_spare(&mut self, room: usize) {
        expose_spare(&mut self.read_buf, &mut self.init, room);
    }

    /// Writes buffered output. `Ok(true)` if bytes went out.
    fn write_some(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let mut progress = false;
        loop {
            // The slices live on the stack: no allocation per write call.
            // What does not fit goes in the next call.
            let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
            let n = if !self.raw_out.is_empty() {
                slices[0] = IoSlice::new(&self.raw_out);
                1
            } else if !self.out.is_empty() {
                self.out.io_slices_to(&mut slices)
            } else {
                break;
            };
            let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..n]);
            match polled {
                Poll::Ready(Ok(0)) => {
                    return Err(EngineExit::Io(io::ErrorKind::WriteZero.into()));
                }
                Poll::Ready(Ok(n)) => {
                    if !self.raw_out.is_empty() {
                        let _ = self.raw_out.split_to(n);
                    } else {
                        self.out.advance(n);
                    }
                    progress = true;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Err(EngineExit::Io(e)),
                Poll::Pending => break,
            }
        }
        self.unflushed |= progress;
        if self.unflushed && self.raw_out.is_empty() && self.out.is_empty() {
            // A no-op for sockets; a TLS stream may buffer, and a flush
            // that is pending is polled again on the next pass (woken when
            // the socket takes more).
            match Pin::new(&mut self.stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                // Try again on the next pass.
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {
                    cx.waker().wake_by_ref();
                }
                Poll::Ready(Err(e)) => return Err(EngineExit::Io(e)),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// True when nothing waits to be written (nor to be flushed).
    fn out_is_empty(&self) -> bool {
        self.raw_out.is_empty() && self.out.is_empty() && !self.unflushed
    }

    /// Feeds buffered bytes to the handshake. `Ok(true)` if it finished.
    fn advance_handshake(&mut self) -> Result<bool, EngineExit> {
        let Some(handshake) = self.handshake.as_mut() else {
            return Ok(false);
        };
        let status = handshake.receive(&mut self.read_buf);
        // Whatever the handshake wants to say (including an ERROR on
        // failure) goes out.
        handshake.poll_transmit(&mut self.raw_out);
        match status {
            Ok(HandshakeStatus::InProgress) => Ok(false),
            Ok(HandshakeStatus::Done(peer)) => {
                self.handshake = None;
                self.handshake_timer = None;
                self.peer_version = peer.version;
                self.observer.handshake_succeeded(&peer);
                self.start_heartbeats(&peer);
                Ok(true)
            }
            Err(e) => Err(EngineExit::Handshake(e)),
        }
    }

    /// Arms the heartbeat timers after the handshake.
    fn start_heartbeats(&mut self, peer: &PeerInfo) {
        if !peer.speaks_3_1() {
            // PING and PONG are ZMTP 3.1 commands.
            return;
        }
        if let Some(ivl) = self.config.heartbeat_ivl {
            self.ping_timer = Some(Timer::after(ivl));
        }
    }

    /// Decodes buffered frames into messages for the pipe. Stops when the
    /// pipe is full. `Ok(true)` if anything was delivered or consumed.
    fn decode_buffered(&mut self) -> Result<bool, EngineExit> {
        let mut progress = false;
        while self.held.is_none() {
            // The common case first: small single-frame messages, copied
            // into the message itself. No slice of the read buffer leaves
            // this thread (no reference count for the receiving thread to
            // touch), the buffer, never shared, is reused in place, and it
            // is advanced once for the whole run of them.
            let mut pos = 0;
            while self.held.is_none() && self.partial.is_none() {
                let view = match self.decoder.peek_slice(&self.read_buf[pos..]) {
                    Ok(Some(view)) => view,
                    Ok(None) => break,
                    Err(e) => return Err(EngineExit::Protocol(e)),
                };
                if view.more || view.command || view.body.len() > INLINE_MAX {
                    break;
                }
                let msg = Msg::copy_from_slice(view.body);
                self.expect_large = false;
                pos += view.wire_len;
                self.deliver(msg)?;
            }
            if pos > 0 {
                self.read_buf.advance(pos);
                progress = true;
            }
            if self.held.is_some() {
                break;
            }
            // A large body goes into a buffer of its own, read straight
            // from the stream.
            if self.large.is_none() && self.start_large()? {
                progress = true;
            }
            let (body, more) = match self.take_large() {
                Some(done) => done,
                None if self.large.is_some() => break,
                // Anything else (a command, a multipart message, a larger
                // frame) is taken as a slice of the buffer, no copy;
                // `decode` also reserves room for a partial frame.
                None => match self.decoder.decode(&mut self.read_buf) {
                    Ok(Some(frame)) if frame.command => {
                        progress = true;
                        self.on_command(frame.body)?;
                        continue;
                    }
                    Ok(Some(frame)) => {
                        self.expect_large = false;
                        (frame.body, frame.more)
                    }
                    Ok(None) => break,
                    Err(e) => return Err(EngineExit::Protocol(e)),
                },
            };
            progress = true;
            let msg = match self.partial.take() {
                None => Msg::from(body),
                Some(mut msg) => {
                    msg.push_back(body);
                    msg
                }
            };
            if more {
                self.partial = Some(msg);
                continue;
            }
            self.deliver(msg)?;
        }
        Ok(progress)
    }

    /// Hands a complete message to the pipe, or holds it at the HWM.
    fn deliver(&mut self, msg: Msg) -> Result<(), EngineExit> {
        match self.pipe.write(msg) {
            Ok(()) => Ok(()),
            Err(WriteError::Full(msg)) => {
                self.held = Some(msg);
                Ok(())
            }
            Err(WriteError::Closed(_)) => Err(EngineExit::PipeClosed),
        }
    }

    /// Handles a command frame after the handshake.
    fn on_command(&mut self, body: Bytes) -> Result<(), EngineExit> {
        match Command::decode(body) {
            Ok(Command::Ping { ttl, context }) => {
                // Answer, and if the peer asks for it, expect traffic
                // within its TTL (tenths of a second).
                let _ = self.out.command(&Command::Pong { context });
                if ttl > 0 {
                    let ttl = Duration::from_millis(u64::from(ttl) * 100);
                    self.silence_timer = Some(Timer::after(ttl));
                    self.heard_from_peer = false;
                }
                Ok(())
            }
            Ok(Command::Pong { .. }) => Ok(()),
            Ok(Command::Error { reason }) => Err(EngineExit::PeerError(reason)),
            Ok(command @ (Command::Subscribe(_) | Command::Cancel(_))) => {
                // A publisher's pattern reads subscriptions from its pipes
                // as messages (ZMTP 3.0's form); other types ignore them.
                if let (true, Some(sub)) = (
                    self.takes_subscriptions,
                    Subscription::from_command(&command),
                ) {
                    self.deliver(Msg::from(sub.to_message()))?;
                }
                Ok(())
            }
            // Unknown commands are ignored, as the RFC asks.
            Ok(_) => Ok(()),
            Err(e) => Err(EngineExit::Command(e)),
        }
    }

    /// Fills the encoder from the pipe, up to a batch. `Ok(true)` if any
    /// message was taken.
    fn encode_from_pipe(&mut self) -> bool {
        let mut progress = false;
        while self.out.len() < WRITE_BATCH {
            match self.pipe.read() {
                Some(msg) => {
                    progress = true;
                    if self.sends_subscriptions && msg.is_single() {
                        let first: &[u8] = msg.first();
                        if let Some(sub) = subscription_of(first) {
                            sub.encode(&mut self.out, self.peer_version);
                            continue;
                        }
                    }
                    encode_message(&mut self.out, &msg);
                }
                None => {
                    if self.pipe.is_peer_gone() && !self.draining {
                        self.draining = true;
                        self.linger_timer = self.config.linger.map(Timer::after);
                        // The socket may have sent its last messages
                        // between the read above and its leaving (it
                        // flushes before it marks itself gone): look again,
                        // or they would be dropped unsent.
                        continue;
                    }
                    break;
                }
            }
        }
        progress
    }

    /// Polls the heartbeat and handshake timers; `Ok(true)` if it queued a
    /// PING to write.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let mut pinged = false;
        if let Some(t) = self.linger_timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                // LINGER is up: what is still queued is dropped.
                return Err(EngineExit::PipeClosed);
            }
        }
        if let Some(t) = self.handshake_timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                return Err(EngineExit::HandshakeTimeout);
            }
        }
        if let Some(idle) = self.idle.as_mut() {
            if self.held.is_some() {
                // Not reading (our backpressure) is not the peer's silence.
                idle.heard();
            }
            if idle.poll_expired(cx) {
                return Err(EngineExit::IdleTimeout);
            }
        }
        if let Some(t) = self.ping_timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                let ttl = self.config.heartbeat_ttl.map_or(0, |d| {
                    (d.as_millis() / 100).min(u128::from(u16::MAX)) as u16
                });
                let _ = self.out.command(&Command::Ping {
                    ttl,
                    context: Bytes::new(),
                });
                pinged = true;
                let ivl = self.config.heartbeat_ivl.unwrap_or(Duration::from_secs(1));
                self.ping_timer = Some(Timer::after(ivl));
                if self.silence_timer.is_none() {
                    let timeout = self.config.heartbeat_timeout.unwrap_or(ivl);
                    self.silence_timer = Some(Timer::after(timeout));
                    self.heard_from_peer = false;
                }
            }
        }
        if let Some(t) = self.silence_timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                // While a message is held at the HWM we do not read, so the
                // peer's traffic cannot be seen: that is our backpressure,
                // not the peer's silence.
                if !self.heard_from_peer && self.held.is_none() {
                    return Err(EngineExit::HeartbeatTimeout);
                }
                self.silence_timer = None;
            }
        }
        Ok(pinged)
    }

    /// One pass: read, decode, deliver; then encode and write.
    fn pass(&mut self, cx: &mut Context<'_>) -> Result<bool, EngineExit> {
        let mut progress = false;

        // In: a held message first (the pipe may have room again), then
        // what is buffered, then a read (only when nothing is held, so the
        // HWM holds back the peer through TCP flow control).
        if let Some(msg) = self.held.take() {
            self.deliver(msg)?;
            progress |= self.held.is_none();
        }
        if self.handshake.is_some() {
            if self.read_some()? {
                progress = true;
            }
            if self.advance_handshake()? {
                progress = true;
            }
        } else if self.held.is_none() {
            progress |= self.decode_buffered()?;
            if self.held.is_none() && self.read_some()? {
                progress = true;
                self.decode_buffered()?;
            }
            self.pipe.flush();
        }

        // Out: nothing but handshake bytes until the handshake is done.
        if self.handshake.is_none() {
            progress |= self.encode_from_pipe();
        }
        progress |= self.write_some(cx)?;
        Ok(progress)
    }
}

/// Makes sure `buf` has room for a read: at least `chunk / 16` bytes,
/// `chunk / 4` or more when that comes without an allocation.
///
/// Frames and lines are sliced out of the read buffer without a copy, so
/// the buffer can be reused in place only once the application has
/// dropped every message that shares it. Right after a message went up it
/// usually has not (the engine looks for more bytes at once), and moving
/// on to a fresh buffer then made nearly every refill an allocation that
/// the allocator took from the kernel and [`expose_spare`] zeroed: a page
/// fault every 4 KiB read. So: reclaim in place when no slice is alive
/// (moving a partial message to the front); otherwise keep reading into
/// what is left while it is a useful size, and move on only when it is
/// not.
pub(crate) fn make_room(buf: &mut BytesMut, chunk: usize) {
    let len = buf.len();
    let room = buf.capacity() - len;
    if room >= chunk / 4 {
        return;
    }
    // Brings the buffer back to `chunk` in all: `bytes` reclaims in place
    // only when what it holds plus what is asked fits the allocation.
    let wanted = chunk.saturating_sub(len).max(chunk / 4);
    if buf.try_reclaim(wanted) || room >= chunk / 16 {
        return;
    }
    buf.reserve(wanted);
}

/// Extends `buf` by `room` initialised bytes to read into, zeroing only
/// bytes never initialised before (`init` remembers how far the current
/// allocation is).
///
/// Zeroing the whole spare capacity before every read attempt (most of
/// which find nothing) cost more than the messages themselves; instead we
/// remember how far this allocation has been initialised.
pub(crate) fn expose_spare(buf: &mut BytesMut, init: &mut InitMark, room: usize) {
    let len = buf.len();
    let base = buf.as_ptr() as usize;
    let alloc_end = base + buf.capacity();
    if alloc_end != init.alloc_end {
        // A new (or grown) allocation: only the live bytes are known
        // to be initialised.
        *init = InitMark {
            alloc_end,
            init_end: base + len,
        };
    }
    let known = init.init_end.saturating_sub(base + len).min(room);
    // SAFETY: `buf` has capacity for `len + room` bytes, and the `known`
    // bytes past `len` lie in this allocation below `init_end`: they were
    // zeroed by an earlier `resize` or written by a read, and `BytesMut`
    // never de-initialises memory (truncate, split_to and an in-place
    // reclaim only move its cursors or copy initialised bytes). A
    // different allocation would have a different end address (two live
    // allocations cannot share one), which resets the mark above.
    unsafe { buf.set_len(len + known) };
    buf.resize(len + room, 0);
    init.init_end = init.init_end.max(base + len + room);
}

/// Adds a message to the encoder: inline (small) frames are copied into
/// the batch, shared ones handed to the encoder as `Bytes` (which copies
/// them below its threshold, and passes larger ones through).
#[inline]
fn encode_message(out: &mut Encoder, msg: &Msg) {
    let last = msg.len() - 1;
    for (i, frame) in msg.shared_frames().enumerate() {
        let more = i < last;
        match frame {
            FrameRef::Inline(body) => out.frame_slice(body, more),
            FrameRef::Shared(body) => out.frame(body, more),
        }
    }
}

impl<O: EngineObserver + Unpin> Future for Engine<'_, O> {
    type Output = EngineExit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<EngineExit> {
        let this = self.get_mut();
        this.wake.0.register(cx.waker());
        this.stream_wake.task.register(cx.waker());
        for _ in 0..BUDGET {
            let progress = match this.pass(cx) {
                Ok(progress) => progress,
                Err(exit) => {
                    // Best effort: an ERROR reply or last bytes may still go.
                    let _ = this.write_some(cx);
                    return Poll::Ready(exit);
                }
            };
            // Timers after the pass: after a stall of this thread, what the
            // peer sent meanwhile is read before its silence is judged. A
            // PING queued here counts as progress, so the next pass writes
            // it.
            let pinged = match this.poll_timers(cx) {
                Ok(pinged) => pinged,
                Err(exit) => {
                    let _ = this.write_some(cx);
                    return Poll::Ready(exit);
                }
            };
            let progress = progress || pinged;
            if this.draining && this.out_is_empty() {
                return Poll::Ready(EngineExit::PipeClosed);
            }
            if this.eof && this.held.is_none() {
                // Deliver what was decoded before the peer left.
                this.pipe.flush();
                return Poll::Ready(EngineExit::PeerClosed);
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Out of budget: let the thread's other engines run.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The subscription a SUB / XSUB pipe message stands for: `1` then the
/// topic subscribes, `0` then the topic cancels; anything else is data.
fn subscription_of(body: &[u8]) -> Option<Subscription> {
    match body.split_first()? {
        (1, topic) => Some(Subscription::Subscribe(Bytes::copy_from_slice(topic))),
        (0, topic) => Some(Subscription::Cancel(Bytes::copy_from_slice(topic))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{expose_spare, make_room, InitMark};
    use bytes::BytesMut;

    const CHUNK: usize = 64 * 1024;

    /// Fills `buf` to `len` bytes through `expose_spare`, as a read would.
    fn fill_to(buf: &mut BytesMut, init: &mut InitMark, len: usize) {
        let room = len - buf.len();
        let start = buf.len();
        expose_spare(buf, init, room);
        buf[start..].fill(b'x');
    }

    #[test]
    fn a_buffer_no_slice_shares_is_reused_in_place() {
        let mut buf = BytesMut::with_capacity(CHUNK);
        let mut init = InitMark::default();
        let base = buf.as_ptr();
        fill_to(&mut buf, &mut init, CHUNK - 100);
        // Three messages went up and were dropped; 100 bytes of a fourth
        // are buffered.
        drop(buf.split_to(CHUNK - 200).freeze());
        let len = buf.len();
        fill_to(&mut buf, &mut init, len + 100);
        drop(buf.split_to(100).freeze());
        assert_eq!(buf.len(), 100);
        make_room(&mut buf, CHUNK);
        assert_eq!(buf.as_ptr(), base, "moved to a new allocation");
        assert_eq!(&buf[..], &[b'x'; 100][..], "the partial message kept");
        assert!(buf.capacity() - buf.len() >= CHUNK / 4);
    }

    #[test]
    fn a_shared_buffer_is_read_into_while_it_has_room() {
        let mut buf = BytesMut::with_capacity(CHUNK);
        let mut init = InitMark::default();
        fill_to(&mut buf, &mut init, CHUNK - CHUNK / 8);
        let held = buf.split().freeze();
        let end = buf.as_ptr();
        make_room(&mut buf, CHUNK);
        assert_eq!(buf.as_ptr(), end, "a useful room was given up");
        assert_eq!(buf.capacity(), CHUNK / 8);

        // Too little left: a fresh buffer, the held message untouched.
        fill_to(&mut buf, &mut init, CHUNK / 8 - 10);
        let held2 = buf.split().freeze();
        make_room(&mut buf, CHUNK);
        assert!(buf.capacity() - buf.len() >= CHUNK / 4);
        assert!(held.iter().chain(held2.iter()).all(|&b| b == b'x'));
    }

    #[test]
    fn expose_spare_zeroes_a_buffer_only_once() {
        let mut buf = BytesMut::with_capacity(CHUNK);
        let mut init = InitMark::default();
        fill_to(&mut buf, &mut init, 60);
        // A read that found 10 bytes: the 50 after them stay as written,
        // and the next read attempt does not zero them again.
        buf.truncate(10);
        expose_spare(&mut buf, &mut init, 50);
        assert_eq!(buf.len(), 60);
        assert_eq!(&buf[..], &[b'x'; 60][..]);
    }
}
