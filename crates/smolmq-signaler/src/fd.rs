//! [`FdSignaler`]: a wake-up that is also a file descriptor, readable while a
//! signal is pending (an eventfd on Linux and Android, a pipe elsewhere).

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::{Async, Readable};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;

/// The longest single `poll(2)` sleep; longer waits poll again. Some systems
/// refuse timeouts beyond `c_int::MAX` milliseconds (about 24 days).
const MAX_POLL: Duration = Duration::from_secs(24 * 60 * 60);

/// How many bytes one `read(2)` drains from a pipe.
const DRAIN_CHUNK: usize = 64;

/// A cross-thread wake-up backed by a file descriptor that is readable while
/// a signal is pending, for callers that wait in their own poll loop (like
/// libzmq's `ZMQ_FD`).
///
/// The methods are those of [`Signaler`](crate::Signaler), returning
/// [`io::Result`] because each is a system call: `signal` writes the
/// descriptor, `try_recv` reads it, `wait` and `wait_timeout` sleep in
/// `poll(2)`, and [`recv`](FdSignaler::recv) awaits readability through
/// `async-io`'s reactor. Signals coalesce: one read consumes all that are
/// pending.
///
/// The descriptor is an eventfd on Linux and Android and the read end of a
/// pipe on other Unix systems; both are non-blocking and close-on-exec.
/// Register it for readability in your own `epoll`/`kqueue`/`poll` set, and
/// call [`try_recv`](FdSignaler::try_recv) when it fires. Do not read it
/// yourself.
///
/// The descriptor joins `async-io`'s reactor (which starts that crate's
/// driver thread) only on the first [`recv`](FdSignaler::recv), so blocking
/// and external-poll users pay nothing for it.
///
/// # Examples
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use smolmq_signaler::FdSignaler;
/// use std::sync::Arc;
/// use std::thread;
///
/// let signaler = Arc::new(FdSignaler::new()?);
/// let remote = signaler.clone();
/// let handle = thread::spawn(move || remote.signal());
/// signaler.wait()?;
/// handle.join().unwrap()?;
/// assert!(!signaler.try_recv()?);
/// # Ok(())
/// # }
/// ```
pub struct FdSignaler {
    /// Registration with `async-io`'s reactor, made by the first `recv`.
    reactor: OnceLock<Async<Arc<OwnedFd>>>,
    /// Serializes that registration: registering one descriptor twice fails.
    registering: Mutex<()>,
    /// The descriptor that becomes readable: the eventfd, or the pipe's read
    /// end. Shared with the reactor's registration.
    read: Arc<OwnedFd>,
    /// The pipe's write end; `None` for an eventfd, which is written through
    /// `read`.
    write: Option<OwnedFd>,
}

impl FdSignaler {
    /// A signaler with no signal pending, on a new eventfd (Linux, Android)
    /// or pipe (other Unix systems).
    pub fn new() -> io::Result<FdSignaler> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            FdSignaler::eventfd()
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            FdSignaler::pipe()
        }
    }

    /// A signaler on a new non-blocking eventfd.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn eventfd() -> io::Result<FdSignaler> {
        use rustix::event::{eventfd, EventfdFlags};
        let fd = eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC)?;
        Ok(FdSignaler::from_fds(fd, None))
    }

    /// A signaler on a new non-blocking pipe.
    #[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
    pub(crate) fn pipe() -> io::Result<FdSignaler> {
        use rustix::io::{fcntl_setfd, ioctl_fionbio, FdFlags};
        // `pipe2` is missing on some systems (macOS), so set the flags after.
        let (read, write) = rustix::pipe::pipe()?;
        for fd in [&read, &write] {
            fcntl_setfd(fd, FdFlags::CLOEXEC)?;
            ioctl_fionbio(fd, true)?;
        }
        Ok(FdSignaler::from_fds(read, Some(write)))
    }

    /// Wraps a readable end and an optional separate write end.
    fn from_fds(read: OwnedFd, write: Option<OwnedFd>) -> FdSignaler {
        FdSignaler {
            reactor: OnceLock::new(),
            registering: Mutex::new(()),
            read: Arc::new(read),
            write,
        }
    }

    /// Sends a signal: makes the descriptor readable, which wakes one waiter
    /// or leaves the signal pending for the next consumer.
    ///
    /// Never blocks; one `write(2)`, even when a signal is already pending.
    pub fn signal(&self) -> io::Result<()> {
        let result = match &self.write {
            None => retry(|| rustix::io::write(&*self.read, &1u64.to_ne_bytes())),
            Some(write) => retry(|| rustix::io::write(write, &[1u8])),
        };
        match result {
            // A full pipe or a saturated eventfd counter is readable already.
            Ok(_) | Err(Errno::AGAIN) => Ok(()),
            Err(errno) => Err(errno.into()),
        }
    }

    /// Consumes every pending signal without waiting; `true` if there was
    /// one.
    pub fn try_recv(&self) -> io::Result<bool> {
        if self.write.is_none() {
            // An eventfd hands out and resets its whole counter in one read.
            let mut counter = [0u8; 8];
            return match retry(|| rustix::io::read(&*self.read, &mut counter)) {
                Ok(_) => Ok(true),
                Err(Errno::AGAIN) => Ok(false),
                Err(errno) => Err(errno.into()),
            };
        }
        let mut received = false;
        let mut chunk = [0u8; DRAIN_CHUNK];
        loop {
            match retry(|| rustix::io::read(&*self.read, &mut chunk)) {
                // A short read emptied the pipe.
                Ok(n) if n < DRAIN_CHUNK => return Ok(received || n > 0),
                Ok(_) => received = true,
                Err(Errno::AGAIN) => return Ok(received),
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// Blocks the thread in `poll(2)` until a signal arrives, and consumes it.
    pub fn wait(&self) -> io::Result<()> {
        self.wait_until(None).map(drop)
    }

    /// Blocks the thread until a signal arrives or `timeout` passes.
    ///
    /// Returns `Ok(true)` if it consumed a signal, `Ok(false)` on timeout. A
    /// pending signal is consumed even with a zero timeout.
    pub fn wait_timeout(&self, timeout: Duration) -> io::Result<bool> {
        // A timeout too far away to represent is no timeout.
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Waits for a signal in a task: the future resolves once it has
    /// consumed a signal.
    ///
    /// Readiness comes from `async-io`'s reactor, which this descriptor joins
    /// on the first call. Dropping the future consumes nothing.
    pub fn recv(&self) -> FdRecv<'_> {
        FdRecv {
            signaler: self,
            readable: None,
        }
    }

    /// The blocking wait behind [`wait`](FdSignaler::wait) and
    /// [`wait_timeout`](FdSignaler::wait_timeout); `None` waits forever.
    fn wait_until(&self, deadline: Option<Instant>) -> io::Result<bool> {
        loop {
            if self.try_recv()? {
                return Ok(true);
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(false),
                },
            };
            let timeout = Timespec::try_from(timeout.unwrap_or(MAX_POLL).min(MAX_POLL))
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            let mut fds = [PollFd::new(&*self.read, PollFlags::IN)];
            match rustix::event::poll(&mut fds, Some(&timeout)) {
                // Readable, timed out or interrupted: look again.
                Ok(_) | Err(Errno::INTR) => {}
                Err(errno) => return Err(errno.into()),
            }
        }
    }

    /// What the descriptor is, for `Debug`.
    fn kind(&self) -> &'static str {
        match self.write {
            None => "eventfd",
            Some(_) => "pipe",
        }
    }

    /// The registration with `async-io`'s reactor, made on first use.
    fn registered(&self) -> io::Result<&Async<Arc<OwnedFd>>> {
        if let Some(registered) = self.reactor.get() {
            return Ok(registered);
        }
        let _guard = self
            .registering
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(registered) = self.reactor.get() {
            return Ok(registered);
        }
        // The descriptor is non-blocking already.
        let registered = Async::new_nonblocking(self.read.clone())?;
        Ok(self.reactor.get_or_init(|| registered))
    }
}

/// Runs a system call until it is not interrupted.
fn retry<T>(mut call: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
    loop {
        match call() {
            Err(Errno::INTR) => {}
            result => return result,
        }
    }
}

impl AsFd for FdSignaler {
    /// The descriptor that is readable while a signal is pending.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

impl AsRawFd for FdSignaler {
    /// The descriptor that is readable while a signal is pending.
    fn as_raw_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }
}

impl fmt::Debug for FdSignaler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FdSignaler")
            .field("kind", &self.kind())
            .field("fd", &self.read.as_raw_fd())
            .field("registered", &self.reactor.get().is_some())
            .finish()
    }
}

/// The future returned by [`FdSignaler::recv`]: resolves once it has
/// consumed a signal, or to the error of a failed system call.
#[must_use = "futures do nothing unless polled"]
pub struct FdRecv<'a> {
    /// The signaler waited on.
    signaler: &'a FdSignaler,
    /// The pending wait for readability, once the descriptor was found empty.
    readable: Option<Readable<'a, Arc<OwnedFd>>>,
}

impl Future for FdRecv<'_> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match this.readable.as_mut() {
                None => {
                    if this.signaler.try_recv()? {
                        return Poll::Ready(Ok(()));
                    }
                    this.readable = Some(this.signaler.registered()?.readable());
                }
                Some(readable) => {
                    let ready = Pin::new(readable).poll(cx);
                    if ready.is_pending() {
                        return Poll::Pending;
                    }
                    this.readable = None;
                    if let Poll::Ready(Err(err)) = ready {
                        return Poll::Ready(Err(err));
                    }
                }
            }
        }
    }
}

impl fmt::Debug for FdRecv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FdRecv")
            .field("signaler", self.signaler)
            .field("waiting", &self.readable.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::FdSignaler;
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    /// The pipe backend, used off Linux, works here too.
    #[test]
    fn pipe_backend() {
        let signaler = FdSignaler::pipe().unwrap();
        assert!(!signaler.try_recv().unwrap());
        for _ in 0..1000 {
            signaler.signal().unwrap();
        }
        assert!(signaler.try_recv().unwrap());
        assert!(!signaler.try_recv().unwrap());
        assert!(!signaler.wait_timeout(Duration::from_millis(10)).unwrap());
        signaler.signal().unwrap();
        assert!(signaler.wait_timeout(Duration::ZERO).unwrap());

        // Fill the pipe past its capacity: signal must not block or fail.
        for _ in 0..200_000 {
            signaler.signal().unwrap();
        }
        assert!(signaler.try_recv().unwrap());
        assert!(!signaler.try_recv().unwrap());

        let signaler = Arc::new(signaler);
        signaler.signal().unwrap();
        futures_lite::future::block_on(signaler.recv()).unwrap();
        let remote = signaler.clone();
        let handle = thread::spawn(move || remote.signal());
        futures_lite::future::block_on(signaler.recv()).unwrap();
        handle.join().unwrap().unwrap();
    }
}
