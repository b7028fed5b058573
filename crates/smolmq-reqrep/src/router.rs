//! ROUTER: messages addressed by routing id.

use crate::id_hash::IdTable;
use bytes::Bytes;
use smolmq_core::pattern::FairQueue;
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::pipe::WriteError;
use smolmq_core::{Error, Msg};
use std::collections::VecDeque;

/// What a ROUTER knows about one pipe.
#[derive(Debug)]
struct Peer {
    /// The pipe.
    pipe: PipeId,
    /// The routing id the pipe goes by; `None` while unknown (a connecting
    /// pipe before its handshake) or when the peer is ignored (an id
    /// already in use, without ROUTER_HANDOVER).
    routing_id: Option<Bytes>,
    /// The peer generation (handshake count) `routing_id` was decided for.
    generation: u64,
    /// The id was given by CONNECT_ROUTING_ID: it stays, whatever the peer
    /// announces.
    fixed: bool,
    /// The id this peer announced and did not get because another peer
    /// has it (no ROUTER_HANDOVER); it gets it when that peer leaves.
    wants: Option<Bytes>,
}

/// The ROUTER pattern (RFC 28): every peer has a routing id, a received
/// message is prefixed with the id of the peer it came from, and a message
/// sent goes to the peer its first frame names.
///
/// A peer's routing id is the one it announced (its ROUTING_ID option),
/// else a generated 5-byte id (a zero byte and a 32-bit counter, as
/// libzmq), or, for the pipe of the next `connect`, the id set with
/// CONNECT_ROUTING_ID. A pipe made by `connect` over tcp or ipc learns its
/// peer's id at the end of the handshake ([`PipeEvent::Identified`]); until
/// then it cannot be addressed.
///
/// Sending: the first frame is taken off and names the peer; the rest goes
/// to that peer, whole. A message of one frame (an id and nothing else) is
/// dropped, as libzmq does. An unknown id, or a peer whose pipe is full, is
/// silently dropped (`send` returns `Ok`) unless ROUTER_MANDATORY is set:
/// then an unknown (or gone) id fails with [`Error::Unroutable`] and a
/// full pipe makes the send wait (`Error::WouldBlock` for `try_send`).
///
/// ROUTER_NOTIFY ([`set_notify`](Router::set_notify)): `[id, ""]` when a
/// peer arrives and after it has left. An empty frame after the id is never
/// a message of a JSON-lines peer (an empty line is no message), so there
/// the notifications cannot be mistaken for data; over ZMTP a peer can send
/// an empty message, so tell them apart by the order (a connect notice
/// comes before anything the peer sent, a disconnect notice after it).
///
/// Options: ROUTER_MANDATORY, ROUTER_HANDOVER, PROBE_ROUTER, ROUTER_NOTIFY
/// and CONNECT_ROUTING_ID, through the functions at the [crate root](crate) or
/// the setters here (before the socket is made).
#[derive(Debug)]
pub struct Router {
    /// In.
    fq: FairQueue,
    /// Per pipe, by slot index.
    peers: Vec<Option<Peer>>,
    /// Routing id to pipe, for the pipes that have one.
    /// Keyed with a fast hash that peers cannot flood ([`IdTable`]).
    by_id: IdTable<PipeId>,
    /// The counter of generated ids.
    next_id: u32,
    /// A message taken by `has_in`, delivered by the next `recv`.
    prefetched: Option<Msg>,
    /// How many peers wait for an id in use (`Peer::wants`).
    waiting: usize,
    /// ROUTER_MANDATORY.
    mandatory: bool,
    /// ROUTER_HANDOVER.
    handover: bool,
    /// PROBE_ROUTER.
    probe_router: bool,
    /// CONNECT_ROUTING_ID, for the next pipe made by `connect`.
    connect_routing_id: Option<Bytes>,
    /// ROUTER_NOTIFY flags ([`NOTIFY_CONNECT`](crate::NOTIFY_CONNECT),
    /// [`NOTIFY_DISCONNECT`](crate::NOTIFY_DISCONNECT)).
    notify: u8,
    /// `[id, ""]` notifications not yet received, oldest first.
    notices: VecDeque<Msg>,
}

impl Default for Router {
    fn default() -> Router {
        Router {
            fq: FairQueue::default(),
            peers: Vec::new(),
            by_id: IdTable::default(),
            // As libzmq, the counter starts at a random value.
            next_id: crate::random_u32(),
            prefetched: None,
            waiting: 0,
            mandatory: false,
            handover: false,
            probe_router: false,
            connect_routing_id: None,
            notify: 0,
            notices: VecDeque::new(),
        }
    }
}

impl Router {
    /// A ROUTER pattern with default options.
    pub fn new() -> Router {
        Router::default()
    }

    /// Sets ROUTER_MANDATORY: report unroutable messages
    /// ([`Error::Unroutable`]) and wait at a full pipe, instead of dropping.
    pub fn set_mandatory(&mut self, on: bool) {
        self.mandatory = on;
    }

    /// Whether ROUTER_MANDATORY is set.
    pub fn mandatory(&self) -> bool {
        self.mandatory
    }

    /// Sets ROUTER_HANDOVER: a new peer announcing a routing id already in
    /// use takes it over, and the old peer's pipe is closed.
    pub fn set_handover(&mut self, on: bool) {
        self.handover = on;
    }

    /// Whether ROUTER_HANDOVER is set.
    pub fn handover(&self) -> bool {
        self.handover
    }

    /// Sets PROBE_ROUTER: peers attached from now on are sent an empty
    /// message first.
    pub fn set_probe_router(&mut self, on: bool) {
        self.probe_router = on;
    }

    /// Whether PROBE_ROUTER is set.
    pub fn probe_router(&self) -> bool {
        self.probe_router
    }

    /// Sets CONNECT_ROUTING_ID: the routing id the next pipe made by
    /// `connect` goes by, whatever its peer announces. Used once.
    ///
    /// Fails if `id` is empty or already names a peer.
    pub fn set_connect_routing_id(&mut self, id: Bytes) -> Result<(), Error> {
        if id.is_empty() {
            return Err(Error::Unsupported(
                "CONNECT_ROUTING_ID cannot be empty".to_owned(),
            ));
        }
        if self.by_id.contains_key(&id) {
            return Err(Error::Unsupported(format!(
                "CONNECT_ROUTING_ID {id:?} already names a peer of this ROUTER"
            )));
        }
        self.connect_routing_id = Some(id);
        Ok(())
    }

    /// Sets ROUTER_NOTIFY: with [`NOTIFY_CONNECT`](crate::NOTIFY_CONNECT),
    /// `[id, ""]` is received when a peer becomes addressable under `id`;
    /// with [`NOTIFY_DISCONNECT`](crate::NOTIFY_DISCONNECT), `[id, ""]`
    /// after the last message of a peer that left. 0 turns both off.
    pub fn set_notify(&mut self, flags: u8) {
        self.notify = flags;
    }

    /// The ROUTER_NOTIFY flags.
    pub fn notify(&self) -> u8 {
        self.notify
    }

    /// Queues the notification `[rid, ""]` if `flag` is on.
    fn notice(&mut self, flag: u8, rid: &Bytes) {
        if self.notify & flag != 0 {
            if let Some(msg) = Msg::from_frames([rid.clone(), Bytes::new()]) {
                self.notices.push_back(msg);
            }
        }
    }

    /// The routing ids of the peers that can be addressed now, in pipe
    /// order.
    pub fn routing_ids(&self) -> Vec<Bytes> {
        self.peers
            .iter()
            .filter_map(|p| p.as_ref().and_then(|p| p.routing_id.clone()))
            .collect()
    }

    /// The pipe routing id `id` names, if any.
    pub fn pipe_of(&self, id: &[u8]) -> Option<PipeId> {
        self.by_id.get(id)
    }

    /// The state of pipe `id`.
    fn peer_mut(&mut self, id: PipeId) -> Option<&mut Peer> {
        self.peers.get_mut(id.index()).and_then(Option::as_mut)
    }

    /// A fresh generated routing id: a zero byte and the counter, big
    /// endian (as libzmq), skipping any in use.
    fn generate_id(&mut self) -> Bytes {
        loop {
            let n = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            let mut id = [0u8; 5];
            id[1..].copy_from_slice(&n.to_be_bytes());
            let id = Bytes::copy_from_slice(&id);
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// Gives pipe `id` routing id `rid` (dropping the one it had).
    fn assign(&mut self, id: PipeId, rid: Bytes) {
        let Some(peer) = self.peer_mut(id) else {
            return;
        };
        let old = peer.routing_id.replace(rid.clone());
        match old {
            Some(old) => {
                if self.by_id.get(&old) == Some(id) {
                    self.by_id.remove(&old);
                }
            }
            // Addressable for the first time: the peer has arrived.
            None => self.notice(crate::NOTIFY_CONNECT, &rid),
        }
        self.by_id.insert(rid, id);
    }

    /// Decides pipe `id`'s routing id from its peer's description, after
    /// a (re)handshake. See the crate docs for the rules.
    fn identify(&mut self, pipes: &mut Pipes, id: PipeId) {
        if let Some(info) = pipes.peer(id) {
            self.identify_as(pipes, id, info);
        }
    }

    /// As [`identify`](Router::identify), with the peer's description at
    /// hand.
    fn identify_as(&mut self, pipes: &mut Pipes, id: PipeId, info: smolmq_core::pattern::Peer) {
        let Some(peer) = self.peer_mut(id) else {
            return;
        };
        peer.generation = info.generation;
        if peer.fixed || info.generation == 0 {
            return;
        }
        let was_waiting = peer.wants.take().is_some();
        let current = peer.routing_id.clone();
        if was_waiting {
            self.waiting -= 1;
        }
        let announced = info.routing_id;
        if announced.is_empty() {
            // No id announced: keep the one we gave, or make one up.
            if current.is_none() {
                let rid = self.generate_id();
                self.assign(id, rid);
            }
            return;
        }
        if current.as_ref() == Some(&announced) {
            return;
        }
        match self.by_id.get(&announced) {
            Some(other) if other != id => {
                if !self.handover {
                    // As libzmq: a peer announcing an id in use is ignored
                    // (a reconnected one keeps the id it had), here until
                    // the id is free again.
                    if let Some(peer) = self.peer_mut(id) {
                        peer.wants = Some(announced);
                        self.waiting += 1;
                    }
                    return;
                }
                // Handover: the old pipe loses the id and is closed.
                self.by_id.remove(&announced);
                if let Some(old) = self.peer_mut(other) {
                    old.routing_id = None;
                }
                self.fq.detach(other);
                pipes.close(other);
                self.assign(id, announced);
            }
            _ => self.assign(id, announced),
        }
    }

    /// Looks again at pipe `id`'s peer if it has handshaken since we last
    /// looked (one atomic load when it has not).
    fn refresh(&mut self, pipes: &mut Pipes, id: PipeId) {
        let known = self.peers.get(id.index()).and_then(Option::as_ref);
        let Some(known) = known.map(|p| p.generation) else {
            return;
        };
        if pipes.peer_generation(id).is_some_and(|g| g != known) {
            self.identify(pipes, id);
        }
    }

    /// The next message with its routing id in front, skipping messages of
    /// ignored (unaddressable) peers; [`Error::WouldBlock`] when there is
    /// none. A `Result`, as `recv` returns it: the message is not moved
    /// from one form into the other (an 80-byte copy per message).
    fn next(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        loop {
            let Some((id, mut msg)) = self.fq.recv(pipes) else {
                return Err(Error::WouldBlock);
            };
            self.refresh(pipes, id);
            let rid = self
                .peers
                .get(id.index())
                .and_then(Option::as_ref)
                .and_then(|p| p.routing_id.as_ref());
            if let Some(rid) = rid {
                // A copy of the id: a small body and its id stay inline in
                // the message, no allocation.
                msg.push_front_slice(rid);
                return Ok(msg);
            }
        }
    }
}

/// `rest` with `first` put back in front: the message as the user sent it.
fn rebuild(first: Bytes, mut rest: Msg) -> Msg {
    rest.push_front(first);
    rest
}

impl Pattern for Router {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        let Some(info) = pipes.peer(id) else {
            return false;
        };
        let mut peer = Peer {
            pipe: id,
            routing_id: None,
            generation: info.generation,
            fixed: false,
            wants: None,
        };
        let mut fixed = None;
        if info.connected {
            if let Some(rid) = self.connect_routing_id.take() {
                if self.by_id.contains_key(&rid) {
                    // libzmq asserts; we refuse the connection.
                    return false;
                }
                peer.fixed = true;
                fixed = Some(rid);
            }
        }
        if self.probe_router {
            // As libzmq: best effort, a full pipe just misses the probe.
            let _ = pipes.send(id, Msg::new());
        }
        if self.peers.len() <= id.index() {
            self.peers.resize_with(id.index() + 1, || None);
        }
        self.peers[id.index()] = Some(peer);
        self.fq.attach(id);
        match fixed {
            Some(rid) => self.assign(id, rid),
            // Before its handshake (generation 0) a connecting pipe stays
            // unaddressed until `Identified`.
            None => self.identify_as(pipes, id, info),
        }
        true
    }

    fn detach(&mut self, id: PipeId) {
        self.fq.detach(id);
        let Some(peer) = self.peers.get_mut(id.index()).and_then(Option::take) else {
            return;
        };
        if peer.wants.is_some() {
            self.waiting -= 1;
        }
        let Some(rid) = peer.routing_id else {
            return;
        };
        if self.by_id.get(&rid) != Some(id) {
            return;
        }
        self.by_id.remove(&rid);
        self.notice(crate::NOTIFY_DISCONNECT, &rid);
        if self.waiting > 0 {
            // A peer ignored for announcing this id gets it now.
            let heir = self
                .peers
                .iter()
                .flatten()
                .find_map(|p| (p.wants.as_ref() == Some(&rid)).then_some(p.pipe));
            if let Some(heir) = heir {
                if let Some(p) = self.peer_mut(heir) {
                    p.wants = None;
                }
                self.waiting -= 1;
                self.assign(heir, rid);
            }
        }
    }

    fn send(&mut self, pipes: &mut Pipes, mut msg: Msg) -> Result<(), Refused> {
        if msg.is_single() {
            // An id with nothing after it: dropped, as libzmq.
            return Ok(());
        }
        // The id is looked up where it lies, and dropped from the message
        // without being copied out. With ROUTER_MANDATORY a refused message
        // goes back as the user gave it: the id (a reference to the table's
        // key, not a copy) goes back in front.
        let (id, rid) = if self.mandatory {
            let Some((rid, id)) = self.by_id.get_key_value(msg.first()) else {
                return Err(Refused::with(Error::Unroutable, msg));
            };
            (id, Some(rid.clone()))
        } else {
            let Some(id) = self.by_id.route(msg.first()) else {
                return Ok(());
            };
            (id, None)
        };
        msg.drop_front();
        match (pipes.send(id, msg), rid) {
            (Ok(()), _) => Ok(()),
            (Err(WriteError::Full(rest)), Some(rid)) => {
                Err(Refused::would_block(rebuild(rid, rest)))
            }
            (Err(WriteError::Closed(rest)), Some(rid)) => {
                Err(Refused::with(Error::Unroutable, rebuild(rid, rest)))
            }
            // Without ROUTER_MANDATORY, a message that cannot go is dropped.
            (Err(_), None) => Ok(()),
        }
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        if let Some(msg) = self.notices.pop_front() {
            return Ok(msg);
        }
        if let Some(msg) = self.prefetched.take() {
            return Ok(msg);
        }
        // `next` gives the `Result` itself: `ok_or` on an `Option` built
        // the error and dropped it again for every message (21
        // instructions), and a match moved the message once more.
        self.next(pipes)
    }

    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        if event == PipeEvent::Identified {
            self.identify(pipes, id);
        } else {
            crate::route_event(pipes, id, event, None, &mut self.fq);
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        if !self.notices.is_empty() {
            return true;
        }
        if self.prefetched.is_none() {
            self.prefetched = self.next(pipes).ok();
        }
        self.prefetched.is_some()
    }

    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        if !self.mandatory {
            return true;
        }
        let ids: Vec<PipeId> = self.by_id.pipes().collect();
        ids.into_iter().any(|id| pipes.can_write(id))
    }
}
