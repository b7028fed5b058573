//! PUB / SUB and XPUB / XSUB against libzmq 4.3, smolmq publishing or
//! subscribing, either side binding, over tcp and ipc: subscriptions and
//! unsubscriptions in both directions (a libzmq subscriber's reach our
//! publisher and ours reach libzmq's, seen as subscription messages on the
//! XPUB and honoured in what it sends), filtering, multipart messages.
//!
//! A subscription takes a moment to reach the publisher ("slow joiner"),
//! so the publisher sends `join` messages until the subscriber hears one;
//! what follows is then checked exactly.

mod interop;

use interop::*;
use smolmq::SocketType;
use std::time::Instant;

/// Both parts for smolmq.
const LIBS: [Lib; 2] = [Lib::Smolmq, Lib::Libzmq];

/// Publishes `[b-join]` and `[a-join]` until the subscriber receives
/// something; that must be `a-join` (the publisher filters, or the
/// subscriber does).
fn join(publisher: &mut dyn Peer, subscriber: &mut dyn Peer) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        publisher.put(&parts(&[b"b-join"]));
        publisher.put(&parts(&[b"a-join"]));
        if let Some(m) = subscriber.take_within(SHORT) {
            assert_eq!(m, parts(&[b"a-join"]));
            return;
        }
        assert!(Instant::now() < deadline, "subscription never arrived");
    }
}

/// The next message that is not a `join` leftover.
fn take_data(subscriber: &mut dyn Peer) -> Vec<Vec<u8>> {
    loop {
        let m = subscriber.take();
        if m[0].ends_with(b"-join") {
            assert_eq!(m, parts(&[b"a-join"]), "only a-join may be left over");
            continue;
        }
        return m;
    }
}

/// Publishes topics `b` and `a` alternately (multipart); the subscriber
/// gets the `a` ones, whole and in order.
fn filtered_traffic(publisher: &mut dyn Peer, subscriber: &mut dyn Peer) {
    for i in 0..10u8 {
        publisher.put(&[b"b-data".to_vec(), vec![i]]);
        let mut m = vec![b"a-data".to_vec(), vec![i]];
        m.extend(sample());
        publisher.put(&m);
    }
    for i in 0..10u8 {
        let mut want = vec![b"a-data".to_vec(), vec![i]];
        want.extend(sample());
        assert_eq!(take_data(subscriber), want);
    }
}

#[test]
fn pub_sub() {
    for_each_case("pub-sub", |role, t| {
        for lib in LIBS {
            // `lib` publishes; the subscriber holds topic "a".
            let (k, zk) = match lib {
                Lib::Smolmq => (SocketType::Pub, zmq::SUB),
                Lib::Libzmq => (SocketType::Sub, zmq::PUB),
            };
            let mut link = Link::new(
                role,
                t,
                k,
                |s| {
                    if lib == Lib::Libzmq {
                        smolmq::pubsub::subscribe(s, b"a").unwrap();
                    }
                },
                zk,
                |s| {
                    if lib == Lib::Smolmq {
                        s.set_subscribe(b"a").unwrap();
                    }
                },
            );
            let (publisher, subscriber) = link.parts(lib);
            join(publisher, subscriber);
            filtered_traffic(publisher, subscriber);
        }
    });
}

#[test]
fn xpub_xsub_subscriptions_both_ways() {
    for_each_case("xpub-xsub", |role, t| {
        for lib in LIBS {
            // `lib` is the XPUB.
            let (k, zk) = match lib {
                Lib::Smolmq => (SocketType::XPub, zmq::XSUB),
                Lib::Libzmq => (SocketType::XSub, zmq::XPUB),
            };
            let mut link = Link::new(role, t, k, |_| {}, zk, |_| {});
            let (xpub, xsub) = link.parts(lib);
            // The XSUB's subscription reaches the XPUB as a message.
            xsub.put(&parts(&[b"\x01a"]));
            assert_eq!(take_servicing(xpub, xsub), parts(&[b"\x01a"]), "{lib:?}");
            // The XSUB does not filter: only the XPUB's filtering keeps
            // topic b away.
            join(xpub, xsub);
            filtered_traffic(xpub, xsub);
            // Cancel a, subscribe c: both reach the XPUB, in order.
            xsub.put(&parts(&[b"\x00a"]));
            xsub.put(&parts(&[b"\x01c"]));
            assert_eq!(xpub.take(), parts(&[b"\x00a"]), "{lib:?}");
            assert_eq!(xpub.take(), parts(&[b"\x01c"]), "{lib:?}");
            // The cancel is honoured: a is no longer sent.
            xpub.put(&parts(&[b"a-late"]));
            xpub.put(&with_sample(b"c-data"));
            assert_eq!(xsub.take(), with_sample(b"c-data"), "{lib:?}");
        }
    });
}

/// `[topic, sample...]`.
fn with_sample(topic: &[u8]) -> Vec<Vec<u8>> {
    let mut v = vec![topic.to_vec()];
    v.extend(sample());
    v
}

#[test]
fn sub_subscribes_and_unsubscribes_at_run_time() {
    for_each_case("sub-unsub", |role, t| {
        for lib in LIBS {
            // `lib` is the SUB, the other an XPUB that shows what arrives.
            let (k, zk) = match lib {
                Lib::Smolmq => (SocketType::Sub, zmq::XPUB),
                Lib::Libzmq => (SocketType::XPub, zmq::SUB),
            };
            let mut link = Link::new(
                role,
                t,
                k,
                |s| {
                    if lib == Lib::Smolmq {
                        smolmq::pubsub::subscribe(s, b"sync").unwrap();
                    }
                },
                zk,
                |s| {
                    if lib == Lib::Libzmq {
                        s.set_subscribe(b"sync").unwrap();
                    }
                },
            );
            let xpub_take = |link: &mut Link| {
                let (sub, xpub) = link.parts(lib);
                take_servicing(xpub, sub)
            };
            // Connected once the first subscription is through.
            assert_eq!(xpub_take(&mut link), parts(&[b"\x01sync"]), "{lib:?}");
            let change = |link: &mut Link, on: bool, topic: &[u8]| match (lib, on) {
                (Lib::Smolmq, true) => smolmq::pubsub::subscribe(&mut link.ours, topic).unwrap(),
                (Lib::Smolmq, false) => smolmq::pubsub::unsubscribe(&mut link.ours, topic).unwrap(),
                (Lib::Libzmq, true) => link.theirs.set_subscribe(topic).unwrap(),
                (Lib::Libzmq, false) => link.theirs.set_unsubscribe(topic).unwrap(),
            };
            change(&mut link, true, b"a");
            change(&mut link, true, b"b");
            change(&mut link, false, b"a");
            assert_eq!(xpub_take(&mut link), parts(&[b"\x01a"]), "{lib:?}");
            assert_eq!(xpub_take(&mut link), parts(&[b"\x01b"]), "{lib:?}");
            assert_eq!(xpub_take(&mut link), parts(&[b"\x00a"]), "{lib:?}");
            // The subscriber now gets b, not a.
            let (sub, xpub) = link.parts(lib);
            xpub.put(&parts(&[b"a-1"]));
            xpub.put(&with_sample(b"b-1"));
            assert_eq!(sub.take(), with_sample(b"b-1"), "{lib:?}");
            // Nothing else was subscribed: the XPUB heard nothing more.
            assert_eq!(xpub.take_within(SHORT), None, "{lib:?}");
        }
    });
}
