//! Subscriptions: ZMTP 3.0 messages and 3.1 commands, chosen by version.

use bytes::{Bytes, BytesMut};
use smolmq_zmtp::{Command, Encoder, Frame, FrameDecoder, Subscription, Version};

/// Encodes `sub` for a peer of `version` and decodes the single frame.
fn wire_frame(sub: &Subscription, version: Version) -> Frame {
    let mut enc = Encoder::default();
    sub.encode(&mut enc, version);
    let mut input = BytesMut::new();
    for chunk in enc.chunks() {
        input.extend_from_slice(chunk);
    }
    let frame = FrameDecoder::new(1024).decode(&mut input).unwrap().unwrap();
    assert!(input.is_empty(), "exactly one frame");
    frame
}

#[test]
fn the_3_0_message_form_is_exact() {
    let sub = Subscription::Subscribe(Bytes::from_static(b"A"));
    let cancel = Subscription::Cancel(Bytes::from_static(b"A"));
    assert_eq!(&sub.to_message()[..], b"\x01A");
    assert_eq!(&cancel.to_message()[..], b"\x00A");
    assert_eq!(
        Subscription::from_message(&Bytes::from_static(b"\x01A")),
        Some(sub)
    );
    assert_eq!(
        Subscription::from_message(&Bytes::from_static(b"\x00A")),
        Some(cancel)
    );
    assert_eq!(
        Subscription::from_message(&Bytes::from_static(b"\x01")),
        Some(Subscription::Subscribe(Bytes::new())),
        "the empty topic subscribes to everything"
    );
    assert_eq!(
        Subscription::from_message(&Bytes::from_static(b"\x02A")),
        None
    );
    assert_eq!(Subscription::from_message(&Bytes::new()), None);
}

#[test]
fn the_form_follows_the_peer_version() {
    let sub = Subscription::Subscribe(Bytes::from_static(b"news"));
    let old = wire_frame(&sub, Version::V3_0);
    assert!(!old.command && !old.more);
    assert_eq!(&old.body[..], b"\x01news");

    for version in [Version::V3_1, Version { major: 4, minor: 0 }] {
        let new = wire_frame(&sub, version);
        assert!(new.command);
        assert_eq!(&new.body[..], b"\x09SUBSCRIBEnews");
    }

    let cancel = Subscription::Cancel(Bytes::from_static(b"news"));
    let new = wire_frame(&cancel, Version::V3_1);
    assert_eq!(
        new.into_command(),
        Ok(Command::Cancel(Bytes::from_static(b"news")))
    );
}

#[test]
fn from_frame_recognises_both_forms() {
    let sub = Subscription::Cancel(Bytes::from_static(b"x"));
    for version in [Version::V3_0, Version::V3_1] {
        assert_eq!(
            Subscription::from_frame(&wire_frame(&sub, version)),
            Some(sub.clone())
        );
    }
    // A frame with MORE set is not a subscription message.
    let frame = Frame::message(Bytes::from_static(b"\x01x"), true);
    assert_eq!(Subscription::from_frame(&frame), None);
    // Other commands are not subscriptions.
    let ping = Frame {
        more: false,
        command: true,
        body: Command::Ping {
            ttl: 0,
            context: Bytes::new(),
        }
        .to_body()
        .unwrap(),
    };
    assert_eq!(Subscription::from_frame(&ping), None);
    assert_eq!(Subscription::from_command(&sub.to_command()), Some(sub));
}
