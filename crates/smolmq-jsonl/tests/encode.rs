//! The encoder: payload checks, vectored slices, and partial writes.

use bytes::Bytes;
use smolmq_jsonl::{check_payload, encode, EncodeError, LineEncoder, MAX_IO_SLICES};
use std::io::{self, IoSlice, Write};

/// Concatenates slices as a write would put them on the wire.
fn flatten(slices: &[IoSlice<'_>]) -> Vec<u8> {
    slices.iter().flat_map(|s| s.iter().copied()).collect()
}

#[test]
fn encode_gives_payload_and_newline_without_copy() {
    let payload = b"{\"id\":1}";
    let slices = encode(payload).unwrap();
    assert_eq!(slices[0].as_ptr(), payload.as_ptr(), "payload not copied");
    assert_eq!(flatten(&slices), b"{\"id\":1}\n");
}

#[test]
fn raw_newline_is_refused_with_its_offset() {
    assert_eq!(
        encode(b"ab\ncd").unwrap_err(),
        EncodeError::Newline { offset: 2 }
    );
    assert_eq!(
        check_payload(b"\n").unwrap_err(),
        EncodeError::Newline { offset: 0 }
    );
    let e = EncodeError::Newline { offset: 2 };
    assert!(e.to_string().contains("byte 2"), "{e}");
}

#[test]
fn trailing_carriage_return_is_refused_inner_one_kept() {
    assert_eq!(
        encode(b"abc\r").unwrap_err(),
        EncodeError::TrailingCarriageReturn { offset: 3 }
    );
    assert!(encode(b"a\rb").is_ok());
}

#[test]
fn empty_payload_is_refused() {
    assert_eq!(encode(b"").unwrap_err(), EncodeError::Empty);
    let mut enc = LineEncoder::new();
    assert_eq!(enc.push(Bytes::new()), Err(EncodeError::Empty));
    assert!(enc.is_empty());
}

#[test]
fn escaped_newline_in_json_is_fine() {
    assert!(encode(br#"{"text":"two\nlines"}"#).is_ok());
}

#[test]
fn push_refuses_over_long_and_keeps_the_queue_unchanged() {
    let mut enc = LineEncoder::with_max_line(4);
    enc.push(Bytes::from_static(b"1234")).unwrap();
    assert_eq!(
        enc.push(Bytes::from_static(b"12345")),
        Err(EncodeError::TooLong { len: 5, max: 4 })
    );
    assert_eq!(
        enc.push(Bytes::from_static(b"a\nb")),
        Err(EncodeError::Newline { offset: 1 })
    );
    assert_eq!(enc.len(), 1);
    assert_eq!(enc.pending_bytes(), 5);
}

#[test]
fn io_slices_list_every_line() {
    let mut enc = LineEncoder::new();
    for p in ["a", "bb", "ccc"] {
        enc.push(Bytes::from(p)).unwrap();
    }
    let mut slices = Vec::new();
    assert_eq!(enc.io_slices(&mut slices), 9);
    assert_eq!(slices.len(), 6);
    assert_eq!(flatten(&slices), b"a\nbb\nccc\n");
    assert_eq!(enc.pending_bytes(), 9);
}

#[test]
fn advance_after_partial_writes_at_every_offset() {
    let payloads = ["one", "two2", "three33"];
    let wire = b"one\ntwo2\nthree33\n";
    for first in 0..=wire.len() {
        let mut enc = LineEncoder::new();
        for p in payloads {
            enc.push(Bytes::from(p)).unwrap();
        }
        enc.advance(first);
        let mut slices = Vec::new();
        let covered = enc.io_slices(&mut slices);
        assert_eq!(covered, wire.len() - first);
        assert_eq!(flatten(&slices), &wire[first..], "after {first}");
        drop(slices);
        assert_eq!(enc.pending_bytes(), wire.len() - first);
        let whole_lines_written = wire[..first].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(enc.len(), 3 - whole_lines_written, "after {first}");
    }
}

#[test]
fn advance_beyond_pending_is_clamped() {
    let mut enc = LineEncoder::new();
    enc.push(Bytes::from_static(b"x")).unwrap();
    enc.advance(100);
    assert!(enc.is_empty());
    assert_eq!(enc.pending_bytes(), 0);
    enc.push(Bytes::from_static(b"y")).unwrap();
    let mut slices = Vec::new();
    enc.io_slices(&mut slices);
    assert_eq!(flatten(&slices), b"y\n");
}

#[test]
fn io_slices_are_capped() {
    let mut enc = LineEncoder::new();
    for _ in 0..MAX_IO_SLICES {
        enc.push(Bytes::from_static(b"m")).unwrap();
    }
    let mut slices = Vec::new();
    let covered = enc.io_slices(&mut slices);
    assert_eq!(slices.len(), MAX_IO_SLICES);
    assert_eq!(covered, MAX_IO_SLICES);
    enc.advance(covered);
    assert_eq!(enc.len(), MAX_IO_SLICES / 2);
}

/// A writer that takes at most `step` bytes per call, like a busy socket.
struct Trickle {
    /// Everything written so far.
    wire: Vec<u8>,
    /// Most bytes taken per call.
    step: usize,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step);
        self.wire.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut left = self.step;
        let mut n = 0;
        for b in bufs {
            let take = b.len().min(left);
            self.wire.extend_from_slice(&b[..take]);
            left -= take;
            n += take;
            if left == 0 {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_to_a_trickling_writer() {
    let payloads: Vec<String> = (0..50).map(|i| format!("{{\"id\":{i}}}")).collect();
    let mut want = Vec::new();
    for p in &payloads {
        want.extend_from_slice(p.as_bytes());
        want.push(b'\n');
    }
    for step in [1, 2, 3, 7, 64, 10_000] {
        let mut enc = LineEncoder::new();
        for p in &payloads {
            enc.push(Bytes::from(p.clone())).unwrap();
        }
        let mut w = Trickle {
            wire: Vec::new(),
            step,
        };
        for _ in 0..want.len() + 1 {
            if enc.write_to(&mut w).unwrap() == 0 {
                break;
            }
        }
        assert_eq!(w.wire, want, "step {step}");
        assert!(enc.is_empty());
    }
}

#[test]
fn write_to_reports_a_writer_that_takes_nothing() {
    let mut enc = LineEncoder::new();
    enc.push(Bytes::from_static(b"x")).unwrap();
    let mut full: &mut [u8] = &mut [];
    let err = enc.write_to(&mut full).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    assert_eq!(enc.len(), 1, "nothing lost");
}

#[test]
fn clear_drops_everything() {
    let mut enc = LineEncoder::default();
    enc.push(Bytes::from_static(b"abc")).unwrap();
    enc.advance(1);
    enc.clear();
    assert!(enc.is_empty());
    assert_eq!(enc.pending_bytes(), 0);
}
