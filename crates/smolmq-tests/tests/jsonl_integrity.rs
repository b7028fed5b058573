//! JSON lines over tcp: message integrity, byte for byte, between a
//! smolmq ROUTER and plain `std::net::TcpStream` clients.

mod jsonl;

use jsonl::*;
use smolmq::Context;

#[test]
fn one_message_each_way() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    write(
        &mut c,
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
    );
    let (id, line) = recv_routed(&mut server);
    assert_eq!(line, b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
    send_routed(
        &mut server,
        &id,
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
    );
    assert_eq!(
        read_line(&mut r),
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
    );
}

#[test]
fn a_batch_of_100_arrives_whole_and_in_order() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    let lines: Vec<String> = (0..100)
        .map(|i| format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"m\"}}"))
        .collect();
    // One write: the batch arrives in whatever pieces TCP makes of it.
    let wire: String = lines.iter().map(|l| format!("{l}\n")).collect();
    write(&mut c, wire.as_bytes());
    let mut id = Vec::new();
    for want in &lines {
        let (from, line) = recv_routed(&mut server);
        assert_eq!(line, want.as_bytes());
        id = from;
    }
    // And back: 100 replies, in order, byte for byte.
    for want in &lines {
        send_routed(&mut server, &id, want.as_bytes());
    }
    let got = read_exact(&mut r, wire.len());
    assert_eq!(got, wire.as_bytes());
}

#[test]
fn a_4_kib_payload_both_ways() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    let head = b"{\"jsonrpc\":\"2.0\",\"id\":7,\"params\":\"";
    let mut line = head.to_vec();
    line.extend((0..4096 - head.len() - 2).map(|i| b'a' + (i % 26) as u8));
    line.extend_from_slice(b"\"}");
    assert_eq!(line.len(), 4096);
    let mut wire = line.clone();
    wire.push(b'\n');
    write(&mut c, &wire);
    let (id, got) = recv_routed(&mut server);
    assert_eq!(got, line);
    send_routed(&mut server, &id, &line);
    assert_eq!(read_exact(&mut r, wire.len()), wire);
}

#[test]
fn empty_lines_and_crlf_are_framing_not_messages() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    write(&mut c, b"\n\r\n{\"a\":1}\r\n\n\n{\"b\":2}\n");
    assert_eq!(recv_routed(&mut server).1, b"{\"a\":1}");
    assert_eq!(recv_routed(&mut server).1, b"{\"b\":2}");
    // Nothing else: the empty lines were not messages.
    assert!(
        smolmq_tests::recv_within(&mut server, std::time::Duration::from_millis(100)).is_none()
    );
}

#[test]
fn special_and_non_ascii_characters_pass_unchanged() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    let lines: [&str; 5] = [
        r#"{"text":"tab\there, quote \" backslash \\ newline \n escaped"}"#,
        r#"{"text":"héllo wörld, Ελληνικά, 日本語, emoji 🦀"}"#,
        "{\"ctrl\":\"\u{1}\u{7f}\", \"cr\":\"a\rb\"}",
        r#"{"zero":"\u0000","bom":"\ufeff"}"#,
        "\u{feff}not at stream start: data",
    ];
    for line in lines {
        write(&mut c, line.as_bytes());
        write(&mut c, b"\n");
    }
    let mut id = Vec::new();
    for line in lines {
        let (from, got) = recv_routed(&mut server);
        assert_eq!(got, line.as_bytes());
        id = from;
    }
    for line in lines {
        send_routed(&mut server, &id, line.as_bytes());
        let mut want = line.as_bytes().to_vec();
        want.push(b'\n');
        assert_eq!(read_line(&mut r), want);
    }
}

#[test]
fn ordering_holds_across_interleaved_clients() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut a = client(&addr);
    let mut b = client(&addr);
    for i in 0..200 {
        write(&mut a, format!("{{\"a\":{i}}}\n").as_bytes());
        write(&mut b, format!("{{\"b\":{i}}}\n").as_bytes());
    }
    let mut next = std::collections::HashMap::<(Vec<u8>, u8), usize>::new();
    for _ in 0..400 {
        let (id, line) = recv_routed(&mut server);
        let tag = line[2];
        let n: usize = std::str::from_utf8(&line[5..line.len() - 1])
            .unwrap()
            .parse()
            .unwrap();
        let seen = next.entry((id, tag)).or_default();
        assert_eq!(n, *seen, "per-client order kept");
        *seen += 1;
    }
    assert_eq!(next.len(), 2, "two clients, two routing ids");
}
