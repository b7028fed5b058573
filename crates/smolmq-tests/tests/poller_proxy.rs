//! The poller and the proxies over every transport.

use bytes::Bytes;
use smolmq_core::poller::{poll, poll_async, Events, PollItem};
use smolmq_core::proxy::{proxy_steerable, ProxyStats};
use smolmq_core::{Error, Msg};
use smolmq_tests::{context, pair, pair_with, Transport, ALL, TIMEOUT};
use std::time::Duration;

#[test]
fn poll_finds_the_socket_that_has_a_message() {
    for t in ALL {
        let ctx = context();
        let mut pairs: Vec<_> = (0..4).map(|_| pair(&ctx, t)).collect();
        // Nothing yet: a short poll times out with nothing ready.
        {
            let mut items: Vec<_> = pairs
                .iter_mut()
                .map(|(server, _)| PollItem::new(server, Events::READABLE))
                .collect();
            assert_eq!(
                poll(&mut items, Some(Duration::from_millis(20))).unwrap(),
                0
            );
            assert!(items.iter().all(|i| i.ready().is_empty()));
        }
        // A message to the third: only it is readable.
        pairs[2].1.send_blocking(Msg::from("for 2")).unwrap();
        let mut items: Vec<_> = pairs
            .iter_mut()
            .map(|(server, _)| PollItem::new(server, Events::READABLE))
            .collect();
        assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1, "{t:?}");
        let ready: Vec<bool> = items.iter().map(|i| i.ready().is_readable()).collect();
        assert_eq!(ready, [false, false, true, false], "{t:?}");
        assert_eq!(items[2].socket().try_recv().unwrap(), Msg::from("for 2"));
    }
}

#[test]
fn poll_reports_writable_until_the_hwm_and_again_when_room_frees() {
    for t in ALL {
        let ctx = context();
        let (mut server, mut client) = pair_with(&ctx, t, |o| o.rcvhwm = 2, |o| o.sndhwm = 2);
        // Let the connection come up (tcp / ipc), then fill the pipes.
        client.send_blocking(Msg::from("first")).unwrap();
        assert_eq!(server.recv_blocking().unwrap(), Msg::from("first"));
        // 64 KiB messages, so that the kernel's socket buffers (tcp, ipc)
        // fill after a few dozen; fill until the writer stays refused.
        let big = Bytes::from(vec![7u8; 64 << 10]);
        let mut sent = 0;
        for _ in 0..1000 {
            while sent < 10_000 {
                match client.try_send(Msg::from(big.clone())) {
                    Ok(()) => sent += 1,
                    Err(e) if e.error().is_would_block() => break,
                    Err(e) => panic!("{e}"),
                }
            }
            let mut items = [PollItem::new(&mut client, Events::WRITABLE)];
            if poll(&mut items, Some(Duration::from_millis(20))).unwrap() == 0 {
                break;
            }
        }
        assert!(sent < 10_000, "{t:?}: the HWM never held");
        {
            let mut items = [PollItem::new(&mut client, Events::WRITABLE)];
            assert_eq!(
                poll(&mut items, Some(Duration::from_millis(20))).unwrap(),
                0
            );
            assert!(items[0].ready().is_empty());
        }
        // The reader drains: the writer becomes writable.
        for _ in 0..sent {
            assert_eq!(server.recv_blocking().unwrap().size(), 64 << 10);
        }
        let mut items = [PollItem::new(&mut client, Events::BOTH)];
        assert_eq!(poll(&mut items, Some(TIMEOUT)).unwrap(), 1, "{t:?}");
        assert_eq!(items[0].ready(), Events::WRITABLE, "{t:?}");
    }
}

#[test]
fn async_poll_wakes_on_a_message() {
    let ctx = context();
    let (mut server, mut client) = pair(&ctx, Transport::Tcp);
    let sender = std::thread::spawn(move || {
        client.send_blocking(Msg::from("late")).unwrap();
        client
    });
    futures_lite::future::block_on(async {
        let mut items = [PollItem::new(&mut server, Events::READABLE)];
        assert_eq!(poll_async(&mut items, Some(TIMEOUT)).await.unwrap(), 1);
    });
    assert_eq!(server.try_recv().unwrap(), Msg::from("late"));
    drop(sender.join().unwrap());
    // And times out with nothing.
    futures_lite::future::block_on(async {
        let mut items = [PollItem::new(&mut server, Events::READABLE)];
        let n = poll_async(&mut items, Some(Duration::from_millis(20)))
            .await
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn an_empty_poll_without_timeout_is_refused() {
    assert!(matches!(poll(&mut [], None), Err(Error::Unsupported(_))));
    assert_eq!(poll(&mut [], Some(Duration::ZERO)).unwrap(), 0);
}

/// The counters of a `STATISTICS` reply.
fn stats_of(msg: &Msg) -> [u64; 8] {
    assert_eq!(msg.len(), 8, "eight counters");
    let mut out = [0u64; 8];
    for (o, frame) in out.iter_mut().zip(msg.iter()) {
        let frame: &[u8] = frame;
        *o = u64::from_le_bytes(frame.try_into().expect("8-byte counter"));
    }
    out
}

#[test]
fn a_steerable_proxy_forwards_both_ways_captures_pauses_and_counts() {
    for t in ALL {
        let ctx = context();
        // client <-> [front | proxy | back] <-> worker; capture -> tap.
        let (mut front, mut client) = pair(&ctx, t);
        let (mut back, mut worker) = pair(&ctx, t);
        let (mut capture, mut tap) = pair(&ctx, t);
        let (mut control, mut steer) = pair(&ctx, t);
        // The capture drops what it cannot send at once: make sure its
        // connection is up first.
        tap.send_blocking(Msg::from("up?")).unwrap();
        assert_eq!(capture.recv_blocking().unwrap(), Msg::from("up?"));
        let proxy = std::thread::spawn(move || {
            proxy_steerable(&mut front, &mut back, Some(&mut capture), &mut control)
        });
        for i in 0..100u32 {
            let msg = Msg::from_frames([Bytes::from(format!("req {i}")), Bytes::from_static(b"x")])
                .unwrap();
            client.send_blocking(msg.clone()).unwrap();
            assert_eq!(worker.recv_blocking().unwrap(), msg, "{t:?}");
            let reply = Msg::from(format!("rep {i}"));
            worker.send_blocking(reply.clone()).unwrap();
            assert_eq!(client.recv_blocking().unwrap(), reply, "{t:?}");
            // The capture saw both, in order.
            assert_eq!(tap.recv_blocking().unwrap(), msg, "{t:?}");
            assert_eq!(tap.recv_blocking().unwrap(), reply, "{t:?}");
        }
        steer.send_blocking(Msg::from("STATISTICS")).unwrap();
        let stats = stats_of(&steer.recv_blocking().unwrap());
        // Frontend: 200 frames in (100 two-frame requests), 100 out; the
        // backend the other way round.
        assert_eq!(stats[0], 200, "{t:?}: frontend frames in");
        assert_eq!(stats[2], 100, "{t:?}: frontend frames out");
        assert_eq!(stats[4], 100, "{t:?}: backend frames in");
        assert_eq!(stats[6], 200, "{t:?}: backend frames out");
        assert_eq!(
            stats[1], stats[7],
            "{t:?}: bytes in at the front = out at the back"
        );
        // Paused, nothing moves; resumed, it does.
        steer.send_blocking(Msg::from("PAUSE")).unwrap();
        steer.send_blocking(Msg::from("STATISTICS")).unwrap();
        let paused_at = stats_of(&steer.recv_blocking().unwrap());
        client.send_blocking(Msg::from("while paused")).unwrap();
        worker
            .set_options(smolmq_core::SocketOptions {
                rcvtimeo: Some(Duration::from_millis(50)),
                ..worker.options().clone()
            })
            .unwrap();
        assert!(worker.recv_blocking().unwrap_err().is_timeout(), "{t:?}");
        steer.send_blocking(Msg::from("STATISTICS")).unwrap();
        assert_eq!(
            stats_of(&steer.recv_blocking().unwrap()),
            paused_at,
            "{t:?}"
        );
        steer.send_blocking(Msg::from("RESUME")).unwrap();
        worker
            .set_options(smolmq_core::SocketOptions {
                rcvtimeo: Some(TIMEOUT),
                ..worker.options().clone()
            })
            .unwrap();
        assert_eq!(
            worker.recv_blocking().unwrap(),
            Msg::from("while paused"),
            "{t:?}"
        );
        steer.send_blocking(Msg::from("TERMINATE")).unwrap();
        let ProxyStats { frontend, backend } = proxy.join().unwrap().unwrap();
        assert_eq!(frontend.frames_in, 201, "{t:?}");
        assert_eq!(backend.frames_out, 201, "{t:?}");
    }
}

#[test]
fn a_proxy_keeps_backpressure() {
    // A worker that does not read: the proxy holds one message and stops
    // reading, so the client's pipe fills and its sends would block.
    let ctx = context();
    let t = Transport::Tcp;
    let (mut front, mut client) = pair_with(&ctx, t, |o| o.rcvhwm = 10, |o| o.sndhwm = 10);
    let (mut back, mut worker) = pair_with(&ctx, t, |o| o.sndhwm = 10, |o| o.rcvhwm = 10);
    let (mut control, mut steer) = pair(&ctx, t);
    let proxy =
        std::thread::spawn(move || proxy_steerable(&mut front, &mut back, None, &mut control));
    // 64 KiB messages: the kernel's buffers hold only a few dozen.
    let body = |i: u32| {
        let mut b = vec![0u8; 64 << 10];
        b[..4].copy_from_slice(&i.to_le_bytes());
        Msg::from(b)
    };
    let mut sent = 0u32;
    let mut blocked = 0;
    while sent < 10_000 && blocked < 100 {
        match client.try_send(body(sent)) {
            Ok(()) => {
                sent += 1;
                blocked = 0;
            }
            Err(e) if e.error().is_would_block() => {
                blocked += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(sent < 10_000, "the client was never held back");
    // Every message arrives, in order, once the worker reads.
    for i in 0..sent {
        assert_eq!(worker.recv_blocking().unwrap(), body(i));
    }
    steer.send_blocking(Msg::from("TERMINATE")).unwrap();
    proxy.join().unwrap().unwrap();
}
