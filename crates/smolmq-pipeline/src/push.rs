//! PUSH: round robin out over the peers with room.

use smolmq_core::pattern::{LoadBalancer, Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Error, Msg};

/// The PUSH pattern (RFC 30/PIPELINE): each message goes, whole, to one
/// peer, taking the peers with room in turn; it cannot receive.
///
/// A peer refused at its HWM leaves the turn until its pipe has room again
/// ([`PipeEvent::Writable`]); when no peer has room, or there is none yet,
/// a send waits (up to SNDTIMEO with `send_blocking`) or fails with
/// [`Error::WouldBlock`] (`try_send`), handing the message back. Receiving
/// fails with [`Error::Unsupported`].
///
/// Make sockets with [`push_socket`](crate::push_socket), or
/// `ctx.socket_with(SocketType::Push, Box::new(Push::new()))`.
#[derive(Debug, Default)]
pub struct Push {
    /// Every peer, round robin over those with room.
    out: LoadBalancer,
}

impl Push {
    /// A PUSH pattern with no peers.
    pub fn new() -> Push {
        Push::default()
    }
}

impl Pattern for Push {
    fn attach(&mut self, _pipes: &mut Pipes, id: PipeId) -> bool {
        // A connecting pipe takes messages before its connection is made,
        // as in libzmq without ZMQ_IMMEDIATE.
        self.out.attach(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.out.detach(id);
    }

    #[inline]
    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        // A full pipe is back in the turn when it is writable; a closed one
        // is detached after this call.
        match self.out.send(pipes, msg) {
            Ok(_) => Ok(()),
            Err(msg) => Err(Refused::would_block(msg)),
        }
    }

    fn recv(&mut self, _pipes: &mut Pipes) -> Result<Msg, Error> {
        Err(Error::Unsupported(
            "PUSH sockets cannot receive (RFC 30/PIPELINE)".to_owned(),
        ))
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Writable => self.out.activated(id),
            PipeEvent::Closed => {
                // A PULL sends nothing; whatever a stray peer sent is
                // dropped so the pipe can end now (reading it empty with
                // the peer gone records it ended) instead of at the next
                // send. With the peer gone nothing more arrives, so this
                // ends.
                if pipes.get(id).is_some_and(|p| p.is_peer_gone()) {
                    while pipes.recv(id).is_some() {}
                }
                // If it has ended, it is detached right after this; if the
                // event was a stale hint, the pipe is tried at its turn.
                self.out.activated(id);
            }
            _ => {}
        }
    }

    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        // As a send would: the first pipe with room in turn; pipes without
        // it leave the turn (and are told back when they have room).
        self.out.has_out(pipes)
    }
}
