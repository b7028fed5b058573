//! libzmq's perf tools, on smolmq.
//!
//! Six binaries with the command lines, socket types and output lines of
//! libzmq 4.3's `perf/` programs, so that any mix works: our `local_thr`
//! against libzmq's `remote_thr`, libzmq's `local_lat` against our
//! `remote_lat`, and so on.
//!
//! | binary | command line | socket | prints |
//! |---|---|---|---|
//! | `local_thr` | `<bind-to> <message-size> <message-count>` | PULL, binds | size, count, throughput in msg/s and Mb/s |
//! | `remote_thr` | `<connect-to> <message-size> <message-count>` | PUSH, connects | nothing |
//! | `local_lat` | `<bind-to> <message-size> <roundtrip-count>` | REP, binds | nothing |
//! | `remote_lat` | `<connect-to> <message-size> <roundtrip-count>` | REQ, connects | size, round trips, average latency |
//! | `inproc_thr` | `<message-size> <message-count>` | PULL + PUSH thread over `inproc://` | as `local_thr` |
//! | `inproc_lat` | `<message-size> <roundtrip-count>` | REQ + REP thread over `inproc://` | as `remote_lat` |
//!
//! As in libzmq: the throughput clock starts at the first message
//! received, so it measures `count - 1` messages over the time of the
//! last `count - 1`, and reports `count / elapsed`; latency is the round
//! trip time halved. Numbers are parsed as C's `atoi` does (leading
//! digits, else 0); a wrong number of arguments prints the usage line and
//! exits with status 1, an error prints `error in ...` and exits with
//! status 255 (libzmq's `return -1`). One I/O thread, as `zmq_init (1)`.
//!
//! Differences: libzmq's optional fourth `local_thr` / `remote_thr`
//! argument, `<enable_curve>`, is accepted only as 0 (smolmq has no
//! CURVE). The sending
//! tools send one zero-filled buffer over and over (a reference count per
//! message) where libzmq allocates each message. Before exiting, the tools
//! wait until the socket has written what it queued, which libzmq does in
//! `zmq_ctx_term` (dropping a smolmq context does not wait: see
//! [`close_and_flush`]).

#![forbid(unsafe_code)]

use smolmq::Socket;
use std::fmt::Display;
use std::time::{Duration, Instant};

/// The arguments after the program name, exactly `count` of them, or the
/// usage line and exit status 1.
pub fn args(count: usize, usage: &str) -> Vec<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != count {
        println!("usage: {usage}");
        std::process::exit(1);
    }
    args
}

/// The arguments of `local_thr` / `remote_thr`: three, and libzmq's
/// optional fourth `<enable_curve>`, accepted when it is 0 and refused
/// otherwise (smolmq has no CURVE).
pub fn thr_args(usage: &str) -> Vec<String> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 3 && args.len() != 4 {
        println!("usage: {usage}");
        std::process::exit(1);
    }
    if args.len() == 4 {
        if atoi(&args[3]) != 0 {
            fail("zmq_setsockopt", "CURVE is not supported by smolmq");
        }
        args.pop();
    }
    args
}

/// C's `atoi`: optional white space and sign, then leading digits; 0 if
/// there are none. Saturates instead of overflowing.
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    sign * n
}

/// A size or count argument: [`atoi`], negative values read as 0.
pub fn count_arg(s: &str) -> usize {
    usize::try_from(atoi(s).max(0)).unwrap_or(usize::MAX)
}

/// Prints `error in <what>: <err>` and exits with status 255.
pub fn fail(what: &str, err: impl Display) -> ! {
    println!("error in {what}: {err}");
    std::process::exit(255)
}

/// Unwraps `result`, or [`fail`]s naming `what`.
pub fn check<T, E: Display>(what: &str, result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| fail(what, e))
}

/// A zero-filled message of `size` bytes (a cheap clone of one buffer).
pub fn zeroes(size: usize) -> smolmq::Msg {
    smolmq::Msg::from(smolmq::Bytes::from(vec![0u8; size]))
}

/// A stopwatch in whole microseconds, as `zmq_stopwatch_start` /
/// `zmq_stopwatch_stop`.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(Instant);

impl Stopwatch {
    /// Starts it.
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }

    /// Microseconds since the start.
    pub fn stop(self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// `local_thr`'s result lines, as libzmq prints them (`%d` of a double
/// truncated to `int`, then `%.3f`).
pub fn thr_lines(size: usize, count: usize, elapsed_us: u64) -> String {
    let elapsed = elapsed_us.max(1) as f64;
    let throughput = count as f64 / elapsed * 1_000_000.0;
    let megabits = throughput * size as f64 * 8.0 / 1_000_000.0;
    format!(
        "{}\nmean throughput: {} [msg/s]\nmean throughput: {:.3} [Mb/s]\n",
        size_count_lines(size, count, "message count"),
        throughput as i32,
        megabits
    )
}

/// `inproc_thr`'s result lines: there libzmq truncates the throughput to
/// an integer before computing the megabits.
pub fn inproc_thr_lines(size: usize, elapsed_us: u64, count: usize) -> String {
    let elapsed = elapsed_us.max(1) as f64;
    let throughput = (count as f64 / elapsed * 1_000_000.0) as u64;
    let megabits = throughput.saturating_mul(size as u64).saturating_mul(8) as f64 / 1_000_000.0;
    format!(
        "mean throughput: {} [msg/s]\nmean throughput: {:.3} [Mb/s]\n",
        throughput as i32, megabits
    )
}

/// The `message size` line and a count line (`message count` or
/// `roundtrip count`), without a final newline.
pub fn size_count_lines(size: usize, count: usize, count_label: &str) -> String {
    format!(
        "message size: {} [B]\n{count_label}: {}",
        size as i32, count as i32
    )
}

/// The `average latency` line: half the mean round trip.
pub fn latency_line(elapsed_us: u64, roundtrips: usize) -> String {
    let latency = elapsed_us as f64 / (roundtrips as f64 * 2.0);
    format!("average latency: {latency:.3} [us]\n")
}

/// Closes `socket` and waits until its connections have written what it
/// queued (what libzmq's `zmq_ctx_term` does with the default LINGER), at
/// most `limit`.
///
/// Dropping a smolmq context stops its I/O threads at once, so a tool that
/// sends and exits would lose its last messages. The socket's monitor
/// tells when it is done: its events channel closes once the last task of
/// the socket (each engine writes out its queue, then ends) is gone.
pub fn close_and_flush(mut socket: Socket, limit: Duration) {
    let events = socket.monitor();
    drop(socket);
    let deadline = Instant::now() + limit;
    while !events.is_disconnected() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let _ = events.recv_timeout(left.min(Duration::from_millis(100)));
    }
}

/// How long [`close_and_flush`] waits in the tools: effectively forever,
/// as libzmq's default LINGER.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(24 * 3600);
