//! REQ: strictly alternating requests and replies.

use bytes::Bytes;
use smolmq_core::pattern::{FairQueue, LoadBalancer};
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Error, Msg};

/// The REQ pattern (RFC 28): send a request, receive its reply, and again.
///
/// A request goes to the next peer with room ([`LoadBalancer`]), with an
/// empty delimiter frame in front (and, with REQ_CORRELATE, a 4-byte
/// request id before that). The reply is taken only from that peer; its
/// delimiter (and request id) is checked and taken off. Replies from other
/// peers, and malformed ones (no delimiter, wrong request id, nothing
/// after the delimiter), are dropped.
///
/// Order is enforced: a second send before the reply fails with
/// [`Error::State`] (unless REQ_RELAXED), as does a receive before any
/// send. `has_in` / `has_out` follow the state: `has_in` is true only when
/// the reply is there, `has_out` only when a request may be sent and a
/// peer has room.
///
/// Options: REQ_RELAXED ([`set_req_relaxed`](crate::set_req_relaxed)) and
/// REQ_CORRELATE ([`set_req_correlate`](crate::set_req_correlate)).
#[derive(Debug)]
pub struct Req {
    /// Out.
    lb: LoadBalancer,
    /// In.
    fq: FairQueue,
    /// A request was sent and its reply not received yet.
    receiving: bool,
    /// The pipe the request went to; `None` if it has gone since (then,
    /// as in libzmq, a well-formed reply from any peer is taken).
    reply_pipe: Option<PipeId>,
    /// The id of the last request (REQ_CORRELATE).
    request_id: u32,
    /// A checked reply taken by `has_in`, delivered by the next `recv`.
    prefetched: Option<Msg>,
    /// REQ_RELAXED.
    relaxed: bool,
    /// REQ_CORRELATE.
    correlate: bool,
}

impl Default for Req {
    fn default() -> Req {
        Req {
            lb: LoadBalancer::default(),
            fq: FairQueue::default(),
            receiving: false,
            reply_pipe: None,
            // As libzmq, request ids start at a random value.
            request_id: crate::random_u32(),
            prefetched: None,
            relaxed: false,
            correlate: false,
        }
    }
}

impl Req {
    /// A REQ pattern with default options.
    pub fn new() -> Req {
        Req::default()
    }

    /// Sets REQ_RELAXED: a new request may be sent before the reply to
    /// the last one came; that reply is then dropped if it comes.
    pub fn set_relaxed(&mut self, on: bool) {
        self.relaxed = on;
    }

    /// Whether REQ_RELAXED is set.
    pub fn relaxed(&self) -> bool {
        self.relaxed
    }

    /// Sets REQ_CORRELATE: each request carries a 4-byte request id before
    /// the delimiter, and only a reply carrying the same id is taken.
    pub fn set_correlate(&mut self, on: bool) {
        self.correlate = on;
    }

    /// Whether REQ_CORRELATE is set.
    pub fn correlate(&self) -> bool {
        self.correlate
    }

    /// True while waiting for a reply.
    pub fn is_waiting_for_reply(&self) -> bool {
        self.receiving
    }

    /// The reply body of `msg` if it is a well-formed reply to the current
    /// request.
    fn check_reply(&self, mut msg: Msg) -> Option<Msg> {
        if self.correlate {
            let id = msg.pop_front()?;
            if id[..] != self.request_id.to_ne_bytes()[..] {
                return None;
            }
        }
        let delimiter = msg.pop_front()?;
        delimiter.is_empty().then_some(msg)
    }

    /// The next valid reply, if one is there; others are dropped.
    fn next_reply(&mut self, pipes: &mut Pipes) -> Option<Msg> {
        loop {
            let (id, msg) = self.fq.recv(pipes)?;
            if self.reply_pipe.is_some_and(|p| p != id) {
                continue;
            }
            if let Some(body) = self.check_reply(msg) {
                return Some(body);
            }
        }
    }
}

impl Pattern for Req {
    fn attach(&mut self, _pipes: &mut Pipes, id: PipeId) -> bool {
        self.lb.attach(id);
        self.fq.attach(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.lb.detach(id);
        self.fq.detach(id);
        if self.reply_pipe == Some(id) {
            self.reply_pipe = None;
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        if self.receiving && !self.relaxed {
            return Err(Refused::with(
                Error::State("REQ: receive the reply before sending another request"),
                msg,
            ));
        }
        let request_id = self.request_id.wrapping_add(1);
        let mut request = msg;
        request.push_front(Bytes::new());
        if self.correlate {
            request.push_front(Bytes::copy_from_slice(&request_id.to_ne_bytes()));
        }
        match self.lb.write(pipes, request) {
            Ok(id) => {
                // Drop every reply waiting now, before the peer can see the
                // request: they answer earlier requests (as libzmq).
                self.prefetched = None;
                while self.fq.recv(pipes).is_some() {}
                pipes.flush(id);
                self.request_id = request_id;
                self.reply_pipe = Some(id);
                self.receiving = true;
                Ok(())
            }
            Err(mut request) => {
                if self.correlate {
                    request.drop_front();
                }
                request.drop_front();
                Err(Refused::would_block(request))
            }
        }
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        if !self.receiving {
            return Err(Error::State("REQ: send a request before receiving"));
        }
        let reply = match self.prefetched.take() {
            Some(reply) => reply,
            None => match self.next_reply(pipes) {
                Some(reply) => reply,
                None => return Err(Error::WouldBlock),
            },
        };
        self.receiving = false;
        Ok(reply)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        crate::route_event(pipes, id, event, Some(&mut self.lb), &mut self.fq);
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if !self.receiving {
            return false;
        }
        if self.prefetched.is_none() {
            self.prefetched = self.next_reply(pipes);
        }
        self.prefetched.is_some()
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if self.receiving && !self.relaxed {
            return false;
        }
        self.lb.has_out(pipes)
    }
}
