//! [`LoadBalancer`]: round robin over the pipes that have room.

use super::active::ActiveList;
use super::{PipeId, Pipes};
use crate::pipe::WriteError;
use crate::Msg;

/// Sends each message to the next pipe with room, in turn (libzmq's
/// `lb_t`): what PUSH, DEALER and REQ send with.
///
/// A pipe refused at its HWM (or found closed) leaves the rotation until
/// its [`PipeEvent::Writable`](super::PipeEvent::Writable)
/// ([`activated`](LoadBalancer::activated)); when no pipe takes the
/// message, a send hands it back. A send touches only the pipe it writes
/// to (and any it finds full), never every pipe: see the
/// [module docs](super#load-balancing-and-fair-queueing).
///
/// A pattern calls [`attach`](LoadBalancer::attach) and
/// [`detach`](LoadBalancer::detach) from its own
/// [`Pattern::attach`](super::Pattern::attach) /
/// [`Pattern::detach`](super::Pattern::detach), and
/// [`activated`](LoadBalancer::activated) on `Writable`.
///
/// ```
/// use smolmq_core::pattern::{LoadBalancer, Pattern, PipeEvent, PipeId, Pipes, Refused};
/// use smolmq_core::{Error, Msg};
///
/// /// Round robin out; receives nothing.
/// #[derive(Default)]
/// struct Spread(LoadBalancer);
///
/// impl Pattern for Spread {
///     fn attach(&mut self, _: &mut Pipes, id: PipeId) -> bool {
///         self.0.attach(id);
///         true
///     }
///     fn detach(&mut self, id: PipeId) {
///         self.0.detach(id);
///     }
///     fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
///         self.0.send(pipes, msg).map(drop).map_err(Refused::would_block)
///     }
///     fn recv(&mut self, _: &mut Pipes) -> Result<Msg, Error> {
///         Err(Error::WouldBlock)
///     }
///     fn activated(&mut self, _: &mut Pipes, id: PipeId, event: PipeEvent) {
///         if event == PipeEvent::Writable {
///             self.0.activated(id);
///         }
///     }
///     fn has_out(&mut self, pipes: &mut Pipes) -> bool {
///         self.0.has_out(pipes)
///     }
/// }
/// ```
#[derive(Debug, Default)]
pub struct LoadBalancer {
    /// The pipes; active ones have (or may have) room.
    pipes: ActiveList,
}

impl LoadBalancer {
    /// A load balancer with no pipes.
    pub fn new() -> LoadBalancer {
        LoadBalancer::default()
    }

    /// Adds a pipe to the rotation (a new pipe is taken to have room).
    #[inline]
    pub fn attach(&mut self, id: PipeId) {
        self.pipes.attach(id);
    }

    /// Removes a pipe (one not attached is ignored).
    #[inline]
    pub fn detach(&mut self, id: PipeId) {
        self.pipes.remove(id);
    }

    /// Puts a pipe back in the rotation: call on
    /// [`PipeEvent::Writable`](super::PipeEvent::Writable). A pipe already
    /// in it, or not attached, is ignored.
    #[inline]
    pub fn activated(&mut self, id: PipeId) {
        self.pipes.activate(id);
    }

    /// Number of pipes, with room or not.
    #[inline]
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// True when there are no pipes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pipes.len() == 0
    }

    /// Writes `msg` to the next pipe with room and flushes it; returns the
    /// pipe, or hands the message back when no pipe takes it.
    #[inline]
    pub fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<PipeId, Msg> {
        let id = self.write(pipes, msg)?;
        pipes.flush(id);
        Ok(id)
    }

    /// As [`send`](LoadBalancer::send) without flushing: the caller flushes
    /// the returned pipe ([`Pipes::flush`]) when it is ready for the peer to
    /// see the message.
    #[inline]
    pub fn write(&mut self, pipes: &mut Pipes, mut msg: Msg) -> Result<PipeId, Msg> {
        while let Some(id) = self.pipes.current() {
            match pipes.write(id, msg) {
                Ok(()) => {
                    self.pipes.advance();
                    return Ok(id);
                }
                // Full: wait for Writable. Closed: the pipe is recorded as
                // ended and will be detached.
                Err(WriteError::Full(back) | WriteError::Closed(back)) => {
                    msg = back;
                    self.pipes.deactivate_current();
                }
            }
        }
        Err(msg)
    }

    /// True if some pipe has room now (a poller's "writable"). Pipes found
    /// full leave the rotation (and will be `Writable` again), as after a
    /// refused send.
    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.pipes.seek(|id| pipes.can_write(id))
    }
}
