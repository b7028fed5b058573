//! ROUTER over inproc, ipc and tcp: routing ids, 100 DEALERs, ROUTER to
//! ROUTER, MANDATORY, HANDOVER, PROBE_ROUTER, the HWM, peers coming and
//! going.

mod common;

use bytes::Bytes;
use common::*;
use smolmq_core::{Error, Msg};
use smolmq_reqrep::{
    dealer, router, routing_ids, set_connect_routing_id, set_probe_router, set_router_handover,
    set_router_mandatory,
};

/// The ROUTER's routing ids, sorted.
fn ids(r: &mut smolmq_core::Socket) -> Vec<Vec<u8>> {
    let mut ids: Vec<Vec<u8>> = routing_ids(r)
        .unwrap()
        .into_iter()
        .map(|b| b.to_vec())
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_router_serves_100_dealers_message_by_message() {
    const DEALERS: usize = 100;
    const EACH: usize = 3;
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "r100");
        let mut dealers: Vec<_> = (0..DEALERS)
            .map(|i| {
                let mut d = socket_id(&ctx, dealer, &format!("dealer-{i}"));
                d.connect(&endpoint).unwrap();
                d
            })
            .collect();
        // In: each DEALER sends its own messages; the ROUTER sees each with
        // its sender's id, in each sender's order.
        for k in 0..EACH {
            for (i, d) in dealers.iter_mut().enumerate() {
                send(d, msg(&[format!("from {i}").as_bytes(), &[k as u8]]));
            }
        }
        let mut next = [0usize; DEALERS];
        for _ in 0..DEALERS * EACH {
            let got = recv(&mut r);
            assert_eq!(got.len(), 3, "{t:?}: {got:?}");
            let text = String::from_utf8(got[1].clone()).unwrap();
            let i: usize = text.strip_prefix("from ").unwrap().parse().unwrap();
            assert_eq!(got[0], format!("dealer-{i}").into_bytes(), "{t:?}");
            assert_eq!(got[2], [next[i] as u8], "{t:?}: dealer {i} out of order");
            next[i] += 1;
        }
        assert!(next.iter().all(|&n| n == EACH), "{t:?}");
        assert!(matches!(r.try_recv(), Err(Error::WouldBlock)), "{t:?}");
        let mut expected: Vec<Vec<u8>> = (0..DEALERS)
            .map(|i| format!("dealer-{i}").into_bytes())
            .collect();
        expected.sort();
        assert_eq!(ids(&mut r), expected, "{t:?}");
        // Out: each DEALER gets exactly its own messages, in order.
        for k in 0..EACH {
            for i in (0..DEALERS).rev() {
                let m = msg(&[
                    format!("dealer-{i}").as_bytes(),
                    format!("to {i}").as_bytes(),
                    &[k as u8],
                ]);
                send(&mut r, m);
            }
        }
        for (i, d) in dealers.iter_mut().enumerate() {
            for k in 0..EACH {
                assert_eq!(
                    recv(d),
                    vec![format!("to {i}").into_bytes(), vec![k as u8]],
                    "{t:?}: dealer {i}"
                );
            }
            assert!(matches!(d.try_recv(), Err(Error::WouldBlock)), "{t:?}");
        }
    }
}

#[test]
fn peers_without_an_id_get_generated_five_byte_ids() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "rgen");
        let mut a = socket(&ctx, dealer, |_| {});
        let mut b = socket(&ctx, dealer, |_| {});
        a.connect(&endpoint).unwrap();
        b.connect(&endpoint).unwrap();
        send(&mut a, Msg::from("a"));
        let got_a = recv(&mut r);
        send(&mut b, Msg::from("b"));
        let got_b = recv(&mut r);
        assert_eq!(got_a[1], b"a");
        assert_eq!(got_b[1], b"b");
        for id in [&got_a[0], &got_b[0]] {
            assert_eq!(id.len(), 5, "{t:?}: {id:?}");
            assert_eq!(id[0], 0, "{t:?}: {id:?}");
        }
        assert_ne!(got_a[0], got_b[0], "{t:?}");
        // The generated ids route.
        send(&mut r, msg(&[&got_b[0], b"to b"]));
        send(&mut r, msg(&[&got_a[0], b"to a"]));
        assert_eq!(recv(&mut a), strs(&["to a"]), "{t:?}");
        assert_eq!(recv(&mut b), strs(&["to b"]), "{t:?}");
    }
}

#[test]
fn router_to_router_with_connect_routing_id() {
    for t in ALL {
        let ctx = context();
        let mut server = socket_id(&ctx, router, "server-announced");
        let endpoint = bind(&mut server, t, "rr2");
        let mut second = socket_id(&ctx, router, "second");
        let endpoint2 = bind(&mut second, t, "rr2b");
        let mut client = socket_id(&ctx, router, "client");
        set_router_mandatory(&mut client, true).unwrap();
        set_connect_routing_id(&mut client, &b"srv"[..]).unwrap();
        client.connect(&endpoint).unwrap();
        // Addressable at once under the id we chose, handshake or not.
        assert_eq!(ids(&mut client), [b"srv".to_vec()], "{t:?}");
        send(&mut client, msg(&[b"srv", b"hello"]));
        // The server calls the client by the id it announced.
        assert_eq!(recv(&mut server), strs(&["client", "hello"]), "{t:?}");
        send(&mut server, msg(&[b"client", b"world"]));
        assert_eq!(recv(&mut client), strs(&["srv", "world"]), "{t:?}");
        // The id is used once and cannot name a peer twice.
        let e = set_connect_routing_id(&mut client, &b"srv"[..]).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e}");
        assert!(set_connect_routing_id(&mut client, Bytes::new()).is_err());
        // Without it, the next connect's peer goes by its announced id,
        // known once the handshake is done.
        client.connect(&endpoint2).unwrap();
        wait_until(&mut client, "the second server's id", |c| {
            routing_ids(c)
                .unwrap()
                .iter()
                .any(|id| id[..] == b"second"[..])
        });
        send(&mut client, msg(&[b"second", b"hi 2"]));
        assert_eq!(recv(&mut second), strs(&["client", "hi 2"]), "{t:?}");
        send(&mut second, msg(&[b"client", b"back 2"]));
        assert_eq!(recv(&mut client), strs(&["second", "back 2"]), "{t:?}");
        assert_eq!(
            ids(&mut client),
            [b"second".to_vec(), b"srv".to_vec()],
            "{t:?}"
        );
    }
}

#[test]
fn mandatory_reports_unroutable_ids_and_plain_drops_them() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "rmand");
        let mut d = socket_id(&ctx, dealer, "known");
        d.connect(&endpoint).unwrap();
        send(&mut d, Msg::from("hi"));
        assert_eq!(recv(&mut r), strs(&["known", "hi"]));
        // Without MANDATORY: dropped silently.
        r.try_send(msg(&[b"nobody", b"lost"])).unwrap();
        // An id with no body: dropped too, even with MANDATORY (libzmq).
        r.try_send(msg(&[b"known"])).unwrap();
        set_router_mandatory(&mut r, true).unwrap();
        r.try_send(msg(&[b"known"])).unwrap();
        let e = r.try_send(msg(&[b"nobody", b"x", b"y"])).unwrap_err();
        assert!(
            matches!(e.error(), Error::Unroutable),
            "{t:?}: {}",
            e.error()
        );
        assert_eq!(frames(&e.into_msg()), strs(&["nobody", "x", "y"]));
        let e = r.send_blocking(msg(&[b"nobody", b"x"])).unwrap_err();
        assert!(matches!(e.error(), Error::Unroutable), "{t:?}");
        assert!(r.has_out(), "{t:?}");
        // The known peer got only what was meant for it.
        send(&mut r, msg(&[b"known", b"real"]));
        assert_eq!(recv(&mut d), strs(&["real"]), "{t:?}");
        assert!(matches!(d.try_recv(), Err(Error::WouldBlock)), "{t:?}");
    }
}

#[test]
fn handover_gives_the_id_to_the_newcomer() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        set_router_handover(&mut r, true).unwrap();
        let endpoint = bind(&mut r, t, "rhand");
        // The first peer does not reconnect once it is dropped.
        let mut d1 = socket(&ctx, dealer, |o| {
            o.routing_id = Some(Bytes::from_static(b"X"));
            o.reconnect_ivl = None;
        });
        d1.connect(&endpoint).unwrap();
        send(&mut d1, Msg::from("from d1"));
        assert_eq!(recv(&mut r), strs(&["X", "from d1"]), "{t:?}");
        let mut d2 = socket_id(&ctx, dealer, "X");
        d2.connect(&endpoint).unwrap();
        send(&mut d2, Msg::from("from d2"));
        assert_eq!(recv(&mut r), strs(&["X", "from d2"]), "{t:?}");
        // The old pipe is closed: one peer, called X, which is d2.
        wait_peers(&mut r, 1);
        assert_eq!(ids(&mut r), [b"X".to_vec()], "{t:?}");
        send(&mut r, msg(&[b"X", b"to X"]));
        assert_eq!(recv(&mut d2), strs(&["to X"]), "{t:?}");
        assert!(matches!(d1.try_recv(), Err(Error::WouldBlock)), "{t:?}");
    }
}

#[test]
fn without_handover_a_duplicate_id_is_ignored() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "rdup");
        let mut d1 = socket_id(&ctx, dealer, "X");
        d1.connect(&endpoint).unwrap();
        send(&mut d1, Msg::from("first"));
        assert_eq!(recv(&mut r), strs(&["X", "first"]), "{t:?}");
        let mut d2 = socket_id(&ctx, dealer, "X");
        d2.connect(&endpoint).unwrap();
        // d2 is connected but ignored.
        wait_peers(&mut r, 2);
        assert_eq!(ids(&mut r), [b"X".to_vec()], "{t:?}");
        send(&mut d2, Msg::from("from d2, dropped"));
        send(&mut d1, Msg::from("from d1"));
        assert_eq!(recv(&mut r), strs(&["X", "from d1"]), "{t:?}");
        // X is still d1.
        send(&mut r, msg(&[b"X", b"to X"]));
        assert_eq!(recv(&mut d1), strs(&["to X"]), "{t:?}");
        assert!(matches!(d2.try_recv(), Err(Error::WouldBlock)), "{t:?}");
        assert!(!r.has_in(), "{t:?}: the ignored peer's message is dropped");
        // Once d1 leaves, the waiting d2 gets the id.
        drop(d1);
        wait_peers(&mut r, 1);
        assert_eq!(ids(&mut r), [b"X".to_vec()], "{t:?}");
        send(&mut r, msg(&[b"X", b"to the new X"]));
        assert_eq!(recv(&mut d2), strs(&["to the new X"]), "{t:?}");
        send(&mut d2, Msg::from("d2 heard"));
        assert_eq!(recv(&mut r), strs(&["X", "d2 heard"]), "{t:?}");
    }
}

#[test]
fn probe_router_on_a_router() {
    for t in ALL {
        let ctx = context();
        // A connecting ROUTER with PROBE_ROUTER announces itself.
        let mut server = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut server, t, "rprobe");
        let mut client = socket_id(&ctx, router, "probing-router");
        set_probe_router(&mut client, true).unwrap();
        client.connect(&endpoint).unwrap();
        assert_eq!(recv(&mut server), strs(&["probing-router", ""]), "{t:?}");
        // A bound ROUTER with PROBE_ROUTER greets each DEALER that comes.
        let mut bound = socket(&ctx, router, |_| {});
        set_probe_router(&mut bound, true).unwrap();
        let endpoint = bind(&mut bound, t, "rprobe2");
        let mut d = socket(&ctx, dealer, |_| {});
        d.connect(&endpoint).unwrap();
        // (A socket takes in new peers when it is used, as in libzmq.)
        wait_peers(&mut bound, 1);
        assert_eq!(recv(&mut d), strs(&[""]), "{t:?}");
    }
}

#[test]
fn a_router_drops_at_the_hwm_without_mandatory() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |o| o.sndhwm = 5);
        let endpoint = bind(&mut r, t, "rdrop");
        let mut d = socket(&ctx, dealer, |o| {
            o.rcvhwm = 5;
            o.routing_id = Some(Bytes::from_static(b"slow"));
        });
        d.connect(&endpoint).unwrap();
        send(&mut d, Msg::from("hi"));
        assert_eq!(recv(&mut r), strs(&["slow", "hi"]));
        // Far more than the path holds: every send succeeds.
        const N: u32 = 5_000;
        let body = vec![1u8; 8 << 10];
        for n in 0..N {
            let m = msg(&[b"slow", &n.to_be_bytes(), &body]);
            r.try_send(m)
                .unwrap_or_else(|e| panic!("{t:?}: {}", e.error()));
        }
        // A last message that must arrive: with MANDATORY it waits for
        // the DEALER, which now reads.
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            loop {
                let m = recv(&mut d);
                if m[0] == b"end" {
                    return got;
                }
                assert!(got.len() < N as usize);
                got.push(u32::from_be_bytes(m[0][..].try_into().unwrap()));
            }
        });
        set_router_mandatory(&mut r, true).unwrap();
        send(&mut r, msg(&[b"slow", b"end"]));
        let got = reader.join().expect("reader");
        assert!(got.len() < N as usize, "{t:?}: nothing was dropped");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{t:?}: out of order");
        if t == Transport::Inproc {
            // inproc: the ROUTER's SNDHWM plus the DEALER's RCVHWM.
            assert_eq!(got, (0..10).collect::<Vec<_>>());
        }
    }
}

#[test]
fn with_mandatory_a_full_pipe_would_block() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |o| o.sndhwm = 5);
        set_router_mandatory(&mut r, true).unwrap();
        let endpoint = bind(&mut r, t, "rfull");
        let mut d = socket(&ctx, dealer, |o| {
            o.rcvhwm = 5;
            o.routing_id = Some(Bytes::from_static(b"slow"));
        });
        d.connect(&endpoint).unwrap();
        send(&mut d, Msg::from("hi"));
        assert_eq!(recv(&mut r), strs(&["slow", "hi"]));
        let body = vec![1u8; 16 << 10];
        let mut o = r.options().clone();
        o.sndtimeo = Some(std::time::Duration::from_millis(300));
        r.set_options(o).unwrap();
        let mut sent = 0u32;
        let refused = loop {
            assert!(sent < 20_000, "{t:?}: never blocked");
            match r.send_blocking(msg(&[b"slow", &sent.to_be_bytes(), &body])) {
                Ok(()) => sent += 1,
                Err(e) => {
                    assert!(e.error().is_timeout(), "{t:?}: {}", e.error());
                    match r.try_send(e.into_msg()) {
                        Ok(()) => sent += 1,
                        Err(e) => break e,
                    }
                }
            }
        };
        assert!(refused.error().is_would_block(), "{t:?}");
        assert!(!r.has_out(), "{t:?}");
        assert_eq!(frames(&refused.into_msg())[1], sent.to_be_bytes());
        if t == Transport::Inproc {
            assert_eq!(sent, 10);
        }
        // Nothing was dropped.
        for n in 0..sent {
            assert_eq!(recv(&mut d)[0], n.to_be_bytes(), "{t:?}");
        }
        assert!(matches!(d.try_recv(), Err(Error::WouldBlock)), "{t:?}");
    }
}

#[test]
fn peers_come_and_go() {
    for t in ALL {
        let ctx = context();
        let mut r = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut r, t, "rcome");
        let mut d1 = socket(&ctx, dealer, |o| {
            o.routing_id = Some(Bytes::from_static(b"d1"));
            o.linger = Some(std::time::Duration::ZERO);
        });
        d1.connect(&endpoint).unwrap();
        send(&mut d1, Msg::from("hi from d1"));
        assert_eq!(recv(&mut r), strs(&["d1", "hi from d1"]), "{t:?}");
        assert_eq!(ids(&mut r), [b"d1".to_vec()]);
        // d1 leaves: its id goes.
        drop(d1);
        wait_until(&mut r, "d1 to leave", |r| ids(r).is_empty());
        set_router_mandatory(&mut r, true).unwrap();
        let e = r.try_send(msg(&[b"d1", b"anyone?"])).unwrap_err();
        assert!(matches!(e.error(), Error::Unroutable), "{t:?}");
        // d2 comes.
        let mut d2 = socket_id(&ctx, dealer, "d2");
        d2.connect(&endpoint).unwrap();
        send(&mut d2, Msg::from("hi from d2"));
        assert_eq!(recv(&mut r), strs(&["d2", "hi from d2"]), "{t:?}");
        assert_eq!(ids(&mut r), [b"d2".to_vec()]);
        send(&mut r, msg(&[b"d2", b"welcome"]));
        assert_eq!(recv(&mut d2), strs(&["welcome"]), "{t:?}");
        // And a d1 again, as a new peer.
        let mut d1 = socket_id(&ctx, dealer, "d1");
        d1.connect(&endpoint).unwrap();
        send(&mut d1, Msg::from("back"));
        assert_eq!(recv(&mut r), strs(&["d1", "back"]), "{t:?}");
        send(&mut r, msg(&[b"d1", b"welcome back"]));
        assert_eq!(recv(&mut d1), strs(&["welcome back"]), "{t:?}");
        assert_eq!(ids(&mut r), [b"d1".to_vec(), b"d2".to_vec()]);
    }
}

#[test]
fn options_on_the_wrong_socket_type_fail() {
    let ctx = context();
    let mut d = socket(&ctx, dealer, |_| {});
    assert!(matches!(
        set_router_mandatory(&mut d, true),
        Err(Error::Unsupported(_))
    ));
    assert!(routing_ids(&mut d).is_err());
    assert!(set_probe_router(&mut d, true).is_ok());
    let mut r = socket(&ctx, router, |_| {});
    assert!(smolmq_reqrep::set_req_relaxed(&mut r, true).is_err());
}

#[test]
fn a_connecting_router_learns_ids_when_the_peer_binds_late() {
    // Connect before bind: inproc (pending name) and ipc (a path known in
    // advance; the ROUTER retries until it is there).
    for t in [Transport::Inproc, Transport::Ipc] {
        let ctx = context();
        let endpoint = endpoint(t, "rlate");
        let mut r = socket(&ctx, router, |_| {});
        set_router_mandatory(&mut r, true).unwrap();
        r.connect(&endpoint).unwrap();
        // Not addressable before the handshake.
        assert!(ids(&mut r).is_empty(), "{t:?}");
        let e = r.try_send(msg(&[b"late", b"too early"])).unwrap_err();
        assert!(matches!(e.error(), Error::Unroutable), "{t:?}");
        let mut d = socket_id(&ctx, dealer, "late");
        d.bind(&endpoint).unwrap();
        wait_until(&mut r, "the late peer's id", |r| {
            ids(r) == [b"late".to_vec()]
        });
        send(&mut r, msg(&[b"late", b"hello"]));
        assert_eq!(recv(&mut d), strs(&["hello"]), "{t:?}");
        send(&mut d, Msg::from("back"));
        assert_eq!(recv(&mut r), strs(&["late", "back"]), "{t:?}");
    }
}

#[test]
fn a_reconnected_peer_is_known_by_its_new_id() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut first = socket_id(&ctx, dealer, "first");
        let endpoint = bind(&mut first, t, "rrekey");
        let mut r = socket(&ctx, router, |_| {});
        r.connect(&endpoint).unwrap();
        wait_until(&mut r, "the first peer", |r| ids(r) == [b"first".to_vec()]);
        send(&mut r, msg(&[b"first", b"one"]));
        assert_eq!(recv(&mut first), strs(&["one"]), "{t:?}");
        // Another peer takes the address; the ROUTER's pipe reconnects to it.
        drop(first);
        let mut second = socket_id(&ctx, dealer, "second");
        let deadline = std::time::Instant::now() + TIMEOUT;
        while let Err(e) = second.bind(&endpoint) {
            assert!(std::time::Instant::now() < deadline, "{t:?}: rebind: {e}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        wait_until(&mut r, "the second peer", |r| {
            ids(r) == [b"second".to_vec()]
        });
        send(&mut r, msg(&[b"second", b"two"]));
        assert_eq!(recv(&mut second), strs(&["two"]), "{t:?}");
        send(&mut second, Msg::from("from second"));
        assert_eq!(recv(&mut r), strs(&["second", "from second"]), "{t:?}");
    }
}
