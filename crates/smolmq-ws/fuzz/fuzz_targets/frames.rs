//! Arbitrary bytes, cut into arbitrary pieces, into the WebSocket frame
//! decoder, as client and as server: never a panic, never a payload over
//! the limit, and never a read buffer grown far beyond what came in (a
//! lying length reserves at most 1 MiB ahead).

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smolmq_ws::frame::{FrameDecoder, Role};

fuzz_target!(|data: &[u8]| {
    let [choice, piece, rest @ ..] = data else {
        return;
    };
    let role = if choice & 1 == 0 { Role::Client } else { Role::Server };
    let max = match choice >> 1 & 3 {
        0 => 0,
        1 => 125,
        2 => 64 * 1024,
        _ => u64::MAX >> 1,
    };
    let decoder = FrameDecoder::new(role, max);
    let piece = usize::from(*piece).max(1);
    let mut buf = BytesMut::new();
    let mut fed = 0;
    for chunk in rest.chunks(piece) {
        buf.extend_from_slice(chunk);
        fed += chunk.len();
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    assert!(frame.payload.len() as u64 <= max.max(125));
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(
            buf.capacity() <= 2 * (fed + (1 << 20)) + 64,
            "capacity {} after {fed} bytes",
            buf.capacity()
        );
    }
});
