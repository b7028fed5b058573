//! [`ZwsStream`]: a WebSocket connection presented to the engine as a
//! ZMTP byte stream.

use crate::zws::{Inbound, Outbound, Outgoing};
use crate::Subprotocol;
use async_tungstenite::tungstenite::{Error as WsError, Message};
use async_tungstenite::WebSocketStream;
use futures_core::Stream as _;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use smolmq_core::transport::BoxStream;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Bytes of the engine's output held before writes push back (the engine
/// writes batches of about 64 KiB).
const WRITE_HIGH_WATER: usize = 256 * 1024;

/// A WebSocket connection after a ZWS 2.0 upgrade, read and written as the
/// ZMTP 3.1 byte stream the engine speaks (see the [`zws`](crate::zws)
/// module for the mapping).
///
/// Made by the transport's [`establish`](smolmq_core::transport::Transport::establish)
/// step, which upgrades the connection and hands this to the engine.
pub struct ZwsStream {
    /// The WebSocket.
    ws: WebSocketStream<BoxStream>,
    /// The subprotocol agreed in the upgrade.
    subprotocol: Subprotocol,
    /// The peer's messages as ZMTP bytes.
    inbound: Inbound,
    /// Our ZMTP bytes as messages.
    outbound: Outbound,
    /// A message made but not yet taken by the WebSocket.
    queued: Option<Message>,
    /// Messages went into the WebSocket since its last flush.
    unflushed: bool,
    /// The peer closed (or a read failed: then `read_error` says why).
    eof: bool,
    /// Why reading stopped, returned once.
    read_error: Option<io::Error>,
    /// A reader waiting for our socket type (without a mechanism).
    reader: Option<Waker>,
}

impl ZwsStream {
    /// A stream over an upgraded WebSocket.
    pub(crate) fn new(ws: WebSocketStream<BoxStream>, subprotocol: Subprotocol) -> ZwsStream {
        ZwsStream {
            ws,
            subprotocol,
            inbound: Inbound::new(subprotocol),
            outbound: Outbound::new(subprotocol),
            queued: None,
            unflushed: false,
            eof: false,
            read_error: None,
            reader: None,
        }
    }

    /// The subprotocol agreed in the upgrade.
    pub fn subprotocol(&self) -> Subprotocol {
        self.subprotocol
    }

    /// Hands the WebSocket what is ready to go, and with `flush` flushes
    /// it; `Ready` once all of it is taken (and with `flush` written out).
    fn poll_send(&mut self, cx: &mut Context<'_>, flush: bool) -> Poll<io::Result<()>> {
        loop {
            if self.queued.is_none() {
                self.queued = self.outbound.next_outgoing().map(|out| match out {
                    Outgoing::Message(m) => Message::Binary(m),
                    Outgoing::Ping(p) => Message::Ping(p),
                });
                if let Some(kind) = self.outbound.our_type() {
                    if self.inbound.waits_for_our_type() {
                        self.inbound.set_our_type(kind);
                        if let Some(reader) = self.reader.take() {
                            reader.wake();
                        }
                    }
                }
            }
            let Some(message) = self.queued.take() else {
                break;
            };
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Poll::Pending => {
                    self.queued = Some(message);
                    return Poll::Pending;
                }
            }
            Pin::new(&mut self.ws)
                .start_send(message)
                .map_err(io_error)?;
            self.unflushed = true;
        }
        if flush && self.unflushed {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error(e))),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes one message from the peer into `inbound`. `Ready(false)` at
    /// the end of the stream.
    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        loop {
            let message = match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Ready(Some(Ok(m))) => m,
                Poll::Ready(Some(Err(e))) => {
                    return match e {
                        // A peer that leaves without the closing handshake
                        // is a peer that left.
                        WsError::Protocol(
                            async_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                        ) => Poll::Ready(Ok(false)),
                        e => Poll::Ready(Err(io_error(e))),
                    };
                }
                Poll::Ready(None) => return Poll::Ready(Ok(false)),
                Poll::Pending => return Poll::Pending,
            };
            match message {
                Message::Binary(data) => {
                    let was_bare = self.inbound.is_bare();
                    self.inbound
                        .message(&data, self.outbound.our_type())
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    if !was_bare && self.inbound.is_bare() {
                        self.outbound.set_bare();
                    }
                    return Poll::Ready(Ok(true));
                }
                Message::Text(_) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        crate::zws::ZwsError::TextMessage,
                    )))
                }
                Message::Pong(payload) => {
                    self.inbound.pong(&payload);
                    return Poll::Ready(Ok(true));
                }
                // A ping is answered by tungstenite (with the next flush).
                Message::Ping(_) => self.unflushed = true,
                Message::Close(_) => return Poll::Ready(Ok(false)),
                Message::Frame(_) => {}
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
        // Output waiting on the socket (or a pong) goes on here too: the
        // engine reads on every pass, but writes only when it has bytes.
        if let Poll::Ready(Err(e)) = this.poll_send(cx, true) {
            return Poll::Ready(Err(e));
        }
        loop {
            if !this.inbound.pending().is_empty() {
                // Take what else has arrived, up to the caller's room.
                while !this.eof && this.inbound.pending().len() < buf.len() {
                    match this.poll_message(cx) {
                        Poll::Ready(Ok(true)) => {}
                        Poll::Ready(Ok(false)) => this.eof = true,
                        Poll::Ready(Err(e)) => {
                            this.eof = true;
                            this.read_error = Some(e);
                        }
                        Poll::Pending => break,
                    }
                }
                let pending = this.inbound.pending();
                let n = pending.len().min(buf.len());
                buf[..n].copy_from_slice(&pending[..n]);
                this.inbound.consume(n);
                return Poll::Ready(Ok(n));
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
            match this.poll_message(cx) {
                Poll::Ready(Ok(true)) => {}
                Poll::Ready(Ok(false)) => this.eof = true,
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
        let sent = this.poll_send(cx, false)?;
        if sent.is_pending() && this.outbound.buffered() >= WRITE_HIGH_WATER {
            return Poll::Pending;
        }
        let mut n = 0;
        for buf in bufs {
            this.outbound.push(buf);
            n += buf.len();
        }
        // Messages go into the WebSocket's buffer now; the engine's flush
        // (or its next read) writes them out.
        if let Poll::Ready(Err(e)) = this.poll_send(cx, false) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_send(cx, true)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_send(cx, true))?;
        Pin::new(&mut this.ws).poll_close(cx).map_err(io_error)
    }
}

impl fmt::Debug for ZwsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZwsStream")
            .field("subprotocol", &self.subprotocol)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

/// A WebSocket error as an [`io::Error`]: I/O errors as they are, protocol
/// errors as `InvalidData` with tungstenite's text.
pub(crate) fn io_error(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        e => io::Error::new(io::ErrorKind::InvalidData, format!("WebSocket: {e}")),
    }
}
