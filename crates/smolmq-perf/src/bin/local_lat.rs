//! `local_lat <bind-to> <message-size> <roundtrip-count>`: a REP socket
//! binds and echoes `roundtrip-count` messages of `message-size` bytes, as
//! libzmq's `perf/local_lat`.

use smolmq::{Context, SocketType};
use smolmq_perf::{args, check, close_and_flush, count_arg, FLUSH_LIMIT};
use std::time::Duration;

fn main() {
    let args = args(3, "local_lat <bind-to> <message-size> <roundtrip-count>");
    let (bind_to, size, count) = (&args[0], count_arg(&args[1]), count_arg(&args[2]));
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Rep));
    check("zmq_bind", s.bind(bind_to));
    for _ in 0..count {
        let msg = check("zmq_recvmsg", s.recv_blocking());
        if msg.size() != size {
            println!("message of incorrect size received");
            std::process::exit(255);
        }
        check(
            "zmq_sendmsg",
            s.send_blocking(msg).map_err(|e| e.into_error()),
        );
    }
    // As libzmq: a second for the last reply to leave, then close.
    std::thread::sleep(Duration::from_secs(1));
    close_and_flush(s, FLUSH_LIMIT);
    drop(ctx);
}
