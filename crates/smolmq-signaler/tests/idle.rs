//! An idle waiter uses no CPU.
//!
//! Alone in its file, so that it runs in a process of its own: the process
//! CPU clock it reads must not count other tests' work.

#![cfg(unix)]

mod common;

use common::Watchdog;
use futures_lite::future::block_on;
use rustix::time::{clock_gettime, ClockId};
use smolmq_signaler::{FdSignaler, Signaler};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// CPU time used so far by the whole process.
fn process_cpu_time() -> Duration {
    let now = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Waiters of every kind sleep for a second: a thread in `Signaler::wait`,
/// a task awaiting `Signaler::recv`, and the same two on an `FdSignaler`.
/// Together they must use next to no CPU, and each must wake when signalled.
#[test]
fn idle_waiters_use_no_cpu() {
    const IDLE: Duration = Duration::from_secs(1);
    const BUDGET: Duration = Duration::from_millis(100);
    let _watchdog = Watchdog::new("idle_waiters_use_no_cpu");

    let signaler = Arc::new(Signaler::new());
    let async_signaler = Arc::new(Signaler::new());
    let fd = Arc::new(FdSignaler::new().unwrap());
    let async_fd = Arc::new(FdSignaler::new().unwrap());
    let waiters = [
        thread::spawn({
            let signaler = signaler.clone();
            move || signaler.wait()
        }),
        thread::spawn({
            let signaler = async_signaler.clone();
            move || block_on(signaler.recv())
        }),
        thread::spawn({
            let signaler = fd.clone();
            move || signaler.wait().unwrap()
        }),
        thread::spawn({
            let signaler = async_fd.clone();
            move || block_on(signaler.recv()).unwrap()
        }),
    ];

    // Let every waiter reach its sleep, then measure a quiet second.
    thread::sleep(Duration::from_millis(200));
    let before = process_cpu_time();
    thread::sleep(IDLE);
    let used = process_cpu_time() - before;
    assert!(
        used < BUDGET,
        "idle waiters used {used:?} of CPU in {IDLE:?}"
    );
    assert!(waiters.iter().all(|waiter| !waiter.is_finished()));

    signaler.signal();
    async_signaler.signal();
    fd.signal().unwrap();
    async_fd.signal().unwrap();
    for waiter in waiters {
        waiter.join().unwrap();
    }
}
