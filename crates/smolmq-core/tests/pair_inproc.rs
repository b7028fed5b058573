//! PAIR sockets over inproc: both bind orders, HWM, timeouts, async and
//! blocking forms, monitor events.
#![cfg(not(loom))]

use bytes::Bytes;
use smolmq_core::{Context, Error, Msg, SocketEvent, SocketOptions};
use smolmq_zmtp::SocketType;
use std::thread;
use std::time::Duration;

/// A socket with send and receive timeouts, so a bug fails instead of
/// hanging.
fn socket(ctx: &Context) -> smolmq_core::Socket {
    let mut s = ctx.socket(SocketType::Pair).unwrap();
    let opts = SocketOptions {
        sndtimeo: Some(Duration::from_secs(30)),
        rcvtimeo: Some(Duration::from_secs(30)),
        ..SocketOptions::default()
    };
    s.set_options(opts).unwrap();
    s
}

#[test]
fn bind_then_connect_both_ways() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://btc").unwrap();
    let mut b = socket(&ctx);
    b.connect("inproc://btc").unwrap();
    b.send_blocking(Msg::from("hello")).unwrap();
    assert_eq!(a.recv_blocking().unwrap(), Msg::from("hello"));
    a.send_blocking(Msg::from("world")).unwrap();
    assert_eq!(b.recv_blocking().unwrap(), Msg::from("world"));
}

#[test]
fn connect_before_bind_completes_when_the_bind_comes() {
    let ctx = Context::new().unwrap();
    let mut b = socket(&ctx);
    b.connect("inproc://cbb").unwrap();
    // Queued before anyone is bound.
    for i in 0..10u8 {
        b.try_send(Msg::from(vec![i])).unwrap();
    }
    let mut a = socket(&ctx);
    a.bind("inproc://cbb").unwrap();
    for i in 0..10u8 {
        assert_eq!(a.recv_blocking().unwrap(), Msg::from(vec![i]));
    }
}

#[test]
fn a_bound_pair_without_peer_would_block() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://lonely").unwrap();
    let err = a.try_send(Msg::from("x")).unwrap_err();
    assert!(err.error().is_would_block());
    assert_eq!(err.into_msg(), Msg::from("x"));
    assert!(a.try_recv().unwrap_err().is_would_block());
}

#[test]
fn binding_a_name_twice_fails() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://twice").unwrap();
    let mut b = socket(&ctx);
    match b.bind("inproc://twice") {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse),
        other => panic!("expected AddrInUse, got {other:?}"),
    }
    drop(a);
    // The name is free again once its socket is gone.
    b.bind("inproc://twice").unwrap();
}

#[test]
fn hwm_blocks_the_sender_until_the_receiver_reads() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    let mut opts = a.options().clone();
    opts.rcvhwm = 5;
    a.set_options(opts).unwrap();
    a.bind("inproc://hwm").unwrap();
    let mut b = socket(&ctx);
    let mut opts = b.options().clone();
    opts.sndhwm = 5;
    b.set_options(opts).unwrap();
    b.connect("inproc://hwm").unwrap();
    // SNDHWM 5 + RCVHWM 5: ten messages fit.
    let mut sent = 0;
    while b.try_send(Msg::from("m")).is_ok() {
        sent += 1;
        assert!(sent <= 10, "HWM not enforced");
    }
    assert_eq!(sent, 10);
    assert!(a.recv_blocking().is_ok());
    // Room comes back once the reader reports (every low-water mark).
    let receiver = thread::spawn(move || {
        for _ in 0..100 {
            a.recv_blocking().unwrap();
        }
        a
    });
    for _ in 0..91 {
        b.send_blocking(Msg::from("m")).unwrap();
    }
    receiver.join().unwrap();
}

#[test]
fn recv_times_out() {
    let ctx = Context::new().unwrap();
    let mut a = ctx.socket(SocketType::Pair).unwrap();
    let mut opts = a.options().clone();
    opts.rcvtimeo = Some(Duration::from_millis(50));
    a.set_options(opts).unwrap();
    a.bind("inproc://timeout").unwrap();
    assert!(matches!(a.recv_blocking(), Err(Error::Timeout)));
}

#[test]
fn async_send_and_recv_across_threads() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://async").unwrap();
    let mut b = socket(&ctx);
    b.connect("inproc://async").unwrap();
    let receiver = thread::spawn(move || {
        futures_lite::future::block_on(async {
            let mut total = 0usize;
            for i in 0..10_000u32 {
                let m = a.recv().await.unwrap();
                assert_eq!(m.first()[..], i.to_be_bytes());
                total += 1;
            }
            total
        })
    });
    futures_lite::future::block_on(async {
        for i in 0..10_000u32 {
            b.send(Msg::from(Bytes::copy_from_slice(&i.to_be_bytes())))
                .await
                .unwrap();
        }
    });
    assert_eq!(receiver.join().unwrap(), 10_000);
}

#[test]
fn multipart_messages_arrive_whole() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://multi").unwrap();
    let mut b = socket(&ctx);
    b.connect("inproc://multi").unwrap();
    for parts in 1..=100usize {
        let msg = Msg::from_frames((0..parts).map(|p| Bytes::from(vec![p as u8; p]))).unwrap();
        b.send_blocking(msg.clone()).unwrap();
        assert_eq!(a.recv_blocking().unwrap(), msg);
    }
}

#[test]
fn pair_refuses_a_second_peer() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    a.bind("inproc://exclusive").unwrap();
    let mut first = socket(&ctx);
    first.connect("inproc://exclusive").unwrap();
    let mut second = socket(&ctx);
    second.connect("inproc://exclusive").unwrap();
    first.send_blocking(Msg::from("first")).unwrap();
    assert_eq!(a.recv_blocking().unwrap(), Msg::from("first"));
    // The second peer's pipe was dropped by `a`: what it sends goes nowhere.
    let _ = second.try_send(Msg::from("second"));
    let mut opts = a.options().clone();
    opts.rcvtimeo = Some(Duration::from_millis(100));
    a.set_options(opts).unwrap();
    assert!(matches!(a.recv_blocking(), Err(Error::Timeout)));
}

#[test]
fn monitor_reports_listening_and_closed() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    let events = a.monitor();
    a.bind("inproc://monitored").unwrap();
    drop(a);
    let got: Vec<SocketEvent> = events.try_iter().collect();
    assert!(
        matches!(
            &got[..],
            [SocketEvent::Listening { .. }, SocketEvent::Closed]
        ),
        "{got:?}"
    );
}

#[test]
fn other_socket_types_are_not_implemented_yet() {
    let ctx = Context::new().unwrap();
    match ctx.socket(SocketType::Pub) {
        Err(Error::Unsupported(why)) => assert!(why.contains("PUB"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tcp_without_a_transport_is_a_clear_error() {
    let ctx = Context::new().unwrap();
    let mut a = socket(&ctx);
    match a.bind("tcp://127.0.0.1:0") {
        Err(Error::Unsupported(why)) => assert!(why.contains("tcp"), "{why}"),
        other => panic!("{other:?}"),
    }
}
