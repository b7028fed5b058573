//! [`ZwsStream`]: a WebSocket connection presented to the engine as a
//! ZMTP byte stream.

use crate::frame::{
    self, Decoded, FrameDecoder, FrameError, Role, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING,
    OP_PONG, OP_TEXT,
};
use crate::zws::{Inbound, Outbound, ZwsError};
use crate::Subprotocol;
use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};
use smolmq_core::transport::BoxStream;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Bytes of frames held for the socket before writes push back (the
/// engine writes batches of about 64 KiB).
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A WebSocket connection after a ZWS 2.0 upgrade, read and written as the
/// ZMTP 3.1 byte stream the engine speaks (see the [`zws`](crate::zws)
/// module for the mapping, [`frame`] for the WebSocket frames).
///
/// Made by the transport's [`establish`](smolmq_core::transport::Transport::establish)
/// step, which upgrades the connection and hands this to the engine.
pub struct ZwsStream {
    /// The connection (tcp, or TLS over tcp).
    inner: BoxStream,
    /// Client or server: who masks.
    role: Role,
    /// The subprotocol agreed in the upgrade.
    subprotocol: Subprotocol,
    /// The peer's messages as ZMTP bytes.
    inbound: Inbound,
    /// Our ZMTP bytes as messages.
    outbound: Outbound,
    /// Cuts the peer's frames.
    decoder: FrameDecoder,
    /// The largest message (all its fragments) accepted.
    max_message: u64,
    /// The read buffer (zeroed once, read into in place): bytes
    /// `rpos..rend` are read and not yet decoded.
    rbuf: Vec<u8>,
    /// Start of the undecoded bytes.
    rpos: usize,
    /// End of the bytes read.
    rend: usize,
    /// The fragments of a message in progress.
    fragments: Option<BytesMut>,
    /// Whole frames waiting to be written.
    wbuf: BytesMut,
    /// The peer closed (or a read failed: then `read_error` says why).
    eof: bool,
    /// Why reading stopped, returned once.
    read_error: Option<io::Error>,
    /// A reader waiting for our socket type (without a mechanism).
    reader: Option<Waker>,
    /// A Close frame went into `wbuf` (ours, or our answer to the peer's).
    close_sent: bool,
    /// The status of our Close frame: normal, or the peer's fault that
    /// ended reading.
    close_code: u16,
}

impl ZwsStream {
    /// A stream over an upgraded connection; `tail` holds what was read
    /// past the end of the upgrade (the peer's first frames).
    pub(crate) fn new(
        inner: BoxStream,
        tail: &[u8],
        role: Role,
        subprotocol: Subprotocol,
        max_message: u64,
    ) -> ZwsStream {
        ZwsStream {
            inner,
            role,
            subprotocol,
            inbound: Inbound::new(subprotocol),
            outbound: Outbound::new(subprotocol),
            decoder: FrameDecoder::new(role, max_message),
            max_message,
            rbuf: {
                let mut rbuf = vec![0; READ_CHUNK.max(tail.len())];
                rbuf[..tail.len()].copy_from_slice(tail);
                rbuf
            },
            rpos: 0,
            rend: tail.len(),
            fragments: None,
            wbuf: BytesMut::new(),
            eof: false,
            read_error: None,
            reader: None,
            close_sent: false,
            close_code: frame::CLOSE_NORMAL,
        }
    }

    /// The subprotocol agreed in the upgrade.
    pub fn subprotocol(&self) -> Subprotocol {
        self.subprotocol
    }

    /// Turns the engine's bytes into frames in `wbuf`.
    fn encode(&mut self, bufs: &[IoSlice<'_>]) {
        let mask = self.role == Role::Client;
        let wbuf = &mut self.wbuf;
        for buf in bufs {
            self.outbound.write(buf, |opcode, head, body| {
                frame::encode_parts(wbuf, opcode, head, body, mask.then(mask_key));
            });
        }
        if let Some(kind) = self.outbound.our_type() {
            if self.inbound.waits_for_our_type() {
                self.inbound.set_our_type(kind);
                if let Some(reader) = self.reader.take() {
                    reader.wake();
                }
            }
        }
    }

    /// Writes `wbuf` out; `Ready` once it is empty.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.wbuf.is_empty() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.wbuf) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    let _ = self.wbuf.split_to(n);
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.wbuf.capacity() > 4 * WRITE_HIGH_WATER {
            // A burst of large messages: do not keep its buffer.
            self.wbuf = BytesMut::new();
        }
        Poll::Ready(Ok(()))
    }

    /// Puts our Close frame (status `close_code`) in `wbuf`, unless a
    /// Close went already.
    fn queue_close(&mut self) {
        if !self.close_sent {
            self.close_sent = true;
            let mask = (self.role == Role::Client).then(mask_key);
            frame::encode(
                &mut self.wbuf,
                OP_CLOSE,
                &self.close_code.to_be_bytes(),
                mask,
            );
        }
    }

    /// Decodes the frames in `rbuf` as ZMTP bytes into `dst` (or, when
    /// they cannot go there in order, into `inbound`'s pending bytes),
    /// until `dst` is full, something is pending or no whole frame is
    /// left. Returns the bytes written into `dst`.
    fn decode(&mut self, dst: &mut [u8]) -> Result<usize, Broken> {
        let mut written = 0;
        while !self.eof
            && self.inbound.pending().is_empty()
            && written < dst.len()
            && self.rpos < self.rend
        {
            let decoded = self
                .decoder
                .decode_in_place(&mut self.rbuf[self.rpos..self.rend])?;
            let at = match decoded {
                Decoded::Frame(at) => at,
                Decoded::Need(_) => break,
            };
            let base = self.rpos;
            self.rpos += at.payload.end;
            let payload = &self.rbuf[base + at.payload.start..base + at.payload.end];
            match (at.opcode, at.fin, &mut self.fragments) {
                (OP_BINARY, true, None) => {
                    let was_bare = self.inbound.is_bare();
                    written += self.inbound.message_into(
                        payload,
                        self.outbound.our_type(),
                        &mut dst[written..],
                    )?;
                    if !was_bare && self.inbound.is_bare() {
                        self.outbound.set_bare();
                    }
                }
                (OP_BINARY, false, None) => self.fragments = Some(BytesMut::from(payload)),
                (OP_CONTINUATION, fin, Some(parts)) => {
                    let size = (parts.len() + payload.len()) as u64;
                    if size > self.max_message {
                        return Err(FrameError::TooLarge {
                            size,
                            max: self.max_message,
                        }
                        .into());
                    }
                    parts.extend_from_slice(payload);
                    if fin {
                        let message = self.fragments.take().unwrap_or_default();
                        let was_bare = self.inbound.is_bare();
                        written += self.inbound.message_into(
                            &message,
                            self.outbound.our_type(),
                            &mut dst[written..],
                        )?;
                        if !was_bare && self.inbound.is_bare() {
                            self.outbound.set_bare();
                        }
                    }
                }
                (OP_BINARY | OP_CONTINUATION, _, _) => return Err(FrameError::BadFragment.into()),
                (OP_TEXT, _, _) => return Err(ZwsError::TextMessage.into()),
                (OP_PING, _, _) => {
                    let mask = (self.role == Role::Client).then(mask_key);
                    frame::encode(&mut self.wbuf, OP_PONG, payload, mask);
                }
                (OP_PONG, _, _) => self.inbound.pong(payload),
                (OP_CLOSE, _, _) => {
                    // Answer with the same status code (unless we closed
                    // first), then end.
                    if !self.close_sent {
                        let code = payload.get(..2).unwrap_or_default();
                        let mask = (self.role == Role::Client).then(mask_key);
                        frame::encode(&mut self.wbuf, OP_CLOSE, code, mask);
                        self.close_sent = true;
                    }
                    self.eof = true;
                }
                // The decoder lets no other opcode through.
                (other, _, _) => return Err(FrameError::UnknownOpcode(other).into()),
            }
        }
        if self.rpos == self.rend {
            self.rpos = 0;
            self.rend = 0;
            if self.rbuf.len() > 4 * READ_CHUNK {
                // A large message went by: do not keep its buffer.
                self.rbuf = vec![0; READ_CHUNK];
            }
        }
        Ok(written)
    }

    /// Reads more of the socket into `rbuf`. `Ready(Ok(false))` at its end.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        if self.rend == self.rbuf.len() {
            if self.rpos > 0 {
                // Move the partial frame to the front.
                self.rbuf.copy_within(self.rpos..self.rend, 0);
                self.rend -= self.rpos;
                self.rpos = 0;
            }
            if self.rend == self.rbuf.len() {
                // A frame larger than the buffer: grow (doubling, at most
                // 1 MiB at a time; the decoder has checked its length
                // against the limit).
                let more = self.rbuf.len().clamp(READ_CHUNK, 1 << 20);
                self.rbuf.resize(self.rbuf.len() + more, 0);
            }
        }
        loop {
            match Pin::new(&mut self.inner).poll_read(cx, &mut self.rbuf[self.rend..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(false)),
                Poll::Ready(Ok(n)) => {
                    self.rend += n;
                    return Poll::Ready(Ok(true));
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncRead for ZwsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Frames waiting for the socket (pongs, a close, what a full socket
        // refused) go on here too: the engine reads on every pass, but
        // writes only when it has bytes.
        if let Poll::Ready(Err(e)) = this.poll_write_out(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            // What is pending first, then frames straight into the rest.
            let pending = this.inbound.pending();
            let mut n = pending.len().min(buf.len());
            buf[..n].copy_from_slice(&pending[..n]);
            this.inbound.consume(n);
            if this.inbound.pending().is_empty() {
                match this.decode(&mut buf[n..]) {
                    Ok(more) => n += more,
                    Err(broken) => {
                        this.eof = true;
                        this.close_code = broken.close_code();
                        this.read_error = Some(invalid(broken.to_string()));
                    }
                }
            }
            // The answers decoding made (pong, close) go out now.
            if let Poll::Ready(Err(e)) = this.poll_write_out(cx) {
                return Poll::Ready(Err(e));
            }
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            if !this.inbound.pending().is_empty() {
                continue;
            }
            if let Some(e) = this.read_error.take() {
                return Poll::Ready(Err(e));
            }
            if this.eof {
                return Poll::Ready(Ok(0));
            }
            if this.inbound.waits_for_our_type() {
                // Our READY has not gone by yet: the write side wakes us.
                this.reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
            match this.poll_fill(cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) => {
                    this.eof = true;
                    if this.rpos < this.rend || this.fragments.is_some() {
                        this.read_error = Some(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the peer closed the connection in the middle of a WebSocket frame",
                        ));
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl AsyncWrite for ZwsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = this.poll_write_out(cx)?;
        if written.is_pending() && this.wbuf.len() >= WRITE_HIGH_WATER {
            return Poll::Pending;
        }
        let n = bufs.iter().map(|b| b.len()).sum();
        this.encode(bufs);
        // What the socket refuses now goes with the next write, the
        // engine's flush or its next read.
        if let Poll::Ready(Err(e)) = this.poll_write_out(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    /// Ends the connection (the socket calls it when the engine has
    /// ended): a Close frame first (RFC 6455, section 5.5.1) with
    /// [`CLOSE_NORMAL`](frame::CLOSE_NORMAL), or the status of the peer's
    /// fault that ended reading (1002 protocol error, 1003 a text message,
    /// 1009 too big), unless a Close already went (our answer to the
    /// peer's); then the connection underneath is closed, without waiting
    /// for the peer's answer.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.queue_close();
        std::task::ready!(this.poll_write_out(cx))?;
        std::task::ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

impl Drop for ZwsStream {
    /// A stream dropped without [`poll_close`](AsyncWrite::poll_close)
    /// (its task was cancelled: a disconnect, LINGER over) still tries to
    /// send its Close frame: one write that does not wait.
    fn drop(&mut self) {
        if self.close_sent {
            return;
        }
        self.queue_close();
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Ok(())) = self.poll_write_out(&mut cx) {
            let _ = Pin::new(&mut self.inner).poll_flush(&mut cx);
        }
    }
}

impl fmt::Debug for ZwsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZwsStream")
            .field("role", &self.role)
            .field("subprotocol", &self.subprotocol)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

/// A masking key for a client's frame: fastrand's per-thread generator
/// (wyrand, seeded from the system's randomness), which RFC 6455's
/// purpose (that a client cannot choose what goes on the wire, against
/// proxy cache poisoning) is served by; it is not a secret.
fn mask_key() -> [u8; 4] {
    fastrand::u32(..).to_ne_bytes()
}

/// Why decoding stopped: the peer's fault, in its framing or in ZWS.
#[derive(Debug)]
enum Broken {
    /// A frame RFC 6455 (or our limit) does not allow.
    Frame(FrameError),
    /// A message ZWS 2.0 does not allow.
    Zws(ZwsError),
}

impl Broken {
    /// The status our Close frame gives for it.
    fn close_code(&self) -> u16 {
        match self {
            Broken::Frame(e) => e.close_code(),
            Broken::Zws(e) => e.close_code(),
        }
    }
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Frame(e) => e.fmt(f),
            Broken::Zws(e) => e.fmt(f),
        }
    }
}

impl From<FrameError> for Broken {
    fn from(e: FrameError) -> Broken {
        Broken::Frame(e)
    }
}

impl From<ZwsError> for Broken {
    fn from(e: ZwsError) -> Broken {
        Broken::Zws(e)
    }
}

/// An `InvalidData` error with `reason`.
fn invalid(reason: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason)
}
