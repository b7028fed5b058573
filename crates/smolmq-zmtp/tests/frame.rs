//! Frames: exact headers, both size forms, flags, limits, incremental and
//! zero-copy decoding.

use bytes::{Buf, Bytes, BytesMut};
use smolmq_zmtp::{encode_header, DecodeError, Frame, FrameDecoder, MAX_FRAME_SIZE_LIMIT};

/// Decodes everything in `input`, asserting no error.
fn decode_all(decoder: &mut FrameDecoder, input: &mut BytesMut) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Some(frame) = decoder.decode(input).unwrap() {
        frames.push(frame);
    }
    frames
}

#[test]
fn short_and_long_headers_are_exact() {
    let mut out = BytesMut::new();
    encode_header(&mut out, 0, false, false);
    encode_header(&mut out, 5, true, false);
    encode_header(&mut out, 255, false, true);
    assert_eq!(&out[..], b"\x00\x00\x01\x05\x04\xff");

    let mut out = BytesMut::new();
    encode_header(&mut out, 256, false, false);
    assert_eq!(&out[..], b"\x02\0\0\0\0\0\0\x01\x00");
    out.clear();
    encode_header(&mut out, 0x0102_0304_0506, true, false);
    assert_eq!(&out[..], b"\x03\0\0\x01\x02\x03\x04\x05\x06");
    out.clear();
    encode_header(&mut out, 70_000, false, true);
    assert_eq!(&out[..], b"\x06\0\0\0\0\0\x01\x11\x70");

    let frame = Frame::message(Bytes::from_static(b"hi"), true);
    let mut out = BytesMut::new();
    frame.encode(&mut out);
    assert_eq!(&out[..], b"\x01\x02hi");
    assert_eq!(frame.wire_len(), 4);
}

#[test]
fn decodes_short_long_more_and_command_frames() {
    let mut input = BytesMut::new();
    input.extend_from_slice(b"\x01\x03abc");
    input.extend_from_slice(b"\x00\x00");
    input.extend_from_slice(b"\x04\x05\x04PING");
    input.extend_from_slice(b"\x03\0\0\0\0\0\0\x01\x00");
    input.extend_from_slice(&[b'L'; 256]);
    input.extend_from_slice(b"\x06\0\0\0\0\0\0\0\x02\x01X");
    let frames = decode_all(&mut FrameDecoder::new(1 << 20), &mut input);
    assert!(input.is_empty());
    let summary: Vec<(bool, bool, usize)> = frames
        .iter()
        .map(|f| (f.more, f.command, f.body.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (true, false, 3),
            (false, false, 0),
            (false, true, 5),
            (true, false, 256),
            (false, true, 2)
        ]
    );
    assert_eq!(&frames[0].body[..], b"abc");
}

#[test]
fn a_long_frame_with_a_small_size_is_accepted() {
    // libzmq accepts the long form for any size; so do we.
    let mut input = BytesMut::from(&b"\x02\0\0\0\0\0\0\0\x03abc\x02\0\0\0\0\0\0\0\x00"[..]);
    let frames = decode_all(&mut FrameDecoder::new(100), &mut input);
    assert_eq!(frames.len(), 2);
    assert_eq!(&frames[0].body[..], b"abc");
    assert!(frames[1].body.is_empty());
}

#[test]
fn reserved_flags_are_refused_from_the_first_byte() {
    for flags in [0x08u8, 0x10, 0x20, 0x40, 0x80, 0xFF] {
        let mut input = BytesMut::from(&[flags][..]);
        let err = FrameDecoder::new(100).decode(&mut input).unwrap_err();
        assert_eq!(err, DecodeError::ReservedFlags { flags });
        assert!(err.to_string().contains("reserved"), "{err}");
    }
}

#[test]
fn a_command_with_more_is_refused() {
    for flags in [0x05u8, 0x07] {
        let mut input = BytesMut::from(&[flags, 0][..]);
        assert_eq!(
            FrameDecoder::new(100).decode(&mut input),
            Err(DecodeError::MoreOnCommand { flags })
        );
    }
}

#[test]
fn oversized_frames_are_refused_from_the_header_before_the_body() {
    let mut decoder = FrameDecoder::new(1000);
    // Exactly the limit: waits for the body.
    let mut input = BytesMut::from(&b"\x02\0\0\0\0\0\0\x03\xe8"[..]);
    assert_eq!(decoder.decode(&mut input), Ok(None));
    // One more: refused with just the header in.
    let mut input = BytesMut::from(&b"\x02\0\0\0\0\0\0\x03\xe9"[..]);
    let err = decoder.decode(&mut input).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLarge {
            size: 1001,
            max: 1000
        }
    );
    assert_eq!(
        err.to_string(),
        "frame of 1001 bytes exceeds the maximum frame size of 1000 bytes"
    );
    assert!(
        input.capacity() < 64,
        "nothing reserved: {}",
        input.capacity()
    );

    // A short frame over a small limit.
    let mut input = BytesMut::from(&b"\x00\x0b"[..]);
    assert_eq!(
        FrameDecoder::new(10).decode(&mut input),
        Err(DecodeError::TooLarge { size: 11, max: 10 })
    );
}

#[test]
fn absurd_sizes_never_panic_or_allocate() {
    for size in [u64::MAX, 1 << 63, isize::MAX as u64, isize::MAX as u64 - 8] {
        let mut header = vec![0x02];
        header.extend_from_slice(&size.to_be_bytes());
        let mut input = BytesMut::from(&header[..]);
        let err = FrameDecoder::new(u64::MAX).decode(&mut input).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                size,
                max: MAX_FRAME_SIZE_LIMIT
            }
        );
        assert!(input.capacity() < 64);
    }
    assert_eq!(
        FrameDecoder::new(u64::MAX).max_frame_size(),
        MAX_FRAME_SIZE_LIMIT
    );
}

#[test]
fn a_partial_frame_reserves_room_for_its_rest_only() {
    let mut decoder = FrameDecoder::new(10_000);
    let mut input = BytesMut::new();
    input.extend_from_slice(b"\x02\0\0\0\0\0\0\x13\x88abc"); // 5000 bytes
    assert_eq!(decoder.decode(&mut input), Ok(None));
    assert!(input.capacity() >= 9 + 5000);
    assert!(input.capacity() <= 2 * (9 + 5000), "{}", input.capacity());
    assert_eq!(input.len(), 12, "nothing consumed");
}

#[test]
fn every_split_point_gives_the_same_frames() {
    let mut wire = BytesMut::new();
    for (i, size) in [0usize, 1, 255, 256, 300, 2, 1000].into_iter().enumerate() {
        let body = Bytes::from(vec![i as u8; size]);
        Frame::message(body, i % 2 == 0).encode(&mut wire);
    }
    let expected = decode_all(&mut FrameDecoder::new(4096), &mut wire.clone());
    assert_eq!(expected.len(), 7);
    for split in 0..=wire.len() {
        let mut decoder = FrameDecoder::new(4096);
        let mut input = BytesMut::from(&wire[..split]);
        let mut frames = decode_all(&mut decoder, &mut input);
        input.extend_from_slice(&wire[split..]);
        frames.extend(decode_all(&mut decoder, &mut input));
        assert_eq!(frames, expected, "split at {split}");
        assert!(input.is_empty());
    }
    // And one byte at a time.
    let mut decoder = FrameDecoder::new(4096);
    let mut input = BytesMut::new();
    let mut frames = Vec::new();
    for &b in wire.iter() {
        input.extend_from_slice(&[b]);
        frames.extend(decode_all(&mut decoder, &mut input));
    }
    assert_eq!(frames, expected);
}

#[test]
fn bodies_are_slices_of_the_read_buffer() {
    let mut input = BytesMut::with_capacity(64);
    input.extend_from_slice(b"\x01\x03abc\x00\x04defg");
    let base = input.as_ptr() as usize;
    let mut decoder = FrameDecoder::new(100);
    let a = decoder.decode(&mut input).unwrap().unwrap();
    let b = decoder.decode(&mut input).unwrap().unwrap();
    assert_eq!(a.body.as_ptr() as usize, base + 2);
    assert_eq!(b.body.as_ptr() as usize, base + 7);
}

/// Peeks at and consumes everything in `input`, as owned frames.
fn peek_all(decoder: &mut FrameDecoder, input: &mut BytesMut) -> Vec<Frame> {
    let mut frames = Vec::new();
    while let Some(view) = decoder.peek(input).unwrap() {
        let frame = Frame {
            more: view.more,
            command: view.command,
            body: Bytes::copy_from_slice(view.body),
        };
        let wire_len = view.wire_len;
        assert_eq!(wire_len, frame.wire_len());
        input.advance(wire_len);
        frames.push(frame);
    }
    frames
}

#[test]
fn peek_sees_what_decode_takes_at_every_split_point() {
    let mut wire = BytesMut::new();
    for (i, size) in [0usize, 1, 70, 255, 256, 300, 2].into_iter().enumerate() {
        let body = Bytes::from(vec![i as u8; size]);
        Frame::message(body, i % 2 == 0).encode(&mut wire);
    }
    wire.extend_from_slice(b"\x04\x05\x04PING");
    let expected = decode_all(&mut FrameDecoder::new(4096), &mut wire.clone());
    assert_eq!(expected.len(), 8);
    for split in 0..=wire.len() {
        let mut decoder = FrameDecoder::new(4096);
        let mut input = BytesMut::from(&wire[..split]);
        let mut frames = peek_all(&mut decoder, &mut input);
        input.extend_from_slice(&wire[split..]);
        frames.extend(peek_all(&mut decoder, &mut input));
        assert_eq!(frames, expected, "split at {split}");
        assert!(input.is_empty());
    }
}

#[test]
fn peek_does_not_consume_and_mixes_with_decode() {
    let mut input = BytesMut::from(&b"\x01\x03abc\x00\x04defg"[..]);
    let mut decoder = FrameDecoder::new(100);
    for _ in 0..2 {
        let view = decoder.peek(&mut input).unwrap().unwrap();
        assert_eq!(
            (view.more, view.command, view.body),
            (true, false, &b"abc"[..])
        );
        assert_eq!(view.wire_len, 5);
    }
    let first = decoder.decode(&mut input).unwrap().unwrap();
    assert_eq!(first.body, "abc");
    let view = decoder.peek(&mut input).unwrap().unwrap();
    assert_eq!(view.body, b"defg");
    // The view borrows the buffer: take what is needed, then advance.
    let wire_len = view.wire_len;
    input.advance(wire_len);
    assert!(input.is_empty());
    assert_eq!(decoder.peek(&mut input), Ok(None));
}

#[test]
fn peek_refuses_and_reserves_like_decode() {
    let mut decoder = FrameDecoder::new(1024);
    // Over the limit: refused from the header, nothing buffered.
    let mut input = BytesMut::from(&b"\x02\0\0\0\0\0\0\x07\xd0"[..]);
    assert_eq!(
        decoder.peek(&mut input),
        Err(DecodeError::TooLarge {
            size: 2000,
            max: 1024
        })
    );
    let mut input = BytesMut::from(&b"\xff\x00"[..]);
    assert_eq!(
        decoder.peek(&mut input),
        Err(DecodeError::ReservedFlags { flags: 0xff })
    );
    let mut input = BytesMut::from(&b"\x05\x00"[..]);
    assert_eq!(
        decoder.peek(&mut input),
        Err(DecodeError::MoreOnCommand { flags: 0x05 })
    );
    // A partial frame: room reserved for the rest, bounded, nothing taken.
    let mut decoder = FrameDecoder::new(u64::MAX);
    let mut input = BytesMut::from(&b"\x02\0\0\0\0\x40\0\0\0ab"[..]); // 1 GiB
    assert_eq!(decoder.peek(&mut input), Ok(None));
    assert!(input.capacity() >= smolmq_zmtp::MAX_RESERVE_AHEAD);
    assert!(input.capacity() <= 2 * (smolmq_zmtp::MAX_RESERVE_AHEAD + 11));
    assert_eq!(input.len(), 11);
}

#[test]
fn peek_slice_walks_a_buffer_like_decode() {
    let mut wire = BytesMut::new();
    for (i, size) in [0usize, 1, 70, 255, 256, 300, 2].into_iter().enumerate() {
        let body = Bytes::from(vec![i as u8; size]);
        Frame::message(body, i % 2 == 0).encode(&mut wire);
    }
    let expected = decode_all(&mut FrameDecoder::new(4096), &mut wire.clone());
    for split in 0..=wire.len() {
        let decoder = FrameDecoder::new(4096);
        let input = &wire[..split];
        let mut pos = 0;
        let mut frames = Vec::new();
        while let Some(view) = decoder.peek_slice(&input[pos..]).unwrap() {
            frames.push(Frame {
                more: view.more,
                command: view.command,
                body: Bytes::copy_from_slice(view.body),
            });
            pos += view.wire_len;
        }
        assert_eq!(frames[..], expected[..frames.len()], "split at {split}");
        // Only a partial frame is left.
        let rest = decode_all(
            &mut FrameDecoder::new(4096),
            &mut BytesMut::from(&input[pos..]),
        );
        assert!(rest.is_empty());
    }
    // Limits and flags are checked as by decode.
    let decoder = FrameDecoder::new(10);
    assert_eq!(
        decoder.peek_slice(b"\x00\x0b"),
        Err(DecodeError::TooLarge { size: 11, max: 10 })
    );
    assert_eq!(
        decoder.peek_slice(b"\x08\x00"),
        Err(DecodeError::ReservedFlags { flags: 0x08 })
    );
}
