//! The per-thread caches in front of the shared pools.
//!
//! Each thread keeps, in a `thread_local`, one [`Entry`] per pool it has
//! used: per tier, two magazines (`loaded` and `previous`, each a stack of
//! at most `magazine` buffers), and the thread's own counters for that
//! pool. Entries are found by pool id with a linear scan (a thread rarely
//! uses more than a few pools).
//!
//! The two magazines follow Bonwick's magazine allocator (USENIX 2001):
//!
//! * **Get**: pop from `loaded`; if it is empty and `previous` is not,
//!   swap them first. If both are empty, take a full magazine from the
//!   shared pool as the new `loaded` (recycling the empty one), else
//!   allocate.
//! * **Return**: push onto `loaded`; if it is full and `previous` is empty,
//!   swap them first. If both are full, hand `previous` to the shared pool
//!   and take an empty magazine in its place; if the shared pool is full
//!   too, free the buffer (discarded).
//!
//! A thread therefore goes to the shared pool at most once per `magazine`
//! gets or returns, and never twice in a row for a get / return / get / ...
//! pattern at a magazine boundary. A thread that only gets and one that
//! only returns (a decoder's read buffers, released by the consumer of the
//! messages) exchange whole magazines: two queue operations per magazine
//! on each side instead of one per buffer.
//!
//! Other cases:
//!
//! * A thread with no entry for the pool yet (returning a buffer another
//!   thread got) finds the pool in the registry and makes one; a pool that
//!   is gone is not found, and the buffer is freed.
//! * **Thread exit**: dropping the entries hands their buffers to the
//!   shared pool if it is still open (freeing what does not fit) and folds
//!   the thread's counters into the pool's. Entries of closed pools are
//!   also dropped whenever the thread next returns a buffer of that pool or
//!   makes a new entry, so a closed pool's buffers do not linger in a busy
//!   thread.
//! * When the thread-local is unavailable (during thread teardown, or
//!   re-entered), gets and returns go straight to the shared pool, one
//!   buffer at a time, and count in the pool's global counters.

use crate::pool::{self, Magazine, Shared, Tier};
use crate::stats::{add_shared, bump, drop_by, Counters};
use core::cell::RefCell;
use core::mem;
use core::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

thread_local! {
    /// This thread's cache entries, one per pool used.
    static CACHES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// One thread's cache of one tier: two magazines.
struct Mags {
    /// The magazine gets pop from and returns push onto.
    loaded: Magazine,
    /// The other one, swapped in when `loaded` runs empty (on get) or full
    /// (on return).
    previous: Magazine,
}

/// One thread's cache for one pool.
struct Entry {
    /// The pool's id (`shared.id`, copied to keep the scan on this line).
    id: u64,
    /// Buffers per magazine.
    magazine: usize,
    /// Per tier.
    mags: Box<[Mags]>,
    /// This thread's counters for the pool (also listed in the pool).
    counters: Arc<Counters>,
    /// The pool; keeps its state alive while this entry lives.
    shared: Arc<Shared>,
}

impl Entry {
    /// A new entry for `shared`, with empty magazines, registered for
    /// statistics.
    fn new(shared: Arc<Shared>) -> Entry {
        let counters = Arc::new(Counters::for_thread(shared.tiers.len()));
        shared.register(counters.clone());
        let magazine = shared.magazine;
        Entry {
            id: shared.id,
            magazine,
            mags: shared
                .tiers
                .iter()
                .map(|_| Mags {
                    loaded: Vec::with_capacity(magazine),
                    previous: Vec::with_capacity(magazine),
                })
                .collect(),
            counters,
            shared,
        }
    }
}

impl Drop for Entry {
    /// Hands the cached buffers to the shared pool if it is open (freeing
    /// what does not fit), then retires this thread's counters.
    fn drop(&mut self) {
        let open = !self.shared.is_closed();
        for (mags, tier) in self.mags.iter_mut().zip(self.shared.tiers.iter()) {
            // Fill one magazine from the other, so that as few partial
            // magazines as possible take up the shared pool's slots.
            while mags.loaded.len() < self.magazine {
                match mags.previous.pop() {
                    Some(buf) => mags.loaded.push(buf),
                    None => break,
                }
            }
            for magazine in [mem::take(&mut mags.loaded), mem::take(&mut mags.previous)] {
                if magazine.is_empty() || !open {
                    continue;
                }
                if let Err(rejected) = tier.offer(magazine) {
                    bump(&self.counters.discarded, rejected.len() as u64);
                }
            }
        }
        for held in self.counters.held.iter() {
            held.store(0, Relaxed);
        }
        self.shared.retire(&self.counters);
    }
}

/// The index of this thread's entry for `shared`, made if missing.
#[inline]
fn entry_index(entries: &mut Vec<Entry>, shared: &Arc<Shared>) -> usize {
    match entries.iter().position(|e| e.id == shared.id) {
        Some(i) => i,
        None => add_entry(entries, shared.clone()),
    }
}

/// Adds an entry for `shared`, dropping those of closed pools first.
#[cold]
fn add_entry(entries: &mut Vec<Entry>, shared: Arc<Shared>) -> usize {
    entries.retain(|e| !e.shared.is_closed());
    entries.push(Entry::new(shared));
    entries.len() - 1
}

/// A buffer of tier `tier` of `shared`: from this thread's cache or the
/// shared pool; `None` is a miss (counted), for the caller to allocate:
/// zeroed for [`Pool::get`](crate::Pool::get), built from the bytes to
/// copy for [`Pool::copy_of`](crate::Pool::copy_of).
#[inline]
pub(crate) fn get(shared: &Arc<Shared>, tier: usize) -> Option<Box<[u8]>> {
    let cached = CACHES.try_with(|cell| {
        let mut entries = cell.try_borrow_mut().ok()?;
        let i = entry_index(&mut entries, shared);
        let entry = &mut entries[i];
        let c = &entry.counters;
        let mags = &mut entry.mags[tier];
        if let Some(buf) = mags.loaded.pop() {
            bump(&c.hits, 1);
            drop_by(&c.held[tier], 1);
            return Some(Some(buf));
        }
        Some(refill(mags, &shared.tiers[tier], c, tier))
    });
    match cached {
        Ok(Some(got)) => got,
        _ => get_uncached(&shared.tiers[tier], &shared.global),
    }
}

/// A get that found `loaded` empty: swap in `previous` or a full magazine
/// from the shared pool, else a miss.
#[inline(never)]
fn refill(mags: &mut Mags, tier: &Tier, c: &Counters, index: usize) -> Option<Box<[u8]>> {
    if mags.previous.is_empty() {
        let Some(full) = tier.take() else {
            bump(&c.misses, 1);
            bump(&c.allocated_bytes, tier.size as u64);
            return None;
        };
        bump(&c.held[index], full.len() as u64);
        let empty = mem::replace(&mut mags.loaded, full);
        tier.recycle(empty);
    } else {
        mem::swap(&mut mags.loaded, &mut mags.previous);
    }
    let buf = mags.loaded.pop();
    match buf {
        Some(_) => {
            bump(&c.hits, 1);
            drop_by(&c.held[index], 1);
        }
        // Unreachable: the magazine just swapped in is not empty.
        None => {
            bump(&c.misses, 1);
            bump(&c.allocated_bytes, tier.size as u64);
        }
    }
    buf
}

/// A buffer from the shared pool, or a miss, counted globally.
#[cold]
fn get_uncached(tier: &Tier, global: &Counters) -> Option<Box<[u8]>> {
    if let Some(mut magazine) = tier.take() {
        if let Some(buf) = magazine.pop() {
            if magazine.is_empty() {
                tier.recycle(magazine);
            } else if let Err(rejected) = tier.offer(magazine) {
                add_shared(&global.discarded, rejected.len() as u64);
            }
            add_shared(&global.hits, 1);
            return Some(buf);
        }
    }
    add_shared(&global.misses, 1);
    add_shared(&global.allocated_bytes, tier.size as u64);
    None
}

/// Takes back a buffer of tier `tier` of pool `pool_id`, or frees it.
#[inline]
pub(crate) fn release(buf: Box<[u8]>, pool_id: u64, tier: usize) {
    let mut slot = Some(buf);
    let _ = CACHES.try_with(|cell| {
        if let Ok(mut entries) = cell.try_borrow_mut() {
            release_cached(&mut entries, &mut slot, pool_id, tier);
        }
    });
    if let Some(buf) = slot {
        release_uncached(buf, pool_id, tier);
    }
}

/// The return path through this thread's cache; always empties `slot`
/// (keeping or freeing the buffer).
#[inline]
fn release_cached(
    entries: &mut Vec<Entry>,
    slot: &mut Option<Box<[u8]>>,
    pool_id: u64,
    tier: usize,
) {
    let i = match entries.iter().position(|e| e.id == pool_id) {
        Some(i) => i,
        None => match pool::lookup(pool_id) {
            Some(shared) => add_entry(entries, shared),
            // The pool is gone: free the buffer.
            None => {
                slot.take();
                return;
            }
        },
    };
    let Some(buf) = slot.take() else { return };
    let entry = &mut entries[i];
    if entry.shared.is_closed() {
        // Free the buffer and everything this thread kept for the pool.
        drop(buf);
        entries.swap_remove(i);
        return;
    }
    let c = &entry.counters;
    let mags = &mut entry.mags[tier];
    if mags.loaded.len() < entry.magazine {
        mags.loaded.push(buf);
        bump(&c.returns, 1);
        bump(&c.held[tier], 1);
    } else {
        spill(
            mags,
            &entry.shared.tiers[tier],
            c,
            tier,
            entry.magazine,
            buf,
        );
    }
}

/// A return that found `loaded` full: swap in `previous` if it is empty,
/// else hand `previous` to the shared pool and take an empty magazine in
/// its place; if the shared pool is full, free the buffer.
#[inline(never)]
fn spill(
    mags: &mut Mags,
    tier: &Tier,
    c: &Counters,
    index: usize,
    magazine: usize,
    buf: Box<[u8]>,
) {
    if !mags.previous.is_empty() {
        if tier.full.is_full() {
            bump(&c.discarded, 1);
            return;
        }
        let empty = tier.empty_magazine(magazine);
        let full = mem::replace(&mut mags.previous, empty);
        let n = full.len() as u64;
        if let Err(full) = tier.offer(full) {
            // Filled up (or closed) meanwhile: keep ours, free the buffer.
            let empty = mem::replace(&mut mags.previous, full);
            tier.recycle(empty);
            bump(&c.discarded, 1);
            return;
        }
        drop_by(&c.held[index], n);
    }
    mem::swap(&mut mags.loaded, &mut mags.previous);
    mags.loaded.push(buf);
    bump(&c.returns, 1);
    bump(&c.held[index], 1);
}

/// The return path without this thread's cache: the shared pool, one
/// buffer to a magazine, counted globally.
#[cold]
fn release_uncached(buf: Box<[u8]>, pool_id: u64, tier: usize) {
    let Some(shared) = pool::lookup(pool_id) else {
        return;
    };
    let tier = &shared.tiers[tier];
    let mut magazine = tier.empty_magazine(shared.magazine);
    magazine.push(buf);
    match tier.offer(magazine) {
        Ok(()) => add_shared(&shared.global.returns, 1),
        Err(_) if !shared.is_closed() => add_shared(&shared.global.discarded, 1),
        Err(_) => {}
    }
}

/// Drops this thread's entry for a pool that has just closed, freeing what
/// it holds.
pub(crate) fn forget(pool_id: u64) {
    let _ = CACHES.try_with(|cell| {
        if let Ok(mut entries) = cell.try_borrow_mut() {
            entries.retain(|e| e.id != pool_id);
        }
    });
}
