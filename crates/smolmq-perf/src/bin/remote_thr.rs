//! `remote_thr <connect-to> <message-size> <message-count>`: a PUSH
//! socket connects and sends `message-count` messages of `message-size`
//! bytes, as libzmq's `perf/remote_thr`; it exits once they are written.

use smolmq::{Context, SocketType};
use smolmq_perf::{check, close_and_flush, count_arg, thr_args, zeroes, FLUSH_LIMIT};

fn main() {
    let args = thr_args("remote_thr <connect-to> <message-size> <message-count> [<enable_curve>]");
    let (connect_to, size, count) = (&args[0], count_arg(&args[1]), count_arg(&args[2]));
    let ctx = check("zmq_init", Context::new());
    let mut s = check("zmq_socket", ctx.socket(SocketType::Push));
    check("zmq_connect", s.connect(connect_to));
    let msg = zeroes(size);
    for _ in 0..count {
        check(
            "zmq_sendmsg",
            s.send_blocking(msg.clone()).map_err(|e| e.into_error()),
        );
    }
    close_and_flush(s, FLUSH_LIMIT);
    drop(ctx);
}
