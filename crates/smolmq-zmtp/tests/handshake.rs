//! The handshake: NULL and PLAIN between two `Handshake`s, at every split
//! point, and against hand-made peers (ZMTP 3.0, garbage, ERROR).

use bytes::{Bytes, BytesMut};
use smolmq_zmtp::{
    Command, ConfigError, DecodeError, Frame, FrameDecoder, GreetingError, Handshake,
    HandshakeConfig, HandshakeError, HandshakeStatus, Mechanism, MechanismConfig, Metadata,
    PeerInfo, SocketType, Version,
};

/// What a run of two handshakes ended with.
#[derive(Debug)]
struct Outcome {
    /// The client's result.
    client: Result<PeerInfo, HandshakeError>,
    /// The server's result.
    server: Result<PeerInfo, HandshakeError>,
}

/// One direction of a connection: bytes sent and how many were delivered.
#[derive(Default)]
struct Link {
    /// Everything sent so far.
    sent: Vec<u8>,
    /// How many of them have been delivered.
    delivered: usize,
}

impl Link {
    /// Delivers into `input`: up to byte `split` of the stream first, then
    /// at most `chunk` bytes at a time.
    fn deliver(&mut self, input: &mut BytesMut, split: usize, chunk: usize) {
        let end = if self.delivered < split {
            split.min(self.sent.len())
        } else {
            self.delivered.saturating_add(chunk).min(self.sent.len())
        };
        input.extend_from_slice(&self.sent[self.delivered..end]);
        self.delivered = end;
    }
}

/// Runs two handshakes against each other. Each direction's byte stream is
/// cut at `split`, and delivered at most `chunk` bytes at a time after it.
fn run(client: HandshakeConfig, server: HandshakeConfig, split: usize, chunk: usize) -> Outcome {
    let mut c = Handshake::new(client).unwrap();
    let mut s = Handshake::new(server).unwrap();
    let (mut c_in, mut s_in) = (BytesMut::new(), BytesMut::new());
    let (mut c_to_s, mut s_to_c) = (Link::default(), Link::default());
    let (mut c_res, mut s_res) = (None, None);
    for _round in 0..2000 {
        let mut out = BytesMut::new();
        c.poll_transmit(&mut out);
        c_to_s.sent.extend_from_slice(&out);
        out.clear();
        s.poll_transmit(&mut out);
        s_to_c.sent.extend_from_slice(&out);
        c_to_s.deliver(&mut s_in, split, chunk);
        s_to_c.deliver(&mut c_in, split, chunk);
        if c_res.is_none() {
            match c.receive(&mut c_in) {
                Ok(HandshakeStatus::InProgress) => {}
                Ok(HandshakeStatus::Done(peer)) => c_res = Some(Ok(peer)),
                Err(e) => c_res = Some(Err(e)),
            }
        }
        if s_res.is_none() {
            match s.receive(&mut s_in) {
                Ok(HandshakeStatus::InProgress) => {}
                Ok(HandshakeStatus::Done(peer)) => s_res = Some(Ok(peer)),
                Err(e) => s_res = Some(Err(e)),
            }
        }
        let idle = c_to_s.delivered == c_to_s.sent.len()
            && s_to_c.delivered == s_to_c.sent.len()
            && !c.has_transmit()
            && !s.has_transmit();
        if c_res.is_some() && s_res.is_some() && idle {
            break;
        }
        // A side that failed while the other waits: nothing more will come.
        if idle && (c_res.is_some() || s_res.is_some()) {
            break;
        }
    }
    Outcome {
        client: c_res.expect("client finished"),
        server: s_res.expect("server finished"),
    }
}

/// Length of what the client sends in a NULL handshake (greeting + READY).
fn null_transcript_len(config: &HandshakeConfig) -> usize {
    let mut h = Handshake::new(config.clone()).unwrap();
    let mut peer = Handshake::new(HandshakeConfig::new(SocketType::Pair)).unwrap();
    let mut out = BytesMut::new();
    peer.poll_transmit(&mut out);
    let _ = h.receive(&mut out);
    let mut sent = BytesMut::new();
    h.poll_transmit(&mut sent);
    sent.len()
}

#[test]
fn null_handshake_between_compatible_types_at_every_split_point() {
    let mut client = HandshakeConfig::new(SocketType::Dealer);
    client.identity = Some(Bytes::from_static(b"client-1"));
    client.properties.insert("X-App", "test").unwrap();
    let server = HandshakeConfig::new(SocketType::Router);
    let total = null_transcript_len(&client);
    assert!(total > 64);
    for split in 0..=total + 1 {
        for chunk in [1, 3, 64, usize::MAX] {
            let outcome = run(client.clone(), server.clone(), split, chunk);
            let c = outcome.client.unwrap();
            let s = outcome.server.unwrap();
            assert_eq!(c.socket_type, SocketType::Router);
            assert_eq!(s.socket_type, SocketType::Dealer);
            assert_eq!(&s.identity[..], b"client-1");
            assert_eq!(s.metadata.get("x-app").unwrap(), "test");
            assert!(c.identity.is_empty());
            assert_eq!(c.version, Version::V3_1);
            assert!(c.speaks_3_1());
            assert_eq!(c.user_id, None);
            assert_eq!(c.mechanism, Mechanism::Null);
        }
    }
}

#[test]
fn every_compatible_pair_completes_and_every_other_pair_fails_on_both_sides() {
    for a in SocketType::ALL {
        for b in SocketType::ALL {
            let outcome = run(
                HandshakeConfig::new(a),
                HandshakeConfig::new(b),
                0,
                usize::MAX,
            );
            if a.is_compatible_with(b) {
                assert_eq!(outcome.client.unwrap().socket_type, b);
                assert_eq!(outcome.server.unwrap().socket_type, a);
            } else {
                assert_eq!(
                    outcome.client.unwrap_err(),
                    HandshakeError::IncompatibleSocketType { ours: a, theirs: b }
                );
                let err = outcome.server.unwrap_err();
                assert_eq!(
                    err,
                    HandshakeError::IncompatibleSocketType { ours: b, theirs: a }
                );
                assert_eq!(
                    err.to_string(),
                    format!("socket type {a} cannot talk to {b}")
                );
            }
        }
    }
}

#[test]
fn a_refusal_sends_error_with_the_reason() {
    let mut pubs = Handshake::new(HandshakeConfig::new(SocketType::Pub)).unwrap();
    let mut input = BytesMut::new();
    // A PUB peer's greeting and READY, written by hand.
    input.extend_from_slice(&smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes());
    let mut md = Metadata::new();
    md.insert("Socket-Type", "PUB").unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    let err = pubs.receive(&mut input).unwrap_err();
    assert!(matches!(err, HandshakeError::IncompatibleSocketType { .. }));
    // Again on a later call.
    assert_eq!(pubs.receive(&mut input).unwrap_err(), err);

    let mut sent = BytesMut::new();
    pubs.poll_transmit(&mut sent);
    let _greeting = sent.split_to(64);
    let mut dec = FrameDecoder::new(1024);
    let ready = dec
        .decode(&mut sent)
        .unwrap()
        .unwrap()
        .into_command()
        .unwrap();
    assert!(matches!(ready, Command::Ready(_)));
    let error = dec
        .decode(&mut sent)
        .unwrap()
        .unwrap()
        .into_command()
        .unwrap();
    assert_eq!(
        error,
        Command::Error {
            reason: "socket type PUB cannot talk to PUB".into()
        }
    );
}

#[test]
fn the_ready_sent_is_exact() {
    // DEALER with an empty identity: the RFC's worked example, byte for byte.
    let mut config = HandshakeConfig::new(SocketType::Dealer);
    config.identity = Some(Bytes::new());
    let mut h = Handshake::new(config).unwrap();
    let mut input =
        BytesMut::from(&smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes()[..]);
    assert_eq!(h.receive(&mut input), Ok(HandshakeStatus::InProgress));
    let mut sent = BytesMut::new();
    h.poll_transmit(&mut sent);
    assert_eq!(&sent[..12], b"\xff\0\0\0\0\0\0\0\0\x7f\x03\x01");
    let mut expected = b"\x04\x29\x05READY\x0bSocket-Type\0\0\0\x06DEALER".to_vec();
    expected.extend_from_slice(b"\x08Identity\0\0\0\0");
    assert_eq!(&sent[64..], &expected[..]);
}

#[test]
fn traffic_after_the_last_handshake_command_stays_in_the_input() {
    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Sub)).unwrap();
    let mut input = BytesMut::new();
    input.extend_from_slice(&smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes());
    let mut md = Metadata::new();
    md.insert("Socket-Type", "PUB").unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    Frame::message(Bytes::from_static(b"news"), false).encode(&mut input);
    let HandshakeStatus::Done(peer) = h.receive(&mut input).unwrap() else {
        panic!("handshake should be done");
    };
    assert_eq!(peer.socket_type, SocketType::Pub);
    assert_eq!(&input[..], b"\x00\x04news");
    // Later calls consume nothing and repeat the result.
    assert!(matches!(
        h.receive(&mut input),
        Ok(HandshakeStatus::Done(_))
    ));
    assert_eq!(input.len(), 6);
}

#[test]
fn a_zmtp_3_0_peer_is_accepted() {
    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Rep)).unwrap();
    let mut input = BytesMut::new();
    let mut greeting = smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes();
    greeting[11] = 0; // minor version 0
    input.extend_from_slice(&greeting);
    let mut md = Metadata::new();
    md.insert("Socket-Type", "REQ").unwrap();
    md.insert("Identity", "").unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    let HandshakeStatus::Done(peer) = h.receive(&mut input).unwrap() else {
        panic!("handshake should be done");
    };
    assert_eq!(peer.version, Version::V3_0);
    assert!(!peer.speaks_3_1());
    assert_eq!(h.peer_greeting().unwrap().version, Version::V3_0);
}

#[test]
fn a_higher_version_peer_is_spoken_to_in_3_1() {
    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Pair)).unwrap();
    let mut input = BytesMut::new();
    let mut greeting = smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes();
    greeting[10] = 4;
    greeting[11] = 2;
    input.extend_from_slice(&greeting);
    let mut md = Metadata::new();
    md.insert("Socket-Type", "PAIR").unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    let HandshakeStatus::Done(peer) = h.receive(&mut input).unwrap() else {
        panic!("handshake should be done");
    };
    assert_eq!(peer.version, Version { major: 4, minor: 2 });
    assert!(peer.speaks_3_1());
}

#[test]
fn garbage_fails_fast() {
    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Rep)).unwrap();
    let mut input = BytesMut::from(&b"G"[..]);
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::Greeting(GreetingError::BadSignature {
            offset: 0,
            byte: b'G'
        }))
    );
    let mut sent = BytesMut::new();
    h.poll_transmit(&mut sent);
    assert_eq!(sent.len(), 64, "only our greeting; no ERROR before framing");

    // A ZMTP 2.0 peer: signature, then revision 1.
    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Rep)).unwrap();
    let mut input = BytesMut::from(&b"\xff\0\0\0\0\0\0\0\x01\x7f\x01\x03"[..]);
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::Greeting(
            GreetingError::UnsupportedVersion { major: 1 }
        ))
    );
}

#[test]
fn mechanism_mismatch_and_curve_are_refused() {
    let plain = HandshakeConfig {
        mechanism: MechanismConfig::plain_client("u", "p"),
        ..HandshakeConfig::new(SocketType::Dealer)
    };
    let outcome = run(
        plain,
        HandshakeConfig::new(SocketType::Dealer),
        0,
        usize::MAX,
    );
    assert_eq!(
        outcome.client.unwrap_err(),
        HandshakeError::MechanismMismatch {
            ours: Mechanism::Plain,
            theirs: Mechanism::Null
        }
    );
    let err = outcome.server.unwrap_err();
    assert_eq!(
        err.to_string(),
        "security mechanism mismatch: we use NULL, the peer PLAIN"
    );

    let mut h = Handshake::new(HandshakeConfig::new(SocketType::Dealer)).unwrap();
    let mut input =
        BytesMut::from(&smolmq_zmtp::Greeting::new(Mechanism::Curve, true).to_bytes()[..]);
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::MechanismNotSupported(Mechanism::Curve))
    );
}

/// A PLAIN server accepting `admin` / `secret` only.
fn plain_server(socket_type: SocketType) -> HandshakeConfig {
    HandshakeConfig {
        mechanism: MechanismConfig::plain_server(|creds| {
            if &creds.username[..] == b"admin" && &creds.password[..] == b"secret" {
                Ok(())
            } else {
                Err(format!(
                    "unknown user {}",
                    String::from_utf8_lossy(&creds.username)
                ))
            }
        }),
        ..HandshakeConfig::new(socket_type)
    }
}

/// A PLAIN client.
fn plain_client(
    socket_type: SocketType,
    user: &'static str,
    pass: &'static str,
) -> HandshakeConfig {
    HandshakeConfig {
        mechanism: MechanismConfig::plain_client(user, pass),
        identity: Some(Bytes::from_static(b"me")),
        ..HandshakeConfig::new(socket_type)
    }
}

#[test]
fn plain_accepts_good_credentials_at_every_split_point() {
    for split in (0..200).step_by(7) {
        for chunk in [1, 5, usize::MAX] {
            let outcome = run(
                plain_client(SocketType::Req, "admin", "secret"),
                plain_server(SocketType::Rep),
                split,
                chunk,
            );
            let c = outcome.client.unwrap();
            let s = outcome.server.unwrap();
            assert_eq!(c.socket_type, SocketType::Rep);
            assert_eq!(c.mechanism, Mechanism::Plain);
            assert_eq!(c.user_id, None);
            assert_eq!(s.socket_type, SocketType::Req);
            assert_eq!(s.user_id.as_deref(), Some(&b"admin"[..]));
            assert_eq!(&s.identity[..], b"me");
        }
    }
}

#[test]
fn plain_refuses_bad_credentials_with_the_reason() {
    let outcome = run(
        plain_client(SocketType::Req, "mallory", "guess"),
        plain_server(SocketType::Rep),
        0,
        usize::MAX,
    );
    assert_eq!(
        outcome.server.unwrap_err(),
        HandshakeError::AuthenticationFailed {
            reason: "unknown user mallory".into()
        }
    );
    let err = outcome.client.unwrap_err();
    assert_eq!(
        err,
        HandshakeError::PeerError {
            reason: "unknown user mallory".into()
        }
    );
    assert_eq!(err.to_string(), "peer sent ERROR: unknown user mallory");
}

#[test]
fn plain_checks_socket_types_too() {
    let outcome = run(
        plain_client(SocketType::Req, "admin", "secret"),
        plain_server(SocketType::Pub),
        0,
        usize::MAX,
    );
    assert_eq!(
        outcome.server.unwrap_err(),
        HandshakeError::IncompatibleSocketType {
            ours: SocketType::Pub,
            theirs: SocketType::Req
        }
    );
    assert!(matches!(
        outcome.client.unwrap_err(),
        HandshakeError::PeerError { .. }
    ));
}

#[test]
fn plain_refuses_two_clients_or_two_servers() {
    // Two clients: the greeting cannot tell (libzmq sends as-server 0 as a
    // server too); each fails on the other's HELLO.
    let outcome = run(
        plain_client(SocketType::Pair, "a", "b"),
        plain_client(SocketType::Pair, "a", "b"),
        0,
        usize::MAX,
    );
    assert!(outcome.client.is_err(), "{outcome:?}");
    assert!(outcome.server.is_err(), "{outcome:?}");
    let outcome = run(
        plain_server(SocketType::Pair),
        plain_server(SocketType::Pair),
        0,
        usize::MAX,
    );
    assert_eq!(
        outcome.server.unwrap_err(),
        HandshakeError::RoleMismatch { as_server: true }
    );
}

/// Regression (found against libzmq 4.3.4): libzmq's PLAIN server sends an
/// as-server flag of 0 in its greeting (it fills the flag and the filler
/// with zeros whatever its role). A PLAIN client must still complete the
/// handshake with it.
#[test]
fn plain_client_accepts_a_server_greeting_without_the_as_server_flag() {
    let mut c = Handshake::new(plain_client(SocketType::Dealer, "admin", "secret")).unwrap();
    let mut s = Handshake::new(plain_server(SocketType::Router)).unwrap();
    let (mut c_in, mut s_in) = (BytesMut::new(), BytesMut::new());
    let mut first = true;
    let (mut c_done, mut s_done) = (None, None);
    for _ in 0..20 {
        c.poll_transmit(&mut s_in);
        let mut out = BytesMut::new();
        s.poll_transmit(&mut out);
        if first && out.len() >= 64 {
            // The as-server byte of the greeting, as libzmq sends it.
            assert_eq!(out[32], 1);
            out[32] = 0;
            first = false;
        }
        c_in.extend_from_slice(&out);
        if c_done.is_none() {
            if let HandshakeStatus::Done(p) = c.receive(&mut c_in).unwrap() {
                c_done = Some(p);
            }
        }
        if s_done.is_none() {
            if let HandshakeStatus::Done(p) = s.receive(&mut s_in).unwrap() {
                s_done = Some(p);
            }
        }
        if c_done.is_some() && s_done.is_some() {
            break;
        }
    }
    assert!(!first, "the server sent its greeting");
    assert_eq!(c_done.expect("client done").socket_type, SocketType::Router);
    assert_eq!(s_done.expect("server done").socket_type, SocketType::Dealer);
}

/// A handshake that has accepted a NULL greeting and now expects READY.
fn after_greeting(socket_type: SocketType) -> (Handshake, BytesMut) {
    let mut h = Handshake::new(HandshakeConfig::new(socket_type)).unwrap();
    let mut input =
        BytesMut::from(&smolmq_zmtp::Greeting::new(Mechanism::Null, false).to_bytes()[..]);
    assert_eq!(h.receive(&mut input), Ok(HandshakeStatus::InProgress));
    (h, input)
}

#[test]
fn protocol_violations_are_errors() {
    // A message frame before READY.
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    input.extend_from_slice(b"\x00\x01x");
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::UnexpectedMessage)
    );

    // The wrong command.
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    Command::Welcome.encode_frame(&mut input).unwrap();
    let err = h.receive(&mut input).unwrap_err();
    assert_eq!(
        err,
        HandshakeError::UnexpectedCommand {
            expected: "READY",
            got: "WELCOME".into()
        }
    );

    // The peer's ERROR.
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    Command::error("go away").encode_frame(&mut input).unwrap();
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::PeerError {
            reason: "go away".into()
        })
    );

    // READY without a Socket-Type, or with an unknown one.
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    Command::Ready(Metadata::new())
        .encode_frame(&mut input)
        .unwrap();
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::MissingSocketType)
    );
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    let mut md = Metadata::new();
    md.insert("Socket-Type", "STREAM").unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    let err = h.receive(&mut input).unwrap_err();
    assert!(matches!(err, HandshakeError::UnknownSocketType(_)));
    assert_eq!(err.to_string(), "unknown socket type \"STREAM\"");

    // An identity over 255 bytes.
    let (mut h, mut input) = after_greeting(SocketType::Router);
    let mut md = Metadata::new();
    md.insert("Socket-Type", "DEALER").unwrap();
    md.insert("Identity", vec![1u8; 256]).unwrap();
    Command::Ready(md).encode_frame(&mut input).unwrap();
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::IdentityTooLong { len: 256 })
    );

    // A handshake command over the limit, refused from its header.
    let (mut h, mut input) = after_greeting(SocketType::Pull);
    input.extend_from_slice(b"\x06\0\0\0\0\x10\0\0\0");
    assert_eq!(
        h.receive(&mut input),
        Err(HandshakeError::Frame(DecodeError::TooLarge {
            size: 1 << 28,
            max: 64 * 1024
        }))
    );
}

#[test]
fn bad_configurations_are_refused() {
    let mut config = HandshakeConfig::new(SocketType::Dealer);
    config.identity = Some(Bytes::from(vec![1u8; 256]));
    assert_eq!(
        Handshake::new(config).unwrap_err(),
        ConfigError::IdentityTooLong { len: 256 }
    );
    let mut config = HandshakeConfig::new(SocketType::Dealer);
    config.identity = Some(Bytes::from_static(b"\0abc"));
    assert_eq!(
        Handshake::new(config).unwrap_err(),
        ConfigError::IdentityStartsWithZero
    );
    let mut config = HandshakeConfig::new(SocketType::Dealer);
    config.properties.insert("socket-type", "PUB").unwrap();
    assert_eq!(
        Handshake::new(config).unwrap_err(),
        ConfigError::ReservedProperty {
            name: "Socket-Type"
        }
    );
    let config = HandshakeConfig {
        mechanism: MechanismConfig::plain_client(vec![b'u'; 300], "p"),
        ..HandshakeConfig::new(SocketType::Dealer)
    };
    assert_eq!(
        Handshake::new(config).unwrap_err(),
        ConfigError::CredentialTooLong {
            field: "user name",
            len: 300
        }
    );
}

#[test]
fn debug_output_hides_passwords() {
    let config = plain_client(SocketType::Req, "admin", "hunter2");
    let shown = format!("{config:?}");
    assert!(shown.contains("admin"));
    assert!(!shown.contains("hunter2"), "{shown}");
}
