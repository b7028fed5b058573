//! UTF-8 validation: invalid lines are refused one by one, valid multi-byte
//! text split across reads is fine, and validation can be turned off.

mod common;

use common::{feed, feed_all, MODES};
use smolmq_jsonl::{LineDecoder, LineError};

#[test]
fn validation_is_on_by_default() {
    assert!(LineDecoder::default().utf8_validation());
}

#[test]
fn invalid_line_is_refused_and_its_neighbours_kept() {
    let input = b"ok1\n{\"x\":\"\xFF\xFE\"}\nok2\n";
    for mode in MODES {
        let out = feed_all(&mut LineDecoder::default(), input, mode);
        assert_eq!(
            out.lines(),
            vec![b"ok1".to_vec(), b"ok2".to_vec()],
            "{mode:?}"
        );
        assert_eq!(
            out.errors(),
            vec![LineError::InvalidUtf8 {
                offset: 4,
                valid_up_to: 6,
                len: 10
            }]
        );
    }
}

#[test]
fn truncated_sequences_and_overlongs_are_refused() {
    let bad: [&[u8]; 5] = [
        b"\xC3",             // truncated two-byte sequence
        b"\xE2\x82",         // truncated three-byte sequence
        b"\xC0\xAF",         // overlong encoding of '/'
        b"\xED\xA0\x80",     // UTF-16 surrogate
        b"\xF4\x90\x80\x80", // beyond U+10FFFF
    ];
    for line in bad {
        let mut input = line.to_vec();
        input.extend_from_slice(b"\r\nafter\n");
        let out = feed_all(&mut LineDecoder::default(), &input, MODES[1]);
        assert_eq!(out.lines(), vec![b"after".to_vec()], "{line:?}");
        match &out.errors()[..] {
            [LineError::InvalidUtf8 {
                offset: 0,
                valid_up_to: 0,
                len,
            }] => {
                assert_eq!(*len, line.len(), "the \\r is not part of the line")
            }
            other => panic!("{line:?}: {other:?}"),
        }
    }
}

#[test]
fn multibyte_characters_split_across_reads() {
    let input = "{\"m\":\"日本語 ✓ 𝄞\"}\n".as_bytes();
    for mode in MODES {
        let out = feed(&mut LineDecoder::default(), input.chunks(1), mode);
        assert_eq!(out.lines(), vec![input[..input.len() - 1].to_vec()]);
        assert!(out.errors().is_empty());
    }
}

#[test]
fn unterminated_invalid_line_at_eof() {
    let mut decoder = LineDecoder::default();
    let mut buf = bytes::BytesMut::from(&b"\xFF"[..]);
    assert!(matches!(
        decoder.decode_eof(&mut buf),
        Err(LineError::InvalidUtf8 {
            offset: 0,
            valid_up_to: 0,
            len: 1
        })
    ));
}

#[test]
fn validation_off_passes_bytes_through() {
    let mut decoder = LineDecoder::default();
    decoder.set_utf8_validation(false);
    assert!(!decoder.utf8_validation());
    let out = feed_all(&mut decoder, b"\xFF\xFE\n", MODES[0]);
    assert_eq!(out.lines(), vec![b"\xFF\xFE".to_vec()]);
}

#[test]
fn error_message_says_where() {
    let e = LineError::InvalidUtf8 {
        offset: 10,
        valid_up_to: 3,
        len: 8,
    };
    let text = e.to_string();
    assert!(
        text.contains("offset 10") && text.contains("byte 3"),
        "{text}"
    );
    let e = LineError::TooLong {
        max: 5,
        seen: 9,
        offset: 0,
    };
    let text = e.to_string();
    assert!(
        text.contains("9 bytes") && text.contains("maximum is 5"),
        "{text}"
    );
}
