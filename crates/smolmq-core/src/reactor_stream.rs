//! [`ReactorStream`]: a non-blocking socket on the async-io reactor that
//! pays one failed system call per wait, not two (the why is on the type).
//! Traced on an engine in ping-pong (one 4 KiB line each way), async-io's
//! own `Async<T>` stream cost two `recvfrom` calls that returned `EAGAIN`
//! per message.

use async_io::Async;
use futures_io::{AsyncRead, AsyncWrite};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A socket that [`ReactorStream`] can drive: non-blocking reads and writes
/// through a shared reference, and a shutdown of the writing side.
pub trait ReactorSocket: Send + Sync + 'static
where
    for<'a> &'a Self: Read + Write,
{
    /// Shuts the writing side down (sends FIN).
    fn shutdown_write(&self) -> io::Result<()>;
}

impl ReactorSocket for TcpStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl ReactorSocket for UnixStream {
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// A connection's socket on the async-io reactor, read and written with one
/// `EAGAIN` per wait. The tcp and ipc transports hand these to the engines.
///
/// async-io's own `AsyncRead` for `Async<T>`, after a read fails with
/// `EAGAIN`, asks the reactor whether the socket is ready; right after a
/// wake-up the answer is yes (the event that woke the task, already used
/// up by the read), so it reads and fails again before it registers for
/// the next event. This stream asks twice instead of reading twice; a
/// genuinely new event is not lost, since re-arming epoll reports a socket
/// that is ready at that moment. Writes are treated alike.
///
/// # Examples
///
/// ```
/// use async_io::Async;
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use smolmq_core::transport::ReactorStream;
/// use std::os::unix::net::UnixStream;
///
/// # fn main() -> std::io::Result<()> {
/// let (a, b) = UnixStream::pair()?;
/// let (mut a, mut b) = (ReactorStream::new(Async::new(a)?), ReactorStream::new(Async::new(b)?));
/// futures_lite::future::block_on(async {
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok(())
/// })
/// # }
/// ```
#[derive(Debug)]
pub struct ReactorStream<T> {
    /// The socket, registered with the reactor.
    inner: Async<T>,
}

impl<T> ReactorStream<T> {
    /// Wraps a socket registered with the reactor.
    pub fn new(inner: Async<T>) -> ReactorStream<T> {
        ReactorStream { inner }
    }

    /// The socket.
    pub fn get_ref(&self) -> &T {
        self.inner.get_ref()
    }

    /// The socket as registered with the reactor.
    pub fn as_async(&self) -> &Async<T> {
        &self.inner
    }
}

/// After an operation failed with `EAGAIN`: `Ready` if the socket may be
/// ready now (try again), `Pending` once the task is registered for its
/// next event. `poll` is the reactor's readiness question.
fn wait_ready(
    cx: &mut Context<'_>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<()>> {
    // The first answer may be the event that the failed call already used
    // up; the second registers (or reports a newer event).
    match poll(cx) {
        Poll::Ready(Ok(())) => poll(cx),
        other => other,
    }
}

/// Runs `op` until it does not fail with `EAGAIN`, waiting with `poll`.
fn drive<R>(
    cx: &mut Context<'_>,
    mut op: impl FnMut() -> io::Result<R>,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<io::Result<()>>,
) -> Poll<io::Result<R>> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            done => return Poll::Ready(done),
        }
        match wait_ready(cx, &mut poll) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
    }
}

impl<T: ReactorSocket> AsyncRead for ReactorStream<T>
where
    for<'a> &'a T: Read + Write,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        drive(
            cx,
            || inner.get_ref().read(buf),
            |cx| inner.poll_readable(cx),
        )
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        drive(
            cx,
            || inner.get_ref().read_vectored(bufs),
            |cx| inner.poll_readable(cx),
        )
    }
}

impl<T: ReactorSocket> AsyncWrite for ReactorStream<T>
where
    for<'a> &'a T: Read + Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        drive(
            cx,
            || inner.get_ref().write(buf),
            |cx| inner.poll_writable(cx),
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        drive(
            cx,
            || inner.get_ref().write_vectored(bufs),
            |cx| inner.poll_writable(cx),
        )
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered here: a socket's writes are in the kernel.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.get_ref().shutdown_write())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};

    /// Runs `f` on a thread of its own and fails the test if it takes
    /// longer than two minutes (a lost wake-up hangs instead of failing).
    fn within(f: impl FnOnce() + Send + 'static) {
        let (done, finished) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            f();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(()) => t.join().unwrap(),
            // The thread panicked: join reports the panic.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => t.join().unwrap(),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("hung: a wake-up was lost"),
        }
    }

    /// A pair of connected streams.
    fn pair() -> (ReactorStream<UnixStream>, ReactorStream<UnixStream>) {
        let (a, b) = UnixStream::pair().unwrap();
        (
            ReactorStream::new(Async::new(a).unwrap()),
            ReactorStream::new(Async::new(b).unwrap()),
        )
    }

    /// A reader that waits on an empty socket is woken by a write from
    /// another thread, round after round (a lost registration hangs).
    #[test]
    fn waiting_reader_is_woken_by_every_write() {
        within(waiting_reader_rounds);
    }

    /// The body of [`waiting_reader_is_woken_by_every_write`].
    fn waiting_reader_rounds() {
        let (mut a, mut b) = pair();
        let writer = std::thread::spawn(move || {
            block_on(async {
                for n in 0..2_000u32 {
                    a.write_all(&n.to_le_bytes()).await.unwrap();
                    let mut ack = [0; 1];
                    a.read_exact(&mut ack).await.unwrap();
                }
                a.close().await.unwrap();
            })
        });
        block_on(async {
            for n in 0..2_000u32 {
                let mut buf = [0; 4];
                b.read_exact(&mut buf).await.unwrap();
                assert_eq!(u32::from_le_bytes(buf), n);
                b.write_all(&[1]).await.unwrap();
            }
            // The peer's close (shutdown of its writing side) ends the
            // stream: a read of zero bytes.
            let mut rest = Vec::new();
            assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0);
        });
        writer.join().unwrap();
    }

    /// A writer that fills the socket's buffer waits and resumes once the
    /// reader drains it; every byte arrives in order.
    #[test]
    fn writer_blocked_on_a_full_buffer_resumes() {
        within(full_buffer_round);
    }

    /// The body of [`writer_blocked_on_a_full_buffer_resumes`].
    fn full_buffer_round() {
        let (mut a, mut b) = pair();
        let data: Vec<u8> = (0..4 << 20).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = std::thread::spawn(move || {
            block_on(async {
                a.write_all(&sent).await.unwrap();
                a.close().await.unwrap();
            })
        });
        let mut got = Vec::new();
        block_on(b.read_to_end(&mut got)).unwrap();
        writer.join().unwrap();
        assert!(got == data, "{} bytes arrived of {}", got.len(), data.len());
    }
}
