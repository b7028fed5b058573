//! [`LoadBalancer`]: round robin over the pipes that have room.

use crate::active::ActiveList;
use smolmq_core::pattern::{PipeId, Pipes};
use smolmq_core::pipe::WriteError;
use smolmq_core::Msg;

/// Sends each message to the next pipe with room, in turn (libzmq's `lb`).
///
/// A pipe refused at its HWM leaves the rotation until its
/// [`PipeEvent::Writable`](smolmq_core::pattern::PipeEvent::Writable)
/// ([`activated`](LoadBalancer::activated)); when every pipe is full, a
/// send hands the message back. The pipes are kept in an active list, so a
/// send touches only the pipe it writes to (and any it finds full), never
/// every pipe.
///
/// A pattern calls [`attach`](LoadBalancer::attach) and
/// [`detach`](LoadBalancer::detach) from its own `attach` / `detach`, and
/// [`activated`](LoadBalancer::activated) on `Writable`.
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
    pub fn attach(&mut self, id: PipeId) {
        self.pipes.insert(id);
    }

    /// Removes a pipe.
    pub fn detach(&mut self, id: PipeId) {
        self.pipes.remove(id);
    }

    /// Puts a pipe back in the rotation: call on `PipeEvent::Writable`.
    pub fn activated(&mut self, id: PipeId) {
        self.pipes.activate(id);
    }

    /// Number of pipes, with room or not.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// True when there are no pipes.
    pub fn is_empty(&self) -> bool {
        self.pipes.len() == 0
    }

    /// Writes `msg` to the next pipe with room and flushes it; returns the
    /// pipe, or hands the message back when no pipe takes it.
    pub fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<PipeId, Msg> {
        let id = self.write(pipes, msg)?;
        pipes.flush(id);
        Ok(id)
    }

    /// As [`send`](LoadBalancer::send) without flushing: the caller flushes
    /// the returned pipe ([`Pipes::flush`]) when it is ready for the peer to
    /// see the message.
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

    /// True if some pipe has room now. Pipes found full leave the rotation
    /// (and will be `Writable` again), as after a refused send.
    pub fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        while let Some(id) = self.pipes.current() {
            if pipes.can_write(id) {
                return true;
            }
            self.pipes.deactivate_current();
        }
        false
    }
}
