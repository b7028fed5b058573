//! DEALER over inproc, ipc and tcp: round robin out, fair queueing in,
//! whole multipart messages, blocking at the HWM, PROBE_ROUTER.

mod common;

use common::*;
use smolmq_core::pattern::{Pattern, PipeEvent, PipeId};
use smolmq_core::{Error, Msg};
use smolmq_reqrep::{dealer, router, set_probe_router, Dealer};

#[test]
fn round_robin_sends_message_by_message() {
    for t in ALL {
        let ctx = context();
        // Three bound peers; the DEALER connects to them in order, so its
        // pipes (and its rotation) are in that order.
        let mut peers: Vec<_> = (0..3).map(|_| socket(&ctx, dealer, |_| {})).collect();
        let endpoints: Vec<_> = peers.iter_mut().map(|p| bind(p, t, "rr")).collect();
        let mut d = socket(&ctx, dealer, |_| {});
        for e in &endpoints {
            d.connect(e).unwrap();
        }
        for k in 0..9 {
            send(&mut d, Msg::from(format!("m{k}")));
        }
        for (i, p) in peers.iter_mut().enumerate() {
            for k in [i, i + 3, i + 6] {
                assert_eq!(recv(p), strs(&[&format!("m{k}")]), "{t:?}: peer {i}");
            }
            assert!(matches!(p.try_recv(), Err(Error::WouldBlock)), "{t:?}");
        }
        // And back: each peer's messages reach the DEALER.
        for (i, p) in peers.iter_mut().enumerate() {
            send(p, Msg::from(format!("back {i}")));
        }
        let mut got: Vec<_> = (0..3).map(|_| recv(&mut d)).collect();
        got.sort();
        assert_eq!(
            got,
            (0..3)
                .map(|i| strs(&[&format!("back {i}")]))
                .collect::<Vec<_>>()
        );
    }
}

/// True when the DEALER has `n` pipes and each holds a message; hints the
/// pattern that they are readable (an event may still be on its way).
fn all_readable(d: &mut smolmq_core::Socket, n: usize) -> bool {
    d.with_pattern::<Dealer, _>(|p, pipes| {
        let ids: Vec<PipeId> = pipes.ids().collect();
        if ids.len() != n || !ids.iter().all(|&id| pipes.can_read(id)) {
            return false;
        }
        for id in ids {
            p.activated(pipes, id, PipeEvent::Readable);
        }
        true
    })
    .expect("a DEALER")
}

#[test]
fn fair_queue_takes_one_message_per_peer_in_turn() {
    for t in ALL {
        let ctx = context();
        let mut d = socket(&ctx, dealer, |_| {});
        let endpoint = bind(&mut d, t, "fq");
        let mut peers: Vec<_> = (0..3).map(|_| socket(&ctx, dealer, |_| {})).collect();
        for p in &mut peers {
            p.connect(&endpoint).unwrap();
        }
        const ROUNDS: usize = 4;
        for (i, p) in peers.iter_mut().enumerate() {
            for k in 0..ROUNDS {
                send(p, Msg::from(format!("{i}:{k}")));
            }
        }
        // Round by round: once every peer's pipe holds a message, three
        // receives take one from each, always in the same pipe order.
        let mut order: Option<Vec<usize>> = None;
        for k in 0..ROUNDS {
            wait_until(&mut d, "every pipe readable", |d| all_readable(d, 3));
            let round: Vec<usize> = (0..3)
                .map(|_| {
                    let m = d.try_recv().expect("a message is there");
                    let text = String::from_utf8(m.first()[..].to_vec()).unwrap();
                    let (who, n) = text.split_once(':').unwrap();
                    assert_eq!(n.parse::<usize>().unwrap(), k, "{t:?}: {text}");
                    who.parse().unwrap()
                })
                .collect();
            let mut sorted = round.clone();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2], "{t:?}: round {k} was {round:?}");
            if let Some(first) = &order {
                assert_eq!(&round, first, "{t:?}: round {k}");
            }
            order = Some(round);
        }
        assert!(matches!(d.try_recv(), Err(Error::WouldBlock)), "{t:?}");
    }
}

#[test]
fn multipart_messages_stay_whole() {
    for t in ALL {
        let ctx = context();
        let mut peers: Vec<_> = (0..2).map(|_| socket(&ctx, dealer, |_| {})).collect();
        let endpoints: Vec<_> = peers.iter_mut().map(|p| bind(p, t, "mp")).collect();
        let mut d = socket(&ctx, dealer, |_| {});
        for e in &endpoints {
            d.connect(e).unwrap();
        }
        let message = |k: usize| {
            let parts: Vec<Vec<u8>> = (0..=k % 5).map(|p| vec![k as u8; p * 3]).collect();
            let refs: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
            msg(&refs)
        };
        for k in 0..20 {
            send(&mut d, message(k));
        }
        for (i, p) in peers.iter_mut().enumerate() {
            for k in (i..20).step_by(2) {
                assert_eq!(recv(p), frames(&message(k)), "{t:?}: peer {i} message {k}");
            }
        }
        // And in: each peer's multipart message arrives whole.
        for (i, p) in peers.iter_mut().enumerate() {
            send(p, msg(&[b"from", &[i as u8], b"", b"end"]));
        }
        let mut got: Vec<_> = (0..2).map(|_| recv(&mut d)).collect();
        got.sort();
        for (i, g) in got.iter().enumerate() {
            assert_eq!(
                g,
                &frames(&msg(&[b"from", &[i as u8], b"", b"end"])),
                "{t:?}"
            );
        }
    }
}

#[test]
fn a_dealer_blocks_at_the_hwm_and_loses_nothing() {
    for t in ALL {
        let ctx = context();
        // The ROUTER does not read; the DEALER fills the path to it.
        let mut r = socket(&ctx, router, |o| o.rcvhwm = 5);
        let endpoint = bind(&mut r, t, "dhwm");
        let mut d = socket_id(&ctx, dealer, "d");
        let mut o = d.options().clone();
        o.sndhwm = 5;
        d.set_options(o).unwrap();
        d.connect(&endpoint).unwrap();
        // Connected (so the HWM met is the path's, not the idle pipe's).
        wait_peers(&mut r, 1);
        let body = vec![7u8; 16 << 10];
        let numbered = |n: usize| {
            let mut m = Msg::from(body.clone());
            m.push_front(bytes::Bytes::from(n.to_string()));
            m
        };
        // Fill the path: wait a little for room each time (the engine may
        // lag behind), until there is none.
        let mut o = d.options().clone();
        o.sndtimeo = Some(std::time::Duration::from_millis(300));
        d.set_options(o.clone()).unwrap();
        let mut sent = 0usize;
        let refused = loop {
            assert!(sent < 20_000, "{t:?}: never blocked");
            match d.send_blocking(numbered(sent)) {
                Ok(()) => sent += 1,
                Err(e) => {
                    assert!(e.error().is_timeout(), "{t:?}: {}", e.error());
                    // Still no room: try_send would block.
                    match d.try_send(e.into_msg()) {
                        Ok(()) => sent += 1,
                        Err(e) => break e,
                    }
                }
            }
        };
        o.sndtimeo = Some(TIMEOUT);
        d.set_options(o).unwrap();
        assert!(
            refused.error().is_would_block(),
            "{t:?}: {}",
            refused.error()
        );
        // The message is handed back whole.
        let back = refused.into_msg();
        assert_eq!(back.first(), sent.to_string().as_bytes(), "{t:?}");
        assert_eq!(back.len(), 2);
        if t == Transport::Inproc {
            // inproc: the DEALER's SNDHWM plus the ROUTER's RCVHWM.
            assert_eq!(sent, 10);
        }
        // Everything accepted arrives, in order; then the DEALER can send
        // again.
        for k in 0..sent {
            let got = recv(&mut r);
            assert_eq!(got[0], b"d", "{t:?}");
            assert_eq!(got[1], k.to_string().as_bytes(), "{t:?}");
            assert_eq!(got[2].len(), body.len(), "{t:?}");
        }
        send(&mut d, back);
        send(&mut d, Msg::from("after"));
        assert_eq!(recv(&mut r)[1], sent.to_string().as_bytes(), "{t:?}");
        assert_eq!(recv(&mut r), strs(&["d", "after"]), "{t:?}");
    }
}

#[test]
fn with_no_peer_a_dealer_would_block() {
    let ctx = context();
    let mut d = socket(&ctx, dealer, |_| {});
    d.bind(&endpoint(Transport::Inproc, "nopeer")).unwrap();
    let e = d.try_send(Msg::from("x")).unwrap_err();
    assert!(e.error().is_would_block());
    assert!(!d.has_out());
    assert!(!d.has_in());
    assert!(matches!(d.try_recv(), Err(Error::WouldBlock)));
}

#[test]
fn probe_router_sends_an_empty_message_to_each_new_peer() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "dprobe");
        let mut d = socket_id(&ctx, dealer, "prober");
        set_probe_router(&mut d, true).unwrap();
        d.connect(&endpoint).unwrap();
        // The ROUTER learns the DEALER's id before the DEALER sends.
        assert_eq!(recv(&mut r), strs(&["prober", ""]), "{t:?}");
        send(&mut r, msg(&[b"prober", b"hi"]));
        assert_eq!(recv(&mut d), strs(&["hi"]), "{t:?}");
    }
}

#[test]
fn has_in_and_has_out_follow_the_pipes() {
    for t in ALL {
        let ctx = context();
        let mut a = socket(&ctx, dealer, |_| {});
        let endpoint = bind(&mut a, t, "dhas");
        let mut b = socket(&ctx, dealer, |_| {});
        b.connect(&endpoint).unwrap();
        // The connecting side has its pipe at once.
        assert!(b.has_out(), "{t:?}");
        assert!(!b.has_in(), "{t:?}");
        send(&mut b, Msg::from("x"));
        wait_until(&mut a, "a message", |a| a.has_in());
        assert!(a.has_out(), "{t:?}");
        assert_eq!(recv(&mut a), strs(&["x"]));
        assert!(!a.has_in(), "{t:?}");
    }
}
