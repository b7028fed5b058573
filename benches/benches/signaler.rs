//! smolmq-signaler's two wake-ups against the standard library's.
//!
//! - `roundtrip_blocking`: two threads ping-pong through two signalers, each
//!   blocking in `wait`; the figure is one round trip (two wake-ups).
//!   Baselines: `std::thread::park`/`unpark` behind an atomic flag, and a
//!   `std::sync::mpsc` channel of `()`.
//! - `roundtrip_async`: the same with each thread in
//!   `futures_lite::future::block_on`, awaiting `recv()`.
//! - `signal_pending`: `signal()` while a signal is already pending and
//!   nobody waits (the coalescing fast path); `signal_pending_2_threads`:
//!   the same from two threads at once (the line stays shared, since the
//!   fast path does not write). Baseline: an atomic swap, what a signal that
//!   always writes its flag would pay.
//! - `signal_then_try_recv`: one `signal()` and one `try_recv()`, nobody
//!   waiting (what a writer and a busy reader pay per hand-off).

use smolmq_benches::{Figure, Report};
use smolmq_signaler::{FdSignaler, Signaler};
use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// A wake-up two threads can ping-pong through.
trait Wake: Send + Sync + 'static {
    /// Wakes the waiter, or leaves the wake-up pending.
    fn signal(&self);
    /// Blocks until a wake-up, and consumes it.
    fn wait(&self);
    /// Learns which thread will wait, before the first signal.
    fn waiter(&self, _thread: Thread) {}
}

impl Wake for Signaler {
    fn signal(&self) {
        Signaler::signal(self);
    }
    fn wait(&self) {
        Signaler::wait(self);
    }
}

impl Wake for FdSignaler {
    fn signal(&self) {
        FdSignaler::signal(self).expect("signal");
    }
    fn wait(&self) {
        FdSignaler::wait(self).expect("wait");
    }
}

/// The baseline: a flag, and `park`/`unpark` of the one waiting thread.
#[derive(Default)]
struct Park {
    /// A wake-up is pending.
    flag: AtomicBool,
    /// The thread that waits; set before anyone signals.
    waiter: OnceLock<Thread>,
}

impl Wake for Park {
    fn signal(&self) {
        self.flag.store(true, Ordering::Release);
        self.waiter.get().expect("waiter set").unpark();
    }
    fn wait(&self) {
        while !self.flag.swap(false, Ordering::Acquire) {
            thread::park();
        }
    }
    fn waiter(&self, thread: Thread) {
        self.waiter.set(thread).expect("one waiter");
    }
}

/// The other baseline: a channel of `()`.
struct Channel {
    /// Sending side.
    tx: Mutex<mpsc::Sender<()>>,
    /// Receiving side.
    rx: Mutex<mpsc::Receiver<()>>,
}

impl Default for Channel {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel();
        Channel {
            tx: Mutex::new(tx),
            rx: Mutex::new(rx),
        }
    }
}

impl Wake for Channel {
    fn signal(&self) {
        self.tx.lock().unwrap().send(()).expect("send");
    }
    fn wait(&self) {
        self.rx.lock().unwrap().recv().expect("recv");
    }
}

/// Times `iters` round trips between this thread and an echo thread, after
/// one untimed round trip that makes sure the echo thread runs.
fn roundtrips_blocking<W: Wake>(ping: W, pong: W, iters: u64) -> Duration {
    let (ping, pong) = (Arc::new(ping), Arc::new(pong));
    pong.waiter(thread::current());
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || {
            for _ in 0..=iters {
                ping.wait();
                pong.signal();
            }
        }
    });
    ping.waiter(echo.thread().clone());
    ping.signal();
    pong.wait();
    let start = Instant::now();
    for _ in 0..iters {
        ping.signal();
        pong.wait();
    }
    let elapsed = start.elapsed();
    echo.join().expect("echo thread panicked");
    elapsed
}

/// A wake-up a task can await.
trait AsyncWake: Send + Sync + 'static {
    /// Wakes the waiter, or leaves the wake-up pending.
    fn signal(&self);
    /// Resolves once it has consumed a wake-up.
    fn recv(&self) -> impl Future<Output = ()> + '_;
}

impl AsyncWake for Signaler {
    fn signal(&self) {
        Signaler::signal(self);
    }
    fn recv(&self) -> impl Future<Output = ()> + '_ {
        Signaler::recv(self)
    }
}

impl AsyncWake for FdSignaler {
    fn signal(&self) {
        FdSignaler::signal(self).expect("signal");
    }
    async fn recv(&self) {
        FdSignaler::recv(self).await.expect("recv");
    }
}

/// [`roundtrips_blocking`] with both threads in `block_on`.
fn roundtrips_async<W: AsyncWake>(ping: W, pong: W, iters: u64) -> Duration {
    use futures_lite::future::block_on;
    let (ping, pong) = (Arc::new(ping), Arc::new(pong));
    let echo = thread::spawn({
        let (ping, pong) = (ping.clone(), pong.clone());
        move || {
            block_on(async {
                for _ in 0..=iters {
                    ping.recv().await;
                    pong.signal();
                }
            })
        }
    });
    let elapsed = block_on(async {
        ping.signal();
        pong.recv().await;
        let start = Instant::now();
        for _ in 0..iters {
            ping.signal();
            pong.recv().await;
        }
        start.elapsed()
    });
    echo.join().expect("echo thread panicked");
    elapsed
}

/// Times `iters` calls of `op`.
fn timed(iters: u64, mut op: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        op();
    }
    start.elapsed()
}

/// Times `iters` calls of `op` on this thread and, at the same time, on
/// another one.
fn both_threads(iters: u64, op: impl Fn() + Sync) -> Duration {
    let start = Barrier::new(2);
    thread::scope(|scope| {
        scope.spawn(|| {
            start.wait();
            timed(iters, &op)
        });
        start.wait();
        timed(iters, &op)
    })
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("signaler");

    let mut case = report.case(&mut c, "roundtrip_blocking");
    case.bench("smolmq-signaler", Figure::Latency, |iters| {
        roundtrips_blocking(Signaler::new(), Signaler::new(), iters)
    });
    case.bench("smolmq-signaler-fd", Figure::Latency, |iters| {
        roundtrips_blocking(
            FdSignaler::new().unwrap(),
            FdSignaler::new().unwrap(),
            iters,
        )
    });
    case.bench("std-park-unpark", Figure::Latency, |iters| {
        roundtrips_blocking(Park::default(), Park::default(), iters)
    });
    case.bench("std-mpsc", Figure::Latency, |iters| {
        roundtrips_blocking(Channel::default(), Channel::default(), iters)
    });
    case.finish();

    let mut case = report.case(&mut c, "roundtrip_async");
    case.bench("smolmq-signaler", Figure::Latency, |iters| {
        roundtrips_async(Signaler::new(), Signaler::new(), iters)
    });
    case.bench("smolmq-signaler-fd", Figure::Latency, |iters| {
        roundtrips_async(
            FdSignaler::new().unwrap(),
            FdSignaler::new().unwrap(),
            iters,
        )
    });
    case.finish();

    let mut case = report.case(&mut c, "signal_pending");
    let signaler = Signaler::new();
    signaler.signal();
    case.bench("smolmq-signaler", Figure::Latency, |iters| {
        timed(iters, || black_box(&signaler).signal())
    });
    let fd = FdSignaler::new().unwrap();
    case.bench("smolmq-signaler-fd", Figure::Latency, |iters| {
        timed(iters, || black_box(&fd).signal().unwrap())
    });
    // What a signal that always writes the flag would cost.
    let flag = AtomicBool::new(true);
    case.bench("std-atomic-swap", Figure::Latency, |iters| {
        timed(iters, || _ = black_box(&flag).swap(true, Ordering::SeqCst))
    });
    case.finish();

    let mut case = report.case(&mut c, "signal_pending_2_threads");
    case.bench("smolmq-signaler", Figure::Latency, |iters| {
        both_threads(iters, || black_box(&signaler).signal())
    });
    case.bench("smolmq-signaler-fd", Figure::Latency, |iters| {
        both_threads(iters, || black_box(&fd).signal().unwrap())
    });
    case.bench("std-atomic-swap", Figure::Latency, |iters| {
        both_threads(iters, || _ = black_box(&flag).swap(true, Ordering::SeqCst))
    });
    case.finish();

    let mut case = report.case(&mut c, "signal_then_try_recv");
    case.bench("smolmq-signaler", Figure::Latency, |iters| {
        timed(iters, || {
            signaler.signal();
            assert!(black_box(&signaler).try_recv());
        })
    });
    case.bench("smolmq-signaler-fd", Figure::Latency, |iters| {
        timed(iters, || {
            fd.signal().unwrap();
            assert!(black_box(&fd).try_recv().unwrap());
        })
    });
    case.finish();

    report.print();
    c.final_summary();
}
