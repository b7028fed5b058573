//! PULL: fair-queued in from the peers that have messages.

use smolmq_core::pattern::{FairQueue, Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Error, Msg};

/// The PULL pattern (RFC 30/PIPELINE): messages are taken, whole, from the
/// peers that have some, one message from each in turn (fair queueing); it
/// cannot send.
///
/// A peer read empty leaves the turn until it has messages again
/// ([`PipeEvent::Readable`]); a peer that left is read to the end, then
/// detached. Sending fails with [`Error::Unsupported`], handing the message
/// back.
///
/// Make sockets with [`pull_socket`](crate::pull_socket), or
/// `ctx.socket_with(SocketType::Pull, Box::new(Pull::new()))`.
#[derive(Debug, Default)]
pub struct Pull {
    /// Every peer, in turn those with messages.
    inq: FairQueue,
}

impl Pull {
    /// A PULL pattern with no peers.
    pub fn new() -> Pull {
        Pull::default()
    }
}

impl Pattern for Pull {
    fn attach(&mut self, _pipes: &mut Pipes, id: PipeId) -> bool {
        // Read it at its turn: an empty read registers for `Readable`.
        self.inq.attach(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.inq.detach(id);
    }

    fn send(&mut self, _pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        Err(Refused::with(
            Error::Unsupported("PULL sockets cannot send (RFC 30/PIPELINE)".to_owned()),
            msg,
        ))
    }

    #[inline]
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        // An empty pipe is back in the turn when it is readable; an ended
        // one is detached after this call.
        match self.inq.recv(pipes) {
            Some((_, msg)) => Ok(msg),
            None => Err(Error::WouldBlock),
        }
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Readable => self.inq.activated(id),
            // Nothing left to read: it ends now (detached after this).
            // Otherwise what the peer sent is delivered first, at the
            // pipe's turns.
            PipeEvent::Closed if pipes.is_ended(id) => {}
            PipeEvent::Closed => self.inq.activated(id),
            _ => {}
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        // As a receive would: the first pipe with a message in turn; empty
        // pipes leave the turn (and are told back when they have one).
        self.inq.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
}
