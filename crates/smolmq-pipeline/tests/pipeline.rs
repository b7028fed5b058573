//! PUSH and PULL over inproc, ipc and tcp: round robin out, fair queueing
//! in, HWMs and backpressure, whole multipart messages, peers that come
//! and go.

mod common;

use bytes::Bytes;
use common::*;
use smolmq_core::{Error, Msg, Socket};
use std::time::{Duration, Instant};

/// Checks that `got` holds, for each PULL, every `n`-th message of a round
/// robin from sender 0 (`first`, `first + n`, ...), starting from distinct
/// offsets: what one PUSH sending `seqs` to `n` ready peers gives.
fn assert_round_robin(got: &[Vec<Msg>], seqs: std::ops::Range<u32>, what: &str) {
    let n = got.len() as u32;
    let mut offsets = Vec::new();
    for (i, msgs) in got.iter().enumerate() {
        let numbers: Vec<u32> = msgs
            .iter()
            .map(|m| {
                let (sender, seq) = number_of(m);
                assert_eq!(sender, 0, "{what}");
                seq
            })
            .collect();
        assert_eq!(
            numbers.len() as u32,
            seqs.len() as u32 / n,
            "{what}: pull {i} got {numbers:?}"
        );
        let first = numbers[0];
        for (k, &seq) in numbers.iter().enumerate() {
            assert_eq!(
                seq,
                first + k as u32 * n,
                "{what}: pull {i}, message {k}: {numbers:?}"
            );
        }
        offsets.push(first);
    }
    offsets.sort_unstable();
    let expected: Vec<u32> = (seqs.start..seqs.start + n).collect();
    assert_eq!(offsets, expected, "{what}: every pull has its turn");
}

/// Receives `k` messages from each socket, in turn.
fn recv_each(pulls: &mut [Socket], k: usize, what: &str) -> Vec<Vec<Msg>> {
    pulls
        .iter_mut()
        .enumerate()
        .map(|(i, p)| {
            (0..k)
                .map(|j| {
                    p.recv_blocking()
                        .unwrap_or_else(|e| panic!("{what}: pull {i}, message {j}: {e}"))
                })
                .collect()
        })
        .collect()
}

/// Nothing more is waiting on any of `pulls`.
fn assert_all_empty(pulls: &mut [Socket], what: &str) {
    for (i, p) in pulls.iter_mut().enumerate() {
        match p.try_recv() {
            Err(Error::WouldBlock) => {}
            other => panic!("{what}: pull {i} has more: {other:?}"),
        }
    }
}

#[test]
fn one_push_round_robins_over_several_pulls() {
    const PULLS: usize = 3;
    const EACH: usize = 20;
    for t in ALL {
        let what = format!("{t:?}, PUSH binds");
        let ctx = context();
        let mut push = push(&ctx, |_| {});
        let endpoint = bind(&mut push, t, "rr-bind");
        let mut pulls: Vec<Socket> = (0..PULLS)
            .map(|_| {
                let mut p = pull(&ctx, |_| {});
                p.connect(&endpoint).unwrap();
                p
            })
            .collect();
        wait_peers(&mut push, PULLS, &what);
        let total = (PULLS * EACH) as u32;
        for seq in 0..total {
            push.send_blocking(numbered(0, seq, 64)).unwrap();
        }
        let got = recv_each(&mut pulls, EACH, &what);
        assert_round_robin(&got, 0..total, &what);
        assert_all_empty(&mut pulls, &what);

        // The other way round: the PULLs bind, the PUSH connects to each.
        // A connecting PUSH takes its peers in turn from the start, even
        // before the connections are made.
        let what = format!("{t:?}, PUSH connects");
        let mut push = common::push(&ctx, |_| {});
        let mut pulls: Vec<Socket> = (0..PULLS)
            .map(|_| {
                let mut p = pull(&ctx, |_| {});
                let endpoint = bind(&mut p, t, "rr-connect");
                push.connect(&endpoint).unwrap();
                p
            })
            .collect();
        for seq in 0..total {
            push.send_blocking(numbered(0, seq, 64)).unwrap();
        }
        let got = recv_each(&mut pulls, EACH, &what);
        assert_round_robin(&got, 0..total, &what);
        assert_all_empty(&mut pulls, &what);
    }
}

/// Where one sender had several messages in a row: `(position, sender,
/// length)`.
fn long_runs(order: &[u32]) -> Vec<(usize, u32, usize)> {
    let mut runs: Vec<(usize, u32, usize)> = Vec::new();
    for (i, &x) in order.iter().enumerate() {
        match runs.last_mut() {
            Some((_, y, n)) if *y == x => *n += 1,
            _ => runs.push((i, x, 1)),
        }
    }
    runs.retain(|r| r.2 > 1);
    runs
}

#[test]
fn one_pull_fair_queues_several_pushes() {
    const PUSHES: u32 = 3;
    const SNDHWM: usize = 100;
    const RCVHWM: usize = 20;
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut pull = pull(&ctx, |o| o.rcvhwm = RCVHWM);
        let endpoint = bind(&mut pull, t, "fq");
        let mut pushes: Vec<Socket> = (0..PUSHES)
            .map(|_| {
                let mut p = push(&ctx, |o| o.sndhwm = SNDHWM);
                p.connect(&endpoint).unwrap();
                p
            })
            .collect();
        wait_peers(&mut pull, PUSHES as usize, &what);
        // Every PUSH fills its pipe (and over ipc and tcp, the connection's
        // buffers), up to a bound, before the PULL reads anything: `fill`
        // returns once nothing has moved for a while, so the whole path of
        // each sender is full, the PULL's pipe from it (RCVHWM messages)
        // included.
        let sent: Vec<u32> = pushes
            .iter_mut()
            .enumerate()
            .map(|(s, p)| fill(p, s as u32, 256, 3000))
            .collect();
        let total: u32 = sent.iter().sum();
        let mut order = Vec::with_capacity(total as usize);
        let mut next = vec![0u32; PUSHES as usize];
        for i in 0..total {
            let m = pull
                .recv_blocking()
                .unwrap_or_else(|e| panic!("{what}: message {i} of {total}: {e}"));
            let (s, seq) = number_of(&m);
            assert_eq!(seq, next[s as usize], "{what}: sender {s} out of order");
            next[s as usize] += 1;
            order.push(s);
        }
        assert_eq!(next, sent, "{what}: every message arrives");
        assert_all_empty(std::slice::from_mut(&mut pull), &what);

        // While every pipe holds messages the PULL takes one from each in
        // turn. Over inproc every pipe holds exactly SNDHWM + RCVHWM, all
        // ready from the start, so that is the whole run; over ipc and tcp
        // each of the PULL's pipes held RCVHWM when reading began, and
        // refills only add, so the first RCVHWM rounds are certain, however
        // the I/O thread is scheduled (after them, which pipe has a message
        // when the PULL looks depends on the I/O thread's timing, not on
        // the fair queue).
        let rounds = if t == Transport::Inproc {
            assert_eq!(sent, vec![(SNDHWM + RCVHWM) as u32; PUSHES as usize]);
            SNDHWM + RCVHWM
        } else {
            RCVHWM
        };
        for (i, round) in order.chunks(PUSHES as usize).take(rounds).enumerate() {
            let mut round = round.to_vec();
            round.sort_unstable();
            assert_eq!(
                round,
                [0, 1, 2],
                "{what}: round {i}; runs of one sender (position, sender, length): {:?}",
                long_runs(&order)
            );
        }
    }
}

#[test]
fn a_push_without_peers_would_block_and_hands_the_message_back() {
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut push = push(&ctx, |o| o.sndtimeo = Some(Duration::from_millis(200)));
        bind(&mut push, t, "no-peer");
        let msg = Msg::from_frames([Bytes::from_static(b"a"), Bytes::from_static(b"b")]).unwrap();
        assert!(!push.has_out(), "{what}");
        let e = push.try_send(msg.clone()).unwrap_err();
        assert!(matches!(e.error(), Error::WouldBlock), "{what}: {e}");
        assert_eq!(e.into_msg(), msg, "{what}");
        let e = push.send_blocking(msg.clone()).unwrap_err();
        assert!(matches!(e.error(), Error::Timeout), "{what}: {e}");
        assert_eq!(e.into_msg(), msg, "{what}");
    }
}

#[test]
fn a_push_with_every_peer_full_would_block_then_resumes() {
    const HWM: usize = 4;
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut push = push(&ctx, |o| {
            o.sndhwm = HWM;
            o.sndtimeo = Some(Duration::from_millis(200));
        });
        let endpoint = bind(&mut push, t, "full");
        let mut pulls: Vec<Socket> = (0..2)
            .map(|_| {
                let mut p = pull(&ctx, |o| o.rcvhwm = HWM);
                p.connect(&endpoint).unwrap();
                p
            })
            .collect();
        wait_peers(&mut push, 2, &what);
        // Large messages fill the connections' kernel buffers quickly.
        let sent = fill(&mut push, 0, 16 * 1024, 100_000);
        assert!(sent >= 2 * HWM as u32, "{what}: only {sent} sent");
        assert!(!push.has_out(), "{what}: full, yet has_out");
        let msg = numbered(0, sent, 16 * 1024);
        let e = push.try_send(msg.clone()).unwrap_err();
        assert!(matches!(e.error(), Error::WouldBlock), "{what}: {e}");
        assert_eq!(e.into_msg(), msg, "{what}");
        let e = push.send_blocking(msg.clone()).unwrap_err();
        assert!(matches!(e.error(), Error::Timeout), "{what}: {e}");
        assert_eq!(e.into_msg(), msg, "{what}");

        // The PULLs read everything: each in order, none lost.
        let got = drain(&mut pulls, sent as usize);
        let mut all: Vec<u32> = Vec::new();
        for msgs in &got {
            let seqs: Vec<u32> = msgs.iter().map(|m| number_of(m).1).collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{what}: {seqs:?}");
            all.extend(seqs);
        }
        all.sort_unstable();
        assert_eq!(all, (0..sent).collect::<Vec<_>>(), "{what}");

        // Room again: the PUSH is told, and sends.
        let deadline = Instant::now() + TIMEOUT;
        while !push.has_out() {
            assert!(Instant::now() < deadline, "{what}: never writable again");
            let _ = push.wait_activity(Some(Duration::from_millis(50)));
        }
        push.send_blocking(msg.clone()).unwrap();
        let got = drain(&mut pulls, 1);
        assert_eq!(got.concat(), [msg], "{what}");
    }
}

#[test]
fn a_connecting_push_queues_until_the_pull_binds() {
    // tcp is left out: its port is known only once bound.
    for t in [Transport::Inproc, Transport::Ipc] {
        let what = format!("{t:?}");
        let ctx = context();
        let endpoint = endpoint(t, "late-bind");
        let mut push = push(&ctx, |o| {
            o.sndhwm = 5;
            o.sndtimeo = Some(Duration::from_millis(100));
        });
        push.connect(&endpoint).unwrap();
        for seq in 0..5 {
            push.try_send(numbered(0, seq, 8)).unwrap();
        }
        let e = push.try_send(numbered(0, 5, 8)).unwrap_err();
        assert!(matches!(e.error(), Error::WouldBlock), "{what}: {e}");
        assert_eq!(number_of(&e.into_msg()), (0, 5));
        let mut pull = pull(&ctx, |_| {});
        pull.bind(&endpoint).unwrap();
        for seq in 0..5 {
            assert_eq!(
                number_of(&pull.recv_blocking().unwrap()),
                (0, seq),
                "{what}"
            );
        }
        push.set_options(options(|_| {})).unwrap();
        push.send_blocking(numbered(0, 5, 8)).unwrap();
        assert_eq!(number_of(&pull.recv_blocking().unwrap()), (0, 5), "{what}");
    }
}

#[test]
fn a_slow_pull_with_a_small_hwm_gets_everything_in_order() {
    const COUNT: u32 = 2000;
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut pull = pull(&ctx, |o| o.rcvhwm = 2);
        let endpoint = bind(&mut pull, t, "slow");
        let mut push = push(&ctx, |o| o.sndhwm = 2);
        push.connect(&endpoint).unwrap();
        let sender = std::thread::spawn(move || {
            for seq in 0..COUNT {
                push.send_blocking(numbered(0, seq, 100))
                    .unwrap_or_else(|e| panic!("send {seq}: {e}"));
            }
            push
        });
        for seq in 0..COUNT {
            let m = pull
                .recv_blocking()
                .unwrap_or_else(|e| panic!("{what}: message {seq}: {e}"));
            assert_eq!(number_of(&m), (0, seq), "{what}");
            if seq % 100 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let _push = sender.join().unwrap();
        assert_all_empty(std::slice::from_mut(&mut pull), &what);
    }
}

/// Message `seq` of `sender` in the multipart test: 100 frames for even
/// `seq`, 1 for odd, each frame naming sender, seq and its index.
fn multipart(sender: u8, seq: u16) -> Msg {
    let frames = if seq % 2 == 0 { 100 } else { 1 };
    Msg::from_frames((0..frames).map(|f: u8| {
        let s = seq.to_be_bytes();
        Bytes::from(vec![sender, s[0], s[1], f])
    }))
    .unwrap()
}

/// The sender and seq of a message made by [`multipart`], checking that
/// it is whole.
fn multipart_of(msg: &Msg, what: &str) -> (u8, u16) {
    let first: &[u8] = msg.first();
    let (sender, seq) = (first[0], u16::from_be_bytes([first[1], first[2]]));
    assert_eq!(
        *msg,
        multipart(sender, seq),
        "{what}: {sender}/{seq} not whole"
    );
    (sender, seq)
}

#[test]
fn multipart_messages_stay_whole() {
    const COUNT: u16 = 200;
    for t in ALL {
        // Two PUSHes into one PULL, small HWMs so everyone waits a lot.
        let what = format!("{t:?}, 2 PUSH -> PULL");
        let ctx = context();
        let mut pull = pull(&ctx, |o| o.rcvhwm = 5);
        let endpoint = bind(&mut pull, t, "multipart-in");
        let senders: Vec<_> = (0..2u8)
            .map(|s| {
                let mut push = push(&ctx, |o| o.sndhwm = 5);
                push.connect(&endpoint).unwrap();
                std::thread::spawn(move || {
                    for seq in 0..COUNT {
                        push.send_blocking(multipart(s, seq))
                            .unwrap_or_else(|e| panic!("send {s}/{seq}: {e}"));
                    }
                    push
                })
            })
            .collect();
        let mut next = [0u16; 2];
        for i in 0..2 * COUNT {
            let m = pull
                .recv_blocking()
                .unwrap_or_else(|e| panic!("{what}: message {i}: {e}"));
            let (s, seq) = multipart_of(&m, &what);
            assert_eq!(seq, next[s as usize], "{what}: sender {s}");
            next[s as usize] += 1;
        }
        let _pushes: Vec<Socket> = senders.into_iter().map(|h| h.join().unwrap()).collect();

        // One PUSH out to two PULLs: each gets whole messages, in order,
        // and together all of them.
        let what = format!("{t:?}, PUSH -> 2 PULL");
        let mut push = push(&ctx, |o| o.sndhwm = 5);
        let endpoint = bind(&mut push, t, "multipart-out");
        let mut pulls: Vec<Socket> = (0..2)
            .map(|_| {
                let mut p = common::pull(&ctx, |o| o.rcvhwm = 5);
                p.connect(&endpoint).unwrap();
                p
            })
            .collect();
        wait_peers(&mut push, 2, &what);
        let sender = std::thread::spawn(move || {
            for seq in 0..COUNT {
                push.send_blocking(multipart(9, seq))
                    .unwrap_or_else(|e| panic!("send {seq}: {e}"));
            }
            push
        });
        let got = drain(&mut pulls, COUNT as usize);
        let mut all = Vec::new();
        for msgs in &got {
            let seqs: Vec<u16> = msgs.iter().map(|m| multipart_of(m, &what).1).collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{what}: {seqs:?}");
            all.extend(seqs);
        }
        all.sort_unstable();
        assert_eq!(all, (0..COUNT).collect::<Vec<_>>(), "{what}");
        let _push = sender.join().unwrap();
    }
}

#[test]
fn pulls_that_come_and_go() {
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut push = push(&ctx, |_| {});
        let endpoint = bind(&mut push, t, "churn");
        let connect = |_| {
            let mut p = pull(&ctx, |_| {});
            p.connect(&endpoint).unwrap();
            p
        };
        let mut pulls: Vec<Socket> = (0..3).map(connect).collect();
        wait_peers(&mut push, 3, &what);
        // 30 messages queued, 10 to each PULL, none read yet.
        for seq in 0..30 {
            push.send_blocking(numbered(0, seq, 32)).unwrap();
        }
        // One PULL leaves with its 10 unread (they are lost with it). Once
        // the PUSH has noticed, later messages go to the other two only.
        drop(pulls.pop());
        wait_peers(&mut push, 2, &what);
        for seq in 30..50 {
            push.send_blocking(numbered(0, seq, 32)).unwrap();
        }
        let got = recv_each(&mut pulls, 20, &what);
        let mut offsets = Vec::new();
        for (i, msgs) in got.iter().enumerate() {
            let seqs: Vec<u32> = msgs.iter().map(|m| number_of(m).1).collect();
            // 10 old ones, every third, then 10 new ones, every other.
            let old = seqs[0];
            let new = seqs[10];
            let expected: Vec<u32> = (0..10)
                .map(|k| old + 3 * k)
                .chain((0..10).map(|k| new + 2 * k))
                .collect();
            assert_eq!(seqs, expected, "{what}: pull {i}");
            offsets.push(new);
        }
        offsets.sort_unstable();
        assert_eq!(offsets, [30, 31], "{what}");
        assert_all_empty(&mut pulls, &what);

        // A new PULL joins and has its turns.
        pulls.push(connect(3));
        wait_peers(&mut push, 3, &what);
        for seq in 50..80 {
            push.send_blocking(numbered(0, seq, 32)).unwrap();
        }
        let got = recv_each(&mut pulls, 10, &what);
        assert_round_robin(&got, 50..80, &what);

        // Everyone leaves: nowhere to send.
        pulls.clear();
        wait_peers(&mut push, 0, &what);
        let e = push.try_send(numbered(0, 80, 32)).unwrap_err();
        assert!(matches!(e.error(), Error::WouldBlock), "{what}: {e}");
        assert!(!push.has_out(), "{what}");
    }
}

#[test]
fn a_push_leaving_is_read_to_the_end() {
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut pull = pull(&ctx, |_| {});
        let endpoint = bind(&mut pull, t, "push-leaves");
        let mut stay = push(&ctx, |_| {});
        stay.connect(&endpoint).unwrap();
        let mut leave = push(&ctx, |o| o.linger = None);
        leave.connect(&endpoint).unwrap();
        wait_peers(&mut pull, 2, &what);
        for seq in 0..50 {
            leave.send_blocking(numbered(1, seq, 32)).unwrap();
        }
        // Dropped with everything queued: with LINGER forever its
        // connection writes it all out before it ends.
        drop(leave);
        for seq in 0..50 {
            stay.send_blocking(numbered(0, seq, 32)).unwrap();
        }
        let mut next = [0u32; 2];
        for i in 0..100 {
            let m = pull
                .recv_blocking()
                .unwrap_or_else(|e| panic!("{what}: message {i}: {e}"));
            let (s, seq) = number_of(&m);
            assert_eq!(seq, next[s as usize], "{what}: sender {s}");
            next[s as usize] += 1;
        }
        // Read to the end (has_in, like a receive that would block, reads
        // every pipe in turn until empty), the departed PUSH is dropped.
        assert!(!pull.has_in(), "{what}");
        wait_peers(&mut pull, 1, &what);
    }
}

#[test]
fn tcp_push_to_pull_100k_messages_in_order() {
    const COUNT: u32 = 100_000;
    let ctx = context();
    let mut pull = pull(&ctx, |_| {});
    let endpoint = bind(&mut pull, Transport::Tcp, "100k");
    let mut push = push(&ctx, |_| {});
    push.connect(&endpoint).unwrap();
    let sender = std::thread::spawn(move || {
        for seq in 0..COUNT {
            push.send_blocking(numbered(0, seq, 16))
                .unwrap_or_else(|e| panic!("send {seq}: {e}"));
        }
        push
    });
    for seq in 0..COUNT {
        let m = pull
            .recv_blocking()
            .unwrap_or_else(|e| panic!("message {seq}: {e}"));
        assert_eq!(number_of(&m), (0, seq));
    }
    let _push = sender.join().unwrap();
    assert_all_empty(std::slice::from_mut(&mut pull), "tcp");
}

#[test]
fn has_in_and_has_out_tell_the_truth() {
    for t in ALL {
        let what = format!("{t:?}");
        let ctx = context();
        let mut pull = pull(&ctx, |_| {});
        let endpoint = bind(&mut pull, t, "has");
        assert!(!pull.has_in(), "{what}: no peer");
        assert!(!pull.has_out(), "{what}: PULL never sends");
        let mut push = push(&ctx, |_| {});
        push.connect(&endpoint).unwrap();
        // A connecting PUSH queues at once.
        assert!(push.has_out(), "{what}");
        assert!(!push.has_in(), "{what}: PUSH never receives");
        push.send_blocking(Msg::from("one")).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        while !pull.has_in() {
            assert!(Instant::now() < deadline, "{what}: never readable");
            let _ = pull.wait_activity(Some(Duration::from_millis(50)));
        }
        // Asking twice changes nothing.
        assert!(pull.has_in(), "{what}");
        assert_eq!(pull.try_recv().unwrap(), Msg::from("one"), "{what}");
        assert!(!pull.has_in(), "{what}: read empty");
    }
}

#[test]
fn push_cannot_receive_and_pull_cannot_send() {
    let ctx = context();
    let mut pull = pull(&ctx, |_| {});
    pull.bind(&endpoint(Transport::Inproc, "unsupported"))
        .unwrap();
    let mut push = push(&ctx, |_| {});
    push.connect(&bound_to(&pull)).unwrap();
    assert!(matches!(push.try_recv(), Err(Error::Unsupported(_))));
    assert!(matches!(push.recv_blocking(), Err(Error::Unsupported(_))));
    let msg = Msg::from("nope");
    let e = pull.try_send(msg.clone()).unwrap_err();
    assert!(matches!(e.error(), Error::Unsupported(_)), "{e}");
    assert_eq!(e.into_msg(), msg);
    let e = pull.send_blocking(msg.clone()).unwrap_err();
    assert!(matches!(e.error(), Error::Unsupported(_)), "{e}");
    // A PUSH takes only PULL peers (RFC 37), a PULL only PUSH ones.
    let mut other = common::push(&ctx, |_| {});
    let e = other.connect(&bound_to(&push_bound(&ctx))).unwrap_err();
    assert!(matches!(e, Error::Incompatible { .. }), "{e}");
    let mut other = common::pull(&ctx, |_| {});
    let e = other.connect(&bound_to(&pull)).unwrap_err();
    assert!(matches!(e, Error::Incompatible { .. }), "{e}");
}

/// A PUSH bound to a fresh inproc name.
fn push_bound(ctx: &smolmq_core::Context) -> Socket {
    let mut p = common::push(ctx, |_| {});
    bind(&mut p, Transport::Inproc, "bound-push");
    p
}

/// Where `s` is bound.
fn bound_to(s: &Socket) -> String {
    s.last_endpoint().unwrap().to_string()
}
