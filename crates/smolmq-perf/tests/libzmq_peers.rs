//! The perf tools against libzmq 4.3 peers (made here with the `zmq`
//! crate), over tcp and ipc, with small counts: our `local_thr` fed by a
//! libzmq PUSH, our `remote_thr` feeding a libzmq PULL, our `local_lat`
//! answering a libzmq REQ, our `remote_lat` asking a libzmq REP; the
//! printed lines and the counts are checked. Also the inproc tools and
//! our `local_thr` with our `remote_thr`.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a tool may run.
const TIMEOUT: Duration = Duration::from_secs(60);
/// libzmq socket timeouts, in milliseconds.
const ZMQ_TIMEOUT_MS: i32 = 30_000;

/// Starts a tool with its stdout captured.
fn spawn(tool: &str, args: &[&str]) -> Child {
    Command::new(tool)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting the tool")
}

/// Waits for `child` (killing it after [`TIMEOUT`]); its stdout, after
/// checking that it succeeded.
fn finish(mut child: Child) -> String {
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the tool did not finish in {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{status}: {out}");
    out
}

/// Endpoints to bind for each transport: a free tcp port (see
/// [`free_port`]) and a unique ipc path.
fn endpoints(tag: &str) -> Vec<String> {
    let port = free_port(tag);
    let path = std::env::temp_dir().join(format!("smolmq-perf-{}-{tag}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    vec![
        format!("tcp://127.0.0.1:{port}"),
        format!("ipc://{}", path.display()),
    ]
}

/// A loopback tcp port free now, for a tool to bind, below the kernel's
/// ephemeral range (32768 and up on Linux). A port found by binding port 0
/// and letting it go comes from that range, where the tests running beside
/// this one get theirs (libzmq's `*` binds, outgoing connections), and one
/// of them could take it before the tool binds it: the tool then fails and
/// the libzmq peer keeps connecting to a stranger. Each tag starts its
/// search elsewhere, so two tests looking at once do not meet.
fn free_port(tag: &str) -> u16 {
    const FIRST: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let seed = tag
        .bytes()
        .fold(std::process::id().wrapping_mul(31), |h, b| {
            h.wrapping_mul(131).wrapping_add(u32::from(b))
        });
    (0..SPAN)
        .map(|i| (FIRST + (seed.wrapping_add(i.wrapping_mul(97))) % SPAN) as u16)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free loopback port")
}

/// Panics over a libzmq call that failed while talking to `tool`, with
/// what the tool printed (a tool that cannot bind says so on its stdout,
/// as libzmq's tools do).
fn failed(what: String, err: zmq::Error, mut tool: Child) -> ! {
    let state = match tool.try_wait() {
        Ok(Some(status)) => format!("had exited ({status})"),
        _ => "was still running".to_owned(),
    };
    let _ = tool.kill();
    let _ = tool.wait();
    let mut out = String::new();
    if let Some(mut stdout) = tool.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    panic!("{what}: {err}; the tool {state} and printed: {out:?}");
}

/// A libzmq endpoint to bind for each transport (tcp port chosen by
/// libzmq).
fn zmq_endpoints(tag: &str) -> Vec<String> {
    let path =
        std::env::temp_dir().join(format!("smolmq-perf-z-{}-{tag}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    vec![
        "tcp://127.0.0.1:*".to_owned(),
        format!("ipc://{}", path.display()),
    ]
}

/// libzmq leaves the socket file of an ipc endpoint it bound behind.
fn remove_ipc_file(endpoint: &str) {
    if let Some(path) = endpoint.strip_prefix("ipc://") {
        let _ = std::fs::remove_file(path);
    }
}

fn zmq_socket(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(kind).unwrap();
    s.set_rcvtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_sndtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_linger(ZMQ_TIMEOUT_MS).unwrap();
    s
}

/// Checks the throughput lines: the size and count given, and a
/// throughput in both units.
fn check_thr(out: &str, size: usize, count: usize) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], format!("message size: {size} [B]"));
    assert_eq!(lines[1], format!("message count: {count}"));
    let msgs: i64 = lines[2]
        .strip_prefix("mean throughput: ")
        .and_then(|l| l.strip_suffix(" [msg/s]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(msgs > 0, "{out}");
    let mbits = lines[3]
        .strip_prefix("mean throughput: ")
        .and_then(|l| l.strip_suffix(" [Mb/s]"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(mbits.split('.').nth(1).map(str::len), Some(3), "{out}");
    let mbits: f64 = mbits.parse().unwrap();
    assert!(mbits > 0.0, "{out}");
}

/// Checks the latency lines.
fn check_lat(out: &str, size: usize, count: usize) {
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], format!("message size: {size} [B]"));
    assert_eq!(lines[1], format!("roundtrip count: {count}"));
    let us = lines[2]
        .strip_prefix("average latency: ")
        .and_then(|l| l.strip_suffix(" [us]"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(us.split('.').nth(1).map(str::len), Some(3), "{out}");
    assert!(us.parse::<f64>().unwrap() > 0.0, "{out}");
}

const SIZE: usize = 300;
const COUNT: usize = 2000;
const ROUNDTRIPS: usize = 200;

#[test]
fn local_thr_against_a_libzmq_push() {
    for endpoint in endpoints("local-thr") {
        let tool = spawn(
            env!("CARGO_BIN_EXE_local_thr"),
            &[&endpoint, &SIZE.to_string(), &COUNT.to_string()],
        );
        let ctx = zmq::Context::new();
        let push = zmq_socket(&ctx, zmq::PUSH);
        push.set_reconnect_ivl(20).unwrap();
        // libzmq retries until the tool has bound.
        push.connect(&endpoint).unwrap();
        let msg = vec![0u8; SIZE];
        for i in 0..COUNT {
            if let Err(e) = push.send(&msg[..], 0) {
                failed(format!("{endpoint}: message {i}"), e, tool);
            }
        }
        let out = finish(tool);
        check_thr(&out, SIZE, COUNT);
    }
}

#[test]
fn remote_thr_against_a_libzmq_pull() {
    for endpoint in zmq_endpoints("remote-thr") {
        let ctx = zmq::Context::new();
        let pull = zmq_socket(&ctx, zmq::PULL);
        // No receive HWM, so that libzmq never stops reading. A libzmq
        // engine whose input is stopped at the HWM, and whose ipc peer
        // closes meanwhile, gives up the connection when it reads again
        // (EPOLLHUP marks it as an I/O error while stopped) and drops what
        // the kernel still holds for it: the tool's last ~150 KB, although
        // the tool wrote every byte before closing (strace shows it). TCP
        // peers are not hit: a FIN alone is no EPOLLHUP.
        pull.set_rcvhwm(0).unwrap();
        pull.bind(&endpoint).unwrap();
        let endpoint = pull.get_last_endpoint().unwrap().unwrap();
        let tool = spawn(
            env!("CARGO_BIN_EXE_remote_thr"),
            &[&endpoint, &SIZE.to_string(), &COUNT.to_string()],
        );
        for i in 0..COUNT {
            let msg = match pull.recv_bytes(0) {
                Ok(msg) => msg,
                Err(e) => failed(format!("{endpoint}: message {i}"), e, tool),
            };
            assert_eq!(msg.len(), SIZE);
            assert!(!pull.get_rcvmore().unwrap());
        }
        // Every message, and not one more; the tool exits by itself once
        // they are all written.
        let out = finish(tool);
        assert_eq!(out, "");
        assert_eq!(pull.poll(zmq::POLLIN, 100).unwrap(), 0, "an extra message");
        remove_ipc_file(&endpoint);
    }
}

#[test]
fn local_lat_against_a_libzmq_req() {
    for endpoint in endpoints("local-lat") {
        let tool = spawn(
            env!("CARGO_BIN_EXE_local_lat"),
            &[&endpoint, &SIZE.to_string(), &ROUNDTRIPS.to_string()],
        );
        let ctx = zmq::Context::new();
        let req = zmq_socket(&ctx, zmq::REQ);
        req.set_reconnect_ivl(20).unwrap();
        req.connect(&endpoint).unwrap();
        for i in 0..ROUNDTRIPS {
            let msg = vec![i as u8; SIZE];
            let answer = req.send(&msg[..], 0).and_then(|()| req.recv_bytes(0));
            match answer {
                Ok(answer) => assert_eq!(answer, msg, "{endpoint}: round trip {i}"),
                Err(e) => failed(format!("{endpoint}: round trip {i}"), e, tool),
            }
        }
        assert_eq!(finish(tool), "");
    }
}

#[test]
fn remote_lat_against_a_libzmq_rep() {
    for endpoint in zmq_endpoints("remote-lat") {
        let ctx = zmq::Context::new();
        let rep = zmq_socket(&ctx, zmq::REP);
        rep.bind(&endpoint).unwrap();
        let endpoint = rep.get_last_endpoint().unwrap().unwrap();
        let tool = spawn(
            env!("CARGO_BIN_EXE_remote_lat"),
            &[&endpoint, &SIZE.to_string(), &ROUNDTRIPS.to_string()],
        );
        for _ in 0..ROUNDTRIPS {
            let msg = rep.recv_bytes(0).unwrap();
            assert_eq!(msg.len(), SIZE);
            rep.send(&msg[..], 0).unwrap();
        }
        check_lat(&finish(tool), SIZE, ROUNDTRIPS);
        remove_ipc_file(&endpoint);
    }
}

#[test]
fn our_local_thr_with_our_remote_thr() {
    for endpoint in endpoints("ours") {
        let local = spawn(
            env!("CARGO_BIN_EXE_local_thr"),
            &[&endpoint, &SIZE.to_string(), &COUNT.to_string()],
        );
        // remote_thr connects (and retries) until local_thr has bound.
        let remote = spawn(
            env!("CARGO_BIN_EXE_remote_thr"),
            &[&endpoint, &SIZE.to_string(), &COUNT.to_string()],
        );
        assert_eq!(finish(remote), "");
        check_thr(&finish(local), SIZE, COUNT);
    }
}

#[test]
fn inproc_tools() {
    let out = finish(spawn(env!("CARGO_BIN_EXE_inproc_thr"), &["64", "10000"]));
    check_thr(&out, 64, 10000);
    let out = finish(spawn(env!("CARGO_BIN_EXE_inproc_lat"), &["64", "500"]));
    check_lat(&out, 64, 500);
}

#[test]
fn usage_and_errors_as_libzmq() {
    let out = Command::new(env!("CARGO_BIN_EXE_local_thr"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "usage: local_thr <bind-to> <message-size> <message-count> [<enable_curve>]\n"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_remote_lat"))
        .args(["nonsense://x", "1", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("error in zmq_connect: "));
}
