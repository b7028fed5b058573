//! PUSH / PULL against libzmq 4.3: smolmq PUSH to libzmq PULL and libzmq
//! PUSH to smolmq PULL, each with either side binding, over tcp and ipc;
//! multipart, empty and long frames, order kept; a smolmq PUSH spreading
//! over two libzmq PULLs and a smolmq PULL fair-queueing two libzmq
//! PUSHes.

mod interop;

use interop::*;
use smolmq::SocketType;
use std::time::Instant;

#[test]
fn smolmq_push_to_libzmq_pull() {
    for_each_case("push", |role, t| {
        let zctx = zmq::Context::new();
        let ctx = context();
        let mut push = ours(&ctx, SocketType::Push, |_| {});
        let pull = theirs(&zctx, zmq::PULL);
        link(role, t, &mut push, &pull);
        ours_to_theirs(&mut push, &pull);
    });
}

#[test]
fn libzmq_push_to_smolmq_pull() {
    for_each_case("pull", |role, t| {
        let zctx = zmq::Context::new();
        let ctx = context();
        let mut pull = ours(&ctx, SocketType::Pull, |_| {});
        let push = theirs(&zctx, zmq::PUSH);
        link(role, t, &mut pull, &push);
        theirs_to_ours(&push, &mut pull);
    });
}

/// Waits until `s` has `n` peers.
fn wait_peers(s: &mut smolmq::Socket, n: usize) {
    let deadline = Instant::now() + TIMEOUT;
    while s.peer_count() < n {
        assert!(Instant::now() < deadline, "peers never attached");
        let _ = s.wait_activity(Some(SHORT));
    }
}

#[test]
fn smolmq_push_round_robin_over_two_libzmq_pulls() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let zctx = zmq::Context::new();
        let ctx = context();
        let mut push = ours(&ctx, SocketType::Push, |_| {});
        push.bind(&bind_endpoint(t, false)).unwrap();
        let endpoint = push.last_endpoint().unwrap().to_string();
        let pulls = [theirs(&zctx, zmq::PULL), theirs(&zctx, zmq::PULL)];
        for p in &pulls {
            p.connect(&endpoint).unwrap();
        }
        wait_peers(&mut push, 2);
        for i in 0..100u32 {
            send(&mut push, &[i.to_be_bytes().to_vec()]);
        }
        // Round robin over two peers with room: alternate, 50 each.
        let mut got = [0usize; 2];
        let mut seen = Vec::new();
        while got.iter().sum::<usize>() < 100 {
            for (n, p) in pulls.iter().enumerate() {
                if let Some(m) = zrecv_within(p, 10) {
                    got[n] += 1;
                    seen.push(u32::from_be_bytes(m[0][..].try_into().unwrap()));
                }
            }
        }
        assert_eq!(got, [50, 50], "{t:?}");
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>(), "{t:?}");
    }
}

#[test]
fn smolmq_pull_fair_queues_two_libzmq_pushes() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let zctx = zmq::Context::new();
        let ctx = context();
        let mut pull = ours(&ctx, SocketType::Pull, |_| {});
        pull.bind(&bind_endpoint(t, false)).unwrap();
        let endpoint = pull.last_endpoint().unwrap().to_string();
        let pushes = [theirs(&zctx, zmq::PUSH), theirs(&zctx, zmq::PUSH)];
        for (n, p) in pushes.iter().enumerate() {
            p.connect(&endpoint).unwrap();
            for i in 0..100u32 {
                zsend(p, &[vec![n as u8], i.to_be_bytes().to_vec()]);
            }
        }
        // Every message arrives, each sender's in order.
        let mut next = [0u32; 2];
        for _ in 0..200 {
            let m = recv(&mut pull);
            let n = usize::from(m[0][0]);
            assert_eq!(m[1], next[n].to_be_bytes(), "{t:?}");
            next[n] += 1;
        }
        assert_eq!(next, [100, 100], "{t:?}");
    }
}
