//! PUB and XPUB: messages out to every matching subscriber, subscriptions
//! in from the subscribers.

use crate::trie::{MultiTrie, RmResult};
use bytes::{BufMut, Bytes, BytesMut};
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::pipe::WriteError;
use smolmq_core::{Error, Msg};
use std::collections::VecDeque;

/// Most messages read from one pipe in one go; a pipe with more is read
/// again before the next send or receive (so a flood of subscriptions
/// cannot stall a send).
const READ_BATCH: usize = 1024;

/// XPUB's options (libzmq's `ZMQ_XPUB_*` socket options).
///
/// Set them with the [`XPub`] methods, through
/// `Socket::with_pattern::<XPub, _>`, or with the crate's `set_xpub_*`
/// functions; they apply from then on.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct XPubOptions {
    /// Pass every subscribe to the application, not only those new for
    /// the socket (`ZMQ_XPUB_VERBOSE`, and half of `ZMQ_XPUB_VERBOSER`).
    pub verbose_subscribe: bool,
    /// Pass every cancel to the application, not only those that remove
    /// a topic's last subscriber (the other half of `ZMQ_XPUB_VERBOSER`).
    pub verbose_cancel: bool,
    /// At a subscriber's HWM, refuse the send (would block) instead of
    /// dropping the message for that subscriber (`ZMQ_XPUB_NODROP`).
    pub nodrop: bool,
    /// Do not apply subscriptions: pass them all to the application, which
    /// decides with [`XPub::subscribe_last`] / [`XPub::unsubscribe_last`]
    /// (`ZMQ_XPUB_MANUAL`).
    pub manual: bool,
    /// Sent to every new subscriber when it attaches
    /// (`ZMQ_XPUB_WELCOME_MSG`); `None` or empty for none.
    pub welcome: Option<Bytes>,
}

/// Where a message waiting for the application came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// A subscription message read from this pipe.
    Pipe(PipeId),
    /// A cancel made up for a pipe that left.
    Gone,
    /// A message that is no subscription (only XPUB passes those on).
    Data,
}

/// Per-pipe state.
#[derive(Debug, Default)]
struct PubPipe {
    /// A write was refused at the HWM; skipped until `Writable`.
    full: bool,
}

/// What PUB and XPUB share (libzmq's PUB is an XPUB too).
#[derive(Debug, Default)]
struct Publisher {
    /// XPUB (passes subscriptions and upstream messages to the
    /// application) rather than PUB.
    xpub: bool,
    /// The options (all off for PUB).
    options: XPubOptions,
    /// Topic -> pipes: what sends match against.
    subs: MultiTrie<PipeId>,
    /// XPUB_MANUAL: the subscriptions each pipe asked for, to report
    /// cancels for when it leaves.
    manual_subs: MultiTrie<PipeId>,
    /// Per-pipe state, by `PipeId::index`.
    state: Vec<Option<PubPipe>>,
    /// Pipes whose last read stopped at [`READ_BATCH`], to read on.
    unread: Vec<PipeId>,
    /// XPUB: messages for the application.
    pending: VecDeque<(Msg, Source)>,
    /// XPUB_MANUAL: the pipe of the last subscription message received.
    last_pipe: Option<PipeId>,
    /// Send counter, to mark each matching pipe once per send.
    stamp: u64,
    /// `marks[i] == stamp`: pipe `i` is already among `matching`.
    marks: Vec<u64>,
    /// Scratch: the pipes a message goes to.
    matching: Vec<PipeId>,
}

/// A subscription message: `1` then the topic, or `0` then the topic, in
/// a message of one frame.
pub(crate) fn parse_subscription(msg: &Msg) -> Option<(bool, &[u8])> {
    if !msg.is_single() {
        return None;
    }
    let body: &[u8] = msg.first();
    match body.split_first()? {
        (1, topic) => Some((true, topic)),
        (0, topic) => Some((false, topic)),
        _ => None,
    }
}

/// The subscription message for `topic`.
pub(crate) fn subscription_msg(subscribe: bool, topic: &[u8]) -> Msg {
    let mut body = BytesMut::with_capacity(1 + topic.len());
    body.put_u8(u8::from(subscribe));
    body.put_slice(topic);
    Msg::from(body.freeze())
}

impl Publisher {
    /// Per-pipe state of `id`.
    fn state_mut(&mut self, id: PipeId) -> Option<&mut PubPipe> {
        self.state.get_mut(id.index()).and_then(Option::as_mut)
    }

    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        let i = id.index();
        if self.state.len() <= i {
            self.state.resize_with(i + 1, || None);
            self.marks.resize(i + 1, 0);
        }
        self.state[i] = Some(PubPipe::default());
        if let Some(welcome) = self.options.welcome.as_ref().filter(|w| !w.is_empty()) {
            // A new pipe has room; if not, the subscriber misses it.
            let _ = pipes.send(id, Msg::from(welcome.clone()));
        }
        // Subscriptions may be waiting already.
        self.read_pipe(pipes, id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        if let Some(s) = self.state.get_mut(id.index()) {
            *s = None;
        }
        self.unread.retain(|&p| p != id);
        let xpub = self.xpub;
        let pending = &mut self.pending;
        let mut cancel = |topic: &[u8]| {
            if xpub {
                pending.push_back((subscription_msg(false, topic), Source::Gone));
            }
        };
        if self.options.manual {
            // Every topic the pipe asked for, held by others or not: the
            // application applied them, it takes them back.
            self.manual_subs.rm_pipe(id, |topic, _| cancel(topic));
            self.subs.rm_pipe(id, |_, _| {});
        } else {
            let verbose = self.options.verbose_cancel;
            self.subs.rm_pipe(id, |topic, last| {
                if last || verbose {
                    cancel(topic)
                }
            });
        }
        if self.last_pipe == Some(id) {
            self.last_pipe = None;
        }
        // The id may be reused by a new pipe: older messages must not
        // point at it.
        for (_, source) in self.pending.iter_mut() {
            if *source == Source::Pipe(id) {
                *source = Source::Gone;
            }
        }
    }

    /// Reads what pipe `id` sent (subscriptions, and for XPUB other
    /// messages too), up to [`READ_BATCH`].
    fn read_pipe(&mut self, pipes: &mut Pipes, id: PipeId) {
        for _ in 0..READ_BATCH {
            match pipes.recv(id) {
                Some(msg) => self.upstream(id, msg),
                None => {
                    self.unread.retain(|&p| p != id);
                    return;
                }
            }
        }
        if !self.unread.contains(&id) {
            self.unread.push(id);
        }
    }

    /// Reads on from the pipes a batch left unread.
    fn catch_up(&mut self, pipes: &mut Pipes) {
        for id in std::mem::take(&mut self.unread) {
            self.read_pipe(pipes, id);
        }
    }

    /// Handles one message from a subscriber.
    fn upstream(&mut self, id: PipeId, msg: Msg) {
        let Some((subscribe, topic)) = parse_subscription(&msg) else {
            // libzmq 4.3: XPUB passes other messages to the application,
            // PUB drops them.
            if self.xpub {
                self.pending.push_back((msg, Source::Data));
            }
            return;
        };
        let notify = if self.options.manual {
            if subscribe {
                self.manual_subs.add(topic, id);
            } else {
                self.manual_subs.rm(topic, id);
            }
            true
        } else if subscribe {
            self.subs.add(topic, id) || self.options.verbose_subscribe
        } else {
            // As libzmq: a cancel of something the pipe did not hold is
            // passed on too.
            self.subs.rm(topic, id) != RmResult::ValuesRemain || self.options.verbose_cancel
        };
        if self.xpub && notify {
            self.pending.push_back((msg, Source::Pipe(id)));
        }
    }

    fn send(&mut self, pipes: &mut Pipes, mut msg: Msg) -> Result<(), Refused> {
        if !self.unread.is_empty() {
            self.catch_up(pipes);
        }
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        // Fields borrowed one by one: no vector moved in and out per send.
        let Publisher {
            subs,
            marks,
            matching,
            state,
            options,
            ..
        } = self;
        matching.clear();
        if let Some(all) = subs.everything_only() {
            // Only the empty topic is subscribed (each pipe once): they
            // all match.
            matching.extend(all.iter().filter(|p| marks.get(p.index()).is_some()));
        } else {
            let topic: &[u8] = msg.first();
            subs.for_each_match(topic, |p| {
                if let Some(mark) = marks.get_mut(p.index()) {
                    if *mark != stamp {
                        *mark = stamp;
                        matching.push(p);
                    }
                }
            });
        }
        if options.nodrop {
            // Every matching subscriber must have room (one that left does
            // not count: it is detached after this call).
            let blocked = matching.iter().any(|&p| {
                !pipes.can_write(p) && !pipes.get(p).is_none_or(|pipe| pipe.is_peer_gone())
            });
            if blocked {
                return Err(Refused::would_block(msg));
            }
        }
        // Copies for all but the last subscriber, the message itself to
        // the last: no `Option` around it (each move of the 80-byte
        // message is a copy; PUB inproc 64 B spent about a tenth of its
        // send on them).
        let Some((&last, others)) = matching.split_last() else {
            return Ok(());
        };
        if !others.is_empty() {
            // A pooled copy the message holds alone would be copied again
            // per clone: make it shared once, so clones share it.
            msg.share();
        }
        for &p in others {
            if let Some(state) = taking(state, p, options.nodrop) {
                state.full = deliver(pipes, p, msg.clone());
            }
        }
        if let Some(state) = taking(state, last, options.nodrop) {
            state.full = deliver(pipes, last, msg);
        }
        Ok(())
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        match event {
            PipeEvent::Writable => {
                if let Some(s) = self.state_mut(id) {
                    s.full = false;
                }
            }
            // Reading also notices a pipe that ended.
            PipeEvent::Readable | PipeEvent::Closed => self.read_pipe(pipes, id),
            _ => {}
        }
    }

    /// XPUB's receive: the next subscription or upstream message.
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.fill(pipes);
        let Some((msg, source)) = self.pending.pop_front() else {
            return Err(Error::WouldBlock);
        };
        match source {
            Source::Pipe(id) => self.last_pipe = Some(id),
            Source::Gone => self.last_pipe = None,
            Source::Data => {}
        }
        Ok(msg)
    }

    /// Reads until a message for the application is waiting or every pipe
    /// was read until empty (so that "would block" is true).
    fn fill(&mut self, pipes: &mut Pipes) {
        while self.pending.is_empty() && !self.unread.is_empty() {
            self.catch_up(pipes);
        }
    }

    /// Applies `subscribe` / cancel of `topic` for the last pipe.
    fn manual(&mut self, subscribe: bool, topic: &[u8]) -> Result<bool, Error> {
        if !self.options.manual {
            return Err(Error::Unsupported(
                "XPUB subscribe / unsubscribe needs XPUB_MANUAL".to_owned(),
            ));
        }
        let Some(id) = self.last_pipe else {
            return Ok(false);
        };
        if subscribe {
            self.subs.add(topic, id);
        } else {
            self.subs.rm(topic, id);
        }
        Ok(true)
    }
}

/// PUB (RFC 29): every message goes to every subscriber whose
/// subscription is a prefix of its first frame.
///
/// Sending never blocks: a subscriber at its HWM misses the message (and
/// the next ones, until it has room again); with no subscriber the message
/// is dropped. Subscriptions are read from the subscribers' pipes as they
/// arrive. Receiving fails with [`Error::Unsupported`].
///
/// ```
/// use smolmq_core::{Context, Msg};
/// use smolmq_pubsub::Pub;
/// use smolmq_zmtp::SocketType;
///
/// let ctx = Context::new()?;
/// let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pub::default()));
/// publisher.bind("inproc://pub-doc")?;
/// // Nobody is subscribed: the message is dropped, the send succeeds.
/// publisher.try_send(Msg::from("news")).map_err(|e| e.into_error())?;
/// assert!(publisher.try_recv().unwrap_err().to_string().contains("PUB"));
/// # Ok::<(), smolmq_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Pub {
    /// The shared machinery.
    inner: Publisher,
}

impl Pub {
    /// A PUB pattern.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct topics have at least one subscriber
    /// (`ZMQ_TOPICS_COUNT`).
    pub fn topics_count(&self) -> usize {
        self.inner.subs.num_prefixes()
    }
}

impl Pattern for Pub {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        self.inner.attach(pipes, id)
    }

    fn detach(&mut self, id: PipeId) {
        self.inner.detach(id)
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        self.inner.send(pipes, msg)
    }

    fn recv(&mut self, _pipes: &mut Pipes) -> Result<Msg, Error> {
        Err(Error::Unsupported(
            "PUB sockets cannot receive (use XPUB to see subscriptions)".to_owned(),
        ))
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        self.inner.activated(pipes, id, event)
    }

    fn has_in(&mut self, _pipes: &mut Pipes) -> bool {
        false
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }
}

/// XPUB (RFC 29): a PUB that shows the application its subscriptions.
///
/// Receiving returns subscription messages (`1` or `0` then the topic):
/// by default a subscribe that is the topic's first and a cancel that
/// removes its last subscriber (also when a subscriber leaves); see
/// [`XPubOptions`] for the verbose, no-drop, manual and welcome-message
/// modes. Messages a subscriber sends that are no subscriptions (an XSUB
/// may send any) are received too, as in libzmq 4.3.
///
/// ```
/// use smolmq_core::{Context, Msg};
/// use smolmq_pubsub::{subscribe, Sub, XPub};
/// use smolmq_zmtp::SocketType;
///
/// let ctx = Context::new()?;
/// let mut xpub = ctx.socket_with(SocketType::XPub, Box::new(XPub::default()));
/// xpub.bind("inproc://xpub-doc")?;
/// let mut sub = ctx.socket_with(SocketType::Sub, Box::new(Sub::default()));
/// sub.connect("inproc://xpub-doc")?;
/// subscribe(&mut sub, b"news")?;
/// let mut opts = xpub.options().clone();
/// opts.rcvtimeo = Some(std::time::Duration::from_secs(10));
/// xpub.set_options(opts)?;
/// assert_eq!(xpub.recv_blocking()?, Msg::from("\x01news"));
/// # Ok::<(), smolmq_core::Error>(())
/// ```
#[derive(Debug)]
pub struct XPub {
    /// The shared machinery.
    inner: Publisher,
}

impl Default for XPub {
    fn default() -> Self {
        XPub::with_options(XPubOptions::default())
    }
}

impl XPub {
    /// An XPUB pattern with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// An XPUB pattern with `options`.
    pub fn with_options(options: XPubOptions) -> Self {
        XPub {
            inner: Publisher {
                xpub: true,
                options,
                ..Publisher::default()
            },
        }
    }

    /// The options.
    pub fn options(&self) -> &XPubOptions {
        &self.inner.options
    }

    /// `ZMQ_XPUB_VERBOSE`: pass every subscribe (`true`) or only new ones;
    /// cancels go back to the default (only a topic's last).
    pub fn set_verbose(&mut self, on: bool) {
        self.inner.options.verbose_subscribe = on;
        self.inner.options.verbose_cancel = false;
    }

    /// `ZMQ_XPUB_VERBOSER`: pass every subscribe and every cancel
    /// (`true`), or neither.
    pub fn set_verboser(&mut self, on: bool) {
        self.inner.options.verbose_subscribe = on;
        self.inner.options.verbose_cancel = on;
    }

    /// `ZMQ_XPUB_NODROP`: refuse sends at a subscriber's HWM instead of
    /// dropping.
    pub fn set_nodrop(&mut self, on: bool) {
        self.inner.options.nodrop = on;
    }

    /// `ZMQ_XPUB_MANUAL`: subscriptions are applied by the application
    /// only.
    pub fn set_manual(&mut self, on: bool) {
        self.inner.options.manual = on;
    }

    /// `ZMQ_XPUB_WELCOME_MSG`: sent to each subscriber that attaches from
    /// now on; `None` (or empty) for none.
    pub fn set_welcome_msg(&mut self, welcome: Option<Bytes>) {
        self.inner.options.welcome = welcome;
    }

    /// XPUB_MANUAL: subscribes the pipe of the last subscription message
    /// received to `topic`. `Ok(false)` if there is no such pipe (nothing
    /// received yet, the last one was a cancel for a subscriber that left,
    /// or that subscriber has left since); an error without XPUB_MANUAL.
    pub fn subscribe_last(&mut self, topic: &[u8]) -> Result<bool, Error> {
        self.inner.manual(true, topic)
    }

    /// XPUB_MANUAL: cancels the last pipe's subscription to `topic`; as
    /// [`subscribe_last`](XPub::subscribe_last).
    pub fn unsubscribe_last(&mut self, topic: &[u8]) -> Result<bool, Error> {
        self.inner.manual(false, topic)
    }

    /// How many distinct topics have at least one subscriber
    /// (`ZMQ_TOPICS_COUNT`).
    pub fn topics_count(&self) -> usize {
        self.inner.subs.num_prefixes()
    }
}

impl Pattern for XPub {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        self.inner.attach(pipes, id)
    }

    fn detach(&mut self, id: PipeId) {
        self.inner.detach(id)
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        self.inner.send(pipes, msg)
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.inner.recv(pipes)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        self.inner.activated(pipes, id, event)
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        self.inner.fill(pipes);
        !self.inner.pending.is_empty()
    }

    fn has_out(&mut self, _pipes: &mut Pipes) -> bool {
        true
    }
}

/// The state of subscriber `p` if it takes a message now: known, and
/// not dropping for want of room (a PUB drops for a full subscriber until
/// it has room again, unless XPUB_NODROP made the send wait instead).
#[inline(always)]
fn taking(state: &mut [Option<PubPipe>], p: PipeId, nodrop: bool) -> Option<&mut PubPipe> {
    let state = state.get_mut(p.index())?.as_mut()?;
    (!state.full || nodrop).then_some(state)
}

/// Writes `msg` to `p`; whether `p` turned out full. A PUB never blocks:
/// the message is dropped for a full one. A closed pipe is recorded as
/// ended and detached after the send.
#[inline(always)]
fn deliver(pipes: &mut Pipes, p: PipeId, msg: Msg) -> bool {
    matches!(pipes.send(p, msg), Err(WriteError::Full(_)))
}
