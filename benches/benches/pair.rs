//! smolmq PAIR sockets end to end: throughput and ping-pong latency over
//! inproc, ipc and tcp.
//!
//! Throughput: one thread sends N messages, the main thread receives them;
//! the figure is messages per second from the first send to the last
//! receive. Latency: a client sends one message, the server echoes it; the
//! figure is half the round trip (median of the sample means, in ns).
//! Sockets use the default options (HWM 1000, as libzmq).
//!
//! libzmq and the `zeromq` crate side by side come with the data-path gate
//! (issue 10) and the benchmark matrix (issue 7); this bench gives
//! smolmq's own figures until then.

use bytes::Bytes;
use smolmq_benches::{Figure, Report};
use smolmq_core::{Context, Msg, Socket};
use smolmq_zmtp::SocketType;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The transports measured.
const TRANSPORTS: [&str; 3] = ["inproc", "ipc", "tcp"];

fn context() -> Context {
    let ctx = Context::new().expect("I/O thread");
    ctx.add_transport(Arc::new(smolmq_tcp::TcpTransport));
    ctx.add_transport(Arc::new(smolmq_ipc::IpcTransport));
    ctx
}

/// A connected pair over `transport`: (server, client).
fn pair(ctx: &Context, transport: &str, n: usize) -> (Socket, Socket) {
    let endpoint = match transport {
        "inproc" => format!("inproc://bench-{n}"),
        "ipc" => format!(
            "ipc://{}",
            std::env::temp_dir()
                .join(format!("smolmq-bench-{}-{n}.sock", std::process::id()))
                .display()
        ),
        _ => "tcp://127.0.0.1:0".to_owned(),
    };
    let mut server = ctx.socket(SocketType::Pair).unwrap();
    server.bind(&endpoint).unwrap();
    let endpoint = server.last_endpoint().unwrap().to_string();
    let mut client = ctx.socket(SocketType::Pair).unwrap();
    client.connect(&endpoint).unwrap();
    // Wait for the connection and warm up.
    for _ in 0..1000 {
        client.send_blocking(Msg::from("warm")).unwrap();
        server.recv_blocking().unwrap();
    }
    (server, client)
}

/// Moves `count` messages of `payload` from `client` (on a thread) to
/// `server`; returns the time and the client.
fn throughput(
    server: &mut Socket,
    client: Socket,
    payload: &Bytes,
    count: u64,
) -> (Duration, Socket) {
    let payload = payload.clone();
    let start = Instant::now();
    let sender = thread::spawn(move || {
        let mut client = client;
        for _ in 0..count {
            client
                .send_blocking(Msg::from(payload.clone()))
                .expect("send");
        }
        client
    });
    for _ in 0..count {
        std::hint::black_box(server.recv_blocking().expect("recv"));
    }
    let elapsed = start.elapsed();
    (elapsed, sender.join().expect("sender"))
}

/// `count` round trips from `client` through an echoing `server` thread.
fn round_trips(
    client: &mut Socket,
    server: Socket,
    payload: &Bytes,
    count: u64,
) -> (Duration, Socket) {
    let echo = thread::spawn(move || {
        let mut server = server;
        for _ in 0..count {
            let m = server.recv_blocking().expect("recv");
            server.send_blocking(m).expect("send");
        }
        server
    });
    let start = Instant::now();
    for _ in 0..count {
        client
            .send_blocking(Msg::from(payload.clone()))
            .expect("send");
        std::hint::black_box(client.recv_blocking().expect("recv"));
    }
    let elapsed = start.elapsed();
    (elapsed, echo.join().expect("echo"))
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("pair");
    let ctx = context();
    let mut n = 0;
    for size in [64usize, 1024, 65536] {
        let payload = Bytes::from(vec![0x5au8; size]);
        let per_iter: u64 = if size <= 1024 { 10_000 } else { 1_000 };
        for transport in TRANSPORTS {
            n += 1;
            let (server, client) = pair(&ctx, transport, n);
            let mut sockets = Some((server, client));
            let mut case = report.case(&mut c, &format!("thr_{transport}_{size}B"));
            case.bench("smolmq", Figure::Throughput { items: per_iter }, |iters| {
                let (mut server, client) = sockets.take().unwrap();
                let (t, client) = throughput(&mut server, client, &payload, iters * per_iter);
                sockets = Some((server, client));
                t
            });
            case.finish();
            let mut case = report.case(&mut c, &format!("lat_{transport}_{size}B"));
            case.bench("smolmq", Figure::Latency, |iters| {
                let (server, mut client) = sockets.take().unwrap();
                let (t, server) = round_trips(&mut client, server, &payload, iters);
                sockets = Some((server, client));
                // Half the round trip.
                t / 2
            });
            case.finish();
        }
    }
    c.final_summary();
    report.print();
}
