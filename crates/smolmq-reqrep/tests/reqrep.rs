//! REQ and REP over inproc, ipc and tcp: alternation, round robin over
//! several REPs, REQ_RELAXED, REQ_CORRELATE, envelopes byte for byte.

mod common;

use common::*;
use smolmq_core::{Error, Msg, Socket};
use smolmq_reqrep::{dealer, rep, req, router, set_req_correlate, set_req_relaxed};

/// A bound REP and a REQ connected to it.
fn pair(ctx: &smolmq_core::Context, t: Transport, test: &str) -> (Socket, Socket) {
    let mut server = socket(ctx, rep, |_| {});
    let endpoint = bind(&mut server, t, test);
    let mut client = socket(ctx, req, |_| {});
    client.connect(&endpoint).unwrap();
    (server, client)
}

fn is_state(e: &Error) -> bool {
    matches!(e, Error::State(_))
}

#[test]
fn req_and_rep_alternate_and_refuse_out_of_turn() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t, "alt");
        // REQ: nothing to receive before a request.
        assert!(is_state(&client.try_recv().unwrap_err()), "{t:?}");
        assert!(is_state(&client.recv_blocking().unwrap_err()), "{t:?}");
        assert!(!client.has_in(), "{t:?}");
        assert!(client.has_out(), "{t:?}");
        // REP: nothing to reply to yet.
        let e = server.try_send(Msg::from("early")).unwrap_err();
        assert!(is_state(e.error()), "{t:?}");
        assert_eq!(e.into_msg(), Msg::from("early"));
        assert!(!server.has_out(), "{t:?}");
        for round in 0..3 {
            let request = format!("request {round}");
            send(&mut client, Msg::from(request.clone()));
            // One request at a time.
            let e = client.try_send(Msg::from("again")).unwrap_err();
            assert!(is_state(e.error()), "{t:?}");
            assert!(is_state(
                client
                    .send_blocking(Msg::from("again"))
                    .unwrap_err()
                    .error()
            ));
            assert!(!client.has_out(), "{t:?}");
            assert!(!client.has_in(), "{t:?}");
            wait_until(&mut server, "a request", |s| s.has_in());
            assert!(!server.has_out(), "{t:?}");
            assert_eq!(recv(&mut server), strs(&[&request]), "{t:?}");
            // One reply before the next request.
            assert!(is_state(&server.try_recv().unwrap_err()), "{t:?}");
            assert!(!server.has_in(), "{t:?}");
            assert!(server.has_out(), "{t:?}");
            send(&mut server, Msg::from(format!("reply {round}")));
            assert!(is_state(
                server.try_send(Msg::from("twice")).unwrap_err().error()
            ));
            assert!(!server.has_out(), "{t:?}");
            wait_until(&mut client, "the reply", |c| c.has_in());
            assert_eq!(
                recv(&mut client),
                strs(&[&format!("reply {round}")]),
                "{t:?}"
            );
            assert!(is_state(&client.try_recv().unwrap_err()), "{t:?}");
            assert!(client.has_out(), "{t:?}");
        }
    }
}

#[test]
fn multipart_requests_and_replies_stay_whole() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t, "mp");
        for parts in 1..=6usize {
            let frames_in: Vec<Vec<u8>> = (0..parts).map(|p| vec![p as u8; p]).collect();
            let refs: Vec<&[u8]> = frames_in.iter().map(|f| &f[..]).collect();
            send(&mut client, msg(&refs));
            // Empty frames inside the body are body, not envelope.
            assert_eq!(recv(&mut server), frames_in, "{t:?}");
            send(&mut server, msg(&refs));
            assert_eq!(recv(&mut client), frames_in, "{t:?}");
        }
    }
}

#[test]
fn req_round_robins_over_several_reps() {
    for t in ALL {
        let ctx = context();
        let mut reps: Vec<_> = (0..3).map(|_| socket(&ctx, rep, |_| {})).collect();
        let endpoints: Vec<_> = reps.iter_mut().map(|r| bind(r, t, "rrrep")).collect();
        let mut client = socket(&ctx, req, |_| {});
        for e in &endpoints {
            client.connect(e).unwrap();
        }
        for k in 0..9 {
            send(&mut client, Msg::from(format!("q{k}")));
            let server = &mut reps[k % 3];
            assert_eq!(
                recv(server),
                strs(&[&format!("q{k}")]),
                "{t:?}: request {k}"
            );
            send(server, Msg::from(format!("a{k} from {}", k % 3)));
            assert_eq!(
                recv(&mut client),
                strs(&[&format!("a{k} from {}", k % 3)]),
                "{t:?}"
            );
        }
        for r in &mut reps {
            assert!(matches!(r.try_recv(), Err(Error::WouldBlock)), "{t:?}");
        }
    }
}

#[test]
fn relaxed_req_sends_again_and_drops_the_stale_reply() {
    for t in ALL {
        let ctx = context();
        let mut reps: Vec<_> = (0..2).map(|_| socket(&ctx, rep, |_| {})).collect();
        let endpoints: Vec<_> = reps.iter_mut().map(|r| bind(r, t, "relax")).collect();
        let mut client = socket(&ctx, req, |_| {});
        set_req_relaxed(&mut client, true).unwrap();
        for e in &endpoints {
            client.connect(e).unwrap();
        }
        send(&mut client, Msg::from("r1"));
        // No reply yet: relaxed, so a new request is allowed.
        assert!(client.has_out(), "{t:?}");
        send(&mut client, Msg::from("r2"));
        assert_eq!(recv(&mut reps[0]), strs(&["r1"]), "{t:?}");
        assert_eq!(recv(&mut reps[1]), strs(&["r2"]), "{t:?}");
        send(&mut reps[0], Msg::from("stale reply to r1"));
        send(&mut reps[1], Msg::from("reply to r2"));
        assert_eq!(recv(&mut client), strs(&["reply to r2"]), "{t:?}");
        // Back to normal: r3 goes to the first REP, its reply is taken.
        send(&mut client, Msg::from("r3"));
        assert_eq!(recv(&mut reps[0]), strs(&["r3"]), "{t:?}");
        send(&mut reps[0], Msg::from("reply to r3"));
        assert_eq!(recv(&mut client), strs(&["reply to r3"]), "{t:?}");
    }
}

#[test]
fn correlated_req_takes_only_the_reply_to_its_last_request() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair(&ctx, t, "corr");
        set_req_relaxed(&mut client, true).unwrap();
        set_req_correlate(&mut client, true).unwrap();
        // Two requests to the same REP; both are answered, in order.
        send(&mut client, Msg::from("r1"));
        send(&mut client, Msg::from("r2"));
        assert_eq!(recv(&mut server), strs(&["r1"]), "{t:?}");
        send(&mut server, Msg::from("reply to r1"));
        assert_eq!(recv(&mut server), strs(&["r2"]), "{t:?}");
        send(&mut server, Msg::from("reply to r2"));
        assert_eq!(recv(&mut client), strs(&["reply to r2"]), "{t:?}");
        assert!(is_state(&client.try_recv().unwrap_err()), "{t:?}");
    }
}

#[test]
fn correlated_envelope_on_a_router_byte_for_byte() {
    for t in ALL {
        let ctx = context();
        let mut server = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut server, t, "correnv");
        let mut client = socket_id(&ctx, req, "req-c");
        set_req_correlate(&mut client, true).unwrap();
        client.connect(&endpoint).unwrap();
        send(&mut client, Msg::from("hello"));
        let got = recv(&mut server);
        assert_eq!(got.len(), 4, "{t:?}: {got:?}");
        assert_eq!(got[0], b"req-c");
        assert_eq!(got[1].len(), 4, "{t:?}: a 4-byte request id");
        assert_eq!(got[2], b"");
        assert_eq!(got[3], b"hello");
        let request_id = got[1].clone();
        // A reply with another id is dropped; the right one is taken.
        let mut wrong = request_id.clone();
        wrong[0] ^= 0xff;
        send(&mut server, msg(&[b"req-c", &wrong, b"", b"wrong id"]));
        send(&mut server, msg(&[b"req-c", b"", b"no id"]));
        send(&mut server, msg(&[b"req-c", &request_id, b"", b"right"]));
        assert_eq!(recv(&mut client), strs(&["right"]), "{t:?}");
        // The next request carries the next id.
        send(&mut client, Msg::from("again"));
        let got = recv(&mut server);
        assert_ne!(got[1], request_id, "{t:?}");
        assert_eq!(got[2..], strs(&["", "again"])[..], "{t:?}");
    }
}

#[test]
fn req_to_router_envelope_byte_for_byte() {
    for t in ALL {
        let ctx = context();
        let mut server = socket(&ctx, router, |_| {});
        let endpoint = bind(&mut server, t, "reqenv");
        let mut client = socket_id(&ctx, req, "req-1");
        client.connect(&endpoint).unwrap();
        send(&mut client, msg(&[b"hello", b"there"]));
        assert_eq!(
            recv(&mut server),
            strs(&["req-1", "", "hello", "there"]),
            "{t:?}"
        );
        // Malformed replies are dropped: no delimiter, a delimiter and no
        // body, something before the delimiter.
        send(&mut server, msg(&[b"req-1", b"no delimiter"]));
        send(&mut server, msg(&[b"req-1", b""]));
        send(&mut server, msg(&[b"req-1", b"x", b"", b"label first"]));
        send(&mut server, msg(&[b"req-1", b"", b"world", b""]));
        assert_eq!(recv(&mut client), strs(&["world", ""]), "{t:?}");
        // And a plain round trip after that.
        send(&mut client, Msg::from("next"));
        assert_eq!(recv(&mut server), strs(&["req-1", "", "next"]), "{t:?}");
        send(&mut server, msg(&[b"req-1", b"", b"done"]));
        wait_until(&mut client, "the reply", |c| c.has_in());
        assert_eq!(recv(&mut client), strs(&["done"]), "{t:?}");
    }
}

#[test]
fn dealer_to_rep_envelope_byte_for_byte() {
    for t in ALL {
        let ctx = context();
        let mut server = socket(&ctx, rep, |_| {});
        let endpoint = bind(&mut server, t, "repenv");
        let mut client = socket(&ctx, dealer, |_| {});
        client.connect(&endpoint).unwrap();
        // The simplest envelope: the delimiter alone.
        send(&mut client, msg(&[b"", b"hello"]));
        assert_eq!(recv(&mut server), strs(&["hello"]), "{t:?}");
        send(&mut server, Msg::from("world"));
        assert_eq!(recv(&mut client), strs(&["", "world"]), "{t:?}");
        // A longer one (as through ROUTER/DEALER brokers) comes back whole.
        send(&mut client, msg(&[b"hop-a", b"hop-b", b"", b"q", b"r"]));
        assert_eq!(recv(&mut server), strs(&["q", "r"]), "{t:?}");
        send(&mut server, msg(&[b"s", b"t"]));
        assert_eq!(
            recv(&mut client),
            strs(&["hop-a", "hop-b", "", "s", "t"]),
            "{t:?}"
        );
        // Malformed requests are dropped: no delimiter, nothing after it.
        send(&mut client, msg(&[b"no delimiter"]));
        send(&mut client, msg(&[b"label", b"still none"]));
        send(&mut client, msg(&[b"label", b""]));
        send(&mut client, msg(&[b"", b"fine"]));
        wait_until(&mut server, "a request", |s| s.has_in());
        assert_eq!(recv(&mut server), strs(&["fine"]), "{t:?}");
        send(&mut server, Msg::from("ok"));
        assert_eq!(recv(&mut client), strs(&["", "ok"]), "{t:?}");
        assert!(!server.has_in(), "{t:?}");
    }
}

#[test]
fn rep_serves_several_requesters_in_turn() {
    for t in ALL {
        let ctx = context();
        let mut server = socket(&ctx, rep, |_| {});
        let endpoint = bind(&mut server, t, "repmany");
        let mut clients: Vec<_> = (0..3)
            .map(|i| {
                let mut c = socket_id(&ctx, req, &format!("c{i}"));
                c.connect(&endpoint).unwrap();
                c
            })
            .collect();
        for (i, c) in clients.iter_mut().enumerate() {
            send(c, Msg::from(format!("from c{i}")));
        }
        // Each reply goes back to whoever asked.
        for _ in 0..3 {
            let got = recv(&mut server);
            let text = String::from_utf8(got[0].clone()).unwrap();
            let who = text.strip_prefix("from ").unwrap().to_owned();
            send(&mut server, Msg::from(format!("to {who}")));
        }
        for (i, c) in clients.iter_mut().enumerate() {
            assert_eq!(recv(c), strs(&[&format!("to c{i}")]), "{t:?}");
        }
    }
}

#[test]
fn a_reply_to_a_requester_that_left_is_dropped() {
    for t in ALL {
        let ctx = context();
        let mut server = socket(&ctx, rep, |_| {});
        let endpoint = bind(&mut server, t, "repgone");
        let mut gone = socket(&ctx, req, |o| o.linger = Some(std::time::Duration::ZERO));
        gone.connect(&endpoint).unwrap();
        send(&mut gone, Msg::from("ask and leave"));
        assert_eq!(recv(&mut server), strs(&["ask and leave"]), "{t:?}");
        drop(gone);
        wait_peers(&mut server, 0);
        // Dropped silently; the REP goes on serving.
        server.try_send(Msg::from("nobody hears")).unwrap();
        let mut client = socket(&ctx, req, |_| {});
        client.connect(&endpoint).unwrap();
        send(&mut client, Msg::from("hi"));
        assert_eq!(recv(&mut server), strs(&["hi"]), "{t:?}");
        send(&mut server, Msg::from("hello"));
        assert_eq!(recv(&mut client), strs(&["hello"]), "{t:?}");
    }
}

#[test]
fn req_options_on_the_wrong_socket_type_fail() {
    let ctx = context();
    let mut r = socket(&ctx, rep, |_| {});
    assert!(set_req_relaxed(&mut r, true).is_err());
    assert!(set_req_correlate(&mut r, true).is_err());
}
