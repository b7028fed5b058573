//! The pool's depth is bounded: what does not fit is freed and counted.

use smolmq_pool::{Pool, PoolConfig};

fn small_pool() -> Pool {
    Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 4,
        thread_cache_per_tier: 2,
    })
    .unwrap()
}

#[test]
fn excess_returns_are_discarded() {
    let pool = small_pool();
    let bufs: Vec<_> = (0..10).map(|_| pool.get(4096)).collect();
    drop(bufs);

    let stats = pool.stats();
    // 2 in this thread's cache, 4 in the shared pool, 4 freed.
    assert_eq!(stats.returns, 6);
    assert_eq!(stats.discarded, 4);
    assert_eq!(stats.buffers_held, 6);
    assert_eq!(stats.bytes_held, 6 * 4096);
    let bound = pool.config().max_held_bytes(1) as u64;
    assert_eq!(bound, 6 * 4096);
    assert!(stats.bytes_held <= bound);

    // The six kept are all served before anything is allocated again.
    let bufs: Vec<_> = (0..7).map(|_| pool.get(1)).collect();
    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses), (6, 11));
    assert_eq!(stats.bytes_held, 0);
    drop(bufs);
}

#[test]
fn bytes_held_never_exceeds_the_bound() {
    let pool = Pool::default();
    let bound = pool.config().max_held_bytes(1) as u64;
    for round in 0..3 {
        // Far more than the pool keeps, of every tier.
        let bufs: Vec<_> = (0..400)
            .map(|i| pool.get([1, 5000, 10_000, 60_000][(i + round) % 4]))
            .collect();
        drop(bufs);
        let stats = pool.stats();
        assert!(
            stats.bytes_held <= bound,
            "{} bytes held, bound {bound}",
            stats.bytes_held
        );
        assert_eq!(stats.bytes_held, bound, "every tier is full");
    }
    let stats = pool.stats();
    assert_eq!(stats.returns + stats.discarded, 1200);
}

#[test]
fn smallest_magazines() {
    // Magazines of one buffer; the shared pool holds one magazine.
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 1,
        thread_cache_per_tier: 2,
    })
    .unwrap();
    drop((0..4).map(|_| pool.get(1)).collect::<Vec<_>>());
    let stats = pool.stats();
    // Two in this thread's magazines, one in the shared pool, one freed.
    assert_eq!((stats.misses, stats.returns, stats.discarded), (4, 3, 1));
    assert_eq!(stats.buffers_held, 3);

    // Another thread finds the shared one.
    let p = pool.clone();
    std::thread::spawn(move || drop(p.get(1))).join().unwrap();
    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses), (1, 4));
}
