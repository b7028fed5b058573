//! Arbitrary lines through the JSON-RPC envelope parser: no panic, every
//! rejection is a -32700 or -32600 whose response line is itself a valid
//! error message, and every accepted message survives `to_line` and back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smolmq_jsonl::jsonrpc::{self, Message, INVALID_REQUEST, PARSE_ERROR};

fuzz_target!(|line: &[u8]| {
    match jsonrpc::parse(line) {
        Ok(msg) => {
            let again = msg.to_line();
            assert!(smolmq_jsonl::check_payload(&again).is_ok());
            assert_eq!(jsonrpc::parse(&again).expect("to_line output parses"), msg);
        }
        Err(rejection) => {
            assert!(matches!(
                rejection.error.code,
                PARSE_ERROR | INVALID_REQUEST
            ));
            let reply = rejection.response_line();
            assert!(smolmq_jsonl::check_payload(&reply).is_ok());
            match jsonrpc::parse(&reply) {
                Ok(Message::Error { id, error }) => {
                    assert_eq!(id, rejection.id);
                    assert_eq!(error, rejection.error);
                }
                other => panic!("response line is not an error message: {other:?}"),
            }
        }
    }
});
