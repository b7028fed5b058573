//! [`ReadBuffered`]: the tcp stream under a TLS session, read in large
//! chunks; [`ClientSession`]: a client's session, telling a late refusal
//! of its handshake from a broken connection; [`FullReads`]: the session
//! as the engine reads it, a whole socket read's plaintext at a time.
//!
//! rustls pulls ciphertext 4 KiB at a time (`read_tls`), so over a bare
//! socket a 16 KiB record costs four `read` system calls and 64 KiB of
//! small messages sixteen, where the plain tcp engine makes one. Under
//! [`ReadBuffered`] each system call reads up to [`READ_CHUNK`] and
//! rustls's small reads are served from memory. futures-rustls's reads
//! stop at the plaintext of one such 4 KiB piece, though: above the
//! session [`FullReads`] goes on reading while ciphertext already read
//! from the socket is left, so the engine decodes and delivers up to
//! 64 KiB at once, as over tcp, not 4 KiB. Writes pass straight through:
//! rustls already hands its records to one vectored write.

use futures_io::{AsyncRead, AsyncWrite};
use smolmq_core::transport::handshake_refused;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// `AsyncWrite` for a wrapper `$name<S>` whose writes go straight to its
/// `inner` stream: both wrappers here change reading only.
macro_rules! pass_writes_through {
    ($name:ident) => {
        impl<S: AsyncWrite + Unpin> AsyncWrite for $name<S> {
            fn poll_write(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_flush(cx)
            }

            fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.inner).poll_close(cx)
            }
        }
    };
}

/// The most read from the socket at once (the engine's read size).
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A stream whose reads go through a buffer of [`READ_CHUNK`] bytes.
#[derive(Debug)]
pub(crate) struct ReadBuffered<S> {
    /// The stream.
    inner: S,
    /// Bytes read and not yet consumed are `buf[pos..end]`. Allocated on
    /// the first read, so a connection that fails its handshake early
    /// costs little.
    buf: Vec<u8>,
    /// Start of the unconsumed bytes.
    pos: usize,
    /// End of the bytes read.
    end: usize,
}

impl<S> ReadBuffered<S> {
    /// `inner`, with nothing buffered yet.
    pub(crate) fn new(inner: S) -> ReadBuffered<S> {
        ReadBuffered {
            inner,
            buf: Vec::new(),
            pos: 0,
            end: 0,
        }
    }

    /// Whether bytes read from the stream are not yet consumed.
    pub(crate) fn has_buffered(&self) -> bool {
        self.pos < self.end
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadBuffered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pos == this.end {
            if out.len() >= READ_CHUNK {
                // Nothing gained by buffering a read this large.
                return Pin::new(&mut this.inner).poll_read(cx, out);
            }
            if this.buf.is_empty() {
                this.buf = vec![0; READ_CHUNK];
            }
            let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.buf))?;
            this.pos = 0;
            this.end = n;
            if n == 0 {
                return Poll::Ready(Ok(0));
            }
        }
        let n = out.len().min(this.end - this.pos);
        out[..n].copy_from_slice(&this.buf[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(n))
    }
}

pass_writes_through!(ReadBuffered);

/// A TLS session over a [`ReadBuffered`] stream: whether ciphertext read
/// from the socket is waiting to be handed to the session.
pub(crate) trait Ciphertext {
    /// Whether bytes read from the socket wait for the session to take them.
    fn has_ciphertext(&self) -> bool;
}

impl<S> Ciphertext for futures_rustls::server::TlsStream<ReadBuffered<S>> {
    fn has_ciphertext(&self) -> bool {
        self.get_ref().0.has_buffered()
    }
}

impl<S> Ciphertext for futures_rustls::client::TlsStream<ReadBuffered<S>> {
    fn has_ciphertext(&self) -> bool {
        self.get_ref().0.has_buffered()
    }
}

/// A TLS session read until the caller's buffer is full or the
/// ciphertext already read from the socket is used up, instead of one
/// 4 KiB piece's plaintext per read (see the module docs). It never
/// reads the socket more often than the session alone would: it asks
/// the session again while [`Ciphertext::has_ciphertext`]. An error
/// after some bytes were read is kept and returned by the next read, so
/// nothing read is lost and nothing is hidden.
#[derive(Debug)]
pub(crate) struct FullReads<S> {
    /// The session.
    inner: S,
    /// An error met after bytes already read were returned.
    error: Option<io::Error>,
}

impl<S> FullReads<S> {
    /// `inner`, read in full.
    pub(crate) fn new(inner: S) -> FullReads<S> {
        FullReads { inner, error: None }
    }
}

impl<S: AsyncRead + Ciphertext + Unpin> AsyncRead for FullReads<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Some(err) = this.error.take() {
            return Poll::Ready(Err(err));
        }
        let mut filled = 0;
        loop {
            match Pin::new(&mut this.inner).poll_read(cx, &mut out[filled..]) {
                // The end of the stream: reported once all read is out.
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(filled)),
                Poll::Ready(Ok(n)) => filled += n,
                Poll::Ready(Err(err)) if filled == 0 => return Poll::Ready(Err(err)),
                Poll::Ready(Err(err)) => {
                    this.error = Some(err);
                    return Poll::Ready(Ok(filled));
                }
                Poll::Pending if filled == 0 => return Poll::Pending,
                // The session registered the waker; what was read goes now.
                Poll::Pending => return Poll::Ready(Ok(filled)),
            }
            if filled == out.len() || !this.inner.has_ciphertext() {
                return Poll::Ready(Ok(filled));
            }
        }
    }
}

pass_writes_through!(FullReads);

/// A client's TLS session until the server's first bytes arrive: a TLS
/// error read before them is the server refusing our handshake (in TLS
/// 1.3 the client's handshake is over before the server checks the
/// client's certificate, and the server's alert comes instead of its ZMTP
/// greeting), so it is returned marked with
/// [`handshake_refused`](smolmq_core::transport::handshake_refused) and
/// the socket reports a failed handshake. After the first bytes, errors
/// pass through as they are.
#[derive(Debug)]
pub(crate) struct ClientSession<S> {
    /// The TLS stream.
    inner: S,
    /// The server's first bytes came: its handshake accepted ours.
    accepted: bool,
    /// The server's address, for the error.
    peer: String,
}

impl<S> ClientSession<S> {
    /// `inner`, just after its handshake, with the server at `peer`.
    pub(crate) fn new(inner: S, peer: String) -> ClientSession<S> {
        ClientSession {
            inner,
            accepted: false,
            peer,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ClientSession<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let read = ready!(Pin::new(&mut this.inner).poll_read(cx, out));
        if this.accepted {
            return Poll::Ready(read);
        }
        Poll::Ready(match read {
            Ok(n) => {
                this.accepted = n > 0;
                Ok(n)
            }
            Err(err) if is_tls_error(&err) => {
                Err(handshake_refused(crate::handshake_failed(err, &this.peer)))
            }
            Err(err) => Err(err),
        })
    }
}

pass_writes_through!(ClientSession);

impl<S: Ciphertext> Ciphertext for ClientSession<S> {
    fn has_ciphertext(&self) -> bool {
        self.inner.has_ciphertext()
    }
}

/// Whether `err` carries a rustls error (an alert received, a record that
/// does not decode).
fn is_tls_error(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::{Ciphertext, FullReads, ReadBuffered, READ_CHUNK};
    use futures_io::AsyncRead;
    use futures_lite::io::{AsyncReadExt, Cursor};
    use std::collections::VecDeque;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A session that answers reads from a script, one step per read,
    /// and claims ciphertext is buffered while steps marked so are left.
    struct Scripted {
        /// Each read's answer, and whether ciphertext is left after it.
        steps: VecDeque<(Poll<io::Result<Vec<u8>>>, bool)>,
        /// After the last read.
        buffered: bool,
    }

    impl Scripted {
        fn new(steps: Vec<(Poll<io::Result<Vec<u8>>>, bool)>) -> Scripted {
            Scripted {
                steps: steps.into(),
                buffered: false,
            }
        }
    }

    impl AsyncRead for Scripted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            out: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let Some((answer, buffered)) = self.steps.pop_front() else {
                return Poll::Ready(Ok(0));
            };
            self.buffered = buffered;
            answer.map(|r| {
                r.map(|bytes| {
                    out[..bytes.len()].copy_from_slice(&bytes);
                    bytes.len()
                })
            })
        }
    }

    impl Ciphertext for Scripted {
        fn has_ciphertext(&self) -> bool {
            self.buffered
        }
    }

    fn read(r: &mut FullReads<Scripted>, len: usize) -> Poll<io::Result<Vec<u8>>> {
        let mut out = vec![0; len];
        let mut cx = Context::from_waker(std::task::Waker::noop());
        Pin::new(r).poll_read(&mut cx, &mut out).map(|res| {
            res.map(|n| {
                out.truncate(n);
                out
            })
        })
    }

    /// Asserts that one read of at most `len` bytes returns `want`.
    #[track_caller]
    fn reads(r: &mut FullReads<Scripted>, len: usize, want: &[u8]) {
        match read(r, len) {
            Poll::Ready(Ok(got)) => assert_eq!(got, want),
            other => panic!("expected {want:?}, got {other:?}"),
        }
    }

    fn ok(bytes: &[u8], buffered: bool) -> (Poll<io::Result<Vec<u8>>>, bool) {
        (Poll::Ready(Ok(bytes.to_vec())), buffered)
    }

    #[test]
    fn reads_on_while_ciphertext_is_left_then_stops() {
        let mut r = FullReads::new(Scripted::new(vec![
            ok(b"ab", true),
            ok(b"cd", true),
            ok(b"ef", false),
            ok(b"gh", false),
        ]));
        reads(&mut r, 64, b"abcdef");
        // The socket is read again only on the next call.
        reads(&mut r, 64, b"gh");
    }

    #[test]
    fn stops_when_the_buffer_is_full() {
        let mut r = FullReads::new(Scripted::new(vec![ok(b"abc", true), ok(b"d", true)]));
        reads(&mut r, 3, b"abc");
        reads(&mut r, 3, b"d");
    }

    #[test]
    fn pending_after_some_bytes_returns_them() {
        let mut r = FullReads::new(Scripted::new(vec![ok(b"ab", true), (Poll::Pending, false)]));
        reads(&mut r, 64, b"ab");
        let mut r = FullReads::new(Scripted::new(vec![(Poll::Pending, false)]));
        assert!(read(&mut r, 64).is_pending());
    }

    #[test]
    fn an_error_after_some_bytes_comes_with_the_next_read() {
        let broken = || io::Error::new(io::ErrorKind::InvalidData, "bad record mac");
        let mut r = FullReads::new(Scripted::new(vec![
            ok(b"ab", true),
            (Poll::Ready(Err(broken())), false),
            ok(b"never", false),
        ]));
        reads(&mut r, 64, b"ab");
        match read(&mut r, 64) {
            Poll::Ready(Err(err)) => assert_eq!(err.to_string(), "bad record mac"),
            other => panic!("expected the kept error, got {other:?}"),
        }
    }

    #[test]
    fn the_end_after_some_bytes_returns_them_then_the_end() {
        let mut r = FullReads::new(Scripted::new(vec![ok(b"ab", true)]));
        reads(&mut r, 64, b"ab");
        reads(&mut r, 64, b"");
    }

    #[test]
    fn small_reads_come_from_one_large_read_in_order() {
        let data: Vec<u8> = (0..3 * READ_CHUNK + 17).map(|i| (i % 251) as u8).collect();
        let mut r = ReadBuffered::new(Cursor::new(data.clone()));
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        futures_lite::future::block_on(async {
            loop {
                let n = r.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&chunk[..n]);
            }
        });
        assert_eq!(got, data);
    }

    #[test]
    fn a_large_read_bypasses_the_buffer() {
        let data = vec![9u8; READ_CHUNK + 1];
        let mut r = ReadBuffered::new(Cursor::new(data));
        let mut big = vec![0u8; READ_CHUNK + 1];
        let n = futures_lite::future::block_on(r.read(&mut big)).unwrap();
        assert_eq!(n, READ_CHUNK + 1);
        assert!(r.buf.is_empty());
    }
}
