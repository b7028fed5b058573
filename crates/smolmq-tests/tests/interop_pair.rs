//! Wire compatibility with libzmq 4.3 (built from source by the `zmq`
//! crate): PAIR to PAIR over tcp and ipc, smolmq binding and libzmq
//! connecting, and the reverse; multipart messages, empty frames and long
//! frames (over 255 bytes) both ways, order kept.

mod interop;

use interop::*;
use smolmq::SocketType;

#[test]
fn pair_pair_both_ways() {
    for_each_case("pair", |role, t| {
        let zctx = zmq::Context::new();
        let ctx = context();
        let mut a = ours(&ctx, SocketType::Pair, |_| {});
        let b = theirs(&zctx, zmq::PAIR);
        link(role, t, &mut a, &b);
        ours_to_theirs(&mut a, &b);
        theirs_to_ours(&b, &mut a);
        // Both directions at once.
        for i in 0..50u32 {
            send(&mut a, &[format!("a{i}").into_bytes()]);
            zsend(&b, &[format!("b{i}").into_bytes()]);
        }
        for i in 0..50u32 {
            assert_eq!(zrecv(&b), [format!("a{i}").into_bytes()]);
            assert_eq!(recv(&mut a), [format!("b{i}").into_bytes()]);
        }
    });
}
