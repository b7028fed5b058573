//! Loom models of the flush / sleep protocol and of chunk recycling.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p smolmq-ypipe --test loom --release
//! ```
//!
//! Every model runs a writer and a reader on two loom threads; the reader
//! sleeps on a `loom::sync::Notify` whenever the pipe is empty, and the
//! writer notifies only when `flush` returns `false`. A lost wake-up leaves
//! the reader blocked for ever, which loom reports as a deadlock; a data race
//! on a slot or a link, or a use after free of a recycled chunk, is reported
//! as such.
#![cfg(loom)]

use loom::sync::{Arc, Notify};
use loom::thread;
use smolmq_ypipe::with_chunk_size;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reads `count` items, sleeping on `wake` whenever the pipe is empty.
fn read_n<const N: usize>(
    rx: &mut smolmq_ypipe::Reader<usize, N>,
    wake: &Notify,
    count: usize,
) -> Vec<usize> {
    let mut got = Vec::new();
    while got.len() < count {
        match rx.read() {
            Some(v) => got.push(v),
            None => wake.wait(),
        }
    }
    got
}

#[test]
fn no_lost_wakeup_item_by_item() {
    loom::model(|| {
        let wake = Arc::new(Notify::new());
        let (mut tx, mut rx) = with_chunk_size::<usize, 2>();
        let w = wake.clone();
        let reader = thread::spawn(move || read_n(&mut rx, &w, 3));
        for i in 0..3 {
            tx.write(i, false);
            if !tx.flush() {
                wake.notify();
            }
        }
        assert_eq!(reader.join().unwrap(), vec![0, 1, 2]);
    });
}

#[test]
fn no_lost_wakeup_in_batches_across_chunks() {
    loom::model(|| {
        let wake = Arc::new(Notify::new());
        // Chunks of one slot: every item crosses a chunk boundary, so the
        // spare chunk passes between the threads all the time.
        let (mut tx, mut rx) = with_chunk_size::<usize, 1>();
        let w = wake.clone();
        let reader = thread::spawn(move || read_n(&mut rx, &w, 4));
        for batch in [[0, 1], [2, 3]] {
            for i in batch {
                tx.write(i, false);
            }
            if !tx.flush() {
                wake.notify();
            }
        }
        assert_eq!(reader.join().unwrap(), vec![0, 1, 2, 3]);
    });
}

#[test]
fn incomplete_groups_are_seen_whole() {
    loom::model(|| {
        let wake = Arc::new(Notify::new());
        let (mut tx, mut rx) = with_chunk_size::<usize, 2>();
        let w = wake.clone();
        let reader = thread::spawn(move || {
            // Whenever the first part of the group is readable, so is the
            // second: the group was published whole.
            loop {
                match rx.read() {
                    Some(first) => {
                        assert_eq!(first, 10);
                        assert_eq!(rx.read(), Some(11));
                        return;
                    }
                    None => w.wait(),
                }
            }
        });
        tx.write(10, true);
        // A flush in the middle of the group publishes nothing.
        if !tx.flush() {
            wake.notify();
        }
        tx.write(11, false);
        if !tx.flush() {
            wake.notify();
        }
        reader.join().unwrap();
    });
}

#[test]
fn unwrite_while_reader_drains() {
    loom::model(|| {
        let wake = Arc::new(Notify::new());
        let (mut tx, mut rx) = with_chunk_size::<usize, 1>();
        let w = wake.clone();
        let reader = thread::spawn(move || read_n(&mut rx, &w, 2));
        tx.write(0, false);
        if !tx.flush() {
            wake.notify();
        }
        // Roll back an incomplete item across a chunk boundary while the
        // reader may be recycling the chunk before it.
        tx.write(99, true);
        assert_eq!(tx.unwrite(), Some(99));
        tx.write(1, false);
        if !tx.flush() {
            wake.notify();
        }
        assert_eq!(reader.join().unwrap(), vec![0, 1]);
    });
}

/// Counts drops (std atomics: the count is checked after the threads end).
struct Counted(std::sync::Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn concurrent_drops_free_everything_once() {
    loom::model(|| {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = with_chunk_size::<Counted, 1>();
        let reader = thread::spawn(move || {
            // Take at most one item, then leave while the writer works.
            drop(rx.read());
        });
        for _ in 0..2 {
            tx.write(Counted(drops.clone()), false);
            let _ = tx.flush();
        }
        tx.write(Counted(drops.clone()), true);
        drop(tx);
        reader.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    });
}
