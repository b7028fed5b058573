//! Connection features against libzmq 4.3, both roles, tcp and ipc:
//!
//! * heartbeats: libzmq PINGing us, us PINGing libzmq, and both (with a
//!   TTL), on a connection kept idle for several heartbeat timeouts: the
//!   PINGs are answered (no side drops the connection) and traffic flows
//!   afterwards;
//! * PLAIN: smolmq as server for a libzmq client, libzmq (with a ZAP
//!   handler) as server for a smolmq client, and a wrong password refused
//!   by either server;
//! * a libzmq peer that goes away and comes back: smolmq reconnects (and
//!   delivers what was queued meanwhile), a bound smolmq PAIR takes the new
//!   peer, and a SUB subscribes again on the new connection.

mod interop;

use interop::*;
use smolmq::{MechanismConfig, SocketEvent, SocketType};
use smolmq_mailbox::Receiver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Monitor events so far.
fn events(rx: &Receiver<SocketEvent>) -> Vec<SocketEvent> {
    rx.try_iter().collect()
}

/// Waits for a monitor event matching `want`; panics after [`TIMEOUT`].
fn wait_event(rx: &Receiver<SocketEvent>, want: impl Fn(&SocketEvent) -> bool) -> SocketEvent {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match rx.recv_deadline(deadline) {
            Ok(e) if want(&e) => return e,
            Ok(_) => {}
            Err(e) => panic!("monitor event never came: {e:?}"),
        }
    }
}

/// One message each way.
fn ping_pong(link: &mut Link, tag: &str) {
    send(&mut link.ours, &[format!("ours {tag}").into_bytes()]);
    assert_eq!(zrecv(&link.theirs), [format!("ours {tag}").into_bytes()]);
    zsend(&link.theirs, &[format!("theirs {tag}").into_bytes()]);
    assert_eq!(recv(&mut link.ours), [format!("theirs {tag}").into_bytes()]);
}

// --- heartbeats -------------------------------------------------------

/// Who sends PINGs.
#[derive(Clone, Copy, Debug)]
enum Pinger {
    Libzmq,
    Smolmq,
    Both,
}

const HB_IVL_MS: u64 = 100;
const HB_TIMEOUT_MS: u64 = 500;
/// Idle time: four heartbeat timeouts.
const IDLE: Duration = Duration::from_millis(4 * HB_TIMEOUT_MS);

#[test]
fn heartbeats_are_answered_both_ways() {
    for_each_case("heartbeat", |role, t| {
        for pinger in [Pinger::Libzmq, Pinger::Smolmq, Pinger::Both] {
            let ours_ping = matches!(pinger, Pinger::Smolmq | Pinger::Both);
            let theirs_ping = matches!(pinger, Pinger::Libzmq | Pinger::Both);
            let mut monitor = None;
            let mut link = Link::new(
                role,
                t,
                SocketType::Pair,
                |s| {
                    monitor = Some(s.monitor());
                    if ours_ping {
                        let mut o = s.options().clone();
                        o.heartbeat_ivl = Some(Duration::from_millis(HB_IVL_MS));
                        o.heartbeat_timeout = Some(Duration::from_millis(HB_TIMEOUT_MS));
                        o.heartbeat_ttl = Some(Duration::from_secs(2));
                        s.set_options(o).unwrap();
                    }
                },
                zmq::PAIR,
                |s| {
                    if theirs_ping {
                        s.set_heartbeat_ivl(HB_IVL_MS as i32).unwrap();
                        s.set_heartbeat_timeout(HB_TIMEOUT_MS as i32).unwrap();
                        s.set_heartbeat_ttl(2000).unwrap();
                    }
                },
            );
            let monitor = monitor.unwrap();
            ping_pong(&mut link, "before");
            // Idle: only PINGs and PONGs cross. An unanswered PING drops
            // the connection after HB_TIMEOUT_MS (on our side we would
            // see a heartbeat timeout; libzmq's drop shows as the peer
            // closing).
            std::thread::sleep(IDLE);
            ping_pong(&mut link, "after");
            let dropped: Vec<_> = events(&monitor)
                .into_iter()
                .filter(|e| matches!(e, SocketEvent::Disconnected { .. }))
                .collect();
            assert!(dropped.is_empty(), "{pinger:?}: {dropped:?}");
        }
    });
}

// --- PLAIN ------------------------------------------------------------

/// PLAIN credentials a ZAP handler was asked about: (user name, password).
type Asked = Vec<(Vec<u8>, Vec<u8>)>;

/// A ZAP handler (RFC 27) in a libzmq context: accepts `admin` /
/// `secret` and refuses anything else; stops when dropped.
struct ZapHandler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Asked>>,
}

impl ZapHandler {
    fn start(zctx: &zmq::Context) -> ZapHandler {
        let rep = zctx.socket(zmq::REP).unwrap();
        rep.set_linger(0).unwrap();
        rep.bind("inproc://zeromq.zap.01").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !stopped.load(Ordering::Relaxed) {
                let Some(req) = zrecv_within(&rep, 20) else {
                    continue;
                };
                // version, request id, domain, address, routing id,
                // mechanism, user name, password.
                assert_eq!(req[0], b"1.0");
                assert_eq!(req[5], b"PLAIN");
                let ok = req[6] == b"admin" && req[7] == b"secret";
                seen.push((req[6].clone(), req[7].clone()));
                let (code, text): (&[u8], &[u8]) = if ok {
                    (b"200", b"OK")
                } else {
                    (b"400", b"bad credentials")
                };
                let reply: Vec<&[u8]> = vec![b"1.0", &req[1], code, text, b"admin", b""];
                rep.send_multipart(reply, 0).unwrap();
            }
            seen
        });
        ZapHandler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the handler; the credentials it was asked about.
    fn finish(mut self) -> Asked {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Our PLAIN server: accepts `admin` / `secret`, records what it saw.
fn our_plain_server(seen: Arc<Mutex<Vec<Vec<u8>>>>) -> MechanismConfig {
    MechanismConfig::plain_server(move |c| {
        seen.lock().unwrap().push(c.password.to_vec());
        if &c.username[..] == b"admin" && &c.password[..] == b"secret" {
            Ok(())
        } else {
            Err("bad credentials".to_owned())
        }
    })
}

/// Sets our socket's mechanism.
fn set_mechanism(s: &mut smolmq::Socket, m: MechanismConfig) {
    let mut o = s.options().clone();
    o.mechanism = m;
    s.set_options(o).unwrap();
}

#[test]
fn plain_smolmq_server_libzmq_client() {
    for_each_case("plain-ours", |role, t| {
        for password in ["secret", "wrong"] {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let mut monitor = None;
            let mut link = Link::new(
                role,
                t,
                SocketType::Pair,
                |s| {
                    monitor = Some(s.monitor());
                    set_mechanism(s, our_plain_server(seen.clone()));
                },
                zmq::PAIR,
                |s| {
                    s.set_plain_username(Some("admin")).unwrap();
                    s.set_plain_password(Some(password)).unwrap();
                },
            );
            let monitor = monitor.unwrap();
            if password == "secret" {
                ping_pong(&mut link, "plain");
            } else {
                // A bound libzmq PAIR has no pipe until a handshake
                // succeeds: the send may be refused, which is the point.
                let _ = link.theirs.send(&b"let me in"[..], zmq::DONTWAIT);
                let failed = wait_event(&monitor, |e| {
                    matches!(e, SocketEvent::HandshakeFailed { .. })
                });
                assert!(
                    format!("{failed:?}").contains("bad credentials"),
                    "{failed:?}"
                );
                assert_eq!(recv_within(&mut link.ours, SHORT * 4), None);
                assert!(!events(&monitor)
                    .iter()
                    .any(|e| matches!(e, SocketEvent::HandshakeSucceeded { .. })));
            }
            assert!(seen.lock().unwrap().contains(&password.as_bytes().to_vec()));
        }
    });
}

#[test]
fn plain_libzmq_server_smolmq_client() {
    for_each_case("plain-theirs", |role, t| {
        for password in ["secret", "wrong"] {
            let zctx = zmq::Context::new();
            let zap = ZapHandler::start(&zctx);
            let mut monitor = None;
            let mut link = Link::new_in(
                zctx,
                role,
                t,
                SocketType::Pair,
                |s| {
                    monitor = Some(s.monitor());
                    set_mechanism(s, MechanismConfig::plain_client("admin", password));
                },
                zmq::PAIR,
                |s| {
                    s.set_plain_server(true).unwrap();
                    s.set_zap_domain("interop").unwrap();
                },
            );
            let monitor = monitor.unwrap();
            if password == "secret" {
                ping_pong(&mut link, "plain");
            } else {
                // Our bound PAIR has no peer until a handshake succeeds:
                // the send may be refused, which is the point.
                let _ = link.ours.try_send(msg(&parts(&[b"let me in"])));
                wait_event(&monitor, |e| {
                    matches!(e, SocketEvent::HandshakeFailed { .. })
                });
                assert_eq!(zrecv_within(&link.theirs, 200), None);
                assert!(!events(&monitor)
                    .iter()
                    .any(|e| matches!(e, SocketEvent::HandshakeSucceeded { .. })));
            }
            drop(link);
            let asked = zap.finish();
            assert!(
                asked.contains(&(b"admin".to_vec(), password.as_bytes().to_vec())),
                "{asked:?}"
            );
        }
    });
}

// --- a libzmq peer that goes away and comes back -----------------------

#[test]
fn smolmq_reconnects_to_a_restarted_libzmq_peer() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let mut monitor = None;
        let mut link = Link::new(
            Role::LibzmqBinds,
            t,
            SocketType::Pair,
            |s| monitor = Some(s.monitor()),
            zmq::PAIR,
            |_| {},
        );
        let monitor = monitor.unwrap();
        ping_pong(&mut link, "first");
        // The peer goes away; we notice.
        let endpoint = link.endpoint.clone();
        drop(std::mem::replace(
            &mut link.theirs,
            link.zctx.socket(zmq::PAIR).unwrap(),
        ));
        wait_event(&monitor, |e| matches!(e, SocketEvent::Disconnected { .. }));
        // Sent while nobody is there: queued, and delivered to the peer
        // that comes back on the same endpoint.
        send(&mut link.ours, &parts(&[b"while away"]));
        let back = theirs(&link.zctx, zmq::PAIR);
        back.bind(&endpoint).unwrap();
        link.theirs = back;
        assert_eq!(zrecv(&link.theirs), parts(&[b"while away"]), "{t:?}");
        ping_pong(&mut link, "second");
    }
}

#[test]
fn bound_smolmq_pair_takes_a_new_libzmq_peer() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let mut monitor = None;
        let mut link = Link::new(
            Role::SmolmqBinds,
            t,
            SocketType::Pair,
            |s| monitor = Some(s.monitor()),
            zmq::PAIR,
            |_| {},
        );
        let monitor = monitor.unwrap();
        ping_pong(&mut link, "first");
        // The old peer leaves; once we noticed, a new one connects and is
        // heard. (A PAIR takes one peer: as in libzmq, a newcomer that
        // arrives while the old connection is still up is refused, and
        // what it sent on that connection is lost.)
        drop(std::mem::replace(
            &mut link.theirs,
            link.zctx.socket(zmq::PAIR).unwrap(),
        ));
        wait_event(&monitor, |e| matches!(e, SocketEvent::Disconnected { .. }));
        link.theirs = theirs(&link.zctx, zmq::PAIR);
        link.theirs.connect(&link.endpoint).unwrap();
        zsend(&link.theirs, &parts(&[b"new peer"]));
        assert_eq!(recv(&mut link.ours), parts(&[b"new peer"]), "{t:?}");
        ping_pong(&mut link, "second");
    }
}

#[test]
fn smolmq_sub_resubscribes_to_a_restarted_libzmq_pub() {
    for t in [Transport::Tcp, Transport::Ipc] {
        let mut link = Link::new(
            Role::LibzmqBinds,
            t,
            SocketType::Sub,
            |s| smolmq::pubsub::subscribe(s, b"a").unwrap(),
            zmq::PUB,
            |_| {},
        );
        let until_heard = |link: &mut Link| {
            let deadline = Instant::now() + TIMEOUT;
            loop {
                zsend(&link.theirs, &parts(&[b"b-topic"]));
                zsend(&link.theirs, &parts(&[b"a-topic"]));
                if let Some(m) = recv_within(&mut link.ours, SHORT) {
                    assert_eq!(m, parts(&[b"a-topic"]));
                    return;
                }
                assert!(Instant::now() < deadline, "{t:?}: never heard");
            }
        };
        until_heard(&mut link);
        // The publisher restarts on the same endpoint: our subscription
        // must be sent again on the new connection.
        let endpoint = link.endpoint.clone();
        link.theirs = link.zctx.socket(zmq::PUB).unwrap();
        let back = theirs(&link.zctx, zmq::PUB);
        let deadline = Instant::now() + TIMEOUT;
        // The old listener may take a moment to go.
        while back.bind(&endpoint).is_err() {
            assert!(Instant::now() < deadline, "{t:?}: cannot bind again");
            std::thread::sleep(Duration::from_millis(10));
        }
        link.theirs = back;
        // Drain what was left from the old publisher.
        while recv_within(&mut link.ours, SHORT).is_some() {}
        until_heard(&mut link);
    }
}
