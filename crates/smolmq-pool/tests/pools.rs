//! Several pools on one thread are kept apart, and a pool may be dropped
//! while its buffers are still out.

use smolmq_pool::{Pool, PoolConfig};
use std::thread;

#[test]
fn several_pools_on_one_thread_are_kept_apart() {
    let a = Pool::default();
    let b = Pool::default();
    let from_a = a.get(4096);
    let a_ptr = from_a.as_ptr();
    drop(from_a);

    // `b` does not see `a`'s buffer.
    let from_b = b.get(4096);
    assert_ne!(from_b.as_ptr(), a_ptr);
    drop(from_b);
    assert_eq!((a.stats().returns, a.stats().misses), (1, 1));
    assert_eq!((b.stats().returns, b.stats().misses), (1, 1));

    // Each gets its own back.
    assert_eq!(a.get(1).as_ptr(), a_ptr);
    assert_eq!((a.stats().hits, b.stats().hits), (1, 0));
}

#[test]
fn a_buffer_goes_home_to_its_own_pool() {
    let a = Pool::default();
    let b = Pool::default();
    let buf = a.get(4096);
    // Dropped while `b` is the pool in use: still goes to `a`.
    let other = b.get(4096);
    drop(buf);
    drop(other);
    assert_eq!((a.stats().buffers_held, b.stats().buffers_held), (1, 1));
}

#[test]
fn many_pools_at_once() {
    let pools: Vec<Pool> = (0..20).map(|_| Pool::default()).collect();
    for _ in 0..3 {
        for pool in &pools {
            drop(pool.get(100));
        }
    }
    for pool in &pools {
        let stats = pool.stats();
        assert_eq!((stats.misses, stats.hits, stats.buffers_held), (1, 2, 1));
    }
}

#[test]
fn pool_dropped_with_buffers_outstanding() {
    let pool = Pool::default();
    let held = pool.get(4096);
    let frozen = {
        let mut b = pool.get(8192);
        b.extend_from_slice(b"still readable").unwrap();
        b.freeze()
    };
    drop(pool);
    // Buffers out stay valid and usable.
    let mut held = held;
    held.extend_from_slice(b"fine").unwrap();
    assert_eq!(&held[..], b"fine");
    assert_eq!(&frozen[..], b"still readable");
    // Returning them now just frees them (nothing to observe but no panic,
    // and a fresh pool does not receive them).
    let fresh = Pool::default();
    let f = frozen.clone();
    thread::spawn(move || drop(f)).join().unwrap();
    drop(held);
    drop(frozen);
    assert_eq!(fresh.stats().returns, 0);
    assert_eq!(fresh.stats().buffers_held, 0);
}

#[test]
fn pool_dropped_while_another_thread_caches_its_buffers() {
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 8,
        thread_cache_per_tier: 8,
    })
    .unwrap();
    let bufs: Vec<_> = (0..4).map(|_| pool.get(1)).collect();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (cached_tx, cached_rx) = std::sync::mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        drop(bufs); // Into this thread's cache.
        cached_tx.send(()).unwrap();
        rx.recv().unwrap();
        // The pool is gone now; another pool works normally here.
        let other = Pool::default();
        drop(other.get(1));
        assert_eq!(other.stats().buffers_held, 1);
    });
    cached_rx.recv().unwrap();
    assert_eq!(pool.stats().buffers_held, 4);
    drop(pool);
    tx.send(()).unwrap();
    worker.join().unwrap();
}

#[test]
fn clones_keep_the_pool_open() {
    let pool = Pool::default();
    let clone = pool.clone();
    drop(pool.get(1));
    drop(pool);
    drop(clone.get(1));
    assert_eq!(clone.stats().hits, 1);
}
