//! `freeze`: the buffer becomes a `Bytes` and goes back to the pool only
//! when the last clone or slice is dropped, on whichever thread that is.

use smolmq_pool::Pool;
use std::sync::mpsc;
use std::thread;

#[test]
fn returns_after_the_last_clone_and_slice() {
    let pool = Pool::default();
    let mut buf = pool.get(4096);
    buf.extend_from_slice(b"0123456789").unwrap();
    let ptr = buf.as_ptr();
    let bytes = buf.freeze();
    assert_eq!(&bytes[..], b"0123456789");
    assert_eq!(bytes.as_ptr(), ptr, "freezing does not copy");

    let clone = bytes.clone();
    let head = bytes.slice(..4);
    let tail = clone.slice(4..);
    assert_eq!(head.as_ptr(), ptr);
    assert_eq!(&tail[..], b"456789");

    drop(bytes);
    drop(clone);
    drop(head);
    assert_eq!(pool.stats().returns, 0, "`tail` still shares the buffer");
    assert_eq!(pool.stats().bytes_held, 0);
    drop(tail);
    let stats = pool.stats();
    assert_eq!(stats.returns, 1);
    assert_eq!(stats.bytes_held, 4096);

    assert_eq!(pool.get(1).as_ptr(), ptr, "reused after the last drop");
}

#[test]
fn last_drop_on_another_thread() {
    let pool = Pool::default();
    let mut buf = pool.get(8192);
    buf.extend_from_slice(&[7; 8000]).unwrap();
    let ptr = buf.as_ptr() as usize;
    let bytes = buf.freeze();
    let slice = bytes.slice(100..200);
    drop(bytes);

    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let observer = pool.clone();
    let t = thread::spawn(move || {
        let slice: bytes::Bytes = rx.recv().unwrap();
        assert_eq!(&slice[..], &[7; 100][..]);
        assert_eq!(observer.stats().returns, 0);
        drop(slice);
        // Returned into this thread's cache, before the thread exits.
        let stats = observer.stats();
        assert_eq!((stats.returns, stats.bytes_held), (1, 8192));
        done_tx.send(()).unwrap();
    });
    tx.send(slice).unwrap();
    done_rx.recv().unwrap();
    t.join().unwrap();

    // The other thread's cache went to the shared pool when it exited.
    let again = pool.get(8192);
    assert_eq!(again.as_ptr() as usize, ptr);
    assert_eq!(pool.stats().hits, 1);
}

#[test]
fn freezing_an_empty_buffer_returns_it_at_once() {
    let pool = Pool::default();
    let bytes = pool.get(10).freeze();
    assert!(bytes.is_empty());
    assert_eq!(pool.stats().returns, 1);
    drop(bytes);
    assert_eq!(pool.stats().returns, 1);
}

#[test]
fn frozen_oversized_buffer_is_freed_not_pooled() {
    let pool = Pool::default();
    let mut buf = pool.get(100_000);
    buf.extend_from_slice(&[1; 100_000]).unwrap();
    let bytes = buf.freeze();
    assert_eq!(bytes.len(), 100_000);
    drop(bytes);
    let stats = pool.stats();
    assert_eq!(
        (stats.returns, stats.bytes_held, stats.oversized),
        (0, 0, 1)
    );
}

#[test]
fn many_slices_across_threads() {
    let pool = Pool::default();
    let mut buf = pool.get(4096);
    buf.extend_from_slice(&(0..=255).cycle().take(4096).collect::<Vec<u8>>())
        .unwrap();
    let bytes = buf.freeze();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let part = bytes.slice(t * 1024..(t + 1) * 1024);
            thread::spawn(move || {
                for _ in 0..100 {
                    let c = part.clone();
                    assert_eq!(c[0], 0);
                }
                drop(part);
            })
        })
        .collect();
    drop(bytes);
    for t in threads {
        t.join().unwrap();
    }
    let stats = pool.stats();
    assert_eq!(stats.returns, 1, "returned exactly once");
    assert_eq!(stats.buffers_held, 1);
}
