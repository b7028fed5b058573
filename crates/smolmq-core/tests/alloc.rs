//! What `Msg::copy_from_slice` allocates, observed with a counting global
//! allocator: nothing for a mid-size copy once the pool is warm (the
//! message holds the pooled buffer alone, no `Bytes` header), nor for a
//! routing id put in front of one and taken off again (what a ROUTER
//! does), and one header when the message is made shared for clones.

use smolmq_core::{FrameRef, Msg, POOLED_MAX, ROUTED_ID_MAX};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations of each thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; the
// bookkeeping touches only a const-initialised thread-local (no lazy
// initialisation, no allocation).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations made by this thread so far.
fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

#[test]
fn mid_size_copies_allocate_nothing_once_the_pool_is_warm() {
    for len in [78, 256, 1000, POOLED_MAX - 1] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        // The pool's first buffers of this size, and its thread cache.
        for _ in 0..64 {
            drop(Msg::copy_from_slice(&data));
        }
        let before = allocs();
        for _ in 0..1000 {
            let msg = Msg::copy_from_slice(&data);
            assert!(msg.first() == &data[..]);
            drop(msg);
        }
        assert_eq!(allocs() - before, 0, "{len} B: allocations for 1000 copies");
    }
}

#[test]
fn a_shared_copy_allocates_its_header_once_and_clones_share_it() {
    let data = [0x42u8; 1000];
    for _ in 0..64 {
        drop(Msg::copy_from_slice(&data));
    }
    let before = allocs();
    let mut msg = Msg::copy_from_slice(&data);
    msg.share();
    let clones = [msg.clone(), msg.clone(), msg.clone()];
    assert_eq!(allocs() - before, 1, "one Bytes header, no copy per clone");
    for clone in &clones {
        assert_eq!(clone.first().as_ptr(), msg.first().as_ptr());
        assert!(matches!(
            clone.shared_frames().next(),
            Some(FrameRef::Shared(_))
        ));
    }
}

#[test]
fn a_routing_id_in_front_of_a_mid_size_copy_allocates_nothing() {
    let id = [0u8, 0, 0, 0x1e, 0x42];
    let long_id = [7u8; ROUTED_ID_MAX];
    for len in [78, 256, 1000, POOLED_MAX - 1] {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        for _ in 0..64 {
            drop(Msg::copy_from_slice(&data));
        }
        let before = allocs();
        for i in 0..1000 {
            // A ROUTER receiving: the id goes in front...
            let mut msg = Msg::copy_from_slice(&data);
            msg.push_front_slice(if i % 2 == 0 { &id } else { &long_id });
            assert_eq!(msg.len(), 2);
            assert!(msg.last() == &data[..]);
            // ...and a ROUTER sending takes it off.
            assert!(msg.drop_front());
            assert!(msg.first() == &data[..]);
        }
        assert_eq!(allocs() - before, 0, "{len} B: allocations for 1000 ids");
    }
    // The same in front of a frame that is one Bytes (a slice of an
    // engine's read buffer, or a large body).
    let body = bytes::Bytes::from(vec![3u8; 100_000]);
    // A `Bytes` made from a `Vec` allocates its shared header on its first
    // clone.
    drop(body.clone());
    let before = allocs();
    for _ in 0..1000 {
        let mut msg = Msg::from(body.clone());
        msg.push_front_slice(&id);
        assert_eq!(msg.len(), 2);
        assert!(msg.drop_front());
    }
    assert_eq!(
        allocs() - before,
        0,
        "allocations for 1000 ids before a Bytes"
    );
}
