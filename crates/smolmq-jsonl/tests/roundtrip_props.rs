//! Property tests: random lines survive encode + arbitrary cuts + decode,
//! and arbitrary bytes never panic the decoder or grow its buffer.

mod common;

use bytes::{Bytes, BytesMut};
use common::{feed, Mode};
use proptest::prelude::*;
use smolmq_jsonl::{LineDecoder, LineEncoder, LineError};

/// A payload the encoder accepts: no `\n`, no trailing `\r`, not empty.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
        1..200,
    )
    .prop_filter("no trailing CR", |p| p.last() != Some(&b'\r'))
}

/// Splits `wire` at the given (sorted, deduplicated) cut points.
fn cut<'a>(wire: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    points.push(0);
    points.push(wire.len());
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| &wire[w[0]..w[1]]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoded_lines_decode_back_exactly(
        payloads in proptest::collection::vec(payload(), 0..30),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
        crlf in any::<bool>(),
        batch in any::<bool>(),
    ) {
        let mut enc = LineEncoder::new();
        for p in &payloads {
            enc.push(Bytes::from(p.clone())).unwrap();
        }
        let mut wire = Vec::new();
        while !enc.is_empty() {
            enc.write_to(&mut wire).unwrap();
        }
        if crlf {
            // Turn every "\n" into "\r\n": receivers must not care.
            wire = wire.iter().flat_map(|&b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] }).collect();
        }
        let mut dec = LineDecoder::new(256);
        dec.set_utf8_validation(false);
        let mode = if batch { Mode::Batch } else { Mode::OneByOne };
        let out = feed(&mut dec, cut(&wire, &cuts), mode);
        prop_assert!(out.errors().is_empty());
        // A payload starting with a BOM at stream start loses it: that is
        // the framing rule, so expect it.
        let mut want = payloads.clone();
        if let Some(first) = want.first_mut() {
            if first.starts_with(b"\xEF\xBB\xBF") {
                first.drain(..3);
            }
        }
        want.retain(|p| !p.is_empty() && p != b"\r");
        prop_assert_eq!(out.lines(), want);
        prop_assert_eq!(out.leftover, 0);
    }

    #[test]
    fn utf8_lines_decode_back_with_validation(
        lines in proptest::collection::vec("[^\n\r]{1,60}", 0..20),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut wire = Vec::new();
        for l in &lines {
            wire.extend_from_slice(l.as_bytes());
            wire.push(b'\n');
        }
        let out = feed(&mut LineDecoder::default(), cut(&wire, &cuts), Mode::Batch);
        let mut want: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        if let Some(first) = want.first_mut() {
            if first.starts_with(b"\xEF\xBB\xBF") {
                first.drain(..3);
            }
        }
        want.retain(|l| !l.is_empty());
        prop_assert_eq!(out.lines(), want);
        prop_assert!(out.errors().is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        chunk in 1usize..100,
        max in 0usize..64,
        batch in any::<bool>(),
    ) {
        let mode = if batch { Mode::Batch } else { Mode::OneByOne };
        let out = feed(&mut LineDecoder::new(max), data.chunks(chunk), mode);
        // Two bytes of a possible byte order mark may wait even when max is 0.
        let bound = (max + 1).max(2);
        prop_assert!(out.max_buffered <= bound + chunk,
            "buffered {} with max {} chunk {}", out.max_buffered, max, chunk);
        prop_assert!(out.leftover <= bound);
        for line in out.lines() {
            prop_assert!(!line.is_empty() && line.len() <= max);
            prop_assert!(!line.contains(&b'\n'));
            prop_assert!(std::str::from_utf8(&line).is_ok());
        }
        for e in out.errors() {
            if let LineError::TooLong { max: m, seen, .. } = e {
                prop_assert_eq!(m, max);
                prop_assert!(seen > max);
            }
        }
    }

    #[test]
    fn decode_and_decode_batch_agree(
        data in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(0xFFu8), Just(b'a'), Just(0xEF)], 0..500),
        chunk in 1usize..50,
        max in 0usize..20,
    ) {
        let a = feed(&mut LineDecoder::new(max), data.chunks(chunk), Mode::OneByOne);
        let b = feed(&mut LineDecoder::new(max), data.chunks(chunk), Mode::Batch);
        prop_assert_eq!(a.events, b.events);
    }

    #[test]
    fn position_counts_every_consumed_byte(
        data in proptest::collection::vec(any::<u8>(), 0..500),
        chunk in 1usize..50,
    ) {
        let mut dec = LineDecoder::new(16);
        let mut buf = BytesMut::new();
        for piece in data.chunks(chunk) {
            buf.extend_from_slice(piece);
            let mut out = Vec::new();
            for _ in 0..=buf.len() {
                if dec.decode_batch(&mut buf, &mut out).is_ok() {
                    break;
                }
            }
        }
        prop_assert_eq!(dec.position() + buf.len() as u64, data.len() as u64);
    }
}
