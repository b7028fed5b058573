//! The `PooledBuf` API: filling within the fixed capacity, the checked and
//! panicking (`BufMut`) write paths, `io::Write`, and a model check against
//! `Vec<u8>`.

use bytes::BufMut;
use proptest::prelude::*;
use smolmq_pool::{Pool, PooledBuf};
use std::io::Write;

fn buf(pool: &Pool, capacity: usize) -> PooledBuf {
    let b = pool.get(capacity);
    assert_eq!(b.capacity(), capacity);
    b
}

#[test]
fn extend_within_capacity_and_refuse_beyond() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.extend_from_slice(&[1; 4096]).unwrap();
    assert_eq!(b.len(), 4096);
    assert_eq!(b.remaining_capacity(), 0);
    let err = b.extend_from_slice(&[2]).unwrap_err();
    assert_eq!((err.requested, err.available, err.capacity), (1, 0, 4096));
    assert!(err
        .to_string()
        .contains("1 bytes requested, 0 left of its capacity of 4096"));
    assert!(b.extend_from_slice(&[]).is_ok());
    assert!(b.iter().all(|&x| x == 1), "a refused write changes nothing");
}

#[test]
fn fill_with_counts_what_was_written_capped_at_the_spare() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.extend_from_slice(b"ab").unwrap();
    let n = b.fill_with(|spare| {
        assert_eq!(spare.len(), 4094);
        spare[..3].copy_from_slice(b"cde");
        3
    });
    assert_eq!((n, &b[..]), (3, &b"abcde"[..]));
    // A closure that claims too much is held to what it was given.
    let n = b.fill_with(|spare| spare.len() + 100);
    assert_eq!((n, b.len()), (4091, 4096));
    assert_eq!(b.fill_with(|spare| spare.len()), 0);
}

#[test]
fn try_fill_with_passes_errors_on_and_fills_nothing() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    let r: Result<usize, &str> = b.try_fill_with(|spare| {
        spare[0] = 9;
        Err("would block")
    });
    assert_eq!(r, Err("would block"));
    assert!(b.is_empty());
    let mut src: &[u8] = b"from a reader";
    let n = b
        .try_fill_with(|spare| std::io::Read::read(&mut src, spare))
        .unwrap();
    assert_eq!((n, &b[..]), (13, &b"from a reader"[..]));
}

#[test]
fn spare_capacity_and_set_len() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    assert_eq!(b.spare_capacity_mut().len(), 4096);
    b.spare_capacity_mut()[..4].copy_from_slice(b"wxyz");
    b.set_len(4).unwrap();
    assert_eq!(&b[..], b"wxyz");
    assert_eq!(b.spare_capacity_mut().len(), 4092);
    b.set_len(4096).unwrap();
    let err = b.set_len(4097).unwrap_err();
    assert_eq!((err.requested, err.available), (1, 0));
    assert_eq!(b.len(), 4096);
    b.set_len(2).unwrap();
    assert_eq!(&b[..], b"wx");
}

#[test]
fn clear_truncate_and_mutate_in_place() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.extend_from_slice(b"hello").unwrap();
    b[0] = b'j';
    b.as_mut()[4] = b'y';
    assert_eq!(b.as_ref(), b"jelly");
    b.truncate(10);
    assert_eq!(b.len(), 5);
    b.truncate(3);
    assert_eq!(b.as_slice(), b"jel");
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.capacity(), 4096);
    assert!(format!("{b:?}").contains("capacity: 4096"));
}

#[test]
fn buf_mut_writes_and_reports_remaining() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    assert_eq!(b.remaining_mut(), 4096);
    b.put_u8(1);
    b.put_u32(0x0203_0405);
    b.put_slice(b"xyz");
    b.put_bytes(0xee, 2);
    assert_eq!(&b[..], &[1, 2, 3, 4, 5, b'x', b'y', b'z', 0xee, 0xee]);
    assert_eq!(b.remaining_mut(), 4086);
    assert_eq!(b.chunk_mut().len(), 4086);
    b.put_bytes(0, 4086);
    assert_eq!(b.remaining_mut(), 0);
    assert_eq!(b.chunk_mut().len(), 0, "empty exactly when nothing remains");
}

#[test]
#[should_panic]
fn buf_mut_put_past_capacity_panics() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.put_bytes(0, 4096);
    b.put_u8(1);
}

#[test]
#[should_panic(expected = "past the 2 that remain")]
fn buf_mut_advance_past_capacity_panics() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.put_bytes(0, 4094);
    // SAFETY: the whole capacity of a `PooledBuf` is initialised, so
    // advancing over bytes not written here is allowed; the call is meant
    // to be refused because 3 > 2 remain.
    unsafe { b.advance_mut(3) };
}

#[test]
fn buf_mut_advance_within_capacity() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.chunk_mut().copy_from_slice(&[8; 4096]);
    // SAFETY: the first 5 bytes of `chunk_mut` were just written.
    unsafe { b.advance_mut(5) };
    assert_eq!(&b[..], &[8; 5]);
    assert_eq!(b.remaining_mut(), 4091);
}

#[test]
fn io_write_fills_up_then_writes_zero() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    assert_eq!(b.write(&[3; 4000]).unwrap(), 4000);
    assert_eq!(b.write(&[4; 200]).unwrap(), 96);
    assert_eq!(b.write(&[5]).unwrap(), 0);
    let err = b.write_all(&[5]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WriteZero);
    b.flush().unwrap();
    assert_eq!(b.len(), 4096);
    assert_eq!(b[3999..4001], [3, 4]);
}

#[test]
fn a_reused_buffer_starts_empty_whatever_was_written() {
    let pool = Pool::default();
    let mut b = buf(&pool, 4096);
    b.extend_from_slice(&[0xaa; 4096]).unwrap();
    drop(b);
    let mut b = buf(&pool, 4096);
    assert!(b.is_empty());
    assert_eq!(b.spare_capacity_mut().len(), 4096);
    b.extend_from_slice(b"new").unwrap();
    assert_eq!(&b[..], b"new");
}

/// One operation of the model test.
#[derive(Debug, Clone)]
enum Op {
    Extend(Vec<u8>),
    Fill(u8, usize),
    PutSlice(Vec<u8>),
    Write(Vec<u8>),
    SetLen(usize),
    Truncate(usize),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Extend),
        (any::<u8>(), 0..400usize).prop_map(|(b, n)| Op::Fill(b, n)),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::PutSlice),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Write),
        (0..600usize).prop_map(Op::SetLen),
        (0..600usize).prop_map(Op::Truncate),
        Just(Op::Clear),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any sequence of operations leaves the buffer equal to a `Vec<u8>`
    /// model limited to the same capacity.
    #[test]
    fn behaves_like_a_capped_vec(ops in proptest::collection::vec(op(), 0..40)) {
        const CAP: usize = 512;
        let pool = Pool::new(smolmq_pool::PoolConfig {
            tiers: vec![CAP],
            max_pooled_per_tier: 1,
            thread_cache_per_tier: 2,
        }).unwrap();
        let mut b = pool.get(1);
        // The model tracks every byte of the capacity, filled or not.
        let mut mem = vec![0u8; CAP];
        let mut len = 0usize;
        for op in ops {
            match op {
                Op::Extend(data) => {
                    let r = b.extend_from_slice(&data);
                    if len + data.len() <= CAP {
                        prop_assert!(r.is_ok());
                        mem[len..len + data.len()].copy_from_slice(&data);
                        len += data.len();
                    } else {
                        prop_assert!(r.is_err());
                    }
                }
                Op::Fill(byte, n) => {
                    let got = b.fill_with(|spare| { spare.iter_mut().take(n).for_each(|x| *x = byte); n });
                    let n = n.min(CAP - len);
                    prop_assert_eq!(got, n);
                    mem[len..len + n].fill(byte);
                    len += n;
                }
                Op::PutSlice(data) => {
                    if data.len() <= b.remaining_mut() {
                        b.put_slice(&data);
                        mem[len..len + data.len()].copy_from_slice(&data);
                        len += data.len();
                    }
                }
                Op::Write(data) => {
                    let n = b.write(&data).unwrap();
                    prop_assert_eq!(n, data.len().min(CAP - len));
                    mem[len..len + n].copy_from_slice(&data[..n]);
                    len += n;
                }
                Op::SetLen(n) => {
                    let r = b.set_len(n);
                    prop_assert_eq!(r.is_ok(), n <= CAP);
                    if n <= CAP { len = n; }
                }
                Op::Truncate(n) => { b.truncate(n); len = len.min(n); }
                Op::Clear => { b.clear(); len = 0; }
            }
            prop_assert_eq!(b.len(), len);
            prop_assert_eq!(&b[..], &mem[..len]);
            prop_assert_eq!(b.capacity(), CAP);
        }
        let frozen = b.freeze();
        prop_assert_eq!(&frozen[..], &mem[..len]);
    }
}

/// A pool of one 512-byte tier that keeps one buffer per thread.
fn one_tier() -> Pool {
    Pool::new(smolmq_pool::PoolConfig {
        tiers: vec![512],
        max_pooled_per_tier: 1,
        thread_cache_per_tier: 2,
    })
    .unwrap()
}

#[test]
fn copy_of_counts_hits_and_misses_as_get_does() {
    let pool = one_tier();
    let first = pool.copy_of(b"cold");
    assert_eq!((first.as_slice(), first.capacity()), (&b"cold"[..], 512));
    assert_eq!((pool.stats().misses, pool.stats().hits), (1, 0));
    drop(first);
    let again = pool.copy_of(b"warm");
    assert_eq!(again.as_slice(), b"warm");
    assert_eq!((pool.stats().misses, pool.stats().hits), (1, 1));
    let big = pool.copy_of(&[3; 600]);
    assert_eq!(
        (big.len(), big.capacity(), big.is_pooled()),
        (600, 600, false)
    );
    assert_eq!(pool.stats().oversized, 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `copy_of` holds exactly the bytes given, with `get`'s capacity,
    /// whether its buffer is new or reused (with a previous user's bytes
    /// in it), and counts as one get.
    #[test]
    fn copy_of_is_get_then_extend(
        data in proptest::collection::vec(any::<u8>(), 0..700),
        reuse in any::<bool>(),
    ) {
        let pool = one_tier();
        if reuse {
            let mut dirty = pool.get(512);
            dirty.fill_with(|spare| { spare.fill(0xAB); spare.len() });
        }
        let got = pool.copy_of(&data);
        let want = pool.get(data.len()).capacity();
        prop_assert_eq!(got.as_slice(), &data[..]);
        prop_assert_eq!(got.capacity(), want);
        let stats = pool.stats();
        prop_assert_eq!(stats.hits + stats.misses, 2 + u64::from(reuse));
    }
}
