//! Arbitrary bytes as the peer's side of a handshake, in every role (NULL,
//! PLAIN client, PLAIN server) and socket type: never a panic, never a
//! buffer beyond the handshake command limit.
//!
//! Half the inputs are prefixed with a valid greeting so that the fuzzer
//! spends its time in the command layer rather than on the signature.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smolmq_zmtp::{
    Greeting, Handshake, HandshakeConfig, HandshakeStatus, Mechanism, MechanismConfig, SocketType,
    MAX_HEADER_LEN,
};

/// Handshake command limit used here: small, so that oversized commands
/// are reachable.
const MAX_COMMAND: u64 = 2048;

fuzz_target!(|data: &[u8]| {
    let [setup, piece, rest @ ..] = data else {
        return;
    };
    let role = setup % 3;
    let with_greeting = setup & 0x04 != 0;
    let peer_as_server = setup & 0x08 != 0;
    let socket_type = SocketType::ALL[usize::from(setup >> 4) % SocketType::ALL.len()];
    let mechanism = match role {
        0 => MechanismConfig::Null,
        1 => MechanismConfig::plain_client("user", "secret"),
        _ => MechanismConfig::plain_server(|creds| {
            if &creds.password[..] == b"secret" {
                Ok(())
            } else {
                Err("wrong password".into())
            }
        }),
    };
    let config = HandshakeConfig {
        mechanism,
        max_command_size: MAX_COMMAND,
        ..HandshakeConfig::new(socket_type)
    };
    let mut handshake = Handshake::new(config).expect("valid configuration");

    let mut stream = Vec::with_capacity(64 + rest.len());
    if with_greeting {
        let mech = if role == 0 {
            Mechanism::Null
        } else {
            Mechanism::Plain
        };
        stream.extend_from_slice(&Greeting::new(mech, peer_as_server).to_bytes());
    }
    stream.extend_from_slice(rest);

    let piece = usize::from(*piece).max(1);
    let mut input = BytesMut::new();
    let mut out = BytesMut::new();
    let mut fed = 0;
    for chunk in stream.chunks(piece) {
        input.extend_from_slice(chunk);
        fed += chunk.len();
        let result = handshake.receive(&mut input);
        handshake.poll_transmit(&mut out);
        assert!(
            input.capacity() <= 2 * (MAX_COMMAND as usize + MAX_HEADER_LEN + fed) + 64,
            "capacity {} after {} bytes",
            input.capacity(),
            fed
        );
        match result {
            Ok(HandshakeStatus::InProgress) => {}
            Ok(HandshakeStatus::Done(peer)) => {
                assert!(socket_type.is_compatible_with(peer.socket_type));
                assert!(peer.identity.len() <= 255);
                // Later calls consume nothing.
                let before = input.len();
                assert!(matches!(
                    handshake.receive(&mut input),
                    Ok(HandshakeStatus::Done(_))
                ));
                assert_eq!(input.len(), before);
                return;
            }
            Err(e) => {
                let _ = e.to_string();
                assert_eq!(handshake.receive(&mut input), Err(e));
                return;
            }
        }
    }
});
