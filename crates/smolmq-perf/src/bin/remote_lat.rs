//! `remote_lat <connect-to> <message-size> <roundtrip-count>`: a REQ
//! socket connects, sends `roundtrip-count` requests of `message-size`
//! bytes, one at a time, and prints the average latency (half the round
//! trip), as libzmq's `perf/remote_lat`.

use smolmq::{Context, SocketType};
use smolmq_perf::{
    args, check, close_and_flush, count_arg, latency_line, size_count_lines, zeroes, Stopwatch,
    FLUSH_LIMIT,
};

fn main() {
    let args = args(
        3,
        "remote_lat <connect-to> <message-size> <roundtrip-count>",
    );
    let (connect_to, size, count) = (&args[0], count_arg(&args[1]), count_arg(&args[2]));
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Req));
    check("zmq_connect", s.connect(connect_to));
    let mut msg = zeroes(size);
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
    println!("{}", size_count_lines(size, count, "roundtrip count"));
    print!("{}", latency_line(elapsed, count));
    close_and_flush(s, FLUSH_LIMIT);
    drop(ctx);
}
