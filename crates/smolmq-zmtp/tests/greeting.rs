//! The 64-byte greeting: exact bytes, incremental decoding, early refusal.

use bytes::BytesMut;
use smolmq_zmtp::{Greeting, GreetingDecoder, GreetingError, Mechanism, Version, GREETING_LEN};

/// A greeting as a peer would send it, with the given version, mechanism
/// and as-server byte.
fn greeting_bytes(major: u8, minor: u8, mechanism: &[u8], as_server: u8) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[8] = 1; // libzmq's padding: identity length + 1
    g[9] = 0x7F;
    g[10] = major;
    g[11] = minor;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism);
    g[32] = as_server;
    g
}

#[test]
fn our_greeting_bytes_are_exact() {
    let null = Greeting::new(Mechanism::Null, false).to_bytes();
    let mut expected = [0u8; 64];
    expected[0] = 0xFF;
    expected[9] = 0x7F;
    expected[10] = 3;
    expected[11] = 1;
    expected[12..16].copy_from_slice(b"NULL");
    assert_eq!(null, expected);

    let plain_server = Greeting::new(Mechanism::Plain, true).to_bytes();
    expected[12..17].copy_from_slice(b"PLAIN");
    expected[32] = 1;
    assert_eq!(plain_server, expected);

    let mut out = BytesMut::new();
    Greeting::new(Mechanism::Curve, false).encode(&mut out);
    assert_eq!(out.len(), GREETING_LEN);
    assert_eq!(&out[12..18], b"CURVE\0");
}

#[test]
fn decodes_a_greeting_fed_one_byte_at_a_time() {
    let bytes = greeting_bytes(3, 1, b"PLAIN", 1);
    let mut decoder = GreetingDecoder::new();
    let mut input = BytesMut::new();
    for (i, &b) in bytes.iter().enumerate() {
        input.extend_from_slice(&[b]);
        let result = decoder.decode(&mut input).unwrap();
        assert!(input.is_empty(), "byte {i} consumed");
        assert_eq!(decoder.received(), i + 1);
        if i < 63 {
            assert_eq!(result, None, "incomplete at byte {i}");
        } else {
            assert_eq!(
                result,
                Some(Greeting {
                    version: Version::V3_1,
                    mechanism: Mechanism::Plain,
                    as_server: true,
                })
            );
        }
    }
}

#[test]
fn leaves_bytes_after_the_greeting_in_the_buffer() {
    let mut bytes = greeting_bytes(3, 1, b"NULL", 0);
    bytes.extend_from_slice(b"\x04\x06\x05READY");
    let mut input = BytesMut::from(&bytes[..]);
    let greeting = GreetingDecoder::new().decode(&mut input).unwrap().unwrap();
    assert_eq!(greeting.mechanism, Mechanism::Null);
    assert_eq!(&input[..], b"\x04\x06\x05READY");
}

#[test]
fn garbage_fails_at_the_first_byte() {
    for first in [0x00u8, 0x01, b'G', 0x7F, 0xFE] {
        let mut decoder = GreetingDecoder::new();
        let mut input = BytesMut::from(&[first][..]);
        assert_eq!(
            decoder.decode(&mut input),
            Err(GreetingError::BadSignature {
                offset: 0,
                byte: first
            })
        );
    }
}

#[test]
fn a_zmtp_1_0_long_identity_fails_at_byte_9() {
    // 0xFF, 8-byte length, then a flags byte with bit 0 clear: ZMTP 1.0.
    let mut decoder = GreetingDecoder::new();
    let mut input = BytesMut::from(&b"\xff\0\0\0\0\0\0\x01\x01\x00"[..]);
    let err = decoder.decode(&mut input).unwrap_err();
    assert_eq!(err, GreetingError::BadSignature { offset: 9, byte: 0 });
    assert!(err.to_string().contains("byte 9"), "{err}");
}

#[test]
fn padding_is_not_significant() {
    let mut bytes = greeting_bytes(3, 1, b"NULL", 0);
    bytes[1..9].copy_from_slice(b"\xde\xad\xbe\xef\x01\x02\x03\x04");
    let mut input = BytesMut::from(&bytes[..]);
    assert!(GreetingDecoder::new().decode(&mut input).unwrap().is_some());
}

#[test]
fn zmtp_2_and_older_are_refused_at_the_major_version_byte() {
    for major in [0u8, 1, 2] {
        let bytes = greeting_bytes(major, 0, b"NULL", 0);
        let mut decoder = GreetingDecoder::new();
        // Only the signature and the major byte: enough to decide.
        let mut input = BytesMut::from(&bytes[..11]);
        let err = decoder.decode(&mut input).unwrap_err();
        assert_eq!(err, GreetingError::UnsupportedVersion { major });
        assert!(
            err.to_string().contains(&format!("version {major}")),
            "{err}"
        );
    }
}

#[test]
fn zmtp_3_0_and_higher_versions_are_accepted() {
    for (major, minor, negotiated) in [
        (3, 0, Version::V3_0),
        (3, 1, Version::V3_1),
        (3, 2, Version::V3_1),
        (4, 0, Version::V3_1),
        (255, 255, Version::V3_1),
    ] {
        let mut input = BytesMut::from(&greeting_bytes(major, minor, b"NULL", 0)[..]);
        let greeting = GreetingDecoder::new().decode(&mut input).unwrap().unwrap();
        assert_eq!(greeting.version, Version { major, minor });
        assert_eq!(greeting.version.negotiated(), negotiated);
    }
    assert!(!Version::V3_0.has_3_1_commands());
    assert!(Version::V3_1.has_3_1_commands());
}

#[test]
fn mechanism_names_are_checked_as_they_arrive() {
    // A lower-case letter is not a mechanism character.
    let mut bytes = greeting_bytes(3, 1, b"NULL", 0);
    bytes[13] = b'u';
    let mut input = BytesMut::from(&bytes[..14]);
    assert_eq!(
        GreetingDecoder::new().decode(&mut input),
        Err(GreetingError::BadMechanism {
            offset: 13,
            byte: b'u'
        })
    );
    // A character after the zero padding started.
    let mut bytes = greeting_bytes(3, 1, b"NULL", 0);
    bytes[17] = b'X';
    let mut input = BytesMut::from(&bytes[..]);
    assert_eq!(
        GreetingDecoder::new().decode(&mut input),
        Err(GreetingError::BadMechanism {
            offset: 17,
            byte: b'X'
        })
    );
}

#[test]
fn mechanisms_are_recognised() {
    for (name, mechanism) in [
        (&b"NULL"[..], Mechanism::Null),
        (b"PLAIN", Mechanism::Plain),
        (b"CURVE", Mechanism::Curve),
    ] {
        let mut input = BytesMut::from(&greeting_bytes(3, 1, name, 0)[..]);
        let greeting = GreetingDecoder::new().decode(&mut input).unwrap().unwrap();
        assert_eq!(greeting.mechanism, mechanism);
        assert_eq!(mechanism.to_string().as_bytes(), name);
    }
    let mut input = BytesMut::from(&greeting_bytes(3, 1, b"GSSAPI", 0)[..]);
    let greeting = GreetingDecoder::new().decode(&mut input).unwrap().unwrap();
    assert!(matches!(greeting.mechanism, Mechanism::Other(_)));
    assert_eq!(greeting.mechanism.to_string(), "GSSAPI");
}

#[test]
fn as_server_must_be_zero_or_one() {
    let bytes = greeting_bytes(3, 1, b"NULL", 2);
    let mut input = BytesMut::from(&bytes[..33]);
    assert_eq!(
        GreetingDecoder::new().decode(&mut input),
        Err(GreetingError::BadAsServer { byte: 2 })
    );
}
