//! The pool handle, the state its handles and the thread caches share, and
//! the registry through which a buffer finds its way home.
//!
//! # Who owns what
//!
//! * [`Pool`] handles share one `Handle`; the last handle dropped *closes*
//!   the pool: its shared stacks are closed and emptied, and it leaves the
//!   registry.
//! * `Shared` (tiers, queues, counters) is kept alive by the handle and by
//!   every thread cache entry for the pool. A closed pool's `Shared` lives on
//!   until the last thread holding an entry for it next touches its cache or
//!   exits; anything that entry holds is freed then.
//! * A buffer carries no reference to its pool, only the pool's id and its
//!   tier (no reference count to bump on every get and return). On return
//!   it looks the id up in the returning thread's cache entries, and failing
//!   that in the global registry (a mutex, taken once per thread and pool).
//!   A pool that is gone is simply not found, and the buffer is freed. Ids
//!   are never reused.

use crate::buf::PooledBuf;
use crate::cache;
use crate::config::{ConfigError, PoolConfig};
use crate::stats::{add_shared, Counters, PoolStats};
use concurrent_queue::ConcurrentQueue;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// A tiered pool of byte buffers.
///
/// A cheap handle: clones share one pool. Get a buffer with [`Pool::get`];
/// it goes back to the pool when it (or, after [`PooledBuf::freeze`], the
/// last [`Bytes`](bytes::Bytes) sharing it) is dropped, on whatever thread.
/// See the [crate docs](crate) for the whole picture.
#[derive(Clone)]
pub struct Pool {
    /// The pool's state (also inside `handle`; kept here to save a pointer
    /// hop on every get).
    shared: Arc<Shared>,
    /// Shared by every clone; closes the pool when the last one drops.
    handle: Arc<Handle>,
}

/// What [`Pool`] clones share: its drop closes the pool.
struct Handle {
    /// The pool's state.
    shared: Arc<Shared>,
}

/// A pool's state, shared by its handles and the thread cache entries.
pub(crate) struct Shared {
    /// Unique for the life of the process; the key of caches and registry.
    pub(crate) id: u64,
    /// The configuration the pool was built with.
    pub(crate) config: PoolConfig,
    /// Buffers per magazine (`config.magazine()`).
    pub(crate) magazine: usize,
    /// The shared pool of each tier.
    pub(crate) tiers: Box<[Tier]>,
    /// Set once the last [`Pool`] handle is gone.
    closed: AtomicBool,
    /// Counts of retired threads and of events counted without a cache.
    pub(crate) global: Counters,
    /// The counters of each thread that has a cache entry for this pool.
    threads: Mutex<Vec<Arc<Counters>>>,
}

/// A magazine: a batch of spare buffers of one tier, moved between a
/// thread's cache and the shared pool in one operation. Its capacity
/// is the pool's magazine size, so pushing up to that never reallocates.
pub(crate) type Magazine = Vec<Box<[u8]>>;

/// The full magazines of one tier's shared pool: a bounded stack, so the
/// magazine taken next is the one given back last.
///
/// Last in, first out because the buffers returned last are the likeliest
/// to be still in a CPU cache: a sender copying a 64 KiB message into a
/// pooled buffer writes to lines its own cache holds, where a queue (first
/// in, first out) would hand out every spare buffer in turn, each the one
/// touched longest ago (out of a 1 MiB L2 once 16 of them circulate). A
/// mutex, not a lock-free stack: it is taken once per magazine, and a
/// lock-free stack of owned values needs reclamation (ABA) machinery that
/// costs more than an uncontended lock.
pub(crate) struct Stack {
    /// The magazines, the top last; `closed` once the pool is.
    inner: Mutex<StackInner>,
    /// The most magazines kept.
    cap: usize,
}

/// What [`Stack`]'s mutex guards.
struct StackInner {
    magazines: Vec<Magazine>,
    closed: bool,
}

impl Stack {
    /// An empty stack of at most `cap` magazines (room reserved up front).
    fn new(cap: usize) -> Stack {
        Stack {
            inner: Mutex::new(StackInner {
                magazines: Vec::with_capacity(cap),
                closed: false,
            }),
            cap,
        }
    }

    /// Pushes `magazine`, or hands it back if the stack is full or closed.
    #[inline]
    pub(crate) fn push(&self, magazine: Magazine) -> Result<(), Magazine> {
        let mut inner = lock(&self.inner);
        if inner.closed || inner.magazines.len() >= self.cap {
            return Err(magazine);
        }
        inner.magazines.push(magazine);
        Ok(())
    }

    /// The magazine pushed last, if any.
    #[inline]
    pub(crate) fn pop(&self) -> Option<Magazine> {
        lock(&self.inner).magazines.pop()
    }

    /// True if a push would be refused for want of room (a hint: another
    /// thread may push or pop right after).
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        lock(&self.inner).magazines.len() >= self.cap
    }

    /// Refuses pushes from now on and hands back what was held.
    fn close(&self) -> Vec<Magazine> {
        let mut inner = lock(&self.inner);
        inner.closed = true;
        std::mem::take(&mut inner.magazines)
    }
}

/// The shared pool of one tier.
pub(crate) struct Tier {
    /// The buffer size.
    pub(crate) size: usize,
    /// Magazines of spare buffers, none empty; at most
    /// `max_pooled_per_tier / magazine` of them.
    pub(crate) full: Stack,
    /// Empty magazines, recycled so that exchanging magazines allocates
    /// nothing in steady state.
    pub(crate) empty: ConcurrentQueue<Magazine>,
    /// Buffers in `full` (approximate while magazines move: updated after
    /// each push and pop, so it may dip below zero for a moment).
    pub(crate) held: AtomicI64,
}

impl Tier {
    /// Offers a non-empty magazine to the shared pool; hands it back if the
    /// pool is full or closed.
    #[inline]
    pub(crate) fn offer(&self, magazine: Magazine) -> Result<(), Magazine> {
        let n = magazine.len() as i64;
        self.full.push(magazine)?;
        self.held.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Takes a magazine of spare buffers from the shared pool.
    #[inline]
    pub(crate) fn take(&self) -> Option<Magazine> {
        let magazine = self.full.pop()?;
        self.held
            .fetch_sub(magazine.len() as i64, Ordering::Relaxed);
        Some(magazine)
    }

    /// Keeps an empty magazine for reuse, or frees it if enough are kept.
    #[inline]
    pub(crate) fn recycle(&self, magazine: Magazine) {
        debug_assert!(magazine.is_empty());
        let _ = self.empty.push(magazine);
    }

    /// An empty magazine of capacity `magazine`: a recycled one if any.
    #[inline]
    pub(crate) fn empty_magazine(&self, magazine: usize) -> Magazine {
        self.empty
            .pop()
            .unwrap_or_else(|_| Vec::with_capacity(magazine))
    }

    /// Empties and closes the stack of full magazines and the queue of
    /// empty ones.
    fn close(&self) {
        // A push racing with this either fails (closed) or lands before the
        // drain: nothing stays behind.
        let held: i64 = self
            .full
            .close()
            .iter()
            .map(|magazine| magazine.len() as i64)
            .sum();
        self.held.fetch_sub(held, Ordering::Relaxed);
        self.empty.close();
        while self.empty.pop().is_ok() {}
    }
}

/// Source of pool ids. Starts at 1; never wraps in practice (2^64 pools).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Every open pool by id, for buffers returned on a thread that has no cache
/// entry for their pool yet.
static REGISTRY: Mutex<BTreeMap<u64, Weak<Shared>>> = Mutex::new(BTreeMap::new());

/// Locks a mutex, ignoring poisoning: every critical section here leaves its
/// data consistent even if a panic unwinds through it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The open pool with this id, if any.
pub(crate) fn lookup(id: u64) -> Option<Arc<Shared>> {
    lock(&REGISTRY)
        .get(&id)
        .and_then(Weak::upgrade)
        .filter(|shared| !shared.is_closed())
}

impl Pool {
    /// A pool configured by `config`, or why `config` is refused.
    ///
    /// ```
    /// use smolmq_pool::{Pool, PoolConfig};
    ///
    /// let pool = Pool::new(PoolConfig {
    ///     tiers: vec![1024, 2048],
    ///     max_pooled_per_tier: 16,
    ///     thread_cache_per_tier: 4,
    /// })?;
    /// assert_eq!(pool.get(1500).capacity(), 2048);
    /// # Ok::<(), smolmq_pool::ConfigError>(())
    /// ```
    pub fn new(config: PoolConfig) -> Result<Pool, ConfigError> {
        config.validate()?;
        let magazine = config.magazine();
        let depth = config.max_pooled_per_tier / magazine;
        let tiers = config
            .tiers
            .iter()
            .map(|&size| Tier {
                size,
                full: Stack::new(depth),
                empty: ConcurrentQueue::bounded(depth),
                held: AtomicI64::new(0),
            })
            .collect();
        let shared = Arc::new(Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            config,
            magazine,
            tiers,
            closed: AtomicBool::new(false),
            global: Counters::default(),
            threads: Mutex::new(Vec::new()),
        });
        lock(&REGISTRY).insert(shared.id, Arc::downgrade(&shared));
        Ok(Pool {
            handle: Arc::new(Handle {
                shared: shared.clone(),
            }),
            shared,
        })
    }

    /// A buffer of capacity at least `min_capacity`, empty (`len() == 0`).
    ///
    /// The capacity is that of the smallest tier at least `min_capacity`
    /// bytes; the buffer comes from this thread's cache, else the shared
    /// pool, else a new allocation. A request above the largest tier gets a
    /// buffer of exactly `min_capacity` bytes, allocated for it and freed
    /// when dropped (counted as `oversized`): callers that size buffers from
    /// a peer's input bound `min_capacity` by their own maximum first.
    ///
    /// # Panics
    ///
    /// Like `Vec`, if an oversized `min_capacity` exceeds `isize::MAX` (and
    /// the allocator may abort the process if it cannot provide the memory).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let buf = pool.get(5000);
    /// assert_eq!((buf.len(), buf.capacity()), (0, 8192));
    /// assert_eq!(pool.get(100_000).capacity(), 100_000);
    /// ```
    #[inline]
    pub fn get(&self, min_capacity: usize) -> PooledBuf {
        let shared = &self.shared;
        match shared.tier_for(min_capacity) {
            Some(tier) => {
                let buf =
                    cache::get(shared, tier).unwrap_or_else(|| alloc(shared.tiers[tier].size));
                PooledBuf::pooled(buf, shared.id, tier)
            }
            None => {
                shared.count_oversized(min_capacity);
                PooledBuf::unpooled(alloc(min_capacity))
            }
        }
    }

    /// A buffer holding a copy of `data` (`len() == data.len()`), with the
    /// capacity [`get`](Pool::get)`(data.len())` would give.
    ///
    /// The same as `get` followed by
    /// [`extend_from_slice`](PooledBuf::extend_from_slice), but a buffer
    /// the pool has to allocate is built from `data` rather than zeroed
    /// first and then overwritten: one pass over the memory instead of
    /// two, which is what a copy costs when a sender outruns the buffers
    /// coming back (only the capacity past `data` is zeroed).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let buf = pool.copy_of(b"hello");
    /// assert_eq!((buf.as_slice(), buf.capacity()), (&b"hello"[..], 4096));
    /// assert_eq!(pool.copy_of(&[7; 100_000]).len(), 100_000);
    /// ```
    #[inline]
    pub fn copy_of(&self, data: &[u8]) -> PooledBuf {
        let shared = &self.shared;
        let mut buf = match shared.tier_for(data.len()) {
            Some(tier) => match cache::get(shared, tier) {
                Some(buf) => {
                    let mut buf = PooledBuf::pooled(buf, shared.id, tier);
                    // The tier holds `data.len()` bytes: this cannot fail.
                    let _ = buf.extend_from_slice(data);
                    return buf;
                }
                None => {
                    PooledBuf::pooled(alloc_with(shared.tiers[tier].size, data), shared.id, tier)
                }
            },
            None => {
                shared.count_oversized(data.len());
                PooledBuf::unpooled(Box::from(data))
            }
        };
        // Built holding `data` at its start, in a capacity at least as
        // large: this cannot fail.
        let _ = buf.set_len(data.len());
        buf
    }

    /// The capacity [`get`](Pool::get)`(min_capacity)` would give, or `None`
    /// if the request is above the largest tier (not pooled).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// assert_eq!(pool.tier_for(1), Some(4096));
    /// assert_eq!(pool.tier_for(4097), Some(8192));
    /// assert_eq!(pool.tier_for(65537), None);
    /// ```
    pub fn tier_for(&self, min_capacity: usize) -> Option<usize> {
        let shared = &self.shared;
        shared
            .tier_for(min_capacity)
            .map(|tier| shared.config.tiers[tier])
    }

    /// The configuration this pool was built with.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// A snapshot of the pool's counters (see [`PoolStats`] for what each
    /// means and how exact it is).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// drop(pool.get(10)); // A miss, then a return.
    /// drop(pool.get(10)); // A hit, then a return.
    /// let stats = pool.stats();
    /// assert_eq!((stats.hits, stats.misses, stats.returns), (1, 1, 2));
    /// assert_eq!(stats.bytes_held, 4096);
    /// ```
    pub fn stats(&self) -> PoolStats {
        self.shared.stats()
    }
}

impl Default for Pool {
    /// A pool with [`PoolConfig::default`].
    fn default() -> Self {
        match Pool::new(PoolConfig::default()) {
            Ok(pool) => pool,
            Err(e) => unreachable!("the default pool config is valid: {e}"),
        }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.shared;
        f.debug_struct("Pool")
            .field("id", &shared.id)
            .field("config", &shared.config)
            .field("handles", &Arc::strong_count(&self.handle))
            .finish_non_exhaustive()
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.close();
    }
}

impl Shared {
    /// Counts a request above the largest tier: a miss, allocated for it
    /// alone.
    fn count_oversized(&self, len: usize) {
        add_shared(&self.global.oversized, 1);
        add_shared(&self.global.misses, 1);
        add_shared(&self.global.allocated_bytes, len as u64);
    }

    /// The index of the smallest tier of at least `min_capacity` bytes.
    #[inline]
    pub(crate) fn tier_for(&self, min_capacity: usize) -> Option<usize> {
        self.config
            .tiers
            .iter()
            .position(|&size| size >= min_capacity)
    }

    /// True once the last [`Pool`] handle is gone.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Closes the pool: no more returns are kept, spare buffers are freed,
    /// and the pool leaves the registry.
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        lock(&REGISTRY).remove(&self.id);
        for tier in self.tiers.iter() {
            tier.close();
        }
        cache::forget(self.id);
    }

    /// Registers a thread's counters, to be summed by [`Shared::stats`].
    pub(crate) fn register(&self, counters: Arc<Counters>) {
        lock(&self.threads).push(counters);
    }

    /// Folds a departing thread's counters into the global ones and stops
    /// summing them separately (both under one lock, so a concurrent
    /// `stats` counts them exactly once).
    pub(crate) fn retire(&self, counters: &Arc<Counters>) {
        let mut threads = lock(&self.threads);
        if let Some(i) = threads.iter().position(|c| Arc::ptr_eq(c, counters)) {
            threads.swap_remove(i);
            self.global.absorb(counters);
        }
    }

    /// Sums every thread's counters, the global ones, and the shared
    /// queues' contents.
    fn stats(&self) -> PoolStats {
        let mut stats = PoolStats::default();
        {
            let threads = lock(&self.threads);
            stats.add(&self.global);
            for counters in threads.iter() {
                stats.add(counters);
                stats.add_held(counters, &self.config.tiers);
            }
        }
        for tier in self.tiers.iter() {
            let held = tier.held.load(Ordering::Relaxed).max(0) as u64;
            stats.buffers_held += held;
            stats.bytes_held += held * tier.size as u64;
        }
        stats.allocations = stats.misses;
        stats
    }
}

/// A new zeroed buffer of `size` bytes. Zeroed so that the whole capacity is
/// initialised and can be handed out as `&mut [u8]` without unsafe code;
/// only misses pay for it.
pub(crate) fn alloc(size: usize) -> Box<[u8]> {
    vec![0u8; size].into_boxed_slice()
}

/// A new buffer of `size` bytes (at least `prefix.len()`) starting with
/// `prefix`, the rest zeroed: initialised throughout, as [`alloc`]'s, but
/// written once.
pub(crate) fn alloc_with(size: usize, prefix: &[u8]) -> Box<[u8]> {
    debug_assert!(prefix.len() <= size);
    let len = size.max(prefix.len());
    let mut buf = Vec::with_capacity(len);
    buf.extend_from_slice(prefix);
    buf.resize(len, 0);
    buf.into_boxed_slice()
}
