//! Lines split across reads at every possible point, byte by byte, and many
//! lines in one buffer.

mod common;

use bytes::{Bytes, BytesMut};
use common::{feed, feed_all, Mode, MODES};
use smolmq_jsonl::LineDecoder;

/// A stream with LF and CRLF endings, empty lines and multi-byte UTF-8.
const STREAM: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}\n\
\r\n\
{\"id\":\"\xC3\xA9t\xC3\xA9\"}\r\n\
\n\
x\n\
{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"p\":0.5}}\n";

/// The messages in `STREAM`, in order.
fn expected() -> Vec<Vec<u8>> {
    vec![
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}".to_vec(),
        "{\"id\":\"été\"}".as_bytes().to_vec(),
        b"x".to_vec(),
        b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"p\":0.5}}"
            .to_vec(),
    ]
}

#[test]
fn whole_stream_in_one_buffer() {
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::default(), STREAM, mode);
        assert_eq!(out.lines(), expected(), "{mode:?}");
        assert!(out.errors().is_empty());
        assert_eq!(out.leftover, 0);
    }
}

#[test]
fn every_single_split_point() {
    for mode in MODES {
        for cut in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(cut);
            let out = feed(&mut LineDecoder::default(), [a, b], mode);
            assert_eq!(out.lines(), expected(), "cut at {cut}, {mode:?}");
            assert!(out.errors().is_empty(), "cut at {cut}");
            assert_eq!(out.leftover, 0);
        }
    }
}

#[test]
fn every_pair_of_split_points() {
    for mode in MODES {
        for i in 0..=STREAM.len() {
            for j in i..=STREAM.len() {
                let chunks = [&STREAM[..i], &STREAM[i..j], &STREAM[j..]];
                let out = feed(&mut LineDecoder::default(), chunks, mode);
                assert_eq!(out.lines(), expected(), "cuts at {i} and {j}, {mode:?}");
            }
        }
    }
}

#[test]
fn byte_by_byte() {
    for mode in MODES {
        let out = feed(&mut LineDecoder::default(), STREAM.chunks(1), mode);
        assert_eq!(out.lines(), expected(), "{mode:?}");
        assert_eq!(out.leftover, 0);
    }
}

#[test]
fn partial_tail_waits_for_the_next_read() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"one\ntwo\nthr"[..]);
    let mut lines = Vec::new();
    assert_eq!(decoder.decode_batch(&mut buf, &mut lines).unwrap(), 2);
    assert_eq!(lines, [&b"one"[..], &b"two"[..]]);
    assert_eq!(&buf[..], b"thr");
    buf.extend_from_slice(b"ee\n");
    assert_eq!(decoder.decode_batch(&mut buf, &mut lines).unwrap(), 1);
    assert_eq!(lines[2], &b"three"[..]);
    assert!(buf.is_empty());
    assert_eq!(decoder.position(), 14);
}

#[test]
fn many_lines_in_one_buffer() {
    let mut input = Vec::new();
    let mut want = Vec::new();
    for i in 0..10_000u32 {
        let line = format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"result\":{{}}}}");
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
        want.push(line.into_bytes());
    }
    let mut buf = BytesMut::from(&input[..]);
    let mut lines = Vec::new();
    let n = LineDecoder::default()
        .decode_batch(&mut buf, &mut lines)
        .unwrap();
    assert_eq!(n, 10_000);
    assert!(buf.is_empty());
    let got: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
    assert_eq!(got, want);
}

#[test]
fn batch_appends_after_existing_lines() {
    let mut out = vec![Bytes::from_static(b"earlier")];
    let mut buf = BytesMut::from(&b"a\nb\n"[..]);
    let n = LineDecoder::default()
        .decode_batch(&mut buf, &mut out)
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(out, [&b"earlier"[..], &b"a"[..], &b"b"[..]]);
}

#[test]
fn lines_share_the_read_buffer() {
    let mut buf = BytesMut::with_capacity(64);
    buf.extend_from_slice(b"hello\nworld\n");
    let base = buf.as_ptr() as usize;
    let mut decoder = LineDecoder::default();
    let hello = decoder.decode(&mut buf).unwrap().unwrap();
    let world = decoder.decode(&mut buf).unwrap().unwrap();
    assert_eq!(hello.as_ptr() as usize, base, "no copy");
    assert_eq!(world.as_ptr() as usize, base + 6, "no copy");
}

#[test]
fn one_by_one_and_batch_agree_on_a_long_line_in_pieces() {
    let line = vec![b'a'; 100_000];
    let mut input = line.clone();
    input.push(b'\n');
    for mode in [Mode::OneByOne, Mode::Batch] {
        let out = feed(&mut LineDecoder::new(100_000), input.chunks(997), mode);
        assert_eq!(out.lines(), vec![line.clone()], "{mode:?}");
    }
}
