//! smolmq-mailbox against the channels it competes with: many producer
//! threads, one consumer that blocks when its mailbox is empty.
//!
//! Each iteration moves `ITEMS` `u64`s from the producers (spawned per
//! measurement, released together by a barrier) to the consumer (the bench
//! thread). The clock runs on the consumer, from the release until it has
//! received the last item.

use smolmq_benches::{Figure, Report};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

/// Items one iteration moves, split evenly between the producers.
const ITEMS: u64 = 100_000;

/// Moves `iters * ITEMS` items from `producers` threads through `(tx, rx)`
/// and returns how long the consumer took to receive them all.
fn run<S, R>(
    iters: u64,
    producers: u64,
    (tx, rx): (S, R),
    send: fn(&S, u64),
    recv: fn(&R) -> u64,
) -> Duration
where
    S: Clone + Send + 'static,
{
    let per_producer = iters * ITEMS / producers;
    let start_line = Arc::new(Barrier::new(producers as usize + 1));
    let handles: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            let start_line = start_line.clone();
            thread::spawn(move || {
                start_line.wait();
                for n in 0..per_producer {
                    send(&tx, n);
                }
            })
        })
        .collect();
    drop(tx);
    start_line.wait();
    let start = Instant::now();
    let mut sum = 0u64;
    for _ in 0..per_producer * producers {
        sum = sum.wrapping_add(recv(&rx));
    }
    let elapsed = start.elapsed();
    black_box(sum);
    for h in handles {
        h.join().expect("producer panicked");
    }
    elapsed
}

/// One case: `producers` threads into one consumer, for every implementation.
fn case(c: &mut criterion::Criterion, report: &mut Report, name: &str, producers: u64) {
    let figure = Figure::Throughput { items: ITEMS };
    let mut case = report.case(c, name);
    case.bench("smolmq-mailbox", figure, |iters| {
        run(
            iters,
            producers,
            smolmq_mailbox::mailbox::<u64>(),
            |tx, n| tx.send(n).expect("receiver alive"),
            |rx| rx.recv_blocking().expect("producers alive"),
        )
    });
    case.bench("async-channel", figure, |iters| {
        run(
            iters,
            producers,
            async_channel::unbounded::<u64>(),
            |tx, n| tx.send_blocking(n).expect("receiver alive"),
            |rx| rx.recv_blocking().expect("producers alive"),
        )
    });
    case.bench("std-mpsc", figure, |iters| {
        run(
            iters,
            producers,
            std::sync::mpsc::channel::<u64>(),
            |tx, n| tx.send(n).expect("receiver alive"),
            |rx| rx.recv().expect("producers alive"),
        )
    });
    case.finish();
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("mailbox");
    case(&mut c, &mut report, "mpsc_1p_u64", 1);
    case(&mut c, &mut report, "mpsc_4p_u64", 4);
    report.print();
    c.final_summary();
}
