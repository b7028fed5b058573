//! The core's hooks for pattern crates, over every transport: who the peer
//! is (`Pipes::peer`), pipe events (`Pattern::activated`), `with_pattern`,
//! `Pipes::close`, socket-type checks, and subscriptions turned into
//! ZMTP commands and back by the engine.

use bytes::Bytes;
use smolmq_core::pattern::{Pair, Pattern, Peer, PipeEvent, PipeId, Pipes, Refused};
use smolmq_core::{Context, Error, Msg, Socket};
use smolmq_tests::{bind, bind_endpoint, context, options, socket_of, Transport, ALL, TIMEOUT};
use smolmq_zmtp::SocketType;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a [`Recorder`] saw.
#[derive(Default, Debug)]
struct Log {
    /// Peers as described at attach.
    attached: Vec<Peer>,
    /// Events, with the peer as described when the event came.
    events: Vec<(PipeEvent, Peer)>,
    /// Detaches.
    detached: usize,
}

/// PAIR routing that records what the core tells it.
#[derive(Default)]
struct Recorder {
    inner: Pair,
    log: Arc<Mutex<Log>>,
    last: Option<PipeId>,
}

impl Pattern for Recorder {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        let peer = pipes.peer(id).expect("attached pipe has a peer");
        self.log.lock().unwrap().attached.push(peer);
        self.last = Some(id);
        self.inner.attach(pipes, id)
    }
    fn detach(&mut self, id: PipeId) {
        self.log.lock().unwrap().detached += 1;
        self.inner.detach(id)
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        self.inner.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.inner.recv(pipes)
    }
    fn activated(&mut self, pipes: &mut Pipes, id: PipeId, event: PipeEvent) {
        let peer = pipes.peer(id).expect("event for an attached pipe");
        self.log.lock().unwrap().events.push((event, peer));
    }
}

/// A recording socket of type `kind` with the test options and `routing_id`.
fn recorder(
    ctx: &Context,
    kind: SocketType,
    routing_id: &'static [u8],
) -> (Socket, Arc<Mutex<Log>>) {
    let log = Arc::new(Mutex::new(Log::default()));
    let pattern = Recorder {
        log: log.clone(),
        ..Recorder::default()
    };
    let s = socket_of(ctx, kind, Box::new(pattern), |o| {
        o.routing_id = Some(Bytes::from_static(routing_id));
    });
    (s, log)
}

/// Polls `socket` (through `with_pattern`, which reads its mailbox) until
/// `done` holds for its log; bounded by [`TIMEOUT`].
fn wait_for(socket: &mut Socket, log: &Arc<Mutex<Log>>, what: &str, done: impl Fn(&Log) -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        socket.with_pattern::<Recorder, _>(|_, _| ()).unwrap();
        if done(&log.lock().unwrap()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            log.lock().unwrap()
        );
        let _ = socket.wait_activity(Some(std::time::Duration::from_millis(50)));
    }
}

#[test]
fn both_sides_learn_who_the_peer_is() {
    for t in ALL {
        let ctx = context();
        let (mut server, server_log) = recorder(&ctx, SocketType::Router, b"server-id");
        let endpoint = bind(&mut server, t);
        let (mut client, client_log) = recorder(&ctx, SocketType::Dealer, b"client-id");
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("hello")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("hello"));

        // The bound side's pipe arrives after the handshake: described at attach.
        let attached = &server_log.lock().unwrap().attached;
        assert_eq!(attached.len(), 1, "{t:?}");
        assert_eq!(attached[0].socket_type, Some(SocketType::Dealer), "{t:?}");
        assert_eq!(&attached[0].routing_id[..], b"client-id", "{t:?}");
        assert!(!attached[0].connected, "{t:?}");
        assert_eq!(attached[0].generation, 1, "{t:?}");

        // The connecting side's pipe exists before any handshake (tcp, ipc),
        // and is told when the peer identified itself; over inproc the
        // bound peer is known at once.
        wait_for(&mut client, &client_log, "Identified", |log| {
            log.attached[0].socket_type.is_some()
                || log.events.iter().any(|(e, _)| *e == PipeEvent::Identified)
        });
        let log = client_log.lock().unwrap();
        assert!(log.attached[0].connected, "{t:?}");
        let peer = match log.events.iter().find(|(e, _)| *e == PipeEvent::Identified) {
            Some((_, peer)) => peer,
            None => &log.attached[0],
        };
        assert_eq!(t == Transport::Inproc, log.events.is_empty(), "{t:?}");
        assert_eq!(peer.socket_type, Some(SocketType::Router), "{t:?}");
        assert_eq!(&peer.routing_id[..], b"server-id", "{t:?}");
        assert!(peer.generation >= 1, "{t:?}");
    }
}

#[test]
fn inproc_connect_before_bind_is_identified_when_the_bind_comes() {
    let ctx = context();
    let endpoint = bind_endpoint(Transport::Inproc);
    let (mut client, client_log) = recorder(&ctx, SocketType::Dealer, b"early");
    client.connect(&endpoint).unwrap();
    assert_eq!(client_log.lock().unwrap().attached[0].socket_type, None);
    let (mut server, server_log) = recorder(&ctx, SocketType::Router, b"late");
    server.bind(&endpoint).unwrap();
    wait_for(&mut client, &client_log, "Identified", |log| {
        log.events
            .iter()
            .any(|(e, p)| *e == PipeEvent::Identified && p.socket_type == Some(SocketType::Router))
    });
    let peer = &server_log.lock().unwrap().attached[0];
    assert_eq!(peer.socket_type, Some(SocketType::Dealer));
    assert_eq!(&peer.routing_id[..], b"early");
    client.send_blocking(Msg::from("x")).unwrap();
    assert_eq!(server.recv_blocking().unwrap(), Msg::from("x"));
}

#[test]
fn a_reconnected_pipe_is_identified_again() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let (mut server, _) = recorder(&ctx, SocketType::Dealer, b"first");
        let endpoint = bind(&mut server, t);
        let (mut client, client_log) = recorder(&ctx, SocketType::Dealer, b"client");
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("1")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("1"));
        drop(server);
        // A new peer at the same address, with another routing id.
        let (mut server, _) = recorder(&ctx, SocketType::Dealer, b"second");
        server.bind(&endpoint).unwrap();
        wait_for(&mut client, &client_log, "a second Identified", |log| {
            log.events.iter().any(|(e, p)| {
                *e == PipeEvent::Identified && &p.routing_id[..] == b"second" && p.generation >= 2
            })
        });
    }
}

#[test]
fn events_name_the_pipe_that_changed() {
    for t in ALL {
        let ctx = context();
        let (mut server, server_log) = recorder(&ctx, SocketType::Pair, b"s");
        let endpoint = bind(&mut server, t);
        let mut client = ctx.socket(SocketType::Pair).unwrap();
        client.set_options(options()).unwrap();
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("a")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("a"));
        // The pipe is now read empty: the next message makes it readable.
        assert!(server.try_recv().unwrap_err().is_would_block());
        client.send_blocking(Msg::from("b")).unwrap();
        wait_for(&mut server, &server_log, "Readable", |log| {
            log.events.iter().any(|(e, _)| *e == PipeEvent::Readable)
        });
        drop(client);
        wait_for(&mut server, &server_log, "Closed or detach", |log| {
            log.detached == 1 || log.events.iter().any(|(e, _)| *e == PipeEvent::Closed)
        });
    }
}

#[test]
fn with_pattern_reaches_only_its_own_type() {
    let ctx = context();
    let (mut s, _) = recorder(&ctx, SocketType::Pair, b"x");
    assert!(s.with_pattern::<Recorder, _>(|_, _| ()).is_some());
    assert!(s.with_pattern::<Pair, _>(|_, _| ()).is_none());
}

/// Closes every pipe when told to by a message.
#[derive(Default)]
struct Closer(Pair, Vec<PipeId>);

impl Pattern for Closer {
    fn attach(&mut self, pipes: &mut Pipes, id: PipeId) -> bool {
        self.1.push(id);
        self.0.attach(pipes, id)
    }
    fn detach(&mut self, id: PipeId) {
        self.1.retain(|p| *p != id);
        self.0.detach(id)
    }
    fn send(&mut self, pipes: &mut Pipes, msg: Msg) -> Result<(), Refused> {
        if msg.first() == b"close" {
            for id in &self.1 {
                pipes.close(*id);
            }
            return Ok(());
        }
        self.0.send(pipes, msg)
    }
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        self.0.recv(pipes)
    }
}

#[test]
fn a_pattern_can_close_a_pipe() {
    for t in ALL {
        let ctx = context();
        let mut server = ctx.socket_with(SocketType::Pair, Box::new(Closer::default()));
        server.set_options(options()).unwrap();
        let endpoint = bind(&mut server, t);
        let mut client = ctx.socket(SocketType::Pair).unwrap();
        client.set_options(options()).unwrap();
        client.connect(&endpoint).unwrap();
        client.send_blocking(Msg::from("hi")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("hi"));
        assert_eq!(server.peer_count(), 1);
        server.send_blocking(Msg::from("close")).unwrap();
        assert_eq!(server.peer_count(), 0, "{t:?}: the pipe is gone at once");
    }
}

#[test]
fn inproc_refuses_incompatible_socket_types() {
    let ctx = context();
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut push = ctx.socket_with(SocketType::Push, Box::new(Pair::default()));
    push.bind(&endpoint).unwrap();
    let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pair::default()));
    match publisher.connect(&endpoint) {
        Err(Error::Incompatible { ours, peer }) => {
            assert_eq!((ours, peer), (SocketType::Pub, SocketType::Push));
        }
        other => panic!("expected Incompatible, got {other:?}"),
    }
    // Connected before the bind: the bind drops the incompatible pipe, and
    // the bound socket never sees the peer.
    let endpoint = bind_endpoint(Transport::Inproc);
    let mut early = ctx.socket_with(SocketType::Pub, Box::new(Pair::default()));
    early.connect(&endpoint).unwrap();
    let mut late = ctx.socket_with(SocketType::Push, Box::new(Pair::default()));
    late.bind(&endpoint).unwrap();
    assert_eq!(late.peer_count(), 0);
}

#[test]
fn tcp_and_ipc_refuse_incompatible_socket_types_at_the_handshake() {
    for t in [Transport::Ipc, Transport::Tcp] {
        let ctx = context();
        let mut push = ctx.socket_with(SocketType::Push, Box::new(Pair::default()));
        push.set_options(options()).unwrap();
        let endpoint = bind(&mut push, t);
        let events = push.monitor();
        let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pair::default()));
        publisher.connect(&endpoint).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match events.recv_deadline(deadline) {
                Ok(smolmq_core::SocketEvent::HandshakeFailed { .. }) => break,
                Ok(_) => {}
                Err(e) => panic!("{t:?}: no HandshakeFailed event: {e:?}"),
            }
        }
        assert_eq!(push.peer_count(), 0, "{t:?}");
    }
}

#[test]
fn subscriptions_cross_the_wire_as_commands_and_arrive_as_messages() {
    for t in ALL {
        let ctx = context();
        // PUB and SUB types with PAIR routing: only the engine's
        // translation is under test.
        let mut publisher = ctx.socket_with(SocketType::Pub, Box::new(Pair::default()));
        publisher.set_options(options()).unwrap();
        let endpoint = bind(&mut publisher, t);
        let mut subscriber = ctx.socket_with(SocketType::Sub, Box::new(Pair::default()));
        subscriber.set_options(options()).unwrap();
        subscriber.connect(&endpoint).unwrap();
        subscriber
            .send_blocking(Msg::from(&b"\x01weather"[..]))
            .unwrap();
        subscriber
            .send_blocking(Msg::from(&b"\x00weather"[..]))
            .unwrap();
        subscriber.send_blocking(Msg::from(&b"\x01"[..])).unwrap();
        assert_eq!(
            publisher.recv_blocking().unwrap(),
            Msg::from(&b"\x01weather"[..]),
            "{t:?}"
        );
        assert_eq!(
            publisher.recv_blocking().unwrap(),
            Msg::from(&b"\x00weather"[..]),
            "{t:?}"
        );
        assert_eq!(
            publisher.recv_blocking().unwrap(),
            Msg::from(&b"\x01"[..]),
            "{t:?}"
        );
        // Data from PUB to SUB is untouched, even when it starts with 1.
        publisher
            .send_blocking(Msg::from(&b"\x01data"[..]))
            .unwrap();
        assert_eq!(
            subscriber.recv_blocking().unwrap(),
            Msg::from(&b"\x01data"[..]),
            "{t:?}"
        );
    }
}
