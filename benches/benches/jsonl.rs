//! smolmq-jsonl against tokio-util's `LinesCodec`: splitting 4 KiB
//! JSON-RPC lines out of a 4 MiB read buffer, and encoding 4 KiB payloads.
//!
//! Figures are bytes/s of wire data (items = input bytes).
//!
//! * `split_4KiB_lines_bytes`: every line of a pre-filled 4 MiB `BytesMut`
//!   (1024 requests of 4 KiB each, a `tools/call` with a long string
//!   argument) is split out. The buffer copy that sets up each iteration is
//!   not timed; dropping the decoded lines is.
//!   - `smolmq-jsonl_batch`: `LineDecoder::decode_batch`, one pass, lines
//!     as zero-copy `Bytes`, UTF-8 validated (the default).
//!   - `smolmq-jsonl_batch_noutf8`: the same with validation off, to show
//!     what validation costs.
//!   - `smolmq-jsonl_decode`: `LineDecoder::decode`, one line per call.
//!   - `tokio-util_LinesCodec`: `Decoder::decode` on the same `BytesMut`.
//!     It also validates UTF-8, and it copies every line into a new
//!     `String` (one allocation and copy per line).
//! * `split_256B_lines_bytes`: the same with 256-byte lines (16384 of
//!   them), where per-line costs (LinesCodec's allocation) weigh more.
//! * `encode_4KiB_payloads_bytes`: 1024 payloads of 4 KiB made ready for
//!   the socket.
//!   - `smolmq-jsonl_vectored`: `LineEncoder::push` (checks each payload for
//!     a raw newline), `io_slices` and `advance` as after complete
//!     `writev`s of up to 1024 slices; nothing copied.
//!   - `tokio-util_LinesCodec`: `Encoder::encode` copying each payload and
//!     its newline into one `BytesMut` (capacity kept across iterations);
//!     it does not check payloads for newlines.

use bytes::{Bytes, BytesMut};
use smolmq_benches::{Figure, Report};
use smolmq_jsonl::{LineDecoder, LineEncoder};
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder, LinesCodec};

/// Bytes per line of the main cases, newline included.
const LINE: usize = 4096;
/// Bytes of input per iteration.
const INPUT: usize = 4 << 20;

/// One JSON-RPC request of `line - 1` bytes (room for the newline) with
/// id `id`.
fn request(id: usize, line: usize) -> String {
    let head = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\
         \"params\":{{\"name\":\"echo\",\"arguments\":{{\"text\":\""
    );
    let tail = "\"}}}";
    let fill = line - 1 - head.len() - tail.len();
    let text: String = "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(fill)
        .collect();
    let request = format!("{head}{text}{tail}");
    assert_eq!(request.len(), line - 1);
    request
}

/// The 4 MiB input: requests of `line` bytes, each with its newline.
fn input(line: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(INPUT);
    for id in 0..INPUT / line {
        wire.extend_from_slice(request(id, line).as_bytes());
        wire.push(b'\n');
    }
    wire
}

/// Times `split` over a fresh copy of `wire`, `iters` times; the copy is
/// not timed.
fn time_split(
    iters: u64,
    wire: &[u8],
    lines: usize,
    mut split: impl FnMut(&mut BytesMut) -> usize,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut buf = BytesMut::from(wire);
        let start = Instant::now();
        let found = split(&mut buf);
        total += start.elapsed();
        assert_eq!(found, lines);
        assert!(buf.is_empty());
    }
    total
}

/// The decode case for lines of `line` bytes.
fn split_case(c: &mut criterion::Criterion, report: &mut Report, line: usize, name: &str) {
    let wire = input(line);
    let lines = INPUT / line;
    let figure = Figure::Throughput {
        items: wire.len() as u64,
    };
    let mut case = report.case(c, name);
    let mut out: Vec<Bytes> = Vec::with_capacity(lines);
    case.bench("smolmq-jsonl_batch", figure, |iters| {
        time_split(iters, &wire, lines, |buf| {
            let n = LineDecoder::default()
                .decode_batch(buf, &mut out)
                .expect("valid input");
            black_box(&out);
            out.clear();
            n
        })
    });
    case.bench("smolmq-jsonl_batch_noutf8", figure, |iters| {
        time_split(iters, &wire, lines, |buf| {
            let mut decoder = LineDecoder::default();
            decoder.set_utf8_validation(false);
            let n = decoder.decode_batch(buf, &mut out).expect("valid input");
            black_box(&out);
            out.clear();
            n
        })
    });
    case.bench("smolmq-jsonl_decode", figure, |iters| {
        time_split(iters, &wire, lines, |buf| {
            let mut decoder = LineDecoder::default();
            let mut n = 0;
            while let Some(line) = decoder.decode(buf).expect("valid input") {
                black_box(line);
                n += 1;
            }
            n
        })
    });
    case.bench("tokio-util_LinesCodec", figure, |iters| {
        time_split(iters, &wire, lines, |buf| {
            let mut codec = LinesCodec::new_with_max_length(smolmq_jsonl::DEFAULT_MAX_LINE);
            let mut n = 0;
            while let Some(line) = codec.decode(buf).expect("valid input") {
                black_box(line);
                n += 1;
            }
            n
        })
    });
    case.finish();
}

/// The encode case.
fn encode_case(c: &mut criterion::Criterion, report: &mut Report) {
    let payloads: Vec<String> = (0..INPUT / LINE).map(|id| request(id, LINE)).collect();
    let shared: Vec<Bytes> = payloads.iter().map(|p| Bytes::from(p.clone())).collect();
    let figure = Figure::Throughput {
        items: INPUT as u64,
    };
    let mut case = report.case(c, "encode_4KiB_payloads_bytes");
    let mut encoder = LineEncoder::new();
    case.bench("smolmq-jsonl_vectored", figure, |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            for p in &shared {
                encoder.push(p.clone()).expect("valid payload");
            }
            while !encoder.is_empty() {
                // One allocation per `writev` of up to 512 lines.
                let mut slices = Vec::with_capacity(smolmq_jsonl::MAX_IO_SLICES);
                let written = encoder.io_slices(&mut slices);
                black_box(&slices);
                drop(slices);
                encoder.advance(written);
            }
        }
        start.elapsed()
    });
    let mut codec = LinesCodec::new();
    let mut buf = BytesMut::with_capacity(INPUT);
    case.bench("tokio-util_LinesCodec", figure, |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            for p in &payloads {
                codec.encode(p.as_str(), &mut buf).expect("encodes");
            }
            black_box(&buf);
            buf.clear();
        }
        start.elapsed()
    });
    case.finish();
}

fn main() {
    let mut c = smolmq_benches::criterion();
    let mut report = Report::new("jsonl");
    split_case(&mut c, &mut report, LINE, "split_4KiB_lines_bytes");
    split_case(&mut c, &mut report, 256, "split_256B_lines_bytes");
    encode_case(&mut c, &mut report);
    report.print();
    c.final_summary();
}
