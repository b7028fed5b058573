//! Sending and receiving on a socket bounded by a deadline, blocking or
//! async, whatever the socket's SNDTIMEO / RCVTIMEO say.

use async_io::Timer;
use smolmq_core::{Error, Msg, Result, SendError, Socket};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Instant;

/// Receives a message, waiting until `deadline` at most (`None`: forever);
/// [`Error::Timeout`] after it.
pub(crate) fn recv_until(socket: &mut Socket, deadline: Option<Instant>) -> Result<Msg> {
    loop {
        match socket.try_recv() {
            Err(Error::WouldBlock) => {}
            other => return other,
        }
        socket.wait_activity(remaining(deadline)?)?;
    }
}

/// Sends `msg`, waiting for room until `deadline` at most (`None`:
/// forever). The message is dropped on failure: callers here can make it
/// again.
pub(crate) fn send_until(socket: &mut Socket, msg: Msg, deadline: Option<Instant>) -> Result<()> {
    let mut msg = msg;
    loop {
        match socket.try_send(msg) {
            Ok(()) => return Ok(()),
            Err(e) if e.error().is_would_block() => msg = e.into_msg(),
            Err(e) => return Err(e.into_error()),
        }
        socket.wait_activity(remaining(deadline)?)?;
    }
}

/// Receives a message, awaiting one until `deadline` at most.
pub(crate) async fn recv_by(socket: &mut Socket, deadline: Option<Instant>) -> Result<Msg> {
    match socket.try_recv() {
        Err(Error::WouldBlock) => {}
        other => return other,
    }
    match deadline {
        None => socket.recv().await,
        Some(deadline) => race(socket.recv(), deadline)
            .await
            .unwrap_or(Err(Error::Timeout)),
    }
}

/// Sends `msg`, awaiting room until `deadline` at most; dropped on
/// failure.
pub(crate) async fn send_by(
    socket: &mut Socket,
    msg: Msg,
    deadline: Option<Instant>,
) -> Result<()> {
    let msg = match socket.try_send(msg) {
        Ok(()) => return Ok(()),
        Err(e) if e.error().is_would_block() => e.into_msg(),
        Err(e) => return Err(e.into_error()),
    };
    let sent = match deadline {
        None => socket.send(msg).await,
        Some(deadline) => match race(socket.send(msg), deadline).await {
            Some(sent) => sent,
            None => return Err(Error::Timeout),
        },
    };
    sent.map_err(SendError::into_error)
}

/// Drops `socket` and waits until its connections have written what it
/// queued, at most `limit`; whether they did. (Dropping a context stops
/// its I/O threads at once: a program that answers and exits loses its
/// last answers without this.)
pub(crate) fn close_and_flush(mut socket: Socket, limit: std::time::Duration) -> bool {
    // The monitor channel closes once the socket's last task has ended,
    // and each engine ends after writing out its queue.
    let events = socket.monitor();
    drop(socket);
    let deadline = Instant::now() + limit;
    while !events.is_disconnected() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let _ = events.recv_timeout(left.min(std::time::Duration::from_millis(50)));
    }
    true
}

/// Runs `fut` until it completes (`Some`) or `deadline` passes (`None`).
async fn race<F: Future>(fut: F, deadline: Instant) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut timer = Timer::at(deadline);
    poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match pin!(&mut timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// The time left until `deadline` (`Ok(None)` for none), or
/// [`Error::Timeout`] once it has passed.
fn remaining(deadline: Option<Instant>) -> Result<Option<std::time::Duration>> {
    match deadline {
        None => Ok(None),
        Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(Error::Timeout),
        },
    }
}
