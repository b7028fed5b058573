//! Loom models of the pipe's wake-up protocol: a writer stopped at the
//! high-water mark is always woken when the reader makes room, and a reader
//! that found the pipe empty is always woken by the next flush.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p smolmq-core --test loom --release
//! ```
#![cfg(loom)]

use loom::sync::Notify;
use loom::thread;
use smolmq_core::pipe::{pipe_pair, Pipe, PipeEvents, WriteError};
use std::sync::Arc;

/// A sink that wakes one loom thread.
struct Wake(Notify);

impl PipeEvents for Wake {
    fn readable(&self, _: usize) {
        self.0.notify();
    }
    fn writable(&self, _: usize) {
        self.0.notify();
    }
    fn closed(&self, _: usize) {
        self.0.notify();
    }
}

/// A pipe pair with a loom waker attached to each end: (writer's end,
/// reader's end, writer's waker, reader's waker).
fn woken_pair(hwm: usize) -> (Pipe<usize>, Pipe<usize>, Arc<Wake>, Arc<Wake>) {
    let (mut tx, mut rx) = pipe_pair::<usize>(hwm, 0);
    let tx_wake = Arc::new(Wake(Notify::new()));
    let rx_wake = Arc::new(Wake(Notify::new()));
    tx.attach(tx_wake.clone(), 0);
    rx.attach(rx_wake.clone(), 1);
    (tx, rx, tx_wake, rx_wake)
}

/// A reader thread that takes two messages, sleeping on `wake` when the
/// pipe is empty. It hands its end back rather than dropping it: a drop
/// would wake the writer too (`closed`), hiding a lost `writable`.
fn read_two(mut rx: Pipe<usize>, wake: Arc<Wake>) -> thread::JoinHandle<(Vec<usize>, Pipe<usize>)> {
    thread::spawn(move || {
        let mut got = Vec::new();
        while got.len() < 2 {
            match rx.read() {
                Some(m) => got.push(m),
                None => wake.0.wait(),
            }
        }
        (got, rx)
    })
}

#[test]
fn writer_at_hwm_is_woken_by_the_reader() {
    loom::model(|| {
        // HWM 1: every second message waits for the reader's report.
        let (mut tx, rx, tx_wake, rx_wake) = woken_pair(1);
        let reader = read_two(rx, rx_wake);
        for i in 0..2 {
            let mut msg = i;
            loop {
                match tx.write(msg) {
                    Ok(()) => break,
                    Err(WriteError::Full(m)) => {
                        msg = m;
                        tx_wake.0.wait();
                    }
                    Err(WriteError::Closed(_)) => unreachable!(),
                }
            }
            tx.flush();
        }
        let (got, _rx) = reader.join().unwrap();
        assert_eq!(got, vec![0, 1]);
    });
}

#[test]
fn closing_wakes_a_writer_waiting_for_room() {
    loom::model(|| {
        let (mut tx, rx) = pipe_pair::<usize>(1, 0);
        let tx_wake = Arc::new(Wake(Notify::new()));
        tx.attach(tx_wake.clone(), 0);
        let reader = thread::spawn(move || drop(rx));
        tx.write(0).unwrap();
        loop {
            match tx.write(1) {
                Ok(()) => unreachable!("HWM 1 and no reads"),
                Err(WriteError::Full(_)) => tx_wake.0.wait(),
                Err(WriteError::Closed(_)) => break,
            }
        }
        reader.join().unwrap();
    });
}

#[test]
fn patient_reader_is_woken_by_the_next_flush() {
    loom::model(|| {
        // The reader looks a few times without announcing sleep, then
        // announces it: a flush at any point in between either is seen by
        // a look or wakes the reader.
        let (mut tx, mut rx) = pipe_pair::<usize>(0, 0);
        let rx_wake = Arc::new(Wake(Notify::new()));
        rx.attach(rx_wake.clone(), 1);
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 2 {
                match rx.read_patiently() {
                    Some(m) => got.push(m),
                    None => rx_wake.0.wait(),
                }
            }
            got
        });
        for i in 0..2 {
            tx.write(i).unwrap();
            tx.flush();
        }
        assert_eq!(reader.join().unwrap(), vec![0, 1]);
    });
}

#[test]
fn writer_waiting_for_its_lead_is_woken_by_the_reader() {
    loom::model(|| {
        // No HWM: the writer asks for the reader's count before writing
        // (as pacing does, a few reports before it waits), writes two
        // messages and waits until the reader has taken both. Every
        // interleaving either sees the reader's report in `wait_lead` or
        // gets the wake-up.
        let (mut tx, rx, tx_wake, rx_wake) = woken_pair(0);
        assert_eq!(tx.lead(), 0);
        tx.write(0).unwrap();
        tx.write(1).unwrap();
        let reader = read_two(rx, rx_wake);
        while !tx.wait_lead(1) {
            tx_wake.0.wait();
        }
        assert_eq!(tx.lead(), 0);
        let (got, _rx) = reader.join().unwrap();
        assert_eq!(got, vec![0, 1]);
    });
}
