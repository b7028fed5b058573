//! The JSON-lines echo bench (issue 8): many client connections, each
//! sending a 4 KiB JSON-RPC request and waiting for its echo, for a fixed
//! time per iteration.
//!
//! Rows (implementations):
//!
//! * `smolmq`: a ROUTER that sends every message back as it came (the
//!   transport level: no JSON parse), DEALER clients;
//! * `smolmq-mcp`: the same sockets through `smolmq-mcp`: the server
//!   parses each request, dispatches it to an `echo` handler and
//!   serializes the response; the clients make the requests and match the
//!   responses by id;
//! * `tokio`: the baseline: a tokio TCP server and clients framed by
//!   tokio-util's `LinesCodec`, the server writing each line back.
//!
//! Each implementation runs in a process of its own (the bench binary
//! started again with `--child`), so that its peak RSS and RSS growth are
//! its own. A child sets up the server and the connections, runs one
//! unrecorded warm-up iteration, then the measured iterations on the same
//! connections, and prints one `ITER,...` line per iteration. Latency is
//! per request, from just before its send to the receipt of its response
//! (one request in flight per connection), in a fixed-storage histogram.
//!
//! The parent prints the table, `RESULT,<impl>,jsonl_echo,tcp,<size>,
//! <throughput|latency_p50|latency_p99>,<value>` lines (round trips/s,
//! µs; medians over the iterations), the ratios to tokio, the targets, and
//! writes `target/bench/jsonl_tcp_4kb.json` and `.csv` (one row per
//! iteration).

mod hist;
mod with_smolmq;
mod with_tokio;

pub(crate) use crate::Mode;
use hist::Histogram;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

/// The command-line options.
pub const USAGE: &str = "\
jsonl_echo bench options (after `--`, e.g. `cargo xtask bench jsonl_echo -- --impl smolmq,tokio`):
  --impl I[,I..]       smolmq smolmq-mcp tokio (default: all)
  --duration S         seconds per iteration (default: 3 quick, 10 full)
  --iterations N       measured iterations (default: 5)
  --connections N      client connections (default: 32)
  --size B             request line bytes (default: 4096)
  --wire W             smolmq's wire: jsonl (tcp+jsonl://) or zmtp (tcp://) (default: jsonl)
  --io-threads N       I/O threads of each smolmq context, with --on-executor 0 (default: 1)
  --io-spin US         smolmq I/O threads' spin before sleeping, µs (default: the core's)
  --shared-context     smolmq server and clients on one context (default: one each)
  --server-thread      smolmq's server loop, blocking, on a thread of its own (with
                       --on-executor 0; default: a task on an executor)
  --on-executor N      smolmq's I/O (every engine) on the bench's executors instead
                       of I/O threads (ContextConfig::executor): 1, one thread runs
                       the clients, the server and every engine; 2, the server and
                       its engines on a thread of their own, the clients and theirs
                       on another (the default); 0, I/O threads
  --workers N          tokio worker threads (default: 2)
  --tokio-split        tokio's server on a thread and current-thread runtime of its
                       own, the clients on another (default: one runtime of
                       --workers threads for both)
  --no-files           do not write target/bench/jsonl_tcp_4kb.json / .csv
  --full / --quick     the mode (default: SMOLMQ_BENCH_FULL, else quick)
";

/// The implementations, in the order they run.
const IMPLS: [&str; 3] = ["smolmq", "smolmq-mcp", "tokio"];

/// What one run measures.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The mode.
    mode: Mode,
    /// Implementations to run.
    impls: Vec<String>,
    /// Measured time per iteration.
    pub(crate) duration: Duration,
    /// Measured iterations.
    iterations: usize,
    /// Client connections.
    pub(crate) connections: usize,
    /// Request line size in bytes (without the newline).
    pub(crate) size: usize,
    /// smolmq over JSON lines (`tcp+jsonl://`) rather than ZMTP.
    pub(crate) jsonl: bool,
    /// I/O threads per smolmq context.
    pub(crate) io_threads: usize,
    /// Threads running the smolmq engines' executor instead of I/O
    /// threads (see `--on-executor` in [`USAGE`]); 0: off.
    pub(crate) on_executor: usize,
    /// The smolmq I/O threads' spin, if not the default.
    pub(crate) io_spin: Option<Duration>,
    /// Server and clients on one smolmq context.
    pub(crate) shared_context: bool,
    /// The smolmq server loop on a thread of its own.
    pub(crate) server_thread: bool,
    /// tokio worker threads.
    pub(crate) workers: usize,
    /// tokio's server and clients on two current-thread runtimes, each on
    /// a thread of its own, instead of one multi-thread runtime.
    pub(crate) tokio_split: bool,
    /// Whether to write the files.
    files: bool,
    /// Set in a child: the one implementation it runs.
    child: Option<String>,
}

impl Config {
    /// The configuration for the bench binary's arguments.
    fn from_args(args: &[String]) -> Result<Config, String> {
        let mut mode = Mode::from_args(args);
        let measuring = mode != Mode::Smoke;
        let mut impls = None;
        let mut duration = None;
        let mut iterations = None;
        let mut connections = None;
        let mut size = 4096;
        let mut jsonl = true;
        let mut io_threads = 1;
        let mut on_executor = 2;
        let mut io_spin = None;
        let mut shared_context = false;
        let mut server_thread = false;
        let mut workers = 2;
        let mut tokio_split = false;
        let mut files = true;
        let mut child = None;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("`{a}` needs a value\n\n{USAGE}"))
            };
            let number = |v: String| {
                v.parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("`{a}` needs a positive number, not `{v}`"))
            };
            match a.as_str() {
                "--bench" => {}
                "--full" if measuring => mode = Mode::Full,
                "--quick" if measuring => mode = Mode::Quick,
                "--full" | "--quick" => {}
                "--impl" => {
                    let list: Vec<String> = value()?.split(',').map(str::to_owned).collect();
                    if let Some(bad) = list.iter().find(|i| !IMPLS.contains(&i.as_str())) {
                        return Err(format!("unknown --impl `{bad}` (smolmq smolmq-mcp tokio)"));
                    }
                    impls = Some(list);
                }
                "--duration" => {
                    let v = value()?;
                    let s: f64 = v
                        .parse()
                        .ok()
                        .filter(|s: &f64| *s > 0.0 && s.is_finite())
                        .ok_or_else(|| format!("bad --duration `{v}`"))?;
                    duration = Some(Duration::from_secs_f64(s));
                }
                "--iterations" => iterations = Some(number(value()?)?),
                "--connections" => connections = Some(number(value()?)?),
                "--size" => size = number(value()?)?,
                "--io-threads" => io_threads = number(value()?)?,
                "--on-executor" => {
                    let v = value()?;
                    on_executor = v.parse().map_err(|_| format!("bad --on-executor `{v}`"))?;
                }
                "--io-spin" => {
                    let v = value()?;
                    let us: u64 = v.parse().map_err(|_| format!("bad --io-spin `{v}`"))?;
                    io_spin = Some(Duration::from_micros(us));
                }
                "--shared-context" => shared_context = true,
                "--server-thread" => server_thread = true,
                "--workers" => workers = number(value()?)?,
                "--tokio-split" => tokio_split = true,
                "--wire" => match value()?.as_str() {
                    "jsonl" => jsonl = true,
                    "zmtp" => jsonl = false,
                    other => return Err(format!("unknown --wire `{other}` (jsonl, zmtp)")),
                },
                "--no-files" => files = false,
                "--child" => child = Some(value()?),
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
            }
        }
        if server_thread && on_executor > 0 {
            return Err(
                "--server-thread runs a blocking server loop: use it with --on-executor 0"
                    .to_owned(),
            );
        }
        if on_executor > 2 {
            return Err(format!("--on-executor {on_executor}: 0, 1 or 2"));
        }
        // The smallest request line this bench makes.
        if size < 128 {
            return Err(format!("--size {size} is too small: at least 128 bytes"));
        }
        let (default_duration, default_iterations, default_connections) = match mode {
            Mode::Smoke => (Duration::from_millis(200), 1, 4),
            Mode::Quick => (Duration::from_secs(3), 5, 32),
            Mode::Full => (Duration::from_secs(10), 5, 32),
        };
        Ok(Config {
            mode,
            impls: impls.unwrap_or_else(|| IMPLS.iter().map(|s| s.to_string()).collect()),
            duration: duration.unwrap_or(default_duration),
            iterations: iterations.unwrap_or(default_iterations),
            connections: connections.unwrap_or(default_connections),
            size,
            jsonl,
            io_threads,
            on_executor,
            io_spin,
            shared_context,
            server_thread,
            workers,
            tokio_split,
            files: files && mode != Mode::Smoke,
            child,
        })
    }

    /// The arguments that make a child run `implementation` like this.
    fn child_args(&self, implementation: &str) -> Vec<String> {
        let mut args = vec![
            "--bench".to_owned(),
            "--child".to_owned(),
            implementation.to_owned(),
            "--duration".to_owned(),
            self.duration.as_secs_f64().to_string(),
            "--iterations".to_owned(),
            self.iterations.to_string(),
            "--connections".to_owned(),
            self.connections.to_string(),
            "--size".to_owned(),
            self.size.to_string(),
            "--wire".to_owned(),
            if self.jsonl { "jsonl" } else { "zmtp" }.to_owned(),
            "--io-threads".to_owned(),
            self.io_threads.to_string(),
            "--on-executor".to_owned(),
            self.on_executor.to_string(),
            "--workers".to_owned(),
            self.workers.to_string(),
        ];
        if let Some(spin) = self.io_spin {
            args.push("--io-spin".to_owned());
            args.push(spin.as_micros().to_string());
        }
        if self.shared_context {
            args.push("--shared-context".to_owned());
        }
        if self.server_thread {
            args.push("--server-thread".to_owned());
        }
        if self.tokio_split {
            args.push("--tokio-split".to_owned());
        }
        if self.mode == Mode::Smoke {
            // `--bench` would make the child measure in quick mode; it
            // only says "measuring", the explicit figures say how much.
            args.push("--quick".to_owned());
        }
        args
    }
}

/// One implementation's server and connections, reused by every iteration.
pub(crate) trait Rig {
    /// Runs every connection's request loop for `duration`, recording each
    /// round trip in `hist`; the round trips made and the time they took.
    fn run(&mut self, duration: Duration, hist: &mut Histogram) -> Result<(u64, Duration), String>;
}

/// A JSON-RPC request line of exactly `size` bytes (no newline), with id
/// `id`: `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"data":"xx..."}}`.
pub(crate) fn request_line(size: usize, id: u64) -> String {
    let head = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"echo","params":{{"data":""#);
    let tail = r#""}}"#;
    let fill = size.saturating_sub(head.len() + tail.len());
    let mut line = String::with_capacity(size);
    line.push_str(&head);
    line.extend(std::iter::repeat_n('x', fill));
    line.push_str(tail);
    line
}

/// The params of [`request_line`] such that the whole request, made by
/// smolmq-mcp's client with a 6-digit id, is `size` bytes.
pub(crate) fn request_params(size: usize) -> String {
    let line = request_line(size, 100_000);
    let start = line.find(r#""params":"#).expect("params") + r#""params":"#.len();
    line[start..line.len() - 1].to_owned()
}

/// One measured iteration, as a child reports it.
#[derive(Debug, Clone)]
struct Iteration {
    /// Which implementation.
    implementation: String,
    /// 1-based.
    index: usize,
    /// Round trips made.
    ops: u64,
    /// The time they took.
    duration_ms: f64,
    /// Round trips per second.
    throughput: f64,
    /// Latency, µs.
    min: f64,
    /// Latency, µs.
    p50: f64,
    /// Latency, µs.
    p95: f64,
    /// Latency, µs.
    p99: f64,
    /// Latency, µs.
    max: f64,
    /// Latency, µs.
    avg: f64,
    /// VmRSS before the iteration, kB.
    rss_start_kb: u64,
    /// VmRSS after it, kB.
    rss_end_kb: u64,
    /// VmHWM after it, kB.
    rss_peak_kb: u64,
}

impl Iteration {
    /// The `ITER,...` line a child prints.
    fn to_line(&self) -> String {
        format!(
            "ITER,{},{},{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{},{},{}",
            self.implementation,
            self.index,
            self.ops,
            self.duration_ms,
            self.min,
            self.p50,
            self.p95,
            self.p99,
            self.max,
            self.avg,
            self.rss_start_kb,
            self.rss_end_kb,
            self.rss_peak_kb
        )
    }

    /// Parses an `ITER,...` line.
    fn parse(line: &str) -> Option<Iteration> {
        let f: Vec<&str> = line.strip_prefix("ITER,")?.split(',').collect();
        if f.len() != 13 {
            return None;
        }
        let num = |i: usize| f[i].parse::<f64>().ok();
        let int = |i: usize| f[i].parse::<u64>().ok();
        let ops = int(2)?;
        let duration_ms = num(3)?;
        Some(Iteration {
            implementation: f[0].to_owned(),
            index: f[1].parse().ok()?,
            ops,
            duration_ms,
            throughput: ops as f64 / (duration_ms / 1e3),
            min: num(4)?,
            p50: num(5)?,
            p95: num(6)?,
            p99: num(7)?,
            max: num(8)?,
            avg: num(9)?,
            rss_start_kb: int(10)?,
            rss_end_kb: int(11)?,
            rss_peak_kb: int(12)?,
        })
    }
}

/// The bench's entry point: the parent (every implementation, each in a
/// child process) or a child (one implementation).
pub fn main(args: &[String]) -> Result<(), String> {
    let cfg = Config::from_args(args)?;
    match cfg.child.clone() {
        Some(implementation) => child(&cfg, &implementation),
        None => parent(&cfg),
    }
}

/// A child: sets up `implementation`, warms up, measures, prints `ITER`
/// lines.
fn child(cfg: &Config, implementation: &str) -> Result<(), String> {
    let mut rig: Box<dyn Rig> = match implementation {
        "smolmq" => Box::new(with_smolmq::Transport::new(cfg)?),
        "smolmq-mcp" => Box::new(with_smolmq::Mcp::new(cfg)?),
        "tokio" => Box::new(with_tokio::Lines::new(cfg)?),
        other => return Err(format!("unknown implementation `{other}`")),
    };
    let mut hist = Histogram::new();
    // Warm-up: connections made, buffers grown, code paged in.
    let warm_up = (cfg.duration / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
    rig.run(warm_up, &mut hist)?;
    for index in 1..=cfg.iterations {
        hist.clear();
        let rss_start_kb = status_kb("VmRSS");
        let (ops, took) = rig.run(cfg.duration, &mut hist)?;
        if hist.len() != ops || ops == 0 {
            return Err(format!(
                "{implementation}: {ops} round trips, {} latencies",
                hist.len()
            ));
        }
        let it = Iteration {
            implementation: implementation.to_owned(),
            index,
            ops,
            duration_ms: took.as_secs_f64() * 1e3,
            throughput: ops as f64 / took.as_secs_f64(),
            min: hist.min_us(),
            p50: hist.quantile_us(0.50),
            p95: hist.quantile_us(0.95),
            p99: hist.quantile_us(0.99),
            max: hist.max_us(),
            avg: hist.avg_us(),
            rss_start_kb,
            rss_end_kb: status_kb("VmRSS"),
            rss_peak_kb: status_kb("VmHWM"),
        };
        println!("{}", it.to_line());
    }
    Ok(())
}

/// The parent: runs each implementation in a child, gathers and reports.
fn parent(cfg: &Config) -> Result<(), String> {
    let started = Instant::now();
    let exe = std::env::current_exe().map_err(|e| format!("finding the bench binary: {e}"))?;
    let load_before = loadavg();
    eprintln!(
        "jsonl_echo ({}): {} connections, {} B requests, {} x {:.1} s per implementation, smolmq over {}; load average {load_before}",
        cfg.mode.name(),
        cfg.connections,
        cfg.size,
        cfg.iterations,
        cfg.duration.as_secs_f64(),
        if cfg.jsonl { "tcp+jsonl://" } else { "tcp:// (ZMTP)" },
    );
    let mut all: Vec<Iteration> = Vec::new();
    for implementation in &cfg.impls {
        let out = Command::new(&exe)
            .args(cfg.child_args(implementation))
            .output()
            .map_err(|e| format!("starting the {implementation} child: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "the {implementation} child failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let rows: Vec<Iteration> = stdout.lines().filter_map(Iteration::parse).collect();
        if rows.len() != cfg.iterations {
            return Err(format!(
                "the {implementation} child reported {} of {} iterations",
                rows.len(),
                cfg.iterations
            ));
        }
        for r in &rows {
            eprintln!(
                "  {implementation} [{}/{}] {:.0} rt/s, p50 {:.1} µs, p99 {:.1} µs, rss {} kB",
                r.index, cfg.iterations, r.throughput, r.p50, r.p99, r.rss_end_kb
            );
        }
        all.extend(rows);
    }
    let load_after = loadavg();
    let summaries: Vec<Summary> = cfg.impls.iter().map(|i| Summary::of(i, &all)).collect();
    print_report(cfg, &summaries, &load_before, &load_after);
    if cfg.files {
        write_files(
            cfg,
            &all,
            &summaries,
            &load_before,
            &load_after,
            started.elapsed(),
        )?;
    }
    Ok(())
}

/// One implementation over its iterations.
#[derive(Debug, Clone)]
struct Summary {
    /// Which.
    implementation: String,
    /// Medians over the iterations.
    throughput: f64,
    /// Median of the iterations' minimum, µs.
    min: f64,
    /// Median p50, µs.
    p50: f64,
    /// Median p95, µs.
    p95: f64,
    /// Median p99, µs.
    p99: f64,
    /// The largest maximum, µs.
    max: f64,
    /// Median mean, µs.
    avg: f64,
    /// The child's VmHWM at the end, kB.
    rss_peak_kb: u64,
    /// VmRSS after the last iteration minus after the first, kB.
    rss_growth_kb: i64,
}

impl Summary {
    /// The summary of `implementation`'s rows in `all`.
    fn of(implementation: &str, all: &[Iteration]) -> Summary {
        let rows: Vec<&Iteration> = all
            .iter()
            .filter(|r| r.implementation == implementation)
            .collect();
        let med = |f: fn(&Iteration) -> f64| median(rows.iter().map(|r| f(r)).collect());
        let first = rows.first().map_or(0, |r| r.rss_end_kb) as i64;
        let last = rows.last().map_or(0, |r| r.rss_end_kb) as i64;
        Summary {
            implementation: implementation.to_owned(),
            throughput: med(|r| r.throughput),
            min: med(|r| r.min),
            p50: med(|r| r.p50),
            p95: med(|r| r.p95),
            p99: med(|r| r.p99),
            max: rows.iter().map(|r| r.max).fold(f64::NAN, f64::max),
            avg: med(|r| r.avg),
            rss_peak_kb: rows.iter().map(|r| r.rss_peak_kb).max().unwrap_or(0),
            rss_growth_kb: last - first,
        }
    }
}

/// The median of `v` (NaN for none).
fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The targets of issue 8, checked against the figures.
fn targets(summaries: &[Summary]) -> Vec<String> {
    let get = |name: &str| summaries.iter().find(|s| s.implementation == name);
    let mark = |ok: bool| if ok { "✓" } else { "✗" };
    let mut out = Vec::new();
    if let Some(s) = get("smolmq") {
        out.push(format!(
            "smolmq throughput {:.0} rt/s (target >= 300,000) {}",
            s.throughput,
            mark(s.throughput >= 300_000.0)
        ));
        out.push(format!(
            "smolmq p99 {:.1} µs (target < 1,000) {}",
            s.p99,
            mark(s.p99 < 1000.0)
        ));
        out.push(format!(
            "smolmq rss growth {} kB (target < 2,048) {}",
            s.rss_growth_kb,
            mark(s.rss_growth_kb < 2048)
        ));
        if let Some(t) = get("tokio") {
            let r = s.throughput / t.throughput;
            out.push(format!(
                "smolmq / tokio throughput {r:.2}x (target >= 1.5x) {}",
                mark(r >= 1.5)
            ));
        }
    }
    if let (Some(m), Some(t)) = (get("smolmq-mcp"), get("tokio")) {
        out.push(format!(
            "smolmq-mcp / tokio throughput {:.2}x (parse and dispatch; no target)",
            m.throughput / t.throughput
        ));
    }
    out
}

/// Prints the RESULT lines, the table, the ratios and the targets.
fn print_report(cfg: &Config, summaries: &[Summary], load_before: &str, load_after: &str) {
    for s in summaries {
        for (metric, v) in [
            ("throughput", s.throughput),
            ("latency_p50", s.p50),
            ("latency_p99", s.p99),
        ] {
            println!(
                "RESULT,{},jsonl_echo,tcp,{},{metric},{}",
                s.implementation,
                cfg.size,
                if metric == "throughput" {
                    format!("{v:.0}")
                } else {
                    format!("{v:.1}")
                }
            );
        }
    }
    println!();
    println!(
        "jsonl_echo tcp {} B, {} connections, {} x {:.1} s ({}), medians of the iterations; load average {load_before} before, {load_after} after",
        cfg.size,
        cfg.connections,
        cfg.iterations,
        cfg.duration.as_secs_f64(),
        cfg.mode.name()
    );
    println!(
        "{:<11} {:>10} {:>7} {:>7} {:>7} {:>7} {:>8} {:>7} {:>9} {:>9}",
        "impl", "rt/s", "min µs", "p50", "p95", "p99", "max", "avg", "peak kB", "growth kB"
    );
    for s in summaries {
        println!(
            "{:<11} {:>10.0} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>8.1} {:>7.1} {:>9} {:>9}",
            s.implementation,
            s.throughput,
            s.min,
            s.p50,
            s.p95,
            s.p99,
            s.max,
            s.avg,
            s.rss_peak_kb,
            s.rss_growth_kb
        );
    }
    if cfg.mode == Mode::Smoke {
        println!("smoke mode: tiny run, the figures mean nothing; targets not checked");
        return;
    }
    for line in targets(summaries) {
        println!("{line}");
    }
}

/// A number as JSON (non-finite as null).
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".to_owned()
    }
}

/// Writes target/bench/jsonl_tcp_4kb.json and .csv.
fn write_files(
    cfg: &Config,
    all: &[Iteration],
    summaries: &[Summary],
    load_before: &str,
    load_after: &str,
    elapsed: Duration,
) -> Result<(), String> {
    let dir = crate::out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    // erlmcp's columns (without its Erlang GC ones) plus the implementation
    // and RSS.
    let mut csv = String::from(
        "impl,iteration,throughput_msg_sec,operations,duration_ms,min_us,p50_us,p95_us,p99_us,max_us,avg_us,rss_start_kb,rss_end_kb,rss_peak_kb\n",
    );
    for r in all {
        let _ = writeln!(
            csv,
            "{},{},{:.2},{},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{},{},{}",
            r.implementation,
            r.index,
            r.throughput,
            r.ops,
            r.duration_ms,
            r.min,
            r.p50,
            r.p95,
            r.p99,
            r.max,
            r.avg,
            r.rss_start_kb,
            r.rss_end_kb,
            r.rss_peak_kb
        );
    }
    let mut json = String::from("{\n");
    let _ = writeln!(json, "  \"bench\": \"jsonl_echo\",");
    let _ = writeln!(json, "  \"transport\": \"tcp\",");
    let _ = writeln!(
        json,
        "  \"smolmq_wire\": \"{}\",",
        if cfg.jsonl { "tcp+jsonl" } else { "zmtp" }
    );
    let _ = writeln!(json, "  \"size\": {},", cfg.size);
    let _ = writeln!(json, "  \"connections\": {},", cfg.connections);
    let _ = writeln!(json, "  \"mode\": \"{}\",", cfg.mode.name());
    let _ = writeln!(
        json,
        "  \"duration_s\": {},",
        json_num(cfg.duration.as_secs_f64())
    );
    let _ = writeln!(json, "  \"iterations\": {},", cfg.iterations);
    let _ = writeln!(json, "  \"smolmq_io_threads\": {},", cfg.io_threads);
    let _ = writeln!(json, "  \"smolmq_on_executor\": {},", cfg.on_executor);
    let _ = writeln!(
        json,
        "  \"smolmq_io_spin_us\": {},",
        cfg.io_spin
            .map_or("null".to_owned(), |s| s.as_micros().to_string())
    );
    let _ = writeln!(json, "  \"smolmq_shared_context\": {},", cfg.shared_context);
    let _ = writeln!(json, "  \"smolmq_server_thread\": {},", cfg.server_thread);
    let _ = writeln!(json, "  \"tokio_workers\": {},", cfg.workers);
    let _ = writeln!(json, "  \"tokio_split\": {},", cfg.tokio_split);
    let _ = writeln!(json, "  \"loadavg_before\": \"{load_before}\",");
    let _ = writeln!(json, "  \"loadavg_after\": \"{load_after}\",");
    let _ = writeln!(
        json,
        "  \"elapsed_s\": {},",
        json_num(elapsed.as_secs_f64())
    );
    json.push_str("  \"results\": [\n");
    for (n, s) in summaries.iter().enumerate() {
        let _ = writeln!(json, "    {{");
        let _ = writeln!(json, "      \"impl\": \"{}\",", s.implementation);
        let _ = writeln!(
            json,
            "      \"median\": {{\"throughput_rt_s\": {}, \"min_us\": {}, \"p50_us\": {}, \"p95_us\": {}, \"p99_us\": {}, \"avg_us\": {}}},",
            json_num(s.throughput),
            json_num(s.min),
            json_num(s.p50),
            json_num(s.p95),
            json_num(s.p99),
            json_num(s.avg)
        );
        let _ = writeln!(json, "      \"max_us\": {},", json_num(s.max));
        let _ = writeln!(json, "      \"rss_peak_kb\": {},", s.rss_peak_kb);
        let _ = writeln!(json, "      \"rss_growth_kb\": {},", s.rss_growth_kb);
        json.push_str("      \"iterations\": [\n");
        let rows: Vec<&Iteration> = all
            .iter()
            .filter(|r| r.implementation == s.implementation)
            .collect();
        for (k, r) in rows.iter().enumerate() {
            let _ = write!(
                json,
                "        {{\"iteration\": {}, \"throughput_rt_s\": {}, \"operations\": {}, \"duration_ms\": {}, \"latency_us\": {{\"min\": {}, \"p50\": {}, \"p95\": {}, \"p99\": {}, \"max\": {}, \"avg\": {}}}, \"rss_start_kb\": {}, \"rss_end_kb\": {}, \"rss_peak_kb\": {}}}",
                r.index,
                json_num(r.throughput),
                r.ops,
                json_num(r.duration_ms),
                json_num(r.min),
                json_num(r.p50),
                json_num(r.p95),
                json_num(r.p99),
                json_num(r.max),
                json_num(r.avg),
                r.rss_start_kb,
                r.rss_end_kb,
                r.rss_peak_kb
            );
            json.push_str(if k + 1 < rows.len() { ",\n" } else { "\n" });
        }
        json.push_str("      ]\n");
        json.push_str(if n + 1 < summaries.len() {
            "    },\n"
        } else {
            "    }\n"
        });
    }
    json.push_str("  ],\n  \"targets\": [");
    let t = targets(summaries);
    for (k, line) in t.iter().enumerate() {
        let _ = write!(json, "{}\n    \"{}\"", if k == 0 { "" } else { "," }, line);
    }
    json.push_str("\n  ]\n}\n");
    let json_path = dir.join("jsonl_tcp_4kb.json");
    let csv_path = dir.join("jsonl_tcp_4kb.csv");
    std::fs::write(&json_path, json)
        .map_err(|e| format!("writing {}: {e}", json_path.display()))?;
    std::fs::write(&csv_path, csv).map_err(|e| format!("writing {}: {e}", csv_path.display()))?;
    eprintln!("wrote {} and {}", json_path.display(), csv_path.display());
    Ok(())
}

/// A field of /proc/self/status in kB (0 where there is none).
fn status_kb(field: &str) -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The first three fields of /proc/loadavg.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "n/a".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_have_the_size_asked() {
        for size in [128, 4096, 65536] {
            let line = request_line(size, 7);
            assert_eq!(line.len(), size);
            assert!(serde_json::from_str::<serde_json::Value>(&line).is_ok());
        }
        let params = request_params(4096);
        let mcp = format!(r#"{{"jsonrpc":"2.0","id":123456,"method":"echo","params":{params}}}"#);
        assert_eq!(mcp.len(), 4096);
    }

    #[test]
    fn iteration_lines_round_trip() {
        let line = "ITER,tokio,2,1000,1000.000,1.000,2.000,3.000,4.000,5.000,2.500,10,20,30";
        let it = Iteration::parse(line).unwrap();
        assert_eq!(it.to_line(), line);
        assert_eq!(it.throughput, 1000.0);
    }
}
