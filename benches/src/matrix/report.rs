//! The matrix's output: RESULT lines, the table with ratios and targets,
//! target/bench/matrix.json and matrix.csv.

use super::{Impl, Mode, Pattern, Selection, Transport};
use std::fmt::Write as _;
use std::time::Duration;

/// Median, min and max over the runs of one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The median.
    pub median: f64,
    /// The smallest run.
    pub min: f64,
    /// The largest run.
    pub max: f64,
    /// Every run, in order.
    pub runs: Vec<f64>,
}

impl Stats {
    /// The statistics of `runs`; `None` when there are none.
    pub fn of(runs: &[f64]) -> Option<Stats> {
        if runs.is_empty() {
            return None;
        }
        let mut v = runs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: v[0],
            max: v[n - 1],
            runs: runs.to_vec(),
        })
    }
}

/// What one implementation measured in one cell.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The implementation.
    pub imp: Impl,
    /// The pattern.
    pub pattern: Pattern,
    /// The transport.
    pub transport: Transport,
    /// Message size in bytes.
    pub size: usize,
    /// Throughput, msg/s.
    pub throughput: Option<Stats>,
    /// Latency p50 (half round trip), µs.
    pub p50: Option<Stats>,
    /// Latency p99 (half round trip), µs.
    pub p99: Option<Stats>,
    /// Why the implementation does not do this cell.
    pub not_applicable: Option<&'static str>,
    /// Why it stopped measuring the cell (figures before are kept).
    pub failed: Option<String>,
}

impl Measured {
    /// An empty record.
    pub fn new(imp: Impl, pattern: Pattern, transport: Transport, size: usize) -> Measured {
        Measured {
            imp,
            pattern,
            transport,
            size,
            throughput: None,
            p50: None,
            p99: None,
            not_applicable: None,
            failed: None,
        }
    }

    /// A cell the implementation cannot do, and why.
    pub fn not_applicable(
        imp: Impl,
        pattern: Pattern,
        transport: Transport,
        size: usize,
        why: &'static str,
    ) -> Measured {
        Measured {
            not_applicable: Some(why),
            ..Measured::new(imp, pattern, transport, size)
        }
    }

    /// The figures by metric name.
    fn metrics(&self) -> [(&'static str, Option<&Stats>); 3] {
        [
            ("throughput", self.throughput.as_ref()),
            ("latency_p50", self.p50.as_ref()),
            ("latency_p99", self.p99.as_ref()),
        ]
    }

    /// Per-run figures on stderr.
    pub fn print_progress(&self) {
        let head = format!(
            "{:<18} {:<6} {:>6}B {:<6}",
            self.pattern.name(),
            self.transport.name(),
            self.size,
            self.imp.name()
        );
        if let Some(why) = self.not_applicable {
            eprintln!("{head} n/a: {why}");
            return;
        }
        for (metric, stats) in self.metrics() {
            if let Some(s) = stats {
                let runs: Vec<String> = s.runs.iter().map(|&v| fmt_value(metric, v)).collect();
                eprintln!(
                    "{head} {metric:<11} median {} [{}]",
                    fmt_value(metric, s.median),
                    runs.join(" ")
                );
            }
        }
    }

    /// `RESULT,<impl>,<pattern>,<transport>,<size>,<metric>,<value>` lines
    /// on stdout, msg/s and µs.
    pub fn print_results(&self) {
        for (metric, stats) in self.metrics() {
            if let Some(s) = stats {
                let value = if metric == "throughput" {
                    format!("{:.0}", s.median)
                } else {
                    format!("{:.3}", s.median)
                };
                println!(
                    "RESULT,{},{},{},{},{metric},{value}",
                    self.imp.name(),
                    self.pattern.name(),
                    self.transport.name(),
                    self.size
                );
            }
        }
    }
}

/// `v` of `metric` for people: msg/s with K / M, µs with decimals.
fn fmt_value(metric: &str, v: f64) -> String {
    if metric == "throughput" {
        match v {
            v if v >= 1e6 => format!("{:.2}M", v / 1e6),
            v if v >= 1e3 => format!("{:.1}K", v / 1e3),
            v => format!("{v:.0}"),
        }
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The target of a cell's metric, as a ratio smolmq / libzmq: `(bound,
/// at_least)`; at_least false means "at most".
pub(super) fn target(size: usize, metric: &str) -> Option<(f64, bool)> {
    match (size, metric) {
        (64, "throughput") => Some((2.0, true)),
        (64, "latency_p50") => Some((0.8, false)),
        (65536 | 131072, "throughput") => Some((1.2, true)),
        _ => None,
    }
}

/// One row of the table: a cell with every implementation's figures.
struct Row<'a> {
    pattern: Pattern,
    transport: Transport,
    size: usize,
    by_impl: Vec<&'a Measured>,
}

impl Row<'_> {
    fn get(&self, imp: Impl) -> Option<&Measured> {
        self.by_impl.iter().copied().find(|m| m.imp == imp)
    }

    fn median(&self, imp: Impl, metric: &str) -> Option<f64> {
        let m = self.get(imp)?;
        let s = match metric {
            "throughput" => m.throughput.as_ref(),
            "latency_p50" => m.p50.as_ref(),
            _ => m.p99.as_ref(),
        }?;
        Some(s.median)
    }

    /// smolmq's median over libzmq's.
    fn ratio(&self, metric: &str) -> Option<f64> {
        Some(self.median(Impl::Smolmq, metric)? / self.median(Impl::Libzmq, metric)?)
    }

    fn shown(&self, imp: Impl, metric: &str) -> String {
        match self.get(imp) {
            None => "-".to_owned(),
            Some(m) if m.not_applicable.is_some() => "n/a".to_owned(),
            Some(m) => match self.median(imp, metric) {
                Some(v) => fmt_value(metric, v),
                None if m.failed.is_some() => "FAIL".to_owned(),
                None => "-".to_owned(),
            },
        }
    }
}

/// Groups the figures by cell, in the order they were measured.
fn rows(all: &[Measured]) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = Vec::new();
    for m in all {
        match rows
            .iter_mut()
            .find(|r| r.pattern == m.pattern && r.transport == m.transport && r.size == m.size)
        {
            Some(r) => r.by_impl.push(m),
            None => rows.push(Row {
                pattern: m.pattern,
                transport: m.transport,
                size: m.size,
                by_impl: vec![m],
            }),
        }
    }
    rows
}

/// A ratio and its target check: `2.31x ✓`, `1.44x ✗`, `0.91x`.
fn ratio_cell(
    ratio: Option<f64>,
    size: usize,
    metric: &str,
    missed: &mut Vec<String>,
    at: &str,
) -> String {
    let Some(r) = ratio else {
        return "-".to_owned();
    };
    match target(size, metric) {
        Some((bound, at_least)) => {
            let met = if at_least { r >= bound } else { r <= bound };
            if !met {
                missed.push(format!(
                    "{at} {metric} {r:.2}x (target {} {bound}x)",
                    if at_least { ">=" } else { "<=" }
                ));
            }
            format!("{r:.2}x {}", if met { "✓" } else { "✗" })
        }
        None => format!("{r:.2}x"),
    }
}

/// The transports only smolmq has (ws, ...) against smolmq's own tcp:
/// throughput at 64 B, pattern by pattern, checked against each one's
/// [`Transport::tcp_share_target`].
fn tcp_shares(all: &[Measured], out: &mut String, missed: &mut Vec<String>) {
    let rows = rows(all);
    let mut header = false;
    for row in rows.iter().filter(|r| r.size == 64) {
        let Some(share) = row.transport.tcp_share_target() else {
            continue;
        };
        let Some(tcp) = rows
            .iter()
            .find(|r| r.pattern == row.pattern && r.transport == Transport::Tcp && r.size == 64)
        else {
            continue;
        };
        let (Some(ours), Some(base)) = (
            row.median(Impl::Smolmq, "throughput"),
            tcp.median(Impl::Smolmq, "throughput"),
        ) else {
            continue;
        };
        if !header {
            let _ = writeln!(
                out,
                "smolmq over a layered transport / smolmq over tcp, 64 B throughput:"
            );
            header = true;
        }
        let r = ours / base;
        let met = r >= share;
        let at = format!("{} {}/tcp 64B", row.pattern.name(), row.transport.name());
        if !met {
            missed.push(format!("{at} throughput {r:.2}x (target >= {share}x)"));
        }
        let _ = writeln!(
            out,
            "  {at:<32} {r:.2}x {} (target >= {share}x)",
            if met { "✓" } else { "✗" }
        );
    }
}

/// Prints the table (one line per cell; the ratio is smolmq / libzmq,
/// checked against the targets) and the targets missed.
pub(super) fn print_table(all: &[Measured], sel: &Selection) {
    let impls: Vec<Impl> = Impl::ALL
        .iter()
        .copied()
        .filter(|i| sel.impls.contains(i))
        .collect();
    let mut missed = Vec::new();
    let mut out = String::new();
    let _ = writeln!(out);
    let mut head = format!("{:<18} {:<6} {:>6} |", "pattern", "transp", "size");
    let metrics: Vec<(&str, &str)> = [
        ("throughput", "msg/s", sel.throughput),
        ("latency_p50", "p50 µs", sel.latency),
        ("latency_p99", "p99 µs", sel.latency),
    ]
    .into_iter()
    .filter(|m| m.2)
    .map(|(m, label, _)| (m, label))
    .collect();
    for (_, label) in &metrics {
        let _ = write!(head, " {label:<7}");
        for imp in &impls {
            let _ = write!(head, " {:>8}", imp.name());
        }
        let _ = write!(head, " {:>9} |", "s/l");
    }
    let _ = writeln!(out, "{head}");
    for row in rows(all) {
        let at = format!(
            "{} {} {}B",
            row.pattern.name(),
            row.transport.name(),
            row.size
        );
        let mut line = format!(
            "{:<18} {:<6} {:>6} |",
            row.pattern.name(),
            row.transport.name(),
            row.size
        );
        for (metric, _) in &metrics {
            let _ = write!(line, " {:<7}", "");
            for &imp in &impls {
                let _ = write!(line, " {:>8}", row.shown(imp, metric));
            }
            let ratio = ratio_cell(row.ratio(metric), row.size, metric, &mut missed, &at);
            let _ = write!(line, " {ratio:>9} |");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "s/l = smolmq / libzmq. Targets: 64 B throughput >= 2.0x and p50 latency <= 0.8x; \
         64 KiB and 128 KiB throughput >= 1.2x. n/a: the implementation has no such socket \
         type or transport."
    );
    tcp_shares(all, &mut out, &mut missed);
    if sel.mode == Mode::Smoke {
        let _ = writeln!(
            out,
            "smoke mode: tiny counts, the figures mean nothing; targets not checked"
        );
    } else if missed.is_empty() {
        let _ = writeln!(out, "targets missed: none");
    } else {
        let _ = writeln!(out, "targets missed ({}):", missed.len());
        for m in &missed {
            let _ = writeln!(out, "  {m}");
        }
    }
    let failed: Vec<String> = all
        .iter()
        .filter_map(|m| {
            m.failed.as_ref().map(|why| {
                format!(
                    "  {} {} {} {}B: {why}",
                    m.imp.name(),
                    m.pattern.name(),
                    m.transport.name(),
                    m.size
                )
            })
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "failed cells ({}):", failed.len());
        for f in failed {
            let _ = writeln!(out, "{f}");
        }
    }
    print!("{out}");
}

/// A string as JSON.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A number as JSON (non-finite as null).
fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_owned()
    }
}

/// Writes target/bench/matrix.json and matrix.csv.
pub(super) fn write_files(
    all: &[Measured],
    sel: &Selection,
    elapsed: Duration,
) -> Result<(), String> {
    let dir = crate::out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;

    let mut csv =
        String::from("impl,pattern,transport,size,metric,unit,median,min,max,runs,status\n");
    let mut json = String::from("{\n");
    let _ = writeln!(json, "  \"mode\": {},", json_str(sel.mode.name()));
    let _ = writeln!(
        json,
        "  \"elapsed_s\": {},",
        json_num(elapsed.as_secs_f64())
    );
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(json, "  \"cpus\": {cpus},");
    let plans: Vec<String> = sel
        .sizes
        .iter()
        .map(|&size| {
            let p = sel.plan(size);
            format!(
                "{{\"size\": {size}, \"runs\": {}, \"messages\": {}, \"round_trips\": {}, \"warmup\": {}}}",
                p.runs, p.messages, p.round_trips, p.warmup
            )
        })
        .collect();
    let _ = writeln!(json, "  \"plans\": [{}],", plans.join(", "));
    json.push_str("  \"results\": [\n");
    let mut entries = Vec::new();
    for m in all {
        let status = if let Some(why) = m.not_applicable {
            format!("n/a: {why}")
        } else if let Some(why) = &m.failed {
            format!("failed: {why}")
        } else {
            "ok".to_owned()
        };
        let mut figures = Vec::new();
        for (metric, stats) in m.metrics() {
            let unit = if metric == "throughput" {
                "msg/s"
            } else {
                "us"
            };
            match stats {
                Some(s) => {
                    let runs: Vec<String> = s.runs.iter().map(|&v| json_num(v)).collect();
                    let _ = writeln!(
                        csv,
                        "{},{},{},{},{metric},{unit},{},{},{},{},{}",
                        m.imp.name(),
                        m.pattern.name(),
                        m.transport.name(),
                        m.size,
                        s.median,
                        s.min,
                        s.max,
                        runs.join(" "),
                        csv_field(&status)
                    );
                    figures.push(format!(
                        "{}: {{\"unit\": \"{unit}\", \"median\": {}, \"min\": {}, \"max\": {}, \"runs\": [{}]}}",
                        json_str(metric),
                        json_num(s.median),
                        json_num(s.min),
                        json_num(s.max),
                        runs.join(", ")
                    ));
                }
                None => {
                    let _ = writeln!(
                        csv,
                        "{},{},{},{},{metric},{unit},,,,,{}",
                        m.imp.name(),
                        m.pattern.name(),
                        m.transport.name(),
                        m.size,
                        csv_field(&status)
                    );
                }
            }
        }
        entries.push(format!(
            "    {{\"impl\": {}, \"pattern\": {}, \"transport\": {}, \"size\": {}, \"status\": {}, \"figures\": {{{}}}}}",
            json_str(m.imp.name()),
            json_str(m.pattern.name()),
            json_str(m.transport.name()),
            m.size,
            json_str(&status),
            figures.join(", ")
        ));
    }
    json.push_str(&entries.join(",\n"));
    json.push_str("\n  ]\n}\n");
    let json_path = dir.join("matrix.json");
    let csv_path = dir.join("matrix.csv");
    std::fs::write(&json_path, json)
        .map_err(|e| format!("writing {}: {e}", json_path.display()))?;
    std::fs::write(&csv_path, csv).map_err(|e| format!("writing {}: {e}", csv_path.display()))?;
    eprintln!("wrote {} and {}", json_path.display(), csv_path.display());
    Ok(())
}

/// A CSV field, quoted when it holds a comma or a quote.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}
