//! REP: receive a request, send its reply, and again.

use bytes::Bytes;
use smolmq_core::pattern::FairQueue;
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Error, Msg};

/// A request taken off a pipe: where it came from, its envelope and body.
#[derive(Debug)]
struct Request {
    /// The pipe (`None` if it has gone since).
    pipe: Option<PipeId>,
    /// Every frame up to and including the empty delimiter.
    envelope: Vec<Bytes>,
    /// The rest.
    body: Msg,
}

/// The REP pattern (RFC 28): requests are taken from the peers in turn
/// ([`FairQueue`]); each reply goes back to the peer the request came from.
///
/// A request's envelope (every frame up to and including the first empty
/// one) is taken off and kept; the reply is sent with it in front. A
/// request with no empty delimiter, or with nothing after it, is dropped.
///
/// Order is enforced: a send must follow a receive and a receive must
/// follow the reply, else [`Error::State`]. If the requester has gone, or
/// its pipe is full, the reply is dropped and the send succeeds (as
/// libzmq). `has_in` is true only when a well-formed request is waiting
/// and a receive is allowed; `has_out` only when a reply is due.
#[derive(Debug, Default)]
pub struct Rep {
    /// In.
    fq: FairQueue,
    /// A request was received and its reply not sent yet.
    sending: bool,
    /// Where the reply goes (`None` if that pipe has gone since).
    reply_pipe: Option<PipeId>,
    /// The envelope to put in front of the reply.
    envelope: Vec<Bytes>,
    /// A request taken by `has_in`, delivered by the next `recv`.
    prefetched: Option<Request>,
}

impl Rep {
    /// A REP pattern.
    pub fn new() -> Rep {
        Rep::default()
    }

    /// True while a reply is due.
    pub fn is_replying(&self) -> bool {
        self.sending
    }

    /// The next well-formed request; malformed ones are dropped.
    fn next_request(&mut self, pipes: &mut Pipes) -> Option<Request> {
        'messages: loop {
            let (pipe, mut body) = self.fq.recv(pipes)?;
            let mut envelope = Vec::new();
            loop {
                // `None`: the last frame came without a delimiter before it.
                let Some(frame) = body.pop_front() else {
                    continue 'messages;
                };
                let delimiter = frame.is_empty();
                envelope.push(frame);
                if delimiter {
                    return Some(Request {
                        pipe: Some(pipe),
                        envelope,
                        body,
                    });
                }
            }
        }
    }
}

impl Pattern for Rep {
    fn attach(&mut self, _pipes: &mut Pipes, id: PipeId) -> bool {
        self.fq.attach(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.fq.detach(id);
        if self.reply_pipe == Some(id) {
            self.reply_pipe = None;
        }
        if let Some(request) = &mut self.prefetched {
            if request.pipe == Some(id) {
                // Still delivered; its reply will be dropped.
                request.pipe = None;
            }
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        if !self.sending {
            return Err(Refused::with(
                Error::State("REP: receive a request before sending a reply"),
                msg,
            ));
        }
        self.sending = false;
        let envelope = std::mem::take(&mut self.envelope);
        let Some(pipe) = self.reply_pipe.take() else {
            // The requester has gone: dropped, as libzmq.
            return Ok(());
        };
        let reply = match Msg::from_frames(envelope.into_iter().chain(msg.into_frames())) {
            Some(reply) => reply,
            None => return Ok(()),
        };
        // Full or gone: dropped, as libzmq (a REP never blocks on a reply).
        let _ = pipes.send(pipe, reply);
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        if self.sending {
            return Err(Error::State(
                "REP: send the reply before receiving another request",
            ));
        }
        let request = match self.prefetched.take() {
            Some(request) => request,
            None => match self.next_request(pipes) {
                Some(request) => request,
                None => return Err(Error::WouldBlock),
            },
        };
        self.sending = true;
        self.reply_pipe = request.pipe;
        self.envelope = request.envelope;
        Ok(request.body)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        crate::route_event(pipes, id, event, None, &mut self.fq);
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.sending {
            return false;
        }
        if self.prefetched.is_none() {
            self.prefetched = self.next_request(pipes);
        }
        self.prefetched.is_some()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        self.sending
    }
}
