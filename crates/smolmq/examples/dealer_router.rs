//! A ROUTER server answering several DEALER clients over tcp, each on its
//! own thread, with blocking calls.
//!
//! `cargo run -p smolmq --example dealer_router`

use smolmq::{Bytes, Context, Msg, SocketOptions, SocketType};

/// Requests each client sends.
const REQUESTS: usize = 5;
/// Clients.
const CLIENTS: usize = 3;

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;
    let mut server = ctx.socket(SocketType::Router)?;
    server.bind("tcp://127.0.0.1:0")?;
    let endpoint = server.last_endpoint().expect("bound").to_string();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let ctx = ctx.clone();
            let endpoint = endpoint.clone();
            std::thread::spawn(move || -> smolmq::Result<()> {
                let mut client = ctx.socket(SocketType::Dealer)?;
                client.set_options(SocketOptions {
                    routing_id: Some(Bytes::from(format!("client-{n}"))),
                    ..SocketOptions::default()
                })?;
                client.connect(&endpoint)?;
                for i in 0..REQUESTS {
                    let request = Msg::from(format!("request {i}"));
                    client.send_blocking(request).map_err(|e| e.into_error())?;
                    let reply = client.recv_blocking()?;
                    println!(
                        "client-{n} got {:?}",
                        String::from_utf8_lossy(reply.first())
                    );
                }
                Ok(())
            })
        })
        .collect();

    // [routing id, body] in; [routing id, reply] out.
    for _ in 0..CLIENTS * REQUESTS {
        let mut msg = server.recv_blocking()?;
        let id = msg.pop_front().expect("a routing id frame");
        let body = String::from_utf8_lossy(msg.first()).into_owned();
        let mut reply = Msg::from(format!("{body} done"));
        reply.push_front(id);
        server.send_blocking(reply).map_err(|e| e.into_error())?;
    }
    for client in clients {
        client.join().expect("client thread")?;
    }
    Ok(())
}
