//! Arbitrary bytes, cut into arbitrary pieces, into the frame decoder:
//! never a panic, never a reservation beyond the limit, every decoded frame
//! within the limit, and every command frame parsed without a panic. Frames
//! are taken by `decode` and by `peek` (then `advance`) in turns, and the
//! two must agree.

#![no_main]

use bytes::{Buf, BytesMut};
use libfuzzer_sys::fuzz_target;
use smolmq_zmtp::{FrameDecoder, MAX_HEADER_LEN, MAX_RESERVE_AHEAD};

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the frame limit and the piece size.
    let [limit, piece, rest @ ..] = data else {
        return;
    };
    let max = match limit % 4 {
        0 => 0,
        1 => u64::from(*limit) * 16,
        2 => 64 * 1024,
        _ => u64::MAX,
    };
    let piece = usize::from(*piece).max(1);
    let ahead = max.min(MAX_RESERVE_AHEAD as u64) as usize + MAX_HEADER_LEN;

    let mut decoder = FrameDecoder::new(max);
    let mut input = BytesMut::new();
    let mut fed = 0;
    for chunk in rest.chunks(piece) {
        input.extend_from_slice(chunk);
        fed += chunk.len();
        loop {
            let mut peeked = None;
            match decoder.peek(&mut input) {
                Ok(Some(view)) => {
                    assert!(view.body.len() as u64 <= max);
                    peeked = Some((view.more, view.command, view.body.to_vec(), view.wire_len));
                }
                Ok(None) => {}
                Err(_) => {
                    assert!(
                        decoder.decode(&mut input).is_err(),
                        "peek and decode disagree"
                    );
                    return;
                }
            }
            if let Some((more, command, body, wire_len)) = peeked {
                assert!(wire_len <= input.len());
                if fed % 2 == 0 {
                    input.advance(wire_len);
                    continue;
                }
                let frame = decoder.decode(&mut input).unwrap().unwrap();
                assert_eq!(
                    (frame.more, frame.command, &frame.body[..]),
                    (more, command, &body[..])
                );
            }
            match decoder.decode(&mut input) {
                Ok(Some(frame)) => {
                    assert!(frame.body.len() as u64 <= max);
                    if frame.command {
                        let _ = frame.into_command();
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(
            input.capacity() <= 2 * (ahead + fed) + 64,
            "capacity {} after {} bytes, limit {}",
            input.capacity(),
            fed,
            max
        );
    }
});
