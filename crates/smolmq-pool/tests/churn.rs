//! Statistics stay consistent under multi-threaded churn: every get is
//! either a hit or a miss, every pooled buffer comes back once, and the pool
//! never holds more than its bound.

use bytes::Bytes;
use smolmq_pool::{Pool, PoolConfig};
use std::sync::mpsc;
use std::thread;

const THREADS: usize = 4;
const ROUNDS: usize = 2_000;
/// Request sizes, cycled: every tier, its boundaries, and one oversized.
const SIZES: [usize; 7] = [1, 64, 65, 256, 1000, 1024, 2000];

#[test]
fn hits_plus_misses_is_gets_under_churn_small_magazines() {
    churn(PoolConfig {
        tiers: vec![64, 256, 1024],
        max_pooled_per_tier: 8,
        thread_cache_per_tier: 2,
    });
}

#[test]
fn hits_plus_misses_is_gets_under_churn_large_magazines() {
    churn(PoolConfig {
        tiers: vec![64, 256, 1024],
        max_pooled_per_tier: 64,
        thread_cache_per_tier: 32,
    });
}

fn churn(config: PoolConfig) {
    let pool = Pool::new(config).unwrap();

    // Each thread gets buffers of mixed sizes, keeps some a while, freezes
    // some and sends them to the next thread to drop.
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..THREADS).map(|_| mpsc::channel::<Bytes>()).unzip();
    let mut gets_total = 0u64;
    let handles: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, rx)| {
            let pool = pool.clone();
            let next = senders[(t + 1) % THREADS].clone();
            thread::spawn(move || {
                let mut gets = 0u64;
                let mut kept = Vec::new();
                for i in 0..ROUNDS {
                    let size = SIZES[(i * 3 + t) % SIZES.len()];
                    let mut buf = pool.get(size);
                    gets += 1;
                    buf.extend_from_slice(&[t as u8; 8]).unwrap();
                    match i % 3 {
                        0 => kept.push(buf),
                        1 => {
                            let _ = next.send(buf.freeze());
                        }
                        _ => drop(buf),
                    }
                    if kept.len() > 5 {
                        kept.drain(..3);
                    }
                    while let Ok(bytes) = rx.try_recv() {
                        assert_eq!(bytes.len(), 8);
                    }
                }
                drop(next);
                drop(kept);
                gets
            })
        })
        .collect();
    drop(senders);
    for h in handles {
        gets_total += h.join().unwrap();
    }
    // Anything still in the channels was dropped with the receivers when
    // the threads ended.

    let stats = pool.stats();
    assert_eq!(gets_total, (THREADS * ROUNDS) as u64);
    assert_eq!(stats.hits + stats.misses, gets_total);
    assert_eq!(stats.gets(), gets_total);
    assert_eq!(stats.allocations, stats.misses);
    let oversized = (0..THREADS)
        .flat_map(|t| (0..ROUNDS).map(move |i| (i * 3 + t) % SIZES.len()))
        .filter(|&k| SIZES[k] > 1024)
        .count() as u64;
    assert_eq!(stats.oversized, oversized);
    // Nothing is out any more, so every pooled buffer ever allocated is
    // either held by the pool or was discarded (on a return, or when an
    // exiting thread's cache found the shared pool full).
    assert_eq!(
        stats.misses - stats.oversized,
        stats.buffers_held + stats.discarded,
        "{stats:?}"
    );
    // Every pooled get was followed by a return, or a discard on return.
    assert!(stats.returns + stats.discarded >= stats.gets() - stats.oversized);
    assert!(stats.returns <= stats.gets() - stats.oversized);
    // Only the shared pool is left (every thread has exited).
    assert!(stats.bytes_held <= pool.config().max_held_bytes(0) as u64);
    assert!(stats.buffers_held <= 3 * pool.config().max_pooled_per_tier as u64);
    // The shared pool alone served many gets.
    assert!(stats.hits > 0);
}
