//! XSUB and XPUB in a forwarding proxy, and subscriptions surviving a
//! publisher that is replaced (SUB and XSUB reconnecting).

mod common;

use bytes::Bytes;
use common::*;
use smolmq_core::{Error, Msg, Socket};
use smolmq_pubsub::{subscribe, topics_count, unsubscribe};
use smolmq_zmtp::SocketType;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Forwards between an XSUB (towards the publishers) and an XPUB (towards
/// the subscribers), both ways, until `stop` (bounded by [`TIMEOUT`] × 4).
fn proxy(mut xsub: Socket, mut xpub: Socket, stop: Arc<AtomicBool>) -> (Socket, Socket) {
    let since = Instant::now();
    let mut forwarded_up = 0usize;
    while !stop.load(Ordering::Relaxed) {
        assert!(since.elapsed() < TIMEOUT * 4, "proxy ran too long");
        let mut idle = true;
        // Bounded batches each way, so neither direction starves the other.
        for _ in 0..256 {
            match xpub.try_recv() {
                Ok(m) => {
                    idle = false;
                    forwarded_up += 1;
                    xsub.try_send(m).map_err(|e| e.into_error()).unwrap();
                }
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("proxy: {e}"),
            }
        }
        for _ in 0..256 {
            match xsub.try_recv() {
                Ok(m) => {
                    idle = false;
                    // XPUB (lossy) never refuses.
                    xpub.try_send(m).map_err(|e| e.into_error()).unwrap();
                }
                Err(Error::WouldBlock) => break,
                Err(e) => panic!("proxy: {e}"),
            }
        }
        if idle {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(forwarded_up > 0, "no subscription went through the proxy");
    (xsub, xpub)
}

#[test]
fn a_proxy_forwards_subscriptions_up_and_messages_down() {
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let up = bind(&mut publisher, t, "proxy-up");
        let mut xsub = socket(&ctx, SocketType::XSub);
        xsub.connect(&up).unwrap();
        let mut xpub = socket(&ctx, SocketType::XPub);
        let down = bind(&mut xpub, t, "proxy-down");
        let stop = Arc::new(AtomicBool::new(false));
        let proxy = {
            let stop = stop.clone();
            std::thread::spawn(move || proxy(xsub, xpub, stop))
        };
        let mut subs: Vec<Socket> = ["x", "y", "x"]
            .iter()
            .map(|topic| {
                let mut s = socket(&ctx, SocketType::Sub);
                s.connect(&down).unwrap();
                subscribe(&mut s, topic.as_bytes()).unwrap();
                s
            })
            .collect();
        for (s, topic) in subs.iter_mut().zip(["x", "y", "x"]) {
            await_probe(&mut publisher, s, &format!("{topic}-probe"));
        }
        for n in 0..10 {
            send(&mut publisher, format!("x{n}"));
            send(&mut publisher, format!("y{n}"));
            send(&mut publisher, format!("z{n}"));
        }
        send(
            &mut publisher,
            Msg::from_frames(["x-multi", "part"].map(Bytes::from)).unwrap(),
        );
        for (s, topic) in subs.iter_mut().zip(["x", "y", "x"]) {
            for n in 0..10 {
                let m = recv_skipping(s, &format!("{topic}-probe"));
                assert_eq!(text(&m), format!("{topic}{n}"), "{t:?}");
            }
            if topic == "x" {
                let m = recv(s);
                assert_eq!(m.len(), 2, "{t:?}");
                assert_eq!(text(&m), "x-multi", "{t:?}");
            }
        }
        // Cancels go up too: once both x subscribers left, the PUB holds
        // only "y".
        subs.remove(2);
        subs.remove(0);
        eventually("the cancels reach the PUB", || {
            publisher.try_send(Msg::from("tick")).unwrap();
            topics_count(&mut publisher).unwrap() == 1
        });
        stop.store(true, Ordering::Relaxed);
        let (mut xsub, _xpub) = proxy.join().unwrap();
        // The XSUB kept its count: "y" only.
        assert_eq!(topics_count(&mut xsub).unwrap(), 1, "{t:?}");
    }
}

/// Subscribes through a SUB (`subscribe`) or an XSUB (a message).
fn subscribe_any(s: &mut Socket, topic: &str) {
    if s.kind() == SocketType::XSub {
        send(s, format!("\x01{topic}"));
    } else {
        subscribe(s, topic.as_bytes()).unwrap();
    }
}

/// Cancels through a SUB or an XSUB.
fn unsubscribe_any(s: &mut Socket, topic: &str) {
    if s.kind() == SocketType::XSub {
        send(s, format!("\x00{topic}"));
    } else {
        unsubscribe(s, topic.as_bytes()).unwrap();
    }
}

#[test]
fn subscriptions_come_back_after_the_publisher_is_replaced() {
    for t in STREAMS {
        for kind in [SocketType::Sub, SocketType::XSub] {
            let ctx = context();
            let mut publisher = socket(&ctx, SocketType::Pub);
            let ep = bind(&mut publisher, t, "replaced");
            let mut sub = socket(&ctx, kind);
            sub.connect(&ep).unwrap();
            subscribe_any(&mut sub, "r");
            subscribe_any(&mut sub, "s");
            subscribe_any(&mut sub, "s");
            await_probe(&mut publisher, &mut sub, "r-probe");
            drop(publisher);

            // A new PUB at the same address: the subscriber reconnects and
            // sends its subscriptions again by itself.
            let mut publisher = socket(&ctx, SocketType::Pub);
            publisher.bind(&ep).unwrap();
            await_probe(&mut publisher, &mut sub, "r-probe");
            await_probe(&mut publisher, &mut sub, "s-probe");
            send(&mut publisher, "q1");
            send(&mut publisher, "r1");
            send(&mut publisher, "s1");
            let got: Vec<String> = (0..2)
                .map(|_| loop {
                    let m = text(&recv(&mut sub));
                    if !m.ends_with("probe") {
                        break m;
                    }
                })
                .collect();
            assert_eq!(got, ["r1", "s1"], "{t:?} {kind}");
            assert_eq!(topics_count(&mut publisher).unwrap(), 2);

            // Cancels still work on the new connection: "s" was subscribed
            // twice, so it takes two.
            unsubscribe_any(&mut sub, "r");
            unsubscribe_any(&mut sub, "s");
            subscribe_any(&mut sub, "mark");
            await_probe(&mut publisher, &mut sub, "mark");
            assert_eq!(topics_count(&mut publisher).unwrap(), 2, "{t:?} {kind}");
            unsubscribe_any(&mut sub, "s");
            unsubscribe_any(&mut sub, "mark");
            eventually("the PUB applies the cancels", || {
                publisher.try_send(Msg::from("tick")).unwrap();
                let _ = sub.try_recv();
                topics_count(&mut publisher).unwrap() == 0
            });
        }
    }
}

#[test]
fn xsub_receives_everything_unfiltered_and_fair_queued() {
    for t in ALL {
        let ctx = context();
        // Two manual XPUBs subscribe the XSUB to everything.
        let mut pubs: Vec<Socket> = (0..2)
            .map(|_| {
                let mut x = socket(&ctx, SocketType::XPub);
                smolmq_pubsub::set_xpub_manual(&mut x, true).unwrap();
                x
            })
            .collect();
        let mut xsub = socket(&ctx, SocketType::XSub);
        for (i, x) in pubs.iter_mut().enumerate() {
            let ep = bind(x, t, &format!("xsub-fq-{i}"));
            xsub.connect(&ep).unwrap();
        }
        send(&mut xsub, "\x01only-this");
        for x in pubs.iter_mut() {
            assert_eq!(recv(x), Msg::from("\x01only-this"), "{t:?}");
            subscribe(x, b"").unwrap();
        }
        for (i, x) in pubs.iter_mut().enumerate() {
            await_probe(x, &mut xsub, &format!("probe-{i}"));
        }
        // Drain probes still in flight.
        while recv_within(&mut xsub, Duration::from_millis(100)).is_some() {}
        for n in 0..50 {
            for (i, x) in pubs.iter_mut().enumerate() {
                send(x, format!("p{i}-{n}"));
            }
        }
        let mut next = [0usize; 2];
        for _ in 0..100 {
            let m = text(&recv(&mut xsub));
            let (i, n) = m[1..].split_once('-').unwrap();
            let i: usize = i.parse().unwrap();
            assert_eq!(
                n.parse::<usize>().unwrap(),
                next[i],
                "{t:?}: in order per publisher"
            );
            next[i] += 1;
        }
        assert_eq!(next, [50, 50], "{t:?}");
    }
}
