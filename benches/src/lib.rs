//! Shared harness for the smolmq layer benchmarks.
//!
//! Every bench target is a criterion benchmark (`harness = false`) that also
//! prints one machine-readable line per figure, so that `cargo xtask bench`
//! and CI can collect results without parsing criterion's reports:
//!
//! ```text
//! RESULT,<layer>,<case>,<implementation>,<value>,<unit>
//! ```
//!
//! The figure is the median over criterion's measurement samples. Quick mode
//! (the default under `cargo xtask bench`) uses few, short samples; set
//! `SMOLMQ_BENCH_FULL=1` (what `cargo xtask bench --full` does) for
//! criterion's full statistics.
//!
//! ```no_run
//! use criterion::Criterion;
//! use smolmq_benches::{Figure, Report};
//! use std::time::Instant;
//!
//! let mut c: Criterion = smolmq_benches::criterion();
//! let mut report = Report::new("example");
//! let mut case = report.case(&mut c, "sum_1k");
//! case.bench("std", Figure::Throughput { items: 1000 }, |iters| {
//!     let start = Instant::now();
//!     for _ in 0..iters {
//!         std::hint::black_box((0..1000u64).sum::<u64>());
//!     }
//!     start.elapsed()
//! });
//! case.finish();
//! report.print();
//! ```

pub mod jsonl_echo;
pub mod matrix;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// Samples criterion takes per benchmark in quick mode.
const QUICK_SAMPLES: usize = 10;
/// Samples criterion takes per benchmark in full mode.
const FULL_SAMPLES: usize = 50;

/// True when `SMOLMQ_BENCH_FULL` asks for the full, slower measurement.
pub fn full_mode() -> bool {
    std::env::var_os("SMOLMQ_BENCH_FULL").is_some_and(|v| v != "0" && !v.is_empty())
}

/// Where the bench binaries write their files: `target/bench` (under
/// `CARGO_TARGET_DIR` when it is set).
pub fn out_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("benches/ is inside the workspace")
                .join("target")
        });
    target.join("bench")
}

/// How a bench binary of the harness (the matrix, jsonl_echo) measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Under `cargo test` (no `--bench` argument): a fraction of a second,
    /// tiny counts, to see that it works.
    Smoke,
    /// `cargo xtask bench`: the default, smaller counts and fewer runs.
    Quick,
    /// `--full` (`SMOLMQ_BENCH_FULL=1`): the issues' counts and durations.
    Full,
}

impl Mode {
    /// The mode a bench binary starts from: smoke without `--bench` (what
    /// `cargo test` runs), else full if [`full_mode`], else quick. Its own
    /// `--full` / `--quick` arguments may then change it.
    pub fn from_args(args: &[String]) -> Mode {
        // `cargo bench` passes `--bench`; `cargo test` does not.
        if !args.iter().any(|a| a == "--bench") {
            Mode::Smoke
        } else if full_mode() {
            Mode::Full
        } else {
            Mode::Quick
        }
    }

    /// The name printed.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Smoke => "smoke",
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }
}

/// Number of measurement samples per benchmark in the current mode.
pub fn sample_size() -> usize {
    if full_mode() {
        FULL_SAMPLES
    } else {
        QUICK_SAMPLES
    }
}

/// A criterion configured for the current mode (quick unless `SMOLMQ_BENCH_FULL`).
pub fn criterion() -> Criterion {
    let c = Criterion::default()
        .sample_size(sample_size())
        .without_plots()
        .configure_from_args();
    if full_mode() {
        c.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5))
    } else {
        c.warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
    }
}

/// What one benchmark's figure measures.
#[derive(Debug, Clone, Copy)]
pub enum Figure {
    /// Items moved per second; one iteration moves `items` items.
    Throughput {
        /// Items one iteration of the routine moves.
        items: u64,
    },
    /// Nanoseconds one iteration takes (a latency, e.g. a round trip).
    Latency,
}

/// One figure of a layer, ready to print.
#[derive(Debug, Clone)]
struct Row {
    /// Case name, e.g. `spsc_u64_batch256`.
    case: String,
    /// Implementation name, e.g. `smolmq-ypipe`.
    implementation: String,
    /// The median figure.
    value: f64,
    /// Unit of `value`.
    unit: &'static str,
}

/// Collects the figures of one layer's benchmarks and prints them as
/// `RESULT,...` lines.
#[derive(Debug)]
pub struct Report {
    /// Layer name, the second column of every line.
    layer: &'static str,
    /// Figures gathered so far.
    rows: Vec<Row>,
}

impl Report {
    /// A new, empty report for `layer`.
    pub fn new(layer: &'static str) -> Self {
        Report {
            layer,
            rows: Vec::new(),
        }
    }

    /// Opens a criterion group for one case; its benchmarks are the
    /// implementations compared on that case.
    pub fn case<'a>(&'a mut self, c: &'a mut Criterion, case: &str) -> Case<'a> {
        Case {
            group: c.benchmark_group(case),
            case: case.to_owned(),
            report: self,
        }
    }

    /// Prints every figure gathered as a `RESULT,...` line on stdout.
    pub fn print(&self) {
        for row in &self.rows {
            println!(
                "RESULT,{},{},{},{:.0},{}",
                self.layer, row.case, row.implementation, row.value, row.unit
            );
        }
    }
}

/// One case of a layer: a criterion group whose benchmarks are the
/// implementations being compared.
#[allow(missing_debug_implementations)]
pub struct Case<'a> {
    /// The criterion group.
    group: BenchmarkGroup<'a, WallTime>,
    /// Case name, the third column of every line.
    case: String,
    /// Where the figures go.
    report: &'a mut Report,
}

impl<'a> Case<'a> {
    /// Gives access to the criterion group, e.g. to tune its sample count.
    pub fn group(&mut self) -> &mut BenchmarkGroup<'a, WallTime> {
        &mut self.group
    }

    /// Runs one implementation of the case.
    ///
    /// `routine(iters)` performs `iters` iterations and returns the time they
    /// took (criterion's `iter_custom`), so cross-thread benchmarks can time
    /// exactly the part they mean.
    pub fn bench<F>(&mut self, implementation: &str, figure: Figure, mut routine: F)
    where
        F: FnMut(u64) -> Duration,
    {
        if let Figure::Throughput { items } = figure {
            self.group.throughput(Throughput::Elements(items));
        }
        let samples: Rc<RefCell<Vec<(u64, Duration)>>> = Rc::default();
        let recorded = samples.clone();
        self.group.bench_function(implementation, move |b| {
            b.iter_custom(|iters| {
                let elapsed = routine(iters);
                recorded.borrow_mut().push((iters, elapsed));
                elapsed
            })
        });
        let samples = samples.borrow();
        // Criterion calls the routine for warm-up first, then exactly
        // `sample_size` times to measure: keep the measured ones.
        let measured = &samples[samples.len().saturating_sub(sample_size())..];
        if measured.is_empty() {
            // Filtered out on the command line.
            return;
        }
        let mut per_iter: Vec<f64> = measured
            .iter()
            .map(|&(iters, d)| d.as_secs_f64() / iters.max(1) as f64)
            .collect();
        per_iter.sort_by(f64::total_cmp);
        let median = median_of_sorted(&per_iter);
        let (value, unit) = match figure {
            Figure::Throughput { items } => (items as f64 / median, "items/s"),
            Figure::Latency => (median * 1e9, "ns"),
        };
        self.report.rows.push(Row {
            case: self.case.clone(),
            implementation: implementation.to_owned(),
            value,
            unit,
        });
    }

    /// Closes the criterion group.
    pub fn finish(self) {
        self.group.finish();
    }
}

/// Median of a sorted, non-empty slice.
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}
