//! `local_thr <bind-to> <message-size> <message-count>`: a PULL socket
//! binds, receives `message-count` messages of `message-size` bytes and
//! prints the throughput, as libzmq's `perf/local_thr`.

use smolmq::{Context, SocketType};
use smolmq_perf::{check, count_arg, fail, thr_args, thr_lines, Stopwatch};

fn main() {
    let args = thr_args("local_thr <bind-to> <message-size> <message-count> [<enable_curve>]");
    let (bind_to, size, count) = (&args[0], count_arg(&args[1]), count_arg(&args[2]));
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Pull));
    check("zmq_bind", s.bind(bind_to));
    let recv = |s: &mut smolmq::Socket| {
        let msg = check("zmq_recvmsg", s.recv_blocking());
        if msg.size() != size {
            println!("message of incorrect size received");
            std::process::exit(255);
        }
    };
    if count == 0 {
        fail("message count", "must be at least 1");
    }
    recv(&mut s);
    let watch = Stopwatch::start();
    for _ in 1..count {
        recv(&mut s);
    }
    let elapsed = watch.stop();
    print!("{}", thr_lines(size, count, elapsed));
    drop(s);
}
