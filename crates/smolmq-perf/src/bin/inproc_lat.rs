//! `inproc_lat <message-size> <roundtrip-count>`: a REQ socket sends
//! `roundtrip-count` requests of `message-size` bytes over `inproc://` to
//! a REP socket in a thread that echoes them, and prints the average
//! latency, as libzmq's `perf/inproc_lat`.

use smolmq::{Context, SocketType};
use smolmq_perf::{
    args, check, count_arg, fail, latency_line, size_count_lines, zeroes, Stopwatch,
};

fn main() {
    let args = args(2, "inproc_lat <message-size> <roundtrip-count>");
    let (size, count) = (count_arg(&args[0]), count_arg(&args[1]));
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Req));
    check("zmq_bind", s.bind("inproc://lat_test"));
    let worker_ctx = ctx.clone();
    let worker = std::thread::spawn(move || {
        let mut s = check("zmq_socket", worker_ctx.socket(SocketType::Rep));
        check("zmq_connect", s.connect("inproc://lat_test"));
        for _ in 0..count {
            let msg = check("zmq_recvmsg", s.recv_blocking());
            check(
                "zmq_sendmsg",
                s.send_blocking(msg).map_err(|e| e.into_error()),
            );
        }
    });
    let mut msg = zeroes(size);
    println!("{}", size_count_lines(size, count, "roundtrip count"));
    let watch = Stopwatch::start();
    for _ in 0..count {
        check(
            "zmq_sendmsg",
            s.send_blocking(msg).map_err(|e| e.into_error()),
        );
        msg = check("zmq_recvmsg", s.recv_blocking());
        if msg.size() != size {
            println!("message of incorrect size received");
            std::process::exit(255);
        }
    }
    let elapsed = watch.stop();
    if worker.join().is_err() {
        fail("pthread_join", "the echoing thread panicked");
    }
    print!("{}", latency_line(elapsed, count));
}
