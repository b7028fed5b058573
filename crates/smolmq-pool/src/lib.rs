//! A tiered pool of byte buffers with a per-thread cache in front of a
//! bounded shared pool. Buffers go back to the pool when their last user
//! drops them, so none can be forgotten, and the pool never holds more than
//! its configured bound.
//!
//! ```
//! use smolmq_pool::{Pool, PoolConfig};
//!
//! // Tiers of 4, 8, 16 and 64 KiB.
//! let pool = Pool::new(PoolConfig::default())?;
//!
//! // A read buffer: fill it (here from a slice; in an engine, a socket).
//! let mut buf = pool.get(4096);
//! assert_eq!((buf.len(), buf.capacity()), (0, 4096));
//! buf.extend_from_slice(b"frame one|frame two")?;
//!
//! // Freeze it and slice messages out of it without copying.
//! let bytes = buf.freeze();
//! let first = bytes.slice(0..9);
//! let second = bytes.slice(10..);
//! drop(bytes);
//! assert_eq!((&first[..], &second[..]), (&b"frame one"[..], &b"frame two"[..]));
//!
//! // The buffer goes back when the last slice is dropped, on any thread...
//! std::thread::spawn(move || drop((first, second))).join().unwrap();
//! // ...and the next get of that tier reuses it.
//! let again = pool.get(100);
//! let stats = pool.stats();
//! assert_eq!((stats.misses, stats.hits, stats.returns), (1, 1, 1));
//! # drop(again);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Tiers
//!
//! A [`Pool`] keeps buffers of a few fixed sizes ([`PoolConfig::tiers`], by
//! default 4, 8, 16 and 64 KiB). [`Pool::get`]`(n)` serves the smallest tier
//! of at least `n` bytes, so buffers of a tier are interchangeable and a
//! returned buffer fits the next request of its tier exactly. A request
//! above the largest tier gets a plain allocation of exactly `n` bytes that
//! is freed when dropped, never pooled (counted as
//! [`oversized`](PoolStats::oversized)).
//!
//! # The buffer
//!
//! [`PooledBuf`] has a fixed capacity, the first `len` bytes of which are
//! filled; it dereferences to them. It fills through `extend_from_slice`,
//! `fill_with` / `try_fill_with` (a closure given the spare capacity, e.g. a
//! socket read), `spare_capacity_mut` + `set_len`, [`bytes::BufMut`] and
//! [`std::io::Write`], and never grows: a write that does not fit is
//! refused with a [`CapacityError`] (or, through `BufMut`'s `put_*`,
//! panics, as for any fixed-size `BufMut`). The whole capacity is always
//! initialised (a new buffer is zeroed, which only misses pay for, or, from
//! [`Pool::copy_of`], built from the bytes copied in and zeroed past
//! them), so the spare capacity is a plain `&mut [u8]` and filling needs
//! no `unsafe`.
//!
//! [`PooledBuf::freeze`] turns it into a [`bytes::Bytes`] without copying,
//! so decoders can hand out messages as `Bytes` slices of the read buffer.
//! It uses [`Bytes::from_owner`](bytes::Bytes::from_owner), which allocates
//! one small reference-counted header per call (48 bytes on 64-bit
//! targets); clones and slices of the `Bytes` allocate nothing. (A
//! `BytesMut` cannot be pooled: it offers no hook to run code when its
//! memory is released.)
//!
//! # Where buffers come from and go to
//!
//! Each thread has, per pool and tier, a cache of two *magazines* (stacks
//! of up to [`magazine()`](PoolConfig::magazine) buffers, half of
//! [`thread_cache_per_tier`](PoolConfig::thread_cache_per_tier)); the shared
//! pool of each tier is a bounded
//! [`ConcurrentQueue`](concurrent_queue::ConcurrentQueue) of full
//! magazines, at most [`max_pooled_per_tier`](PoolConfig::max_pooled_per_tier)
//! buffers in all. (This is Bonwick's magazine layer, from the Solaris
//! allocator.)
//!
//! * **Get**: pop from the thread's magazines; when both are empty, take a
//!   full magazine from the shared pool; when that is empty, allocate.
//! * **Return** (dropping the `PooledBuf`, or the last `Bytes` made from
//!   it): push onto the dropping thread's magazines; when both are full,
//!   hand one to the shared pool; when that is full, free the buffer
//!   (counted as [`discarded`](PoolStats::discarded)).
//!
//! A thread that gets and drops its own buffers stays in its cache and
//! touches no shared memory at all. A thread that only gets and one that
//! only drops (a decoder's read buffers, released by whichever thread
//! consumes the messages) meet in the shared pool a magazine at a time:
//! two queue operations per magazine on each side, not one per buffer.
//!
//! # Memory bound
//!
//! The pool holds, for reuse, at most, summed over the tiers,
//! `tier size * (max_pooled_per_tier + thread_cache_per_tier * threads)`
//! bytes, where `threads` is the number of live threads that have used the
//! pool ([`PoolConfig::max_held_bytes`] gives the exact figure). With the
//! defaults that is 5.75 MiB shared plus 1.44 MiB per thread. Buffers
//! handed out are the caller's, as with any allocation, and a request
//! above the largest tier is never pooled.
//!
//! # Lifetimes
//!
//! * Several pools may be alive at once, on one thread or many: each
//!   thread keeps a separate cache per pool.
//! * When the last [`Pool`] clone is dropped, the pool closes: the shared
//!   pool and the dropping thread's cache are freed at once, and buffers
//!   still out are freed when they come back. Another thread's cache for
//!   the pool is freed the next time that thread returns a buffer of the
//!   pool or starts using another pool, and at the latest when it exits.
//! * When a thread exits, its caches are handed to their shared pools (or
//!   freed, for pools that are closed or full). Nothing leaks either way.
//!
//! # Statistics
//!
//! [`Pool::stats`] returns hits, misses, allocations, returns, discards and
//! the bytes held right now. Each thread counts in counters of its own,
//! which only it writes (no locked instruction, no shared cache line on the
//! hot path); `stats` sums them.
//!
//! # Cost
//!
//! A get and a drop served by the thread cache touch only thread-local
//! memory: a `thread_local` lookup, a scan for the pool's entry, a stack pop
//! or push and two counter stores, about 10 ns for the pair (plain
//! `BytesMut::with_capacity(4096)` and drop: about 20-25 ns). Misses pay for
//! zeroing the new buffer. Filling 4 KiB costs more than either, so
//! pooling saves a fraction of get + fill + drop, not a multiple; the
//! cross-thread path gains more, since the allocator's cross-thread frees
//! are what it avoids. `freeze` adds one 48-byte allocation and one atomic
//! reference count (`Bytes::from_owner`). See `docs/benchmarks.md` (layer
//! `pool`, `cargo xtask bench pool`).

#![warn(missing_docs, missing_debug_implementations)]
// The one `unsafe` item is the `BufMut` implementation (an unsafe trait),
// allowed where it stands, with its safety argument.
#![deny(unsafe_code)]

mod buf;
mod cache;
mod config;
mod pool;
mod stats;

pub use buf::{CapacityError, PooledBuf};
pub use config::{
    ConfigError, PoolConfig, MAX_POOLED_PER_TIER, MAX_THREAD_CACHE_PER_TIER, MAX_TIERS,
    MAX_TIER_SIZE, MIN_THREAD_CACHE_PER_TIER,
};
pub use pool::Pool;
pub use stats::PoolStats;

/// Compile-time checks: handles and buffers move and are shared across
/// threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Pool>();
    send_sync::<PooledBuf>();
    send_sync::<PoolStats>();
    send_sync::<PoolConfig>();
};
