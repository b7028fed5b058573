//! smolmq as the client of a plain NDJSON server (a `std` listener thread
//! with no smolmq code in it), over tcp+jsonl and ipc+jsonl.

mod jsonl;

use jsonl::*;
use smolmq::{Context, Msg, SocketType};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::net::{UnixListener, UnixStream};
use std::thread;

/// An echo server that answers each line with `reply:` + the line; it
/// serves one connection and returns every line it got.
fn tcp_echo_server() -> (String, thread::JoinHandle<Vec<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
        echo(BufReader::new(conn.try_clone().unwrap()), conn)
    });
    (addr, handle)
}

/// Echoes lines from `r` to `w` until end of file.
fn echo(mut r: impl BufRead, mut w: impl Write) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    loop {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line).unwrap() == 0 {
            return got;
        }
        let mut reply = b"{\"reply\":".to_vec();
        reply.extend_from_slice(line.strip_suffix(b"\n").unwrap());
        reply.extend_from_slice(b"}\n");
        w.write_all(&reply).unwrap();
        got.push(line);
    }
}

#[test]
fn a_dealer_talks_to_a_plain_ndjson_server() {
    let (addr, server) = tcp_echo_server();
    let ctx = Context::new().unwrap();
    let mut dealer = socket(&ctx, SocketType::Dealer, |_| {});
    dealer.connect(&format!("tcp+jsonl://{addr}")).unwrap();
    for i in 0..50 {
        let line = format!("{{\"id\":{i}}}");
        dealer
            .send_blocking(Msg::copy_from_slice(line.as_bytes()))
            .unwrap();
    }
    for i in 0..50 {
        let got = recv(&mut dealer);
        assert_eq!(
            smolmq_tests::text(&got),
            format!("{{\"reply\":{{\"id\":{i}}}}}")
        );
    }
    drop(dealer);
    let seen = server.join().unwrap();
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[7], b"{\"id\":7}\n");
}

#[test]
fn a_pair_over_ipc_jsonl_talks_to_a_unix_socket_server() {
    let dir = std::env::temp_dir().join(format!("smolmq-jsonl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pair.sock");
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
        echo(BufReader::new(conn.try_clone().unwrap()), conn)
    });
    let ctx = Context::new().unwrap();
    let mut pair = socket(&ctx, SocketType::Pair, |_| {});
    pair.connect(&format!("ipc+jsonl://{}", path.display()))
        .unwrap();
    pair.send_blocking(Msg::from("{\"über\":\"ipc\"}")).unwrap();
    assert_eq!(
        smolmq_tests::text(&recv(&mut pair)),
        "{\"reply\":{\"über\":\"ipc\"}}"
    );
    drop(pair);
    assert_eq!(
        server.join().unwrap(),
        [b"{\"\xc3\xbcber\":\"ipc\"}\n".to_vec()]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_router_serves_unix_stream_clients_over_ipc_jsonl() {
    let ctx = Context::new().unwrap();
    let mut server = socket(&ctx, SocketType::Router, |_| {});
    server.bind("ipc+jsonl://*").unwrap();
    let ep = server.last_endpoint().unwrap().to_string();
    assert!(ep.starts_with("ipc+jsonl://"), "{ep}");
    let path = ep.trim_start_matches("ipc+jsonl://").to_owned();
    let mut c = UnixStream::connect(&path).unwrap();
    c.set_read_timeout(Some(smolmq_tests::TIMEOUT)).unwrap();
    let mut r = BufReader::new(c.try_clone().unwrap());
    c.write_all(b"{\"q\":1}\n").unwrap();
    let (id, line) = recv_routed(&mut server);
    assert_eq!(line, b"{\"q\":1}");
    send_routed(&mut server, &id, b"{\"a\":1}");
    assert_eq!(read_line(&mut r), b"{\"a\":1}\n");
}

#[test]
fn smolmq_talks_to_smolmq_over_jsonl() {
    let ctx = Context::new().unwrap();
    let mut server = socket(&ctx, SocketType::Router, |_| {});
    server.bind("tcp+jsonl://127.0.0.1:0").unwrap();
    let ep = server.last_endpoint().unwrap().to_string();
    let mut client = socket(&ctx, SocketType::Dealer, |_| {});
    client.connect(&ep).unwrap();
    client.send_blocking(Msg::from("{\"m\":\"hi\"}")).unwrap();
    let (id, line) = recv_routed(&mut server);
    assert_eq!(line, b"{\"m\":\"hi\"}");
    send_routed(&mut server, &id, b"{\"r\":\"ho\"}");
    assert_eq!(recv(&mut client), Msg::from("{\"r\":\"ho\"}"));
}
