//! What the pool allocates, observed with a counting global allocator:
//! nothing on a warm get and drop, one small header per `freeze`, and no
//! buffer left behind however the pool, its buffers and its threads end.
//!
//! One test function runs every scenario in order, so that no other test
//! in this binary allocates buffers of the observed size meanwhile.

use smolmq_pool::{Pool, PoolConfig};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc;
use std::thread;

/// A tier size nothing else in the process allocates.
const TIER: usize = 12_345;

/// Counts allocations per thread, and live blocks of exactly `TIER` bytes
/// process-wide.
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static LAST_SIZE: Cell<usize> = const { Cell::new(0) };
    static ZEROED: Cell<usize> = const { Cell::new(0) };
}
static LIVE_TIER_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; the
// bookkeeping touches only const-initialised thread-locals (no lazy
// initialisation, no allocation) and an atomic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = LAST_SIZE.try_with(|c| c.set(layout.size()));
        if layout.size() == TIER {
            LIVE_TIER_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        let _ = ZEROED.try_with(|c| c.set(c.get() + 1));
        let _ = LAST_SIZE.try_with(|c| c.set(layout.size()));
        if layout.size() == TIER {
            LIVE_TIER_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == TIER {
            LIVE_TIER_BLOCKS.fetch_sub(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread by `f`.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

fn live() -> isize {
    LIVE_TIER_BLOCKS.load(Ordering::Relaxed)
}

fn pool() -> Pool {
    Pool::new(PoolConfig {
        tiers: vec![1024, TIER],
        max_pooled_per_tier: 4,
        thread_cache_per_tier: 2,
    })
    .unwrap()
}

#[test]
fn allocation_behaviour() {
    warm_get_and_drop_allocate_nothing();
    a_copy_into_a_new_buffer_is_not_zeroed_first();
    freeze_allocates_one_small_header();
    pool_dropped_with_buffers_out_leaks_nothing();
    pool_dropped_before_a_caching_thread_exits_leaks_nothing();
    thread_exit_then_pool_drop_leaks_nothing();
    discarded_buffers_are_freed();
    assert_eq!(live(), 0);
}

fn a_copy_into_a_new_buffer_is_not_zeroed_first() {
    let pool = pool();
    let data = vec![5u8; TIER - 45];
    drop(pool.get(1024)); // This thread's cache entry for the pool.
    let zeroed = ZEROED.with(Cell::get);
    let n = allocations_in(|| drop(pool.copy_of(&data)));
    assert_eq!(n, 1, "a cold copy_of allocates its buffer only");
    assert_eq!(LAST_SIZE.with(Cell::get), TIER);
    assert_eq!(
        ZEROED.with(Cell::get),
        zeroed,
        "built from the data, not zeroed"
    );
    let n = allocations_in(|| {
        for _ in 0..100 {
            std::hint::black_box(pool.copy_of(&data));
        }
    });
    assert_eq!(n, 0, "a warm copy_of allocates nothing");
    // `get` hands out the whole capacity writable: a new one is zeroed.
    // (The first takes the cached buffer, the second is new.)
    let cached = pool.get(TIER);
    let new = pool.get(TIER);
    assert!(ZEROED.with(Cell::get) > zeroed);
    drop((cached, new));
    drop(pool);
    assert_eq!(live(), 0);
}

fn warm_get_and_drop_allocate_nothing() {
    let pool = pool();
    drop(pool.get(TIER)); // Warm: allocates the buffer and the cache entry.
    let n = allocations_in(|| {
        for i in 0..1000u32 {
            let mut b = pool.get(TIER);
            b.extend_from_slice(&i.to_le_bytes()).unwrap();
            b.fill_with(|spare| {
                spare.fill(1);
                spare.len()
            });
            std::hint::black_box(&b);
        }
        std::hint::black_box(pool.stats());
    });
    assert_eq!(n, 0, "a warm get + fill + drop allocates nothing");
    assert_eq!(pool.stats().misses, 1);
    drop(pool);
    assert_eq!(live(), 0);
}

fn freeze_allocates_one_small_header() {
    let pool = pool();
    drop(pool.get(TIER));
    let mut header = 0;
    let n = allocations_in(|| {
        let mut b = pool.get(TIER);
        b.extend_from_slice(b"frame").unwrap();
        let bytes = b.freeze();
        header = LAST_SIZE.with(Cell::get);
        let clone = bytes.clone();
        let slice = clone.slice(1..3);
        drop((bytes, clone));
        assert_eq!(&slice[..], b"ra");
    });
    assert_eq!(n, 1, "Bytes::from_owner allocates one header per freeze");
    assert!(header <= 64, "header of {header} bytes");
    println!("Bytes::from_owner header: {header} bytes");
    assert_eq!(pool.stats().returns, 2);
    drop(pool);
    assert_eq!(live(), 0);
}

fn pool_dropped_with_buffers_out_leaks_nothing() {
    let pool = pool();
    let a = pool.get(TIER);
    let mut b = pool.get(TIER);
    b.extend_from_slice(b"x").unwrap();
    let frozen = b.freeze();
    drop(pool.get(TIER)); // One in the cache too.
    assert_eq!(live(), 3);
    drop(pool);
    assert_eq!(live(), 2, "the cached buffer is freed with the pool");
    drop(a);
    assert_eq!(live(), 1);
    thread::spawn(move || drop(frozen)).join().unwrap();
    assert_eq!(live(), 0);
}

fn pool_dropped_before_a_caching_thread_exits_leaks_nothing() {
    let pool = pool();
    let bufs: Vec<_> = (0..2).map(|_| pool.get(TIER)).collect();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (cached_tx, cached_rx) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        drop(bufs); // Into this thread's cache.
        cached_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    });
    cached_rx.recv().unwrap();
    drop(pool);
    assert_eq!(live(), 2, "still in the worker's cache");
    go_tx.send(()).unwrap();
    worker.join().unwrap();
    assert_eq!(live(), 0, "freed when the worker exited");
}

fn thread_exit_then_pool_drop_leaks_nothing() {
    let pool = pool();
    let p = pool.clone();
    thread::spawn(move || {
        let bufs: Vec<_> = (0..3).map(|_| p.get(TIER)).collect();
        drop(bufs);
    })
    .join()
    .unwrap();
    assert_eq!(live(), 3, "handed to the shared pool on exit");
    assert_eq!(pool.stats().buffers_held, 3);
    drop(pool);
    assert_eq!(live(), 0);
}

fn discarded_buffers_are_freed() {
    let pool = pool();
    let bufs: Vec<_> = (0..10).map(|_| pool.get(TIER)).collect();
    drop(bufs);
    // 2 cached + 4 shared kept, 4 freed.
    assert_eq!(live(), 6);
    assert_eq!(pool.stats().discarded, 4);
    drop(pool);
    assert_eq!(live(), 0);
}
