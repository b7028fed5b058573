//! Property tests: whatever a peer sends, the dispatcher answers at most
//! one valid JSON-RPC line, never panics, and keeps ids intact.

use proptest::prelude::*;
use smolmq_mcp::{jsonrpc, Call, Dispatcher, Id, Message};

/// A table with one method, `echo`, that returns its params.
fn echo() -> Dispatcher {
    let mut d = Dispatcher::new();
    d.add("echo", |call: &Call<'_>| {
        Ok(call
            .params
            .map(ToOwned::to_owned)
            .unwrap_or_else(|| serde_json::value::to_raw_value(&()).expect("null")))
    });
    d
}

/// Checks that `reply` is one line that parses as a response or error.
fn check_reply(reply: &[u8]) -> Message {
    assert!(!reply.contains(&b'\n'));
    let msg = jsonrpc::parse(reply).expect("answers parse");
    assert!(matches!(
        msg,
        Message::Response { .. } | Message::Error { .. }
    ));
    msg
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_get_at_most_one_valid_answer(line in proptest::collection::vec(any::<u8>(), 0..256)) {
        let mut d = echo();
        if let Some(reply) = d.handle(b"p", &line) {
            check_reply(&reply);
        }
    }

    #[test]
    fn json_looking_text_gets_at_most_one_valid_answer(line in r#"\{("[a-z]{0,7}":("2\.0"|[0-9]{1,3}|null|"[a-z/]{0,6}"|\[\]|\{\}),?){0,5}\}?"#) {
        let mut d = echo();
        if let Some(reply) = d.handle(b"p", line.as_bytes()) {
            check_reply(&reply);
        }
    }

    #[test]
    fn requests_are_answered_with_their_own_id(
        id in prop_oneof![any::<i64>().prop_map(Id::Number), "[ -~]{0,20}".prop_map(Id::String)],
        text in "\\PC{0,40}",
    ) {
        let mut d = echo();
        let params = serde_json::value::to_raw_value(&[text.as_str()]).unwrap();
        let request = Message::Request { id: id.clone(), method: "echo".into(), params: Some(params) };
        let reply = d.handle(b"p", &request.to_line()).expect("a request is answered");
        match check_reply(&reply) {
            Message::Response { id: got, result } => {
                prop_assert_eq!(got, id);
                let back: Vec<String> = serde_json::from_str(result.get()).unwrap();
                prop_assert_eq!(back, vec![text]);
            }
            other => prop_assert!(false, "not a result: {:?}", other),
        }
    }
}
