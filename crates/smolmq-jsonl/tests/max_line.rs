//! The maximum line length: the exact boundary, enforcement before more is
//! buffered, and resynchronisation after an over-long line.

mod common;

use common::{feed, feed_all, Mode, MODES};
use smolmq_jsonl::{LineDecoder, LineError, DEFAULT_MAX_LINE};

const MAX: usize = 32;

/// A line of `len` bytes of `fill`.
fn line(len: usize, fill: u8) -> Vec<u8> {
    vec![fill; len]
}

/// `msg` followed by `ending`, then a short line "next".
fn stream(msg: &[u8], ending: &[u8]) -> Vec<u8> {
    let mut s = msg.to_vec();
    s.extend_from_slice(ending);
    s.extend_from_slice(b"next\n");
    s
}

/// Runs `input` whole, byte by byte, and in chunks of 5, in both modes.
fn all_ways(input: &[u8], check: impl Fn(&common::Outcome, &str)) {
    for mode in MODES {
        check(
            &feed_all(&mut LineDecoder::new(MAX), input, mode),
            &format!("whole {mode:?}"),
        );
        check(
            &feed(&mut LineDecoder::new(MAX), input.chunks(1), mode),
            &format!("bytes {mode:?}"),
        );
        check(
            &feed(&mut LineDecoder::new(MAX), input.chunks(5), mode),
            &format!("by 5 {mode:?}"),
        );
    }
}

#[test]
fn default_is_16_mib() {
    assert_eq!(DEFAULT_MAX_LINE, 16 * 1024 * 1024);
    assert_eq!(LineDecoder::default().max_line(), DEFAULT_MAX_LINE);
}

#[test]
fn max_minus_one_and_max_are_accepted() {
    for len in [MAX - 1, MAX] {
        for ending in [&b"\n"[..], b"\r\n"] {
            let msg = line(len, b'a');
            all_ways(&stream(&msg, ending), |out, how| {
                assert_eq!(
                    out.lines(),
                    vec![msg.clone(), b"next".to_vec()],
                    "len {len} {how}"
                );
                assert!(out.errors().is_empty(), "len {len} {how}");
            });
        }
    }
}

#[test]
fn max_plus_one_is_refused_and_the_next_line_decodes() {
    for ending in [&b"\n"[..], b"\r\n"] {
        let msg = line(MAX + 1, b'a');
        all_ways(&stream(&msg, ending), |out, how| {
            assert_eq!(out.lines(), vec![b"next".to_vec()], "{how}");
            let errors = out.errors();
            assert_eq!(
                errors.len(),
                1,
                "exactly one error per over-long line, {how}"
            );
            match &errors[0] {
                LineError::TooLong { max, seen, offset } => {
                    assert_eq!(*max, MAX);
                    assert!(*seen > MAX, "{how}: seen {seen}");
                    assert_eq!(*offset, 0);
                }
                other => panic!("{how}: {other:?}"),
            }
        });
    }
}

#[test]
fn carriage_return_does_not_count_but_other_bytes_do() {
    // MAX bytes, then "\r" and one more byte: the "\r" is data, the message
    // is MAX + 2 bytes.
    let mut msg = line(MAX, b'a');
    msg.extend_from_slice(b"\rx");
    all_ways(&stream(&msg, b"\n"), |out, how| {
        assert_eq!(out.lines(), vec![b"next".to_vec()], "{how}");
        assert_eq!(out.errors().len(), 1, "{how}");
    });
}

#[test]
fn over_long_line_is_never_returned_in_part() {
    // The over-long line looks like several JSON messages, none with a
    // newline; nothing of it may come out as a message.
    let mut input = b"{\"id\":1}\n".to_vec();
    for _ in 0..20 {
        input.extend_from_slice(b"{\"id\":\"LEAK\"}\r");
    }
    input.extend_from_slice(b"\n{\"id\":2}\n");
    for mode in MODES {
        for chunk in [1, 3, 7, 16, 33, 64, input.len()] {
            let out = feed(&mut LineDecoder::new(MAX), input.chunks(chunk), mode);
            assert_eq!(
                out.lines(),
                vec![b"{\"id\":1}".to_vec(), b"{\"id\":2}".to_vec()],
                "chunk {chunk} {mode:?}"
            );
            assert_eq!(out.errors().len(), 1, "chunk {chunk}");
            assert!(out
                .lines()
                .iter()
                .all(|l| !l.windows(4).any(|w| w == b"LEAK")));
        }
    }
}

#[test]
fn buffer_never_holds_more_than_max_plus_one_read() {
    let mut input = line(10 * MAX, b'z');
    input.extend_from_slice(b"\nok\n");
    for mode in MODES {
        for chunk in [1, 4, 16, MAX, 3 * MAX] {
            let out = feed(&mut LineDecoder::new(MAX), input.chunks(chunk), mode);
            assert!(
                out.max_buffered <= MAX + 1 + chunk,
                "chunk {chunk}: buffered {} bytes",
                out.max_buffered
            );
            assert_eq!(out.lines(), vec![b"ok".to_vec()]);
            assert_eq!(out.errors().len(), 1);
        }
    }
}

#[test]
fn refused_early_before_the_newline_arrives() {
    let mut decoder = LineDecoder::new(MAX);
    let mut buf = bytes::BytesMut::new();
    buf.extend_from_slice(&line(MAX, b'q'));
    assert_eq!(
        decoder.decode(&mut buf).unwrap(),
        None,
        "MAX bytes may still be a line"
    );
    buf.extend_from_slice(b"\r");
    assert_eq!(
        decoder.decode(&mut buf).unwrap(),
        None,
        "may still be MAX + CRLF"
    );
    buf.extend_from_slice(b"q");
    let err = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(
        err,
        LineError::TooLong {
            max: MAX,
            seen: MAX + 2,
            offset: 0
        }
    );
    assert!(buf.is_empty(), "the refused bytes are dropped at once");
    assert!(decoder.is_discarding());
    buf.extend_from_slice(&line(1000, b'q'));
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty(), "the rest is discarded as it arrives");
    buf.extend_from_slice(b"qq\nafter\n");
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"after"[..]);
    assert!(!decoder.is_discarding());
    assert_eq!(decoder.position(), (MAX + 2 + 1000 + 3 + 6) as u64);
}

#[test]
fn offsets_point_at_the_refused_line() {
    let mut input = b"a\n".to_vec();
    input.extend_from_slice(&line(MAX + 5, b'b'));
    input.extend_from_slice(b"\nc\n");
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::new(MAX), &input, mode);
        assert_eq!(out.lines(), vec![b"a".to_vec(), b"c".to_vec()]);
        assert_eq!(
            out.errors(),
            vec![LineError::TooLong {
                max: MAX,
                seen: MAX + 5,
                offset: 2
            }]
        );
    }
}

#[test]
fn zero_maximum_refuses_every_non_empty_line() {
    let out = feed_all(&mut LineDecoder::new(0), b"\n\r\na\nbb\n", Mode::Batch);
    assert!(out.lines().is_empty());
    assert_eq!(out.errors().len(), 2);
}

#[test]
fn two_over_long_lines_in_a_row() {
    let mut input = line(MAX + 1, b'x');
    input.push(b'\n');
    input.extend_from_slice(&line(3 * MAX, b'y'));
    input.extend_from_slice(b"\nfine\n");
    for mode in MODES {
        for chunk in [1, 9, input.len()] {
            let out = feed(&mut LineDecoder::new(MAX), input.chunks(chunk), mode);
            assert_eq!(out.lines(), vec![b"fine".to_vec()], "chunk {chunk}");
            assert_eq!(out.errors().len(), 2, "chunk {chunk}");
        }
    }
}
