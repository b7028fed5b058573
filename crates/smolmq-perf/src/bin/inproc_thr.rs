//! `inproc_thr <message-size> <message-count>`: a PUSH socket in a thread
//! sends `message-count` messages of `message-size` bytes over `inproc://`
//! to a PULL socket, which prints the throughput, as libzmq's
//! `perf/inproc_thr`.

use smolmq::{Context, SocketType};
use smolmq_perf::{
    args, check, count_arg, fail, inproc_thr_lines, size_count_lines, zeroes, Stopwatch,
};

fn main() {
    let args = args(2, "inproc_thr <message-size> <message-count>");
    let (size, count) = (count_arg(&args[0]), count_arg(&args[1]));
    if count == 0 {
        fail("message count", "must be at least 1");
    }
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Pull));
    check("zmq_bind", s.bind("inproc://thr_test"));
    let worker_ctx = ctx.clone();
    let worker = std::thread::spawn(move || {
        let mut s = check("zmq_socket", worker_ctx.socket(SocketType::Push));
        check("zmq_connect", s.connect("inproc://thr_test"));
        let msg = zeroes(size);
        for _ in 0..count {
            check(
                "zmq_sendmsg",
                s.send_blocking(msg.clone()).map_err(|e| e.into_error()),
            );
        }
    });
    println!("{}", size_count_lines(size, count, "message count"));
    let recv = |s: &mut smolmq::Socket| {
        let msg = check("zmq_recvmsg", s.recv_blocking());
        if msg.size() != size {
            println!("message of incorrect size received");
            std::process::exit(255);
        }
    };
    recv(&mut s);
    let watch = Stopwatch::start();
    for _ in 1..count {
        recv(&mut s);
    }
    let elapsed = watch.stop();
    if worker.join().is_err() {
        fail("pthread_join", "the sending thread panicked");
    }
    drop(s);
    print!("{}", inproc_thr_lines(size, elapsed, count));
}
