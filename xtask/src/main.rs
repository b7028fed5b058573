//! Project automation for smolmq, run as `cargo xtask <command>`.
//!
//! ```text
//! cargo xtask bench [LAYER...] [--full] [-- BENCH-ARGS...]
//! cargo xtask test
//! cargo xtask stress [--count N] [--rounds R]
//! ```
//!
//! `bench` runs the benchmark of each layer named (the default set when none
//! is: every layer but `pair`, which the matrix covers, and `jsonl_echo`,
//! which `jsonl` brings in when named), quick by default,
//! and gathers their `RESULT,...` lines into a table on stdout and into
//! `target/bench/results.csv`; the `matrix` layer (smolmq, libzmq and the
//! `zeromq` crate over every pattern, transport and size) prints its own
//! table and writes `target/bench/matrix.json` and `matrix.csv`, the
//! `jsonl_echo` layer `target/bench/jsonl_tcp_4kb.json` and `.csv`. `test` runs the whole
//! test suite: the workspace's tests and doctests, then the loom models of
//! the lock-free crates. `stress` runs the backpressure stress tests at full
//! size in release mode (PAIR to PAIR over inproc, ipc and tcp, HWM 10, a
//! slow consumer, both directions; 1M messages, 20 rounds by default).

use std::env;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::time::Instant;

/// Layers that have a benchmark, in the order `cargo xtask bench` runs them.
const LAYERS: &[&str] = &[
    "ypipe",
    "signaler",
    "mailbox",
    "pool",
    "zmtp",
    "jsonl",
    "jsonl_echo",
    "pair",
    "matrix",
];

/// The layers `cargo xtask bench` runs when none is named: all but `pair`,
/// whose cells (PAIR over every transport) the matrix measures too, and
/// `jsonl_echo` (about a minute in quick mode: three implementations,
/// five 3 s iterations each); the whole job stays near three minutes in
/// quick mode. Naming `jsonl` runs the codec bench and `jsonl_echo`.
const DEFAULT_LAYERS: &[&str] = &[
    "ypipe", "signaler", "mailbox", "pool", "zmtp", "jsonl", "matrix",
];

/// Crates with loom models (`tests/loom.rs` under `--cfg loom`).
const LOOM_CRATES: &[&str] = &["smolmq-ypipe", "smolmq-core"];

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  bench [LAYER...] [--full] [-- BENCH-ARGS...]
        run the layer benchmarks (every layer but pair when none is
        named), quick unless --full; prints RESULT lines and a table,
        writes target/bench/results.csv (and, for matrix,
        target/bench/matrix.json and matrix.csv)
        layers: ypipe signaler mailbox pool zmtp jsonl jsonl_echo pair matrix
        (`jsonl` named alone runs the codec bench and jsonl_echo, the
        JSON-lines echo server bench; the default set has only the codec)
        BENCH-ARGS go to every layer named: criterion's (a name filter)
        for the criterion layers; for matrix, e.g.
          cargo xtask bench matrix -- --pattern PUSH_PULL --transport tcp \
              --size 64 --impl smolmq,libzmq
        (also --metric throughput|latency, --runs N, --messages N,
        --round-trips N; `cargo xtask bench matrix -- --help`)
  test  run the whole test suite: workspace tests and doctests, then the
        loom models (tests/loom.rs of the lock-free crates)
  stress [--count N] [--rounds R]
        the backpressure stress tests at full size, in release mode
        (default: 1,000,000 messages each way, 20 rounds per transport)
";

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bench") => bench(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("stress") => stress(&args[1..]),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        process::exit(1);
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo that invoked us (or `cargo` from PATH).
fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd`, failing with its description when it does not succeed.
fn run(mut cmd: Command) -> Result<(), String> {
    eprintln!("$ {}", describe(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{}`: {e}", describe(&cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed: {status}", describe(&cmd)))
    }
}

/// A command line for messages.
fn describe(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// `cargo xtask test`: the whole test suite.
fn test(args: &[String]) -> Result<(), String> {
    if let Some(a) = args.first() {
        return Err(format!("`test` takes no arguments, got `{a}`"));
    }
    let started = Instant::now();
    let mut tests = cargo();
    tests.args(["test", "--workspace", "--all-targets"]);
    run(tests)?;
    // The facade with its features off: types and transports left out are
    // refused with errors that name the feature.
    let mut lean = cargo();
    lean.args([
        "test",
        "-p",
        "smolmq",
        "--no-default-features",
        "--features",
        "ipc",
        // The doctests show the default features.
        "--tests",
    ]);
    run(lean)?;
    // The facade with the transports that are not in its default set:
    // every socket type over them too.
    let mut extra = cargo();
    extra.args([
        "test",
        "-p",
        "smolmq",
        "--features",
        "ws,wss",
        "--test",
        "facade",
    ]);
    run(extra)?;
    // wss (ws over smolmq-tls) is a feature of smolmq-ws: its tests and
    // doctests with it on.
    let mut wss = cargo();
    wss.args(["test", "-p", "smolmq-ws", "--features", "wss"]);
    run(wss)?;
    // `--all-targets` skips doctests; run them on their own.
    let mut doctests = cargo();
    doctests.args(["test", "--workspace", "--doc"]);
    run(doctests)?;
    for krate in LOOM_CRATES {
        let mut loom = cargo();
        loom.args(["test", "--release", "-p", krate, "--test", "loom"])
            .env("RUSTFLAGS", "--cfg loom")
            // A separate target dir, so the loom build does not evict the
            // normal one.
            .env("CARGO_TARGET_DIR", root().join("target").join("loom"));
        run(loom)?;
    }
    eprintln!(
        "all tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `cargo xtask stress`: the backpressure stress tests at full size.
fn stress(args: &[String]) -> Result<(), String> {
    let mut count = "1000000".to_owned();
    let mut rounds = "20".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = |it: &mut std::slice::Iter<'_, String>| {
            it.next()
                .filter(|v| v.parse::<u64>().is_ok())
                .cloned()
                .ok_or_else(|| format!("`{a}` needs a number"))
        };
        match a.as_str() {
            "--count" => count = value(&mut it)?,
            "--rounds" => rounds = value(&mut it)?,
            other => return Err(format!("unknown stress option `{other}`")),
        }
    }
    let started = Instant::now();
    // Sockets over every transport.
    let mut sockets = cargo();
    sockets
        .args([
            "test",
            "--release",
            "-p",
            "smolmq-tests",
            "--test",
            "stress",
        ])
        .env("SMOLMQ_STRESS_COUNT", &count)
        .env("SMOLMQ_STRESS_ROUNDS", &rounds);
    run(sockets)?;
    // The engine alone, between two pipes.
    let mut engine = cargo();
    engine
        .args(["test", "--release", "-p", "smolmq-core", "--test", "engine"])
        .args(["both_directions"])
        .env("SMOLMQ_STRESS_COUNT", &count);
    run(engine)?;
    eprintln!(
        "stress tests passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `cargo xtask bench`: the layer benchmarks.
fn bench(args: &[String]) -> Result<(), String> {
    let mut layers = Vec::new();
    let mut full = false;
    let mut extra: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--full" => full = true,
            "--quick" => full = false,
            "--" => {
                extra.extend(it.by_ref().cloned());
            }
            layer if LAYERS.contains(&layer) => layers.push(layer.to_owned()),
            other => {
                return Err(format!(
                    "unknown layer or flag `{other}` (layers: {})",
                    LAYERS.join(" ")
                ))
            }
        }
    }
    if layers.is_empty() {
        layers = DEFAULT_LAYERS.iter().map(|l| l.to_string()).collect();
    } else if layers.iter().any(|l| l == "jsonl") && !layers.iter().any(|l| l == "jsonl_echo") {
        // `cargo xtask bench jsonl`: the codec and the echo server.
        let at = layers.iter().position(|l| l == "jsonl").expect("present") + 1;
        layers.insert(at, "jsonl_echo".to_owned());
    }
    let started = Instant::now();

    // Build every bench first, so compile time is not mistaken for a hang.
    let mut build = cargo();
    build.args(["bench", "-p", "smolmq-benches", "--no-run"]);
    for layer in &layers {
        build.args(["--bench", layer]);
    }
    run(build)?;

    let mut results = Vec::new();
    for layer in &layers {
        let mut cmd = cargo();
        cmd.args(["bench", "-p", "smolmq-benches", "--bench", layer, "--"]);
        cmd.args(&extra);
        if full {
            cmd.env("SMOLMQ_BENCH_FULL", "1");
        }
        cmd.stdout(Stdio::piped());
        eprintln!("$ {}", describe(&cmd));
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run `{}`: {e}", describe(&cmd)))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading bench output: {e}"))?;
            println!("{line}");
            if line.starts_with("RESULT,") {
                results.push(line);
            }
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("the {layer} bench failed: {status}"));
        }
    }

    print_table(&results);
    let dir = root().join("target").join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let csv = dir.join("results.csv");
    let mut body = String::from("tag,layer,case,implementation,value,unit\n");
    // Only the harness's lines: the matrix's (and pair's)
    // `RESULT,<impl>,<pattern>,...` lines have their own files.
    for r in results.iter().filter(|r| r.split(',').count() == 6) {
        body.push_str(r);
        body.push('\n');
    }
    fs::write(&csv, body).map_err(|e| format!("writing {}: {e}", csv.display()))?;
    eprintln!("wrote {}", csv.display());
    if layers.iter().any(|l| l == "jsonl_echo") {
        eprintln!(
            "the JSON-lines echo bench: {} and {}",
            dir.join("jsonl_tcp_4kb.json").display(),
            dir.join("jsonl_tcp_4kb.csv").display()
        );
    }
    if layers.iter().any(|l| l == "matrix") {
        eprintln!(
            "the matrix: {} and {}",
            dir.join("matrix.json").display(),
            dir.join("matrix.csv").display()
        );
    }
    eprintln!(
        "bench ({}) took {:.0} s",
        layers.join(" "),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints the gathered figures as a table, each case's implementations
/// together, with each one's ratio to the first (smolmq's) row.
fn print_table(results: &[String]) {
    let rows: Vec<Vec<&str>> = results.iter().map(|r| r.split(',').collect()).collect();
    let rows: Vec<&Vec<&str>> = rows.iter().filter(|r| r.len() == 6).collect();
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "{:<10} {:<24} {:<22} {:>16} {:<8} {:>7}",
        "layer", "case", "implementation", "median", "unit", "ratio"
    );
    let mut base: Option<(&str, &str, f64)> = None;
    for r in rows {
        let (layer, case, implementation, value, unit) = (r[1], r[2], r[3], r[4], r[5]);
        let v: f64 = value.parse().unwrap_or(f64::NAN);
        let first = match base {
            Some((l, c, b)) if l == layer && c == case => b,
            _ => {
                base = Some((layer, case, v));
                v
            }
        };
        // Ratio of smolmq's figure to this one: > 1 means smolmq is better.
        let ratio = if unit == "ns" { v / first } else { first / v };
        println!(
            "{layer:<10} {case:<24} {implementation:<22} {:>16} {unit:<8} {ratio:>6.2}x",
            group_digits(v)
        );
    }
}

/// `12345678.9` as `12,345,679`.
fn group_digits(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
