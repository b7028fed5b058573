//! JSON lines over tcp: how the engine's buffers cope with lines split
//! anywhere, bursts, sizes at every boundary, and a line over the maximum.

mod jsonl;

use jsonl::*;
use smolmq::{Context, SocketEvent};
use std::io::Write;
use std::time::Duration;

#[test]
fn a_line_split_at_every_byte_arrives_whole() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let wire = "{\"jsonrpc\":\"2.0\",\"id\":\"ü\"}\r\n{\"second\":[1,2]}\n".as_bytes();
    for cut in 0..=wire.len() {
        c.write_all(&wire[..cut]).unwrap();
        c.flush().unwrap();
        // Give the first piece a chance to be read on its own.
        std::thread::sleep(Duration::from_millis(1));
        c.write_all(&wire[cut..]).unwrap();
        assert_eq!(
            recv_routed(&mut server).1,
            "{\"jsonrpc\":\"2.0\",\"id\":\"ü\"}".as_bytes(),
            "cut at {cut}"
        );
        assert_eq!(
            recv_routed(&mut server).1,
            b"{\"second\":[1,2]}",
            "cut at {cut}"
        );
    }
}

#[test]
fn five_hundred_rapid_messages_each_way() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    let mut want = Vec::new();
    for i in 0..500 {
        // One small write per message, no waiting.
        let line = format!("{{\"seq\":{i}}}\n");
        c.write_all(line.as_bytes()).unwrap();
        want.extend_from_slice(line.as_bytes());
    }
    let mut id = Vec::new();
    for i in 0..500 {
        let (from, line) = recv_routed(&mut server);
        assert_eq!(line, format!("{{\"seq\":{i}}}").as_bytes());
        id = from;
    }
    for i in 0..500 {
        send_routed(&mut server, &id, format!("{{\"seq\":{i}}}").as_bytes());
    }
    assert_eq!(read_exact(&mut r, want.len()), want);
}

/// A JSON line of exactly `len` bytes.
fn line_of(len: usize) -> Vec<u8> {
    assert!(len >= 8);
    let mut line = b"{\"p\":\"".to_vec();
    line.extend((0..len - 8).map(|i| b'0' + (i % 10) as u8));
    line.extend_from_slice(b"\"}");
    assert_eq!(line.len(), len);
    line
}

#[test]
fn sizes_at_the_boundaries_pass_byte_for_byte() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    // Around the inline message size (`INLINE_MAX`, 77, for the body and
    // the routing id together), the copy threshold of the output
    // (16 KiB), the read size (64 KiB), and 1 MiB.
    let sizes = [
        8,
        69,
        70,
        71,
        76,
        77,
        78,
        4095,
        4096,
        4097,
        16383,
        16384,
        16385,
        65535,
        65536,
        65537,
        1 << 20,
    ];
    for len in sizes {
        let mut wire = line_of(len);
        wire.push(b'\n');
        c.write_all(&wire).unwrap();
        let (id, got) = recv_routed(&mut server);
        assert_eq!(got.len(), len);
        assert_eq!(got, wire[..len], "{len} bytes in");
        send_routed(&mut server, &id, &got);
        assert_eq!(read_exact(&mut r, len + 1), wire, "{len} bytes out");
    }
}

/// The error line answering a line over `max` bytes.
fn too_long(max: usize) -> Vec<u8> {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{{\"code\":-32600,\"message\":\
         \"Invalid Request\",\"data\":\"line longer than the maximum of {max} bytes\"}}}}\n"
    )
    .into_bytes()
}

#[test]
fn maxmsgsize_is_the_longest_line_and_one_more_byte_is_refused() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |o| o.maxmsgsize = Some(1024));
    let events = server.monitor();
    let mut c = client(&addr);
    let mut r = reader(&c);
    // At the limit: accepted (a CR before the newline does not count).
    for wire in [line_of(1024), line_of(1023), line_of(1024)] {
        let mut crlf = wire.clone();
        crlf.extend_from_slice(b"\r\n");
        c.write_all(&crlf).unwrap();
        let (id, got) = recv_routed(&mut server);
        assert_eq!(got, wire);
        send_routed(&mut server, &id, b"{\"ok\":true}");
        assert_eq!(read_line(&mut r), b"{\"ok\":true}\n");
    }
    // One byte over: one error line, then the connection is closed.
    let mut over = line_of(1025);
    over.push(b'\n');
    c.write_all(&over).unwrap();
    assert_eq!(read_to_end(&mut r), too_long(1024));
    let e = wait_event(&events, "Disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    });
    let SocketEvent::Disconnected { reason, .. } = e else {
        unreachable!()
    };
    assert!(reason.contains("maximum of 1024 bytes"), "{reason}");
    // Nothing of the over-long line was delivered.
    assert!(smolmq_tests::recv_within(&mut server, Duration::from_millis(100)).is_none());
}

#[test]
fn overflow_of_the_16_mib_default_keeps_what_came_before() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    let max = 16 * 1024 * 1024;
    // Lines before the over-long one are delivered, in order.
    c.write_all(b"{\"before\":1}\n{\"before\":2}\n").unwrap();
    // The over-long line (17 MiB, no newline yet): the limit is enforced
    // before it is buffered whole.
    let writer = {
        let mut c = c.try_clone().unwrap();
        std::thread::spawn(move || {
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(17 * 1024 * 1024) / chunk.len() {
                if c.write_all(&chunk).is_err() {
                    break;
                }
            }
        })
    };
    assert_eq!(recv_routed(&mut server).1, b"{\"before\":1}");
    assert_eq!(recv_routed(&mut server).1, b"{\"before\":2}");
    // The error line, then the end of the stream: nothing else.
    assert_eq!(read_to_end(&mut r), too_long(max));
    writer.join().unwrap();
    assert!(smolmq_tests::recv_within(&mut server, Duration::from_millis(100)).is_none());
}

#[test]
fn a_full_pipe_holds_the_client_back_and_loses_nothing() {
    let ctx = Context::new().unwrap();
    // A tiny RCVHWM: the engine must stop reading and resume, many times.
    let (mut server, addr) = router(&ctx, |o| o.rcvhwm = 4);
    let c = client(&addr);
    let writer = {
        let mut c = c.try_clone().unwrap();
        std::thread::spawn(move || {
            for i in 0..5000 {
                c.write_all(format!("{{\"n\":{i}}}\n").as_bytes()).unwrap();
            }
        })
    };
    for i in 0..5000 {
        assert_eq!(
            recv_routed(&mut server).1,
            format!("{{\"n\":{i}}}").as_bytes()
        );
        if i % 1000 == 0 {
            // Let the pipe fill up behind us.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    writer.join().unwrap();
}

#[test]
fn unbind_frees_the_address_and_keeps_connections() {
    let ctx = Context::new().unwrap();
    let (mut server, addr) = router(&ctx, |_| {});
    let mut c = client(&addr);
    let mut r = reader(&c);
    write(&mut c, b"{\"before\":1}\n");
    let (id, _) = recv_routed(&mut server);
    server.unbind(&format!("tcp+jsonl://{addr}")).unwrap();
    // The address is free at once; the connection accepted before stays.
    let again = std::net::TcpListener::bind(&addr).unwrap();
    drop(again);
    send_routed(&mut server, &id, b"{\"still\":\"here\"}");
    assert_eq!(read_line(&mut r), b"{\"still\":\"here\"}\n");
}
