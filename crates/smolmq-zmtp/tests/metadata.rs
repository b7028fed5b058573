//! Metadata: ordered, case-insensitive properties with checked limits.

use bytes::{Bytes, BytesMut};
use smolmq_zmtp::{Metadata, MetadataError, SocketType};

#[test]
fn names_are_case_insensitive_and_order_is_kept() {
    let mut md = Metadata::new();
    md.insert("Socket-Type", "SUB").unwrap();
    md.insert("Identity", "me").unwrap();
    md.insert("X-App", "1").unwrap();
    assert_eq!(md.get("socket-type").unwrap(), "SUB");
    assert_eq!(md.get("IDENTITY").unwrap(), "me");
    assert_eq!(md.identity().unwrap(), "me");
    assert_eq!(md.socket_type(), Some(Ok(SocketType::Sub)));

    // Replacing keeps the position and returns the old value.
    assert_eq!(
        md.insert("SOCKET-TYPE", "XSUB").unwrap(),
        Some(Bytes::from_static(b"SUB"))
    );
    let names: Vec<&[u8]> = md.iter().map(|(n, _)| n).collect();
    assert_eq!(names, [&b"Socket-Type"[..], b"Identity", b"X-App"]);
    assert_eq!(md.len(), 3);

    assert_eq!(md.remove("x-app").unwrap(), "1");
    assert_eq!(md.get("X-App"), None);
    assert_eq!(md.len(), 2);
}

#[test]
fn insert_checks_names_and_values() {
    let mut md = Metadata::new();
    for bad in ["", "has space", "semi;colon", "ümlaut"] {
        assert!(
            matches!(md.insert(bad, "v"), Err(MetadataError::InvalidName { .. })),
            "{bad:?}"
        );
    }
    let long = "a".repeat(256);
    assert!(md.insert(long, "v").is_err());
    md.insert("a".repeat(255), "v").unwrap();
    md.insert("A-z_0.9+", "v").unwrap();
    let err = md.insert("", "v").unwrap_err();
    assert!(err.to_string().contains("invalid metadata name"), "{err}");
}

#[test]
fn encode_and_decode_round_trip() {
    let mut md = Metadata::new();
    md.insert("Socket-Type", "PAIR").unwrap();
    md.insert("Empty", "").unwrap();
    md.insert("X-Big", vec![9u8; 1000]).unwrap();
    let mut out = BytesMut::new();
    md.encode(&mut out);
    assert_eq!(out.len(), md.encoded_len());
    assert_eq!(&out[..16], b"\x0bSocket-Type\0\0\0\x04");
    let back = Metadata::decode(out.freeze()).unwrap();
    assert_eq!(back, md);
    assert_eq!(Metadata::decode(Bytes::new()).unwrap(), Metadata::new());
}

#[test]
fn decoding_keeps_unusual_names_and_duplicates() {
    let md = Metadata::decode(Bytes::from_static(b"\x03a b\0\0\0\x01x\x03A B\0\0\0\x01y")).unwrap();
    assert_eq!(md.len(), 2);
    assert_eq!(md.get("a b").unwrap(), "x", "the first of two wins");
}

#[test]
fn unknown_socket_type_values_are_reported() {
    let mut md = Metadata::new();
    md.insert("Socket-Type", "BOGUS").unwrap();
    let err = md.socket_type().unwrap().unwrap_err();
    assert_eq!(err.name(), b"BOGUS");
    assert_eq!(Metadata::new().socket_type(), None);
}
