//! Disconnection both ways, and what becomes of the commands left behind.

mod common;

use common::{drop_counter, drops, within, Counted, HANG};
use futures_lite::future::block_on;
use smolmq_mailbox::{mailbox, RecvError, RecvTimeoutError, SendError, TryRecvError};
use std::thread;
use std::time::Duration;

#[test]
fn last_sender_dropped_disconnects_after_draining() {
    let (tx, mut rx) = mailbox();
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    tx2.send(2).unwrap();
    drop(tx);
    // One sender is still alive.
    assert!(!rx.is_disconnected());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx2.send(3).unwrap();
    drop(tx2);
    assert!(rx.is_disconnected());
    // What was sent still comes out, then the disconnection, in every form.
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(rx.recv_blocking(), Err(RecvError));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Err(RecvTimeoutError::Disconnected)
    );
    assert_eq!(block_on(rx.recv()), Err(RecvError));
}

#[test]
fn every_receive_form_drains_before_disconnecting() {
    let (tx, mut rx) = mailbox();
    for n in 0..4 {
        tx.send(n).unwrap();
    }
    drop(tx);
    assert_eq!(rx.recv_blocking(), Ok(0));
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(1));
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn blocked_receiver_is_woken_by_the_last_sender_drop() {
    within(HANG, || {
        let (tx, rx) = mailbox::<u8>();
        let tx2 = tx.clone();
        let reader = thread::spawn(move || rx.recv_blocking());
        thread::sleep(Duration::from_millis(50));
        drop(tx);
        thread::sleep(Duration::from_millis(20));
        drop(tx2);
        assert_eq!(reader.join().unwrap(), Err(RecvError));
    });
}

#[test]
fn timed_receiver_is_woken_by_the_last_sender_drop() {
    within(HANG, || {
        let (tx, rx) = mailbox::<u8>();
        let reader = thread::spawn(move || rx.recv_timeout(HANG));
        thread::sleep(Duration::from_millis(50));
        drop(tx);
        assert_eq!(reader.join().unwrap(), Err(RecvTimeoutError::Disconnected));
    });
}

#[test]
fn async_receiver_is_woken_by_the_last_sender_drop() {
    within(HANG, || {
        let (tx, mut rx) = mailbox::<u8>();
        let reader = thread::spawn(move || block_on(rx.recv()));
        thread::sleep(Duration::from_millis(50));
        drop(tx);
        assert_eq!(reader.join().unwrap(), Err(RecvError));
    });
}

#[test]
fn receiver_dropped_hands_the_command_back() {
    let (tx, rx) = mailbox();
    let tx2 = tx.clone();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed() && tx2.is_closed());
    let err = tx.send(String::from("attach")).unwrap_err();
    assert_eq!(err, SendError(String::from("attach")));
    assert_eq!(err.into_inner(), "attach");
    assert_eq!(tx2.send(String::from("bind")).unwrap_err().0, "bind");
}

#[test]
fn receiver_dropped_while_senders_send() {
    within(HANG, || {
        let (tx, rx) = mailbox::<u64>();
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || {
                    // Send until the receiver goes; every refused command
                    // comes back intact.
                    for n in 0..10_000_000u64 {
                        if let Err(e) = tx.send(n) {
                            assert_eq!(e.into_inner(), n);
                            return true;
                        }
                    }
                    false
                })
            })
            .collect();
        drop(tx);
        for _ in 0..1000 {
            rx.recv_blocking().unwrap();
        }
        drop(rx);
        for s in senders {
            assert!(s.join().unwrap(), "a sender never saw the receiver go");
        }
    });
}

#[test]
fn receiver_dropped_drops_queued_commands() {
    let counter = drop_counter();
    let (tx, rx) = mailbox();
    for _ in 0..100 {
        tx.send(Counted::new(&counter)).unwrap();
    }
    drop(rx.try_recv().unwrap());
    assert_eq!(drops(&counter), 1);
    // The queued commands go with the receiver, though a sender lives on.
    drop(rx);
    assert_eq!(drops(&counter), 100);
    // A refused command is handed back, and dropped with the error.
    let err = tx.send(Counted::new(&counter)).unwrap_err();
    assert_eq!(drops(&counter), 100);
    drop(err);
    assert_eq!(drops(&counter), 101);
    drop(tx);
    assert_eq!(drops(&counter), 101);
}

#[test]
fn senders_then_receiver_dropped_drops_queued_commands() {
    let counter = drop_counter();
    let (tx, rx) = mailbox();
    // More than one block of the queue.
    for _ in 0..1000 {
        tx.send(Counted::new(&counter)).unwrap();
    }
    drop(tx);
    assert_eq!(drops(&counter), 0);
    drop(rx);
    assert_eq!(drops(&counter), 1000);
}

#[test]
fn everything_dropped_from_threads_drops_every_command() {
    within(HANG, || {
        let counter = drop_counter();
        let (tx, rx) = mailbox();
        let senders: Vec<_> = (0..4)
            .map(|_| {
                let tx = tx.clone();
                let counter = counter.clone();
                thread::spawn(move || {
                    for _ in 0..10_000 {
                        tx.send(Counted::new(&counter)).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        // Take some, leave the rest queued.
        for _ in 0..5_000 {
            drop(rx.recv_blocking().unwrap());
        }
        for s in senders {
            s.join().unwrap();
        }
        drop(rx);
        assert_eq!(drops(&counter), 40_000);
    });
}

#[test]
fn errors_read_well() {
    assert!(SendError(1).to_string().contains("receiver is gone"));
    assert_eq!(format!("{:?}", SendError(1)), "SendError(..)");
    assert!(TryRecvError::Empty.is_empty());
    assert!(TryRecvError::Disconnected.is_disconnected());
    assert!(RecvTimeoutError::Timeout.is_timeout());
    assert!(RecvTimeoutError::Disconnected.is_disconnected());
    assert_eq!(TryRecvError::from(RecvError), TryRecvError::Disconnected);
    assert_eq!(
        RecvTimeoutError::from(RecvError),
        RecvTimeoutError::Disconnected
    );
    // Boxable as errors that cross threads.
    let errors: Vec<Box<dyn std::error::Error + Send + Sync>> = vec![
        Box::new(SendError(1)),
        Box::new(TryRecvError::Empty),
        Box::new(RecvError),
        Box::new(RecvTimeoutError::Timeout),
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
}
