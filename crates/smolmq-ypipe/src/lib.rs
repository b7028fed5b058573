//! A lock-free single-producer single-consumer queue with batched
//! publication and a built-in reader sleep protocol: libzmq's `ypipe`, in
//! Rust.
//!
//! ```
//! use std::thread;
//!
//! let (mut tx, mut rx) = smolmq_ypipe::ypipe::<u64>();
//! let reader = thread::current();
//!
//! let producer = thread::spawn(move || {
//!     for i in 0..1_000u64 {
//!         tx.write(i, false);
//!         // Publish in batches of 100: one atomic operation per batch.
//!         if i % 100 == 99 && !tx.flush() {
//!             // The reader found the pipe empty and sleeps: wake it.
//!             reader.unpark();
//!         }
//!     }
//! });
//!
//! let mut expected = 0;
//! while expected < 1_000 {
//!     match rx.read() {
//!         Some(i) => {
//!             assert_eq!(i, expected);
//!             expected += 1;
//!         }
//!         // Empty: the reader is now marked asleep, and the writer's next
//!         // flush will say so and unpark us.
//!         None => thread::park(),
//!     }
//! }
//! producer.join().unwrap();
//! ```
//!
//! # What it is for
//!
//! A ypipe connects exactly one writer thread to one reader thread, the way
//! a ZeroMQ socket and its I/O thread exchange messages. Three things make it
//! faster than a general channel for that job:
//!
//! * **Batched publication.** [`Writer::write`] touches no shared state; the
//!   reader sees items only after [`Writer::flush`], which publishes all of
//!   them with one compare-and-swap. The reader learns a whole batch with one
//!   atomic operation too, and then reads it without synchronising.
//! * **Wake-ups only for sleepers.** When [`Reader::read`] (or
//!   [`Reader::check_read`]) finds nothing, it marks itself asleep in the same
//!   atomic word. [`Writer::flush`] returns `false` exactly when it published
//!   to a sleeping reader, so the writer pays for a wake-up (a syscall, a
//!   futex, an event) only then, never while the reader is busy. The crate
//!   does not choose how to sleep: pair it with a thread park, a condition
//!   variable, an eventfd or an async signaler.
//! * **Chunked storage.** Items live in chunks of `N` slots (256 by default):
//!   one allocation per chunk, never per item, and the reader hands each
//!   drained chunk back as a spare that the writer reuses, so a pipe that
//!   keeps up allocates nothing in steady state.
//!
//! # Multipart groups
//!
//! Items written with `incomplete = true` stay invisible, even across a
//! flush, until an item written with `incomplete = false` closes the group;
//! the reader then sees the whole group at once. [`Writer::unwrite`] takes
//! incomplete items back.
//!
//! ```
//! let (mut tx, mut rx) = smolmq_ypipe::ypipe::<&str>();
//! tx.write("header", true);
//! let _ = tx.flush();
//! assert_eq!(rx.read(), None, "half a message is never seen");
//! tx.write("body", false);
//! assert!(!tx.flush(), "the reader looked and went to sleep: wake it");
//! assert_eq!(rx.read(), Some("header"));
//! assert_eq!(rx.read(), Some("body"));
//! ```
//!
//! # Ending
//!
//! Either half may be dropped at any time. Items still inside are dropped
//! (not leaked) when both halves are gone. A reader can tell that the writer
//! left with [`Reader::is_writer_gone`]: everything flushed before that is
//! still readable; items written but never flushed are never delivered.
//!
//! # Verification
//!
//! The flush / sleep protocol and chunk recycling are model-checked with
//! [loom](https://docs.rs/loom):
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p smolmq-ypipe --test loom --release
//! ```
//!
//! (`cargo xtask test` runs them with the rest of the suite.) A stress test
//! moves ten million items between threads in order under several flush
//! patterns.

#![warn(missing_docs, missing_debug_implementations)]

mod chunk;
mod pipe;
mod sync;

pub use pipe::{with_chunk_size, ypipe, Reader, Writer};
