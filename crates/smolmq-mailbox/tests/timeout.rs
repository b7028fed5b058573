//! `recv_timeout` on an empty mailbox gives up in time.

mod common;

use common::{within, HANG};
use smolmq_mailbox::{mailbox, RecvTimeoutError};
use std::time::{Duration, Instant};

#[test]
fn times_out_on_empty() {
    within(HANG, || {
        let (_tx, rx) = mailbox::<u8>();
        let timeout = Duration::from_millis(100);
        let start = Instant::now();
        assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
        // Never early; how late depends on the machine, so only hangs fail.
        assert!(start.elapsed() >= timeout);
        // And the mailbox still works after a timeout.
        _tx.send(1).unwrap();
        assert_eq!(rx.recv_timeout(timeout), Ok(1));
    });
}

#[test]
fn zero_timeout_is_a_try() {
    let (tx, rx) = mailbox::<u8>();
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout)
    );
    tx.send(1).unwrap();
    assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1));
}

#[test]
fn deadline_in_the_past_is_a_try() {
    let (tx, rx) = mailbox::<u8>();
    let past = Instant::now();
    assert_eq!(rx.recv_deadline(past), Err(RecvTimeoutError::Timeout));
    tx.send(1).unwrap();
    assert_eq!(rx.recv_deadline(past), Ok(1));
}

#[test]
fn repeated_timeouts_leave_no_stale_state() {
    within(HANG, || {
        let (tx, rx) = mailbox::<u32>();
        for n in 0..20 {
            assert_eq!(
                rx.recv_timeout(Duration::from_millis(2)),
                Err(RecvTimeoutError::Timeout)
            );
            tx.send(n).unwrap();
            assert_eq!(rx.recv_timeout(Duration::from_millis(2)), Ok(n));
        }
    });
}

#[test]
fn huge_timeout_does_not_overflow() {
    within(HANG, || {
        let (tx, rx) = mailbox::<u8>();
        tx.send(1).unwrap();
        assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
        drop(tx);
        assert_eq!(
            rx.recv_timeout(Duration::MAX),
            Err(RecvTimeoutError::Disconnected)
        );
    });
}
