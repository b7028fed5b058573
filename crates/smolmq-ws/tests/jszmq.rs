//! Interop with jszmq (npm), a JavaScript ZeroMQ over WebSocket with no
//! smolmq code in it, run under the machine's Node.js: PAIR, DEALER to
//! ROUTER, REQ to REP, SUB from PUB and PUB to SUB, with jszmq connecting
//! to smolmq and the reverse.
//!
//! jszmq (0.1.2, the latest on npm) speaks ZWS 2.0 without a mechanism
//! only (subprotocol `ZWS2.0`: routing ids first, no commands, no socket
//! type). When it binds, its WebSocket server (the `ws` package) accepts
//! the client's first offer, `ZWS2.0/NULL` from smolmq, and then speaks
//! `ZWS2.0` anyway: these tests cover smolmq's reading of that too.
//!
//! The peer is `interop/peer.js`; `interop/package.json` and its lock
//! file pin jszmq, installed with `npm ci` into the target directory on
//! first use (bounded by five minutes). Node.js and npm are required: the
//! tests fail, loudly, without them, unless `SMOLMQ_SKIP_JSZMQ=1` is set
//! (then they say they skipped).

use smolmq_core::{Context, Msg, Socket};
use smolmq_tests::{frames, msg, with_options, TIMEOUT};
use smolmq_zmtp::SocketType;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The peer's files, from the crate.
const FILES: [&str; 3] = ["package.json", "package-lock.json", "peer.js"];

/// Longest `npm ci` may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);

/// The directory with jszmq installed, or `None` when skipped.
fn peer_dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(install).as_deref()
}

/// Installs the peer into the target directory (once per lock file).
fn install() -> Option<PathBuf> {
    if std::env::var_os("SMOLMQ_SKIP_JSZMQ").is_some_and(|v| v == "1") {
        eprintln!("*** SKIPPED: the jszmq interop tests (SMOLMQ_SKIP_JSZMQ=1) ***");
        return None;
    }
    for tool in ["node", "npm"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found,
            "the jszmq interop tests need Node.js and npm (`{tool}` not found); \
             install them, or set SMOLMQ_SKIP_JSZMQ=1 to skip these tests"
        );
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("jszmq-interop");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::read(src.join("package-lock.json")).unwrap();
    let installed = dir.join("node_modules/jszmq/package.json").exists()
        && std::fs::read(dir.join("node_modules/.smolmq-lock")).ok() == Some(lock.clone());
    for file in FILES {
        std::fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    if !installed {
        let mut npm = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("running npm ci");
        let since = Instant::now();
        let status = loop {
            if let Some(status) = npm.try_wait().unwrap() {
                break status;
            }
            if since.elapsed() > INSTALL_TIMEOUT {
                let _ = npm.kill();
                panic!("npm ci (jszmq) did not finish within {INSTALL_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "npm ci (jszmq) failed: {status}");
        std::fs::write(dir.join("node_modules/.smolmq-lock"), lock).unwrap();
    }
    Some(dir)
}

/// A running jszmq peer: its output lines, and the process (killed when
/// dropped).
struct Peer {
    child: Child,
    lines: Receiver<String>,
    /// Every line seen so far.
    seen: Vec<String>,
}

impl Peer {
    /// Starts `node peer.js <kind> <mode> [url]`.
    fn start(dir: &Path, kind: &str, mode: &str, url: Option<&str>) -> Peer {
        let mut command = Command::new("node");
        command.arg("peer.js").arg(kind).arg(mode);
        if let Some(url) = url {
            command.arg(url);
        }
        let mut child = command
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting node");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Peer {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line, within `within`.
    fn line(&mut self, within: Duration) -> Option<String> {
        match self.lines.recv_timeout(within) {
            Ok(line) => {
                self.seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                // The peer ended: a short wait keeps callers from spinning.
                std::thread::sleep(within.min(Duration::from_millis(20)));
                None
            }
        }
    }

    /// Waits for a line starting with `prefix`; returns it.
    fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            assert!(
                Instant::now() < deadline,
                "jszmq never printed {prefix}; it printed {:?}",
                self.seen
            );
            if let Some(line) = self.line(Duration::from_millis(100)) {
                if line.starts_with(prefix) {
                    return line;
                }
                assert_ne!(
                    line, "TIMEOUT",
                    "jszmq timed out; it printed {:?}",
                    self.seen
                );
            }
        }
    }

    /// Waits for the peer to exit on its own; asserts success.
    fn finish(mut self) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.line(Duration::from_millis(50)).is_some() {}
                assert!(
                    status.success(),
                    "jszmq exited with {status}: {:?}",
                    self.seen
                );
                return std::mem::take(&mut self.seen);
            }
            assert!(
                Instant::now() < deadline,
                "jszmq did not exit: {:?}",
                self.seen
            );
            let _ = self.line(Duration::from_millis(50));
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Frames as the peer prints them: hex, comma-separated.
fn hex(m: &Msg) -> String {
    frames(m)
        .iter()
        .map(|f| f.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join(",")
}

fn context() -> Context {
    let ctx = smolmq_tests::context();
    ctx.add_transport(Arc::new(smolmq_ws::WsTransport));
    ctx
}

fn socket(ctx: &Context, kind: SocketType) -> Socket {
    let socket = match kind {
        SocketType::Pair => ctx.socket(kind).unwrap(),
        SocketType::Pub | SocketType::Sub => smolmq_pubsub::socket(ctx, kind).unwrap(),
        SocketType::Router => smolmq_reqrep::router(ctx),
        SocketType::Rep => smolmq_reqrep::rep(ctx),
        other => panic!("no {other:?} here"),
    };
    with_options(socket, |_| {})
}

/// Where the peer is: jszmq connects to our bind, or binds for us.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// smolmq binds, jszmq connects.
    JsConnects,
    /// jszmq binds, smolmq connects.
    JsBinds,
}

/// A smolmq socket of `ours` and a jszmq peer of `theirs`, wired as `who`
/// says.
fn wire(ctx: &Context, ours: SocketType, theirs: &str, who: Who) -> Option<(Socket, Peer)> {
    let dir = peer_dir()?;
    let mut socket = socket(ctx, ours);
    let peer = match who {
        Who::JsConnects => {
            socket.bind("ws://127.0.0.1:0/zmq").unwrap();
            let endpoint = socket.last_endpoint().unwrap().to_string();
            Peer::start(dir, theirs, "connect", Some(&endpoint))
        }
        Who::JsBinds => {
            let mut peer = Peer::start(dir, theirs, "bind", None);
            let line = peer.expect("LISTENING ");
            socket
                .connect(line.trim_start_matches("LISTENING "))
                .unwrap();
            peer
        }
    };
    Some((socket, peer))
}

/// The conversation of `peer.js` with a PAIR, ROUTER or REP: its hello, our
/// echo request (binary and empty frames included) sent back by it, our
/// done.
fn converse(ours: SocketType, theirs: &str, who: Who) {
    let ctx = context();
    let Some((mut socket, peer)) = wire(&ctx, ours, theirs, who) else {
        return;
    };
    let all_bytes: Vec<u8> = (0..=255).collect();
    let echo = msg(&[b"echo", &all_bytes, b""]);
    let hello = msg(&[b"hello", b"from", b"js"]);
    let mut sent_echo = false;
    loop {
        let mut got = socket.recv_blocking().unwrap();
        let id = if ours == SocketType::Router {
            let id = got.pop_front().unwrap();
            assert_eq!(&id[..], b"js-dealer", "the dealer's routing id");
            Some(id)
        } else {
            None
        };
        let reply = |body: &Msg| {
            let mut m = body.clone();
            if let Some(id) = &id {
                m.push_front(id.clone());
            }
            m
        };
        if frames(&got) == frames(&hello) {
            if !sent_echo {
                socket
                    .send_blocking(reply(&echo))
                    .map_err(|e| e.into_error())
                    .unwrap();
                sent_echo = true;
            }
            continue;
        }
        assert_eq!(frames(&got), frames(&echo), "jszmq echoes what we sent");
        socket
            .send_blocking(reply(&msg(&[b"done"])))
            .map_err(|e| e.into_error())
            .unwrap();
        break;
    }
    let lines = peer.finish();
    assert!(lines.contains(&format!("RECV {}", hex(&echo))), "{lines:?}");
    assert!(
        lines.contains(&format!("RECV {}", hex(&msg(&[b"done"])))),
        "{lines:?}"
    );
}

#[test]
fn pair_jszmq_connects() {
    converse(SocketType::Pair, "pair", Who::JsConnects);
}

#[test]
fn pair_jszmq_binds() {
    converse(SocketType::Pair, "pair", Who::JsBinds);
}

#[test]
fn dealer_jszmq_to_router() {
    converse(SocketType::Router, "dealer", Who::JsConnects);
}

#[test]
fn router_to_dealer_jszmq_binds() {
    converse(SocketType::Router, "dealer", Who::JsBinds);
}

#[test]
fn req_jszmq_to_rep() {
    converse(SocketType::Rep, "req", Who::JsConnects);
}

#[test]
fn rep_to_req_jszmq_binds() {
    converse(SocketType::Rep, "req", Who::JsBinds);
}

/// A jszmq SUB subscribed to "news" hears our news, not our weather.
fn publish_to_jszmq(who: Who) {
    let ctx = context();
    let Some((mut publisher, mut peer)) = wire(&ctx, SocketType::Pub, "sub", who) else {
        return;
    };
    let news = msg(&[b"news", b"hello"]);
    let deadline = Instant::now() + TIMEOUT;
    // Publish until the subscription has arrived and jszmq heard.
    'heard: loop {
        assert!(
            Instant::now() < deadline,
            "jszmq heard nothing: {:?}",
            peer.seen
        );
        for m in [msg(&[b"weather", b"rain"]), news.clone()] {
            publisher
                .send_blocking(m)
                .map_err(|e| e.into_error())
                .unwrap();
        }
        while let Some(line) = peer.line(Duration::from_millis(50)) {
            if line == format!("RECV {}", hex(&news)) {
                break 'heard;
            }
        }
    }
    let done = msg(&[b"news", b"done"]);
    while peer.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "jszmq did not stop: {:?}",
            peer.seen
        );
        publisher
            .send_blocking(done.clone())
            .map_err(|e| e.into_error())
            .unwrap();
        let _ = peer.line(Duration::from_millis(50));
    }
    let lines = peer.finish();
    assert!(
        lines.iter().all(|l| !l.starts_with("RECV 77656174686572")),
        "jszmq got weather it did not subscribe to: {lines:?}"
    );
}

#[test]
fn pub_to_jszmq_sub_connecting() {
    publish_to_jszmq(Who::JsConnects);
}

#[test]
fn pub_to_jszmq_sub_binding() {
    publish_to_jszmq(Who::JsBinds);
}

/// Our SUB subscribed to "news" hears a jszmq PUB's news only.
fn subscribe_to_jszmq(who: Who) {
    let ctx = context();
    let Some((mut subscriber, peer)) = wire(&ctx, SocketType::Sub, "pub", who) else {
        return;
    };
    smolmq_pubsub::subscribe(&mut subscriber, b"news").unwrap();
    for _ in 0..5 {
        let got = subscriber.recv_blocking().unwrap();
        assert_eq!(frames(&got), frames(&msg(&[b"news", b"from js"])));
    }
    drop(peer);
}

#[test]
fn sub_from_jszmq_pub_connecting() {
    subscribe_to_jszmq(Who::JsConnects);
}

#[test]
fn sub_from_jszmq_pub_binding() {
    subscribe_to_jszmq(Who::JsBinds);
}
