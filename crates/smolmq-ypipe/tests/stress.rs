//! Ten million items across two threads, in order, under several flush
//! patterns, with the reader sleeping (thread park) whenever the pipe is
//! empty and woken only when `flush` says so. A lost wake-up shows up as a
//! reader stuck asleep, which the test reports instead of hanging.

use smolmq_ypipe::{with_chunk_size, Reader, Writer};
use std::thread;
use std::time::{Duration, Instant};

/// Longest a reader may sleep without being woken before the test calls it a
/// lost wake-up. Generous: the machine may be slow and busy.
const LOST_WAKEUP: Duration = Duration::from_secs(30);

/// How the writer groups and publishes its items.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// Flush after every item.
    EveryItem,
    /// Flush after every `n` items.
    Batch(u64),
    /// Messages of 1..=7 parts (all but the last incomplete), flush after
    /// each message.
    Multipart,
}

fn run<const N: usize>(items: u64, pattern: Pattern) {
    let (tx, rx) = with_chunk_size::<u64, N>();
    let reader = thread::spawn(move || read_all(rx, items, pattern));
    write_all(tx, items, pattern, reader.thread().clone());
    reader.join().expect("reader thread panicked");
}

fn write_all<const N: usize>(
    mut tx: Writer<u64, N>,
    items: u64,
    pattern: Pattern,
    reader: thread::Thread,
) {
    let mut part = 0;
    for i in 0..items {
        let incomplete = match pattern {
            Pattern::Multipart => {
                // Message lengths cycle 1..=7; the last item always ends one.
                let len = i / 7 % 7 + 1;
                part += 1;
                let last = part == len || i + 1 == items;
                if last {
                    part = 0;
                }
                !last
            }
            _ => false,
        };
        tx.write(i, incomplete);
        let flush = match pattern {
            Pattern::EveryItem => true,
            Pattern::Batch(n) => i % n == n - 1 || i + 1 == items,
            Pattern::Multipart => !incomplete,
        };
        if flush && !tx.flush() {
            reader.unpark();
        }
    }
}

fn read_all<const N: usize>(mut rx: Reader<u64, N>, items: u64, pattern: Pattern) {
    let mut expected = 0;
    while expected < items {
        match rx.read() {
            Some(i) => {
                assert_eq!(i, expected, "out of order ({pattern:?}, N = {N})");
                expected += 1;
            }
            None => {
                let slept = Instant::now();
                // Woken by the writer's unpark (or spuriously); a protocol
                // bug would leave us here with items flushed and unread.
                while !rx.check_read() {
                    assert!(
                        slept.elapsed() < LOST_WAKEUP,
                        "reader asleep for {LOST_WAKEUP:?} at item {expected}: lost wake-up \
                         ({pattern:?}, N = {N})"
                    );
                    thread::park_timeout(Duration::from_millis(100));
                }
            }
        }
    }
    assert_eq!(rx.read(), None, "more items than were written");
}

#[test]
fn ten_million_items_batched_in_order() {
    run::<256>(10_000_000, Pattern::Batch(256));
}

#[test]
fn one_million_items_flushed_one_by_one() {
    run::<256>(1_000_000, Pattern::EveryItem);
}

#[test]
fn multipart_messages_cross_small_chunks_in_order() {
    run::<3>(1_000_000, Pattern::Multipart);
}

#[test]
fn batches_with_single_slot_chunks() {
    run::<1>(300_000, Pattern::Batch(5));
}

#[test]
fn multipart_messages_are_never_seen_in_part() {
    // The writer publishes whole messages only; once the reader has the
    // first part of a message, the rest must be readable without waiting.
    let (mut tx, mut rx) = with_chunk_size::<(u32, bool), 4>();
    const MESSAGES: u32 = 200_000;
    let reader = thread::spawn(move || {
        let mut seen = 0;
        let started = Instant::now();
        while seen < MESSAGES {
            let Some((id, mut more)) = rx.read() else {
                assert!(started.elapsed() < LOST_WAKEUP * 4, "reader stalled");
                thread::yield_now();
                continue;
            };
            while more {
                let (part_id, m) = rx.read().expect("a message was published in part");
                assert_eq!(part_id, id);
                more = m;
            }
            seen += 1;
        }
    });
    for id in 0..MESSAGES {
        let parts = id % 5 + 1;
        for p in 0..parts {
            let more = p + 1 < parts;
            tx.write((id, more), more);
        }
        let _ = tx.flush();
    }
    reader.join().expect("reader thread panicked");
}
