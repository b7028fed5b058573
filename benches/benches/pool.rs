//! smolmq-pool against plain allocation (`BytesMut::with_capacity`): the
//! life of a 4 KiB read buffer.
//!
//! Cases (each iteration handles `BUFFERS` buffers; figures are buffers/s):
//!
//! * `get_fill_drop_4KiB`: one thread gets a buffer, writes all 4 KiB into
//!   it (a copy from a source slice, as a read would) and drops it.
//! * `get_drop_4KiB`: the same without the fill, to show the cost of the
//!   pool (or the allocator) itself.
//! * `get_fill_drop_4KiB_2threads`: two threads each doing the first case at
//!   once, sharing one pool (each in its own thread cache).
//! * `cross_thread_4KiB`: the decoder's path: one thread gets and fills a
//!   buffer, freezes it into `Bytes` and sends it (in batches of `BATCH`,
//!   through a spinning queue of `CHANNEL` batches) to a second thread that
//!   drops it, so every buffer is returned on another thread than the one
//!   that got it. The clock stops when the second thread has dropped the
//!   last one. This case needs two free cores: on a busy machine it
//!   measures the scheduler more than the buffers.
//! * `copy_128KiB`: no pool, no allocation: one thread copies 128 KiB from
//!   one source into 1, 4 or 16 buffers in turn (`rotate-N`). The most a
//!   sender that copies every message can send, with the buffers it copies
//!   into held in its core's cache (1 and 4: 128 and 512 KiB) or not (16:
//!   2 MiB, past a 1 MiB L2). The matrix's inproc cells at 128 KiB are
//!   bounded by this copy (docs/benchmarks.md, thirteenth session).

use bytes::{Bytes, BytesMut};
use concurrent_queue::ConcurrentQueue;
use smolmq_benches::{Figure, Report};
use smolmq_pool::{Pool, PoolConfig};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Buffers one iteration handles.
const BUFFERS: u64 = 1_000;
/// Buffer size.
const SIZE: usize = 4096;
/// Buffers per message in the cross-thread case.
const BATCH: usize = 32;
/// Batches the cross-thread queue holds: with one batch being filled and
/// one being dropped, at most `(CHANNEL + 2) * BATCH` = 128 buffers (512
/// KiB) are in flight. More in flight makes the fills miss the cache and
/// the case measure memory bandwidth; smaller batches make it measure how
/// the two threads are scheduled on a busy machine.
const CHANNEL: usize = 2;

/// The pool of the cross-thread case: deep enough for the buffers in
/// flight (256 shared per tier), with magazines of one batch (a thread
/// cache of 64 per tier). The default pool (64 shared, magazines of 8)
/// would miss on part of the 128 buffers in flight.
fn cross_thread_pool() -> Pool {
    Pool::new(PoolConfig {
        max_pooled_per_tier: 256,
        thread_cache_per_tier: 2 * BATCH,
        ..PoolConfig::default()
    })
    .expect("valid config")
}

/// What every fill copies from.
static SOURCE: [u8; SIZE] = [0x5a; SIZE];

/// The size the copy case copies: the matrix's largest message.
const LARGE: usize = 128 * 1024;
/// Copies one iteration of the copy case makes.
const COPIES: u64 = 100;

/// `iters * COPIES` copies of `LARGE` bytes from one source into `rotate`
/// buffers in turn (each filled once before the clock starts, so no copy
/// meets a fresh page).
fn copy_rotating(rotate: usize, iters: u64) -> Duration {
    let source = vec![0x5au8; LARGE];
    let mut buffers: Vec<Vec<u8>> = (0..rotate).map(|_| source.clone()).collect();
    let start = Instant::now();
    for i in 0..iters * COPIES {
        let buffer = &mut buffers[i as usize % rotate];
        buffer.copy_from_slice(black_box(&source));
        black_box(buffer);
    }
    start.elapsed()
}

/// How an implementation makes, fills and freezes one buffer.
trait Impl: Clone + Send + 'static {
    /// Get a 4 KiB buffer, fill it if `fill`, and drop it.
    fn get_drop(&self, fill: bool);
    /// Get a 4 KiB buffer, fill it and freeze it.
    fn get_fill_freeze(&self) -> Bytes;
}

/// The pool under test.
#[derive(Clone)]
struct Pooled(Pool);

impl Impl for Pooled {
    #[inline]
    fn get_drop(&self, fill: bool) {
        let mut buf = self.0.get(SIZE);
        if fill {
            buf.extend_from_slice(black_box(&SOURCE))
                .expect("4 KiB fits");
        }
        black_box(&mut buf);
    }

    #[inline]
    fn get_fill_freeze(&self) -> Bytes {
        let mut buf = self.0.get(SIZE);
        buf.extend_from_slice(black_box(&SOURCE))
            .expect("4 KiB fits");
        buf.freeze()
    }
}

/// The baseline: a fresh `BytesMut` per buffer.
#[derive(Clone)]
struct Plain;

impl Impl for Plain {
    #[inline]
    fn get_drop(&self, fill: bool) {
        let mut buf = BytesMut::with_capacity(SIZE);
        if fill {
            buf.extend_from_slice(black_box(&SOURCE));
        }
        black_box(&mut buf);
    }

    #[inline]
    fn get_fill_freeze(&self) -> Bytes {
        let mut buf = BytesMut::with_capacity(SIZE);
        buf.extend_from_slice(black_box(&SOURCE));
        buf.freeze()
    }
}

/// `iters * BUFFERS` get (+ fill) + drop on this thread.
fn one_thread<I: Impl>(imp: &I, iters: u64, fill: bool) -> Duration {
    // Warm the thread cache (and the allocator) before the clock starts.
    for _ in 0..16 {
        imp.get_drop(fill);
    }
    let start = Instant::now();
    for _ in 0..iters * BUFFERS {
        imp.get_drop(fill);
    }
    start.elapsed()
}

/// `iters * BUFFERS` get + fill + drop on each of two threads at once; the
/// time until both are done.
fn two_threads<I: Impl>(imp: &I, iters: u64) -> Duration {
    let start_line = Arc::new(Barrier::new(3));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let imp = imp.clone();
            let start_line = start_line.clone();
            thread::spawn(move || {
                for _ in 0..16 {
                    imp.get_drop(true);
                }
                start_line.wait();
                for _ in 0..iters * BUFFERS {
                    imp.get_drop(true);
                }
            })
        })
        .collect();
    start_line.wait();
    let start = Instant::now();
    for w in workers {
        w.join().expect("worker panicked");
    }
    start.elapsed()
}

/// Waits a little, politely: spin first, then yield (the machine may have
/// fewer free cores than threads).
fn backoff(spins: &mut u32) {
    if *spins < 64 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
    *spins += 1;
}

/// `iters * BUFFERS` buffers got, filled and frozen on a producer thread
/// and dropped on this one; the time until the last is dropped. Batches go
/// through a small spinning queue, so the hand-off costs little next to the
/// buffers and never sleeps.
fn cross_thread<I: Impl>(imp: &I, iters: u64) -> Duration {
    let queue = Arc::new(ConcurrentQueue::<Vec<Bytes>>::bounded(CHANNEL));
    let total = (iters * BUFFERS) as usize;
    let start_line = Arc::new(Barrier::new(2));
    let producer = {
        let imp = imp.clone();
        let queue = queue.clone();
        let start_line = start_line.clone();
        thread::spawn(move || {
            start_line.wait();
            let mut left = total;
            while left > 0 {
                let n = left.min(BATCH);
                let mut batch: Vec<Bytes> = (0..n).map(|_| imp.get_fill_freeze()).collect();
                let mut spins = 0;
                while let Err(e) = queue.push(batch) {
                    batch = e.into_inner();
                    backoff(&mut spins);
                }
                left -= n;
            }
        })
    };
    start_line.wait();
    let start = Instant::now();
    let mut dropped = 0;
    let mut spins = 0;
    while dropped < total {
        match queue.pop() {
            Ok(batch) => {
                dropped += batch.len();
                drop(batch);
                spins = 0;
            }
            Err(_) => backoff(&mut spins),
        }
    }
    let elapsed = start.elapsed();
    producer.join().expect("producer panicked");
    elapsed
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("pool");
    let figure = Figure::Throughput { items: BUFFERS };
    let pool = Pooled(Pool::default());

    let mut case = report.case(&mut c, "get_fill_drop_4KiB");
    case.bench("smolmq-pool", figure, |iters| {
        one_thread(&pool, iters, true)
    });
    case.bench("bytesmut-alloc", figure, |iters| {
        one_thread(&Plain, iters, true)
    });
    case.finish();

    let mut case = report.case(&mut c, "get_drop_4KiB");
    case.bench("smolmq-pool", figure, |iters| {
        one_thread(&pool, iters, false)
    });
    case.bench("bytesmut-alloc", figure, |iters| {
        one_thread(&Plain, iters, false)
    });
    case.finish();

    let both = Figure::Throughput { items: 2 * BUFFERS };
    let mut case = report.case(&mut c, "get_fill_drop_4KiB_2threads");
    case.bench("smolmq-pool", both, |iters| two_threads(&pool, iters));
    case.bench("bytesmut-alloc", both, |iters| two_threads(&Plain, iters));
    case.finish();

    let deep = Pooled(cross_thread_pool());
    let mut case = report.case(&mut c, "cross_thread_4KiB");
    case.bench("smolmq-pool", figure, |iters| cross_thread(&deep, iters));
    case.bench("bytesmut-alloc", figure, |iters| {
        cross_thread(&Plain, iters)
    });
    case.finish();

    let copies = Figure::Throughput { items: COPIES };
    let mut case = report.case(&mut c, "copy_128KiB");
    for rotate in [1, 4, 16] {
        case.bench(&format!("rotate-{rotate}"), copies, |iters| {
            copy_rotating(rotate, iters)
        });
    }
    case.finish();

    c.final_summary();
    report.print();
    for (name, pool) in [("default", &pool), ("cross-thread", &deep)] {
        let stats = pool.0.stats();
        eprintln!(
            "smolmq-pool {name} pool: {} gets, {} hits, {} misses, {} discarded, {} bytes held",
            stats.gets(),
            stats.hits,
            stats.misses,
            stats.discarded,
            stats.bytes_held
        );
    }
}
