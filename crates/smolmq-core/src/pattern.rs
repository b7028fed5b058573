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

use crate::pipe::{Pipe, WriteError};
use crate::{Error, Msg};
use std::fmt;

/// Identifies one of a socket's pipes for as long as it is attached.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PipeId(usize);

impl PipeId {
    /// The slot index, for patterns that keep per-pipe tables.
    pub fn index(self) -> usize {
        self.0
    }
}

/// The pipes of a socket, one per peer.
///
/// A pipe has *ended* when its peer is gone and every message the peer sent
/// has been read; reads and writes notice that, and the socket then removes
/// the pipe and tells the pattern ([`Pattern::detach`]).
#[derive(Default)]
pub struct Pipes {
    /// Slots; `None` for a free one.
    slots: Vec<Option<Pipe<Msg>>>,
    /// Pipes found ended, to be removed by the socket.
    ended: Vec<PipeId>,
}

impl Pipes {
    /// Adds a pipe and returns its id.
    pub(crate) fn insert(&mut self, pipe: Pipe<Msg>) -> PipeId {
        if let Some(i) = self.slots.iter().position(Option::is_none) {
            self.slots[i] = Some(pipe);
            PipeId(i)
        } else {
            self.slots.push(Some(pipe));
            PipeId(self.slots.len() - 1)
        }
    }

    /// Removes a pipe (dropping it closes the peer's side).
    pub(crate) fn remove(&mut self, id: PipeId) -> Option<Pipe<Msg>> {
        self.slots.get_mut(id.0).and_then(Option::take)
    }

    /// True if pipes were found ended since the last `take_ended`.
    #[inline]
    pub(crate) fn has_ended(&self) -> bool {
        !self.ended.is_empty()
    }

    /// The pipes found ended since the last call.
    pub(crate) fn take_ended(&mut self) -> Vec<PipeId> {
        std::mem::take(&mut self.ended)
    }

    /// The pipe `id`, if attached.
    pub fn get(&self, id: PipeId) -> Option<&Pipe<Msg>> {
        self.slots.get(id.0).and_then(Option::as_ref)
    }

    /// True if `id` is attached.
    pub fn contains(&self, id: PipeId) -> bool {
        self.get(id).is_some()
    }

    /// Number of attached pipes.
    pub fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// True when no pipe is attached.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// The attached pipes' ids.
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
        let Some(p) = self.slots.get_mut(id.0).and_then(Option::as_mut) else {
            return true;
        };
        let ended = p.is_peer_gone() && !p.check_read();
        if ended {
            self.ended.push(id);
        }
        ended
    }

    /// Sends `msg` on pipe `id` and flushes it. On [`WriteError::Full`] the
    /// socket will be woken when the pipe has room; on
    /// [`WriteError::Closed`] the pipe is recorded as ended.
    pub fn send(&mut self, id: PipeId, msg: Msg) -> Result<(), WriteError<Msg>> {
        let Some(pipe) = self.slots.get_mut(id.0).and_then(Option::as_mut) else {
            return Err(WriteError::Closed(msg));
        };
        match pipe.write(msg) {
            Ok(()) => {
                pipe.flush();
                Ok(())
            }
            Err(WriteError::Closed(msg)) => {
                self.ended.push(id);
                Err(WriteError::Closed(msg))
            }
            Err(full) => Err(full),
        }
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
    pub fn recv(&mut self, id: PipeId) -> Option<Msg> {
        let pipe = self.slots.get_mut(id.0).and_then(Option::as_mut)?;
        if let Some(msg) = pipe.read_patiently() {
            return Some(msg);
        }
        self.recv_ended(id)
    }

    /// As [`Pipes::recv`], without waiting at an empty pipe.
    pub fn recv_now(&mut self, id: PipeId) -> Option<Msg> {
        let pipe = self.slots.get_mut(id.0).and_then(Option::as_mut)?;
        if let Some(msg) = pipe.read() {
            return Some(msg);
        }
        self.recv_ended(id)
    }

    /// Pipe `id` was found empty: a message the peer sent just before it
    /// went, or the pipe recorded as ended.
    fn recv_ended(&mut self, id: PipeId) -> Option<Msg> {
        let pipe = self.slots.get_mut(id.0).and_then(Option::as_mut)?;
        if pipe.is_peer_gone() {
            // What the peer sent before it went is delivered first.
            if let Some(msg) = pipe.read() {
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
}

/// A socket type's routing. See the [module docs](self).
///
/// All methods run on the socket's owner thread; none may block.
pub trait Pattern: Send + 'static {
    /// A pipe to a new peer, already in `pipes`. Return `false` to refuse
    /// it: the socket drops the pipe, which closes the peer's connection.
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool;

    /// Pipe `id` has ended and is being removed.
    fn detach(&mut self, id: PipeId);

    /// Sends `msg`, or refuses it ([`Refused::would_block`] when it may go
    /// later: no peer, or the peers' pipes are full).
    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused>;

    /// Takes the next message, or fails with [`Error::WouldBlock`].
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error>;
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
        let id = self.peer.ok_or(Error::WouldBlock)?;
        pipes.recv(id).ok_or(Error::WouldBlock)
    }
}
