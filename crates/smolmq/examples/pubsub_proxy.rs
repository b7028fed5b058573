//! A publisher, an XSUB / XPUB forwarder and two subscribers with their own
//! topics: subscriptions travel up through the proxy, messages down.
//!
//! `cargo run -p smolmq --example pubsub_proxy`

use smolmq::proxy::proxy_steerable;
use smolmq::{pubsub, Context, Msg, SocketOptions, SocketType};
use std::time::Duration;

fn main() -> smolmq::Result<()> {
    let ctx = Context::new()?;

    // The forwarder: XSUB faces the publishers, XPUB the subscribers.
    let mut upstream = ctx.socket(SocketType::XSub)?;
    upstream.bind("inproc://publishers")?;
    let mut downstream = ctx.socket(SocketType::XPub)?;
    downstream.bind("inproc://subscribers")?;
    let mut control = ctx.socket(SocketType::Pair)?;
    control.bind("inproc://forwarder-control")?;
    let forwarder = std::thread::spawn(move || {
        proxy_steerable(&mut upstream, &mut downstream, None, &mut control)
    });

    let mut publisher = ctx.socket(SocketType::Pub)?;
    publisher.connect("inproc://publishers")?;

    let mut subscribers = Vec::new();
    for topic in ["weather", "sport"] {
        let mut sub = ctx.socket(SocketType::Sub)?;
        sub.set_options(SocketOptions {
            rcvtimeo: Some(Duration::from_millis(10)),
            ..SocketOptions::default()
        })?;
        pubsub::subscribe(&mut sub, topic.as_bytes())?;
        sub.connect("inproc://subscribers")?;
        subscribers.push((topic, sub));
    }

    // Publish until every subscriber has heard (subscriptions take a
    // moment to travel up), then a few numbered updates per topic.
    let mut heard = [false; 2];
    for _ in 0..5000 {
        if heard.iter().all(|h| *h) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
        for topic in ["weather", "sport"] {
            let hello = Msg::from(format!("{topic} hello"));
            publisher.send_blocking(hello).map_err(|e| e.into_error())?;
        }
        for (i, (_, sub)) in subscribers.iter_mut().enumerate() {
            while sub.try_recv().is_ok() {
                heard[i] = true;
            }
        }
    }
    assert!(heard.iter().all(|h| *h), "the subscriptions never arrived");
    for n in 1..=3 {
        for topic in ["weather", "sport", "news"] {
            let update = Msg::from(format!("{topic} update {n}"));
            publisher
                .send_blocking(update)
                .map_err(|e| e.into_error())?;
        }
    }
    for (topic, sub) in &mut subscribers {
        let mut options = sub.options().clone();
        options.rcvtimeo = Some(Duration::from_secs(5));
        sub.set_options(options)?;
        for _ in 1..=3 {
            // Late hellos may come first.
            let msg = loop {
                let msg = sub.recv_blocking()?;
                if !msg.first().ends_with(b"hello") {
                    break msg;
                }
            };
            println!(
                "{topic} subscriber got {:?}",
                String::from_utf8_lossy(msg.first())
            );
        }
    }

    let mut steer = ctx.socket(SocketType::Pair)?;
    steer.connect("inproc://forwarder-control")?;
    steer
        .send_blocking(Msg::from("TERMINATE"))
        .map_err(|e| e.into_error())?;
    let stats = forwarder.join().expect("forwarder thread")?;
    println!("forwarder moved {} messages down", stats.backend.frames_out);
    Ok(())
}
