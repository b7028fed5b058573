//! [`ReadBuffered`]: the tcp stream under a TLS session, read in large
//! chunks; [`ClientSession`]: a client's session, telling a late refusal
//! of its handshake from a broken connection.
//!
//! rustls pulls ciphertext 4 KiB at a time (`read_tls`), so over a bare
//! socket a 16 KiB record costs four `read` system calls and 64 KiB of
//! small messages sixteen, where the plain tcp engine makes one. Under
//! this adapter each system call reads up to [`READ_CHUNK`] and rustls's
//! small reads are served from memory. Writes pass straight through:
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

/// Whether `err` carries a rustls error (an alert received, a record that
/// does not decode).
fn is_tls_error(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
}

#[cfg(test)]
mod tests {
    use super::{ReadBuffered, READ_CHUNK};
    use futures_lite::io::{AsyncReadExt, Cursor};

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
