//! The dispatcher alone: each kind of line in, the exact line out.

use smolmq_mcp::{jsonrpc, to_result, Call, DispatchStats, Dispatcher, ErrorObject};

/// A table with `echo` (params back), `add` ([a, b] -> a + b), `fail`
/// (a handler error of its own) and `who` (the caller's peer id).
fn methods() -> Dispatcher {
    let mut d = Dispatcher::new();
    d.add("echo", |call: &Call<'_>| {
        Ok(call
            .params
            .map(ToOwned::to_owned)
            .unwrap_or_else(|| serde_json::value::to_raw_value(&()).expect("null")))
    });
    d.add("add", |call: &Call<'_>| {
        let [a, b]: [i64; 2] = call.params()?;
        to_result(&(a + b))
    });
    d.add("fail", |_: &Call<'_>| {
        Err(ErrorObject::new(-32000, "no luck"))
    });
    d.add("who", |call: &Call<'_>| {
        to_result(&String::from_utf8_lossy(call.peer))
    });
    d
}

/// The answer to `line` as text, `None` when there is none.
fn answer(d: &mut Dispatcher, line: &str) -> Option<String> {
    d.handle(b"peer-1", line.as_bytes())
        .map(|b| String::from_utf8(b.to_vec()).expect("UTF-8 answer"))
}

#[test]
fn results_carry_the_request_id_string_or_integer() {
    let mut d = methods();
    assert_eq!(
        answer(
            &mut d,
            r#"{"jsonrpc":"2.0","id":7,"method":"add","params":[2,40]}"#
        )
        .unwrap(),
        r#"{"jsonrpc":"2.0","id":7,"result":42}"#
    );
    assert_eq!(
        answer(
            &mut d,
            r#"{"jsonrpc":"2.0","id":"a-1","method":"echo","params":{"x":[1,"é"]}}"#
        )
        .unwrap(),
        r#"{"jsonrpc":"2.0","id":"a-1","result":{"x":[1,"é"]}}"#
    );
    assert_eq!(
        answer(&mut d, r#"{"jsonrpc":"2.0","id":-3,"method":"echo"}"#).unwrap(),
        r#"{"jsonrpc":"2.0","id":-3,"result":null}"#
    );
    assert_eq!(
        answer(&mut d, r#"{"jsonrpc":"2.0","id":1,"method":"who"}"#).unwrap(),
        r#"{"jsonrpc":"2.0","id":1,"result":"peer-1"}"#
    );
    assert_eq!(d.stats().requests, 4);
}

#[test]
fn parse_error_is_32700_with_null_id() {
    let mut d = methods();
    for line in [
        "not json",
        r#"{"jsonrpc":"2.0","id":1,"method":"echo""#,
        "{\"a\":\u{1}}",
    ] {
        let reply = answer(&mut d, line).unwrap();
        assert!(
            reply.starts_with(
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error""#
            ),
            "{line:?} -> {reply}"
        );
    }
    assert_eq!(d.stats().rejected, 3);
}

#[test]
fn invalid_request_is_32600_echoing_the_id_when_readable() {
    let mut d = methods();
    let cases = [
        (r#"{"id":5,"method":"echo"}"#, "5"),
        (r#"{"jsonrpc":"1.0","id":"x","method":"echo"}"#, r#""x""#),
        (r#"{"jsonrpc":"2.0","id":6,"method":42}"#, "6"),
        (
            r#"{"jsonrpc":"2.0","id":8,"method":"echo","params":"str"}"#,
            "8",
        ),
        (r#"{"jsonrpc":"2.0","id":1.5,"method":"echo"}"#, "null"),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"echo"}]"#, "null"),
        ("42", "null"),
    ];
    for (line, id) in cases {
        let reply = answer(&mut d, line).unwrap();
        let want = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32600,"message":"Invalid Request""#
        );
        assert!(reply.starts_with(&want), "{line} -> {reply}");
    }
    assert_eq!(d.stats().rejected, cases.len() as u64);
}

#[test]
fn unknown_method_is_32601_naming_it() {
    let mut d = methods();
    assert_eq!(
        answer(&mut d, r#"{"jsonrpc":"2.0","id":3,"method":"tools/nope"}"#).unwrap(),
        r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found","data":"tools/nope"}}"#
    );
    assert_eq!(d.stats().unknown_method, 1);
}

#[test]
fn bad_params_are_32602() {
    let mut d = methods();
    for params in [r#"["a",1]"#, "[1]", r#"{"a":1}"#] {
        let line = format!(r#"{{"jsonrpc":"2.0","id":4,"method":"add","params":{params}}}"#);
        let reply = answer(&mut d, &line).unwrap();
        assert!(
            reply.starts_with(
                r#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Invalid params""#
            ),
            "{params} -> {reply}"
        );
    }
    // Absent params, for a method that needs them.
    let reply = answer(&mut d, r#"{"jsonrpc":"2.0","id":9,"method":"add"}"#).unwrap();
    assert!(reply.contains(r#""code":-32602"#), "{reply}");
}

#[test]
fn handler_errors_are_sent_as_they_are() {
    let mut d = methods();
    assert_eq!(
        answer(&mut d, r#"{"jsonrpc":"2.0","id":"f","method":"fail"}"#).unwrap(),
        r#"{"jsonrpc":"2.0","id":"f","error":{"code":-32000,"message":"no luck"}}"#
    );
    assert_eq!(d.stats().handler_errors, 1);
}

#[test]
fn notifications_and_responses_are_never_answered() {
    let mut d = methods();
    for line in [
        r#"{"jsonrpc":"2.0","method":"echo","params":[1]}"#,
        r#"{"jsonrpc":"2.0","method":"fail"}"#,
        r#"{"jsonrpc":"2.0","method":"add","params":["bad"]}"#,
        r#"{"jsonrpc":"2.0","method":"nobody/home"}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
    ] {
        assert_eq!(answer(&mut d, line), None, "{line}");
    }
    assert_eq!(
        d.stats(),
        DispatchStats {
            notifications: 3,
            unknown_method: 1,
            ignored: 2,
            ..DispatchStats::default()
        }
    );
}

#[test]
fn every_answer_is_one_valid_json_rpc_line() {
    let mut d = methods();
    for line in [
        "garbage",
        r#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":"a\nb\u2028"}}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"nope"}"#,
        r#"{"jsonrpc":"2.0","id":"\n","method":"fail"}"#,
    ] {
        let reply = d.handle(b"", line.as_bytes()).unwrap();
        assert!(!reply.contains(&b'\n'), "raw newline in {reply:?}");
        match jsonrpc::parse(&reply).expect("the answer parses") {
            jsonrpc::Message::Response { .. } | jsonrpc::Message::Error { .. } => {}
            other => panic!("not a response: {other:?}"),
        }
    }
}
