//! A peer's WebSocket messages, arbitrary, into `Inbound` in each mode:
//! never a panic, and whatever it accepts comes out as well-formed ZMTP
//! (a greeting, then frames the engine's decoder takes), never larger than
//! what came in plus the headers and the made-up READY.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smolmq_ws::zws::Inbound;
use smolmq_ws::Subprotocol;
use smolmq_zmtp::{FrameDecoder, GreetingDecoder, SocketType};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the mode and when our socket type is known;
    // then messages as [length, bytes...].
    let [choice, rest @ ..] = data else {
        return;
    };
    let mode = match choice % 3 {
        0 => Subprotocol::Null,
        1 => Subprotocol::Bare,
        _ => Subprotocol::Plain,
    };
    let type_late = choice & 0x80 != 0;
    let mut inbound = Inbound::new(mode);
    let mut rest = rest;
    let mut taken = 0usize;
    let mut count = 0usize;
    while let [len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (message, tail) = tail.split_at(len);
        rest = tail;
        taken += message.len();
        count += 1;
        let ours = (!type_late).then_some(SocketType::Dealer);
        if inbound.message(message, ours).is_err() {
            break;
        }
    }
    if type_late {
        inbound.set_our_type(SocketType::Dealer);
    }
    let mut out = BytesMut::from(inbound.pending());
    // Greeting, header bytes (at most 9 a message), a READY of at most
    // 300 bytes.
    assert!(out.len() <= 64 + taken + 9 * count + 300);
    assert!(GreetingDecoder::new().decode(&mut out).unwrap().is_some());
    let mut decoder = FrameDecoder::new(u64::MAX);
    while !out.is_empty() {
        let frame = decoder.decode(&mut out).unwrap().expect("a whole frame");
        if frame.command {
            let _ = frame.into_command();
        }
    }
});
