//! The pattern trait: what a socket type does with its pipes.
//!
//! A socket owns one pipe per peer ([`Pipes`]); its [`Pattern`] decides
//! which peers it accepts, where an outgoing message goes (the one peer,
//! round robin, by routing id, to every subscriber) and from which pipe the
//! next message is taken (fair queueing). The socket core does everything
//! else: connections, handshakes, waiting, timeouts, monitor events.
//!
//! Patterns live in their own crates and implement this trait; PAIR
//! ([`Pair`]) lives here, as the reference and because the core's tests need
//! one.
//!
//! # What a pattern is told
//!
//! * [`Pattern::attach`]: a new peer. Its [`Peer`] (socket type, routing
//!   id, whether we connected to it) is in [`Pipes::peer`]. A pipe made by
//!   `connect` over tcp or ipc is attached before any connection exists:
//!   its peer is known once the first handshake is done, which
//!   [`PipeEvent::Identified`] announces (and again after every
//!   reconnection). Over inproc a bound peer is known at attach; one that
//!   binds later is announced with [`PipeEvent::Identified`].
//! * [`Pattern::activated`]: a pipe changed state. Events are hints sent on
//!   transitions only (a pipe read until empty becomes readable again, a
//!   pipe refused at its HWM becomes writable again), so a pattern that
//!   keeps lists of ready pipes reads and writes until refused and then
//!   waits for the event.
//! * [`Pattern::detach`]: a pipe ended (its peer left and everything it
//!   sent was read) or was closed by the pattern ([`Pipes::close`]).
//!
//! Subscriptions travel through the pipes as messages of one frame, `1`
//! then the topic to subscribe, `0` then the topic to cancel (ZMTP 3.0's
//! form); the engine turns them into SUBSCRIBE / CANCEL commands for a
//! ZMTP 3.1 peer and back.
//!
//! # Load balancing and fair queueing
//!
//! The routing most patterns share is here, as in libzmq (`lb_t`,
//! `fq_t`): [`LoadBalancer`] sends each message to the next pipe with room
//! (PUSH, DEALER, REQ), [`FairQueue`] takes one message from each pipe that
//! has some, in turn (PULL, DEALER, ROUTER, REQ, REP, SUB, XSUB).
//!
//! Both keep an *active list*, libzmq's layout: one vector of every
//! attached pipe with the ready ones (room to write, or messages to read)
//! first, a count of those, a round-robin cursor over them, and a table by
//! [`PipeId::index`] giving each pipe's place in the vector. Costs:
//!
//! * a send or receive looks at the pipe under the cursor, writes and
//!   flushes it (or reads it) and moves the cursor on: one pipe operation
//!   and a cursor step per message, no allocation, no lock, no scan;
//! * a pipe that refuses (full, or read empty) is swapped out of the ready
//!   part in O(1), and the next ready pipe is tried;
//! * attach, detach and activation are O(1) too (a swap with the boundary
//!   of the ready part); the vectors grow only to the largest number of
//!   pipes (and the highest slot index) the socket has had.
//!
//! Events drive them: a pipe refused at its HWM is armed to send
//! [`PipeEvent::Writable`] when it has room, which the pattern passes to
//! [`LoadBalancer::activated`]; a pipe read empty is armed to send
//! [`PipeEvent::Readable`], passed to [`FairQueue::activated`] (as is
//! [`PipeEvent::Closed`], so what a departed peer sent is still read; the
//! pipe ends at the empty read after it). Events are hints: activating a
//! pipe already ready, or a slot not attached, is ignored, and a stale
//! event for a slot since detached and reused by a new pipe at worst makes
//! that pipe ready early: its next write or read is refused, which takes
//! it out again and arms its event anew. No message is lost or reordered
//! within a pipe either way.

use crate::pipe::{Pipe, WriteError, LEAD_REPORT_EVERY};
use crate::{Error, Msg, Wire};
use bytes::Bytes;
use smolmq_zmtp::SocketType;
use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

mod active;
mod fq;
mod lb;

pub use fq::FairQueue;
pub use lb::LoadBalancer;

/// Identifies one of a socket's pipes for as long as it is attached.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PipeId(usize);

impl PipeId {
    /// The slot index, for patterns that keep per-pipe tables.
    #[inline]
    pub fn index(self) -> usize {
        self.0
    }

    /// The id of slot `index`.
    pub(crate) fn from_index(index: usize) -> PipeId {
        PipeId(index)
    }
}

/// What a socket knows about the peer at the other end of a pipe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peer {
    /// The peer's socket type, from its handshake (or, over inproc, from
    /// the peer socket itself); `None` while a connecting pipe waits for
    /// its first handshake.
    pub socket_type: Option<SocketType>,
    /// The routing id the peer announced (its ROUTING_ID option); empty
    /// when it announced none.
    pub routing_id: Bytes,
    /// `true` when this socket connected to the peer, `false` when the peer
    /// connected to one of our binds.
    pub connected: bool,
    /// How many handshakes this pipe has seen: 0 before the first, 1 after
    /// it, more after reconnections (a connecting pipe survives them).
    pub generation: u64,
    /// The wire spoken with the peer: [`Wire::JsonLines`] for a `+jsonl`
    /// endpoint (whose peers have no socket type and no routing id, and
    /// take only one-frame messages that can be a line).
    pub wire: Wire,
}

/// A peer description shared by a pipe's socket and whoever completes the
/// handshake for it (an engine, or an inproc peer binding late).
#[derive(Debug, Default)]
pub(crate) struct PeerSlot {
    /// The latest description.
    peer: Mutex<Peer>,
    /// `peer.generation`, readable without the lock.
    generation: AtomicU64,
}

impl PeerSlot {
    /// A slot already describing `peer`.
    pub(crate) fn new(peer: Peer) -> PeerSlot {
        PeerSlot {
            generation: AtomicU64::new(peer.generation),
            peer: Mutex::new(peer),
        }
    }

    /// Records a (re)handshake: the peer's type and routing id.
    pub(crate) fn identify(&self, socket_type: SocketType, routing_id: Bytes) {
        let mut peer = self.peer.lock().unwrap_or_else(|p| p.into_inner());
        peer.socket_type = Some(socket_type);
        peer.routing_id = routing_id;
        peer.generation += 1;
        self.generation.store(peer.generation, Ordering::Release);
    }

    /// Records a new JSON-lines connection: no handshake, so no socket type
    /// and no routing id.
    pub(crate) fn identify_lines(&self) {
        let mut peer = self.peer.lock().unwrap_or_else(|p| p.into_inner());
        peer.socket_type = None;
        peer.routing_id = Bytes::new();
        peer.wire = Wire::JsonLines;
        peer.generation += 1;
        self.generation.store(peer.generation, Ordering::Release);
    }

    /// The description now.
    pub(crate) fn get(&self) -> Peer {
        self.peer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What happened to a pipe, as told to [`Pattern::activated`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PipeEvent {
    /// Messages arrived after a read found the pipe empty.
    Readable,
    /// Room freed up after a write was refused at the HWM (or, for a
    /// paced send, the reader reported taking more: `Pipe::wait_lead`).
    Writable,
    /// The peer end went away; what it sent can still be read, then the
    /// pipe ends and is detached.
    Closed,
    /// A handshake finished on this pipe's connection: the peer's type and
    /// routing id in [`Pipes::peer`] are new. For a connecting pipe this
    /// comes after the first connection and after every reconnection (the
    /// pipe survives them, the connection does not): a subscriber sends its
    /// subscriptions again here, since what the old connection had not
    /// written is lost.
    Identified,
}

/// One attached pipe.
struct Slot {
    /// The pipe.
    pipe: Pipe<Msg>,
    /// Who is at the other end.
    peer: std::sync::Arc<PeerSlot>,
    /// The pipe has no HWM, so its writes may be paced (see
    /// [`Pipes::set_pacing`]).
    unlimited: bool,
    /// Pacing: the write count at which to look at the reader's count
    /// next. The lead cannot reach the bound before (see
    /// [`Pipes::check_lead`]), so no write before it looks.
    check_at: usize,
    /// Pacing: the reader was asked for its count at the last look.
    asked: bool,
    /// Pacing: the reader's count as last reported when it was asked.
    asked_at: usize,
    /// A pacing wait on this pipe ended with the reader not moving: its
    /// count then. The pipe is not paced again until the count moves.
    stalled_at: Option<usize>,
}

/// How far a paced writer may run ahead of a pipe's reader, in bytes of
/// payload, before a blocking send waits for the reader to take half of
/// it (see `Socket::send_blocking`): 4 MiB.
pub const PACE_AHEAD: usize = 4 << 20;

/// The longest a paced blocking send waits for a lagging reader to take
/// half of its lead (see `Socket::send_blocking`): 2 ms, a few times what
/// an I/O thread takes to write half of [`PACE_AHEAD`] to a local socket.
pub const PACE_WAIT: std::time::Duration = std::time::Duration::from_millis(2);

/// The most writes between two looks at a paced pipe's reader (see
/// `Pipes::check_lead`), whatever the size of the messages.
const MAX_LOOK_GAP: usize = 1024;

/// The lead in messages that [`PACE_AHEAD`] allows for messages of `size`
/// bytes: never under 16 messages (twice [`LEAD_REPORT_EVERY`], so that
/// a reader's reports come often enough for the writer to see half of the
/// lead go), however large they are.
#[inline]
fn pace_bound(size: usize) -> usize {
    (PACE_AHEAD / size.max(1)).max(2 * LEAD_REPORT_EVERY)
}

/// The pipes of a socket, one per peer.
///
/// A pipe has *ended* when its peer is gone and every message the peer sent
/// has been read; reads and writes notice that, and the socket then removes
/// the pipe and tells the pattern ([`Pattern::detach`]).
pub struct Pipes {
    /// Slots; `None` for a free one.
    slots: Vec<Option<Slot>>,
    /// Pipes found ended, to be removed by the socket.
    ended: Vec<PipeId>,
    /// Number of attached pipes.
    count: usize,
    /// Whether [`Pipes::recv`] waits a little at an empty pipe: yes for
    /// threads (blocking and `try_` receives), no for an async receive,
    /// whose task gives the thread to the executor's other tasks instead.
    patient: bool,
    /// Whether writes note a pipe without a HWM whose reader lags far
    /// behind (see [`Pipes::set_pacing`]).
    pacing: bool,
    /// The pipe found lagging by the last write, and its bound.
    #[cfg_attr(loom, allow(dead_code))]
    lagging: Option<(PipeId, usize)>,
}

impl Default for Pipes {
    fn default() -> Pipes {
        Pipes {
            slots: Vec::new(),
            ended: Vec::new(),
            count: 0,
            patient: true,
            pacing: false,
            lagging: None,
        }
    }
}

impl Pipes {
    /// Adds a pipe and returns its id.
    pub(crate) fn insert(&mut self, pipe: Pipe<Msg>, peer: std::sync::Arc<PeerSlot>) -> PipeId {
        let unlimited = pipe.hwm() == 0;
        let slot = Some(Slot {
            pipe,
            peer,
            unlimited,
            check_at: 0,
            asked: false,
            asked_at: 0,
            stalled_at: None,
        });
        self.count += 1;
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = slot;
            PipeId(i)
        } else {
            self.slots.push(slot);
            PipeId(self.slots.len() - 1)
        }
    }

    /// Removes a pipe (dropping it closes the peer's side).
    pub(crate) fn remove(&mut self, id: PipeId) -> Option<Pipe<Msg>> {
        let slot = self.slots.get_mut(id.0).and_then(Option::take)?;
        self.count -= 1;
        Some(slot.pipe)
    }

    /// The pipes found ended since the last call.
    pub(crate) fn take_ended(&mut self) -> Vec<PipeId> {
        std::mem::take(&mut self.ended)
    }

    /// True if some pipe was found ended and not yet removed.
    pub(crate) fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }

    /// The slot of `id`, if attached.
    fn slot_mut(&mut self, id: PipeId) -> Option<&mut Slot> {
        self.slots.get_mut(id.0).and_then(Option::as_mut)
    }

    /// The pipe `id`, if attached.
    pub fn get(&self, id: PipeId) -> Option<&Pipe<Msg>> {
        self.slots
            .get(id.0)
            .and_then(Option::as_ref)
            .map(|s| &s.pipe)
    }

    /// Who is at the other end of pipe `id`, if attached.
    ///
    /// Takes a lock: patterns look once (at [`Pattern::attach`] and at
    /// [`PipeEvent::Identified`]) and keep what they need.
    pub fn peer(&self, id: PipeId) -> Option<Peer> {
        self.slots
            .get(id.0)
            .and_then(Option::as_ref)
            .map(|s| s.peer.get())
    }

    /// How many handshakes pipe `id` has seen (see [`Peer::generation`]),
    /// without a lock: one atomic load.
    pub fn peer_generation(&self, id: PipeId) -> Option<u64> {
        self.slots
            .get(id.0)
            .and_then(Option::as_ref)
            .map(|s| s.peer.generation.load(Ordering::Acquire))
    }

    /// True if the peer end of pipe `id` has gone (or `id` is not
    /// attached). What it sent before may still be waiting to be read.
    /// One atomic load.
    pub fn is_peer_gone(&self, id: PipeId) -> bool {
        self.get(id).is_none_or(Pipe::is_peer_gone)
    }

    /// True if `test` holds for some attached pipe (stops at the first);
    /// no allocation, unlike collecting [`ids`](Pipes::ids) first.
    pub fn any(&mut self, mut test: impl FnMut(&mut Pipes, PipeId) -> bool) -> bool {
        (0..self.slots.len())
            .map(PipeId)
            .any(|id| self.contains(id) && test(self, id))
    }

    /// True if `id` is attached.
    pub fn contains(&self, id: PipeId) -> bool {
        self.get(id).is_some()
    }

    /// Number of attached pipes.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no pipe is attached.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The attached pipes' ids, in slot order.
    pub fn ids(&self) -> impl Iterator<Item = PipeId> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .map(|(i, _)| PipeId(i))
    }

    /// True if the pipe's peer is gone and nothing it sent is left (the
    /// pipe is then recorded as ended).
    pub fn is_ended(&mut self, id: PipeId) -> bool {
        let Some(s) = self.slot_mut(id) else {
            return true;
        };
        let ended = s.pipe.is_peer_gone() && !s.pipe.check_read();
        if ended {
            self.ended.push(id);
        }
        ended
    }

    /// Closes pipe `id` from our side: the socket removes it (dropping our
    /// end, so the peer's connection ends once it has written what was
    /// queued) and calls [`Pattern::detach`]. What the peer sent and we did
    /// not read is dropped.
    pub fn close(&mut self, id: PipeId) {
        if self.contains(id) && !self.ended.contains(&id) {
            self.ended.push(id);
        }
    }

    /// Sends `msg` on pipe `id` and flushes it. On [`WriteError::Full`] the
    /// socket will be woken when the pipe has room; on
    /// [`WriteError::Closed`] the pipe is recorded as ended.
    #[inline]
    pub fn send(&mut self, id: PipeId, msg: Msg) -> Result<(), WriteError<Msg>> {
        let result = self.write(id, msg);
        if result.is_ok() {
            self.flush(id);
        }
        result
    }

    /// Writes `msg` on pipe `id` without publishing it: the peer sees it at
    /// the next [`flush`](Pipes::flush) of that pipe (or the next
    /// [`send`](Pipes::send)). Errors as [`send`](Pipes::send).
    #[inline]
    pub fn write(&mut self, id: PipeId, msg: Msg) -> Result<(), WriteError<Msg>> {
        // Only a socket with one peer paces: with several, one slow peer
        // would hold up the messages for all the others.
        let pacing = self.pacing && self.count == 1;
        let Some(s) = self.slot_mut(id) else {
            return Err(WriteError::Closed(msg));
        };
        // This write reaches `check_at` (`written + 1 >= check_at`, in
        // wrapping counts): only then is the size needed.
        let due = pacing
            && s.unlimited
            && s.pipe.written().wrapping_add(1).wrapping_sub(s.check_at) <= usize::MAX / 2;
        let size = if due { msg.size() } else { 0 };
        match s.pipe.write(msg) {
            Ok(()) => {
                if due {
                    self.check_lead(id, pace_bound(size));
                }
                Ok(())
            }
            Err(WriteError::Closed(msg)) => {
                self.ended.push(id);
                Err(WriteError::Closed(msg))
            }
            Err(full) => Err(full),
        }
    }

    /// Pacing, at a write that reached pipe `id`'s `check_at`: look at
    /// how far the reader is behind, and note the pipe for
    /// [`Pipes::take_lagging`] if it is `bound` messages or more behind
    /// (and not known to be stalled).
    ///
    /// The reader reports its count only while asked to (see
    /// [`Pipe::lead`]), so the first look asks and comes back a few
    /// writes later; until the reader has reported once since, its count
    /// is old and the look comes back again (a reader that takes nothing
    /// is never waited for). A look that finds the reader less than half
    /// the bound behind stops the reports and comes back when the lead
    /// could have reached the bound (at most [`MAX_LOOK_GAP`] writes
    /// later, as the bound depends on the size of the message at hand):
    /// a stream whose reader keeps up costs its reader one flag load per
    /// [`LEAD_REPORT_EVERY`] messages and its writer a look now and then.
    #[cold]
    #[inline(never)]
    fn check_lead(&mut self, id: PipeId, bound: usize) {
        let Some(s) = self.slot_mut(id) else {
            return;
        };
        let lead = s.pipe.lead();
        let written = s.pipe.written();
        if !s.asked {
            s.asked = true;
            s.asked_at = s.pipe.read_seen();
            s.check_at = written.wrapping_add(2 * LEAD_REPORT_EVERY);
            return;
        }
        if lead >= bound && s.pipe.read_seen() == s.asked_at {
            // No report since we asked: the count is old, or the reader
            // takes nothing. Look again later.
            s.check_at = written.wrapping_add(2 * LEAD_REPORT_EVERY);
            return;
        }
        if lead < bound {
            if lead < bound / 2 {
                s.pipe.stop_lead_reports();
                s.asked = false;
            }
            // `lead` is at least the true lead, which grows by one per
            // write at most.
            s.check_at = written.wrapping_add((bound - lead).min(MAX_LOOK_GAP));
            return;
        }
        s.check_at = written.wrapping_add(1);
        if s.stalled_at == Some(s.pipe.read_seen()) {
            return;
        }
        s.stalled_at = None;
        self.lagging = Some((id, bound));
    }

    /// Whether writes look for pipes without a HWM whose reader lags far
    /// behind, while there is one pipe: the socket turns it on for socket
    /// types whose send waits at the HWM (PAIR, DEALER, PUSH, REQ, ...),
    /// and acts on what they find in a blocking send only
    /// (`Socket::send_blocking`).
    #[cfg(not(loom))]
    pub(crate) fn set_pacing(&mut self, pacing: bool) {
        self.pacing = pacing;
    }

    /// The pipe a write since the last call found more than
    /// [`PACE_AHEAD`] ahead of its reader (as a count of messages of the
    /// size written), if any.
    #[cfg(not(loom))]
    pub(crate) fn take_lagging(&mut self) -> Option<(PipeId, usize)> {
        self.lagging.take()
    }

    /// For a paced send: `true` if pipe `id`'s lead is below `at_least`
    /// (or the pipe is gone); otherwise the socket gets a
    /// [`PipeEvent::Writable`] at the reader's next report
    /// ([`Pipe::wait_lead`]).
    #[cfg(not(loom))]
    pub(crate) fn wait_lead(&mut self, id: PipeId, at_least: usize) -> bool {
        match self.slot_mut(id) {
            Some(s) => s.pipe.is_peer_gone() || s.pipe.wait_lead(at_least),
            None => true,
        }
    }

    /// A paced send waited for pipe `id` and its reader did not move: do
    /// not pace it again until the reader's count moves.
    #[cfg(not(loom))]
    pub(crate) fn stalled(&mut self, id: PipeId) {
        if let Some(s) = self.slot_mut(id) {
            s.pipe.lead();
            s.stalled_at = Some(s.pipe.read_seen());
        }
    }

    /// Publishes what was written on pipe `id`, waking its reader if it
    /// sleeps.
    #[inline]
    pub fn flush(&mut self, id: PipeId) {
        if let Some(s) = self.slot_mut(id) {
            s.pipe.flush();
        }
    }

    /// True if pipe `id` would take a message now. When it returns `false`
    /// at the HWM, a [`PipeEvent::Writable`] follows when there is room; a
    /// pipe whose peer is gone is recorded as ended.
    pub fn can_write(&mut self, id: PipeId) -> bool {
        let Some(s) = self.slot_mut(id) else {
            return false;
        };
        if s.pipe.check_write() {
            return true;
        }
        if s.pipe.is_peer_gone() {
            self.ended.push(id);
        }
        false
    }

    /// True if a [`recv`](Pipes::recv) on pipe `id` would return a message
    /// now. When it returns `false`, a [`PipeEvent::Readable`] follows when
    /// one arrives; a pipe that has ended is recorded as such.
    pub fn can_read(&mut self, id: PipeId) -> bool {
        let Some(s) = self.slot_mut(id) else {
            return false;
        };
        if s.pipe.check_read() {
            return true;
        }
        if s.pipe.is_peer_gone() && !s.pipe.check_read() {
            self.ended.push(id);
        }
        false
    }

    /// Takes the next message from pipe `id`, or `None` when it has none
    /// (the socket is then woken when one arrives) or has ended (recorded).
    ///
    /// An empty pipe is looked at a few more times, for about a
    /// microsecond, before the socket gives up on it
    /// ([`Pipe::read_patiently`]): a receiver that is slightly faster than
    /// its sender then keeps up with it instead of being woken for every
    /// message. Patterns that scan many pipes for one message should use
    /// [`Pipes::recv_now`] for all but the last look.
    ///
    /// Within an async receive ([`Socket::recv`](crate::Socket::recv))
    /// the socket turns the wait off: the task would hold up the other
    /// tasks of its executor thread, and it is woken when a message comes.
    #[inline]
    pub fn recv(&mut self, id: PipeId) -> Option<Msg> {
        let patient = self.patient;
        let s = self.slot_mut(id)?;
        let msg = match patient {
            true => s.pipe.read_patiently(),
            false => s.pipe.read(),
        };
        if let Some(msg) = msg {
            return Some(msg);
        }
        self.recv_ended(id)
    }

    /// Whether [`Pipes::recv`] waits a little at an empty pipe (the
    /// socket's choice per receive; see there).
    #[cfg(not(loom))]
    pub(crate) fn set_patient(&mut self, patient: bool) {
        self.patient = patient;
    }

    /// As [`Pipes::recv`], without waiting at an empty pipe.
    #[inline]
    pub fn recv_now(&mut self, id: PipeId) -> Option<Msg> {
        let s = self.slot_mut(id)?;
        if let Some(msg) = s.pipe.read() {
            return Some(msg);
        }
        self.recv_ended(id)
    }

    /// Pipe `id` was found empty: a message the peer sent just before it
    /// went, or the pipe recorded as ended.
    #[cold]
    fn recv_ended(&mut self, id: PipeId) -> Option<Msg> {
        let s = self.slot_mut(id)?;
        if s.pipe.is_peer_gone() {
            // What the peer sent before it went is delivered first.
            if let Some(msg) = s.pipe.read() {
                return Some(msg);
            }
            self.ended.push(id);
        }
        None
    }
}

impl fmt::Debug for Pipes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipes")
            .field("attached", &self.len())
            .finish_non_exhaustive()
    }
}

/// What a pattern's send could not do; the message is handed back.
#[derive(Debug)]
pub struct Refused {
    /// Why ([`Error::WouldBlock`] to wait and retry).
    pub error: Error,
    /// The message.
    pub msg: Msg,
}

impl Refused {
    /// Would block: the socket waits for room (or a peer) and retries.
    pub fn would_block(msg: Msg) -> Refused {
        Refused {
            error: Error::WouldBlock,
            msg,
        }
    }

    /// Refused for good with `error` (the socket does not retry).
    pub fn with(error: Error, msg: Msg) -> Refused {
        Refused { error, msg }
    }
}

/// A socket type's routing. See the [module docs](self).
///
/// All methods run on the socket's owner thread; none may block. A pattern
/// reaches its own options through `Socket::with_pattern`, which
/// downcasts it (hence `Any`).
pub trait Pattern: Any + Send {
    /// A pipe to a new peer, already in `pipes`. Return `false` to refuse
    /// it: the socket drops the pipe, which closes the peer's connection.
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool;

    /// Pipe `id` has ended (or was closed) and is being removed.
    fn detach(&mut self, id: PipeId);

    /// Sends `msg`, or refuses it ([`Refused::would_block`] when it may go
    /// later: no peer, or the peers' pipes are full).
    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused>;

    /// Takes the next message, or fails with [`Error::WouldBlock`].
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error>;

    /// Pipe `id` changed state (see [`PipeEvent`]). The default does
    /// nothing: a pattern that looks at its pipes on every send and receive
    /// needs no events.
    fn activated(&mut self, _pipes: &mut Pipes, _id: PipeId, _event: PipeEvent) {}

    /// Whether a receive would succeed now (a poller's "readable"). The
    /// default says whether any pipe holds a message, which is right for
    /// patterns that deliver whatever arrives; patterns that filter or hold
    /// state (SUB, REQ, REP) override it.
    fn has_in(&mut self, pipes: &mut Pipes) -> bool {
        pipes.any(Pipes::can_read)
    }

    /// Whether a send would succeed now (a poller's "writable"). The
    /// default says whether any pipe has room.
    fn has_out(&mut self, pipes: &mut Pipes) -> bool {
        pipes.any(Pipes::can_write)
    }
}

/// PAIR: one peer at a time (RFC 31/EXPAIR).
///
/// A second peer arriving while the first is attached is refused, as in
/// libzmq; once the first has ended, the next one is taken.
#[derive(Debug, Default)]
pub struct Pair {
    /// The one peer.
    peer: Option<PipeId>,
}

impl Pattern for Pair {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        if let Some(current) = self.peer {
            if !pipes.is_ended(current) {
                return false;
            }
        }
        self.peer = Some(id);
        true
    }

    fn detach(&mut self, id: PipeId) {
        if self.peer == Some(id) {
            self.peer = None;
        }
    }

    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        let Some(id) = self.peer else {
            return Err(Refused::would_block(msg));
        };
        pipes
            .send(id, msg)
            .map_err(|e| Refused::would_block(e.into_inner()))
    }

    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        // Matches, not `ok_or(Error::WouldBlock)`: the eager error is
        // built and dropped (a call to `Error`'s drop glue) on every
        // receive that succeeds.
        let Some(id) = self.peer else {
            return Err(Error::WouldBlock);
        };
        match pipes.recv(id) {
            Some(msg) => Ok(msg),
            None => Err(Error::WouldBlock),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod pacing_tests {
    use super::*;
    use crate::pipe::pipe_pair;

    /// A message of 128 KiB without copying: 32 of them are PACE_AHEAD.
    fn big() -> Msg {
        static BODY: [u8; 128 << 10] = [7; 128 << 10];
        Msg::from(Bytes::from_static(&BODY))
    }

    /// Pacing pipes with one pipe without a HWM, and the reader's end.
    fn one_pipe() -> (Pipes, PipeId, Pipe<Msg>) {
        let (ours, theirs) = pipe_pair(0, 0);
        let mut pipes = Pipes::default();
        pipes.set_pacing(true);
        let id = pipes.insert(ours, std::sync::Arc::new(PeerSlot::new(Peer::default())));
        (pipes, id, theirs)
    }

    #[test]
    fn a_reader_that_keeps_up_is_never_lagging() {
        let (mut pipes, id, mut theirs) = one_pipe();
        for _ in 0..20 * pace_bound(big().size()) {
            pipes.send(id, big()).unwrap();
            assert!(theirs.read().is_some());
            assert_eq!(pipes.take_lagging(), None);
        }
    }

    #[test]
    fn a_reader_a_bound_behind_is_lagging_until_stalled_then_again_once_it_reads() {
        let (mut pipes, id, mut theirs) = one_pipe();
        let bound = pace_bound(big().size());
        assert_eq!(bound, 32);
        // A reader that has taken nothing is not waited for.
        for n in 1..=4 * bound {
            pipes.send(id, big()).unwrap();
            assert_eq!(pipes.take_lagging(), None, "{n} written");
        }
        // Once it reads (and reports), it is found far behind within a
        // few writes.
        for _ in 0..LEAD_REPORT_EVERY {
            assert!(theirs.read().is_some());
        }
        let mut found = None;
        for _ in 0..2 * LEAD_REPORT_EVERY {
            pipes.send(id, big()).unwrap();
            if let Some(lagging) = pipes.take_lagging() {
                found = Some(lagging);
                break;
            }
        }
        assert_eq!(found, Some((id, bound)));
        // Still behind at every write, until a wait says it is stalled.
        pipes.send(id, big()).unwrap();
        assert_eq!(pipes.take_lagging(), Some((id, bound)));
        pipes.stalled(id);
        for _ in 0..bound {
            pipes.send(id, big()).unwrap();
            assert_eq!(pipes.take_lagging(), None, "stalled");
        }
        // It reads (and reports), but is still far behind.
        for _ in 0..LEAD_REPORT_EVERY {
            assert!(theirs.read().is_some());
        }
        pipes.send(id, big()).unwrap();
        assert_eq!(pipes.take_lagging(), Some((id, bound)));
        // Caught up to under half the bound: the wait is over.
        let target = bound.div_ceil(2);
        assert!(!pipes.wait_lead(id, target));
        while theirs.read().is_some() {}
        assert!(pipes.wait_lead(id, target));
    }

    /// Writes 150 messages, lets the reader take 100 (on a pipe with a
    /// HWM of 200 that is one report, at its LWM), then writes 32 more:
    /// on a paced pipe without a HWM the lead (50 or more) is past the
    /// bound (32) and the reader has reported since it was asked. Whether
    /// any write found the pipe lagging.
    fn lagging_after_a_report(pipes: &mut Pipes, id: PipeId, theirs: &mut Pipe<Msg>) -> bool {
        let mut found = false;
        for _ in 0..150 {
            pipes.send(id, big()).unwrap();
            found |= pipes.take_lagging().is_some();
        }
        for _ in 0..100 {
            assert!(theirs.read().is_some());
        }
        for _ in 0..32 {
            pipes.send(id, big()).unwrap();
            found |= pipes.take_lagging().is_some();
        }
        found
    }

    #[test]
    fn pipes_with_a_hwm_or_without_pacing_are_left_alone() {
        assert_eq!(pace_bound(big().size()), 32);
        // The sequence finds a paced pipe without a HWM lagging...
        let (mut paced, id, mut theirs) = one_pipe();
        assert!(lagging_after_a_report(&mut paced, id, &mut theirs));
        // ... but not one with a HWM (its reader reports at the LWM) ...
        let (ours, mut theirs) = pipe_pair(200, 0);
        let mut bounded = Pipes::default();
        bounded.set_pacing(true);
        let id = bounded.insert(ours, std::sync::Arc::new(PeerSlot::new(Peer::default())));
        assert!(!lagging_after_a_report(&mut bounded, id, &mut theirs));
        // ... nor one of a socket that does not pace.
        let (mut unpaced, id, mut theirs) = one_pipe();
        unpaced.set_pacing(false);
        assert!(!lagging_after_a_report(&mut unpaced, id, &mut theirs));
    }

    #[test]
    fn a_socket_with_two_pipes_is_not_paced() {
        let (mut pipes, id, mut theirs) = one_pipe();
        let (second, _theirs2) = pipe_pair(0, 0);
        pipes.insert(second, std::sync::Arc::new(PeerSlot::new(Peer::default())));
        // Far behind, and it has reported: with one pipe this is lagging
        // (see above); with two it is left alone.
        for _ in 0..4 * pace_bound(big().size()) {
            pipes.send(id, big()).unwrap();
        }
        for _ in 0..LEAD_REPORT_EVERY {
            assert!(theirs.read().is_some());
        }
        for _ in 0..4 * pace_bound(big().size()) {
            pipes.send(id, big()).unwrap();
            assert_eq!(pipes.take_lagging(), None);
        }
    }
}
