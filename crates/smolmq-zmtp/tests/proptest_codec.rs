//! Property tests: random frame sequences survive any cut, and arbitrary
//! bytes never panic the decoder or the handshake nor make them allocate
//! beyond their limits.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smolmq_zmtp::{
    Command, Encoder, Frame, FrameDecoder, Greeting, Handshake, HandshakeConfig, Mechanism,
    MechanismConfig, Metadata, SocketType, MAX_HEADER_LEN, MAX_RESERVE_AHEAD,
};
use std::io::{self, IoSlice, Write};

/// A frame to encode: body, MORE, COMMAND, and whether to force the long
/// size form on a small body.
fn frame_strategy() -> impl Strategy<Value = (Vec<u8>, bool, bool, bool)> {
    (
        prop_oneof![
            3 => proptest::collection::vec(any::<u8>(), 0..300),
            1 => proptest::collection::vec(any::<u8>(), 0..2000),
        ],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
}

/// Bytes that look like frames often enough to reach the size checks: a
/// header with valid flags and any size, or raw bytes.
fn hostile_stream() -> impl Strategy<Value = Vec<u8>> {
    let item = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        (prop_oneof![Just(0u8), Just(1), Just(4)], any::<u8>())
            .prop_map(|(flags, size)| vec![flags, size]),
        (
            prop_oneof![Just(2u8), Just(3), Just(6)],
            prop_oneof![any::<u64>(), 0u64..5000, Just(u64::MAX)],
        )
            .prop_map(|(flags, size)| {
                let mut v = vec![flags];
                v.extend_from_slice(&size.to_be_bytes());
                v
            }),
    ];
    proptest::collection::vec(item, 0..12).prop_map(|items| items.concat())
}

/// Handshake-shaped bytes: well-formed commands (some unexpected, some
/// refused), message frames, or raw bytes.
fn handshake_stream() -> impl Strategy<Value = Vec<u8>> {
    let command = prop_oneof![
        proptest::sample::select(SocketType::ALL.to_vec()).prop_map(|t| {
            let mut md = Metadata::new();
            md.insert("Socket-Type", t.as_str()).unwrap();
            md.insert("Identity", "id").unwrap();
            Command::Ready(md)
        }),
        proptest::sample::select(SocketType::ALL.to_vec()).prop_map(|t| {
            let mut md = Metadata::new();
            md.insert("Socket-Type", t.as_str()).unwrap();
            Command::Initiate(md)
        }),
        (any::<bool>(), any::<bool>()).prop_map(|(u, p)| Command::Hello {
            username: Bytes::from_static(if u { b"user" } else { b"" }),
            password: Bytes::from_static(if p { b"pass" } else { b"" }),
        }),
        Just(Command::Welcome),
        Just(Command::error("nope")),
        Just(Command::Ping {
            ttl: 1,
            context: Bytes::new()
        }),
    ];
    let item = prop_oneof![
        3 => command.prop_map(|c| {
            let mut out = BytesMut::new();
            c.encode_frame(&mut out).unwrap();
            out.to_vec()
        }),
        1 => proptest::collection::vec(any::<u8>(), 0..40),
        1 => Just(b"\x00\x03abc".to_vec()),
    ];
    proptest::collection::vec(item, 0..5).prop_map(|items| items.concat())
}

/// Encodes by hand, with the long form when forced (or needed).
fn encode_by_hand(frames: &[(Vec<u8>, bool, bool, bool)]) -> (Vec<u8>, Vec<Frame>) {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for (body, more, command, force_long) in frames {
        // Commands never carry MORE.
        let more = *more && !*command;
        let mut flags = u8::from(more) | if *command { 4 } else { 0 };
        if *force_long || body.len() > 255 {
            flags |= 2;
            wire.push(flags);
            wire.extend_from_slice(&(body.len() as u64).to_be_bytes());
        } else {
            wire.push(flags);
            wire.push(body.len() as u8);
        }
        wire.extend_from_slice(body);
        expected.push(Frame {
            more,
            command: *command,
            body: Bytes::copy_from_slice(body),
        });
    }
    (wire, expected)
}

/// Feeds `wire` to a decoder in pieces cut at `cuts` (sorted positions).
fn decode_in_pieces(wire: &[u8], cuts: &[usize], max: u64) -> Vec<Frame> {
    let mut decoder = FrameDecoder::new(max);
    let mut input = BytesMut::new();
    let mut frames = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&wire.len())) {
        let cut = cut.clamp(start, wire.len());
        input.extend_from_slice(&wire[start..cut]);
        start = cut;
        while let Some(frame) = decoder.decode(&mut input).unwrap() {
            frames.push(frame);
        }
    }
    assert!(input.is_empty(), "nothing left over");
    frames
}

/// A writer taking a scripted number of bytes per call.
struct Scripted {
    /// Bytes allowed per call, cycled.
    limits: Vec<usize>,
    /// Calls so far.
    calls: usize,
    /// Everything written.
    out: Vec<u8>,
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let limit = self.limits[self.calls % self.limits.len()];
        self.calls += 1;
        let mut left = limit;
        for buf in bufs {
            let n = buf.len().min(left);
            self.out.extend_from_slice(&buf[..n]);
            left -= n;
        }
        Ok(limit - left)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn frames_survive_any_cuts(
        frames in proptest::collection::vec(frame_strategy(), 0..20),
        mut cuts in proptest::collection::vec(0usize..50_000, 0..12),
    ) {
        let (wire, expected) = encode_by_hand(&frames);
        cuts.sort_unstable();
        let decoded = decode_in_pieces(&wire, &cuts, 2000);
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn encoder_output_decodes_back_through_partial_writes(
        frames in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..2000), any::<bool>()), 0..20),
        threshold in prop_oneof![Just(0usize), 1usize..3000, Just(usize::MAX)],
        limits in proptest::collection::vec(1usize..5000, 1..6),
        mut cuts in proptest::collection::vec(0usize..50_000, 0..12),
    ) {
        let mut enc = Encoder::new(threshold);
        let mut expected = Vec::new();
        for (body, more) in &frames {
            let body = Bytes::copy_from_slice(body);
            enc.frame(&body, *more);
            expected.push(Frame::message(body, *more));
        }
        let total = enc.len();
        let mut writer = Scripted { limits, calls: 0, out: Vec::new() };
        for _ in 0..100_000 {
            if enc.is_empty() {
                break;
            }
            enc.write_to(&mut writer).unwrap();
        }
        prop_assert!(enc.is_empty());
        prop_assert_eq!(writer.out.len(), total);
        cuts.sort_unstable();
        let decoded = decode_in_pieces(&writer.out, &cuts, 2000);
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate_the_decoder(
        stream in hostile_stream(),
        chunk in 1usize..100,
        max in prop_oneof![Just(0u64), 0u64..100_000, Just(u64::MAX)],
    ) {
        let chunks: Vec<&[u8]> = stream.chunks(chunk).collect();
        let mut decoder = FrameDecoder::new(max);
        let mut input = BytesMut::new();
        let mut fed = 0usize;
        // Room reserved ahead: the frame limit, at most MAX_RESERVE_AHEAD.
        let ahead = (max.min(MAX_RESERVE_AHEAD as u64)) as usize + MAX_HEADER_LEN;
        'feed: for chunk in chunks {
            input.extend_from_slice(chunk);
            fed += chunk.len();
            for _ in 0..1000 {
                match decoder.decode(&mut input) {
                    Ok(Some(frame)) => prop_assert!(frame.body.len() as u64 <= max),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
            prop_assert!(
                input.capacity() <= 2 * (ahead + fed) + 64,
                "capacity {} after {} bytes fed, max {}", input.capacity(), fed, max
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate_the_handshake(
        greeting in prop_oneof![Just(None), any::<bool>().prop_map(Some)],
        body in prop_oneof![handshake_stream(), proptest::collection::vec(any::<u8>(), 0..400)],
        chunk in 1usize..80,
        role in 0u8..3,
    ) {
        let mechanism = match role {
            0 => MechanismConfig::Null,
            1 => MechanismConfig::plain_client("user", "pass"),
            _ => MechanismConfig::plain_server(|c| {
                if c.username.is_empty() { Err("empty".into()) } else { Ok(()) }
            }),
        };
        let config = HandshakeConfig {
            mechanism,
            max_command_size: 4096,
            ..HandshakeConfig::new(SocketType::Dealer)
        };
        let mut handshake = Handshake::new(config).unwrap();
        let mut stream = Vec::new();
        if let Some(as_server) = greeting {
            // A valid greeting first, so the bytes reach the command layer
            // (with a random role: PLAIN peers match half the time).
            let mech = if role == 0 { Mechanism::Null } else { Mechanism::Plain };
            stream.extend_from_slice(&Greeting::new(mech, as_server).to_bytes());
        }
        stream.extend_from_slice(&body);
        let mut input = BytesMut::new();
        let mut out = BytesMut::new();
        handshake.poll_transmit(&mut out);
        let mut fed = 0;
        for piece in stream.chunks(chunk) {
            input.extend_from_slice(piece);
            fed += piece.len();
            let result = handshake.receive(&mut input);
            handshake.poll_transmit(&mut out);
            prop_assert!(
                input.capacity() <= 2 * (4096 + MAX_HEADER_LEN + fed) + 64,
                "capacity {} after {} bytes", input.capacity(), fed
            );
            if result.is_err() {
                break;
            }
        }
        prop_assert!(out.len() >= 64, "our greeting at least");
    }
}
