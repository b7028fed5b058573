//! A pattern written outside the core, through the public trait: round
//! robin out, fair queueing in, peers attached and detached.
#![cfg(not(loom))]

use smolmq_core::pattern::{Pair, Pattern, PipeId, Pipes, Refused};
use smolmq_core::{Context, Error, Msg, SocketOptions};
use smolmq_zmtp::SocketType;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Round robin out, fair queue in, over every peer; records detaches.
#[derive(Default)]
struct RoundRobin {
    peers: Vec<PipeId>,
    next_out: usize,
    next_in: usize,
    detached: Arc<Mutex<Vec<PipeId>>>,
}

impl Pattern for RoundRobin {
    fn attach(&mut self, _: &mut Pipes, id: PipeId) -> bool {
        self.peers.push(id);
        true
    }
    fn detach(&mut self, id: PipeId) {
        self.peers.retain(|p| *p != id);
        self.detached.lock().unwrap().push(id);
    }
    fn send(&mut self, pipes: &mut Pipes, mut msg: Msg) -> Result<(), Refused> {
        for _ in 0..self.peers.len() {
            let id = self.peers[self.next_out % self.peers.len()];
            self.next_out += 1;
            match pipes.send(id, msg) {
                Ok(()) => return Ok(()),
                Err(e) => msg = e.into_inner(),
            }
        }
        Err(Refused::would_block(msg))
    }
    fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg, Error> {
        for _ in 0..self.peers.len() {
            let id = self.peers[self.next_in % self.peers.len()];
            self.next_in += 1;
            if let Some(m) = pipes.recv(id) {
                return Ok(m);
            }
        }
        Err(Error::WouldBlock)
    }
}

fn timeouts() -> SocketOptions {
    SocketOptions {
        sndtimeo: Some(Duration::from_secs(30)),
        rcvtimeo: Some(Duration::from_secs(30)),
        ..SocketOptions::default()
    }
}

#[test]
fn a_custom_pattern_routes_over_several_peers() {
    let ctx = Context::new().unwrap();
    let detached = Arc::new(Mutex::new(Vec::new()));
    let pattern = RoundRobin {
        detached: detached.clone(),
        ..RoundRobin::default()
    };
    let mut hub = ctx.socket_with(SocketType::Dealer, Box::new(pattern));
    hub.set_options(timeouts()).unwrap();
    hub.bind("inproc://hub").unwrap();
    let mut peers: Vec<_> = (0..3)
        .map(|_| {
            // DEALER to DEALER: compatible types (RFC 37), one peer each.
            let mut p = ctx.socket_with(SocketType::Dealer, Box::new(Pair::default()));
            p.set_options(timeouts()).unwrap();
            p.connect("inproc://hub").unwrap();
            p
        })
        .collect();
    // Out: round robin, one message per peer.
    for i in 0..3 {
        hub.send_blocking(Msg::from(format!("to {i}"))).unwrap();
    }
    let mut got: Vec<String> = peers
        .iter_mut()
        .map(|p| String::from_utf8(p.recv_blocking().unwrap().first().to_vec()).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["to 0", "to 1", "to 2"]);
    // In: from every peer.
    for (i, p) in peers.iter_mut().enumerate() {
        p.send_blocking(Msg::from(format!("from {i}"))).unwrap();
    }
    let mut got: Vec<String> = (0..3)
        .map(|_| String::from_utf8(hub.recv_blocking().unwrap().first().to_vec()).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["from 0", "from 1", "from 2"]);
    // A peer leaving is detached once the hub notices its pipe ended.
    drop(peers.pop());
    for _ in 0..3 {
        let _ = hub.try_send(Msg::from("probe"));
    }
    let _ = hub.try_recv();
    assert_eq!(detached.lock().unwrap().len(), 1);
}
