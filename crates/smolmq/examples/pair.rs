//! Two threads talking over a PAIR socket pair on inproc.
//!
//! `cargo run -p smolmq --example pair`

use smolmq::{Context, Msg, SocketType};

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;
    let mut main_end = ctx.socket(SocketType::Pair)?;
    main_end.bind("inproc://pair-example")?;

    let worker_ctx = ctx.clone();
    let worker = std::thread::spawn(move || -> smolmq::Result<()> {
        let mut end = worker_ctx.socket(SocketType::Pair)?;
        end.connect("inproc://pair-example")?;
        for _ in 0..3 {
            let msg = end.recv_blocking()?;
            let text = String::from_utf8_lossy(msg.first()).to_uppercase();
            end.send_blocking(Msg::from(text))
                .map_err(|e| e.into_error())?;
        }
        Ok(())
    });

    for word in ["one", "two", "three"] {
        main_end
            .send_blocking(Msg::from(word))
            .map_err(|e| e.into_error())?;
        let reply = main_end.recv_blocking()?;
        println!("{word} -> {}", String::from_utf8_lossy(reply.first()));
    }
    worker.join().expect("worker thread")?;
    Ok(())
}
