//! The reader sleeps on an empty mailbox and a later send wakes it.

mod common;

use common::{within, HANG};
use futures_lite::future::{self, block_on};
use smolmq_mailbox::{mailbox, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// Long enough for the receiving thread to be asleep, most of the time, by
/// the moment the command is sent. The tests pass either way.
const SETTLE: Duration = Duration::from_millis(50);

#[test]
fn blocked_receiver_is_woken_by_a_send() {
    within(HANG, || {
        let (tx, rx) = mailbox();
        let reader = thread::spawn(move || rx.recv_blocking());
        thread::sleep(SETTLE);
        tx.send(7u32).unwrap();
        assert_eq!(reader.join().unwrap(), Ok(7));
    });
}

#[test]
fn timed_receiver_is_woken_by_a_send() {
    within(HANG, || {
        let (tx, rx) = mailbox();
        let reader = thread::spawn(move || rx.recv_timeout(HANG));
        thread::sleep(SETTLE);
        tx.send(7u32).unwrap();
        assert_eq!(reader.join().unwrap(), Ok(7));
    });
}

#[test]
fn async_receiver_is_woken_by_a_send() {
    within(HANG, || {
        let (tx, mut rx) = mailbox();
        let reader = thread::spawn(move || block_on(rx.recv()));
        thread::sleep(SETTLE);
        tx.send(7u32).unwrap();
        assert_eq!(reader.join().unwrap(), Ok(7));
    });
}

#[test]
fn receiver_sleeps_again_after_each_command() {
    within(HANG, || {
        let (tx, rx) = mailbox();
        let reader = thread::spawn(move || {
            (0..5)
                .map(|_| rx.recv_blocking().unwrap())
                .collect::<Vec<u32>>()
        });
        for n in 0..5 {
            thread::sleep(SETTLE / 5);
            tx.send(n).unwrap();
        }
        assert_eq!(reader.join().unwrap(), vec![0, 1, 2, 3, 4]);
    });
}

/// Bounces a counter between two threads through two mailboxes, so each
/// side empties its mailbox and sleeps before nearly every command: a lost
/// wake-up anywhere in the sleep protocol hangs this test.
fn ping_pong(rounds: u32, recv: fn(&mut smolmq_mailbox::Receiver<u32>) -> u32) {
    within(HANG, move || {
        let (ping_tx, mut ping_rx) = mailbox::<u32>();
        let (pong_tx, mut pong_rx) = mailbox::<u32>();
        let echo = thread::spawn(move || {
            for _ in 0..rounds {
                let n = recv(&mut ping_rx);
                pong_tx.send(n + 1).unwrap();
            }
        });
        let mut n = 0;
        for _ in 0..rounds {
            ping_tx.send(n).unwrap();
            n = recv(&mut pong_rx);
        }
        assert_eq!(n, rounds);
        echo.join().unwrap();
    });
}

#[test]
fn ping_pong_blocking() {
    ping_pong(20_000, |rx| rx.recv_blocking().unwrap());
}

#[test]
fn ping_pong_timeout() {
    ping_pong(20_000, |rx| loop {
        match rx.recv_timeout(Duration::from_micros(50)) {
            Ok(n) => return n,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => panic!("disconnected"),
        }
    });
}

#[test]
fn ping_pong_async() {
    ping_pong(20_000, |rx| block_on(rx.recv()).unwrap());
}

#[test]
fn dropping_a_waiting_future_loses_nothing() {
    within(HANG, || {
        let (tx, mut rx) = mailbox();
        // Poll once so that the future announces its sleep and waits, then
        // drop it.
        let mut waiting = Box::pin(rx.recv());
        assert!(block_on(future::poll_once(&mut waiting)).is_none());
        drop(waiting);
        tx.send(1u32).unwrap();
        assert_eq!(rx.try_recv(), Ok(1));
        // A send while a future waits, and one after it was dropped.
        let mut waiting = Box::pin(rx.recv());
        assert!(block_on(future::poll_once(&mut waiting)).is_none());
        tx.send(2).unwrap();
        assert_eq!(block_on(waiting), Ok(2));
        let reader = thread::spawn(move || rx.recv_blocking());
        thread::sleep(SETTLE);
        tx.send(3).unwrap();
        assert_eq!(reader.join().unwrap(), Ok(3));
    });
}

#[test]
fn async_receive_races_with_senders() {
    // Many short bursts from several threads while one task awaits: the
    // reader keeps falling asleep between bursts.
    within(HANG, || {
        let (tx, mut rx) = mailbox::<u32>();
        let senders: Vec<_> = (0..3)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for burst in 0..200 {
                        for n in 0..10 {
                            tx.send(burst * 10 + n).unwrap();
                        }
                        thread::yield_now();
                    }
                })
            })
            .collect();
        drop(tx);
        let received = block_on(async {
            let mut count = 0;
            while rx.recv().await.is_ok() {
                count += 1;
            }
            count
        });
        assert_eq!(received, 3 * 2000);
        for s in senders {
            s.join().unwrap();
        }
    });
}

/// Ping-pong between a thread and an async task on another thread: the task
/// finds its mailbox empty and sleeps on its waker before almost every
/// command, so every round tests the hand-off of its announcement (a lost
/// wake-up hangs the test; a duplicated or reordered command fails it).
#[test]
fn async_receiver_in_ping_pong_is_woken_every_round() {
    const ROUNDS: u32 = 20_000;
    within(HANG, || {
        let (to_task, mut task_rx) = mailbox::<u32>();
        let (to_thread, thread_rx) = mailbox::<u32>();
        let task = thread::spawn(move || {
            block_on(async move {
                for want in 0..ROUNDS {
                    let got = task_rx.recv().await.unwrap();
                    assert_eq!(got, want);
                    to_thread.send(got).unwrap();
                }
                // The sender is gone after the last round: the task sees
                // the disconnection rather than waiting forever.
                assert!(task_rx.recv().await.is_err());
            })
        });
        for n in 0..ROUNDS {
            to_task.send(n).unwrap();
            assert_eq!(thread_rx.recv_blocking(), Ok(n));
        }
        drop(to_task);
        task.join().unwrap();
    });
}
