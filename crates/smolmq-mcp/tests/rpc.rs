//! Clients and servers over sockets: results, errors, timeouts, many
//! clients, requests in flight, async.

mod common;

use common::{methods, serve, TRANSPORTS};
use serde_json::json;
use smolmq_mcp::{CallError, Client, Id, Message};
use smolmq_tests::{context, recv_within, TIMEOUT};
use std::time::Duration;

/// A client connected to `endpoint`.
fn client(ctx: &smolmq_core::Context, endpoint: &str) -> Client {
    let mut c = Client::connect(ctx, endpoint).expect("connect");
    c.set_timeout(TIMEOUT);
    c
}

#[test]
fn call_returns_the_result_byte_for_byte() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let mut c = client(&ctx, &server.endpoint);
        let params = json!({"text": "héllo \"world\"\t\u{1F600}", "n": [1, 2.5, null], "big": "x".repeat(4096)});
        let result = c.call("echo", &params).expect("echo");
        assert_eq!(
            result.get(),
            serde_json::to_string(&params).unwrap(),
            "{transport:?}"
        );
        // No params at all: a null result.
        assert_eq!(c.call("echo", ()).unwrap().get(), "null");
        assert_eq!(c.stats().matched, 2);
        assert_eq!(server.stats().requests, 2);
    }
}

#[test]
fn errors_come_back_as_rpc_errors() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let mut c = client(&ctx, &server.endpoint);
        let e = c.call("nope", ()).unwrap_err();
        assert_eq!(e.rpc().map(|e| e.code), Some(-32601), "{transport:?}: {e}");
        let e = c.call("sleep", ["soon"]).unwrap_err();
        assert_eq!(e.rpc().map(|e| e.code), Some(-32602), "{transport:?}: {e}");
        // Params that are neither object nor array never leave.
        assert!(matches!(c.call("echo", 5), Err(CallError::Params(_))));
        assert_eq!(c.pending(), 0);
        // Still usable.
        assert_eq!(c.call("echo", [1]).unwrap().get(), "[1]");
    }
}

#[test]
fn bad_lines_from_a_raw_socket_get_the_spec_errors() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let mut raw = smolmq_tests::with_options(smolmq_reqrep::dealer(&ctx), |_| {});
        raw.connect(&server.endpoint).unwrap();
        let cases: [(&str, &str); 4] = [
            (
                "not json",
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700"#,
            ),
            (
                r#"{"id":1,"method":"echo"}"#,
                r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32600"#,
            ),
            (
                r#"{"jsonrpc":"2.0","id":2,"method":"x"}"#,
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601"#,
            ),
            (
                r#"{"jsonrpc":"2.0","id":3,"method":"sleep","params":{}}"#,
                r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32602"#,
            ),
        ];
        for (line, want) in cases {
            raw.send_blocking(line.to_owned().into()).unwrap();
            let reply = raw.recv_blocking().expect("an answer");
            let reply = smolmq_tests::text(&reply);
            assert!(reply.starts_with(want), "{transport:?}: {line} -> {reply}");
        }
        // A notification and a response are not answered; the next request is.
        raw.send_blocking(r#"{"jsonrpc":"2.0","method":"echo"}"#.into())
            .unwrap();
        raw.send_blocking(r#"{"jsonrpc":"2.0","id":9,"result":1}"#.into())
            .unwrap();
        raw.send_blocking(r#"{"jsonrpc":"2.0","id":10,"method":"echo","params":[]}"#.into())
            .unwrap();
        let reply = raw.recv_blocking().unwrap();
        assert_eq!(
            smolmq_tests::text(&reply),
            r#"{"jsonrpc":"2.0","id":10,"result":[]}"#
        );
        let stats = server.stats();
        assert_eq!(
            (stats.rejected, stats.notifications, stats.ignored),
            (2, 1, 1)
        );
    }
}

#[test]
fn a_multipart_message_is_an_invalid_request() {
    let ctx = context();
    // ZMTP only: a message of two frames has no line form.
    let server = serve(&ctx, "tcp", methods());
    let mut raw = smolmq_reqrep::dealer(&ctx);
    raw.connect(&server.endpoint).unwrap();
    raw.send_blocking(smolmq_tests::msg(&[b"{}", b"{}"]))
        .unwrap();
    let reply = recv_within(&mut raw, TIMEOUT).expect("an answer");
    assert!(smolmq_tests::text(&reply)
        .starts_with(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600"#));
}

#[test]
fn ten_clients_each_get_their_own_answers() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let threads: Vec<_> = (0..10)
            .map(|n| {
                let ctx = ctx.clone();
                let endpoint = server.endpoint.clone();
                std::thread::spawn(move || {
                    let mut c = client(&ctx, &endpoint);
                    for i in 0..50 {
                        let r = c.call("echo", json!({"client": n, "i": i})).unwrap();
                        assert_eq!(r.get(), format!(r#"{{"client":{n},"i":{i}}}"#));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("client thread");
        }
        assert_eq!(server.stats().requests, 500, "{transport:?}");
    }
}

#[test]
fn requests_in_flight_are_matched_by_id_in_any_order() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let mut c = client(&ctx, &server.endpoint);
        let ids: Vec<Id> = (0..100).map(|i| c.start("echo", [i]).unwrap()).collect();
        assert_eq!(c.pending(), 100);
        // Collected newest first: the others wait in the client meanwhile.
        for (i, id) in ids.iter().enumerate().rev() {
            assert_eq!(c.wait(id, TIMEOUT).unwrap().get(), format!("[{i}]"));
        }
        assert_eq!(c.pending(), 0);
        let e = c.wait(&ids[0], TIMEOUT).unwrap_err();
        assert!(matches!(e, CallError::NotPending(Id::Number(1))), "{e}");
    }
}

#[test]
fn a_call_times_out_and_its_late_answer_is_dropped() {
    let ctx = context();
    let server = serve(&ctx, "tcp+jsonl", methods());
    let mut c = client(&ctx, &server.endpoint);
    let e = c
        .call_with_timeout("sleep", [300], Duration::from_millis(50))
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(c.pending(), 0);
    // The next call sees the late answer go by, and gets its own.
    assert_eq!(c.call("echo", ["next"]).unwrap().get(), r#"["next"]"#);
    assert_eq!(c.stats().unmatched, 1);
}

#[test]
fn a_call_to_nobody_times_out() {
    let ctx = context();
    // Nothing listens: the DEALER keeps trying to connect.
    let mut c = Client::connect(&ctx, "tcp+jsonl://127.0.0.1:1").unwrap();
    let e = c
        .call_with_timeout("echo", (), Duration::from_millis(100))
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let e = futures_lite::future::block_on(c.call_with_timeout_async(
        "echo",
        (),
        Duration::from_millis(100),
    ))
    .unwrap_err();
    assert!(e.is_timeout(), "{e}");
}

#[test]
fn async_calls_from_one_executor() {
    let ctx = context();
    for transport in TRANSPORTS {
        let server = serve(&ctx, transport, methods());
        let clients: Vec<Client> = (0..4).map(|_| client(&ctx, &server.endpoint)).collect();
        futures_lite::future::block_on(async {
            let ex = async_executor::LocalExecutor::new();
            let tasks: Vec<_> = clients
                .into_iter()
                .enumerate()
                .map(|(n, mut c)| {
                    ex.spawn(async move {
                        for i in 0..20 {
                            let r = c.call_async("echo", [n, i]).await.unwrap();
                            assert_eq!(r.get(), format!("[{n},{i}]"));
                        }
                        let a = c.start_async("echo", ["a"]).await.unwrap();
                        let b = c.start_async("echo", ["b"]).await.unwrap();
                        assert_eq!(c.wait_async(&b, TIMEOUT).await.unwrap().get(), r#"["b"]"#);
                        assert_eq!(c.wait_async(&a, TIMEOUT).await.unwrap().get(), r#"["a"]"#);
                        c.notify_async("echo", ()).await.unwrap();
                        // Answered after the notification was handled.
                        c.call_async("echo", ()).await.unwrap();
                    })
                })
                .collect();
            ex.run(async {
                for t in tasks {
                    t.await;
                }
            })
            .await;
        });
        let stats = server.stats();
        assert_eq!(
            (stats.requests, stats.notifications),
            (92, 4),
            "{transport:?}"
        );
    }
}

#[test]
fn an_async_server_loop() {
    let ctx = context();
    let mut server = smolmq_mcp::Server::bind(&ctx, "tcp+jsonl://127.0.0.1:0", methods()).unwrap();
    let endpoint = server.socket().last_endpoint().unwrap().to_string();
    let serving = std::thread::spawn(move || {
        futures_lite::future::block_on(async {
            for _ in 0..3 {
                server.serve_next_async(Some(TIMEOUT)).await.unwrap();
            }
        })
    });
    let mut c = client(&ctx, &endpoint);
    for i in 0..3 {
        assert_eq!(c.call("echo", [i]).unwrap().get(), format!("[{i}]"));
    }
    serving.join().unwrap();
}

#[test]
fn what_the_server_sends_unasked_waits_in_incoming() {
    let ctx = context();
    // A raw ROUTER plays the server.
    let mut router = smolmq_tests::with_options(smolmq_reqrep::router(&ctx), |_| {});
    router.bind("tcp+jsonl://127.0.0.1:0").unwrap();
    let endpoint = router.last_endpoint().unwrap().to_string();
    let mut c = client(&ctx, &endpoint);
    let id = c.start("tools/list", ()).unwrap();
    let mut request = router.recv_blocking().unwrap();
    let peer = request.pop_front().unwrap();
    assert_eq!(
        smolmq_tests::text(&request),
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#
    );
    for line in [
        r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"p":1}}"#,
        "garbage",
        r#"{"jsonrpc":"2.0","id":77,"result":0}"#,
        r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#,
    ] {
        let mut m = smolmq_core::Msg::from(line.to_owned());
        m.push_front(peer.clone());
        router.send_blocking(m).unwrap();
    }
    assert_eq!(c.wait(&id, TIMEOUT).unwrap().get(), r#"{"tools":[]}"#);
    match c.next_incoming() {
        Some(Message::Notification { method, params }) => {
            assert_eq!(method, "notifications/progress");
            assert_eq!(params.unwrap().get(), r#"{"p":1}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(c.next_incoming().is_none());
    let stats = c.stats();
    assert_eq!((stats.matched, stats.unmatched, stats.malformed), (1, 1, 1));
}

#[test]
fn close_writes_the_last_answers_out_before_the_context_goes() {
    for transport in ["tcp+jsonl", "ipc+jsonl", "tcp", "ipc"] {
        let server_ctx = context();
        let mut server =
            smolmq_mcp::Server::bind(&server_ctx, &common::bind_endpoint(transport), methods())
                .unwrap();
        let endpoint = server.socket().last_endpoint().unwrap().to_string();
        let ctx = context();
        let mut c = client(&ctx, &endpoint);
        let ids: Vec<Id> = (0..50).map(|i| c.start("echo", [i]).unwrap()).collect();
        let serving = std::thread::spawn(move || {
            for _ in 0..50 {
                server.serve_next(Some(TIMEOUT)).unwrap();
            }
            assert!(server.close(TIMEOUT), "flushed");
            drop(server_ctx);
        });
        serving.join().unwrap();
        for (i, id) in ids.iter().enumerate() {
            let answer = c
                .wait(id, TIMEOUT)
                .unwrap_or_else(|e| panic!("{transport}: answer {i} of 50: {e}"));
            assert_eq!(answer.get(), format!("[{i}]"), "{transport:?}");
        }
        assert!(c.close(TIMEOUT));
    }
}

#[test]
fn a_pair_serves_a_single_client() {
    let ctx = context();
    let mut socket = smolmq_tests::socket_with(&ctx, |_| {});
    let endpoint = smolmq_tests::bind(&mut socket, smolmq_tests::Transport::Tcp);
    let mut server = smolmq_mcp::Server::new(socket, methods());
    let serving = std::thread::spawn(move || {
        for _ in 0..2 {
            server.serve_next(Some(TIMEOUT)).unwrap();
        }
        server
    });
    let mut pair = smolmq_tests::socket_with(&ctx, |_| {});
    pair.connect(&endpoint).unwrap();
    let mut c = Client::new(pair);
    c.set_timeout(TIMEOUT);
    assert_eq!(c.call("echo", json!({"a": 1})).unwrap().get(), r#"{"a":1}"#);
    assert_eq!(c.call("nope", ()).unwrap_err().rpc().unwrap().code, -32601);
    let mut server = serving.join().unwrap();
    assert_eq!(server.dispatcher().stats().requests, 2);
}
