//! A returned buffer is reused by the next get of its tier.

use smolmq_pool::Pool;

#[test]
fn a_returned_buffer_is_reused() {
    let pool = Pool::default();
    let mut buf = pool.get(4096);
    buf.extend_from_slice(b"first user").unwrap();
    let ptr = buf.as_ptr();
    drop(buf);

    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses, stats.returns), (0, 1, 1));
    assert_eq!((stats.bytes_held, stats.buffers_held), (4096, 1));

    let again = pool.get(1000);
    assert_eq!(again.as_ptr(), ptr, "same memory");
    assert_eq!(again.capacity(), 4096);
    assert!(again.is_empty(), "a reused buffer starts empty");

    let stats = pool.stats();
    assert_eq!((stats.hits, stats.misses, stats.allocations), (1, 1, 1));
    assert_eq!((stats.bytes_held, stats.buffers_held), (0, 0));
}

#[test]
fn steady_get_and_drop_allocates_once() {
    let pool = Pool::default();
    for i in 0..1000u32 {
        let mut buf = pool.get(16 * 1024);
        buf.extend_from_slice(&i.to_le_bytes()).unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.misses, 1);
    assert_eq!(stats.hits, 999);
    assert_eq!(stats.returns, 1000);
    assert_eq!(stats.allocated_bytes, 16 * 1024);
}

#[test]
fn clones_share_one_pool() {
    let pool = Pool::default();
    let clone = pool.clone();
    drop(pool.get(10));
    drop(clone.get(10));
    assert_eq!(clone.stats().hits, 1);
    assert_eq!(pool.stats(), clone.stats());
}

#[test]
fn buffers_returned_on_another_thread_are_reused() {
    let pool = Pool::default();
    let bufs: Vec<_> = (0..4).map(|_| pool.get(4096)).collect();
    let ptrs: Vec<_> = bufs.iter().map(|b| b.as_ptr() as usize).collect();
    std::thread::spawn(move || drop(bufs)).join().unwrap();
    // The dropping thread cached them, then handed them to the shared pool
    // when it exited.
    let stats = pool.stats();
    assert_eq!(stats.returns, 4);
    assert_eq!(stats.buffers_held, 4);
    let again: Vec<_> = (0..4).map(|_| pool.get(4096)).collect();
    for b in &again {
        assert!(ptrs.contains(&(b.as_ptr() as usize)));
    }
    assert_eq!(pool.stats().hits, 4);
}

#[test]
fn one_thread_gets_another_drops_and_buffers_circulate() {
    use smolmq_pool::PoolConfig;
    use std::sync::mpsc;

    const GETS: u64 = 2_000;
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 32,
        thread_cache_per_tier: 16,
    })
    .unwrap();
    let magazine = pool.config().magazine() as u64;
    // A rendezvous channel: at most a couple of buffers in flight.
    let (tx, rx) = mpsc::sync_channel::<bytes::Bytes>(0);
    let consumer = std::thread::spawn(move || {
        for bytes in rx {
            assert_eq!(bytes.len(), 100);
        }
    });
    for _ in 0..GETS {
        let mut buf = pool.get(4096);
        buf.extend_from_slice(&[1; 100]).unwrap();
        tx.send(buf.freeze()).unwrap();
    }
    drop(tx);
    consumer.join().unwrap();

    let stats = pool.stats();
    assert_eq!(stats.gets(), GETS);
    // The consumer's two magazines fill, then whole magazines come back to
    // the producer through the shared pool: only the first few gets, and a
    // few while magazines are on their way, allocate.
    assert!(
        stats.misses <= 4 * magazine,
        "{} misses for {GETS} gets",
        stats.misses
    );
    assert_eq!(stats.discarded, 0);
    assert_eq!(stats.returns, GETS);
}

#[test]
fn the_shared_pool_hands_out_what_came_back_last() {
    use smolmq_pool::PoolConfig;
    // Magazines of one buffer: every return past the thread's two goes to
    // the shared pool on its own.
    let pool = Pool::new(PoolConfig {
        tiers: vec![4096],
        max_pooled_per_tier: 8,
        thread_cache_per_tier: 2,
    })
    .unwrap();
    let bufs: Vec<_> = (0..4).map(|_| pool.get(4096)).collect();
    let ptrs: Vec<_> = bufs.iter().map(|b| b.as_ptr() as usize).collect();
    // Another thread drops them in order and keeps the last two: the first
    // and then the second went to the shared pool.
    let (done, wait) = std::sync::mpsc::channel();
    let (exit, exited) = std::sync::mpsc::channel::<()>();
    let dropper = std::thread::spawn(move || {
        for buf in bufs {
            drop(buf);
        }
        done.send(()).unwrap();
        // Stay alive (holding the last two) until the gets below are done.
        let _ = exited.recv();
    });
    wait.recv().unwrap();
    // A third thread, with nothing cached, takes from the shared pool: the
    // buffer given to it last first (a queue would give the oldest).
    let pool2 = pool.clone();
    let got = std::thread::spawn(move || {
        let a = pool2.get(4096);
        let b = pool2.get(4096);
        (a.as_ptr() as usize, b.as_ptr() as usize)
    })
    .join()
    .unwrap();
    exit.send(()).unwrap();
    dropper.join().unwrap();
    assert_eq!(got, (ptrs[1], ptrs[0]), "newest first");
}
