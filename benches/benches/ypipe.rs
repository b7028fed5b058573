//! smolmq-ypipe against the queues and channels it competes with: one
//! producer thread, one consumer thread, items moved in order.
//!
//! Every implementation is used the way a real consumer would use it: the
//! ypipe reader polls with `try_read` for a while, then reads in the way
//! that marks it asleep and parks, woken by the writer only when `flush`
//! reports it asleep; the channels use their blocking `recv`;
//! concurrent-queue, which has no blocking API, is polled with a spin/yield
//! loop. Payloads are `u64`s and 64-byte `Bytes` messages (static, so the
//! figure is the queue's cost, not the allocator's).

use bytes::Bytes;
use smolmq_benches::{Figure, Report};
use std::hint::spin_loop;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Items one criterion iteration moves.
const ITEMS: u64 = 100_000;

/// 64 bytes of payload shared by every `Bytes` item.
static PAYLOAD: [u8; 64] = [0x5a; 64];

/// Makes the `i`-th item of a run.
trait Item: Send + 'static {
    fn make(i: u64) -> Self;
    fn check(&self, i: u64);
}

impl Item for u64 {
    #[inline]
    fn make(i: u64) -> Self {
        i
    }
    #[inline]
    fn check(&self, i: u64) {
        debug_assert_eq!(*self, i);
        std::hint::black_box(self);
    }
}

impl Item for Bytes {
    #[inline]
    fn make(_: u64) -> Self {
        Bytes::from_static(&PAYLOAD)
    }
    #[inline]
    fn check(&self, _: u64) {
        debug_assert_eq!(self.len(), 64);
        std::hint::black_box(self);
    }
}

/// Runs `consume` on a new thread and `produce` on this one, both released
/// at once; returns the time from the release until the consumer is done.
fn timed<P, C>(produce: P, consume: C) -> Duration
where
    P: FnOnce(),
    C: FnOnce() + Send + 'static,
{
    let start = Arc::new(Barrier::new(2));
    let go = start.clone();
    let consumer = thread::spawn(move || {
        go.wait();
        consume();
        Instant::now()
    });
    start.wait();
    let t0 = Instant::now();
    produce();
    let t1 = consumer.join().expect("consumer panicked");
    t1.duration_since(t0)
}

/// Spins this many times on an empty queue before parking or yielding.
const SPINS: u32 = 128;

/// Looks a ypipe reader takes at an empty pipe before it sleeps.
const POLLS: u32 = 64;

/// Spin-loop hints between two looks of a polling ypipe reader.
const PAUSES_PER_POLL: u32 = 32;

fn ypipe<T: Item>(n: u64, flush_every: u64) -> Duration {
    let (mut tx, mut rx) = smolmq_ypipe::ypipe::<T>();
    let consumer_thread = Arc::new(std::sync::Mutex::new(None::<thread::Thread>));
    let slot = consumer_thread.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let consume = move || {
        *slot.lock().unwrap() = Some(thread::current());
        ready_tx.send(()).unwrap();
        let mut i = 0;
        let mut spins = 0;
        while i < n {
            // Poll without announcing sleep for a while; only then read in
            // the way that tells the writer to wake us, and park.
            match rx.try_read() {
                Some(v) => {
                    v.check(i);
                    i += 1;
                    spins = 0;
                }
                None if spins < POLLS => {
                    // Pause between looks: each look at the shared word
                    // takes the cache line from the writer, whose next flush
                    // then waits for it (measured: ~20 M items/s when
                    // polling back to back, ~80 M with 32 pauses).
                    spins += 1;
                    for _ in 0..PAUSES_PER_POLL {
                        spin_loop();
                    }
                }
                None => match rx.read() {
                    Some(v) => {
                        v.check(i);
                        i += 1;
                        spins = 0;
                    }
                    // Asleep as far as the writer knows: it will unpark us.
                    None => thread::park(),
                },
            }
        }
    };
    let produce = move || {
        ready_rx.recv().unwrap();
        let reader = consumer_thread.lock().unwrap().clone().unwrap();
        for i in 0..n {
            tx.write(T::make(i), false);
            if (i + 1) % flush_every == 0 && !tx.flush() {
                reader.unpark();
            }
        }
        if !tx.flush() {
            reader.unpark();
        }
    };
    timed(produce, consume)
}

fn crossbeam_bounded<T: Item>(n: u64) -> Duration {
    let (tx, rx) = crossbeam_channel::bounded::<T>(1024);
    timed(
        move || (0..n).for_each(|i| tx.send(T::make(i)).unwrap()),
        move || (0..n).for_each(|i| rx.recv().unwrap().check(i)),
    )
}

fn crossbeam_unbounded<T: Item>(n: u64) -> Duration {
    let (tx, rx) = crossbeam_channel::unbounded::<T>();
    timed(
        move || (0..n).for_each(|i| tx.send(T::make(i)).unwrap()),
        move || (0..n).for_each(|i| rx.recv().unwrap().check(i)),
    )
}

fn std_mpsc<T: Item>(n: u64) -> Duration {
    let (tx, rx) = std::sync::mpsc::channel::<T>();
    timed(
        move || (0..n).for_each(|i| tx.send(T::make(i)).unwrap()),
        move || (0..n).for_each(|i| rx.recv().unwrap().check(i)),
    )
}

fn concurrent_queue<T: Item>(n: u64) -> Duration {
    let q = Arc::new(concurrent_queue::ConcurrentQueue::<T>::unbounded());
    let rq = q.clone();
    timed(
        move || (0..n).for_each(|i| assert!(q.push(T::make(i)).is_ok())),
        move || {
            let mut i = 0;
            let mut spins = 0;
            while i < n {
                match rq.pop() {
                    Ok(v) => {
                        v.check(i);
                        i += 1;
                        spins = 0;
                    }
                    Err(_) if spins < SPINS => {
                        spins += 1;
                        spin_loop();
                    }
                    Err(_) => thread::yield_now(),
                }
            }
        },
    )
}

fn cases<T: Item>(c: &mut criterion::Criterion, report: &mut Report, item: &str) {
    for (flush, flush_every) in [("batch256", 256), ("flush1", 1)] {
        let mut case = report.case(c, &format!("spsc_{item}_{flush}"));
        let figure = Figure::Throughput { items: ITEMS };
        case.bench("smolmq-ypipe", figure, |iters| {
            ypipe::<T>(iters * ITEMS, flush_every)
        });
        case.bench("crossbeam-bounded", figure, |iters| {
            crossbeam_bounded::<T>(iters * ITEMS)
        });
        case.bench("crossbeam-unbounded", figure, |iters| {
            crossbeam_unbounded::<T>(iters * ITEMS)
        });
        case.bench("concurrent-queue", figure, |iters| {
            concurrent_queue::<T>(iters * ITEMS)
        });
        case.bench("std-mpsc", figure, |iters| std_mpsc::<T>(iters * ITEMS));
        case.finish();
    }
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("ypipe");
    cases::<u64>(&mut c, &mut report, "u64");
    cases::<Bytes>(&mut c, &mut report, "bytes64");
    c.final_summary();
    report.print();
}
