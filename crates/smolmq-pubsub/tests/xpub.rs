//! XPUB over inproc, ipc and tcp: the subscriptions it shows (default,
//! VERBOSE, VERBOSER, MANUAL), NODROP, WELCOME_MSG, upstream messages.

mod common;

use bytes::Bytes;
use common::*;
use smolmq_core::{Error, Msg, Socket};
use smolmq_pubsub::{
    set_xpub_manual, set_xpub_nodrop, set_xpub_verbose, set_xpub_verboser, set_xpub_welcome_msg,
    subscribe, unsubscribe,
};
use smolmq_zmtp::SocketType;
use std::time::{Duration, Instant};

/// The next subscription message the XPUB receives, as text.
fn next(xpub: &mut Socket) -> String {
    let m = recv(xpub);
    let f: &[u8] = m.first();
    match f.split_first() {
        Some((1, topic)) => format!("+{}", String::from_utf8_lossy(topic)),
        Some((0, topic)) => format!("-{}", String::from_utf8_lossy(topic)),
        _ => format!("data {}", String::from_utf8_lossy(f)),
    }
}

/// An XPUB set up by `tune`, bound, and two SUBs connected to it.
fn setup(
    ctx: &smolmq_core::Context,
    t: Transport,
    name: &str,
    tune: impl FnOnce(&mut Socket),
) -> (Socket, Socket, Socket) {
    let mut xpub = socket(ctx, SocketType::XPub);
    tune(&mut xpub);
    let ep = bind(&mut xpub, t, name);
    let mut a = socket(ctx, SocketType::Sub);
    a.connect(&ep).unwrap();
    let mut b = socket(ctx, SocketType::Sub);
    b.connect(&ep).unwrap();
    (xpub, a, b)
}

#[test]
fn by_default_only_a_topics_first_subscribe_and_last_cancel() {
    for t in ALL {
        let ctx = context();
        let (mut xpub, mut a, mut b) = setup(&ctx, t, "default", |_| {});
        subscribe(&mut a, b"t").unwrap();
        assert_eq!(next(&mut xpub), "+t", "{t:?}");
        // b's "t" is not new; its marker (same pipe, so after it) is.
        subscribe(&mut b, b"t").unwrap();
        subscribe(&mut b, b"mark-b").unwrap();
        assert_eq!(next(&mut xpub), "+mark-b", "{t:?}");
        // a's cancel leaves b on "t": not shown.
        unsubscribe(&mut a, b"t").unwrap();
        subscribe(&mut a, b"mark-a").unwrap();
        assert_eq!(next(&mut xpub), "+mark-a", "{t:?}");
        // b's cancel removes the last subscriber.
        unsubscribe(&mut b, b"t").unwrap();
        assert_eq!(next(&mut xpub), "-t", "{t:?}");
        // A subscriber leaving: cancels for what nobody else holds.
        subscribe(&mut b, b"mark-a").unwrap();
        subscribe(&mut b, b"mark-c").unwrap();
        assert_eq!(next(&mut xpub), "+mark-c", "{t:?}");
        drop(b);
        assert_eq!(next(&mut xpub), "-mark-b", "{t:?}");
        assert_eq!(next(&mut xpub), "-mark-c", "{t:?}");
        // And messages go where the subscriptions are.
        await_probe(&mut xpub, &mut a, "mark-a");
        assert!(matches!(xpub.try_recv(), Err(Error::WouldBlock)), "{t:?}");
    }
}

#[test]
fn verbose_shows_every_subscribe() {
    for t in ALL {
        let ctx = context();
        let (mut xpub, mut a, mut b) =
            setup(&ctx, t, "verbose", |x| set_xpub_verbose(x, true).unwrap());
        subscribe(&mut a, b"t").unwrap();
        assert_eq!(next(&mut xpub), "+t", "{t:?}");
        subscribe(&mut b, b"t").unwrap();
        assert_eq!(next(&mut xpub), "+t", "{t:?}");
        // Cancels as by default: only the last.
        unsubscribe(&mut b, b"t").unwrap();
        subscribe(&mut b, b"mark").unwrap();
        assert_eq!(next(&mut xpub), "+mark", "{t:?}");
        unsubscribe(&mut a, b"t").unwrap();
        assert_eq!(next(&mut xpub), "-t", "{t:?}");
    }
}

#[test]
fn verboser_shows_every_subscribe_and_cancel() {
    for t in ALL {
        let ctx = context();
        let (mut xpub, mut a, mut b) =
            setup(&ctx, t, "verboser", |x| set_xpub_verboser(x, true).unwrap());
        subscribe(&mut a, b"t").unwrap();
        assert_eq!(next(&mut xpub), "+t", "{t:?}");
        subscribe(&mut b, b"t").unwrap();
        assert_eq!(next(&mut xpub), "+t", "{t:?}");
        unsubscribe(&mut b, b"t").unwrap();
        assert_eq!(next(&mut xpub), "-t", "{t:?}");
        unsubscribe(&mut a, b"t").unwrap();
        assert_eq!(next(&mut xpub), "-t", "{t:?}");
        // A subscriber leaving: a cancel for each topic it held, held by
        // others or not.
        subscribe(&mut a, b"u").unwrap();
        assert_eq!(next(&mut xpub), "+u", "{t:?}");
        subscribe(&mut b, b"u").unwrap();
        assert_eq!(next(&mut xpub), "+u", "{t:?}");
        subscribe(&mut b, b"v").unwrap();
        assert_eq!(next(&mut xpub), "+v", "{t:?}");
        drop(b);
        assert_eq!(next(&mut xpub), "-u", "{t:?}");
        assert_eq!(next(&mut xpub), "-v", "{t:?}");
        // a is still subscribed to "u".
        await_probe(&mut xpub, &mut a, "u");
    }
}

#[test]
fn nodrop_refuses_at_the_hwm_and_loses_nothing() {
    for t in ALL {
        let ctx = context();
        let mut xpub = socket_with(&ctx, SocketType::XPub, |o| o.sndhwm = 4);
        set_xpub_nodrop(&mut xpub, true).unwrap();
        let ep = bind(&mut xpub, t, "nodrop");
        let mut sub = socket_with(&ctx, SocketType::Sub, |o| o.rcvhwm = 4);
        sub.connect(&ep).unwrap();
        subscribe(&mut sub, b"n").unwrap();
        assert_eq!(next(&mut xpub), "+n", "{t:?}");
        // Fill everything up to the refusal.
        let payload = Bytes::from(vec![1u8; 64 << 10]);
        let numbered = |i: usize| {
            let mut m = Msg::from(payload.clone());
            m.push_front(Bytes::from(format!("n{i:06}")));
            m
        };
        let mut sent = 0;
        let since = Instant::now();
        loop {
            match xpub.try_send(numbered(sent)) {
                Ok(()) => sent += 1,
                Err(e) if e.error().is_would_block() => break,
                Err(e) => panic!("{t:?}: {}", e.error()),
            }
            assert!(
                sent < 100_000 && since.elapsed() < TIMEOUT,
                "{t:?}: never refused"
            );
        }
        // A blocking send waits until the subscriber reads; a reader thread
        // takes everything, in order, none missing.
        let total = sent + 20;
        let reader = std::thread::spawn(move || {
            for i in 0..total {
                let m = recv(&mut sub);
                assert_eq!(text(&m), format!("n{i:06}"), "{t:?}");
            }
            assert!(recv_within(&mut sub, Duration::from_millis(50)).is_none());
        });
        for i in sent..total {
            xpub.send_blocking(numbered(i))
                .map_err(|e| e.into_error())
                .unwrap();
        }
        reader.join().unwrap();
    }
}

#[test]
fn a_welcome_message_greets_each_new_subscriber() {
    for t in ALL {
        let ctx = context();
        let mut xpub = socket(&ctx, SocketType::XPub);
        set_xpub_welcome_msg(&mut xpub, Some(Bytes::from_static(b"hello"))).unwrap();
        let ep = bind(&mut xpub, t, "welcome");
        let mut subs = Vec::new();
        for n in 0..2 {
            let mut sub = socket(&ctx, SocketType::Sub);
            // The welcome passes the SUB's filter only if it asked for it.
            subscribe(&mut sub, b"hel").unwrap();
            sub.connect(&ep).unwrap();
            // The XPUB takes its new peers in when it is used (as libzmq's
            // sockets process commands in their calls).
            let since = Instant::now();
            let welcome = loop {
                if let Ok(m) = xpub.try_recv() {
                    assert_eq!(n, 0, "{t:?}: the second \"hel\" is not new");
                    assert_eq!(m, Msg::from("\x01hel"), "{t:?}");
                }
                if let Some(m) = recv_within(&mut sub, Duration::from_millis(10)) {
                    break m;
                }
                assert!(since.elapsed() < TIMEOUT, "{t:?}: no welcome");
            };
            assert_eq!(welcome, Msg::from("hello"), "{t:?}: subscriber {n}");
            subs.push(sub);
        }
    }
}

#[test]
fn manual_mode_lets_the_application_decide() {
    for t in ALL {
        let ctx = context();
        let (mut xpub, mut a, mut b) =
            setup(&ctx, t, "manual", |x| set_xpub_manual(x, true).unwrap());
        // a asks for "a" and gets "a" and "extra" too.
        subscribe(&mut a, b"a").unwrap();
        assert_eq!(next(&mut xpub), "+a", "{t:?}");
        subscribe(&mut xpub, b"a").unwrap();
        subscribe(&mut xpub, b"").unwrap();
        // b asks for "a" as well (shown again: nothing is applied in manual
        // mode) and for "b", which the application refuses.
        subscribe(&mut b, b"b").unwrap();
        assert_eq!(next(&mut xpub), "+b", "{t:?}");
        subscribe(&mut b, b"a").unwrap();
        assert_eq!(next(&mut xpub), "+a", "{t:?}");
        subscribe(&mut xpub, b"a").unwrap();
        // Messages follow the application's choice.
        await_probe(&mut xpub, &mut b, "a-probe");
        send(&mut xpub, "b1"); // refused for b; a gets everything, but filters
        send(&mut xpub, "a1");
        assert_eq!(text(&recv_skipping(&mut b, "a-probe")), "a1", "{t:?}");
        let mut got = Vec::new();
        while got.last().map(String::as_str) != Some("a1") {
            let m = text(&recv(&mut a));
            if !m.starts_with("a-probe") {
                got.push(m);
            }
        }
        assert_eq!(got, ["a1"], "{t:?}: a filters what it did not ask for");
        // Cancels are shown too; the application applies this one.
        unsubscribe(&mut b, b"a").unwrap();
        assert_eq!(next(&mut xpub), "-a", "{t:?}");
        unsubscribe(&mut xpub, b"a").unwrap();
        assert_eq!(smolmq_pubsub::topics_count(&mut xpub).unwrap(), 2, "{t:?}");
        // A subscriber leaving: a cancel for each topic it asked for, and
        // the last pipe is forgotten.
        drop(b);
        assert_eq!(next(&mut xpub), "-b", "{t:?}");
        let applied = xpub
            .with_pattern::<smolmq_pubsub::XPub, _>(|x, _| x.subscribe_last(b"z"))
            .unwrap()
            .unwrap();
        assert!(!applied, "{t:?}: the last pipe left");
        drop(a);
        assert_eq!(next(&mut xpub), "-a", "{t:?}");
    }
}

#[test]
fn messages_an_xsub_sends_upstream_reach_the_xpub_application() {
    for t in ALL {
        let ctx = context();
        let mut xpub = socket(&ctx, SocketType::XPub);
        let ep = bind(&mut xpub, t, "upstream");
        let mut xsub = socket(&ctx, SocketType::XSub);
        xsub.connect(&ep).unwrap();
        send(&mut xsub, "\x01topic");
        send(&mut xsub, "hello upstream");
        let multipart = Msg::from_frames(["\x01not", "a subscription"].map(Bytes::from)).unwrap();
        send(&mut xsub, multipart.clone());
        send(&mut xsub, "");
        assert_eq!(next(&mut xpub), "+topic", "{t:?}");
        assert_eq!(recv(&mut xpub), Msg::from("hello upstream"), "{t:?}");
        assert_eq!(recv(&mut xpub), multipart, "{t:?}");
        assert_eq!(recv(&mut xpub), Msg::new(), "{t:?}");
        // A plain PUB drops them and still works.
        let mut publisher = socket(&ctx, SocketType::Pub);
        let ep = bind(&mut publisher, t, "upstream-pub");
        xsub.connect(&ep).unwrap();
        send(&mut xsub, "ignored by PUB");
        await_probe(&mut publisher, &mut xsub, "topic-probe");
    }
}
