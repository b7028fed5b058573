//! smolmq's rows: a ROUTER echo server (transport level) and the same
//! sockets through smolmq-mcp.

use super::hist::Histogram;
use super::{request_line, request_params, Config, Rig};
use async_executor::{Executor, LocalExecutor};
use bytes::Bytes;
use serde_json::value::RawValue;
use smolmq::mcp::{Call, Client, Dispatcher, Server};
use smolmq::{Error, Msg, Socket, SocketOptions};
use smolmq_core::{Context, ContextConfig};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest any one send or receive may wait: a stall fails the bench
/// instead of hanging it.
const STALL: Duration = Duration::from_secs(10);

/// Options for every socket of the bench.
fn options() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(STALL),
        rcvtimeo: Some(Duration::from_millis(100)),
        ..SocketOptions::default()
    }
}

/// The executors the engines run on with `--on-executor N` (none without
/// it): one for N = 1, run by the thread that drives the clients and the
/// server; two for N = 2, the clients' (run by the thread that drives
/// them) and the server's (run by the server's own thread). Made on first
/// use.
fn engines(cfg: &Config) -> &'static [Arc<Executor<'static>>] {
    static ENGINES: OnceLock<Vec<Arc<Executor<'static>>>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        (0..cfg.on_executor.min(2))
            .map(|_| Arc::new(Executor::new()))
            .collect()
    })
}

/// A context with `cfg`'s I/O threads and spin (or its engines on the
/// bench's executor `which`), and the tcp transport.
fn context(cfg: &Config, which: usize) -> Result<Context, String> {
    let mut config = ContextConfig::new().io_threads(cfg.io_threads);
    if let Some(spin) = cfg.io_spin {
        config = config.io_spin(spin);
    }
    if let Some(ex) = engines(cfg).get(which).or(engines(cfg).first()) {
        config = config.executor(ex.clone());
    }
    let ctx = Context::with_config(config).map_err(|e| e.to_string())?;
    ctx.add_transport(Arc::new(smolmq::tcp::TcpTransport));
    Ok(ctx)
}

/// The contexts of the server and of the clients: one shared, or two
/// (with two engine executors, the server's on the second).
fn contexts(cfg: &Config) -> Result<(Context, Context), String> {
    let clients = context(cfg, 0)?;
    let server = match cfg.shared_context {
        true => clients.clone(),
        false => context(cfg, 1)?,
    };
    Ok((server, clients))
}

/// The endpoint to bind for `cfg`'s wire.
fn bind_endpoint(cfg: &Config) -> &'static str {
    if cfg.jsonl {
        "tcp+jsonl://127.0.0.1:0"
    } else {
        "tcp://127.0.0.1:0"
    }
}

/// A server thread, stopped and joined on drop.
struct Serving {
    /// Tells the loop to end.
    stop: Arc<AtomicBool>,
    /// The loop.
    thread: Option<JoinHandle<()>>,
}

impl Serving {
    /// Runs `step` until stopped; `step` waits at most about 100 ms.
    fn spawn(mut step: impl FnMut() -> Result<(), Error> + Send + 'static) -> Serving {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                match step() {
                    Ok(()) | Err(Error::Timeout) => {}
                    Err(e) => {
                        eprintln!("jsonl_echo server: {e}");
                        return;
                    }
                }
            }
        });
        Serving {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Spawns one task per client on `ex`, each making round trips until
/// `stop`, recording each in its histogram; resolves to every client with
/// its count of round trips and how it ended.
fn client_tasks<'a, C, F, Fut>(
    ex: &LocalExecutor<'a>,
    clients: Vec<C>,
    hists: &'a mut [Histogram],
    stop: &Arc<AtomicBool>,
    round_trip: &F,
) -> impl Future<Output = Vec<(C, u64, Result<(), String>)>> + 'a
where
    C: 'a,
    F: Fn(C) -> Fut + Clone + 'a,
    Fut: Future<Output = (C, Result<(), String>)> + 'a,
{
    let tasks: Vec<_> = clients
        .into_iter()
        .zip(hists.iter_mut())
        .map(|(client, h)| {
            let stop = stop.clone();
            let round_trip = round_trip.clone();
            h.clear();
            ex.spawn(async move {
                let mut client = client;
                let mut ops = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let (back, done) = round_trip(client).await;
                    client = back;
                    if let Err(e) = done {
                        return (client, ops, Err(e));
                    }
                    h.record(t0.elapsed());
                    ops += 1;
                }
                (client, ops, Ok(()))
            })
        })
        .collect();
    async move {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await);
        }
        out
    }
}

/// Runs one task per client on a single-threaded executor for `duration`:
/// `round_trip(client)` makes one request and waits for its response.
///
/// `serve`, if given, is the server's loop, run until every client is done
/// (then dropped: no request is in flight by then): on this thread, or,
/// with two engine executors (`--on-executor 2`), on a thread of its own
/// that runs the second executor, where the server's engines are. With
/// `engines`, this thread runs the first executor (the clients' engines)
/// under async-io's `block_on`, so that it also drives the reactor; the
/// server's thread and the clients' thread then meet only in the kernel's
/// sockets, as two processes would.
fn drive<C, F, Fut>(
    clients: &mut Vec<C>,
    hists: &mut [Histogram],
    duration: Duration,
    hist: &mut Histogram,
    round_trip: F,
    serve: Option<Pin<Box<dyn Future<Output = String> + Send + '_>>>,
    engines: &[Arc<Executor<'static>>],
) -> Result<(u64, Duration), String>
where
    F: Fn(C) -> Fut + Clone,
    Fut: Future<Output = (C, Result<(), String>)>,
{
    let stop = Arc::new(AtomicBool::new(false));
    // Set once every client is done: a server on a thread of its own
    // serves until then (a client finishing its last round trip after
    // `stop` still needs its answer).
    let clients_done = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let results = std::thread::scope(|scope| {
        let (serve, served) = match (engines.get(1), serve) {
            (Some(server_engines), Some(serve)) => {
                let done = clients_done.clone();
                let served = scope.spawn(move || {
                    let until = async move {
                        while !done.load(Ordering::Acquire) {
                            async_io::Timer::after(Duration::from_millis(20)).await;
                        }
                        None
                    };
                    let serve = async { Some(format!("the server stopped: {}", serve.await)) };
                    async_io::block_on(server_engines.run(futures_lite::future::or(serve, until)))
                });
                (None, Some(served))
            }
            (_, serve) => (serve, None),
        };
        let ex = LocalExecutor::new();
        let all = client_tasks(&ex, std::mem::take(clients), hists, &stop, &round_trip);
        let driving = ex.run(async {
            let timer = async {
                async_io::Timer::after(duration).await;
                stop.store(true, Ordering::Relaxed);
            };
            let clients = async { Ok(futures_lite::future::zip(timer, all).await.1) };
            match serve {
                None => clients.await,
                Some(serve) => {
                    let serve = async { Err(format!("the server stopped: {}", serve.await)) };
                    futures_lite::future::or(clients, serve).await
                }
            }
        });
        let results = match engines.first() {
            Some(engines) => async_io::block_on(engines.run(driving)),
            None => futures_lite::future::block_on(driving),
        };
        // The clients are done: the time stops here, not after the server
        // thread's teardown below.
        let took = started.elapsed();
        clients_done.store(true, Ordering::Release);
        match served.map(|t| t.join()) {
            None | Some(Ok(None)) => results.map(|r| (r, took)),
            Some(Ok(Some(stopped))) => Err(stopped),
            Some(Err(_)) => Err("the server thread panicked".to_owned()),
        }
    });
    let (results, took) = results?;
    let mut total = 0;
    let mut failure = None;
    for (client, ops, done) in results {
        clients.push(client);
        total += ops;
        if let Err(e) = done {
            failure.get_or_insert(e);
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    for h in hists.iter() {
        hist.merge(h);
    }
    Ok((total, took))
}

/// The transport level: a ROUTER sends each message back unchanged; each
/// DEALER client sends a request line and waits for it.
pub(crate) struct Transport {
    /// The clients' context (kept alive).
    _ctx: Context,
    /// The engines' executors, with `--on-executor`.
    engines: &'static [Arc<Executor<'static>>],
    /// The server loop on a thread of its own (`--server-thread`).
    _server: Option<Serving>,
    /// The server's socket, when it runs on the clients' thread.
    router: Option<Socket>,
    /// The clients, between iterations.
    clients: Vec<Socket>,
    /// One histogram per client, allocated once.
    hists: Vec<Histogram>,
    /// The request line.
    payload: Bytes,
}

impl Transport {
    /// A server and `cfg.connections` connected clients.
    pub(crate) fn new(cfg: &Config) -> Result<Transport, String> {
        let err = |e: Error| e.to_string();
        let (server_ctx, ctx) = contexts(cfg)?;
        let mut router = smolmq::reqrep::router(&server_ctx);
        router.set_options(options()).map_err(err)?;
        router.bind(bind_endpoint(cfg)).map_err(err)?;
        let endpoint = router
            .last_endpoint()
            .ok_or("no bound endpoint")?
            .to_string();
        let (server, router) = match cfg.server_thread {
            true => (
                Some(Serving::spawn(move || {
                    let _keep = &server_ctx;
                    let msg = router.recv_blocking()?;
                    router.send_blocking(msg).map_err(|e| e.into_error())
                })),
                None,
            ),
            false => (None, Some(router)),
        };
        let mut clients = Vec::new();
        for _ in 0..cfg.connections {
            let mut s = smolmq::reqrep::dealer(&ctx);
            s.set_options(options()).map_err(err)?;
            s.connect(&endpoint).map_err(err)?;
            clients.push(s);
        }
        Ok(Transport {
            _ctx: ctx,
            engines: engines(cfg),
            _server: server,
            router,
            clients,
            hists: (0..cfg.connections).map(|_| Histogram::new()).collect(),
            payload: Bytes::from(request_line(cfg.size, 1)),
        })
    }
}

impl Rig for Transport {
    fn run(&mut self, duration: Duration, hist: &mut Histogram) -> Result<(u64, Duration), String> {
        let payload = self.payload.clone();
        let serve = self.router.as_mut().map(|router| {
            Box::pin(async move {
                loop {
                    let msg = match router.recv().await {
                        Ok(msg) => msg,
                        Err(e) => return e.to_string(),
                    };
                    if let Err(e) = router.send(msg).await {
                        return e.to_string();
                    }
                }
            }) as Pin<Box<dyn Future<Output = String> + Send + '_>>
        });
        drive(
            &mut self.clients,
            &mut self.hists,
            duration,
            hist,
            move |mut socket: Socket| {
                let payload = payload.clone();
                async move {
                    let want = payload.len();
                    let done = async {
                        socket
                            .send(Msg::from(payload))
                            .await
                            .map_err(|e| format!("send: {e}"))?;
                        let reply = socket.recv().await.map_err(|e| format!("recv: {e}"))?;
                        match reply.size() == want {
                            true => Ok(()),
                            false => Err(format!("echo of {} bytes, sent {want}", reply.size())),
                        }
                    }
                    .await;
                    (socket, done)
                }
            },
            serve,
            self.engines,
        )
    }
}

/// Through smolmq-mcp: the server parses, dispatches to `echo` and
/// serializes; the clients make requests and match responses by id.
pub(crate) struct Mcp {
    /// The clients' context (kept alive).
    _ctx: Context,
    /// The engines' executors, with `--on-executor`.
    engines: &'static [Arc<Executor<'static>>],
    /// The server loop on a thread of its own (`--server-thread`).
    _server: Option<Serving>,
    /// The server, when it runs on the clients' thread.
    server: Option<Server>,
    /// The clients, between iterations.
    clients: Vec<Client>,
    /// One histogram per client.
    hists: Vec<Histogram>,
    /// The request's params.
    params: Arc<RawValue>,
}

impl Mcp {
    /// A server and `cfg.connections` connected clients.
    pub(crate) fn new(cfg: &Config) -> Result<Mcp, String> {
        let err = |e: Error| e.to_string();
        let (server_ctx, ctx) = contexts(cfg)?;
        let mut methods = Dispatcher::new();
        methods.add("echo", |call: &Call<'_>| {
            Ok(call.params.map_or_else(
                || serde_json::value::to_raw_value(&()).expect("null"),
                ToOwned::to_owned,
            ))
        });
        let mut server = Server::bind(&server_ctx, bind_endpoint(cfg), methods).map_err(err)?;
        server.socket().set_options(options()).map_err(err)?;
        let endpoint = server
            .socket()
            .last_endpoint()
            .ok_or("no bound endpoint")?
            .to_string();
        let (serving, server) = match cfg.server_thread {
            true => (
                Some(Serving::spawn(move || {
                    let _keep = &server_ctx;
                    server.serve_next(Some(Duration::from_millis(100)))
                })),
                None,
            ),
            false => (None, Some(server)),
        };
        let mut clients = Vec::new();
        for _ in 0..cfg.connections {
            let mut c = Client::connect(&ctx, &endpoint).map_err(err)?;
            c.socket().set_options(options()).map_err(err)?;
            c.set_timeout(STALL);
            clients.push(c);
        }
        let params: Box<RawValue> =
            RawValue::from_string(request_params(cfg.size)).map_err(|e| e.to_string())?;
        Ok(Mcp {
            _ctx: ctx,
            engines: engines(cfg),
            _server: serving,
            server,
            clients,
            hists: (0..cfg.connections).map(|_| Histogram::new()).collect(),
            params: Arc::from(params),
        })
    }
}

impl Rig for Mcp {
    fn run(&mut self, duration: Duration, hist: &mut Histogram) -> Result<(u64, Duration), String> {
        let params = self.params.clone();
        let serve = self.server.as_mut().map(|server| {
            Box::pin(async move { server.run_async().await.to_string() })
                as Pin<Box<dyn Future<Output = String> + Send + '_>>
        });
        drive(
            &mut self.clients,
            &mut self.hists,
            duration,
            hist,
            move |mut client: Client| {
                let params = params.clone();
                async move {
                    let done = match client.call_async("echo", &*params).await {
                        Ok(result) if result.get().len() == params.get().len() => Ok(()),
                        Ok(result) => Err(format!(
                            "a result of {} bytes for params of {}",
                            result.get().len(),
                            params.get().len()
                        )),
                        Err(e) => Err(format!("call: {e}")),
                    };
                    (client, done)
                }
            },
            serve,
            self.engines,
        )
    }
}
