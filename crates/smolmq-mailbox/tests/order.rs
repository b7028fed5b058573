//! Many producers, one consumer: every command arrives exactly once, and the
//! commands of each producer arrive in the order it sent them.

mod common;

use common::{within, HANG};
use futures_lite::future::block_on;
use smolmq_mailbox::{mailbox, Receiver, RecvError, Sender};
use std::thread;
use std::time::Instant;

/// Producers in the stress tests.
const PRODUCERS: usize = 4;

/// A command of the stress tests: the producer's id and its sequence number.
type Cmd = (usize, u64);

/// One way to receive a command.
type RecvFn = fn(&mut Receiver<Cmd>) -> Result<Cmd, RecvError>;

/// Starts `PRODUCERS` threads, each sending `(id, 0..per_producer)`; the
/// mailbox disconnects when they are all done.
fn spawn_producers(tx: Sender<Cmd>, per_producer: u64) -> Vec<thread::JoinHandle<()>> {
    let handles = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for seq in 0..per_producer {
                    tx.send((id, seq)).expect("the receiver is alive");
                }
            })
        })
        .collect();
    drop(tx);
    handles
}

/// Receives with `recv` until it fails, checking that every producer's
/// sequence numbers arrive in order, none missing and none twice.
fn drain_checked(rx: &mut Receiver<Cmd>, per_producer: u64, recv: RecvFn) {
    let mut next = [0u64; PRODUCERS];
    let total = PRODUCERS as u64 * per_producer;
    for _ in 0..total {
        let (id, seq) = recv(rx).expect("disconnected before every command arrived");
        assert_eq!(
            seq, next[id],
            "producer {id}: out of order, lost or duplicated"
        );
        next[id] += 1;
    }
    assert_eq!(next, [per_producer; PRODUCERS]);
    // Every producer is done and gone: nothing more, and the mailbox says so.
    assert_eq!(recv(rx), Err(RecvError));
    assert_eq!(recv(rx), Err(RecvError));
}

/// Runs one stress round and reports its wall time.
fn stress(name: &str, per_producer: u64, recv: RecvFn) {
    let name = name.to_owned();
    within(HANG, move || {
        let start = Instant::now();
        let (tx, mut rx) = mailbox();
        let producers = spawn_producers(tx, per_producer);
        drain_checked(&mut rx, per_producer, recv);
        for p in producers {
            p.join().expect("producer panicked");
        }
        eprintln!(
            "{name}: {PRODUCERS} x {per_producer} commands in {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn four_producers_million_each_blocking() {
    stress("blocking", 1_000_000, |rx| rx.recv_blocking());
}

#[test]
fn four_producers_async() {
    stress("async", 1_000_000, |rx| block_on(rx.recv()));
}

#[test]
fn four_producers_try_recv_with_timeout_fallback() {
    // The non-blocking path first, the timed sleep only when empty.
    stress("try+timeout", 250_000, |rx| loop {
        match rx.try_recv() {
            Ok(cmd) => return Ok(cmd),
            Err(e) if e.is_disconnected() => return Err(RecvError),
            Err(_) => match rx.recv_timeout(std::time::Duration::from_millis(1)) {
                Ok(cmd) => return Ok(cmd),
                Err(e) if e.is_disconnected() => return Err(RecvError),
                Err(_) => continue,
            },
        }
    });
}

#[test]
fn one_async_task_drains_everything() {
    // One future per command above; here one task awaits them all.
    within(HANG, || {
        let (tx, mut rx) = mailbox();
        let producers = spawn_producers(tx, 100_000);
        let next = block_on(async {
            let mut next = [0u64; PRODUCERS];
            while let Ok((id, seq)) = rx.recv().await {
                assert_eq!(seq, next[id]);
                next[id] += 1;
            }
            next
        });
        assert_eq!(next, [100_000; PRODUCERS]);
        for p in producers {
            p.join().unwrap();
        }
    });
}

#[test]
fn single_thread_order() {
    let (tx, rx) = mailbox();
    for n in 0..1000 {
        tx.send(n).unwrap();
    }
    assert_eq!(rx.len(), 1000);
    assert!(rx.try_iter().eq(0..1000));
    assert!(rx.is_empty());
}
