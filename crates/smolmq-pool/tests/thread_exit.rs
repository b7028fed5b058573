//! A thread's cache is handed to the shared pool when the thread exits.

use smolmq_pool::{Pool, PoolConfig};
use std::thread;

#[test]
fn thread_exit_drains_the_cache_to_the_shared_pool() {
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096, 8192],
        max_pooled_per_tier: 16,
        thread_cache_per_tier: 4,
    })
    .unwrap();
    let worker_pool = pool.clone();
    let ptrs: Vec<usize> = thread::spawn(move || {
        let bufs: Vec<_> = (0..3).map(|_| worker_pool.get(4096)).collect();
        let big = worker_pool.get(8192);
        let ptrs = bufs.iter().map(|b| b.as_ptr() as usize).collect();
        drop(bufs);
        drop(big);
        assert_eq!(worker_pool.stats().buffers_held, 4);
        ptrs
    })
    .join()
    .unwrap();

    // Everything the worker cached is still held, now in the shared pool,
    // and its counts are kept.
    let stats = pool.stats();
    assert_eq!(stats.buffers_held, 4);
    assert_eq!(stats.bytes_held, 3 * 4096 + 8192);
    assert_eq!((stats.misses, stats.returns), (4, 4));

    // This thread gets exactly those buffers back.
    let mine: Vec<_> = (0..3).map(|_| pool.get(4096)).collect();
    for b in &mine {
        assert!(ptrs.contains(&(b.as_ptr() as usize)));
    }
    assert_eq!(pool.get(8192).capacity(), 8192);
    assert_eq!(pool.stats().hits, 4);
    assert_eq!(pool.stats().misses, 4);
}

#[test]
fn thread_exit_with_a_full_shared_pool_discards() {
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 2,
        thread_cache_per_tier: 4,
    })
    .unwrap();
    // Fill the shared pool from this thread: 4 stay in this thread's
    // cache, 2 go shared.
    drop((0..6).map(|_| pool.get(1)).collect::<Vec<_>>());
    let p = pool.clone();
    thread::spawn(move || {
        // Take the 2 shared ones and 2 new ones, keep them in this cache.
        let bufs: Vec<_> = (0..4).map(|_| p.get(1)).collect();
        drop(bufs);
        // On exit, 2 fit in the (now empty) shared pool, 2 are discarded.
    })
    .join()
    .unwrap();
    let stats = pool.stats();
    assert_eq!(stats.buffers_held, 4 + 2);
    assert_eq!(stats.discarded, 2);
}

#[test]
fn many_short_lived_threads_hold_no_more_than_the_bound() {
    let pool = Pool::default();
    for _ in 0..20 {
        let p = pool.clone();
        thread::spawn(move || {
            let bufs: Vec<_> = (0..20).map(|_| p.get(4096)).collect();
            drop(bufs);
        })
        .join()
        .unwrap();
    }
    let stats = pool.stats();
    // Only the shared pool survives the threads.
    assert_eq!(stats.buffers_held, 20);
    assert!(stats.bytes_held <= pool.config().max_held_bytes(1) as u64);
    assert_eq!(stats.hits + stats.misses, 400);
}

/// Holds a buffer in a thread-local that is destroyed after the pool's own
/// thread cache, and gets and drops buffers in its destructor.
struct LateHolder {
    pool: Option<Pool>,
    buf: Option<smolmq_pool::PooledBuf>,
}

impl Drop for LateHolder {
    fn drop(&mut self) {
        drop(self.buf.take());
        if let Some(pool) = &self.pool {
            let mut b = pool.get(4096);
            b.extend_from_slice(b"late").unwrap();
            drop(b);
        }
    }
}

thread_local! {
    static LATE: std::cell::RefCell<LateHolder> =
        const { std::cell::RefCell::new(LateHolder { pool: None, buf: None }) };
}

#[test]
fn buffers_used_during_thread_teardown_still_go_home() {
    let pool = Pool::default();
    let p = pool.clone();
    thread::spawn(move || {
        // Register this thread-local's destructor before the pool's cache
        // exists, so that it runs after the cache is gone.
        LATE.with(|_| {});
        let buf = p.get(4096);
        LATE.with(|late| {
            let mut late = late.borrow_mut();
            late.buf = Some(buf);
            late.pool = Some(p);
        });
    })
    .join()
    .unwrap();
    let stats = pool.stats();
    assert_eq!(stats.gets(), 2);
    assert_eq!(stats.misses, 1, "the late get reused the returned buffer");
    assert_eq!(stats.buffers_held, 1);
    assert_eq!(stats.discarded, 0);
}
