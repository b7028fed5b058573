//! Two threads exchanging messages through one pipe in both directions at
//! once, with a tiny HWM, each side sleeping whenever it can neither read
//! nor write and woken only by pipe events. A lost wake-up shows up as a
//! side stuck asleep, which the test reports instead of hanging.

use smolmq_core::pipe::{pipe_pair, Pipe, PipeEvents, WriteError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Longest a side may sleep without an event before the test calls it a
/// lost wake-up. Generous: the machine may be slow and busy.
const LOST_WAKEUP: Duration = Duration::from_secs(30);

/// Wakes one thread; remembers an event that came while it was awake.
struct Waker {
    thread: thread::Thread,
    pending: AtomicBool,
}

impl Waker {
    fn wake(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
    /// Sleeps until an event, or fails the test after `LOST_WAKEUP`.
    fn sleep(&self, what: &str) {
        let since = Instant::now();
        while !self.pending.swap(false, Ordering::SeqCst) {
            assert!(since.elapsed() < LOST_WAKEUP, "lost wake-up: {what}");
            thread::park_timeout(Duration::from_millis(100));
        }
    }
}

impl PipeEvents for Waker {
    fn readable(&self, _: usize) {
        self.wake();
    }
    fn writable(&self, _: usize) {
        self.wake();
    }
    fn closed(&self, _: usize) {
        self.wake();
    }
}

/// Sends `count` numbered messages and receives `count`, in order, both at
/// once; `slow` makes this side a slow consumer.
fn side(mut pipe: Pipe<u64>, count: u64, slow: bool) {
    let waker = Arc::new(Waker {
        thread: thread::current(),
        pending: AtomicBool::new(false),
    });
    pipe.attach(waker.clone(), 0);
    let (mut sent, mut received) = (0u64, 0u64);
    while sent < count || received < count {
        let mut progress = false;
        // Write a burst, up to the HWM.
        while sent < count {
            match pipe.write(sent) {
                Ok(()) => {
                    sent += 1;
                    progress = true;
                }
                Err(WriteError::Full(_)) => break,
                Err(WriteError::Closed(_)) => panic!("peer vanished"),
            }
            if sent % 64 == 0 {
                break; // let reads interleave with writes
            }
        }
        pipe.flush();
        // Read a burst (a slow consumer reads little at a time).
        let burst = if slow { 3 } else { 1000 };
        for _ in 0..burst {
            match pipe.read() {
                Some(m) => {
                    assert_eq!(m, received, "out of order");
                    received += 1;
                    progress = true;
                }
                None => break,
            }
        }
        if slow {
            thread::yield_now();
        }
        if !progress {
            waker.sleep(&format!("sent {sent}, received {received}"));
        }
    }
}

fn run(count: u64, hwm: usize) {
    let (a, b) = pipe_pair::<u64>(hwm, hwm);
    let other = thread::spawn(move || side(b, count, true));
    side(a, count, false);
    other.join().expect("peer thread panicked");
}

#[test]
fn both_directions_hwm_10_slow_consumer() {
    for _ in 0..5 {
        run(200_000, 10);
    }
}

#[test]
fn both_directions_hwm_1() {
    run(50_000, 1);
}

#[test]
fn both_directions_unlimited() {
    run(300_000, 0);
}
