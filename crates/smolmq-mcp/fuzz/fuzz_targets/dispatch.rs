//! Arbitrary lines through a server's dispatcher: no panic, at most one
//! answer, and every answer is one line (no raw newline) that parses as a
//! response or an error response; a request is always answered.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smolmq_mcp::{jsonrpc, Call, Dispatcher, Message};

fuzz_target!(|line: &[u8]| {
    let mut methods = Dispatcher::new();
    methods.add("echo", |call: &Call<'_>| {
        match call.params {
            Some(p) => Ok(p.to_owned()),
            None => smolmq_mcp::to_result(&()),
        }
    });
    methods.add("pair", |call: &Call<'_>| {
        let (a, b): (i64, String) = call.params()?;
        smolmq_mcp::to_result(&(b, a))
    });
    let request = matches!(jsonrpc::parse(line), Ok(Message::Request { .. }));
    let answer = methods.handle(b"fuzz", line);
    assert_eq!(answer.is_some(), request || jsonrpc::parse(line).is_err());
    if let Some(answer) = answer {
        assert!(!answer.contains(&b'\n'));
        match jsonrpc::parse(&answer) {
            Ok(Message::Response { .. } | Message::Error { .. }) => {}
            other => panic!("answer is not a response: {other:?}"),
        }
    }
});

