//! The DEALER / ROUTER example of `dealer_router.rs`, async on smol: one
//! executor thread runs the server and every client as tasks.
//!
//! `cargo run -p smolmq --example dealer_router_async`

use smolmq::{Bytes, Context, Msg, SocketOptions, SocketType};

/// Requests each client sends.
const REQUESTS: usize = 5;
/// Clients.
const CLIENTS: usize = 3;

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;
    smol::block_on(async {
        let mut server = ctx.socket(SocketType::Router)?;
        server.bind("tcp://127.0.0.1:0")?;
        let endpoint = server.last_endpoint().expect("bound").to_string();

        let ex = smol::LocalExecutor::new();
        let mut clients = Vec::new();
        for n in 0..CLIENTS {
            let mut client = ctx.socket(SocketType::Dealer)?;
            client.set_options(SocketOptions {
                routing_id: Some(Bytes::from(format!("client-{n}"))),
                ..SocketOptions::default()
            })?;
            client.connect(&endpoint)?;
            clients.push(ex.spawn(async move {
                for i in 0..REQUESTS {
                    let request = Msg::from(format!("request {i}"));
                    client.send(request).await.map_err(|e| e.into_error())?;
                    let reply = client.recv().await?;
                    println!(
                        "client-{n} got {:?}",
                        String::from_utf8_lossy(reply.first())
                    );
                }
                Ok::<(), smolmq::Error>(())
            }));
        }
        let serve = async {
            for _ in 0..CLIENTS * REQUESTS {
                let mut msg = server.recv().await?;
                let id = msg.pop_front().expect("a routing id frame");
                let body = String::from_utf8_lossy(msg.first()).into_owned();
                let mut reply = Msg::from(format!("{body} done"));
                reply.push_front(id);
                server.send(reply).await.map_err(|e| e.into_error())?;
            }
            Ok::<(), smolmq::Error>(())
        };
        ex.run(async {
            serve.await?;
            for client in clients {
                client.await?;
            }
            Ok(())
        })
        .await
    })
}
