//! Single-threaded behaviour of a pipe: ordering, visibility of incomplete
//! groups, unwrite, the sleep flag, chunk boundaries and drop.

use smolmq_ypipe::{with_chunk_size, ypipe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn items_arrive_in_order_after_flush() {
    let (mut tx, mut rx) = ypipe::<u32>();
    for i in 0..1000 {
        tx.write(i, false);
    }
    assert_eq!(rx.read(), None, "nothing is visible before a flush");
    let _ = tx.flush();
    for i in 0..1000 {
        assert_eq!(rx.read(), Some(i));
    }
    assert_eq!(rx.read(), None);
}

#[test]
fn flush_reports_a_sleeping_reader_exactly_once() {
    let (mut tx, mut rx) = ypipe::<u8>();
    assert!(tx.flush(), "nothing to publish: nothing to wake");
    tx.write(1, false);
    assert!(tx.flush(), "the reader has not gone to sleep yet");
    assert_eq!(rx.read(), Some(1));
    assert_eq!(rx.read(), None); // now asleep
    assert!(!rx.check_read(), "still asleep");
    assert!(tx.flush(), "an empty flush does not wake anybody");
    tx.write(2, false);
    assert!(
        !tx.flush(),
        "publishing to a sleeper must ask for a wake-up"
    );
    tx.write(3, false);
    assert!(
        tx.flush(),
        "the reader was woken (logically) and is awake now"
    );
    assert_eq!(rx.read(), Some(2));
    assert_eq!(rx.read(), Some(3));
}

#[test]
fn check_read_does_not_consume() {
    let (mut tx, mut rx) = ypipe::<u8>();
    tx.write(7, false);
    let _ = tx.flush();
    assert!(rx.check_read());
    assert!(rx.check_read());
    assert_eq!(rx.peek(), Some(&7));
    assert_eq!(rx.read(), Some(7));
    assert!(!rx.check_read());
}

#[test]
fn incomplete_groups_appear_whole() {
    let (mut tx, mut rx) = with_chunk_size::<u32, 3>();
    tx.write(1, true);
    tx.write(2, true);
    let _ = tx.flush();
    assert_eq!(rx.read(), None, "an incomplete group stays invisible");
    tx.write(3, true);
    tx.write(4, false);
    assert!(!tx.flush(), "the reader slept and must be woken");
    assert_eq!(rx.read(), Some(1));
    assert_eq!(rx.read(), Some(2));
    assert_eq!(rx.read(), Some(3));
    assert_eq!(rx.read(), Some(4));
    assert_eq!(rx.read(), None);
}

#[test]
fn unwrite_takes_back_only_incomplete_items() {
    let (mut tx, mut rx) = with_chunk_size::<u32, 2>();
    tx.write(10, false);
    assert_eq!(tx.unwrite(), None, "a complete item belongs to the reader");
    // An incomplete group spanning three chunk boundaries.
    for i in 0..7 {
        tx.write(i, true);
    }
    for i in (0..7).rev() {
        assert_eq!(tx.unwrite(), Some(i));
    }
    assert_eq!(tx.unwrite(), None);
    // The pipe is intact after stepping back across chunks.
    tx.write(11, true);
    tx.write(12, false);
    let _ = tx.flush();
    assert_eq!(rx.read(), Some(10));
    assert_eq!(rx.read(), Some(11));
    assert_eq!(rx.read(), Some(12));
    assert_eq!(rx.read(), None);
}

#[test]
fn every_chunk_size_keeps_order_across_boundaries() {
    fn run<const N: usize>() {
        let (mut tx, mut rx) = with_chunk_size::<usize, N>();
        let mut next = 0;
        // Interleave writes and reads so the reader recycles chunks the
        // writer then reuses.
        for round in 0..50 {
            for i in 0..round % 7 + 1 {
                tx.write(round * 100 + i, false);
            }
            let _ = tx.flush();
            for i in 0..round % 7 + 1 {
                assert_eq!(rx.read(), Some(round * 100 + i), "N = {N}");
                next += 1;
            }
            assert_eq!(rx.read(), None);
        }
        assert_eq!(next, (0..50).map(|r| r % 7 + 1).sum::<usize>());
    }
    run::<1>();
    run::<2>();
    run::<3>();
    run::<16>();
    run::<256>();
}

#[test]
fn zero_sized_items_are_counted() {
    let (mut tx, mut rx) = with_chunk_size::<(), 4>();
    for _ in 0..10 {
        tx.write((), false);
    }
    let _ = tx.flush();
    assert_eq!((0..10).filter_map(|_| rx.read()).count(), 10);
    assert_eq!(rx.read(), None);
}

/// Counts drops of its values.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn items_left_inside_are_dropped_whichever_half_goes_last() {
    for reader_first in [false, true] {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = with_chunk_size::<Counted, 4>();
        // Flushed, partly read; then complete but unflushed; then incomplete.
        for _ in 0..9 {
            tx.write(Counted(drops.clone()), false);
        }
        let _ = tx.flush();
        for _ in 0..3 {
            drop(rx.read().unwrap());
        }
        tx.write(Counted(drops.clone()), false);
        tx.write(Counted(drops.clone()), true);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        if reader_first {
            drop(rx);
            assert!(tx.is_reader_gone());
            drop(tx);
        } else {
            drop(tx);
            assert!(rx.is_writer_gone());
            // What was flushed is still readable after the writer left.
            let mut left = 0;
            while let Some(item) = rx.read() {
                drop(item);
                left += 1;
            }
            assert_eq!(left, 6);
            drop(rx);
        }
        assert_eq!(
            drops.load(Ordering::SeqCst),
            11,
            "reader_first = {reader_first}"
        );
    }
}

#[test]
fn unwritten_items_are_handed_back_not_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (mut tx, rx) = with_chunk_size::<Counted, 2>();
    tx.write(Counted(drops.clone()), true);
    tx.write(Counted(drops.clone()), true);
    let a = tx.unwrite().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop((tx, rx));
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn halves_report_each_other_gone() {
    let (tx, rx) = ypipe::<u8>();
    assert!(!tx.is_reader_gone());
    assert!(!rx.is_writer_gone());
    drop(tx);
    assert!(rx.is_writer_gone());
}
