//! The active list: a socket's pipes with the ready ones first, and a round
//! robin cursor over those. What [`LoadBalancer`](super::LoadBalancer) and
//! [`FairQueue`](super::FairQueue) are built on.
//!
//! The shape of libzmq's `lb_t` / `fq_t` pipe arrays: one vector of every
//! attached pipe, its first `active` entries the pipes that may take (load
//! balancing) or give (fair queueing) a message now. Moving a pipe in or
//! out of the ready part is one swap with the boundary; a table indexed by
//! [`PipeId::index`] gives each pipe's position, so no operation searches.
//! Every operation is O(1) and none allocates once the vectors have grown
//! to the largest number of pipes the socket has had.

use super::PipeId;

/// Marks a slot with no pipe in the list.
const NONE: usize = usize::MAX;

/// Attached pipes, ready ones first, with a round-robin cursor.
#[derive(Debug, Default)]
pub(crate) struct ActiveList {
    /// Every attached pipe; `[0, active)` are ready.
    pipes: Vec<PipeId>,
    /// `pos[id.index()]`: where pipe `id` is in `pipes`, or [`NONE`].
    pos: Vec<usize>,
    /// How many pipes at the front of `pipes` are ready.
    active: usize,
    /// The ready pipe whose turn it is; `< active` unless `active == 0`
    /// (then 0).
    current: usize,
}

impl ActiveList {
    /// Number of ready pipes.
    #[inline]
    pub(crate) fn active(&self) -> usize {
        self.active
    }

    /// Number of attached pipes, ready or not.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.pipes.len()
    }

    /// The ready pipe whose turn it is, if any pipe is ready.
    #[inline]
    pub(crate) fn current(&self) -> Option<PipeId> {
        if self.active == 0 {
            None
        } else {
            Some(self.pipes[self.current])
        }
    }

    /// True if `id` is attached and ready.
    #[cfg(test)]
    pub(crate) fn is_active(&self, id: PipeId) -> bool {
        self.position(id).is_some_and(|p| p < self.active)
    }

    /// The turn passes to the next ready pipe (after a whole message).
    #[inline]
    pub(crate) fn advance(&mut self) {
        self.current += 1;
        if self.current >= self.active {
            self.current = 0;
        }
    }

    /// The current pipe is not ready any more (refused a write or read
    /// empty): it leaves the ready part, and the turn goes to the pipe that
    /// takes its place (so no pipe loses its turn). Nothing when no pipe is
    /// ready.
    #[inline]
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

    /// Looks for a pipe that is ready in fact, from the current one on:
    /// `ready` says of each whether it is, and those it refuses leave the
    /// ready part (as after a refused write or an empty read). The one
    /// found stays current; `false` when none is.
    #[inline]
    pub(crate) fn seek(&mut self, mut ready: impl FnMut(PipeId) -> bool) -> bool {
        while let Some(id) = self.current() {
            if ready(id) {
                return true;
            }
            self.deactivate_current();
        }
        false
    }

    /// Adds a new pipe, ready (a pipe already attached is made ready).
    pub(crate) fn attach(&mut self, id: PipeId) {
        let i = id.index();
        if i >= self.pos.len() {
            self.pos.resize(i + 1, NONE);
        }
        if self.pos[i] != NONE {
            // Attached twice (cannot happen: the socket detaches a slot
            // before reusing it); make it ready.
            self.activate(id);
            return;
        }
        self.pos[i] = self.pipes.len();
        self.pipes.push(id);
        let last = self.pipes.len() - 1;
        self.swap(last, self.active);
        self.active += 1;
    }

    /// Pipe `id` is ready again. Events are hints, so this may be said of
    /// a pipe already ready, or of one not attached: both are ignored.
    #[inline]
    pub(crate) fn activate(&mut self, id: PipeId) {
        let Some(p) = self.position(id) else {
            return;
        };
        if p < self.active {
            return;
        }
        self.swap(p, self.active);
        self.active += 1;
    }

    /// Removes pipe `id` (detached); a pipe not attached is ignored.
    pub(crate) fn remove(&mut self, id: PipeId) {
        let Some(mut p) = self.position(id) else {
            return;
        };
        if p < self.active {
            self.active -= 1;
            self.swap(p, self.active);
            p = self.active;
            if self.current == self.active {
                self.current = 0;
            }
        }
        // `p` is past the ready part now, as is the last pipe: swapping the
        // two keeps the ready part as it is.
        let last = self.pipes.len() - 1;
        self.swap(p, last);
        self.pipes.pop();
        self.pos[id.index()] = NONE;
    }

    /// Where `id` is in `pipes`, if attached.
    #[inline]
    fn position(&self, id: PipeId) -> Option<usize> {
        match self.pos.get(id.index()) {
            Some(&p) if p != NONE => Some(p),
            _ => None,
        }
    }

    /// Swaps two positions of `pipes`, keeping `pos` right.
    #[inline]
    fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        self.pipes.swap(a, b);
        self.pos[self.pipes[a].index()] = a;
        self.pos[self.pipes[b].index()] = b;
    }

    /// Checks the invariants (tests only).
    #[cfg(test)]
    fn check(&self) {
        assert!(self.active <= self.pipes.len());
        assert!(self.current < self.active.max(1));
        for (p, id) in self.pipes.iter().enumerate() {
            assert_eq!(self.pos[id.index()], p);
        }
        let listed = self.pos.iter().filter(|&&p| p != NONE).count();
        assert_eq!(listed, self.pipes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The pipe of slot `i`.
    fn id(i: usize) -> PipeId {
        PipeId::from_index(i)
    }

    fn list_of(n: usize) -> ActiveList {
        let mut list = ActiveList::default();
        for i in 0..n {
            list.attach(id(i));
            list.check();
        }
        list
    }

    /// The next `n` turns.
    fn turns(list: &mut ActiveList, n: usize) -> Vec<PipeId> {
        (0..n)
            .map(|_| {
                let c = list.current().unwrap();
                list.advance();
                c
            })
            .collect()
    }

    #[test]
    fn round_robin_over_ready_pipes_in_attach_order() {
        let mut list = list_of(4);
        let p: Vec<PipeId> = (0..4).map(id).collect();
        assert_eq!(
            turns(&mut list, 8),
            [p[0], p[1], p[2], p[3], p[0], p[1], p[2], p[3]]
        );
    }

    #[test]
    fn deactivated_pipes_leave_until_activated() {
        let mut list = list_of(3);
        let gone = list.current().unwrap();
        list.deactivate_current();
        list.check();
        assert_eq!(list.active(), 2);
        assert!(!list.is_active(gone));
        for _ in 0..4 {
            assert_ne!(list.current(), Some(gone));
            list.advance();
        }
        // Hints twice, for a pipe already ready, or for no pipe at all
        // change nothing more.
        list.activate(gone);
        list.activate(gone);
        list.activate(id(0));
        list.activate(id(7));
        list.check();
        assert_eq!(list.active(), 3);
        while list.active() > 0 {
            list.deactivate_current();
            list.check();
        }
        assert_eq!(list.current(), None);
        // With nothing ready, deactivating is a no-op.
        list.deactivate_current();
        list.check();
        assert_eq!(list.len(), 3);
        list.activate(id(1));
        assert_eq!(list.current(), Some(id(1)));
        // Removing a pipe that is not ready keeps the ready one current.
        list.remove(id(0));
        list.check();
        assert_eq!(list.current(), Some(id(1)));
    }

    #[test]
    fn removal_keeps_the_rest() {
        let mut list = list_of(4);
        list.deactivate_current();
        let inactive = (0..4).map(id).find(|&id| !list.is_active(id)).unwrap();
        list.advance();
        list.advance();
        let active = list.current().unwrap();
        list.remove(active);
        list.check();
        list.remove(inactive);
        list.check();
        list.remove(inactive);
        list.check();
        assert_eq!(list.len(), 2);
        assert_eq!(list.active(), 2);
        for id in (0..4).map(id) {
            assert_eq!(list.is_active(id), id != active && id != inactive);
        }
        // A slot attached again is ready.
        list.attach(active);
        list.check();
        assert_eq!(list.active(), 3);
        for i in 0..4 {
            list.remove(id(i));
            list.check();
        }
        assert_eq!(list.len(), 0);
        assert_eq!(list.current(), None);
        list.attach(id(3));
        assert_eq!(list.current(), Some(id(3)));
    }

    /// One step of a random schedule.
    #[derive(Clone, Debug)]
    enum Op {
        Attach(usize),
        Activate(usize),
        Remove(usize),
        /// The current pipe takes a message (advance) or refuses it
        /// (deactivate).
        Turn(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..8usize).prop_map(Op::Attach),
            (0..8usize).prop_map(Op::Activate),
            (0..8usize).prop_map(Op::Remove),
            any::<bool>().prop_map(Op::Turn),
        ]
    }

    proptest! {
        /// Against a model (a set of attached slots, a set of ready ones):
        /// the list holds exactly the attached pipes, the ready part exactly
        /// the ready ones, and a pipe that stays ready gets its turn within
        /// one round of the ready pipes.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec(op(), 0..200)) {
            let mut list = ActiveList::default();
            let mut attached = std::collections::BTreeSet::new();
            let mut ready = std::collections::BTreeSet::new();
            for op in ops {
                match op {
                    Op::Attach(i) => {
                        if attached.insert(i) {
                            list.attach(id(i));
                            ready.insert(i);
                        }
                    }
                    Op::Activate(i) => {
                        list.activate(id(i));
                        if attached.contains(&i) {
                            ready.insert(i);
                        }
                    }
                    Op::Remove(i) => {
                        list.remove(id(i));
                        attached.remove(&i);
                        ready.remove(&i);
                    }
                    Op::Turn(takes) => {
                        if let Some(p) = list.current() {
                            prop_assert!(ready.contains(&p.index()));
                            if takes {
                                list.advance();
                            } else {
                                list.deactivate_current();
                                ready.remove(&p.index());
                            }
                        } else {
                            prop_assert!(ready.is_empty());
                        }
                    }
                }
                list.check();
                prop_assert_eq!(list.len(), attached.len());
                prop_assert_eq!(list.active(), ready.len());
                for i in 0..8 {
                    prop_assert_eq!(list.is_active(id(i)), ready.contains(&i));
                }
            }
            // Fairness: with nothing changing, one round visits every ready
            // pipe once.
            let n = list.active();
            let mut round: Vec<usize> = turns(&mut list, n).into_iter().map(PipeId::index).collect();
            round.sort_unstable();
            prop_assert_eq!(round, ready.into_iter().collect::<Vec<_>>());
        }
    }
}
