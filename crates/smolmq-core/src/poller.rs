//! Waiting on many sockets at once: [`poll`] and [`poll_async`], libzmq's
//! `zmq_poll` for smolmq sockets.
//!
//! Each [`PollItem`] names a socket and what to wait for ([`Events`]);
//! the poll returns how many items are ready and sets each item's
//! [`ready`](PollItem::ready) events. "Readable" means a receive would
//! succeed now, "writable" that a send would (as the socket's pattern
//! judges it: a SUB counts only messages that pass its filter, a REQ is
//! writable only when no reply is pending).
//!
//! ```
//! use smolmq_core::poller::{poll, Events, PollItem};
//! use smolmq_core::{Context, Msg};
//! use smolmq_zmtp::SocketType;
//! use std::time::Duration;
//!
//! let ctx = Context::new()?;
//! let mut a = ctx.socket(SocketType::Pair)?;
//! a.bind("inproc://poller-doc")?;
//! let mut b = ctx.socket(SocketType::Pair)?;
//! b.connect("inproc://poller-doc")?;
//!
//! // Nothing to read yet: the poll times out with no item ready.
//! let mut items = [PollItem::new(&mut a, Events::READABLE)];
//! assert_eq!(poll(&mut items, Some(Duration::from_millis(10)))?, 0);
//!
//! b.send_blocking(Msg::from("hi")).map_err(|e| e.into_error())?;
//! let mut items = [PollItem::new(&mut a, Events::READABLE)];
//! assert_eq!(poll(&mut items, None)?, 1);
//! assert!(items[0].ready().is_readable());
//! assert_eq!(a.try_recv()?, Msg::from("hi"));
//! # Ok::<(), smolmq_core::Error>(())
//! ```
//!
//! # Cost
//!
//! A poll registers one wake-up signal with every socket (a lock each) and
//! clears it on return; each look at a socket reads its mailbox and asks
//! its pattern. Fine per poll; an event loop that polls after every
//! message pays it every time, so drain with `try_recv` / `try_send`
//! until they would block, then poll.

use crate::socket::Socket;
use crate::{Error, Result};
use smolmq_signaler::Signaler;
use std::fmt;
use std::ops::BitOr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a [`PollItem`] waits for, or what it found.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Events(u8);

impl Events {
    /// Nothing.
    pub const NONE: Events = Events(0);
    /// A receive would succeed (libzmq's `ZMQ_POLLIN`).
    pub const READABLE: Events = Events(1);
    /// A send would succeed (libzmq's `ZMQ_POLLOUT`).
    pub const WRITABLE: Events = Events(2);
    /// Both.
    pub const BOTH: Events = Events(3);

    /// True if every event of `other` is in `self`.
    pub fn contains(self, other: Events) -> bool {
        self.0 & other.0 == other.0
    }

    /// True for [`Events::NONE`].
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if [`Events::READABLE`] is in `self`.
    pub fn is_readable(self) -> bool {
        self.contains(Events::READABLE)
    }

    /// True if [`Events::WRITABLE`] is in `self`.
    pub fn is_writable(self) -> bool {
        self.contains(Events::WRITABLE)
    }
}

impl BitOr for Events {
    type Output = Events;

    fn bitor(self, rhs: Events) -> Events {
        Events(self.0 | rhs.0)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (false, false) => f.write_str("NONE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (true, true) => f.write_str("READABLE | WRITABLE"),
        }
    }
}

/// One socket of a poll, what to wait for, and what was found.
pub struct PollItem<'s> {
    /// The socket.
    socket: &'s mut Socket,
    /// What to wait for.
    interest: Events,
    /// What the last poll found.
    ready: Events,
}

impl<'s> PollItem<'s> {
    /// Waits for `interest` on `socket`.
    pub fn new(socket: &'s mut Socket, interest: Events) -> PollItem<'s> {
        PollItem {
            socket,
            interest,
            ready: Events::NONE,
        }
    }

    /// What the last poll found on this socket (a subset of the interest).
    pub fn ready(&self) -> Events {
        self.ready
    }

    /// The socket, to receive or send once it is ready.
    pub fn socket(&mut self) -> &mut Socket {
        self.socket
    }

    /// Looks at the socket now; true if something of interest is ready.
    fn look(&mut self) -> bool {
        let mut ready = Events::NONE;
        if self.interest.is_readable() && self.socket.has_in() {
            ready = ready | Events::READABLE;
        }
        if self.interest.is_writable() && self.socket.has_out() {
            ready = ready | Events::WRITABLE;
        }
        self.ready = ready;
        !ready.is_empty()
    }
}

impl fmt::Debug for PollItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollItem")
            .field("socket", &self.socket)
            .field("interest", &self.interest)
            .field("ready", &self.ready)
            .finish()
    }
}

/// Registers `signal` with every item's socket, and clears it on drop.
struct Watch<'a, 's> {
    /// The items.
    items: &'a mut [PollItem<'s>],
}

impl<'a, 's> Watch<'a, 's> {
    fn new(items: &'a mut [PollItem<'s>], signal: &Arc<Signaler>) -> Self {
        for item in items.iter_mut() {
            item.socket.shared().set_watch(Some(signal.clone()));
        }
        Watch { items }
    }

    /// Looks at every item; the number ready.
    fn scan(&mut self) -> usize {
        let mut ready = 0;
        for item in self.items.iter_mut() {
            if item.look() {
                ready += 1;
            }
        }
        ready
    }
}

impl Drop for Watch<'_, '_> {
    fn drop(&mut self) {
        for item in self.items.iter_mut() {
            item.socket.shared().set_watch(None);
        }
    }
}

/// An empty list with no timeout would wait for ever: refused.
fn refuse_endless(items: &[PollItem<'_>], timeout: Option<Duration>) -> Result<()> {
    if items.is_empty() && timeout.is_none() {
        return Err(Error::Unsupported(
            "poll of no socket with no timeout would never return".into(),
        ));
    }
    Ok(())
}

/// Waits until at least one item is ready or `timeout` passes (`None`:
/// no limit; zero: look once). Returns the number of items ready, 0 on
/// timeout; each item's [`ready`](PollItem::ready) tells what it found.
///
/// An empty list with no timeout would wait for ever: it fails with
/// [`Error::Unsupported`] instead.
pub fn poll(items: &mut [PollItem<'_>], timeout: Option<Duration>) -> Result<usize> {
    refuse_endless(items, timeout)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let signal = Arc::new(Signaler::new());
    // Watch first, then look: a change after the look signals the watch,
    // and a signal is never lost, so the wait below cannot miss it.
    let mut watch = Watch::new(items, &signal);
    loop {
        let ready = watch.scan();
        if ready > 0 {
            return Ok(ready);
        }
        match deadline {
            None => signal.wait(),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || !signal.wait_timeout(left) {
                    return Ok(0);
                }
            }
        }
    }
}

/// [`poll`] for async code: awaits until an item is ready or `timeout`
/// passes, on any executor.
pub async fn poll_async(items: &mut [PollItem<'_>], timeout: Option<Duration>) -> Result<usize> {
    refuse_endless(items, timeout)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    let signal = Arc::new(Signaler::new());
    let mut watch = Watch::new(items, &signal);
    loop {
        let ready = watch.scan();
        if ready > 0 {
            return Ok(ready);
        }
        match deadline {
            None => signal.recv().await,
            Some(deadline) => {
                let woken = async {
                    signal.recv().await;
                    true
                };
                let timer = async {
                    async_io::Timer::at(deadline).await;
                    false
                };
                if !first_of(woken, timer).await {
                    return Ok(0);
                }
            }
        }
    }
}

/// The first of two futures to finish (a small `or`, to need no extra
/// dependency).
async fn first_of<T>(
    a: impl std::future::Future<Output = T>,
    b: impl std::future::Future<Output = T>,
) -> T {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}
