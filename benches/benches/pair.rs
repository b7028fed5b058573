//! PAIR sockets end to end, smolmq against libzmq (issue 10's data-path
//! gate): throughput and ping-pong latency over inproc, ipc and tcp at
//! 64 B, 1 KiB and 64 KiB.
//!
//! libzmq is the `zmq` crate (libzmq 4.3.4, built from source by `zmq-sys`
//! through `zeromq-src`, without eventfd: its signaler is a socketpair),
//! a dev-dependency of this bench crate only.
//!
//! - Throughput: one thread sends N messages, another receives them; the
//!   figure is N over the time from the first send to the last receive,
//!   in messages per second.
//! - Latency: a client sends one message, an echo thread sends it back;
//!   every round trip is timestamped, and the figures are the 50th and
//!   99th percentiles of half the round trip, in nanoseconds.
//!
//! Each cell (transport, size) connects one pair per implementation, warms
//! both up, then measures them in turns (smolmq, libzmq, smolmq, libzmq,
//! ...) so that a slow moment of the machine hits both; the figure printed
//! is the median over the runs: 5 runs in full mode (`SMOLMQ_BENCH_FULL=1`),
//! 3 in quick mode. Both sides use default socket options (HWM 1000), one
//! I/O thread, and the calls libzmq's own perf tools make
//! (`zmq_send` of a buffer, `zmq_recv` into a reused message). libzmq
//! copies the buffer into a new message; smolmq copies it too up to
//! `INLINE_MAX` (77) bytes (`Msg::copy_from_slice`: the bytes go inline in
//! the message, as an application sending small data would do) and sends a
//! `Bytes` clone (no copy) above.
//!
//! Output, one line per figure (issue 10's format):
//!
//! ```text
//! RESULT,<impl>,PAIR,<transport>,<size>,<throughput|latency_p50|latency_p99>,<value>
//! ```
//!
//! (msg/s and µs, as the matrix prints them), and the harness's
//! `RESULT,pair,<case>,<impl>,<value>,<unit>` lines (latency in ns), so
//! that `cargo xtask bench pair` prints its table with the ratios. Any
//! command-line argument that does not start with `-` filters the cells by
//! name (`tcp_64B`, `inproc`, ...). For profiling one side alone,
//! `SMOLMQ_BENCH_ONLY=smolmq` (or `libzmq`) and `SMOLMQ_BENCH_METRIC=throughput`
//! (or `latency`) skip the rest (their figures print as NaN), and
//! `SMOLMQ_BENCH_RUNS=<n>` with `SMOLMQ_BENCH_MESSAGES=<n>` /
//! `SMOLMQ_BENCH_ROUND_TRIPS=<n>` fix the workload (plus a warm-up run of a
//! tenth of it).

use bytes::Bytes;
use smolmq_core::{Context, Msg, Socket, INLINE_MAX};
use smolmq_zmtp::SocketType;
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// The transports measured.
const TRANSPORTS: [&str; 3] = ["inproc", "ipc", "tcp"];
/// The message sizes measured, in bytes.
const SIZES: [usize; 3] = [64, 1024, 65536];
/// The implementations, in the order each run measures them.
const IMPLS: [Impl; 2] = [Impl::Smolmq, Impl::Libzmq];

/// One of the implementations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impl {
    /// smolmq's PAIR socket.
    Smolmq,
    /// libzmq's PAIR socket through the `zmq` crate.
    Libzmq,
}

impl Impl {
    /// The name printed in the RESULT lines.
    fn name(self) -> &'static str {
        match self {
            Impl::Smolmq => "smolmq",
            Impl::Libzmq => "libzmq",
        }
    }
}

/// How much one cell measures.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Measured runs per implementation (the median is printed).
    runs: usize,
    /// Messages per throughput run.
    messages: u64,
    /// Round trips per latency run.
    round_trips: u64,
}

impl Plan {
    /// A smoke test: what `cargo test --all-targets` runs (it starts bench
    /// binaries without `--bench`, like criterion's test mode), to check
    /// that every cell works without measuring anything.
    fn smoke() -> Self {
        Plan {
            runs: 1,
            messages: 1_000,
            round_trips: 100,
        }
    }

    /// The plan for messages of `size` bytes in the current mode.
    fn new(size: usize, full: bool) -> Self {
        let (messages, round_trips) = match size {
            0..=64 => (2_000_000, 10_000),
            65..=1024 => (600_000, 10_000),
            _ => (20_000, 2_000),
        };
        if let Some(runs) = env_number("SMOLMQ_BENCH_RUNS") {
            // Profiling: an exact workload (the unrecorded warm-up run
            // moves a tenth of it).
            return Plan {
                runs: runs as usize,
                messages: env_number("SMOLMQ_BENCH_MESSAGES").unwrap_or(messages),
                round_trips: env_number("SMOLMQ_BENCH_ROUND_TRIPS").unwrap_or(round_trips),
            };
        }
        if full {
            Plan {
                runs: 5,
                messages: messages * 2,
                round_trips: round_trips * 2,
            }
        } else {
            Plan {
                runs: 3,
                messages,
                round_trips,
            }
        }
    }
}

/// The number in environment variable `name`, if set.
fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A unique endpoint on `transport` for pair number `n` of `imp`.
fn endpoint(transport: &str, imp: Impl, n: usize) -> String {
    match transport {
        "inproc" => format!("inproc://bench-{}-{n}", imp.name()),
        "ipc" => format!("ipc://{}", ipc_path(imp, n)),
        _ => "tcp://127.0.0.1:0".to_owned(),
    }
}

/// The socket file of ipc pair number `n` of `imp`.
fn ipc_path(imp: Impl, n: usize) -> String {
    std::env::temp_dir()
        .join(format!(
            "smolmq-bench-{}-{}-{n}.sock",
            imp.name(),
            std::process::id()
        ))
        .display()
        .to_string()
}

/// One end of a connected pair, of either implementation.
// Only a few of these exist; boxing the socket would put an indirection on
// the measured path.
#[allow(clippy::large_enum_variant)]
enum End {
    /// A smolmq socket.
    Smolmq(Socket),
    /// A libzmq socket and the message `recv` reuses.
    Libzmq(zmq::Socket, zmq::Message),
}

impl End {
    /// Sends one message carrying `payload`.
    fn send(&mut self, payload: &Bytes) {
        match self {
            End::Smolmq(s) => {
                let msg = if payload.len() <= INLINE_MAX {
                    Msg::copy_from_slice(payload)
                } else {
                    Msg::from(payload.clone())
                };
                s.send_blocking(msg).expect("send")
            }
            End::Libzmq(s, _) => s.send(&payload[..], 0).expect("send"),
        }
    }

    /// Receives one message; returns its size.
    fn recv(&mut self) -> usize {
        match self {
            End::Smolmq(s) => s.recv_blocking().expect("recv").size(),
            End::Libzmq(s, msg) => {
                s.recv(msg, 0).expect("recv");
                msg.len()
            }
        }
    }

    /// Receives one message and sends it back.
    fn echo(&mut self) {
        match self {
            End::Smolmq(s) => {
                let m = s.recv_blocking().expect("recv");
                s.send_blocking(m).expect("send");
            }
            End::Libzmq(s, _) => {
                let m = s.recv_msg(0).expect("recv");
                s.send(m, 0).expect("send");
            }
        }
    }
}

/// The two contexts, one per implementation, each with one I/O thread.
struct Contexts {
    /// smolmq's, with the tcp and ipc transports.
    smolmq: Context,
    /// libzmq's.
    libzmq: zmq::Context,
}

impl Contexts {
    fn new() -> Self {
        let smolmq = Context::new().expect("I/O thread");
        smolmq.add_transport(Arc::new(smolmq_tcp::TcpTransport));
        smolmq.add_transport(Arc::new(smolmq_ipc::IpcTransport));
        Contexts {
            smolmq,
            libzmq: zmq::Context::new(),
        }
    }

    /// A connected, warmed-up pair of `imp` over `transport`:
    /// (bound end, connected end).
    fn pair(&self, imp: Impl, transport: &str, n: usize) -> (End, End) {
        let endpoint = endpoint(transport, imp, n);
        let (mut server, mut client) = match imp {
            Impl::Smolmq => {
                let mut server = self.smolmq.socket(SocketType::Pair).unwrap();
                server.bind(&endpoint).unwrap();
                let endpoint = server.last_endpoint().unwrap().to_string();
                let mut client = self.smolmq.socket(SocketType::Pair).unwrap();
                client.connect(&endpoint).unwrap();
                (End::Smolmq(server), End::Smolmq(client))
            }
            Impl::Libzmq => {
                // libzmq spells "any port" `*`.
                let endpoint = endpoint.replace(":0", ":*");
                let server = self.libzmq.socket(zmq::PAIR).unwrap();
                server.bind(&endpoint).unwrap();
                let endpoint = server.get_last_endpoint().unwrap().unwrap();
                let client = self.libzmq.socket(zmq::PAIR).unwrap();
                client.connect(&endpoint).unwrap();
                (
                    End::Libzmq(server, zmq::Message::new()),
                    End::Libzmq(client, zmq::Message::new()),
                )
            }
        };
        // Wait for the connection and warm up.
        let warm = Bytes::from_static(b"warm");
        for _ in 0..1000 {
            client.send(&warm);
            server.recv();
        }
        (server, client)
    }
}

/// Moves `count` messages of `payload` from `sender` (on its own thread)
/// to `receiver`; returns messages per second from the first send to the
/// last receive, and the sender.
fn throughput(receiver: &mut End, sender: End, payload: &Bytes, count: u64) -> (f64, End) {
    let payload = payload.clone();
    let thread = thread::spawn(move || {
        let mut sender = sender;
        let first_send = Instant::now();
        for _ in 0..count {
            sender.send(&payload);
        }
        (first_send, sender)
    });
    let mut bytes = 0;
    for _ in 0..count {
        bytes += receiver.recv();
    }
    let last_recv = Instant::now();
    std::hint::black_box(bytes);
    let (first_send, sender) = thread.join().expect("sender thread");
    let elapsed = last_recv.duration_since(first_send).as_secs_f64();
    (count as f64 / elapsed, sender)
}

/// `count` round trips of `payload` from `client` through `server`, which
/// echoes on its own thread; returns the p50 and p99 of half the round
/// trip in nanoseconds, and the server.
fn latency(client: &mut End, server: End, payload: &Bytes, count: u64) -> ((f64, f64), End) {
    let thread = thread::spawn(move || {
        let mut server = server;
        for _ in 0..count {
            server.echo();
        }
        server
    });
    let mut round_trips = Vec::with_capacity(count as usize);
    let mut last = Instant::now();
    for _ in 0..count {
        client.send(payload);
        client.recv();
        let now = Instant::now();
        round_trips.push(now.duration_since(last));
        last = now;
    }
    let server = thread.join().expect("echo thread");
    round_trips.sort_unstable();
    let half_ns = |q: f64| {
        let i = ((round_trips.len() as f64 * q).ceil() as usize).clamp(1, round_trips.len()) - 1;
        round_trips[i].as_nanos() as f64 / 2.0
    };
    ((half_ns(0.50), half_ns(0.99)), server)
}

/// The figures of one implementation in one cell, one entry per run.
#[derive(Default)]
struct Runs {
    throughput: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

/// What a run measures: for profiling one side alone
/// (`SMOLMQ_BENCH_ONLY=smolmq` or `libzmq`, `SMOLMQ_BENCH_METRIC=throughput`
/// or `latency`); both and everything by default. Figures not measured
/// print as NaN.
struct Selection {
    /// Only this implementation, if set.
    only: Option<String>,
    /// Only this metric ("throughput" or "latency"), if set.
    metric: Option<String>,
}

impl Selection {
    fn from_env() -> Self {
        Selection {
            only: std::env::var("SMOLMQ_BENCH_ONLY").ok(),
            metric: std::env::var("SMOLMQ_BENCH_METRIC").ok(),
        }
    }

    /// Whether `imp`'s `metric` is measured.
    fn measures(&self, imp: Impl, metric: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == imp.name())
            && self.metric.as_deref().is_none_or(|m| m == metric)
    }
}

/// Median of `values` (NaN if empty).
fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `v` with a metric suffix (K, M, G).
fn si(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e3 => format!("{:.1}K", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// One measured figure, for the summary at the end.
struct Figure {
    transport: &'static str,
    size: usize,
    metric: &'static str,
    /// Median per implementation, in `IMPLS` order.
    medians: [f64; 2],
}

/// Measures one cell; prints its RESULT lines as soon as it is done.
fn cell(
    ctxs: &Contexts,
    transport: &'static str,
    size: usize,
    n: usize,
    plan: Plan,
) -> Vec<Figure> {
    let payload = Bytes::from(vec![0x5au8; size]);
    let selected = Selection::from_env();
    let mut pairs: Vec<Option<(End, End)>> = IMPLS
        .iter()
        .map(|&imp| Some(ctxs.pair(imp, transport, n)))
        .collect();
    let mut runs: [Runs; 2] = Default::default();
    // One unrecorded short round of each, to warm caches and allocators at
    // this size, then the measured runs, the implementations in turns.
    for run in 0..=plan.runs {
        let (messages, round_trips) = if run == 0 {
            (plan.messages / 10, plan.round_trips / 10)
        } else {
            (plan.messages, plan.round_trips)
        };
        for (i, &imp) in IMPLS.iter().enumerate() {
            if !selected.measures(imp, "throughput") {
                continue;
            }
            let (mut server, client) = pairs[i].take().unwrap();
            let (thr, client) = throughput(&mut server, client, &payload, messages);
            if run > 0 {
                runs[i].throughput.push(thr);
            }
            pairs[i] = Some((server, client));
        }
        for (i, &imp) in IMPLS.iter().enumerate() {
            if !selected.measures(imp, "latency") {
                continue;
            }
            let (server, mut client) = pairs[i].take().unwrap();
            let ((p50, p99), server) = latency(&mut client, server, &payload, round_trips);
            if run > 0 {
                runs[i].p50.push(p50);
                runs[i].p99.push(p99);
            }
            pairs[i] = Some((server, client));
        }
    }
    drop(pairs);
    if transport == "ipc" {
        for imp in IMPLS {
            let _ = std::fs::remove_file(ipc_path(imp, n));
        }
    }

    let mut figures = Vec::new();
    for (metric, unit, pick) in [
        (
            "throughput",
            "msg/s",
            (|r: &Runs| &r.throughput) as fn(&Runs) -> &Vec<f64>,
        ),
        ("latency_p50", "ns", |r: &Runs| &r.p50),
        ("latency_p99", "ns", |r: &Runs| &r.p99),
    ] {
        let mut medians = [0.0; 2];
        for (i, imp) in IMPLS.iter().enumerate() {
            let values = pick(&runs[i]);
            medians[i] = median(values);
            let shown: Vec<String> = values.iter().map(|&v| si(v)).collect();
            eprintln!(
                "{transport:<6} {size:>5}B {metric:<11} {:<6} runs [{}] median {}",
                imp.name(),
                shown.join(" "),
                si(medians[i])
            );
            // The matrix's format: msg/s, and latencies in µs.
            if metric == "throughput" {
                println!(
                    "RESULT,{},PAIR,{transport},{size},{metric},{:.0}",
                    imp.name(),
                    medians[i]
                );
            } else {
                println!(
                    "RESULT,{},PAIR,{transport},{size},{metric},{:.3}",
                    imp.name(),
                    medians[i] / 1000.0
                );
            }
            println!(
                "RESULT,pair,{}_{transport}_{size}B,{},{:.0},{unit}",
                match metric {
                    "throughput" => "thr",
                    "latency_p50" => "lat_p50",
                    _ => "lat_p99",
                },
                imp.name(),
                medians[i]
            );
        }
        figures.push(Figure {
            transport,
            size,
            metric,
            medians,
        });
    }
    figures
}

fn main() {
    let full = smolmq_benches::full_mode();
    // `cargo bench` passes `--bench`; `cargo test` does not.
    let measuring = std::env::args().any(|a| a == "--bench");
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let ctxs = Contexts::new();
    let started = Instant::now();
    let mut figures = Vec::new();
    let mut n = 0;
    for transport in TRANSPORTS {
        for size in SIZES {
            let name = format!("{transport}_{size}B");
            if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            n += 1;
            let plan = if measuring {
                Plan::new(size, full)
            } else {
                Plan::smoke()
            };
            let cell_started = Instant::now();
            figures.extend(cell(&ctxs, transport, size, n, plan));
            eprintln!(
                "{name}: {} runs each in {:.1} s",
                plan.runs,
                cell_started.elapsed().as_secs_f64()
            );
        }
    }

    // The summary: smolmq's figure over libzmq's for every metric, so the
    // targets read directly (throughput >= 2, latency <= 0.8).
    println!();
    println!(
        "{:<7} {:>6} {:<12} {:>10} {:>10} {:>14}",
        "PAIR", "size", "metric", "smolmq", "libzmq", "smolmq/libzmq"
    );
    for f in &figures {
        let [s, z] = f.medians;
        let ratio = s / z;
        let unit = if f.metric == "throughput" { "/s" } else { "ns" };
        println!(
            "{:<7} {:>6} {:<12} {:>10} {:>10} {:>13.2}x",
            f.transport,
            f.size,
            f.metric,
            format!("{}{unit}", si(s)),
            format!("{}{unit}", si(z)),
            ratio
        );
    }
    println!(
        "pair bench: {} mode, {:.0} s of measurement",
        if !measuring {
            "smoke (cargo test)"
        } else if full {
            "full"
        } else {
            "quick"
        },
        started.elapsed().as_secs_f64()
    );
    // libzmq's context waits for its sockets on drop; they are closed.
    drop(ctxs);
}
