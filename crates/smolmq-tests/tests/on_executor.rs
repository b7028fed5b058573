//! A context whose I/O runs on the application's executor
//! (`ContextConfig::executor`): no I/O threads, the engines beside the
//! application's tasks. Every wait is bounded by `smolmq_tests::TIMEOUT`.

use async_executor::Executor;
use bytes::Bytes;
use futures_lite::future;
use smolmq::{Context, ContextConfig, Msg, SocketOptions, SocketType};
use std::sync::Arc;
use std::time::Duration;

/// Runs `fut` on `ex` from this thread (which then also drives the
/// reactor), failing the test after `TIMEOUT`.
fn run<T>(ex: &Executor<'static>, fut: impl std::future::Future<Output = T>) -> T {
    async_io::block_on(ex.run(future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(smolmq_tests::TIMEOUT).await;
        None
    })))
    .expect("the test timed out")
}

fn context(ex: &Arc<Executor<'static>>) -> Context {
    Context::with_config(ContextConfig::new().executor(ex.clone())).unwrap()
}

fn options() -> SocketOptions {
    SocketOptions {
        linger: Some(Duration::ZERO),
        ..SocketOptions::default()
    }
}

/// A ROUTER serving three DEALERs over tcp and over tcp+jsonl, the server
/// and the clients tasks on one thread that also runs every engine: each
/// request comes back to the client that sent it, in order.
#[test]
fn a_router_serves_dealers_with_everything_on_one_thread() {
    for scheme in ["tcp", "tcp+jsonl"] {
        let ex = Arc::new(Executor::new());
        let ctx = context(&ex);
        assert_eq!(ctx.io_tasks(), 0, "{scheme}");
        let mut router = ctx.socket(SocketType::Router).unwrap();
        router.set_options(options()).unwrap();
        router.bind(&format!("{scheme}://127.0.0.1:0")).unwrap();
        let endpoint = router.last_endpoint().expect("bound").to_string();
        let mut dealers: Vec<_> = (0..3)
            .map(|_| {
                let mut d = ctx.socket(SocketType::Dealer).unwrap();
                d.set_options(options()).unwrap();
                d.connect(&endpoint).unwrap();
                d
            })
            .collect();
        const ROUNDS: usize = 50;
        let served = ex.spawn(async move {
            for _ in 0..ROUNDS * 3 {
                let request = router.recv().await.unwrap();
                router
                    .send(request)
                    .await
                    .map_err(|e| e.into_error())
                    .unwrap();
            }
            router
        });
        let got = run(&ex, async {
            let mut clients: Vec<_> = dealers
                .drain(..)
                .enumerate()
                .map(|(c, mut d)| async move {
                    let mut answers = Vec::new();
                    for i in 0..ROUNDS {
                        let line = format!("{{\"client\":{c},\"seq\":{i}}}");
                        d.send(Msg::from(Bytes::from(line)))
                            .await
                            .map_err(|e| e.into_error())
                            .unwrap();
                        answers.push(smolmq_tests::text(&d.recv().await.unwrap()));
                    }
                    answers
                })
                .collect();
            let (c, b, a) = (clients.pop(), clients.pop(), clients.pop());
            let (a, (b, c)) = future::zip(a.unwrap(), future::zip(b.unwrap(), c.unwrap())).await;
            drop(served.await);
            [a, b, c]
        });
        for (c, answers) in got.iter().enumerate() {
            let expected: Vec<String> = (0..ROUNDS)
                .map(|i| format!("{{\"client\":{c},\"seq\":{i}}}"))
                .collect();
            assert_eq!(answers, &expected, "{scheme}, client {c}");
        }
        assert!(ctx.io_tasks() > 0, "{scheme}: the engines ran as tasks");
    }
}

/// Blocking calls from a thread that does not run the executor work as
/// with I/O threads: here the executor runs on a thread of its own.
#[test]
fn blocking_calls_work_while_another_thread_runs_the_executor() {
    let ex = Arc::new(Executor::new());
    let (stop, stopped) = async_channel_like();
    let runner = {
        let ex = ex.clone();
        std::thread::spawn(move || async_io::block_on(ex.run(stopped)))
    };
    let ctx = context(&ex);
    let mut pull = ctx.socket(SocketType::Pull).unwrap();
    pull.set_options(SocketOptions {
        rcvtimeo: Some(smolmq_tests::TIMEOUT),
        ..options()
    })
    .unwrap();
    pull.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pull.last_endpoint().expect("bound").to_string();
    let mut push = ctx.socket(SocketType::Push).unwrap();
    push.set_options(SocketOptions {
        sndtimeo: Some(smolmq_tests::TIMEOUT),
        ..options()
    })
    .unwrap();
    push.connect(&endpoint).unwrap();
    for i in 0..100u32 {
        push.send_blocking(Msg::copy_from_slice(&i.to_be_bytes()))
            .unwrap();
    }
    for i in 0..100u32 {
        let m = pull.recv_blocking().unwrap();
        assert_eq!(m.first(), &i.to_be_bytes()[..]);
    }
    drop((push, pull, ctx));
    stop();
    runner.join().unwrap();
}

/// A one-shot stop signal: the closure sets it, the future ends once set.
fn async_channel_like() -> (impl FnOnce(), impl std::future::Future<Output = ()> + Send) {
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let set = flag.clone();
    let stop = move || set.store(true, std::sync::atomic::Ordering::Release);
    let stopped = async move {
        // Bounded: at most TIMEOUT in 10 ms steps.
        let steps = smolmq_tests::TIMEOUT.as_millis() / 10;
        for _ in 0..steps {
            if flag.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            async_io::Timer::after(Duration::from_millis(10)).await;
        }
    };
    (stop, stopped)
}

/// Closed sockets leave no task behind on the application's executor: the
/// engines, the listener and the connector end once their sockets are
/// dropped (LINGER 0), as they do on I/O threads.
#[test]
fn closed_sockets_leave_no_task_on_the_executor() {
    let ex = Arc::new(Executor::new());
    let ctx = context(&ex);
    let mut pair = ctx.socket(SocketType::Pair).unwrap();
    pair.set_options(options()).unwrap();
    pair.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = pair.last_endpoint().expect("bound").to_string();
    let mut peer = ctx.socket(SocketType::Pair).unwrap();
    peer.set_options(options()).unwrap();
    peer.connect(&endpoint).unwrap();
    let (pair, peer) = run(&ex, async move {
        peer.send(Msg::from("ping"))
            .await
            .map_err(|e| e.into_error())?;
        assert_eq!(pair.recv().await?, Msg::from("ping"));
        Ok::<_, smolmq::Error>((pair, peer))
    })
    .unwrap();
    assert!(ctx.io_tasks() >= 3, "listener, connector, two engines");
    drop((pair, peer));
    run(&ex, async {
        // Bounded by `run`'s timeout; 1 ms steps.
        while ctx.io_tasks() > 0 {
            async_io::Timer::after(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(ctx.io_tasks(), 0);
}
