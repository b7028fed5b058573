//! Subscriptions in both wire forms: ZMTP 3.0's subscription messages
//! (a single frame whose first byte is 1 to subscribe, 0 to cancel) and
//! ZMTP 3.1's SUBSCRIBE / CANCEL commands.

use crate::command::Command;
use crate::encoder::Encoder;
use crate::frame::Frame;
use crate::greeting::Version;
use bytes::{BufMut, Bytes, BytesMut};

/// A subscription change sent by a SUB or XSUB peer.
///
/// ```
/// use bytes::Bytes;
/// use smolmq_zmtp::{Encoder, Subscription, Version};
///
/// let sub = Subscription::Subscribe(Bytes::from_static(b"weather"));
/// assert_eq!(&sub.to_message()[..], b"\x01weather");
///
/// // To a 3.0 peer a subscription is a message, to a 3.1 peer a command.
/// let mut enc = Encoder::default();
/// sub.encode(&mut enc, Version::V3_0);
/// sub.encode(&mut enc, Version::V3_1);
/// let wire: Vec<u8> = enc.chunks().flatten().copied().collect();
/// assert_eq!(&wire[..10], b"\x00\x08\x01weather");
/// assert_eq!(&wire[10..], b"\x04\x11\x09SUBSCRIBEweather");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Subscribe to messages starting with the topic.
    Subscribe(Bytes),
    /// Cancel one earlier subscription to the topic.
    Cancel(Bytes),
}

impl Subscription {
    /// The topic prefix.
    pub fn topic(&self) -> &Bytes {
        match self {
            Subscription::Subscribe(t) | Subscription::Cancel(t) => t,
        }
    }

    /// The ZMTP 3.0 subscription message body: 1 or 0, then the topic.
    pub fn to_message(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(1 + self.topic().len());
        out.put_u8(u8::from(matches!(self, Subscription::Subscribe(_))));
        out.put_slice(self.topic());
        out.freeze()
    }

    /// Recognises a ZMTP 3.0 subscription message body (first byte 1 or 0);
    /// the topic is a slice of `body`. `None` for anything else, including
    /// an empty body.
    pub fn from_message(body: &Bytes) -> Option<Subscription> {
        match body.first()? {
            1 => Some(Subscription::Subscribe(body.slice(1..))),
            0 => Some(Subscription::Cancel(body.slice(1..))),
            _ => None,
        }
    }

    /// The ZMTP 3.1 command.
    pub fn to_command(&self) -> Command {
        match self {
            Subscription::Subscribe(t) => Command::Subscribe(t.clone()),
            Subscription::Cancel(t) => Command::Cancel(t.clone()),
        }
    }

    /// Recognises a SUBSCRIBE or CANCEL command.
    pub fn from_command(command: &Command) -> Option<Subscription> {
        match command {
            Command::Subscribe(t) => Some(Subscription::Subscribe(t.clone())),
            Command::Cancel(t) => Some(Subscription::Cancel(t.clone())),
            _ => None,
        }
    }

    /// Recognises a subscription in either form: a SUBSCRIBE / CANCEL
    /// command frame, or a single-frame message (no MORE flag) starting
    /// with 1 or 0. A publisher should accept both whatever the peer's
    /// version, as libzmq does. The caller decides whether the frame starts
    /// a message (a continuation frame is never a subscription).
    pub fn from_frame(frame: &Frame) -> Option<Subscription> {
        if frame.command {
            let command = Command::decode(frame.body.clone()).ok()?;
            Subscription::from_command(&command)
        } else if frame.more {
            None
        } else {
            Subscription::from_message(&frame.body)
        }
    }

    /// Adds the subscription to `encoder` in the form the peer's announced
    /// `version` calls for: a command for 3.1 and later, a message for 3.0.
    pub fn encode(&self, encoder: &mut Encoder, peer_version: Version) {
        if peer_version.negotiated().has_3_1_commands() {
            // SUBSCRIBE and CANCEL have no limited field: cannot fail.
            let res = encoder.command(&self.to_command());
            debug_assert!(res.is_ok(), "{res:?}");
        } else {
            let body = self.to_message();
            encoder.frame(&body, false);
        }
    }
}
