//! `Msg`: conversions, frame access, push and pop, clone independence,
//! iteration, equality, `Debug` output and size.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use smolmq_core::{EmptyMsgError, FrameRef, Msg, INLINE_MAX};

fn frames(msg: &Msg) -> Vec<&[u8]> {
    msg.iter().collect()
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

#[test]
fn size_of_msg_is_small() {
    // Messages travel by value through the pipes: the inline form fills
    // 80 bytes, and the other forms fit in the same space.
    #[cfg(target_pointer_width = "64")]
    assert_eq!(std::mem::size_of::<Msg>(), 80);
    assert!(std::mem::size_of::<Msg>() <= INLINE_MAX + 2 * std::mem::size_of::<usize>());
    assert!(
        std::mem::size_of::<Option<Msg>>()
            <= std::mem::size_of::<Msg>() + std::mem::size_of::<usize>()
    );
}

#[test]
fn small_frames_are_inline_and_large_ones_shared() {
    for len in [0, 1, INLINE_MAX - 1, INLINE_MAX] {
        let data = vec![3u8; len];
        for msg in [
            Msg::copy_from_slice(&data),
            Msg::from(Bytes::from(data.clone())),
            Msg::from(data.clone()),
            Msg::from(BytesMut::from(&data[..])),
        ] {
            assert_eq!(msg.first(), &data[..]);
            assert!(
                matches!(msg.shared_frames().next(), Some(FrameRef::Inline(f)) if f == &data[..]),
                "{len} bytes: inline"
            );
        }
    }
    let data = Bytes::from(vec![4u8; INLINE_MAX + 1]);
    let msg = Msg::from(data.clone());
    let frames: Vec<FrameRef<'_>> = msg.shared_frames().collect();
    assert_eq!(frames, [FrameRef::Shared(&data)]);
    assert_eq!(frames[0].as_slice().as_ptr(), data.as_ptr());
    assert_eq!(Msg::copy_from_slice(&data), msg);
    assert_ne!(Msg::copy_from_slice(&data).first().as_ptr(), data.as_ptr());

    // Multipart frames are kept as given, whatever their size.
    let a = b("a");
    let msg = Msg::from_frames([a.clone(), data.clone()]).unwrap();
    let frames: Vec<FrameRef<'_>> = msg.shared_frames().collect();
    assert_eq!(frames, [FrameRef::Shared(&a), FrameRef::Shared(&data)]);
    assert_eq!(msg.shared_frames().len(), 2);
    assert_eq!(frames[1].to_bytes().as_ptr(), data.as_ptr());
    assert_eq!(FrameRef::Inline(b"xy").to_bytes(), "xy");
}

#[test]
fn inline_frames_survive_every_conversion() {
    let msg = Msg::from("small");
    assert_eq!(msg.clone().into_vec(), [b("small")]);
    assert_eq!(msg.clone().into_frames().collect::<Vec<_>>(), [b("small")]);
    let (first, rest) = msg.clone().split_first();
    assert_eq!(first, "small");
    assert!(rest.is_none());
    let mut pushed = msg.clone();
    pushed.push_back(b("tail"));
    assert_eq!(frames(&pushed), [&b"small"[..], b"tail"]);
    assert_eq!(pushed.pop_front().unwrap(), "small");
    assert!(matches!(
        pushed.shared_frames().next(),
        Some(FrameRef::Inline(b"tail"))
    ));
}

#[test]
fn new_and_default_are_one_empty_frame() {
    for msg in [Msg::new(), Msg::default()] {
        assert_eq!(msg.len(), 1);
        assert!(msg.is_single());
        assert_eq!(msg.size(), 0);
        assert!(msg.first().is_empty());
        assert_eq!(frames(&msg), [&b""[..]]);
    }
    assert_eq!(Msg::new(), Msg::from(""));
}

#[test]
fn conversions_make_one_frame_with_the_same_bytes() {
    let expected: &[u8] = b"hello";
    let all = [
        Msg::from(Bytes::from_static(b"hello")),
        Msg::from(BytesMut::from(&b"hello"[..])),
        Msg::from(b"hello".to_vec()),
        Msg::from(&b"hello"[..]),
        Msg::from(b"hello"),
        Msg::from("hello"),
        Msg::from(String::from("hello")),
        Msg::copy_from_slice(b"hello"),
        Msg::try_from(vec![b("hello")]).unwrap(),
        Msg::from_frames([b("hello")]).unwrap(),
    ];
    for msg in &all {
        assert!(msg.is_single(), "{msg:?}");
        assert_eq!(frames(msg), [expected]);
        assert_eq!(msg, &all[0]);
    }
}

#[test]
fn conversions_of_large_frames_do_not_copy() {
    let data = Bytes::from(vec![7u8; 1000]);
    let msg = Msg::from(data.clone());
    assert_eq!(msg.first().as_ptr(), data.as_ptr());

    let vec = vec![1u8; 100];
    let ptr = vec.as_ptr();
    assert_eq!(Msg::from(vec).first().as_ptr(), ptr);

    let string = "not copied, being longer than the inline maximum of seventy bytes".repeat(2);
    let ptr = string.as_ptr();
    assert_eq!(Msg::from(string).first().as_ptr(), ptr);

    static DATA: &[u8] = &[9; 200];
    assert_eq!(Msg::from(DATA).first().as_ptr(), DATA.as_ptr());

    // Small ones are copied inline: same bytes, no shared memory.
    static SMALL: &[u8] = b"static";
    assert_eq!(Msg::from(SMALL).first(), SMALL);
    assert_ne!(Msg::from(SMALL).first().as_ptr(), SMALL.as_ptr());

    let parts = vec![data.clone(), data.clone()];
    let msg = Msg::try_from(parts).unwrap();
    assert!(msg.iter().all(|f| f.as_ptr() == data.as_ptr()));
}

#[test]
fn multipart_from_vec_and_iterator() {
    let msg = Msg::try_from(vec![b("a"), b("bb"), b("")]).unwrap();
    assert_eq!(msg.len(), 3);
    assert!(!msg.is_single());
    assert_eq!(msg.size(), 3);
    assert_eq!(frames(&msg), [&b"a"[..], b"bb", b""]);
    assert_eq!(msg.first(), b"a");
    assert_eq!(msg.last(), b"");
    assert_eq!(msg.get(1).unwrap(), b"bb");
    assert_eq!(msg.get(3), None);

    let from_iter = Msg::from_frames(["a", "bb", ""].map(b)).unwrap();
    assert_eq!(from_iter, msg);
    // An iterator with a misleading size hint still gives every frame.
    let filtered = Msg::from_frames(
        ["a", "x", "bb", "x", ""]
            .map(b)
            .into_iter()
            .filter(|f| f != "x"),
    );
    assert_eq!(filtered.unwrap(), msg);
}

#[test]
fn no_frames_is_not_a_message() {
    assert_eq!(Msg::try_from(Vec::<Bytes>::new()), Err(EmptyMsgError));
    assert!(Msg::from_frames(std::iter::empty()).is_none());
    assert_eq!(
        EmptyMsgError.to_string(),
        "a message needs at least one frame, got none"
    );
}

#[test]
fn push_back_and_front() {
    let mut msg = Msg::from("body");
    msg.push_back(b("tail"));
    assert_eq!(frames(&msg), [&b"body"[..], b"tail"]);
    msg.push_front(b("id"));
    assert_eq!(frames(&msg), [&b"id"[..], b"body", b"tail"]);
    msg.push_back(b("end"));
    msg.push_front(b("env"));
    assert_eq!(frames(&msg), [&b"env"[..], b"id", b"body", b"tail", b"end"]);
    assert_eq!(msg.len(), 5);
    assert_eq!(msg.size(), 16);
    assert_eq!(msg.first(), b"env");
    assert_eq!(msg.last(), b"end");

    let mut single = Msg::from("x");
    single.push_front(b("id"));
    assert_eq!(frames(&single), [&b"id"[..], b"x"]);
}

#[test]
fn pop_front_never_takes_the_last_frame() {
    let mut msg = Msg::from_frames(["a", "b", "c"].map(b)).unwrap();
    assert_eq!(msg.pop_front().unwrap(), "a");
    assert_eq!(frames(&msg), [&b"b"[..], b"c"]);
    assert_eq!(msg.pop_front().unwrap(), "b");
    assert!(msg.is_single());
    assert_eq!(frames(&msg), [&b"c"[..]]);
    assert_eq!(msg.pop_front(), None);
    assert_eq!(frames(&msg), [&b"c"[..]], "unchanged after a refused pop");
    assert_eq!(msg, Msg::from("c"));
}

#[test]
fn router_envelope_round_trip() {
    let body = Msg::from_frames(["", "request"].map(b)).unwrap();
    let mut routed = body.clone();
    routed.push_front(b("peer-7"));
    assert_eq!(routed.len(), 3);
    let id = routed.pop_front().unwrap();
    assert_eq!(id, "peer-7");
    assert_eq!(routed, body);
}

#[test]
fn split_first() {
    let (first, rest) = Msg::from("only").split_first();
    assert_eq!(first, "only");
    assert!(rest.is_none());

    let (first, rest) = Msg::from_frames(["a", "b"].map(b)).unwrap().split_first();
    assert_eq!(first, "a");
    assert_eq!(rest.unwrap(), Msg::from("b"));

    let (first, rest) = Msg::from_frames(["a", "b", "c"].map(b))
        .unwrap()
        .split_first();
    assert_eq!(first, "a");
    assert_eq!(frames(&rest.unwrap()), [&b"b"[..], b"c"]);
}

#[test]
fn clones_are_independent() {
    let original = Msg::from_frames(["a", "b"].map(b)).unwrap();
    let mut copy = original.clone();
    copy.push_back(b("c"));
    copy.push_front(b("z"));
    assert_eq!(copy.pop_front().unwrap(), "z");
    assert_eq!(copy.pop_front().unwrap(), "a");
    assert_eq!(frames(&original), [&b"a"[..], b"b"]);
    assert_eq!(frames(&copy), [&b"b"[..], b"c"]);

    let single = Msg::from("x");
    let mut copy = single.clone();
    copy.push_back(b("y"));
    assert!(single.is_single());
    assert_eq!(copy.len(), 2);
    // Clones of a large frame share its memory.
    let large = Msg::from(vec![5u8; 1000]);
    let copy = large.clone();
    assert_eq!(large.first().as_ptr(), copy.first().as_ptr());
}

#[test]
fn iteration_by_reference_and_by_value() {
    let msg = Msg::from_frames(["a", "b", "c"].map(b)).unwrap();
    let by_ref: Vec<&[u8]> = (&msg).into_iter().collect();
    assert_eq!(by_ref, [&b"a"[..], b"b", b"c"]);
    assert_eq!(msg.iter().len(), 3);
    assert_eq!(
        msg.iter().rev().collect::<Vec<_>>(),
        [&b"c"[..], b"b", b"a"]
    );
    assert_eq!(Msg::from("x").iter().collect::<Vec<_>>(), [&b"x"[..]]);
    let mut n = 0;
    for frame in &msg {
        assert_eq!(frame.len(), 1);
        n += 1;
    }
    assert_eq!(n, 3);

    let it = msg.clone().into_frames();
    assert_eq!(it.len(), 3);
    assert_eq!(it.rev().collect::<Vec<_>>(), ["c", "b", "a"].map(b));
    assert_eq!(
        msg.clone().into_iter().collect::<Vec<_>>(),
        ["a", "b", "c"].map(b)
    );
    assert_eq!(msg.clone().into_vec(), ["a", "b", "c"].map(b));
    assert_eq!(Vec::from(msg), ["a", "b", "c"].map(b));

    let mut single = Msg::from("x").into_frames();
    assert_eq!(single.size_hint(), (1, Some(1)));
    assert_eq!(single.next().unwrap(), "x");
    assert_eq!(single.size_hint(), (0, Some(0)));
    assert_eq!(single.next(), None);
    assert_eq!(single.next(), None);
    assert_eq!(Msg::from("x").into_vec(), [b("x")]);
}

#[test]
fn equality_is_by_frames_not_by_storage() {
    // A message that was multipart and popped down to one frame equals one
    // that was always single.
    let mut popped = Msg::from_frames(["id", "x"].map(b)).unwrap();
    popped.pop_front();
    assert_eq!(popped, Msg::from("x"));
    assert_ne!(Msg::from("x"), Msg::from("y"));
    assert_ne!(
        Msg::from("ab"),
        Msg::from_frames(["a", "b"].map(b)).unwrap()
    );
    assert_ne!(Msg::from(""), Msg::from_frames(["", ""].map(b)).unwrap());

    use std::collections::HashSet;
    let set: HashSet<Msg> = [popped, Msg::from("x")].into_iter().collect();
    assert_eq!(set.len(), 1);
}

#[test]
fn debug_shows_text_as_text_and_binary_as_hex() {
    assert_eq!(format!("{:?}", Msg::from("hello")), r#"Msg["hello"]"#);
    assert_eq!(format!("{:?}", Msg::new()), r#"Msg[""]"#);
    assert_eq!(
        format!("{:?}", Msg::from(&[0x00u8, 0xff, 0x10][..])),
        "Msg[0x00ff10]"
    );
    let mixed = Msg::from_frames([b("say \"hi\"\n"), Bytes::from_static(&[1, 2])]).unwrap();
    assert_eq!(format!("{mixed:?}"), r#"Msg["say \"hi\"\n", 0x0102]"#);
}

#[test]
fn debug_truncates_long_frames() {
    let text = "a".repeat(100);
    assert_eq!(
        format!("{:?}", Msg::from(text)),
        format!("Msg[\"{}\"\u{2026} (100 B)]", "a".repeat(32))
    );
    assert_eq!(
        format!("{:?}", Msg::from(vec![0xabu8; 300])),
        format!("Msg[0x{}\u{2026} (300 B)]", "ab".repeat(16))
    );
    // Exactly at the limits: shown whole.
    assert_eq!(
        format!("{:?}", Msg::from("b".repeat(32))),
        format!("Msg[\"{}\"]", "b".repeat(32))
    );
    assert_eq!(
        format!("{:?}", Msg::from(vec![0u8; 16])),
        format!("Msg[0x{}]", "00".repeat(16))
    );
    // UTF-8 text is not printable ASCII: shown as hex, never split badly.
    assert_eq!(format!("{:?}", Msg::from("é")), "Msg[0xc3a9]");
}

#[test]
fn debug_output_stays_short_for_huge_messages() {
    let big = Bytes::from(vec![b'x'; 1 << 20]);
    let msg = Msg::from_frames(vec![big; 100]).unwrap();
    assert_eq!(msg.size(), 100 << 20);
    let shown = format!("{msg:?}");
    assert!(
        shown.len() < 100 * 60,
        "{} bytes of Debug output",
        shown.len()
    );
    assert!(shown.contains("(1048576 B)"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Pushes and pops behave as on a `VecDeque` that never drops below one
    /// element, whichever way the frames are stored (frames up to 90 bytes
    /// cross every inline limit: one frame or two of 77 together; a first
    /// frame up to 300 bytes, copied or not, every single-frame form, and
    /// a short frame pushed in front of a copied one, the routed form).
    #[test]
    fn matches_a_deque_model(
        first in proptest::collection::vec(any::<u8>(), 0..300),
        copied in any::<bool>(),
        ops in proptest::collection::vec((0u8..6, proptest::collection::vec(any::<u8>(), 0..90)), 0..40),
    ) {
        // `copy_from_slice` makes a pooled frame held alone of 78 bytes and
        // more; `From<Vec>` a `Bytes` one.
        let mut msg = if copied { Msg::copy_from_slice(&first) } else { Msg::from(first.clone()) };
        let mut model = std::collections::VecDeque::from([first]);
        for (op, data) in ops {
            match op {
                0 => {
                    msg.push_back(Bytes::from(data.clone()));
                    model.push_back(data);
                }
                1 => {
                    msg.push_front(Bytes::from(data.clone()));
                    model.push_front(data);
                }
                2 => {
                    msg.push_front_slice(&data);
                    model.push_front(data);
                }
                5 => msg.share(),
                3 => {
                    prop_assert_eq!(msg.drop_front(), model.len() > 1);
                    if model.len() > 1 {
                        model.pop_front();
                    }
                }
                _ => {
                    let expected = if model.len() > 1 { model.pop_front() } else { None };
                    prop_assert_eq!(msg.pop_front().map(|f| f.to_vec()), expected);
                }
            }
            let want = Vec::from(model.clone());
            prop_assert_eq!(msg.len(), model.len());
            prop_assert_eq!(msg.is_single(), model.len() == 1);
            prop_assert_eq!(msg.size(), model.iter().map(Vec::len).sum::<usize>());
            prop_assert_eq!(msg.first(), &model[0][..]);
            prop_assert_eq!(msg.last(), &model[model.len() - 1][..]);
            for (i, frame) in want.iter().enumerate() {
                prop_assert_eq!(msg.get(i), Some(&frame[..]));
            }
            prop_assert_eq!(msg.get(want.len()), None);
            let got: Vec<Vec<u8>> = msg.iter().map(|f| f.to_vec()).collect();
            prop_assert_eq!(&got, &want);
            let back: Vec<Vec<u8>> = msg.iter().rev().map(|f| f.to_vec()).collect();
            prop_assert_eq!(back, want.iter().rev().cloned().collect::<Vec<_>>());
            prop_assert_eq!(msg.iter().len(), want.len());
            let shared: Vec<Vec<u8>> =
                msg.shared_frames().map(|f| f.as_slice().to_vec()).collect();
            prop_assert_eq!(&shared, &want);
            let owned: Vec<Vec<u8>> = msg.clone().into_frames().map(|f| f.to_vec()).collect();
            prop_assert_eq!(&owned, &want);
            let rebuilt = Msg::from_frames(want.iter().map(|f| Bytes::from(f.clone()))).unwrap();
            prop_assert_eq!(&rebuilt, &msg);
            prop_assert_eq!(Msg::try_from(msg.clone().into_vec()).unwrap(), msg.clone());
        }
    }
}

#[test]
fn a_router_id_and_a_small_body_stay_inline() {
    // 13-byte id + 64-byte body = INLINE2_MAX: both inline, neither shared.
    let id = b"worker-000017";
    let mut msg = Msg::copy_from_slice(&[7u8; 64]);
    msg.push_front_slice(id);
    assert_eq!(msg.len(), 2);
    assert!(msg
        .shared_frames()
        .all(|f| matches!(f, smolmq_core::FrameRef::Inline(_))));
    assert!(msg.drop_front());
    assert_eq!(msg, Msg::copy_from_slice(&[7u8; 64]));
    // One byte more and the pair no longer fits: the frames are shared.
    let mut msg = Msg::copy_from_slice(&[7u8; 65]);
    msg.push_front_slice(id);
    assert!(msg
        .shared_frames()
        .all(|f| matches!(f, smolmq_core::FrameRef::Shared(_))));
    assert_eq!(smolmq_core::INLINE2_MAX, 77);
}

/// Copies of every size around the pooled range (32 KiB to 256 KiB) hold
/// exactly the bytes given, and a pooled buffer handed back by one message
/// and taken by the next never shows the earlier message's bytes.
#[test]
fn large_copies_hold_their_bytes_across_pool_reuse() {
    for len in [
        32 * 1024 - 1,
        32 * 1024,
        64 * 1024,
        100_000,
        256 * 1024,
        256 * 1024 + 1,
    ] {
        let first: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let m = Msg::copy_from_slice(&first);
        assert_eq!(m.first(), &first[..]);
        // Dropped on another thread, as an I/O thread drops a written frame.
        std::thread::spawn(move || drop(m)).join().unwrap();
        let second = vec![0xA5u8; len];
        let m = Msg::copy_from_slice(&second);
        assert_eq!(m.size(), len);
        assert!(m.first().iter().all(|&b| b == 0xA5), "{len}: stale bytes");
        // A clone of the frame keeps it alive after the message is gone.
        let frame = m.clone().into_frames().next().unwrap();
        drop(m);
        assert_eq!(&frame[..], &second[..]);
    }
}

#[test]
fn copies_of_every_size_hold_the_data() {
    // Around each pool tier's edge (powers of two up to 256 KiB) and past
    // the largest: the frame is the data, whatever buffer holds it, and
    // buffers reused after a drop hold nothing of their previous message.
    let mut lens = vec![INLINE_MAX + 1, 300 * 1024];
    for shift in 7..=18 {
        lens.extend([(1 << shift) - 1, 1 << shift, (1 << shift) + 1]);
    }
    for round in 0..2u8 {
        for &len in &lens {
            let data: Vec<u8> = (0..len).map(|i| (i as u8) ^ round).collect();
            let msg = Msg::copy_from_slice(&data);
            assert_eq!(msg.len(), 1);
            assert_eq!(msg.first().len(), len);
            assert!(msg.first() == &data[..], "{len} bytes, round {round}");
            // Sent to another thread and dropped there, as a receiver would.
            std::thread::spawn(move || drop(msg)).join().unwrap();
        }
    }
}

#[test]
fn pooled_copies_are_held_alone_until_shared() {
    use smolmq_core::{FrameRef, POOLED_MAX};
    let data: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let msg = Msg::copy_from_slice(&data);
    // Held alone: an encoder copies it, and a clone is a copy of its own.
    assert!(matches!(msg.shared_frames().next(), Some(FrameRef::Inline(f)) if f == &data[..]));
    let clone = msg.clone();
    assert_eq!(clone, msg);
    assert_ne!(clone.first().as_ptr(), msg.first().as_ptr());
    // Shared: clones point at the one buffer.
    let mut shared = msg;
    shared.share();
    let clone = shared.clone();
    assert_eq!(clone.first().as_ptr(), shared.first().as_ptr());
    assert_eq!(clone.first(), &data[..]);
    // From POOLED_MAX on, a copy is shared from the start.
    let big = Msg::copy_from_slice(&vec![1u8; POOLED_MAX]);
    assert!(matches!(
        big.shared_frames().next(),
        Some(FrameRef::Shared(_))
    ));
    assert_eq!(big.clone().first().as_ptr(), big.first().as_ptr());
    // Every conversion to Bytes keeps the bytes.
    let msg = Msg::copy_from_slice(&data);
    assert_eq!(msg.clone().into_vec(), vec![Bytes::from(data.clone())]);
    assert_eq!(msg.clone().split_first().0, &data[..]);
    let mut two = msg.clone();
    two.push_back(Bytes::from_static(b"tail"));
    assert_eq!(two.len(), 2);
    assert_eq!(two.pop_front().unwrap(), &data[..]);
    let mut front = msg;
    front.push_front_slice(b"id");
    assert_eq!(frames(&front), vec![&b"id"[..], &data[..]]);
}

#[test]
fn a_router_id_beside_a_pooled_body_is_held_with_it() {
    use smolmq_core::{FrameRef, ROUTED_ID_MAX};
    let body: Vec<u8> = (0..1000).map(|i| i as u8).collect();
    let id = [9u8; ROUTED_ID_MAX];
    let mut msg = Msg::copy_from_slice(&body);
    let at = msg.first().as_ptr();
    msg.push_front(Bytes::copy_from_slice(&id));
    // Both frames held by the message: an encoder copies them both, and
    // the body did not move.
    let kinds: Vec<bool> = msg
        .shared_frames()
        .map(|f| matches!(f, FrameRef::Inline(_)))
        .collect();
    assert_eq!(kinds, [true, true]);
    assert_eq!(msg.last().as_ptr(), at);
    assert_eq!(frames(&msg), vec![&id[..], &body[..]]);
    assert_eq!((msg.len(), msg.size()), (2, ROUTED_ID_MAX + 1000));
    assert!(!msg.is_single());
    // A clone copies the body; equality and hashing see only bytes.
    let clone = msg.clone();
    assert_eq!(clone, msg);
    assert_ne!(clone.last().as_ptr(), at);
    // Taking the id off leaves the body as it was, where it was.
    let mut sent = msg.clone();
    let at = sent.last().as_ptr();
    assert!(sent.drop_front());
    assert_eq!(sent.first().as_ptr(), at);
    assert_eq!(sent, Msg::from(body.clone()));
    assert_eq!(msg.clone().pop_front().unwrap(), &id[..]);
    assert_eq!(msg.clone().split_first().0, &id[..]);
    // Growing it keeps the frames in order.
    let mut three = msg.clone();
    three.push_back(Bytes::from_static(b"tail"));
    assert_eq!(frames(&three), vec![&id[..], &body[..], b"tail"]);
    let mut three = msg.clone();
    three.push_front_slice(b"hop");
    assert_eq!(frames(&three), vec![b"hop", &id[..], &body[..]]);
    let owned: Vec<Bytes> = msg.clone().into_frames().collect();
    assert_eq!(owned, msg.clone().into_vec());
    assert_eq!(
        owned,
        vec![Bytes::copy_from_slice(&id), Bytes::from(body.clone())]
    );
    // Shared, the body is reference counted and clones point at it.
    let mut shared = msg;
    shared.share();
    assert!(matches!(
        shared.shared_frames().nth(1),
        Some(FrameRef::Shared(_))
    ));
    assert_eq!(shared.clone().last().as_ptr(), shared.last().as_ptr());
    // In front of one Bytes, the id is held inline and the body stays
    // shared, not copied, both ways.
    let big = Bytes::from(body.clone());
    let mut msg = Msg::from(big.clone());
    msg.push_front_slice(&id[..5]);
    let kinds: Vec<bool> = msg
        .shared_frames()
        .map(|f| matches!(f, FrameRef::Shared(_)))
        .collect();
    assert_eq!(kinds, [false, true]);
    assert_eq!(msg.last().as_ptr(), big.as_ptr());
    assert_eq!(msg.clone().last().as_ptr(), big.as_ptr());
    assert_eq!(
        (msg.len(), msg.size(), msg.get(1)),
        (2, 1005, Some(&body[..]))
    );
    assert_eq!(
        msg.clone().into_vec(),
        vec![Bytes::copy_from_slice(&id[..5]), big.clone()]
    );
    assert!(msg.drop_front());
    assert_eq!(msg.first().as_ptr(), big.as_ptr());
    // A longer first frame goes into a frame list, as before.
    let mut long = Msg::copy_from_slice(&body);
    long.push_front_slice(&[1u8; ROUTED_ID_MAX + 1]);
    assert!(matches!(
        long.shared_frames().next(),
        Some(FrameRef::Shared(_))
    ));
    assert_eq!(long.len(), 2);
}
