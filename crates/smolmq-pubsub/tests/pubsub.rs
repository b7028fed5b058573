//! PUB and SUB over inproc, ipc and tcp, message by message.

mod common;

use bytes::Bytes;
use common::*;
use smolmq_core::{Error, Msg};
use smolmq_pubsub::{subscribe, topics_count, unsubscribe};
use smolmq_zmtp::SocketType;
use std::time::{Duration, Instant};

#[test]
fn topics_filter_message_by_message() {
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "filter");
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"ab").unwrap();
        subscribe(&mut sub, b"x").unwrap();
        await_probe(&mut publisher, &mut sub, "ab-probe");
        let sent = [
            "ab1", "a", "b", "abc", "", "xy", "yx", "ab", "Ab", "x", "ba", "ab-end",
        ];
        for m in sent {
            send(&mut publisher, m);
        }
        let want: Vec<&str> = sent
            .iter()
            .copied()
            .filter(|m| m.starts_with("ab") || m.starts_with('x'))
            .collect();
        for w in &want {
            assert_eq!(text(&recv_skipping(&mut sub, "ab-probe")), *w, "{t:?}");
        }
        assert!(
            recv_within(&mut sub, Duration::from_millis(50)).is_none(),
            "{t:?}"
        );
    }
}

#[test]
fn the_empty_topic_matches_everything() {
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "empty");
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.connect(&ep).unwrap();
        // Subscribed before anything: nothing arrives.
        publisher.try_send(Msg::from("before")).unwrap();
        subscribe(&mut sub, b"").unwrap();
        await_probe(&mut publisher, &mut sub, "probe");
        for m in ["", "a", "\x00binary", "z"] {
            send(&mut publisher, m);
        }
        for m in ["", "a", "\x00binary", "z"] {
            assert_eq!(text(&recv_skipping(&mut sub, "probe")), m, "{t:?}");
        }
    }
}

#[test]
fn subscribe_and_unsubscribe_at_any_time() {
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "anytime");
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"x").unwrap();
        await_probe(&mut publisher, &mut sub, "x-probe");
        send(&mut publisher, "x1");
        send(&mut publisher, "y1");
        assert_eq!(text(&recv_skipping(&mut sub, "x-probe")), "x1", "{t:?}");

        // A second topic, while messages flow.
        subscribe(&mut sub, b"y").unwrap();
        await_probe(&mut publisher, &mut sub, "y-probe");
        send(&mut publisher, "x2");
        send(&mut publisher, "y2");
        for w in ["x2", "y2"] {
            let m = loop {
                let m = recv(&mut sub);
                if !text(&m).ends_with("probe") {
                    break m;
                }
            };
            assert_eq!(text(&m), w, "{t:?}");
        }

        // Cancel x: the SUB filters at once, the PUB stops sending once
        // the cancel arrived.
        unsubscribe(&mut sub, b"x").unwrap();
        send(&mut publisher, "x3");
        send(&mut publisher, "y3");
        assert_eq!(text(&recv_skipping(&mut sub, "y-probe")), "y3", "{t:?}");
        eventually("the PUB applies the cancel", || {
            publisher.try_send(Msg::from("tick")).unwrap();
            topics_count(&mut publisher).unwrap() == 1
        });

        // Counted: subscribed twice, one cancel leaves one.
        subscribe(&mut sub, b"x").unwrap();
        subscribe(&mut sub, b"x").unwrap();
        unsubscribe(&mut sub, b"x").unwrap();
        await_probe(&mut publisher, &mut sub, "x-probe");
        send(&mut publisher, "x4");
        assert_eq!(text(&recv_skipping(&mut sub, "x-probe")), "x4", "{t:?}");
        unsubscribe(&mut sub, b"x").unwrap();
        unsubscribe(&mut sub, b"x").unwrap(); // one too many: harmless
        unsubscribe(&mut sub, b"y").unwrap();
        send(&mut publisher, "x5");
        send(&mut publisher, "y5");
        assert!(recv_within(&mut sub, Duration::from_millis(100))
            .filter(|m| !text(m).ends_with("probe"))
            .is_none());
        eventually("the PUB has no subscription left", || {
            publisher.try_send(Msg::from("tick")).unwrap();
            topics_count(&mut publisher).unwrap() == 0
        });
    }
}

#[test]
fn fifty_subscribers_each_get_exactly_their_messages_in_order() {
    const SUBS: usize = 50;
    const EACH: usize = 20;
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "fifty");
        let topic = |i: usize| format!("t{i:02}.");
        let mut subs: Vec<_> = (0..SUBS)
            .map(|i| {
                let mut s = socket(&ctx, SocketType::Sub);
                s.connect(&ep).unwrap();
                subscribe(&mut s, topic(i).as_bytes()).unwrap();
                s
            })
            .collect();
        // Slow joiners: probe every topic until each SUB saw its own.
        let mut joined = [false; SUBS];
        let since = Instant::now();
        while joined.iter().any(|j| !j) {
            for i in (0..SUBS).filter(|&i| !joined[i]) {
                publisher
                    .try_send(Msg::from(format!("{}probe", topic(i))))
                    .unwrap();
            }
            for (i, s) in subs.iter_mut().enumerate() {
                while let Some(m) = recv_within(s, Duration::from_millis(1)) {
                    assert_eq!(text(&m), format!("{}probe", topic(i)), "{t:?}");
                    joined[i] = true;
                }
            }
            assert!(since.elapsed() < TIMEOUT, "{t:?}: not all joined");
        }
        for n in 0..EACH {
            for i in 0..SUBS {
                send(&mut publisher, format!("{}{n}", topic(i)));
            }
        }
        for i in 0..SUBS {
            send(&mut publisher, format!("{}end", topic(i)));
        }
        for (i, s) in subs.iter_mut().enumerate() {
            let mut got = Vec::new();
            loop {
                let m = text(&recv(s));
                if m.ends_with("probe") {
                    continue;
                }
                if m.ends_with("end") {
                    break;
                }
                got.push(m);
            }
            let want: Vec<String> = (0..EACH).map(|n| format!("{}{n}", topic(i))).collect();
            assert_eq!(got, want, "{t:?}: subscriber {i}");
            assert!(recv_within(s, Duration::from_millis(1)).is_none());
        }
    }
}

#[test]
fn multipart_messages_arrive_whole() {
    for t in ALL {
        let ctx = context();
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "multipart");
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"m").unwrap();
        await_probe(&mut publisher, &mut sub, "m-probe");
        let mut want = Vec::new();
        for parts in 1..=12usize {
            for topic in ["m", "n"] {
                let msg = Msg::from_frames((0..parts).map(|p| {
                    if p == 0 {
                        Bytes::from(format!("{topic}{parts}"))
                    } else {
                        Bytes::from(vec![p as u8; p * 3])
                    }
                }))
                .unwrap();
                if topic == "m" {
                    want.push(msg.clone());
                }
                send(&mut publisher, msg);
            }
        }
        for w in want {
            assert_eq!(recv_skipping(&mut sub, "m-probe"), w, "{t:?}");
        }
    }
}

#[test]
fn pub_drops_at_the_hwm_and_never_blocks() {
    const N: usize = 5000;
    for t in ALL {
        let ctx = context();
        let mut publisher = socket_with(&ctx, SocketType::Pub, |o| o.sndhwm = 10);
        let ep = bind(&mut publisher, t, "hwm");
        let mut sub = socket_with(&ctx, SocketType::Sub, |o| o.rcvhwm = 10);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"n").unwrap();
        await_probe(&mut publisher, &mut sub, "n-probe");
        // The SUB does not read while the PUB sends: big messages fill the
        // pipes and the kernel's buffers; every send still succeeds at once.
        let payload = Bytes::from(vec![7u8; 64 << 10]);
        for i in 0..N {
            let mut msg = Msg::from(payload.clone());
            msg.push_front(Bytes::from(format!("n{i:06}")));
            match publisher.try_send(msg) {
                Ok(()) => {}
                Err(e) => panic!("{t:?}: send {i} refused: {}", e.error()),
            }
        }
        // What arrives is an ordered subset; "n-end" is sent until it arrives.
        let mut got = Vec::new();
        let since = Instant::now();
        'outer: loop {
            publisher.try_send(Msg::from("n-end")).unwrap();
            while let Some(m) = recv_within(&mut sub, Duration::from_millis(20)) {
                let name = text(&m);
                if name == "n-end" {
                    break 'outer;
                }
                if name.starts_with("n-probe") {
                    continue;
                }
                assert_eq!(m.len(), 2, "{t:?}: whole messages only");
                assert_eq!(m.get(1).map(|f| f.len()), Some(64 << 10));
                got.push(name[1..].parse::<usize>().unwrap());
            }
            assert!(since.elapsed() < TIMEOUT, "{t:?}: no end");
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{t:?}: out of order");
        assert!(got.len() < N, "{t:?}: nothing was dropped");
    }
}

#[test]
fn sub_has_in_counts_only_messages_that_pass_the_filter() {
    for t in ALL {
        let ctx = context();
        // A manual XPUB that subscribes every subscriber to everything:
        // the SUB gets messages it did not ask for and must filter them.
        let mut xpub = socket(&ctx, SocketType::XPub);
        smolmq_pubsub::set_xpub_manual(&mut xpub, true).unwrap();
        let ep = bind(&mut xpub, t, "has-in");
        let mut sub = socket(&ctx, SocketType::Sub);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"a").unwrap();
        assert_eq!(recv(&mut xpub), Msg::from("\x01a"), "{t:?}");
        subscribe(&mut xpub, b"").unwrap();
        await_probe(&mut xpub, &mut sub, "a-probe");
        for m in ["b1", "b2", "c"] {
            send(&mut xpub, m);
        }
        if t == Transport::Inproc {
            // Over inproc they are in the SUB's pipe already.
            assert!(!sub.has_in(), "{t:?}: has_in with only filtered messages");
        }
        send(&mut xpub, "a1");
        eventually("a1 is readable", || sub.has_in());
        assert_eq!(text(&recv_skipping(&mut sub, "a-probe")), "a1", "{t:?}");
        assert!(!sub.has_in());
        assert!(matches!(sub.try_recv(), Err(Error::WouldBlock)));
    }
}

#[test]
fn unsupported_operations_fail() {
    let ctx = context();
    let mut publisher = socket(&ctx, SocketType::Pub);
    assert!(matches!(publisher.try_recv(), Err(Error::Unsupported(_))));
    assert!(matches!(
        subscribe(&mut publisher, b"x"),
        Err(Error::Unsupported(_))
    ));
    assert!(!publisher.has_in());
    assert!(publisher.has_out());
    let mut sub = socket(&ctx, SocketType::Sub);
    let e = sub.try_send(Msg::from("x")).unwrap_err();
    assert!(matches!(e.error(), Error::Unsupported(_)));
    assert!(!sub.has_out());
    assert!(matches!(
        smolmq_pubsub::set_xpub_verbose(&mut sub, true),
        Err(Error::Unsupported(_))
    ));
    let mut xpub = socket(&ctx, SocketType::XPub);
    // Without XPUB_MANUAL an XPUB has no subscriptions to set.
    assert!(matches!(
        subscribe(&mut xpub, b"x"),
        Err(Error::Unsupported(_))
    ));
    assert!(smolmq_pubsub::socket(&ctx, SocketType::Push).is_err());
}

#[test]
fn subscriptions_beyond_the_sndhwm_are_not_lost() {
    const TOPICS: usize = 3000;
    for t in ALL {
        let ctx = context();
        let mut publisher = socket_with(&ctx, SocketType::Pub, |o| o.rcvhwm = 10);
        let ep = bind(&mut publisher, t, "many-topics");
        let mut sub = socket_with(&ctx, SocketType::Sub, |o| o.sndhwm = 10);
        // Before connecting (they wait in the SUB) and after.
        for i in 0..TOPICS / 2 {
            subscribe(&mut sub, format!("topic-{i}.").as_bytes()).unwrap();
        }
        sub.connect(&ep).unwrap();
        for i in TOPICS / 2..TOPICS {
            subscribe(&mut sub, format!("topic-{i}.").as_bytes()).unwrap();
        }
        eventually("every subscription reaches the PUB", || {
            // Both sides make progress only when used.
            let _ = sub.try_recv();
            publisher.try_send(Msg::from("tick")).unwrap();
            topics_count(&mut publisher).unwrap() == TOPICS
        });
        assert_eq!(topics_count(&mut sub).unwrap(), TOPICS);
        let last = format!("topic-{}.", TOPICS - 1);
        await_probe(&mut publisher, &mut sub, &last);
    }
}
