//! Helpers shared by the integration tests.

#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How long any test may take before it counts as hung. Generous: the tests
/// run in debug builds on slow, busy machines, and this only catches hangs.
pub const HANG: Duration = Duration::from_secs(120);

/// Runs `f` on its own thread and returns its result, failing the test if
/// it takes longer than `limit` (a hang) or panics.
pub fn within<T, F>(limit: Duration, f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (done_tx, done_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let result = f();
        let _ = done_tx.send(());
        result
    });
    match done_rx.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung: still running after {limit:?}"),
    }
}

/// A value that counts its drops.
#[derive(Debug)]
pub struct Counted {
    /// The count of drops of every `Counted` sharing it.
    drops: Arc<AtomicUsize>,
}

impl Counted {
    /// A new value that adds to `drops` when dropped.
    pub fn new(drops: &Arc<AtomicUsize>) -> Self {
        Counted {
            drops: drops.clone(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A new drop counter at zero.
pub fn drop_counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// The count of a drop counter.
pub fn drops(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}
