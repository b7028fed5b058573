//! smolmq-zmtp's frame decoder and encoder on 64-byte and 64 KiB frames.
//!
//! Every figure comes twice: in messages per second (case `..._msgs`, one
//! item per frame) and in bytes of wire data per second (case `..._bytes`,
//! one item per byte, headers included).
//!
//! * decode: a pre-encoded buffer of many frames (1 MiB of 64-byte frames,
//!   4 MiB of 64 KiB ones) is copied into a fresh read buffer outside the
//!   timed part; the timed part cuts every frame out of it (zero-copy) and
//!   drops it, as an engine hands each one on.
//! * encode: the frames are added to a reused `Encoder`, the vectored-write
//!   slices are gathered, and the whole batch is marked written, as an
//!   engine does around `write_vectored` (the syscall itself is not timed).
//!   64 KiB frames are measured twice: with the default copy threshold
//!   (8 KiB: the payload is passed through, not copied) and with every
//!   payload copied (`smolmq-zmtp-copy-all`), which shows what the
//!   pass-through saves.

use bytes::{Bytes, BytesMut};
use smolmq_benches::{Figure, Report};
use smolmq_zmtp::{Encoder, FrameDecoder, DEFAULT_COPY_THRESHOLD};
use std::hint::black_box;
use std::io::IoSlice;
use std::time::{Duration, Instant};

/// One workload: a frame size and how many frames a batch holds.
struct Workload {
    /// Case name stem, e.g. `64B`.
    name: &'static str,
    /// Body size of every frame.
    size: usize,
    /// Frames per criterion iteration.
    frames: usize,
}

const SMALL: Workload = Workload {
    name: "64B",
    size: 64,
    // 1 MiB of wire data: 66 bytes per frame.
    frames: (1 << 20) / 66,
};

const LARGE: Workload = Workload {
    name: "64KiB",
    size: 64 * 1024,
    // 4 MiB of wire data.
    frames: 64,
};

/// The workload's frames encoded back to back.
fn wire(w: &Workload) -> Vec<u8> {
    let body = Bytes::from(vec![0x5a; w.size]);
    let mut enc = Encoder::new(usize::MAX);
    for _ in 0..w.frames {
        enc.frame(&body, false);
    }
    enc.chunks().flatten().copied().collect()
}

/// Decodes every frame of `wire`, `iters` times; returns the decoding time.
fn decode(wire: &[u8], frames: usize, iters: u64) -> Duration {
    let mut decoder = FrameDecoder::new(1 << 20);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut input = BytesMut::with_capacity(wire.len());
        input.extend_from_slice(wire);
        let start = Instant::now();
        let mut n = 0;
        while let Some(frame) = decoder.decode(&mut input).unwrap() {
            black_box(&frame);
            n += 1;
        }
        total += start.elapsed();
        assert_eq!(n, frames);
        drop(input);
    }
    total
}

/// Encodes `frames` frames of `body` into `enc` and drains it, `iters`
/// times; returns the time taken.
fn encode(enc: &mut Encoder, body: &Bytes, frames: usize, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        for _ in 0..frames {
            enc.frame(body, false);
        }
        // One small allocation per batch of thousands of frames.
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(8);
        enc.io_slices(&mut slices);
        black_box(&slices);
        drop(slices);
        let written = enc.len();
        enc.advance(written);
    }
    start.elapsed()
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("zmtp");

    for w in [&SMALL, &LARGE] {
        let wire = wire(w);
        let wire_bytes = wire.len() as u64;
        for (unit, items) in [("msgs", w.frames as u64), ("bytes", wire_bytes)] {
            let mut case = report.case(&mut c, &format!("decode_{}_{unit}", w.name));
            case.bench("smolmq-zmtp", Figure::Throughput { items }, |iters| {
                decode(&wire, w.frames, iters)
            });
            case.finish();
        }
    }

    for w in [&SMALL, &LARGE] {
        let body = Bytes::from(vec![0x5a; w.size]);
        let wire_bytes = wire(w).len() as u64;
        for (unit, items) in [("msgs", w.frames as u64), ("bytes", wire_bytes)] {
            let mut case = report.case(&mut c, &format!("encode_{}_{unit}", w.name));
            let mut enc = Encoder::new(DEFAULT_COPY_THRESHOLD);
            case.bench("smolmq-zmtp", Figure::Throughput { items }, |iters| {
                encode(&mut enc, &body, w.frames, iters)
            });
            if w.size >= DEFAULT_COPY_THRESHOLD {
                let mut enc = Encoder::new(usize::MAX);
                case.bench(
                    "smolmq-zmtp-copy-all",
                    Figure::Throughput { items },
                    |iters| encode(&mut enc, &body, w.frames, iters),
                );
            }
            case.finish();
        }
    }

    c.final_summary();
    report.print();
}
