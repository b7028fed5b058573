//! Wire compatibility with libzmq 4.3 (built from source by the `zmq`
//! crate): PAIR to PAIR over tcp and ipc, smolmq binding and libzmq
//! connecting, and the reverse; multipart messages, empty frames and long
//! frames (over 255 bytes) both ways. The full interop matrix (every
//! pattern, heartbeats, PLAIN) is issue 6.

use bytes::Bytes;
use smolmq_core::Msg;
use smolmq_tests::{bind, context, socket_with, Transport};

/// libzmq socket timeouts, in milliseconds.
const ZMQ_TIMEOUT_MS: i32 = 60_000;

fn zmq_pair(ctx: &zmq::Context) -> zmq::Socket {
    let s = ctx.socket(zmq::PAIR).unwrap();
    s.set_rcvtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_sndtimeo(ZMQ_TIMEOUT_MS).unwrap();
    s.set_linger(0).unwrap();
    s
}

fn frames(msg: &Msg) -> Vec<Vec<u8>> {
    msg.iter().map(<[u8]>::to_vec).collect()
}

/// A message with an empty frame, a short one and a long one.
fn sample() -> Vec<Vec<u8>> {
    vec![b"header".to_vec(), Vec::new(), vec![0xab; 1000]]
}

#[test]
fn libzmq_connects_to_smolmq() {
    let zctx = zmq::Context::new();
    for t in [Transport::Tcp, Transport::Ipc] {
        let ctx = context();
        let mut server = socket_with(&ctx, |_| {});
        let endpoint = bind(&mut server, t);
        let client = zmq_pair(&zctx);
        client.connect(&endpoint).unwrap();
        client.send_multipart(sample(), 0).unwrap();
        assert_eq!(frames(&server.recv_blocking().unwrap()), sample(), "{t:?}");
        let reply = Msg::from_frames(sample().into_iter().map(Bytes::from)).unwrap();
        server.send_blocking(reply).unwrap();
        assert_eq!(client.recv_multipart(0).unwrap(), sample(), "{t:?}");
    }
}

#[test]
fn smolmq_connects_to_libzmq() {
    let zctx = zmq::Context::new();
    for (t, endpoint) in [
        (Transport::Tcp, "tcp://127.0.0.1:*".to_owned()),
        (
            Transport::Ipc,
            format!(
                "ipc://{}",
                std::env::temp_dir()
                    .join(format!("smolmq-interop-{}.sock", std::process::id()))
                    .display()
            ),
        ),
    ] {
        let ctx = context();
        let server = zmq_pair(&zctx);
        server.bind(&endpoint).unwrap();
        let endpoint = server.get_last_endpoint().unwrap().unwrap();
        let mut client = socket_with(&ctx, |_| {});
        client.connect(&endpoint).unwrap();
        let msg = Msg::from_frames(sample().into_iter().map(Bytes::from)).unwrap();
        client.send_blocking(msg).unwrap();
        assert_eq!(server.recv_multipart(0).unwrap(), sample(), "{t:?}");
        server.send_multipart(sample(), 0).unwrap();
        assert_eq!(frames(&client.recv_blocking().unwrap()), sample(), "{t:?}");
    }
}
