//! [`FairQueue`]: round robin over the pipes that hold messages.

use super::active::ActiveList;
use super::{PipeId, Pipes};
use crate::Msg;

/// Takes one message from each pipe that has some, in turn (libzmq's
/// `fq_t`), so no peer starves another: what PULL, DEALER, ROUTER, REQ,
/// REP, SUB and XSUB receive with.
///
/// A pipe read empty leaves the rotation until its
/// [`PipeEvent::Readable`](super::PipeEvent::Readable)
/// ([`activated`](FairQueue::activated)). A receive touches only the pipes
/// it reads, never every pipe: see the
/// [module docs](super#load-balancing-and-fair-queueing).
///
/// A pattern calls [`attach`](FairQueue::attach) and
/// [`detach`](FairQueue::detach) from its own
/// [`Pattern::attach`](super::Pattern::attach) /
/// [`Pattern::detach`](super::Pattern::detach), and
/// [`activated`](FairQueue::activated) on `Readable` and on
/// [`Closed`](super::PipeEvent::Closed) (so what the peer sent before it
/// left is read, and the pipe then ends).
///
/// ```
/// use smolmq_core::pattern::{FairQueue, Pattern, PipeEvent, PipeId, Pipes, Refused};
/// use smolmq_core::{Error, Msg};
///
/// /// Fair-queued in; sends nothing.
/// #[derive(Default)]
/// struct Gather(FairQueue);
///
/// impl Pattern for Gather {
///     fn attach(&mut self, _: &mut Pipes, id: PipeId) -> bool {
///         self.0.attach(id);
///         true
///     }
///     fn detach(&mut self, id: PipeId) {
///         self.0.detach(id);
///     }
///     fn send(&mut self, _: &mut Pipes, msg: Msg) -> Result<(), Refused> {
///         Err(Refused::with(Error::Unsupported("receive only".into()), msg))
///     }
///     fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
///         self.0.recv(pipes).map(|(_, msg)| msg).ok_or(Error::WouldBlock)
///     }
///     fn activated(&mut self, _: &mut Pipes, id: PipeId, event: PipeEvent) {
///         if matches!(event, PipeEvent::Readable | PipeEvent::Closed) {
///             self.0.activated(id);
///         }
///     }
///     fn has_in(&mut self, pipes: &mut Pipes) -> bool {
///         self.0.has_in(pipes)
///     }
/// }
/// ```
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

    /// Adds a pipe (a new pipe is taken to hold messages: its first empty
    /// read arms its `Readable` event).
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
    /// [`PipeEvent::Readable`](super::PipeEvent::Readable) and
    /// [`PipeEvent::Closed`](super::PipeEvent::Closed). A pipe already in
    /// it, or not attached, is ignored.
    #[inline]
    pub fn activated(&mut self, id: PipeId) {
        self.pipes.activate(id);
    }

    /// Number of pipes, with messages or not.
    #[inline]
    pub fn len(&self) -> usize {
        self.pipes.len()
    }

    /// True when there are no pipes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pipes.len() == 0
    }

    /// The next message, from the next pipe that has one, and that pipe;
    /// `None` when no pipe has a message.
    #[inline]
    pub fn recv(&mut self, pipes: &mut Pipes) -> Option<(PipeId, Msg)> {
        while let Some(id) = self.pipes.current() {
            // Patient only at the last pipe with a chance: a scan over many
            // empty pipes must not wait at each.
            let msg = if self.pipes.active() == 1 {
                pipes.recv(id)
            } else {
                pipes.recv_now(id)
            };
            if let Some(msg) = msg {
                self.pipes.advance();
                return Some((id, msg));
            }
            // Empty (a Readable event follows) or ended (recorded, and
            // detached after this call).
            self.pipes.deactivate_current();
        }
        None
    }

    /// True if some pipe holds a message now (a poller's "readable"). Pipes
    /// found empty leave the rotation (and will be `Readable` again), as
    /// after an empty read.
    pub fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.pipes.seek(|id| pipes.can_read(id))
    }
}
