//! SUB and XSUB: messages in from every publisher (fair-queued),
//! subscriptions out to every publisher.

use crate::publisher::{parse_subscription, subscription_msg};
use crate::trie::CountingTrie;
use smolmq_core::pattern::{FairQueue, Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::pipe::WriteError;
use smolmq_core::{Error, Msg};
use std::collections::VecDeque;

/// Per-pipe state.
#[derive(Debug, Default)]
struct SubPipe {
    /// Subscription messages refused at the pipe's HWM, in order, written
    /// when it has room (a subscription is never dropped).
    backlog: VecDeque<Msg>,
    /// The connection (handshake generation) our subscriptions were last
    /// sent for: a later one gets them all again.
    sent_for: u64,
}

/// What SUB and XSUB share (libzmq's SUB is an XSUB that filters).
#[derive(Debug, Default)]
struct Subscriber {
    /// SUB: deliver only messages matching a subscription.
    filter: bool,
    /// Our subscriptions, counted.
    subs: CountingTrie,
    /// Per-pipe state, by `PipeId::index`.
    state: Vec<Option<SubPipe>>,
    /// Every attached pipe, in attach order (subscriptions go to all).
    peers: Vec<PipeId>,
    /// In: every attached pipe, in turn those that may have messages.
    fq: FairQueue,
    /// A message taken by `has_in`, delivered by the next `recv`.
    prefetched: Option<Msg>,
}

impl Subscriber {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        let i = id.index();
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
        }
        // A connecting pipe (generation 0) carries what we write now on
        // its first connection.
        let generation = pipes.peer_generation(id).unwrap_or(0).max(1);
        self.state[i] = Some(SubPipe {
            backlog: VecDeque::new(),
            sent_for: generation,
        });
        self.peers.push(id);
        self.fq.attach(id);
        self.send_all_subscriptions(pipes, id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        if let Some(s) = self.state.get_mut(id.index()) {
            *s = None;
        }
        self.peers.retain(|&p| p != id);
        self.fq.detach(id);
    }

    /// Writes every current subscription to pipe `id`.
    fn send_all_subscriptions(&mut self, pipes: &mut Pipes, id: PipeId) {
        let Some(state) = self.state.get_mut(id.index()).and_then(Option::as_mut) else {
            return;
        };
        self.subs.for_each(|topic| {
            queue(pipes, id, state, subscription_msg(true, topic));
        });
        pipes.flush(id);
    }

    /// Sends a subscription message to every pipe.
    fn send_subscription(&mut self, pipes: &mut Pipes, msg: Msg) {
        for &id in &self.peers {
            if let Some(state) = self.state.get_mut(id.index()).and_then(Option::as_mut) {
                queue(pipes, id, state, msg.clone());
                pipes.flush(id);
            }
        }
    }

    /// Sends a message that is no subscription to every pipe; a pipe at
    /// its HWM (or with subscriptions still waiting) misses it.
    fn send_data(&mut self, pipes: &mut Pipes, msg: Msg) {
        for &id in &self.peers {
            let Some(state) = self.state.get(id.index()).and_then(Option::as_ref) else {
                continue;
            };
            if state.backlog.is_empty() {
                let _ = pipes.send(id, msg.clone());
            }
        }
    }

    fn subscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        // As libzmq 4.3: every subscribe goes out, duplicates included
        // (the publisher keeps a set per pipe; an XPUB may want to see
        // them all).
        self.subs.add(topic);
        self.send_subscription(pipes, subscription_msg(true, topic));
    }

    fn unsubscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        // Only the last cancel of a topic goes out.
        if self.subs.rm(topic) {
            self.send_subscription(pipes, subscription_msg(false, topic));
        }
    }

    /// The next message that passes the filter, fair-queued: one message
    /// per pipe in turn, filtered or not; a pipe read empty leaves the turn
    /// until `Readable` (or `Closed`) brings it back.
    ///
    /// A `Result`, which `recv` hands on as it is: the message moves from
    /// the fair queue's `Option` into it once, where an `Option` here made
    /// `recv` move the 80-byte `Msg` a second time (docs/benchmarks.md,
    /// ninth session).
    #[inline]
    fn fetch(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        while let Some((_, msg)) = self.fq.recv(pipes) {
            let first: &[u8] = msg.first();
            if !self.filter || self.subs.matches(first) {
                return Ok(msg);
            }
        }
        Err(Error::WouldBlock)
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        if let Some(msg) = self.prefetched.take() {
            return Ok(msg);
        }
        self.fetch(pipes)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if self.prefetched.is_none() {
            self.prefetched = self.fetch(pipes).ok();
        }
        self.prefetched.is_some()
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        let Some(state) = self.state.get_mut(id.index()).and_then(Option::as_mut) else {
            return;
        };
        match event {
            // Closed: reading notices the end once the rest is read.
            PipeEvent::Readable | PipeEvent::Closed => self.fq.activated(id),
            PipeEvent::Writable => {
                while let Some(msg) = state.backlog.pop_front() {
                    match pipes.write(id, msg) {
                        Ok(()) => {}
                        Err(WriteError::Full(msg)) => {
                            state.backlog.push_front(msg);
                            break;
                        }
                        Err(WriteError::Closed(_)) => {
                            state.backlog.clear();
                            break;
                        }
                    }
                }
                pipes.flush(id);
            }
            PipeEvent::Identified => {
                // A new connection on a connecting pipe: what the old one
                // had not written is lost, so it gets every subscription
                // again (a publisher ignores the duplicates).
                let generation = pipes.peer_generation(id).unwrap_or(0);
                if generation > state.sent_for {
                    state.sent_for = generation;
                    self.send_all_subscriptions(pipes, id);
                }
            }
            _ => {}
        }
    }
}

/// Writes `msg` to pipe `id`, or adds it to the pipe's backlog (behind
/// what is already waiting there).
fn queue(pipes: &mut Pipes, id: PipeId, state: &mut SubPipe, msg: Msg) {
    if !state.backlog.is_empty() {
        state.backlog.push_back(msg);
        return;
    }
    match pipes.write(id, msg) {
        Ok(()) => {}
        Err(WriteError::Full(msg)) => state.backlog.push_back(msg),
        // The pipe ended; it is detached after this call.
        Err(WriteError::Closed(_)) => {}
    }
}

/// SUB (RFC 29): receives, fair-queued from every publisher, the messages
/// whose first frame starts with one of its subscriptions.
///
/// Subscribe and unsubscribe at any time with [`subscribe`](crate::subscribe)
/// and [`unsubscribe`](crate::unsubscribe) (or [`Sub::subscribe`] through
/// `Socket::with_pattern`): the subscription goes to every publisher now,
/// to every publisher that attaches later, and again after a reconnection.
/// Messages are filtered here too (a publisher may send more than asked,
/// e.g. one that subscribed verbosely). Sending fails with
/// [`Error::Unsupported`].
///
/// ```
/// use smolmq_core::{Context, Msg};
/// use smolmq_pubsub::{subscribe, Pub, Sub};
/// use smolmq_zmtp::SocketType;
///
/// let ctx = Context::new()?;
/// let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pub::default()));
/// publisher.bind("inproc://sub-doc")?;
/// let mut sub = ctx.socket_with(SocketType::Sub, Box::new(Sub::default()));
/// sub.connect("inproc://sub-doc")?;
/// subscribe(&mut sub, b"a")?;
/// assert!(!sub.has_in());
/// // Over inproc the subscription is in the PUB's pipe already.
/// publisher.try_send(Msg::from("b: not for us")).map_err(|e| e.into_error())?;
/// publisher.try_send(Msg::from("a: for us")).map_err(|e| e.into_error())?;
/// assert!(sub.has_in());
/// assert_eq!(sub.try_recv()?, Msg::from("a: for us"));
/// # Ok::<(), smolmq_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Sub {
    /// The shared machinery.
    inner: Subscriber,
}

impl Default for Sub {
    fn default() -> Self {
        Sub {
            inner: Subscriber {
                filter: true,
                ..Subscriber::default()
            },
        }
    }
}

impl Sub {
    /// A SUB pattern, subscribed to nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribes to messages starting with `topic` (empty: every
    /// message). Subscriptions are counted: each needs its own
    /// [`unsubscribe`](Sub::unsubscribe).
    pub fn subscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        self.inner.subscribe(pipes, topic)
    }

    /// Cancels one subscription to `topic` (nothing if there is none);
    /// publishers are told when the last one goes.
    pub fn unsubscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        self.inner.unsubscribe(pipes, topic)
    }

    /// The topics subscribed to, once each, in byte order.
    pub fn topics(&self) -> Vec<Vec<u8>> {
        self.inner.subs.topics()
    }

    /// How many distinct topics are subscribed (`ZMQ_TOPICS_COUNT`).
    pub fn topics_count(&self) -> usize {
        self.inner.subs.len()
    }
}

impl Pattern for Sub {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        self.inner.attach(pipes, id)
    }

    fn detach(&mut self, id: PipeId) {
        self.inner.detach(id)
    }

    fn send(&mut self, _pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        Err(Refused::with(
            Error::Unsupported(
                "SUB sockets cannot send (subscribe with smolmq_pubsub::subscribe)".to_owned(),
            ),
            msg,
        ))
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.inner.recv(pipes)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        self.inner.activated(pipes, id, event)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.inner.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }
}

/// XSUB (RFC 29): a SUB whose subscriptions are messages the application
/// sends, and which receives everything.
///
/// Sending `1` then a topic (one frame) subscribes, `0` then a topic
/// cancels: XSUB keeps count (to send them again after a reconnection and
/// to every publisher that attaches later) and passes each subscribe, and
/// the last cancel of a topic, to every publisher. Any other message goes
/// to every publisher too (an XPUB receives it), as in libzmq 4.3.
/// Receiving is fair-queued and unfiltered.
#[derive(Debug, Default)]
pub struct XSub {
    /// The shared machinery.
    inner: Subscriber,
}

impl XSub {
    /// An XSUB pattern, subscribed to nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Same as sending `1` then `topic`.
    pub fn subscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        self.inner.subscribe(pipes, topic)
    }

    /// Same as sending `0` then `topic`.
    pub fn unsubscribe(&mut self, pipes: &mut Pipes, topic: &[u8]) {
        self.inner.unsubscribe(pipes, topic)
    }

    /// The topics subscribed to, once each, in byte order.
    pub fn topics(&self) -> Vec<Vec<u8>> {
        self.inner.subs.topics()
    }

    /// How many distinct topics are subscribed (`ZMQ_TOPICS_COUNT`).
    pub fn topics_count(&self) -> usize {
        self.inner.subs.len()
    }
}

impl Pattern for XSub {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        self.inner.attach(pipes, id)
    }

    fn detach(&mut self, id: PipeId) {
        self.inner.detach(id)
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        match parse_subscription(&msg) {
            Some((true, topic)) => {
                self.inner.subs.add(topic);
                self.inner.send_subscription(pipes, msg);
            }
            Some((false, topic)) => {
                if self.inner.subs.rm(topic) {
                    self.inner.send_subscription(pipes, msg);
                }
            }
            None => self.inner.send_data(pipes, msg),
        }
        // XSUB never blocks (libzmq: `xhas_out` is always true).
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.inner.recv(pipes)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        self.inner.activated(pipes, id, event)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.inner.has_in(pipes)
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }
}
