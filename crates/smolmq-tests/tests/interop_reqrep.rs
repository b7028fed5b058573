//! DEALER / ROUTER / REQ / REP against libzmq 4.3, every compatible pair
//! (DEALER-ROUTER, ROUTER-ROUTER, DEALER-DEALER, REQ-REP, REQ-ROUTER,
//! DEALER-REP), each with smolmq playing either part, either side binding,
//! over tcp and ipc. Routing ids are set on either side (and generated when
//! not set); envelopes (REQ's delimiter, REP's stack of hops) are checked
//! frame by frame; messages are multipart with empty and long frames.

mod interop;

use interop::*;
use smolmq::SocketType;
use std::time::Instant;

/// Both parts for smolmq.
const LIBS: [Lib; 2] = [Lib::Smolmq, Lib::Libzmq];

/// `frames` with `head` in front.
fn with(head: &[&[u8]], frames: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut v = parts(head);
    v.extend(frames);
    v
}

/// smolmq's and libzmq's socket types for a part.
fn kinds(lib: Lib, mine: SocketType, other: SocketType) -> (SocketType, zmq::SocketType) {
    let z = |k| match k {
        SocketType::Dealer => zmq::DEALER,
        SocketType::Router => zmq::ROUTER,
        SocketType::Req => zmq::REQ,
        SocketType::Rep => zmq::REP,
        _ => unreachable!(),
    };
    match lib {
        Lib::Smolmq => (mine, z(other)),
        Lib::Libzmq => (other, z(mine)),
    }
}

#[test]
fn dealer_router_with_routing_id() {
    for_each_case("dealer-router-id", |role, t| {
        for lib in LIBS {
            // `lib` is the DEALER, and names itself.
            let (k, zk) = kinds(lib, SocketType::Dealer, SocketType::Router);
            let mut link = Link::new(
                role,
                t,
                k,
                |s| {
                    if lib == Lib::Smolmq {
                        set_routing_id(s, b"dealer-1")
                    }
                },
                zk,
                |s| {
                    if lib == Lib::Libzmq {
                        s.set_identity(b"dealer-1").unwrap()
                    }
                },
            );
            let (dealer, router) = link.parts(lib);
            for round in 0..3u8 {
                dealer.put(&sample());
                assert_eq!(router.take(), with(&[b"dealer-1"], sample()), "{lib:?}");
                router.put(&with(&[b"dealer-1", &[round]], sample()));
                assert_eq!(dealer.take(), with(&[&[round]], sample()), "{lib:?}");
            }
        }
    });
}

#[test]
fn dealer_router_with_generated_id() {
    for_each_case("dealer-router-gen", |role, t| {
        for lib in LIBS {
            let (k, zk) = kinds(lib, SocketType::Dealer, SocketType::Router);
            let mut link = Link::new(role, t, k, |_| {}, zk, |_| {});
            let (dealer, router) = link.parts(lib);
            dealer.put(&parts(&[b"hello"]));
            let got = router.take();
            // A generated id: five bytes, the first zero (both libraries).
            assert_eq!(got.len(), 2, "{lib:?}");
            assert_eq!(got[0].len(), 5, "{lib:?}");
            assert_eq!(got[0][0], 0, "{lib:?}");
            assert_eq!(got[1], b"hello", "{lib:?}");
            router.put(&[got[0].clone(), b"world".to_vec()]);
            assert_eq!(dealer.take(), parts(&[b"world"]), "{lib:?}");
        }
    });
}

#[test]
fn router_router() {
    for_each_case("router-router", |role, t| {
        // The binding side is "server", the connecting one "client"; the
        // client sends first (ROUTER_MANDATORY tells it when the server's
        // id is known).
        let mut link = Link::new(
            role,
            t,
            SocketType::Router,
            |s| {
                let id: &[u8] = if role == Role::SmolmqBinds {
                    b"server"
                } else {
                    b"client"
                };
                set_routing_id(s, id);
                smolmq::reqrep::set_router_mandatory(s, true).unwrap();
            },
            zmq::ROUTER,
            |s| {
                let id: &[u8] = if role == Role::LibzmqBinds {
                    b"server"
                } else {
                    b"client"
                };
                s.set_identity(id).unwrap();
                s.set_router_mandatory(true).unwrap();
            },
        );
        let binder = if role == Role::SmolmqBinds {
            Lib::Smolmq
        } else {
            Lib::Libzmq
        };
        let (server, client) = link.parts(binder);
        let deadline = Instant::now() + TIMEOUT;
        while !client.try_put(&with(&[b"server"], sample())) {
            assert!(Instant::now() < deadline, "server never routable");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(server.take(), with(&[b"client"], sample()));
        server.put(&with(&[b"client", b"reply"], sample()));
        assert_eq!(client.take(), with(&[b"server", b"reply"], sample()));
        // An unknown id is refused on both sides.
        assert!(!server.try_put(&parts(&[b"nobody", b"x"])));
    });
}

#[test]
fn dealer_dealer() {
    for_each_case("dealer-dealer", |role, t| {
        let mut link = Link::new(role, t, SocketType::Dealer, |_| {}, zmq::DEALER, |_| {});
        ours_to_theirs(&mut link.ours, &link.theirs);
        theirs_to_ours(&link.theirs, &mut link.ours);
    });
}

#[test]
fn req_rep() {
    for_each_case("req-rep", |role, t| {
        for lib in LIBS {
            let (k, zk) = kinds(lib, SocketType::Req, SocketType::Rep);
            let mut link = Link::new(role, t, k, |_| {}, zk, |_| {});
            let (req, rep) = link.parts(lib);
            for round in 0..5u8 {
                req.put(&with(&[&[round]], sample()));
                assert_eq!(rep.take(), with(&[&[round]], sample()), "{lib:?}");
                rep.put(&parts(&[b"reply", &[round], b""]));
                assert_eq!(req.take(), parts(&[b"reply", &[round], b""]), "{lib:?}");
            }
        }
    });
}

#[test]
fn req_router() {
    for_each_case("req-router", |role, t| {
        for lib in LIBS {
            let (k, zk) = kinds(lib, SocketType::Req, SocketType::Router);
            let mut link = Link::new(
                role,
                t,
                k,
                |s| {
                    if lib == Lib::Smolmq {
                        set_routing_id(s, b"req-1")
                    }
                },
                zk,
                |s| {
                    if lib == Lib::Libzmq {
                        s.set_identity(b"req-1").unwrap()
                    }
                },
            );
            let (req, router) = link.parts(lib);
            for round in 0..3u8 {
                req.put(&sample());
                // REQ puts an empty delimiter before the body.
                assert_eq!(router.take(), with(&[b"req-1", b""], sample()), "{lib:?}");
                router.put(&with(&[b"req-1", b""], parts(&[b"ok", &[round]])));
                assert_eq!(req.take(), parts(&[b"ok", &[round]]), "{lib:?}");
            }
        }
    });
}

#[test]
fn dealer_rep() {
    for_each_case("dealer-rep", |role, t| {
        for lib in LIBS {
            let (k, zk) = kinds(lib, SocketType::Dealer, SocketType::Rep);
            let mut link = Link::new(role, t, k, |_| {}, zk, |_| {});
            let (dealer, rep) = link.parts(lib);
            // One delimiter only: the REP sees the body, the reply comes
            // back with the delimiter.
            dealer.put(&with(&[b""], sample()));
            assert_eq!(rep.take(), sample(), "{lib:?}");
            rep.put(&parts(&[b"ok"]));
            assert_eq!(dealer.take(), parts(&[b"", b"ok"]), "{lib:?}");
            // A stack of hops before the delimiter comes back whole.
            dealer.put(&parts(&[b"hop-2", b"hop-1", b"", b"body", b""]));
            assert_eq!(rep.take(), parts(&[b"body", b""]), "{lib:?}");
            rep.put(&parts(&[b"again"]));
            assert_eq!(
                dealer.take(),
                parts(&[b"hop-2", b"hop-1", b"", b"again"]),
                "{lib:?}"
            );
        }
    });
}
