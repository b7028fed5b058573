//! A list of pipes split into an active prefix and an inactive rest, with
//! a round-robin cursor over the active part: what the load balancer and
//! the fair queue are built on (libzmq's `array_t` with an `_active`
//! count).
//!
//! Every operation is O(1): moving a pipe between the parts is one swap,
//! and each pipe's position is kept in a table indexed by its slot.

use smolmq_core::pattern::PipeId;

/// Marks a slot with no pipe in the list.
const ABSENT: usize = usize::MAX;

/// Pipes, active ones first, and a cursor over the active ones.
#[derive(Debug, Default)]
pub(crate) struct ActiveList {
    /// The pipes: `items[..active]` are active.
    items: Vec<PipeId>,
    /// `pos[id.index()]`: where pipe `id` is in `items`, or [`ABSENT`].
    pos: Vec<usize>,
    /// How many pipes are active.
    active: usize,
    /// The next active pipe to use; 0 when none is active.
    current: usize,
}

impl ActiveList {
    /// Where `id` is in `items`, if listed.
    fn position(&self, id: PipeId) -> Option<usize> {
        self.pos.get(id.index()).copied().filter(|&p| p != ABSENT)
    }

    /// Swaps two positions, keeping `pos` right.
    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.items.swap(a, b);
        self.pos[self.items[a].index()] = a;
        self.pos[self.items[b].index()] = b;
    }

    /// Adds `id` as an active pipe (a pipe already listed is activated).
    pub(crate) fn insert(&mut self, id: PipeId) {
        if self.position(id).is_some() {
            self.activate(id);
            return;
        }
        if self.pos.len() <= id.index() {
            self.pos.resize(id.index() + 1, ABSENT);
        }
        self.items.push(id);
        let last = self.items.len() - 1;
        self.pos[id.index()] = last;
        self.swap(last, self.active);
        self.active += 1;
    }

    /// Removes `id`, if listed.
    pub(crate) fn remove(&mut self, id: PipeId) {
        let Some(mut at) = self.position(id) else {
            return;
        };
        if at < self.active {
            self.active -= 1;
            self.swap(at, self.active);
            at = self.active;
            if self.current == self.active {
                self.current = 0;
            }
        }
        let last = self.items.len() - 1;
        self.swap(at, last);
        self.items.pop();
        self.pos[id.index()] = ABSENT;
    }

    /// Moves `id` to the active part (nothing if it is already there or
    /// not listed).
    pub(crate) fn activate(&mut self, id: PipeId) {
        if let Some(at) = self.position(id) {
            if at >= self.active {
                self.swap(at, self.active);
                self.active += 1;
            }
        }
    }

    /// The active pipe under the cursor, if any is active.
    pub(crate) fn current(&self) -> Option<PipeId> {
        (self.active > 0).then(|| self.items[self.current])
    }

    /// Moves the cursor on to the next active pipe.
    pub(crate) fn advance(&mut self) {
        if self.active > 0 {
            self.current = (self.current + 1) % self.active;
        }
    }

    /// Moves the pipe under the cursor to the inactive part; the cursor
    /// then points at the pipe that took its place.
    pub(crate) fn deactivate_current(&mut self) {
        if self.active == 0 {
            return;
        }
        self.active -= 1;
        self.swap(self.current, self.active);
        if self.current == self.active {
            self.current = 0;
        }
    }

    /// Number of pipes listed.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Number of active pipes.
    #[cfg(test)]
    pub(crate) fn active_len(&self) -> usize {
        self.active
    }

    /// True if `id` is listed and active.
    #[cfg(test)]
    pub(crate) fn is_active(&self, id: PipeId) -> bool {
        self.position(id).is_some_and(|p| p < self.active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PipeIds cannot be made outside the core; get some from a socket.
    fn ids(n: usize) -> Vec<PipeId> {
        // A pattern that records the ids it is given.
        use smolmq_core::pattern::{Pattern, Pipes, Refused};
        use smolmq_core::{Context, Error, Msg};
        use std::sync::{Arc, Mutex};
        #[derive(Default)]
        struct Rec(Arc<Mutex<Vec<PipeId>>>);
        impl Pattern for Rec {
            fn attach(&mut self, _: &mut Pipes, id: PipeId) -> bool {
                self.0.lock().unwrap().push(id);
                true
            }
            fn detach(&mut self, _: PipeId) {}
            fn send(&mut self, _: &mut Pipes, msg: Msg) -> Result<(), Refused> {
                Err(Refused::would_block(msg))
            }
            fn recv(&mut self, _: &mut Pipes) -> Result<Msg, Error> {
                Err(Error::WouldBlock)
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ctx = Context::new().unwrap();
        let mut s = ctx.socket_with(smolmq_zmtp::SocketType::Dealer, Box::new(Rec(seen.clone())));
        for i in 0..n {
            s.connect(&format!("inproc://active-list-{}-{i}", std::process::id()))
                .unwrap();
        }
        let got = seen.lock().unwrap().clone();
        got
    }

    #[test]
    fn cursor_visits_active_pipes_in_turn() {
        let p = ids(4);
        let mut l = ActiveList::default();
        for &id in &p {
            l.insert(id);
        }
        let order: Vec<_> = (0..8)
            .map(|_| {
                let c = l.current().unwrap();
                l.advance();
                c
            })
            .collect();
        assert_eq!(order, [p[0], p[1], p[2], p[3], p[0], p[1], p[2], p[3]]);
        // Deactivate p[0]: the rest keep turning.
        assert_eq!(l.current(), Some(p[0]));
        l.deactivate_current();
        assert!(!l.is_active(p[0]));
        assert_eq!(l.active_len(), 3);
        let mut seen: Vec<_> = (0..3)
            .map(|_| {
                let c = l.current().unwrap();
                l.advance();
                c
            })
            .collect();
        seen.sort();
        assert_eq!(seen, [p[1], p[2], p[3]]);
        l.activate(p[0]);
        assert!(l.is_active(p[0]));
        l.remove(p[2]);
        assert_eq!(l.len(), 3);
        let mut seen: Vec<_> = (0..3)
            .map(|_| {
                let c = l.current().unwrap();
                l.advance();
                c
            })
            .collect();
        seen.sort();
        assert_eq!(seen, [p[0], p[1], p[3]]);
        for &id in &p {
            l.remove(id);
        }
        assert_eq!(l.len(), 0);
        assert_eq!(l.current(), None);
        // Re-inserting works after removal.
        l.insert(p[3]);
        assert_eq!(l.current(), Some(p[3]));
    }

    #[test]
    fn deactivating_everything_leaves_no_current() {
        let p = ids(3);
        let mut l = ActiveList::default();
        for &id in &p {
            l.insert(id);
        }
        l.advance();
        for _ in 0..3 {
            l.deactivate_current();
        }
        assert_eq!(l.current(), None);
        assert_eq!(l.len(), 3);
        l.activate(p[1]);
        assert_eq!(l.current(), Some(p[1]));
        // Removing an inactive pipe keeps the active one.
        l.remove(p[0]);
        assert_eq!(l.current(), Some(p[1]));
    }
}
