//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::task::Wake;
use std::thread;
use std::time::Duration;

/// The longest any test may take; far beyond what a slow, busy machine needs.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// Ends the whole test process if it is not dropped within [`DEADLINE`], so
/// that a lost wake-up fails the run instead of hanging it.
#[must_use]
pub struct Watchdog {
    /// Dropping it tells the watchdog thread the test finished.
    _done: mpsc::Sender<()>,
}

impl Watchdog {
    /// Starts a watchdog for the test called `name`.
    pub fn new(name: &'static str) -> Watchdog {
        let (done, finished) = mpsc::channel::<()>();
        thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(DEADLINE) {
                eprintln!("{name}: still running after {DEADLINE:?}, a wake-up was lost");
                std::process::exit(101);
            }
        });
        Watchdog { _done: done }
    }
}

/// A waker that records that it was woken.
#[derive(Debug, Default)]
pub struct Flag(AtomicBool);

impl Flag {
    /// Whether the waker was woken since the last call.
    pub fn take(&self) -> bool {
        self.0.swap(false, Ordering::SeqCst)
    }
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}
