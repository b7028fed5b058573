//! Commands: exact byte layouts from RFC 37 / RFC 24, decoding, limits.

use bytes::{Bytes, BytesMut};
use smolmq_zmtp::{Command, CommandError, Frame, Metadata, MetadataError};

/// The whole command frame as bytes.
fn frame_bytes(command: &Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    command.encode_frame(&mut out).unwrap();
    out.to_vec()
}

/// Encodes, checks the bytes, and checks that they decode back.
fn assert_layout(command: Command, expected: &[u8]) {
    assert_eq!(frame_bytes(&command), expected, "{command:?}");
    let body = Bytes::copy_from_slice(&expected[2..]);
    assert_eq!(Command::decode(body), Ok(command));
}

#[test]
fn ready_matches_the_rfc_worked_example() {
    // RFC 37, "Worked Example": a DEALER with an empty Identity.
    let mut md = Metadata::new();
    md.insert("Socket-Type", "DEALER").unwrap();
    md.insert("Identity", "").unwrap();
    let mut expected = vec![0x04, 41, 5];
    expected.extend_from_slice(b"READY");
    expected.push(11);
    expected.extend_from_slice(b"Socket-Type");
    expected.extend_from_slice(&[0, 0, 0, 6]);
    expected.extend_from_slice(b"DEALER");
    expected.push(8);
    expected.extend_from_slice(b"Identity");
    expected.extend_from_slice(&[0, 0, 0, 0]);
    assert_layout(Command::Ready(md), &expected);

    // And the ROUTER's reply: Socket-Type only, 28 bytes.
    let mut md = Metadata::new();
    md.insert("Socket-Type", "ROUTER").unwrap();
    let bytes = frame_bytes(&Command::Ready(md));
    assert_eq!(&bytes[..2], &[0x04, 28]);
    assert_eq!(&bytes[bytes.len() - 10..], b"\0\0\0\x06ROUTER");
}

#[test]
fn ready_with_an_identity_is_exact() {
    let mut md = Metadata::new();
    md.insert("Socket-Type", "REQ").unwrap();
    md.insert("Identity", "client-7").unwrap();
    let mut expected = vec![0x04, 6 + 1 + 11 + 4 + 3 + 1 + 8 + 4 + 8, 5];
    expected.extend_from_slice(b"READY\x0bSocket-Type\0\0\0\x03REQ\x08Identity\0\0\0\x08client-7");
    assert_layout(Command::Ready(md), &expected);
}

#[test]
fn ping_pong_subscribe_cancel_are_exact() {
    assert_layout(
        Command::Ping {
            ttl: 0x0102,
            context: Bytes::from_static(b"ctx"),
        },
        b"\x04\x0a\x04PING\x01\x02ctx",
    );
    assert_layout(
        Command::Ping {
            ttl: 0,
            context: Bytes::new(),
        },
        b"\x04\x07\x04PING\x00\x00",
    );
    assert_layout(
        Command::Pong {
            context: Bytes::from_static(b"ctx"),
        },
        b"\x04\x08\x04PONGctx",
    );
    assert_layout(
        Command::Subscribe(Bytes::from_static(b"A")),
        b"\x04\x0b\x09SUBSCRIBEA",
    );
    assert_layout(Command::Subscribe(Bytes::new()), b"\x04\x0a\x09SUBSCRIBE");
    assert_layout(
        Command::Cancel(Bytes::from_static(b"topic")),
        b"\x04\x0c\x06CANCELtopic",
    );
}

#[test]
fn error_and_plain_commands_are_exact() {
    assert_layout(Command::error("no"), b"\x04\x09\x05ERROR\x02no");
    assert_layout(
        Command::Hello {
            username: Bytes::from_static(b"admin"),
            password: Bytes::from_static(b"secret"),
        },
        b"\x04\x13\x05HELLO\x05admin\x06secret",
    );
    assert_layout(Command::Welcome, b"\x04\x08\x07WELCOME");
    let mut md = Metadata::new();
    md.insert("Socket-Type", "PUSH").unwrap();
    assert_layout(
        Command::Initiate(md),
        b"\x04\x1d\x08INITIATE\x0bSocket-Type\0\0\0\x04PUSH",
    );
}

#[test]
fn large_commands_use_the_long_form() {
    let mut md = Metadata::new();
    md.insert("X-Blob", vec![b'x'; 300]).unwrap();
    let bytes = frame_bytes(&Command::Ready(md.clone()));
    let body_len = 6 + 1 + 6 + 4 + 300;
    assert_eq!(bytes[0], 0x06);
    assert_eq!(&bytes[1..9], &(body_len as u64).to_be_bytes());
    assert_eq!(bytes.len(), 9 + body_len);
    let frame = Frame {
        more: false,
        command: true,
        body: Bytes::copy_from_slice(&bytes[9..]),
    };
    assert_eq!(frame.into_command(), Ok(Command::Ready(md)));
}

#[test]
fn unknown_commands_are_kept() {
    let body = Bytes::from_static(b"\x04JOINgroup");
    let command = Command::decode(body).unwrap();
    assert_eq!(
        command,
        Command::Unknown {
            name: Bytes::from_static(b"JOIN"),
            body: Bytes::from_static(b"group"),
        }
    );
    assert_eq!(command.name(), b"JOIN");
    assert_eq!(frame_bytes(&command), b"\x04\x0a\x04JOINgroup");
}

#[test]
fn error_reasons_are_cut_to_255_bytes_at_a_char_boundary() {
    let long = "é".repeat(200); // 400 bytes
    let Command::Error { reason } = Command::error(&long) else {
        unreachable!()
    };
    assert_eq!(reason.len(), 254);
    // A 261-byte body: the long form.
    assert_eq!(frame_bytes(&Command::error(&long)).len(), 9 + 6 + 1 + 254);
}

#[test]
fn malformed_commands_are_errors() {
    let cases: &[(&[u8], CommandError)] = &[
        (b"", CommandError::MissingName),
        (b"\x00READY", CommandError::MissingName),
        (
            b"\x05REA",
            CommandError::Truncated {
                command: "command",
                needed: 6,
                available: 4,
            },
        ),
        (
            b"\x04PING\x01",
            CommandError::Truncated {
                command: "PING",
                needed: 2,
                available: 1,
            },
        ),
        (
            b"\x04PING\x00\x00aaaaaaaaaaaaaaaaa",
            CommandError::PingContextTooLong { len: 17 },
        ),
        (
            b"\x04PONGaaaaaaaaaaaaaaaaa",
            CommandError::PingContextTooLong { len: 17 },
        ),
        (
            b"\x05ERROR",
            CommandError::Truncated {
                command: "ERROR",
                needed: 1,
                available: 0,
            },
        ),
        (
            b"\x05ERROR\x05ab",
            CommandError::Truncated {
                command: "ERROR",
                needed: 6,
                available: 3,
            },
        ),
        (
            b"\x05ERROR\x01abc",
            CommandError::TrailingBytes {
                command: "ERROR",
                extra: 2,
            },
        ),
        (
            b"\x07WELCOMEx",
            CommandError::TrailingBytes {
                command: "WELCOME",
                extra: 1,
            },
        ),
        (
            b"\x05HELLO\x01u",
            CommandError::Truncated {
                command: "HELLO",
                needed: 1,
                available: 0,
            },
        ),
        (
            b"\x05READY\x00",
            CommandError::Metadata(MetadataError::EmptyName),
        ),
        (
            b"\x05READY\x04Name\x00\x00\x00\x05abc",
            CommandError::Metadata(MetadataError::Truncated {
                needed: 5,
                available: 3,
            }),
        ),
        (
            b"\x05READY\x04Name\x80\x00\x00\x00",
            CommandError::Metadata(MetadataError::ValueTooLong {
                name: "Name".into(),
                len: 0x8000_0000,
            }),
        ),
    ];
    for (body, expected) in cases {
        let got = Command::decode(Bytes::from_static(body));
        assert_eq!(
            got.as_ref(),
            Err(expected),
            "{:?}",
            body.escape_ascii().to_string()
        );
        assert!(!expected.to_string().is_empty());
    }
}

#[test]
fn message_frames_are_not_commands() {
    let frame = Frame::message(Bytes::from_static(b"\x05READY"), false);
    assert_eq!(frame.into_command(), Err(CommandError::NotACommand));
}

#[test]
fn over_limit_fields_are_refused_on_encoding_and_nothing_is_written() {
    let mut out = BytesMut::new();
    let too_long = Command::Hello {
        username: Bytes::from(vec![b'u'; 256]),
        password: Bytes::new(),
    };
    assert_eq!(
        too_long.encode_frame(&mut out),
        Err(CommandError::FieldTooLong {
            field: "PLAIN user name",
            len: 256
        })
    );
    let ping = Command::Ping {
        ttl: 1,
        context: Bytes::from(vec![0; 17]),
    };
    assert_eq!(
        ping.encode_frame(&mut out),
        Err(CommandError::PingContextTooLong { len: 17 })
    );
    let bad_name = Command::Unknown {
        name: Bytes::from_static(b"NOT-ALPHA"),
        body: Bytes::new(),
    };
    assert!(matches!(
        bad_name.encode_frame(&mut out),
        Err(CommandError::InvalidName { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn decoded_fields_are_slices_of_the_frame() {
    let body = Bytes::from(b"\x09SUBSCRIBEweather".to_vec());
    let start = body.as_ptr() as usize;
    let Command::Subscribe(topic) = Command::decode(body).unwrap() else {
        unreachable!()
    };
    assert_eq!(topic.as_ptr() as usize, start + 10, "no copy");
}
