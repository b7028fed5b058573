//! Tier selection: a request gets the smallest tier at least as large, and a
//! request above the largest tier a plain, unpooled allocation.

use smolmq_pool::{Pool, PoolConfig};

#[test]
fn default_tiers_at_their_boundaries() {
    let pool = Pool::default();
    for (request, capacity) in [
        (0, 4096),
        (1, 4096),
        (4095, 4096),
        (4096, 4096),
        (4097, 8192),
        (8192, 8192),
        (8193, 16384),
        (16384, 16384),
        (16385, 65536),
        (65536, 65536),
    ] {
        let buf = pool.get(request);
        assert_eq!(buf.capacity(), capacity, "request of {request} bytes");
        assert_eq!(buf.len(), 0);
        assert!(buf.is_pooled(), "request of {request} bytes");
        assert_eq!(pool.tier_for(request), Some(capacity));
    }
}

#[test]
fn above_the_largest_tier_is_a_plain_allocation() {
    let pool = Pool::default();
    assert_eq!(pool.tier_for(65537), None);
    let buf = pool.get(65537);
    assert_eq!(buf.capacity(), 65537);
    assert!(!buf.is_pooled());
    drop(buf);

    let stats = pool.stats();
    assert_eq!(stats.oversized, 1);
    assert_eq!(stats.misses, 1);
    assert_eq!(stats.allocated_bytes, 65537);
    assert_eq!(stats.returns, 0, "an oversized buffer is never taken back");
    assert_eq!(stats.bytes_held, 0);

    // And the next such request allocates again.
    drop(pool.get(65537));
    assert_eq!(pool.stats().oversized, 2);
    assert_eq!(pool.stats().hits, 0);
}

#[test]
fn custom_tiers() {
    let pool = Pool::new(PoolConfig {
        tiers: vec![100, 1000],
        max_pooled_per_tier: 2,
        thread_cache_per_tier: 2,
    })
    .unwrap();
    assert_eq!(pool.get(1).capacity(), 100);
    assert_eq!(pool.get(100).capacity(), 100);
    assert_eq!(pool.get(101).capacity(), 1000);
    assert_eq!(pool.get(1001).capacity(), 1001);
    assert!(!pool.get(1001).is_pooled());
    assert_eq!(pool.config().tiers, [100, 1000]);
}

#[test]
fn tiers_do_not_mix() {
    let pool = Pool::default();
    drop(pool.get(4096));
    // An 8 KiB request cannot use the returned 4 KiB buffer.
    let big = pool.get(8192);
    assert_eq!(big.capacity(), 8192);
    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses), (0, 2));
}
