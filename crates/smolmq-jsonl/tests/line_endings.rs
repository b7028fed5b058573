//! CRLF, empty lines, the byte order mark at stream start, and the end of
//! the stream.

mod common;

use bytes::BytesMut;
use common::{feed, feed_all, MODES};
use smolmq_jsonl::LineDecoder;

#[test]
fn crlf_and_lf_mixed() {
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::default(), b"a\r\nb\nc\r\n", mode);
        assert_eq!(
            out.lines(),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
        );
    }
}

#[test]
fn only_one_carriage_return_is_stripped() {
    let out = feed_all(&mut LineDecoder::default(), b"a\r\r\n", MODES[0]);
    assert_eq!(out.lines(), vec![b"a\r".to_vec()]);
}

#[test]
fn carriage_return_inside_a_line_is_kept() {
    let out = feed_all(&mut LineDecoder::default(), b"a\rb\n", MODES[1]);
    assert_eq!(out.lines(), vec![b"a\rb".to_vec()]);
}

#[test]
fn empty_lines_are_skipped() {
    for mode in MODES {
        let out = feed_all(
            &mut LineDecoder::default(),
            b"\n\n\r\na\n\r\n\n\nb\n\r\n",
            mode,
        );
        assert_eq!(out.lines(), vec![b"a".to_vec(), b"b".to_vec()], "{mode:?}");
        assert!(out.errors().is_empty());
        assert_eq!(out.leftover, 0);
    }
}

#[test]
fn only_empty_lines_give_nothing() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"\n\r\n\n"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty(), "empty lines are consumed");
    assert_eq!(decoder.position(), 4);
}

#[test]
fn bom_at_stream_start_is_skipped() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\n{\"b\":2}\n";
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::default(), input, mode);
        assert_eq!(
            out.lines(),
            vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]
        );
    }
}

#[test]
fn bom_split_across_reads_is_skipped() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\n";
    for mode in MODES {
        for i in 0..=4 {
            for j in i..=4 {
                let chunks = [&input[..i], &input[i..j], &input[j..]];
                let out = feed(&mut LineDecoder::default(), chunks, mode);
                assert_eq!(out.lines(), vec![b"{\"a\":1}".to_vec()], "cuts {i} {j}");
            }
        }
    }
}

#[test]
fn bom_alone_then_a_line() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"\xEF\xBB\xBF"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
    assert_eq!(decoder.position(), 3);
    buf.extend_from_slice(b"x\n");
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"x"[..]);
}

#[test]
fn bom_mid_stream_is_data() {
    let input = "a\n\u{FEFF}b\n".as_bytes();
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::default(), input, mode);
        assert_eq!(
            out.lines(),
            vec![b"a".to_vec(), "\u{FEFF}b".as_bytes().to_vec()]
        );
    }
}

#[test]
fn bom_after_an_empty_line_is_data() {
    let out = feed_all(
        &mut LineDecoder::default(),
        "\n\u{FEFF}b\n".as_bytes(),
        MODES[1],
    );
    assert_eq!(out.lines(), vec!["\u{FEFF}b".as_bytes().to_vec()]);
}

#[test]
fn only_one_bom_is_skipped() {
    let input = "\u{FEFF}\u{FEFF}x\n".as_bytes();
    let out = feed_all(&mut LineDecoder::default(), input, MODES[0]);
    assert_eq!(out.lines(), vec!["\u{FEFF}x".as_bytes().to_vec()]);
}

#[test]
fn bom_prefix_that_is_not_a_bom_is_data() {
    // EF BB then a newline: a two-byte line, which is not UTF-8.
    let mut decoder = LineDecoder::default();
    decoder.set_utf8_validation(false);
    let out = feed(&mut decoder, [&b"\xEF"[..], b"\xBB", b"\n"], MODES[0]);
    assert_eq!(out.lines(), vec![b"\xEF\xBB".to_vec()]);
}

#[test]
fn reset_skips_a_bom_again() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"\xEF\xBB\xBFa\n"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
    decoder.reset();
    assert_eq!(decoder.position(), 0);
    buf.extend_from_slice(b"\xEF\xBB\xBFb\n");
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), &b"b"[..]);
}

#[test]
fn eof_returns_the_unterminated_last_line() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"a\nlast\r"[..]);
    assert_eq!(decoder.decode_eof(&mut buf).unwrap().unwrap(), &b"a"[..]);
    assert_eq!(decoder.decode_eof(&mut buf).unwrap().unwrap(), &b"last"[..]);
    assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
}

#[test]
fn eof_drops_the_rest_of_an_over_long_line() {
    let mut decoder = LineDecoder::new(4);
    let mut buf = BytesMut::from(&b"toolong"[..]);
    assert!(decoder.decode_eof(&mut buf).is_err());
    buf.extend_from_slice(b"more");
    assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
    assert!(!decoder.is_discarding());
}

#[test]
fn eof_with_nothing_left() {
    let mut decoder = LineDecoder::default();
    let mut buf = BytesMut::from(&b"\r"[..]);
    assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
}

#[test]
fn bom_prefix_waits_even_with_a_zero_maximum() {
    let mut decoder = LineDecoder::new(0);
    let mut buf = BytesMut::from(&b"\xEF\xBB"[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(buf.len(), 2, "may still be a byte order mark");
    buf.extend_from_slice(b"\xBF\n");
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty());
    assert_eq!(decoder.position(), 4);
}
