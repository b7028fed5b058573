//! JSON-RPC 2.0 envelopes: each kind, string and integer ids, and the
//! -32700 / -32600 rejections with their response lines.

#![cfg(feature = "jsonrpc")]

use serde_json::Value;
use smolmq_jsonl::jsonrpc::{
    self, ErrorObject, Id, Message, Rejection, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};

/// Parses `line` expecting a rejection.
fn reject(line: &str) -> Rejection {
    match jsonrpc::parse(line.as_bytes()) {
        Ok(m) => panic!("accepted {line}: {m:?}"),
        Err(r) => r,
    }
}

/// The response line of a rejection, as a JSON value.
fn response_json(r: &Rejection) -> Value {
    serde_json::from_slice(&r.response_line()).expect("response line is JSON")
}

#[test]
fn request_with_integer_id() {
    let m =
        jsonrpc::parse(br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"x"}}"#)
            .unwrap();
    let Message::Request { id, method, params } = m else {
        panic!("{m:?}")
    };
    assert_eq!(id, Id::Number(42));
    assert_eq!(method, "tools/call");
    assert_eq!(params.unwrap().get(), r#"{"name":"x"}"#);
}

#[test]
fn request_with_string_id_and_array_params() {
    let m = jsonrpc::parse(
        br#" { "method" : "sum", "params" : [1, 2], "id" : "a-1", "jsonrpc" : "2.0" } "#,
    )
    .unwrap();
    let Message::Request { id, method, params } = m else {
        panic!("{m:?}")
    };
    assert_eq!(id, Id::String("a-1".into()));
    assert_eq!(method, "sum");
    assert_eq!(params.unwrap().get(), "[1, 2]");
}

#[test]
fn negative_and_large_integer_ids() {
    for (text, id) in [("-1", -1i64), ("9223372036854775807", i64::MAX), ("0", 0)] {
        let line = format!(r#"{{"jsonrpc":"2.0","id":{text},"method":"m"}}"#);
        let m = jsonrpc::parse(line.as_bytes()).unwrap();
        assert!(
            matches!(m, Message::Request { id: Id::Number(n), .. } if n == id),
            "{text}"
        );
    }
}

#[test]
fn escaped_strings_are_decoded() {
    let m = jsonrpc::parse(br#"{"jsonrpc":"2\u002e0","id":"\u00e9","method":"a\/b"}"#).unwrap();
    assert_eq!(
        m,
        Message::Request {
            id: Id::String("é".into()),
            method: "a/b".into(),
            params: None
        }
    );
}

#[test]
fn notification() {
    let m = jsonrpc::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
    assert_eq!(
        m,
        Message::Notification {
            method: "notifications/initialized".into(),
            params: None
        }
    );
}

#[test]
fn response() {
    let m = jsonrpc::parse(br#"{"jsonrpc":"2.0","id":"x","result":{"tools":[]}}"#).unwrap();
    let Message::Response { id, result } = m else {
        panic!("{m:?}")
    };
    assert_eq!(id, Id::String("x".into()));
    assert_eq!(result.get(), r#"{"tools":[]}"#);
    // A null result is a result.
    let m = jsonrpc::parse(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).unwrap();
    assert!(matches!(m, Message::Response { result, .. } if result.get() == "null"));
}

#[test]
fn error_response_with_and_without_id() {
    let m = jsonrpc::parse(
        br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found","data":"frob"}}"#,
    )
    .unwrap();
    assert_eq!(
        m,
        Message::Error {
            id: Some(Id::Number(3)),
            error: ErrorObject::method_not_found("frob"),
        }
    );
    let m = jsonrpc::parse(
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
    )
    .unwrap();
    let Message::Error { id: None, error } = m else {
        panic!("{m:?}")
    };
    assert_eq!(error.code, PARSE_ERROR);
    assert!(error.data.is_none());
}

#[test]
fn unknown_members_are_ignored() {
    let m = jsonrpc::parse(br#"{"jsonrpc":"2.0","method":"m","_meta":{"x":1}}"#).unwrap();
    assert!(matches!(m, Message::Notification { .. }));
}

#[test]
fn messages_round_trip_through_to_line() {
    let lines = [
        r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"k":[1,2]}}"#,
        r#"{"jsonrpc":"2.0","id":"s","method":"b"}"#,
        r#"{"jsonrpc":"2.0","method":"c","params":[true]}"#,
        r#"{"jsonrpc":"2.0","id":2,"result":"ok"}"#,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}"#,
        r#"{"jsonrpc":"2.0","id":5,"error":{"code":7,"message":"m","data":{"d":null}}}"#,
    ];
    for line in lines {
        let m = jsonrpc::parse(line.as_bytes()).unwrap();
        assert_eq!(&m.to_line()[..], line.as_bytes(), "exact compact form");
        assert_eq!(jsonrpc::parse(&m.to_line()).unwrap(), m);
        assert!(smolmq_jsonl::check_payload(&m.to_line()).is_ok());
    }
}

#[test]
fn parse_errors_are_32700_with_null_id() {
    for line in [
        "",
        "   ",
        "{",
        r#"{"jsonrpc":"2.0","method":"m""#,
        r#"{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]"#,
        r#"{"jsonrpc":"2.0","method":"m"} trailing"#,
        "nul",
        "[1,",
        r#"5 {"#,
        "{\"a\":\"\u{1}\"}",
    ] {
        let r = reject(line);
        assert_eq!(r.error.code, PARSE_ERROR, "{line:?}");
        assert_eq!(r.error.message, "Parse error");
        assert_eq!(r.id, None);
        let v = response_json(&r);
        assert_eq!(v["jsonrpc"], "2.0");
        assert_eq!(v["id"], Value::Null);
        assert_eq!(v["error"]["code"], -32700);
        assert!(
            v["error"]["data"].is_string(),
            "a description of what is wrong"
        );
    }
}

#[test]
fn invalid_requests_are_32600() {
    for (line, id) in [
        (r#"{"jsonrpc":"2.0","method":1,"params":"bar"}"#, None),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":1}"#,
            Some(Id::Number(4)),
        ),
        (r#"{"method":"m","id":1}"#, Some(Id::Number(1))),
        (r#"{"jsonrpc":"1.0","method":"m"}"#, None),
        (r#"{"jsonrpc":2.0,"method":"m"}"#, None),
        (r#"{"jsonrpc":"2.0","method":"m","params":"bar"}"#, None),
        (r#"{"jsonrpc":"2.0","method":"m","params":3}"#, None),
        (r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#, None),
        (r#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#, None),
        (
            r#"{"jsonrpc":"2.0","id":18446744073709551615,"method":"m"}"#,
            None,
        ),
        (r#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#, None),
        (r#"{"jsonrpc":"2.0","id":true,"result":1}"#, None),
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"m","result":1}"#,
            Some(Id::Number(1)),
        ),
        (
            r#"{"jsonrpc":"2.0","id":"r","result":1,"error":{"code":1,"message":"x"}}"#,
            Some(Id::String("r".into())),
        ),
        (r#"{"jsonrpc":"2.0","id":1}"#, Some(Id::Number(1))),
        (r#"{"jsonrpc":"2.0","result":1}"#, None),
        (r#"{"jsonrpc":"2.0","id":null,"result":1}"#, None),
        (
            r#"{"jsonrpc":"2.0","error":{"code":1,"message":"x"}}"#,
            None,
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"error":{"code":"1","message":"x"}}"#,
            Some(Id::Number(2)),
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"error":{"message":"x"}}"#,
            Some(Id::Number(2)),
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"error":"boom"}"#,
            Some(Id::Number(2)),
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"error":[1,"x"]}"#,
            Some(Id::Number(2)),
        ),
        (
            r#"{"jsonrpc":"2.0","id":2,"result":1,"params":{}}"#,
            Some(Id::Number(2)),
        ),
        (r#"{"jsonrpc":"2.0","method":"a","method":"b"}"#, None),
        ("1", None),
        (r#""hello""#, None),
        ("null", None),
        ("{}", None),
    ] {
        let r = reject(line);
        assert_eq!(r.error.code, INVALID_REQUEST, "{line}: {r}");
        assert_eq!(r.error.message, "Invalid Request");
        assert_eq!(r.id, id, "{line}");
        let v = response_json(&r);
        assert_eq!(v["error"]["code"], -32600);
        match &id {
            None => assert_eq!(v["id"], Value::Null),
            Some(Id::Number(n)) => assert_eq!(v["id"], *n),
            Some(Id::String(s)) => assert_eq!(v["id"], s.as_str()),
        }
    }
}

#[test]
fn batches_are_refused_as_a_whole() {
    for line in [
        r#"[{"jsonrpc":"2.0","method":"sum","params":[1,2],"id":"1"},{"jsonrpc":"2.0","method":"n"}]"#,
        "[]",
        "[1,2,3]",
    ] {
        let r = reject(line);
        assert_eq!(r.error.code, INVALID_REQUEST, "{line}");
        assert_eq!(r.id, None);
        assert!(r.to_string().contains("batch"), "{r}");
    }
}

#[test]
fn response_line_layout() {
    let r = reject(r#"{"jsonrpc":"2.0","id":"q","method":7}"#);
    assert_eq!(
        &r.response_line()[..],
        br#"{"jsonrpc":"2.0","id":"q","error":{"code":-32600,"message":"Invalid Request","data":"member \"method\" must be a string"}}"#
    );
    let line = ErrorObject::new(METHOD_NOT_FOUND, "Method not found")
        .to_response_line(Some(&Id::Number(9)));
    assert_eq!(
        &line[..],
        br#"{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found"}}"#
    );
}

#[test]
fn rejection_display_says_what_and_which_id() {
    let r = reject(r#"{"jsonrpc":"2.0","id":12,"method":"m","params":1}"#);
    let text = r.to_string();
    assert!(
        text.contains("-32600") && text.contains("params") && text.contains("id 12"),
        "{text}"
    );
}

#[test]
fn decoder_lines_feed_the_parser() {
    use bytes::BytesMut;
    let mut buf = BytesMut::from(
        &b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n{bad\n{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"[..],
    );
    let mut lines = Vec::new();
    smolmq_jsonl::LineDecoder::default()
        .decode_batch(&mut buf, &mut lines)
        .unwrap();
    let parsed: Vec<_> = lines.iter().map(|l| jsonrpc::parse(l)).collect();
    assert!(matches!(parsed[0], Ok(Message::Request { .. })));
    assert!(matches!(&parsed[1], Err(r) if r.error.code == PARSE_ERROR));
    assert!(matches!(parsed[2], Ok(Message::Response { .. })));
}
