//! The benchmark matrix (issue 7): smolmq, libzmq (the `zmq` crate) and
//! the pure-Rust `zeromq` crate side by side, over every pattern, transport
//! and message size, in one run.
//!
//! The bench target `benches/benches/matrix.rs` calls [`main`]; `cargo
//! xtask bench matrix` runs it. What it measures:
//!
//! - patterns ([`Pattern`]): PAIR, PUBSUB, DEALER_DEALER, DEALER_ROUTER,
//!   ROUTER_ROUTER, ROUTER_ROUTER_POLL (the set zlink compares with
//!   libzmq) and PUSH_PULL;
//! - transports ([`Transport`]): inproc, ipc (a socket file in the temp
//!   directory), tcp (loopback), and, smolmq only, tls (TLS 1.3 over
//!   loopback tcp), ws (WebSocket over loopback tcp) and wss (WebSocket over
//!   TLS), tls and ws checked against smolmq's own tcp
//!   ([`Transport::tcp_share_target`]);
//! - sizes: 64, 256, 1024, 65536 and 131072 bytes;
//! - throughput: one thread sends N messages, another receives them; the
//!   figure is N over the time from the first send to the last receive
//!   (msg/s);
//! - latency: ping-pong, half the round trip, p50 and p99 (µs).
//!
//! Every cell is the median of several runs (5 with `--full`, 3 in quick
//! mode), with min and max kept in `target/bench/matrix.json` and
//! `matrix.csv`; the implementations take turns run by run (A B C A B C
//! ...), so that drift of a noisy machine hits them alike, and so do tcp
//! and the transports checked against it ([`groups`]).
//!
//! Each implementation is behind [`Backend`], which makes a connected
//! [`End`] pair for a [`Wiring`]; the ends run whole loops (send N,
//! receive N, ping N, echo N), so no implementation pays for dynamic
//! dispatch per message.

pub use crate::Mode;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

mod report;
mod with_libzmq;
mod with_smolmq;
mod with_zeromq;

pub use report::{Measured, Stats};

/// How long any one blocking call may wait before the run is declared
/// stalled (a lost message, a dead peer): every loop of the bench is
/// bounded by it.
pub const STALL: Duration = Duration::from_secs(10);

/// How long a whole loop of the `zeromq` crate may take (it has no
/// per-call timeout option, so its loops run under one tokio timeout).
pub const LOOP_LIMIT: Duration = Duration::from_secs(120);

/// The longest one cell may take before the watchdog ends the process: a
/// loop that spins without ever waiting (a livelocked implementation)
/// escapes every timeout above.
pub const CELL_LIMIT: Duration = Duration::from_secs(600);

/// The message sizes of the full matrix, in bytes.
pub const SIZES: [usize; 5] = [64, 256, 1024, 65536, 131072];

/// The sizes quick mode measures: the two ends the targets name.
pub const QUICK_SIZES: [usize; 2] = [64, 65536];

/// A messaging pattern, as zlink and libzmq's perf tools pair sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// PAIR to PAIR.
    Pair,
    /// PUB (bound) to SUB (connected, subscribed to everything).
    PubSub,
    /// DEALER to DEALER.
    DealerDealer,
    /// DEALER sends, ROUTER receives `[id, body]`.
    DealerRouter,
    /// ROUTER to ROUTER, each addressing the other by routing id.
    RouterRouter,
    /// As ROUTER_ROUTER, the receiver waiting with the poller before each
    /// batch of non-blocking receives.
    RouterRouterPoll,
    /// PUSH to PULL.
    PushPull,
}

impl Pattern {
    /// Every pattern, in the order the matrix runs them.
    pub const ALL: [Pattern; 7] = [
        Pattern::Pair,
        Pattern::PubSub,
        Pattern::DealerDealer,
        Pattern::DealerRouter,
        Pattern::RouterRouter,
        Pattern::RouterRouterPoll,
        Pattern::PushPull,
    ];

    /// The name in RESULT lines and filters.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Pair => "PAIR",
            Pattern::PubSub => "PUBSUB",
            Pattern::DealerDealer => "DEALER_DEALER",
            Pattern::DealerRouter => "DEALER_ROUTER",
            Pattern::RouterRouter => "ROUTER_ROUTER",
            Pattern::RouterRouterPoll => "ROUTER_ROUTER_POLL",
            Pattern::PushPull => "PUSH_PULL",
        }
    }
}

/// A transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// Within the process.
    Inproc,
    /// Unix domain sockets, files in the temp directory.
    Ipc,
    /// tcp over loopback.
    Tcp,
    /// ZMTP over TLS 1.3 over loopback tcp: smolmq only (libzmq 4.3 has
    /// no tls in its stable API). The same certificate as wss.
    Tls,
    /// ZeroMQ over WebSocket (RFC 45) over loopback tcp: smolmq only
    /// (libzmq 4.3 has no ws in its stable API).
    Ws,
    /// The same over TLS 1.3 (a self-signed certificate made at start).
    Wss,
}

impl Transport {
    /// Every transport, in the order the matrix runs them.
    pub const ALL: [Transport; 6] = [
        Transport::Inproc,
        Transport::Ipc,
        Transport::Tcp,
        Transport::Tls,
        Transport::Ws,
        Transport::Wss,
    ];

    /// The name in RESULT lines and filters.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Inproc => "inproc",
            Transport::Ipc => "ipc",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// For a transport layered on tcp that only smolmq has: the share of
    /// smolmq's own tcp throughput at 64 B it should reach (issue 9), the
    /// check it gets instead of a ratio to libzmq.
    pub fn tcp_share_target(self) -> Option<f64> {
        match self {
            Transport::Tls => Some(0.85),
            Transport::Ws => Some(0.70),
            // No figure in issue 9 for wss; tls's target, as both are
            // under TLS, would be a guess: none is checked.
            Transport::Wss => None,
            Transport::Inproc | Transport::Ipc | Transport::Tcp => None,
        }
    }

    /// Whether this transport is smolmq's alone (tls, ws, wss: libzmq 4.3
    /// has none of them in its stable API, the zeromq crate none at all).
    pub fn smolmq_only(self) -> bool {
        matches!(self, Transport::Tls | Transport::Ws | Transport::Wss)
    }
}

/// One of the implementations compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Impl {
    /// smolmq, through its facade crate.
    Smolmq,
    /// libzmq 4.3.4 through the `zmq` crate (built from source).
    Libzmq,
    /// The pure-Rust `zeromq` crate (zmq.rs) on a tokio runtime.
    Zeromq,
}

impl Impl {
    /// Every implementation, in the order each run measures them.
    pub const ALL: [Impl; 3] = [Impl::Smolmq, Impl::Libzmq, Impl::Zeromq];

    /// The name in RESULT lines and filters.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Smolmq => "smolmq",
            Impl::Libzmq => "libzmq",
            Impl::Zeromq => "zeromq",
        }
    }
}

/// A socket type, as far as the matrix uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PAIR.
    Pair,
    /// PUB.
    Pub,
    /// SUB, subscribed to everything (`""`).
    Sub,
    /// DEALER.
    Dealer,
    /// ROUTER.
    Router,
    /// PUSH.
    Push,
    /// PULL.
    Pull,
}

/// One socket to make.
#[derive(Debug, Clone, Copy)]
pub struct SockSpec {
    /// Its type.
    pub kind: Kind,
    /// The routing id it announces (DEALER and ROUTER), so that a ROUTER
    /// peer can address it.
    pub id: Option<&'static [u8]>,
    /// For a ROUTER: the routing id of the peer it sends to.
    pub peer: Option<&'static [u8]>,
    /// Wait for messages with the poller, then receive without blocking
    /// until the socket would block (ROUTER_ROUTER_POLL).
    pub poll: bool,
}

impl SockSpec {
    /// A plain socket of `kind`.
    const fn plain(kind: Kind) -> Self {
        SockSpec {
            kind,
            id: None,
            peer: None,
            poll: false,
        }
    }

    /// A socket of `kind` that announces `id` and, if it is a ROUTER,
    /// sends to `peer`.
    const fn named(kind: Kind, id: &'static [u8], peer: Option<&'static [u8]>) -> Self {
        SockSpec {
            kind,
            id: Some(id),
            peer,
            poll: false,
        }
    }
}

/// One connection: a bound socket and the socket connected to it.
#[derive(Debug, Clone, Copy)]
pub struct Wire {
    /// The socket that binds.
    pub bound: SockSpec,
    /// The socket that connects.
    pub connected: SockSpec,
}

/// How the two ends of a measurement are made of sockets.
///
/// The first end is the sender (throughput) or the client (latency); the
/// second the receiver or the echo server.
#[derive(Debug, Clone, Copy)]
pub enum Wiring {
    /// One connection; each end is one of its sockets.
    Single {
        /// The connection.
        wire: Wire,
        /// Whether the first end is the bound socket.
        first_is_bound: bool,
    },
    /// Two connections for a one-way pattern's ping-pong: `there` carries
    /// messages from the first end to the second (its bound socket is the
    /// first end's sender), `back` from the second to the first.
    Double {
        /// First end to second.
        there: Wire,
        /// Second end to first.
        back: Wire,
    },
}

/// What a pair of ends is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// One end sends N, the other receives N.
    Throughput,
    /// Ping-pong: the first end sends and waits for the echo.
    Latency,
}

/// The sockets of `pattern` for `purpose`.
pub fn wiring(pattern: Pattern, purpose: Purpose) -> Wiring {
    use Kind::*;
    let single = |bound, connected, first_is_bound| Wiring::Single {
        wire: Wire { bound, connected },
        first_is_bound,
    };
    let routers = |poll: bool, first_is_bound| {
        // The bound ROUTER is "srv", the connected one "cli"; each sends
        // to the other by that id.
        let mut srv = SockSpec::named(Router, b"srv", Some(b"cli"));
        let mut cli = SockSpec::named(Router, b"cli", Some(b"srv"));
        match purpose {
            // The receiver (connected) polls.
            Purpose::Throughput => cli.poll = poll,
            // Both wait for every message.
            Purpose::Latency => {
                cli.poll = poll;
                srv.poll = poll;
            }
        }
        single(srv, cli, first_is_bound)
    };
    match (pattern, purpose) {
        // The connected socket sends (or pings); the bound one receives
        // (or echoes), as libzmq's remote_thr / local_thr.
        (Pattern::Pair, _) => single(SockSpec::plain(Pair), SockSpec::plain(Pair), false),
        (Pattern::DealerDealer, _) => {
            single(SockSpec::plain(Dealer), SockSpec::plain(Dealer), false)
        }
        (Pattern::DealerRouter, _) => single(
            SockSpec::named(Router, b"router", Some(b"dealer")),
            SockSpec::named(Dealer, b"dealer", None),
            false,
        ),
        (Pattern::PushPull, Purpose::Throughput) => {
            single(SockSpec::plain(Pull), SockSpec::plain(Push), false)
        }
        (Pattern::PubSub, Purpose::Throughput) => {
            single(SockSpec::plain(Pub), SockSpec::plain(Sub), true)
        }
        // The bound ROUTER sends to the connected one ([peer id, body]).
        (Pattern::RouterRouter, Purpose::Throughput) => routers(false, true),
        (Pattern::RouterRouterPoll, Purpose::Throughput) => routers(true, true),
        // The connected ROUTER pings the bound one.
        (Pattern::RouterRouter, Purpose::Latency) => routers(false, false),
        (Pattern::RouterRouterPoll, Purpose::Latency) => routers(true, false),
        // One-way patterns ping-pong over two connections (as zlink).
        (Pattern::PubSub, Purpose::Latency) => {
            let wire = Wire {
                bound: SockSpec::plain(Pub),
                connected: SockSpec::plain(Sub),
            };
            Wiring::Double {
                there: wire,
                back: wire,
            }
        }
        (Pattern::PushPull, Purpose::Latency) => {
            let wire = Wire {
                bound: SockSpec::plain(Push),
                connected: SockSpec::plain(Pull),
            };
            Wiring::Double {
                there: wire,
                back: wire,
            }
        }
    }
}

/// One end of a measurement: one socket, or (for a one-way pattern's
/// ping-pong) a socket to send on and one to receive from.
///
/// Every method is bounded in time: a call that waits [`STALL`] (or, for
/// the `zeromq` crate, a loop that runs [`LOOP_LIMIT`]) fails.
pub trait End: Send {
    /// Sends one message with body `payload` (a ROUTER puts its peer's
    /// routing id in front).
    fn send_one(&mut self, payload: &[u8]) -> Result<(), String>;
    /// Receives one message if one comes within `timeout`; true if one did.
    fn recv_for(&mut self, timeout: Duration) -> Result<bool, String>;
    /// Sends `count` messages with body `payload`, each a fresh message
    /// with the payload copied in (as libzmq's perf tools do).
    fn send_many(&mut self, payload: &[u8], count: u64) -> Result<(), String>;
    /// Receives `count` messages; returns the bytes received.
    fn recv_many(&mut self, count: u64) -> Result<u64, String>;
    /// `count` round trips: send `payload`, wait for the echo; pushes each
    /// round trip's time onto `rtts`.
    fn ping_many(
        &mut self,
        payload: &[u8],
        count: u64,
        rtts: &mut Vec<Duration>,
    ) -> Result<(), String>;
    /// Receives `count` messages and sends each back.
    fn echo_many(&mut self, count: u64) -> Result<(), String>;
}

/// Two connected ends: (first, second), see [`Wiring`].
pub type Ends = (Box<dyn End>, Box<dyn End>);

/// One implementation.
pub trait Backend {
    /// Which one.
    fn imp(&self) -> Impl;
    /// Why it cannot measure `pattern` over `transport`, if it cannot.
    fn unsupported(&self, pattern: Pattern, transport: Transport) -> Option<&'static str>;
    /// Makes and connects the sockets of `wiring` over `transport`.
    fn ends(&self, wiring: &Wiring, transport: Transport) -> Result<Ends, String>;
}

/// The backends asked for, in [`Impl::ALL`] order. A backend that cannot
/// start (e.g. no tokio runtime) is reported and left out.
pub fn backends(impls: &[Impl]) -> Vec<Box<dyn Backend>> {
    let mut out: Vec<Box<dyn Backend>> = Vec::new();
    for imp in Impl::ALL {
        if !impls.contains(&imp) {
            continue;
        }
        let made: Result<Box<dyn Backend>, String> = match imp {
            Impl::Smolmq => with_smolmq::Smolmq::new().map(|b| Box::new(b) as _),
            Impl::Libzmq => Ok(Box::new(with_libzmq::Libzmq::new())),
            Impl::Zeromq => with_zeromq::Zeromq::new().map(|b| Box::new(b) as _),
        };
        match made {
            Ok(b) => out.push(b),
            Err(e) => eprintln!("matrix: {} left out: {e}", imp.name()),
        }
    }
    out
}

/// Socket files made for ipc endpoints, removed after each cell.
static IPC_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A fresh endpoint on `transport` to bind to. tcp binds port 0 (libzmq's
/// `*`: the backends translate); its actual endpoint is read back after
/// binding.
pub fn endpoint(transport: Transport, imp: Impl) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    match transport {
        Transport::Inproc => format!("inproc://matrix-{}-{n}", imp.name()),
        Transport::Ipc => {
            let path = std::env::temp_dir().join(format!(
                "smolmq-matrix-{}-{}-{n}.sock",
                std::process::id(),
                imp.name()
            ));
            let _ = std::fs::remove_file(&path);
            let endpoint = format!("ipc://{}", path.display());
            IPC_FILES.lock().unwrap().push(path);
            endpoint
        }
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
        Transport::Tls => "tls://127.0.0.1:0".to_owned(),
        Transport::Ws => "ws://127.0.0.1:0/matrix".to_owned(),
        Transport::Wss => "wss://127.0.0.1:0/matrix".to_owned(),
    }
}

/// Removes the socket files of the ipc endpoints made so far.
fn remove_ipc_files() {
    for path in IPC_FILES.lock().unwrap().drain(..) {
        let _ = std::fs::remove_file(path);
    }
}

/// Waits until a message sent by `tx` reaches `rx` (connections made,
/// handshakes done, subscriptions in effect, routing ids known): sends a
/// probe every 20 ms until one arrives (at most [`STALL`]), then drains
/// the probes still in flight.
pub fn settle(tx: &mut dyn End, rx: &mut dyn End) -> Result<(), String> {
    let started = Instant::now();
    loop {
        // Sends may fail while the peer is unknown (a ROUTER's peer before
        // its handshake); the probe is lost and the next one tries again.
        let _ = tx.send_one(b"probe");
        if rx.recv_for(Duration::from_millis(20))? {
            break;
        }
        if started.elapsed() > STALL {
            return Err(format!("no message came through in {} s", STALL.as_secs()));
        }
    }
    // Probes sent before the first arrived may still be coming.
    for _ in 0..1_000 {
        if !rx.recv_for(Duration::from_millis(20))? {
            return Ok(());
        }
    }
    Err("probes keep coming".to_owned())
}

/// Moves `count` messages of `payload` from `tx` (on its own thread) to
/// `rx`; returns messages per second from the first send to the last
/// receive.
pub fn throughput(
    tx: &mut dyn End,
    rx: &mut dyn End,
    payload: &[u8],
    count: u64,
) -> Result<f64, String> {
    thread::scope(|s| {
        let sender = s.spawn(|| {
            let first_send = Instant::now();
            tx.send_many(payload, count).map(|()| first_send)
        });
        let received = rx.recv_many(count);
        let last_recv = Instant::now();
        let first_send = sender
            .join()
            .map_err(|_| "the sender thread panicked".to_owned())??;
        let bytes = received?;
        if bytes != count * payload.len() as u64 {
            return Err(format!(
                "received {bytes} bytes, expected {}",
                count * payload.len() as u64
            ));
        }
        let elapsed = last_recv.duration_since(first_send).as_secs_f64();
        Ok(count as f64 / elapsed.max(1e-9))
    })
}

/// `count` round trips of `payload` from `client` through `server`, which
/// echoes on its own thread; returns p50 and p99 of half the round trip,
/// in microseconds.
pub fn latency(
    client: &mut dyn End,
    server: &mut dyn End,
    payload: &[u8],
    count: u64,
) -> Result<(f64, f64), String> {
    let mut rtts = Vec::with_capacity(count as usize);
    thread::scope(|s| {
        let echo = s.spawn(|| server.echo_many(count));
        let pinged = client.ping_many(payload, count, &mut rtts);
        echo.join()
            .map_err(|_| "the echo thread panicked".to_owned())??;
        pinged
    })?;
    if rtts.is_empty() {
        return Err("no round trips".to_owned());
    }
    rtts.sort_unstable();
    let half_us = |q: f64| {
        let i = ((rtts.len() as f64 * q).ceil() as usize).clamp(1, rtts.len()) - 1;
        rtts[i].as_secs_f64() * 1e6 / 2.0
    };
    Ok((half_us(0.50), half_us(0.99)))
}

/// How much one cell measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Measured runs per implementation (the median is reported).
    pub runs: usize,
    /// Messages per throughput run.
    pub messages: u64,
    /// Round trips per latency run.
    pub round_trips: u64,
    /// Messages (and a tenth as many round trips) sent before measuring.
    pub warmup: u64,
}

impl Plan {
    /// The plan for messages of `size` bytes in `mode`.
    pub fn new(size: usize, mode: Mode) -> Plan {
        let small = size <= 1024;
        match mode {
            Mode::Smoke => Plan {
                runs: 1,
                messages: 200,
                round_trips: 20,
                warmup: 50,
            },
            Mode::Quick => Plan {
                runs: 3,
                messages: if small { 100_000 } else { 5_000 },
                round_trips: if small { 1_000 } else { 300 },
                warmup: 1_000,
            },
            Mode::Full => Plan {
                runs: 5,
                messages: if small { 200_000 } else { 20_000 },
                round_trips: if small { 10_000 } else { 2_000 },
                warmup: 1_000,
            },
        }
    }
}

/// What to measure: the cells and implementations chosen by the mode and
/// the command line.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The mode.
    pub mode: Mode,
    /// Patterns.
    pub patterns: Vec<Pattern>,
    /// Transports.
    pub transports: Vec<Transport>,
    /// Sizes in bytes.
    pub sizes: Vec<usize>,
    /// Implementations.
    pub impls: Vec<Impl>,
    /// Measure throughput.
    pub throughput: bool,
    /// Measure latency.
    pub latency: bool,
    /// Overrides of the plan: runs, messages, round trips.
    pub runs: Option<usize>,
    /// Messages per throughput run, overriding the plan.
    pub messages: Option<u64>,
    /// Round trips per latency run, overriding the plan.
    pub round_trips: Option<u64>,
    /// Write target/bench/matrix.json and matrix.csv.
    pub write_files: bool,
}

/// The command-line options of the matrix bench.
pub const USAGE: &str = "\
matrix bench options (after `--`, e.g. `cargo xtask bench matrix -- --pattern PUSH_PULL`):
  --pattern P[,P..]    PAIR PUBSUB DEALER_DEALER DEALER_ROUTER ROUTER_ROUTER
                       ROUTER_ROUTER_POLL PUSH_PULL (default: all)
  --transport T[,T..]  inproc ipc tcp tls ws wss (default: all; tls ws wss:
                       smolmq only)
  --size S[,S..]       bytes (default: 64,65536 quick; 64,256,1024,65536,131072 full)
  --impl I[,I..]       smolmq libzmq zeromq (default: all)
  --metric M           throughput or latency (default: both)
  --runs N             measured runs per cell (default: 3 quick, 5 full)
  --messages N         messages per throughput run
  --round-trips N      round trips per latency run
  --no-files           do not write target/bench/matrix.json / matrix.csv
  --full / --quick     the mode (default: SMOLMQ_BENCH_FULL, else quick)
";

impl Selection {
    /// The selection for `args` (the bench binary's arguments).
    pub fn from_args(args: &[String]) -> Result<Selection, String> {
        let mut mode = Mode::from_args(args);
        let measuring = mode != Mode::Smoke;
        let mut patterns = None;
        let mut transports = None;
        let mut sizes = None;
        let mut impls = None;
        let mut metric: Option<String> = None;
        let mut runs = None;
        let mut messages = None;
        let mut round_trips = None;
        let mut write_files = true;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("`{a}` needs a value\n\n{USAGE}"))
            };
            match a.as_str() {
                "--bench" => {}
                "--full" if measuring => mode = Mode::Full,
                "--quick" if measuring => mode = Mode::Quick,
                "--full" | "--quick" => {}
                "--pattern" => patterns = Some(parse_list(&value()?, &Pattern::ALL, |p| p.name())?),
                "--transport" => {
                    transports = Some(parse_list(&value()?, &Transport::ALL, |t| t.name())?)
                }
                "--impl" => impls = Some(parse_list(&value()?, &Impl::ALL, |i| i.name())?),
                "--size" => {
                    let v = value()?;
                    let parsed: Result<Vec<usize>, _> =
                        v.split(',').map(|s| s.trim().parse::<usize>()).collect();
                    sizes = Some(parsed.map_err(|_| format!("bad --size `{v}`"))?);
                }
                "--metric" => metric = Some(value()?),
                "--runs" => runs = Some(parse_number(&value()?)? as usize),
                "--messages" => messages = Some(parse_number(&value()?)?),
                "--round-trips" => round_trips = Some(parse_number(&value()?)?),
                "--no-files" => write_files = false,
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown option `{other}`\n\n{USAGE}")),
            }
        }
        let (throughput, latency) = match metric.as_deref() {
            None => (true, true),
            Some("throughput") => (true, false),
            Some("latency") => (false, true),
            Some(other) => return Err(format!("unknown --metric `{other}`\n\n{USAGE}")),
        };
        let given = patterns.is_some() || transports.is_some() || sizes.is_some();
        let (patterns, transports, sizes) = if mode == Mode::Smoke && !given {
            // A few cells that between them touch every implementation,
            // the poller, a two-connection ping-pong and the transports
            // only smolmq has (their certificates and endpoints).
            (
                vec![Pattern::Pair, Pattern::PubSub, Pattern::RouterRouterPoll],
                vec![
                    Transport::Inproc,
                    Transport::Tcp,
                    Transport::Tls,
                    Transport::Ws,
                    Transport::Wss,
                ],
                vec![64],
            )
        } else {
            (
                patterns.unwrap_or_else(|| Pattern::ALL.to_vec()),
                transports.unwrap_or_else(|| Transport::ALL.to_vec()),
                sizes.unwrap_or_else(|| match mode {
                    Mode::Full => SIZES.to_vec(),
                    _ => QUICK_SIZES.to_vec(),
                }),
            )
        };
        Ok(Selection {
            mode,
            patterns,
            transports,
            sizes,
            impls: impls.unwrap_or_else(|| Impl::ALL.to_vec()),
            throughput,
            latency,
            runs,
            messages,
            round_trips,
            write_files: write_files && mode != Mode::Smoke,
        })
    }

    /// The plan of a cell of `size` bytes, with the overrides applied.
    pub fn plan(&self, size: usize) -> Plan {
        let mut plan = Plan::new(size, self.mode);
        if let Some(r) = self.runs {
            plan.runs = r.max(1);
        }
        if let Some(m) = self.messages {
            plan.messages = m.max(1);
        }
        if let Some(r) = self.round_trips {
            plan.round_trips = r.max(1);
        }
        plan
    }
}

/// `a,b,c` as a list of the items of `all` with those names (any case).
fn parse_list<T: Copy>(v: &str, all: &[T], name: fn(T) -> &'static str) -> Result<Vec<T>, String> {
    v.split(',')
        .map(|s| {
            all.iter()
                .copied()
                .find(|&x| name(x).eq_ignore_ascii_case(s.trim()))
                .ok_or_else(|| {
                    let names: Vec<&str> = all.iter().map(|&x| name(x)).collect();
                    format!("unknown `{s}` (one of: {})", names.join(" "))
                })
        })
        .collect()
}

/// A count, `_` allowed (`100_000`).
fn parse_number(v: &str) -> Result<u64, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("`{v}` is not a number"))
}

/// One implementation's ends over one transport in a cell, and its
/// figures so far.
struct Contender<'b> {
    /// The implementation.
    backend: &'b dyn Backend,
    /// The transport.
    transport: Transport,
    /// Sender and receiver.
    thr: Option<Ends>,
    /// Client and echo server.
    lat: Option<Ends>,
    /// Throughput per run, msg/s.
    throughput: Vec<f64>,
    /// Latency p50 per run, µs.
    p50: Vec<f64>,
    /// Latency p99 per run, µs.
    p99: Vec<f64>,
    /// Why it stopped measuring this cell, if it did.
    failed: Option<String>,
}

/// Makes and settles the ends of `pattern` for `purpose`.
fn connect(
    backend: &dyn Backend,
    pattern: Pattern,
    transport: Transport,
    purpose: Purpose,
) -> Result<Ends, String> {
    let (mut a, mut b) = backend.ends(&wiring(pattern, purpose), transport)?;
    settle(&mut *a, &mut *b)?;
    if purpose == Purpose::Latency {
        settle(&mut *b, &mut *a)?;
    }
    Ok((a, b))
}

/// The transports measured together, run by run, for one pattern and
/// size: each alone, except that tcp and the transports checked against
/// smolmq's own tcp (tls, ws, wss; [`Transport::tcp_share_target`]) share
/// a cell, so that a dip of the machine hits the tls run and the tcp run it
/// is divided by alike, as the implementations' turns do for the ratios to
/// libzmq.
pub fn groups(transports: &[Transport]) -> Vec<Vec<Transport>> {
    let tcp = transports.contains(&Transport::Tcp);
    let mut out: Vec<Vec<Transport>> = Vec::new();
    let mut tcp_group: Option<usize> = None;
    for &t in transports {
        if !(tcp && (t == Transport::Tcp || t.smolmq_only())) {
            out.push(vec![t]);
            continue;
        }
        match tcp_group {
            Some(i) => out[i].push(t),
            None => {
                tcp_group = Some(out.len());
                out.push(vec![t]);
            }
        }
    }
    if let Some(i) = tcp_group {
        // tcp first, the others in the order asked for.
        out[i].sort_by_key(|&t| t != Transport::Tcp);
    }
    out
}

/// Measures one cell (pattern, size) over each of `transports` for every
/// backend, all of them taking turns run by run (see [`groups`]).
pub fn cell(
    backends: &[Box<dyn Backend>],
    sel: &Selection,
    pattern: Pattern,
    transports: &[Transport],
    size: usize,
) -> Vec<Measured> {
    let plan = sel.plan(size);
    let payload = vec![0x5au8; size];
    let mut contenders: Vec<Contender<'_>> = Vec::new();
    let mut out = Vec::new();
    for (&transport, backend) in transports
        .iter()
        .flat_map(|t| backends.iter().map(move |b| (t, b)))
    {
        let imp = backend.imp();
        if let Some(why) = backend.unsupported(pattern, transport) {
            out.push(Measured::not_applicable(imp, pattern, transport, size, why));
            continue;
        }
        let mut c = Contender {
            backend: &**backend,
            transport,
            thr: None,
            lat: None,
            throughput: Vec::new(),
            p50: Vec::new(),
            p99: Vec::new(),
            failed: None,
        };
        let made = (|| -> Result<(), String> {
            if sel.throughput {
                let (mut a, mut b) = connect(&**backend, pattern, transport, Purpose::Throughput)?;
                throughput(&mut *a, &mut *b, &payload, plan.warmup)?;
                c.thr = Some((a, b));
            }
            if sel.latency {
                let (mut a, mut b) = connect(&**backend, pattern, transport, Purpose::Latency)?;
                latency(&mut *a, &mut *b, &payload, (plan.warmup / 10).max(1))?;
                c.lat = Some((a, b));
            }
            Ok(())
        })();
        if let Err(e) = made {
            c.failed = Some(format!("setup: {e}"));
        }
        contenders.push(c);
    }
    for _run in 0..plan.runs {
        for c in contenders.iter_mut().filter(|c| c.failed.is_none()) {
            if let Some((a, b)) = c.thr.as_mut() {
                match throughput(&mut **a, &mut **b, &payload, plan.messages) {
                    Ok(v) => c.throughput.push(v),
                    Err(e) => c.failed = Some(format!("throughput: {e}")),
                }
            }
        }
        for c in contenders.iter_mut().filter(|c| c.failed.is_none()) {
            if let Some((a, b)) = c.lat.as_mut() {
                match latency(&mut **a, &mut **b, &payload, plan.round_trips) {
                    Ok((p50, p99)) => {
                        c.p50.push(p50);
                        c.p99.push(p99);
                    }
                    Err(e) => c.failed = Some(format!("latency: {e}")),
                }
            }
        }
    }
    for c in contenders {
        let imp = c.backend.imp();
        let transport = c.transport;
        if let Some(why) = &c.failed {
            eprintln!(
                "matrix: {} {} {} {size}B: FAILED ({why})",
                imp.name(),
                pattern.name(),
                transport.name()
            );
        }
        let mut m = Measured::new(imp, pattern, transport, size);
        m.throughput = Stats::of(&c.throughput);
        m.p50 = Stats::of(&c.p50);
        m.p99 = Stats::of(&c.p99);
        m.failed = c.failed;
        out.push(m);
        // The sockets close here, before the next cell.
        drop(c.thr);
        drop(c.lat);
    }
    remove_ipc_files();
    out.sort_by_key(|m| {
        let t = transports.iter().position(|&t| t == m.transport);
        (t, Impl::ALL.iter().position(|&i| i == m.imp))
    });
    out
}

/// Ends the process when one cell runs longer than [`CELL_LIMIT`].
struct Watchdog {
    /// The cell being measured and when it started.
    current: std::sync::Arc<Mutex<(String, Instant)>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let current = std::sync::Arc::new(Mutex::new((String::new(), Instant::now())));
        let watched = current.clone();
        thread::spawn(move || loop {
            thread::sleep(Duration::from_secs(1));
            let (cell, since) = watched.lock().unwrap().clone();
            if since.elapsed() > CELL_LIMIT {
                eprintln!(
                    "matrix: cell {cell} has run for over {} s: something spins without \
                     waiting; giving up",
                    CELL_LIMIT.as_secs()
                );
                std::process::exit(3);
            }
        });
        Watchdog { current }
    }

    /// Starts the clock for `cell`.
    fn enter(&self, cell: String) {
        *self.current.lock().unwrap() = (cell, Instant::now());
    }
}

/// Runs the matrix for the bench binary's `args`: prints RESULT lines as
/// cells finish, then the table and the targets; writes the files.
pub fn main(args: &[String]) -> Result<(), String> {
    let sel = Selection::from_args(args)?;
    let started = Instant::now();
    let backends = backends(&sel.impls);
    let mut describe = String::new();
    for &size in &sel.sizes {
        let p = sel.plan(size);
        let _ = write!(
            describe,
            " {size}B: {} runs of {} messages / {} round trips;",
            p.runs, p.messages, p.round_trips
        );
    }
    eprintln!(
        "matrix: {} mode ({} patterns x {} transports x {} sizes;{describe} warm-up {} messages)",
        sel.mode.name(),
        sel.patterns.len(),
        sel.transports.len(),
        sel.sizes.len(),
        sel.plan(64).warmup,
    );
    let watchdog = Watchdog::start();
    let mut all = Vec::new();
    for &size in &sel.sizes {
        for &pattern in &sel.patterns {
            for group in groups(&sel.transports) {
                let names: Vec<&str> = group.iter().map(|t| t.name()).collect();
                let names = names.join("+");
                let cell_started = Instant::now();
                watchdog.enter(format!("{} {names} {size}B", pattern.name()));
                let figures = cell(&backends, &sel, pattern, &group, size);
                for m in &figures {
                    m.print_progress();
                    m.print_results();
                }
                eprintln!(
                    "matrix: {} {names} {size}B done in {:.1} s",
                    pattern.name(),
                    cell_started.elapsed().as_secs_f64()
                );
                all.extend(figures);
            }
        }
    }
    let elapsed = started.elapsed();
    report::print_table(&all, &sel);
    println!(
        "matrix bench: {} mode{}, {:.0} s",
        sel.mode.name(),
        match sel.mode {
            Mode::Quick => format!(
                " (sizes {:?}, {} runs per cell; `--full` for every size and 5 runs)",
                sel.sizes,
                sel.plan(64).runs
            ),
            _ => String::new(),
        },
        elapsed.as_secs_f64()
    );
    if sel.write_files {
        report::write_files(&all, &sel, elapsed)?;
    }
    // The backends (libzmq's context waits for its sockets) close here.
    drop(backends);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{groups, Transport, Transport::*};

    #[test]
    fn tcp_and_the_transports_checked_against_it_share_a_cell() {
        assert_eq!(
            groups(&Transport::ALL),
            vec![vec![Inproc], vec![Ipc], vec![Tcp, Tls, Ws, Wss]]
        );
        // Asked for before tcp, wss still joins its cell, behind it.
        assert_eq!(groups(&[Wss, Ipc, Tcp]), vec![vec![Tcp, Wss], vec![Ipc]]);
    }

    #[test]
    fn without_tcp_every_transport_is_alone() {
        assert_eq!(
            groups(&[Tls, Ws, Inproc]),
            vec![vec![Tls], vec![Ws], vec![Inproc]]
        );
        assert_eq!(groups(&[Tcp]), vec![vec![Tcp]]);
    }
}
