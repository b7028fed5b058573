//! The encoder: batching, pass-through of large payloads, partial writes,
//! buffer reuse.

use bytes::{Bytes, BytesMut};
use smolmq_zmtp::{Command, Encoder, Frame, FrameDecoder, MAX_IO_SLICES};
use std::io::{self, IoSlice, Write};

/// Everything left in the encoder, concatenated.
fn pending(enc: &Encoder) -> Vec<u8> {
    enc.chunks().flatten().copied().collect()
}

/// A writer that takes at most `limit` bytes per call.
struct Trickle {
    /// Bytes per call.
    limit: usize,
    /// What was written.
    out: Vec<u8>,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.limit);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut left = self.limit;
        for buf in bufs {
            let n = buf.len().min(left);
            self.out.extend_from_slice(&buf[..n]);
            left -= n;
            if left == 0 {
                break;
            }
        }
        Ok(self.limit - left)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn small_frames_are_batched_into_one_slice() {
    let mut enc = Encoder::new(1024);
    for i in 0..100u8 {
        enc.frame(&Bytes::from(vec![i; 64]), i % 2 == 0);
    }
    assert_eq!(enc.len(), 100 * 66);
    let mut slices = Vec::new();
    enc.io_slices(&mut slices);
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0].len(), 100 * 66);
    assert_eq!(&slices[0][..3], b"\x01\x40\x00");
}

#[test]
fn large_payloads_are_passed_through_without_a_copy() {
    let big = Bytes::from(vec![7u8; 10_000]);
    let mut enc = Encoder::new(8192);
    enc.frame(&Bytes::from_static(b"head"), true);
    enc.frame(&big, true);
    enc.frame(&Bytes::from_static(b"tail"), false);
    let mut slices = Vec::new();
    enc.io_slices(&mut slices);
    assert_eq!(slices.len(), 3);
    assert_eq!(&slices[0][..], b"\x01\x04head\x03\0\0\0\0\0\0\x27\x10");
    assert_eq!(slices[1].as_ptr(), big.as_ptr(), "the payload itself");
    assert_eq!(&slices[2][..], b"\x00\x04tail");
    assert_eq!(enc.len(), 6 + 9 + 10_000 + 6);

    // Just below the threshold: copied.
    let mut enc = Encoder::new(8192);
    let below = Bytes::from(vec![1u8; 8191]);
    enc.frame(&below, false);
    let chunks: Vec<&[u8]> = enc.chunks().collect();
    assert_eq!(chunks.len(), 1);
    assert_ne!(chunks[0][9..].as_ptr(), below.as_ptr());
}

#[test]
fn threshold_zero_passes_every_nonempty_payload_through() {
    let mut enc = Encoder::new(0);
    enc.frame(&Bytes::from_static(b"a"), false);
    enc.frame(&Bytes::new(), false);
    let chunks: Vec<&[u8]> = enc.chunks().collect();
    assert_eq!(chunks, [&b"\x00\x01"[..], b"a", b"\x00\x00"]);
}

#[test]
fn partial_writes_resume_where_they_stopped() {
    let big = Bytes::from((0..20_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let mut enc = Encoder::new(1000);
    enc.message(&[
        Bytes::from_static(b"k"),
        big.clone(),
        Bytes::from_static(b"v"),
    ]);
    enc.command(&Command::Subscribe(Bytes::from_static(b"t")))
        .unwrap();
    let expected = pending(&enc);

    for limit in [1usize, 7, 100, 4096, 100_000] {
        let mut enc = Encoder::new(1000);
        enc.message(&[
            Bytes::from_static(b"k"),
            big.clone(),
            Bytes::from_static(b"v"),
        ]);
        enc.command(&Command::Subscribe(Bytes::from_static(b"t")))
            .unwrap();
        let mut w = Trickle {
            limit,
            out: Vec::new(),
        };
        let mut calls = 0;
        while !enc.is_empty() {
            let n = enc.write_to(&mut w).unwrap();
            assert_eq!(n, limit.min(n + enc.len()));
            calls += 1;
            assert!(calls <= 30_000, "bounded");
        }
        assert_eq!(w.out, expected, "limit {limit}");
    }

    // The wire decodes back to what went in.
    let mut input = BytesMut::from(&expected[..]);
    let mut dec = FrameDecoder::new(1 << 20);
    let k = dec.decode(&mut input).unwrap().unwrap();
    let b = dec.decode(&mut input).unwrap().unwrap();
    let v = dec.decode(&mut input).unwrap().unwrap();
    let c = dec.decode(&mut input).unwrap().unwrap();
    assert_eq!((k.more, &k.body[..]), (true, &b"k"[..]));
    assert_eq!((b.more, b.body.clone()), (true, big));
    assert_eq!((v.more, &v.body[..]), (false, &b"v"[..]));
    assert_eq!(
        c.into_command(),
        Ok(Command::Subscribe(Bytes::from_static(b"t")))
    );
}

#[test]
fn the_buffer_is_reused_once_everything_is_written() {
    let mut enc = Encoder::with_capacity(8192, 16 * 1024);
    let body = Bytes::from(vec![0u8; 64]);
    let mut capacity = None;
    for _round in 0..10 {
        for _ in 0..200 {
            enc.frame(&body, false);
        }
        let n = enc.len();
        enc.advance(n);
        assert!(enc.is_empty());
        match capacity {
            None => capacity = Some(enc.buffer_capacity()),
            Some(c) => assert_eq!(enc.buffer_capacity(), c, "no reallocation"),
        }
    }
}

#[test]
fn a_writer_that_never_catches_up_does_not_grow_the_buffer_forever() {
    let mut enc = Encoder::new(usize::MAX);
    let body = Bytes::from(vec![0u8; 1000]);
    for _ in 0..2000 {
        enc.frame(&body, false);
        enc.frame(&body, false);
        // Write a bit less than was added: the backlog grows slowly, the
        // written front is compacted away.
        enc.advance(1990);
    }
    assert_eq!(enc.len(), 2000 * (2 * 1009 - 1990));
    assert!(
        enc.buffer_capacity() < 4 * enc.len() + 256 * 1024,
        "capacity {} for {} pending",
        enc.buffer_capacity(),
        enc.len()
    );
}

#[test]
fn io_slices_are_capped() {
    let mut enc = Encoder::new(1);
    for _ in 0..2000 {
        enc.frame(&Bytes::from_static(b"xy"), false);
    }
    let mut slices = Vec::new();
    enc.io_slices(&mut slices);
    assert_eq!(slices.len(), MAX_IO_SLICES);
    assert_eq!(enc.chunks().count(), 4000);
}

#[test]
fn commands_and_frames_mix_in_order() {
    let mut enc = Encoder::default();
    enc.command(&Command::Ping {
        ttl: 10,
        context: Bytes::new(),
    })
    .unwrap();
    enc.frame_slice(b"x", false);
    enc.encode_frame(&Frame {
        more: false,
        command: true,
        body: Bytes::from_static(b"\x04PONG"),
    });
    assert_eq!(
        pending(&enc),
        b"\x04\x07\x04PING\x00\x0a\x00\x01x\x04\x05\x04PONG"
    );
    // An invalid command adds nothing.
    let before = enc.len();
    assert!(enc
        .command(&Command::Pong {
            context: Bytes::from(vec![0; 17])
        })
        .is_err());
    assert_eq!(enc.len(), before);
}

#[test]
#[should_panic(expected = "past the")]
fn advancing_past_the_end_panics() {
    let mut enc = Encoder::default();
    enc.frame_slice(b"abc", false);
    enc.advance(6);
}
