//! The facade: every socket type compiled in is made by `Context::socket`
//! and works end to end over every transport compiled in; types whose
//! feature is off are refused with an error that names the feature.

use smolmq::{Context, Error, Msg, SocketOptions, SocketType};
use std::time::Duration;

/// Options that make a bug fail instead of hang.
fn timeouts() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(Duration::from_secs(30)),
        rcvtimeo: Some(Duration::from_secs(30)),
        ..SocketOptions::default()
    }
}

/// Endpoints to bind, one per transport compiled in.
fn endpoints(name: &str) -> Vec<String> {
    #[allow(unused_mut)]
    let mut all = vec![format!("inproc://facade-{name}")];
    #[cfg(feature = "ipc")]
    all.push(format!(
        "ipc://{}",
        std::env::temp_dir()
            .join(format!("smolmq-facade-{}-{name}", std::process::id()))
            .display()
    ));
    #[cfg(feature = "tcp")]
    all.push("tcp://127.0.0.1:0".to_owned());
    #[cfg(feature = "ws")]
    all.push(format!("ws://127.0.0.1:0/facade-{name}"));
    all
}

/// A bound `server` and a connected `client` of the given types.
fn connected(
    ctx: &Context,
    endpoint: &str,
    server: SocketType,
    client: SocketType,
) -> (smolmq::Socket, smolmq::Socket) {
    let mut s = ctx.socket(server).unwrap();
    s.set_options(timeouts()).unwrap();
    s.bind(endpoint).unwrap();
    let resolved = s.last_endpoint().unwrap().to_string();
    let mut c = ctx.socket(client).unwrap();
    c.set_options(timeouts()).unwrap();
    c.connect(&resolved).unwrap();
    (s, c)
}

#[test]
fn pair_works_on_every_transport() {
    let ctx = Context::new().unwrap();
    for endpoint in endpoints("pair") {
        let (mut s, mut c) = connected(&ctx, &endpoint, SocketType::Pair, SocketType::Pair);
        c.send_blocking(Msg::from("ping")).unwrap();
        assert_eq!(s.recv_blocking().unwrap(), Msg::from("ping"), "{endpoint}");
        s.send_blocking(Msg::from("pong")).unwrap();
        assert_eq!(c.recv_blocking().unwrap(), Msg::from("pong"), "{endpoint}");
    }
}

#[test]
fn draft_types_are_refused_with_a_clear_error() {
    let ctx = Context::new().unwrap();
    for kind in [SocketType::Client, SocketType::Radio, SocketType::Channel] {
        match ctx.socket(kind) {
            Err(Error::Unsupported(why)) => assert!(why.contains("draft"), "{why}"),
            other => panic!("{kind}: expected Unsupported, got {other:?}"),
        }
    }
}

#[cfg(feature = "pipeline")]
#[test]
fn push_pull_works_on_every_transport() {
    let ctx = Context::new().unwrap();
    for endpoint in endpoints("pipeline") {
        let (mut pull, mut push) = connected(&ctx, &endpoint, SocketType::Pull, SocketType::Push);
        for i in 0..10 {
            push.send_blocking(Msg::from(format!("{i}"))).unwrap();
        }
        for i in 0..10 {
            assert_eq!(
                pull.recv_blocking().unwrap(),
                Msg::from(format!("{i}")),
                "{endpoint}"
            );
        }
    }
}

#[cfg(feature = "reqrep")]
#[test]
fn req_rep_and_dealer_router_work_on_every_transport() {
    let ctx = Context::new().unwrap();
    for endpoint in endpoints("reqrep") {
        let (mut rep, mut req) = connected(&ctx, &endpoint, SocketType::Rep, SocketType::Req);
        req.send_blocking(Msg::from("question")).unwrap();
        assert_eq!(rep.recv_blocking().unwrap(), Msg::from("question"));
        rep.send_blocking(Msg::from("answer")).unwrap();
        assert_eq!(
            req.recv_blocking().unwrap(),
            Msg::from("answer"),
            "{endpoint}"
        );
        // REQ must wait for the reply before asking again.
        req.send_blocking(Msg::from("again")).unwrap();
        assert!(matches!(
            req.send_blocking(Msg::from("too soon"))
                .map_err(|e| e.into_error()),
            Err(Error::State(_))
        ));
    }
    for endpoint in endpoints("dealer-router") {
        let (mut router, mut dealer) =
            connected(&ctx, &endpoint, SocketType::Router, SocketType::Dealer);
        dealer.send_blocking(Msg::from("hi")).unwrap();
        let mut got = router.recv_blocking().unwrap();
        assert_eq!(got.len(), 2, "{endpoint}: [routing id, body]");
        let id = got.pop_front().unwrap();
        assert_eq!(got, Msg::from("hi"));
        let mut reply = Msg::from("back");
        reply.push_front(id);
        router.send_blocking(reply).unwrap();
        assert_eq!(
            dealer.recv_blocking().unwrap(),
            Msg::from("back"),
            "{endpoint}"
        );
    }
}

#[cfg(feature = "pubsub")]
#[test]
fn pub_sub_works_on_every_transport() {
    let ctx = Context::new().unwrap();
    for endpoint in endpoints("pubsub") {
        let (mut publisher, mut subscriber) =
            connected(&ctx, &endpoint, SocketType::Pub, SocketType::Sub);
        smolmq::pubsub::subscribe(&mut subscriber, b"a").unwrap();
        let mut o = timeouts();
        o.rcvtimeo = Some(Duration::from_millis(10));
        subscriber.set_options(o).unwrap();
        // Publish until the subscription has arrived (bounded).
        let mut heard = None;
        for _ in 0..3000 {
            publisher.send_blocking(Msg::from("b filtered")).unwrap();
            publisher.send_blocking(Msg::from("a kept")).unwrap();
            match subscriber.recv_blocking() {
                Ok(msg) => {
                    heard = Some(msg);
                    break;
                }
                Err(e) => assert!(e.is_timeout(), "{e}"),
            }
        }
        assert_eq!(heard, Some(Msg::from("a kept")), "{endpoint}");
    }
}

#[cfg(not(feature = "pubsub"))]
#[test]
fn pubsub_types_name_the_missing_feature() {
    let ctx = Context::new().unwrap();
    for kind in [
        SocketType::Pub,
        SocketType::Sub,
        SocketType::XPub,
        SocketType::XSub,
    ] {
        match ctx.socket(kind) {
            Err(Error::Unsupported(why)) => assert!(why.contains("`pubsub` feature"), "{why}"),
            other => panic!("{kind}: expected Unsupported, got {other:?}"),
        }
    }
}

#[cfg(not(feature = "pipeline"))]
#[test]
fn pipeline_types_name_the_missing_feature() {
    let ctx = Context::new().unwrap();
    for kind in [SocketType::Push, SocketType::Pull] {
        match ctx.socket(kind) {
            Err(Error::Unsupported(why)) => assert!(why.contains("`pipeline` feature"), "{why}"),
            other => panic!("{kind}: expected Unsupported, got {other:?}"),
        }
    }
}

#[cfg(not(feature = "reqrep"))]
#[test]
fn reqrep_types_name_the_missing_feature() {
    let ctx = Context::new().unwrap();
    for kind in [
        SocketType::Dealer,
        SocketType::Router,
        SocketType::Req,
        SocketType::Rep,
    ] {
        match ctx.socket(kind) {
            Err(Error::Unsupported(why)) => assert!(why.contains("`reqrep` feature"), "{why}"),
            other => panic!("{kind}: expected Unsupported, got {other:?}"),
        }
    }
}

#[cfg(not(feature = "tcp"))]
#[test]
fn a_tcp_endpoint_names_the_missing_transport() {
    let ctx = Context::new().unwrap();
    let mut s = ctx.socket(SocketType::Pair).unwrap();
    match s.bind("tcp://127.0.0.1:0") {
        Err(Error::Unsupported(why)) => assert!(why.contains("tcp"), "{why}"),
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
