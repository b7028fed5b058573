//! Request-reply through a broker: REQ clients talk to a ROUTER frontend,
//! a proxy passes requests to a DEALER backend, and several REP workers
//! answer; the envelopes find the way back.
//!
//! `cargo run -p smolmq --example req_rep_broker`

use smolmq::proxy::proxy_steerable;
use smolmq::{Context, Msg, SocketType};

/// Workers behind the broker.
const WORKERS: usize = 3;
/// Clients.
const CLIENTS: usize = 4;
/// Requests each client makes.
const REQUESTS: usize = 5;

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;
    let mut frontend = ctx.socket(SocketType::Router)?;
    frontend.bind("inproc://broker-clients")?;
    let mut backend = ctx.socket(SocketType::Dealer)?;
    backend.bind("inproc://broker-workers")?;
    let mut control = ctx.socket(SocketType::Pair)?;
    control.bind("inproc://broker-control")?;
    let broker = std::thread::spawn(move || {
        proxy_steerable(&mut frontend, &mut backend, None, &mut control)
    });

    for w in 0..WORKERS {
        let ctx = ctx.clone();
        // Workers serve until the context's sockets go away with the
        // process; they are detached.
        std::thread::spawn(move || -> smolmq::Result<()> {
            let mut worker = ctx.socket(SocketType::Rep)?;
            worker.connect("inproc://broker-workers")?;
            loop {
                let request = worker.recv_blocking()?;
                let text = String::from_utf8_lossy(request.first()).into_owned();
                let reply = Msg::from(format!("{text} (worker {w})"));
                worker.send_blocking(reply).map_err(|e| e.into_error())?;
            }
        });
    }

    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let ctx = ctx.clone();
            std::thread::spawn(move || -> smolmq::Result<()> {
                let mut client = ctx.socket(SocketType::Req)?;
                client.connect("inproc://broker-clients")?;
                for r in 0..REQUESTS {
                    let request = Msg::from(format!("client {c} request {r}"));
                    client.send_blocking(request).map_err(|e| e.into_error())?;
                    let reply = client.recv_blocking()?;
                    let reply = String::from_utf8_lossy(reply.first()).into_owned();
                    assert!(reply.starts_with(&format!("client {c} request {r} ")));
                    println!("{reply}");
                }
                Ok(())
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread")?;
    }
    let mut steer = ctx.socket(SocketType::Pair)?;
    steer.connect("inproc://broker-control")?;
    steer
        .send_blocking(Msg::from("TERMINATE"))
        .map_err(|e| e.into_error())?;
    let stats = broker.join().expect("broker thread")?;
    println!(
        "broker passed {} request frames and {} reply frames",
        stats.backend.frames_out, stats.frontend.frames_out
    );
    Ok(())
}
