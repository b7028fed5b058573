//! `Signaler`: the wake-up without a file descriptor.

mod common;

use common::{Flag, Watchdog};
use futures_lite::future::block_on;
use smolmq_signaler::Signaler;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

#[test]
fn signal_before_wait_is_kept() {
    let _watchdog = Watchdog::new("signal_before_wait_is_kept");
    let signaler = Signaler::new();
    signaler.signal();
    signaler.wait();

    signaler.signal();
    block_on(signaler.recv());

    // From another thread, finished before the wait starts.
    let signaler = Arc::new(signaler);
    let remote = signaler.clone();
    thread::spawn(move || remote.signal()).join().unwrap();
    signaler.wait();
    let remote = signaler.clone();
    thread::spawn(move || remote.signal()).join().unwrap();
    block_on(signaler.recv());
    assert!(!signaler.try_recv());
}

#[test]
fn signals_coalesce_and_try_recv_consumes() {
    let signaler = Signaler::default();
    assert!(!signaler.try_recv());
    for _ in 0..10 {
        signaler.signal();
    }
    assert!(format!("{signaler:?}").contains("pending: true"));
    assert!(signaler.try_recv());
    assert!(!signaler.try_recv());
    assert!(format!("{signaler:?}").contains("pending: false"));
}

#[test]
fn wait_timeout() {
    let _watchdog = Watchdog::new("wait_timeout");
    let signaler = Arc::new(Signaler::new());
    let start = Instant::now();
    assert!(!signaler.wait_timeout(Duration::from_millis(20)));
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(!signaler.wait_timeout(Duration::ZERO));

    signaler.signal();
    assert!(signaler.wait_timeout(Duration::ZERO));

    let remote = signaler.clone();
    let handle = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        remote.signal();
    });
    assert!(signaler.wait_timeout(Duration::from_secs(60)));
    handle.join().unwrap();

    // An unrepresentable timeout means no timeout.
    signaler.signal();
    assert!(signaler.wait_timeout(Duration::MAX));
}

#[test]
fn round_trips_blocking() {
    const TRIPS: u32 = 1_000_000;
    let _watchdog = Watchdog::new("round_trips_blocking");
    let ping = Arc::new(Signaler::new());
    let pong = Arc::new(Signaler::new());
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || {
            for _ in 0..TRIPS {
                ping.wait();
                pong.signal();
            }
        }
    });
    for trip in 0..TRIPS {
        ping.signal();
        assert!(
            pong.wait_timeout(Duration::from_secs(60)),
            "no reply to trip {trip}"
        );
    }
    echo.join().unwrap();
    assert!(!ping.try_recv() && !pong.try_recv());
}

#[test]
fn round_trips_async() {
    const TRIPS: u32 = 100_000;
    let _watchdog = Watchdog::new("round_trips_async");
    let ping = Arc::new(Signaler::new());
    let pong = Arc::new(Signaler::new());
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || {
            block_on(async {
                for _ in 0..TRIPS {
                    ping.recv().await;
                    pong.signal();
                }
            })
        }
    });
    block_on(async {
        for _ in 0..TRIPS {
            ping.signal();
            pong.recv().await;
        }
    });
    echo.join().unwrap();
    assert!(!ping.try_recv() && !pong.try_recv());
}

/// A thread and a task wait on one signaler; a stream of signals wakes both.
#[test]
fn blocking_and_async_waiters_mixed() {
    const WAKES: usize = 10_000;
    let _watchdog = Watchdog::new("blocking_and_async_waiters_mixed");
    let signaler = Arc::new(Signaler::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters = [false, true].map(|asynchronous| {
        let (signaler, woken) = (signaler.clone(), woken.clone());
        thread::spawn(move || {
            for _ in 0..WAKES {
                if asynchronous {
                    block_on(signaler.recv());
                } else {
                    signaler.wait();
                }
                woken.fetch_add(1, Ordering::SeqCst);
            }
        })
    });
    // Signals coalesce, so keep signalling until both saw enough of them.
    while waiters.iter().any(|waiter| !waiter.is_finished()) {
        signaler.signal();
        thread::yield_now();
    }
    for waiter in waiters {
        waiter.join().unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), 2 * WAKES);
}

/// Several threads wait; each signal wakes one, and every waiter gets its
/// turn.
#[test]
fn many_waiters_all_wake() {
    const WAITERS: usize = 4;
    let _watchdog = Watchdog::new("many_waiters_all_wake");
    let signaler = Arc::new(Signaler::new());
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let signaler = signaler.clone();
            thread::spawn(move || signaler.wait())
        })
        .collect();
    while waiters.iter().any(|waiter| !waiter.is_finished()) {
        signaler.signal();
        thread::sleep(Duration::from_millis(1));
    }
    for waiter in waiters {
        waiter.join().unwrap();
    }
}

/// A future dropped while waiting consumes nothing, and a notification it
/// received passes on to the next waiter.
#[test]
fn dropped_recv_passes_the_signal_on() {
    let signaler = Signaler::new();
    let (flag_a, flag_b) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
    let (waker_a, waker_b) = (Waker::from(flag_a.clone()), Waker::from(flag_b.clone()));
    let mut a = Box::pin(signaler.recv());
    let mut b = pin!(signaler.recv());
    assert!(a
        .as_mut()
        .poll(&mut Context::from_waker(&waker_a))
        .is_pending());
    assert!(b
        .as_mut()
        .poll(&mut Context::from_waker(&waker_b))
        .is_pending());
    assert!(format!("{signaler:?}").contains("waiters: 2"));

    // The first listener gets the notification; it never looks at it.
    signaler.signal();
    assert!(flag_a.take());
    drop(a);
    assert!(flag_b.take());
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&waker_b)),
        Poll::Ready(())
    );
    assert!(format!("{signaler:?}").contains("waiters: 0"));
    assert!(!signaler.try_recv());

    // Dropped before any signal: nothing consumed, nothing left behind.
    let mut c = Box::pin(signaler.recv());
    assert!(c
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    drop(c);
    signaler.signal();
    assert!(signaler.try_recv());
    assert!(format!("{signaler:?}").contains("waiters: 0"));
}
