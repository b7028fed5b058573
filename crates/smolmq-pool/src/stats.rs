//! Statistics: a snapshot type for users, and the counters behind it.
//!
//! Counting must not cost the hot path a contended cache line. Each thread
//! that uses a pool counts in its own [`Counters`], which only that thread
//! writes (a relaxed load and store, no read-modify-write); the pool keeps a
//! list of them and sums them when asked. When a thread's cache goes away
//! (thread exit), its counts are folded into the pool's `global` counters,
//! which also take the rare events counted where no thread cache is at hand
//! (oversized requests, returns during thread teardown). Those use
//! `fetch_add`.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a pool's counters, from [`Pool::stats`](crate::Pool::stats).
///
/// Counts are since the pool was created. Each is read with relaxed
/// ordering while other threads may be counting, so a snapshot taken during
/// activity is approximate; once the threads using the pool are quiet (e.g.
/// joined) it is exact, and `hits + misses` is the number of gets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// Gets served with a pooled buffer (from a thread cache or the shared
    /// pool).
    pub hits: u64,
    /// Gets that had to allocate, including oversized ones.
    pub misses: u64,
    /// Gets above the largest tier (a plain allocation, never pooled); a
    /// subset of `misses`.
    pub oversized: u64,
    /// Buffers allocated. Every miss allocates exactly one buffer, so this
    /// equals `misses`; it is kept beside `allocated_bytes` for reading
    /// allocation figures in one place.
    pub allocations: u64,
    /// Bytes allocated, summed over `allocations`.
    pub allocated_bytes: u64,
    /// Buffers taken back for reuse (into a thread cache or the shared pool).
    pub returns: u64,
    /// Pooled buffers freed because the pool was full: on return, when the
    /// returning thread's cache and the shared pool of their tier were
    /// full, or when an exiting thread's cache was handed to a full shared
    /// pool. (Oversized buffers, and buffers of a closed pool, are freed
    /// too, and not counted here.) Once no buffer is out,
    /// `misses - oversized == buffers_held + discarded`.
    pub discarded: u64,
    /// Bytes held for reuse right now, in thread caches and the shared pool.
    pub bytes_held: u64,
    /// Buffers held for reuse right now, in thread caches and the shared pool.
    pub buffers_held: u64,
}

impl PoolStats {
    /// Every get so far: `hits + misses`.
    pub fn gets(&self) -> u64 {
        self.hits + self.misses
    }

    /// Adds a set of counters into this snapshot.
    pub(crate) fn add(&mut self, c: &Counters) {
        self.hits += c.hits.load(Relaxed);
        self.misses += c.misses.load(Relaxed);
        self.oversized += c.oversized.load(Relaxed);
        self.allocated_bytes += c.allocated_bytes.load(Relaxed);
        self.returns += c.returns.load(Relaxed);
        self.discarded += c.discarded.load(Relaxed);
    }

    /// Adds what a thread's cache holds, `held[tier]` buffers of
    /// `tiers[tier]` bytes.
    pub(crate) fn add_held(&mut self, c: &Counters, tiers: &[usize]) {
        for (held, &size) in c.held.iter().zip(tiers) {
            let n = held.load(Relaxed);
            self.buffers_held += n;
            self.bytes_held += n * size as u64;
        }
    }
}

/// One set of counters: a thread's own, or a pool's global ones.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// See [`PoolStats::hits`].
    pub(crate) hits: AtomicU64,
    /// See [`PoolStats::misses`].
    pub(crate) misses: AtomicU64,
    /// See [`PoolStats::oversized`].
    pub(crate) oversized: AtomicU64,
    /// See [`PoolStats::allocated_bytes`].
    pub(crate) allocated_bytes: AtomicU64,
    /// See [`PoolStats::returns`].
    pub(crate) returns: AtomicU64,
    /// See [`PoolStats::discarded`].
    pub(crate) discarded: AtomicU64,
    /// Buffers in this thread's cache, per tier (empty in the global
    /// counters: the shared pool's share is measured from its queues).
    pub(crate) held: Box<[AtomicU64]>,
}

/// Adds `n` to a counter that only the calling thread writes: a relaxed load
/// and store, which compile to plain moves (no locked instruction).
#[inline]
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// Subtracts `n` from a counter that only the calling thread writes.
#[inline]
pub(crate) fn drop_by(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_sub(n), Relaxed);
}

/// Adds `n` to a counter that several threads may write.
#[inline]
pub(crate) fn add_shared(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

impl Counters {
    /// Counters for a thread's cache of a pool with `tiers` tiers.
    pub(crate) fn for_thread(tiers: usize) -> Counters {
        Counters {
            held: (0..tiers).map(|_| AtomicU64::new(0)).collect(),
            ..Counters::default()
        }
    }

    /// Folds a retiring thread's counts into these (global) counters.
    pub(crate) fn absorb(&self, other: &Counters) {
        add_shared(&self.hits, other.hits.load(Relaxed));
        add_shared(&self.misses, other.misses.load(Relaxed));
        add_shared(&self.oversized, other.oversized.load(Relaxed));
        add_shared(&self.allocated_bytes, other.allocated_bytes.load(Relaxed));
        add_shared(&self.returns, other.returns.load(Relaxed));
        add_shared(&self.discarded, other.discarded.load(Relaxed));
    }
}
