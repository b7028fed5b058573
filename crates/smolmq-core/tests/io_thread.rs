//! I/O threads: tasks run on them, engines on them exchange messages, and
//! dropping the set stops the threads and drops unfinished tasks.
#![cfg(not(loom))]

use async_io::Async;
use smolmq_core::engine::{Engine, EngineConfig};
use smolmq_core::io_thread::IoThreads;
use smolmq_core::pipe::pipe_pair;
use smolmq_core::Msg;
use smolmq_zmtp::{HandshakeConfig, SocketType};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[test]
fn tasks_run_on_named_io_threads() {
    let io = IoThreads::new(2).unwrap();
    assert_eq!(io.len(), 2);
    let (tx, rx) = mpsc::channel();
    for _ in 0..4 {
        let tx = tx.clone();
        io.spawn(async move {
            tx.send(std::thread::current().name().map(str::to_owned))
                .unwrap();
        })
        .detach();
    }
    let mut names: Vec<String> = (0..4)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap().unwrap())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        ["smolmq-io-0", "smolmq-io-1"],
        "round robin over both threads"
    );
}

/// Counts drops.
struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_threads_drops_unfinished_tasks() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let io = IoThreads::new(1).unwrap();
    for _ in 0..3 {
        let guard = Guard(dropped.clone());
        io.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
        .detach();
    }
    drop(io);
    assert_eq!(dropped.load(Ordering::SeqCst), 3);
}

#[test]
fn engines_on_io_threads_exchange_messages() {
    let io = IoThreads::new(2).unwrap();
    let (sa, sb) = UnixStream::pair().unwrap();
    let (mut a, mut eng_a) = pipe_pair::<Msg>(100, 100);
    let (mut b, mut eng_b) = pipe_pair::<Msg>(100, 100);
    let config = EngineConfig::new(HandshakeConfig::new(SocketType::Pair));
    let ca = config.clone();
    io.spawn(async move {
        Engine::new(Box::new(Async::new(sa).unwrap()), &mut eng_a, ca)
            .unwrap()
            .await
    })
    .detach();
    io.spawn(async move {
        Engine::new(Box::new(Async::new(sb).unwrap()), &mut eng_b, config)
            .unwrap()
            .await
    })
    .detach();
    // Poll from this thread (bounded): the engines live on the I/O threads.
    for i in 0..50u32 {
        let mut msg = Msg::from(i.to_string());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match a.write(msg) {
                Ok(()) => break,
                Err(e) => msg = e.into_inner(),
            }
            assert!(std::time::Instant::now() < deadline, "stuck sending");
            std::thread::sleep(Duration::from_millis(1));
        }
        a.flush();
        let got = loop {
            if let Some(m) = b.read() {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "stuck receiving {i}");
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(got, Msg::from(i.to_string()));
    }
}
