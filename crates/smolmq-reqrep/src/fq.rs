//! [`FairQueue`]: round robin over the pipes that hold messages.

use crate::active::ActiveList;
use smolmq_core::pattern::{PipeId, Pipes};
use smolmq_core::Msg;

/// Takes one message from each pipe that has some, in turn (libzmq's
/// `fq`), so no peer starves another.
///
/// A pipe read empty leaves the rotation until its
/// [`PipeEvent::Readable`](smolmq_core::pattern::PipeEvent::Readable)
/// ([`activated`](FairQueue::activated)). The pipes are kept in an active
/// list, so a receive touches only the pipes it reads, never every pipe.
///
/// A pattern calls [`attach`](FairQueue::attach) and
/// [`detach`](FairQueue::detach) from its own `attach` / `detach`, and
/// [`activated`](FairQueue::activated) on `Readable` (and on `Closed`, so
/// what the peer sent before it left is read and the pipe then ends).
#[derive(Debug, Default)]
pub struct FairQueue {
    /// The pipes; active ones hold (or may hold) messages.
    pipes: ActiveList,
}

impl FairQueue {
    /// A fair queue with no pipes.
    pub fn new() -> FairQueue {
        FairQueue::default()
    }

    /// Adds a pipe (a new pipe is taken to hold messages).
    pub fn attach(&mut self, id: PipeId) {
        self.pipes.insert(id);
    }

    /// Removes a pipe.
    pub fn detach(&mut self, id: PipeId) {
        self.pipes.remove(id);
    }

    /// Puts a pipe back in the rotation: call on `PipeEvent::Readable`
    /// and `PipeEvent::Closed`.
    pub fn activated(&mut self, id: PipeId) {
        self.pipes.activate(id);
    }

    /// Number of pipes, with messages or not.
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// True when there are no pipes.
    pub fn is_empty(&self) -> bool {
        self.pipes.len() == 0
    }

    /// The next message, from the next pipe that has one, and that pipe;
    /// `None` when no pipe has a message.
    pub fn recv(&mut self, pipes: &mut Pipes) -> Option<(PipeId, Msg)> {
        while let Some(id) = self.pipes.current() {
            if let Some(msg) = pipes.recv(id) {
                self.pipes.advance();
                return Some((id, msg));
            }
            // Empty (a Readable event follows) or ended (recorded).
            self.pipes.deactivate_current();
        }
        None
    }

    /// True if some pipe holds a message now. Pipes found empty leave the
    /// rotation (and will be `Readable` again), as after an empty read.
    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        while let Some(id) = self.pipes.current() {
            if pipes.can_read(id) {
                return true;
            }
            self.pipes.deactivate_current();
        }
        false
    }
}
