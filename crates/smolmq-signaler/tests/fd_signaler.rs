//! `FdSignaler`: the wake-up on an eventfd (Linux, Android) or a pipe.

#![cfg(unix)]

mod common;

use common::{Flag, Watchdog};
use futures_lite::future::block_on;
use rustix::event::{PollFd, PollFlags, Timespec};
use smolmq_signaler::FdSignaler;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Whether the descriptor polls readable right now.
fn readable(signaler: &FdSignaler) -> bool {
    let mut fds = [PollFd::new(signaler, PollFlags::IN)];
    let zero = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut fds, Some(&zero)).unwrap() == 1
}

#[test]
fn signal_before_wait_is_kept() -> io::Result<()> {
    let _watchdog = Watchdog::new("signal_before_wait_is_kept");
    let signaler = FdSignaler::new()?;
    signaler.signal()?;
    signaler.wait()?;

    signaler.signal()?;
    block_on(signaler.recv())?;

    let signaler = Arc::new(signaler);
    let remote = signaler.clone();
    thread::spawn(move || remote.signal()).join().unwrap()?;
    signaler.wait()?;
    let remote = signaler.clone();
    thread::spawn(move || remote.signal()).join().unwrap()?;
    block_on(signaler.recv())?;
    assert!(!signaler.try_recv()?);
    Ok(())
}

#[test]
fn signals_coalesce_and_try_recv_consumes() -> io::Result<()> {
    let signaler = FdSignaler::new()?;
    assert!(!signaler.try_recv()?);
    assert!(!readable(&signaler));
    for _ in 0..10 {
        signaler.signal()?;
    }
    assert!(readable(&signaler));
    assert!(signaler.try_recv()?);
    assert!(!signaler.try_recv()?);
    assert!(!readable(&signaler));
    Ok(())
}

/// The descriptor suits an external poll loop: readable exactly while a
/// signal is pending.
#[test]
fn descriptor_for_external_poll() -> io::Result<()> {
    let _watchdog = Watchdog::new("descriptor_for_external_poll");
    let signaler = Arc::new(FdSignaler::new()?);
    assert_eq!(signaler.as_fd().as_raw_fd(), signaler.as_raw_fd());
    assert!(format!("{signaler:?}").contains("registered: false"));
    let remote = signaler.clone();
    let handle = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        remote.signal()
    });
    let mut fds = [PollFd::new(&*signaler, PollFlags::IN)];
    let mut polls = 0;
    while rustix::event::poll(&mut fds, None)? == 0 {
        polls += 1;
        assert!(polls < 1000, "poll kept returning nothing");
    }
    assert!(fds[0].revents().contains(PollFlags::IN));
    assert!(signaler.try_recv()?);
    handle.join().unwrap()?;
    Ok(())
}

#[test]
fn wait_timeout() -> io::Result<()> {
    let _watchdog = Watchdog::new("wait_timeout");
    let signaler = Arc::new(FdSignaler::new()?);
    let start = Instant::now();
    assert!(!signaler.wait_timeout(Duration::from_millis(20))?);
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert!(!signaler.wait_timeout(Duration::ZERO)?);

    signaler.signal()?;
    assert!(signaler.wait_timeout(Duration::ZERO)?);

    let remote = signaler.clone();
    let handle = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        remote.signal()
    });
    assert!(signaler.wait_timeout(Duration::from_secs(60))?);
    handle.join().unwrap()?;

    signaler.signal()?;
    assert!(signaler.wait_timeout(Duration::MAX)?);
    Ok(())
}

/// Fewer trips than `Signaler`'s million: each trip is half a dozen system
/// calls, and a debug build on a busy machine should still finish in seconds.
#[test]
fn round_trips_blocking() -> io::Result<()> {
    const TRIPS: u32 = 250_000;
    let _watchdog = Watchdog::new("round_trips_blocking");
    let ping = Arc::new(FdSignaler::new()?);
    let pong = Arc::new(FdSignaler::new()?);
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || -> io::Result<()> {
            for _ in 0..TRIPS {
                ping.wait()?;
                pong.signal()?;
            }
            Ok(())
        }
    });
    for trip in 0..TRIPS {
        ping.signal()?;
        assert!(
            pong.wait_timeout(Duration::from_secs(60))?,
            "no reply to trip {trip}"
        );
    }
    echo.join().unwrap()?;
    assert!(!ping.try_recv()? && !pong.try_recv()?);
    Ok(())
}

#[test]
fn round_trips_async() -> io::Result<()> {
    const TRIPS: u32 = 100_000;
    let _watchdog = Watchdog::new("round_trips_async");
    let ping = Arc::new(FdSignaler::new()?);
    let pong = Arc::new(FdSignaler::new()?);
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || -> io::Result<()> {
            block_on(async {
                for _ in 0..TRIPS {
                    ping.recv().await?;
                    pong.signal()?;
                }
                Ok(())
            })
        }
    });
    block_on(async {
        for _ in 0..TRIPS {
            ping.signal()?;
            pong.recv().await?;
        }
        io::Result::Ok(())
    })?;
    echo.join().unwrap()?;
    assert!(!ping.try_recv()? && !pong.try_recv()?);
    Ok(())
}

/// A thread and a task wait on one signaler; a stream of signals wakes both.
#[test]
fn blocking_and_async_waiters_mixed() -> io::Result<()> {
    const WAKES: usize = 2_000;
    let _watchdog = Watchdog::new("blocking_and_async_waiters_mixed");
    let signaler = Arc::new(FdSignaler::new()?);
    let woken = Arc::new(AtomicUsize::new(0));
    let waiters = [false, true].map(|asynchronous| {
        let (signaler, woken) = (signaler.clone(), woken.clone());
        thread::spawn(move || -> io::Result<()> {
            for _ in 0..WAKES {
                if asynchronous {
                    block_on(signaler.recv())?;
                } else {
                    signaler.wait()?;
                }
                woken.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        })
    });
    while waiters.iter().any(|waiter| !waiter.is_finished()) {
        signaler.signal()?;
        thread::yield_now();
    }
    for waiter in waiters {
        waiter.join().unwrap()?;
    }
    assert_eq!(woken.load(Ordering::SeqCst), 2 * WAKES);
    Ok(())
}

/// A future dropped while waiting consumes nothing.
#[test]
fn dropped_recv_consumes_nothing() -> io::Result<()> {
    let _watchdog = Watchdog::new("dropped_recv_consumes_nothing");
    let signaler = FdSignaler::new()?;
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut recv = Box::pin(signaler.recv());
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    assert!(format!("{signaler:?}").contains("registered: true"));
    drop(recv);
    signaler.signal()?;
    assert!(signaler.try_recv()?);

    // A woken future consumes the signal when polled again. The reactor's
    // driver thread delivers the wake-up (a stale one, left by the dropped
    // future, may come first).
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut recv = Box::pin(signaler.recv());
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    signaler.signal()?;
    loop {
        while !flag.take() {
            thread::sleep(Duration::from_millis(1));
        }
        match recv.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(result) => break result?,
            Poll::Pending => continue,
        }
    }
    assert!(!signaler.try_recv()?);
    Ok(())
}
