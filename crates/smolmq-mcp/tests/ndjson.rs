//! Against peers with no smolmq in them, over `tcp+jsonl://`: a plain
//! `std::net::TcpStream` client of a smolmq-mcp server, and a smolmq-mcp
//! client of a plain NDJSON server on a `std::net::TcpListener` thread.
//! Every test compares the bytes that arrived.

mod common;

use serde_json::json;
use smolmq_mcp::{Client, Message, Server};
use smolmq_tests::{context, TIMEOUT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// A smolmq-mcp server over tcp+jsonl and a plain TCP connection to it.
fn server_and_stream() -> (common::Running, TcpStream) {
    let ctx = context();
    let server = common::serve(&ctx, "tcp+jsonl", common::methods());
    let addr = server
        .endpoint
        .strip_prefix("tcp+jsonl://")
        .expect("a tcp+jsonl endpoint")
        .to_owned();
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    (server, stream)
}

/// Reads one line, without its newline.
fn read_line(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("a line");
    assert!(line.ends_with('\n'), "unterminated: {line:?}");
    line.pop();
    line
}

#[test]
fn a_plain_tcp_client_gets_byte_exact_answers() {
    let (server, mut stream) = server_and_stream();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // One write holding several lines: a request, a notification (no
    // answer), bad JSON, an unknown method, CRLF, and a request split
    // over two writes.
    stream
        .write_all(
            concat!(
                r#"{"jsonrpc":"2.0","id":1,"method":"echo","params":{"t":"ü\"\\"}}"#,
                "\n",
                r#"{"jsonrpc":"2.0","method":"echo","params":[]}"#,
                "\n",
                "{not json\n",
                r#"{"jsonrpc":"2.0","id":"two","method":"nope"}"#,
                "\r\n",
                "\n",
                r#"{"jsonrpc":"2.0","id":3,"#
            )
            .as_bytes(),
        )
        .unwrap();
    stream
        .write_all(br#""method":"echo","params":[3]}"#)
        .unwrap();
    stream.write_all(b"\n").unwrap();
    assert_eq!(
        read_line(&mut reader),
        r#"{"jsonrpc":"2.0","id":1,"result":{"t":"ü\"\\"}}"#
    );
    let parse_error = read_line(&mut reader);
    assert!(
        parse_error.starts_with(
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error""#
        ),
        "{parse_error}"
    );
    assert_eq!(
        read_line(&mut reader),
        r#"{"jsonrpc":"2.0","id":"two","error":{"code":-32601,"message":"Method not found","data":"nope"}}"#
    );
    assert_eq!(
        read_line(&mut reader),
        r#"{"jsonrpc":"2.0","id":3,"result":[3]}"#
    );
    drop(stream);
    drop(reader);
    let stats = server.stats();
    assert_eq!(
        (stats.requests, stats.notifications, stats.rejected),
        (3, 1, 1)
    );
}

#[test]
fn a_plain_tcp_client_pipelining_100_requests() {
    let (_server, mut stream) = server_and_stream();
    let mut batch = String::new();
    for i in 0..100 {
        batch.push_str(&format!(
            r#"{{"jsonrpc":"2.0","id":{i},"method":"echo","params":["{}"]}}"#,
            "é".repeat(i)
        ));
        batch.push('\n');
    }
    stream.write_all(batch.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    for i in 0..100 {
        assert_eq!(
            read_line(&mut reader),
            format!(
                r#"{{"jsonrpc":"2.0","id":{i},"result":["{}"]}}"#,
                "é".repeat(i)
            )
        );
    }
}

#[test]
fn a_plain_ndjson_server_answering_out_of_order() {
    // A hand-written JSON-RPC server: reads three requests, answers them
    // last first, with a notification of its own in between.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(read_line(&mut reader));
        }
        let mut out = stream;
        out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"third\"}\n")
            .unwrap();
        out.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{\"level\":\"info\"}}\r\n")
            .unwrap();
        out.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32602,\"message\":\"Invalid params\"}}\n{\"jsonrpc\":\"2.0\",\"id\":1,")
            .unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        out.write_all(b"\"result\":{\"ok\":true}}\n").unwrap();
        // Wait for the client to hang up.
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        got
    });

    let ctx = context();
    let mut c = Client::connect(&ctx, &format!("tcp+jsonl://{addr}")).unwrap();
    c.set_timeout(TIMEOUT);
    let a = c.start("first", json!({"x": 1})).unwrap();
    let b = c.start("second", ["y"]).unwrap();
    let d = c.start("third", ()).unwrap();
    assert_eq!(c.wait(&a, TIMEOUT).unwrap().get(), r#"{"ok":true}"#);
    assert_eq!(
        c.wait(&b, TIMEOUT).unwrap_err().rpc().map(|e| e.code),
        Some(-32602)
    );
    assert_eq!(c.wait(&d, TIMEOUT).unwrap().get(), r#""third""#);
    match c.next_incoming() {
        Some(Message::Notification { method, .. }) => assert_eq!(method, "notifications/message"),
        other => panic!("{other:?}"),
    }
    drop(c);
    drop(ctx);
    let got = server.join().unwrap();
    assert_eq!(
        got,
        [
            r#"{"jsonrpc":"2.0","id":1,"method":"first","params":{"x":1}}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"second","params":["y"]}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"third"}"#,
        ]
    );
}

#[test]
fn a_server_keeps_serving_after_a_client_leaves() {
    let ctx = context();
    let server = common::serve(&ctx, "tcp+jsonl", common::methods());
    let addr = server
        .endpoint
        .strip_prefix("tcp+jsonl://")
        .unwrap()
        .to_owned();
    // A client that asks and leaves before reading the answer.
    {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sleep\",\"params\":[50]}\n")
            .unwrap();
    }
    let mut c = Client::connect(&ctx, &server.endpoint).unwrap();
    c.set_timeout(TIMEOUT);
    assert_eq!(
        c.call("echo", ["still here"]).unwrap().get(),
        r#"["still here"]"#
    );
    drop(c);
    let mut server: Server = server.stop();
    assert_eq!(server.dispatcher().stats().requests, 2);
}

#[test]
fn the_server_hears_plain_clients_come_and_go() {
    use smolmq_mcp::PeerEvent;
    use std::sync::{Arc, Mutex};

    let ctx = context();
    let mut server = Server::bind(&ctx, "tcp+jsonl://127.0.0.1:0", common::methods()).unwrap();
    let addr = server.socket().last_endpoint().unwrap().to_string();
    let addr = addr.strip_prefix("tcp+jsonl://").unwrap().to_owned();
    type Seen = Arc<Mutex<Vec<(Vec<u8>, PeerEvent)>>>;
    let events: Seen = Arc::default();
    let seen = events.clone();
    server.on_peer(move |peer, event| seen.lock().unwrap().push((peer.to_vec(), event)));

    let mut a = TcpStream::connect(&addr).unwrap();
    let b = TcpStream::connect(&addr).unwrap();
    a.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n")
        .unwrap();
    // Serve until both arrived and a's request is answered.
    let deadline = std::time::Instant::now() + TIMEOUT;
    while server.peer_count() < 2 || server.dispatcher().stats().requests < 1 {
        assert!(std::time::Instant::now() < deadline, "never saw both peers");
        let _ = server.serve_next(Some(Duration::from_millis(20)));
    }
    drop(b);
    drop(a);
    while server.peer_count() > 0 {
        assert!(std::time::Instant::now() < deadline, "never saw them leave");
        let _ = server.serve_next(Some(Duration::from_millis(20)));
    }
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 4, "{events:?}");
    for (peer, _) in events.iter() {
        let comes = events
            .iter()
            .filter(|(p, e)| p == peer && *e == PeerEvent::Connected)
            .count();
        let goes = events
            .iter()
            .filter(|(p, e)| p == peer && *e == PeerEvent::Disconnected)
            .count();
        assert_eq!((comes, goes), (1, 1), "{events:?}");
    }
}
