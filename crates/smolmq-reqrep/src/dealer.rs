//! DEALER: round robin out, fair queueing in.

use smolmq_core::pattern::{FairQueue, LoadBalancer};
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Error, Msg};

/// The DEALER pattern (RFC 28): each message goes to the next peer with
/// room ([`LoadBalancer`]); messages are taken from the peers in turn
/// ([`FairQueue`]). Messages pass unchanged in both directions.
///
/// When every peer's pipe is full (or there is no peer yet), a send waits
/// (SNDTIMEO) or, with `try_send`, fails with `Error::WouldBlock`; nothing
/// is dropped.
///
/// Option: PROBE_ROUTER ([`set_probe_router`](crate::set_probe_router)),
/// an empty message sent to every new peer when it attaches.
#[derive(Debug, Default)]
pub struct Dealer {
    /// Out.
    lb: LoadBalancer,
    /// In.
    fq: FairQueue,
    /// PROBE_ROUTER.
    probe_router: bool,
}

impl Dealer {
    /// A DEALER pattern with default options.
    pub fn new() -> Dealer {
        Dealer::default()
    }

    /// Sets PROBE_ROUTER: peers attached from now on are sent an empty
    /// message first (so a ROUTER learns their routing id).
    pub fn set_probe_router(&mut self, on: bool) {
        self.probe_router = on;
    }

    /// Whether PROBE_ROUTER is set.
    pub fn probe_router(&self) -> bool {
        self.probe_router
    }
}

impl Pattern for Dealer {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        if self.probe_router {
            // As libzmq: best effort, a full pipe just misses the probe.
            let _ = pipes.send(id, Msg::new());
        }
        self.lb.attach(id);
        self.fq.attach(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.lb.detach(id);
        self.fq.detach(id);
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        self.lb
            .send(pipes, msg)
            .map(drop)
            .map_err(Refused::would_block)
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        // A match, not `ok_or`: see PAIR's receive in smolmq-core.
        match self.fq.recv(pipes) {
            Some((_, msg)) => Ok(msg),
            None => Err(Error::WouldBlock),
        }
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        crate::route_event(pipes, id, event, Some(&mut self.lb), &mut self.fq);
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.fq.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        self.lb.has_out(pipes)
    }
}
