//! The pipe: a chunked queue, a writer half and a reader half, and the one
//! atomic word through which they publish items and announce sleep.
//!
//! # Protocol
//!
//! Items are counted from the start of the pipe. Counts are kept *encoded*:
//! item `k` is `2 * k` (wrapping), so every count is even and the odd value
//! [`ASLEEP`] can never be mistaken for one. Only equality is ever tested,
//! so wrapping is harmless: the halves never drift apart by anything near
//! `usize::MAX / 2` items.
//!
//! The shared word `published` holds either the count of items the writer
//! has made visible, or `ASLEEP`:
//!
//! * `Writer::flush` compare-exchanges `published` from the count it last
//!   published to the count of complete items written. If that fails, the
//!   reader had stored `ASLEEP`: the writer stores the new count instead and
//!   tells its caller to wake the reader.
//! * `Reader::check_read`, finding nothing left of what it last learnt,
//!   compare-exchanges `published` from the count it has read to `ASLEEP`.
//!   If that succeeds the pipe is empty and the reader is now asleep; if it
//!   fails, the value it saw is the writer's newer count, acquired together
//!   with the items it covers.
//!
//! The two compare-exchanges are totally ordered on the one word, so either
//! the writer sees `ASLEEP` (and wakes the reader) or the reader sees the new
//! count (and does not sleep): a wake-up is never lost and never sent to a
//! reader that is awake.

use crate::chunk::Chunk;
use crate::sync::{Arc, AtomicPtr, AtomicUsize, Ordering, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::ptr;

/// Encoded distance between two consecutive item counts.
const STEP: usize = 2;
/// The value of `published` while the reader sleeps. Odd, so never a count.
const ASLEEP: usize = 1;
/// Bit in `Shared::gone`: the writer has been dropped.
const WRITER_GONE: usize = 1;
/// Bit in `Shared::gone`: the reader has been dropped.
const READER_GONE: usize = 2;

/// Creates a pipe with the default chunk size of 256 items.
///
/// Returns the writer and reader halves; each may move to its own thread.
///
/// ```
/// let (mut tx, mut rx) = smolmq_ypipe::ypipe::<&str>();
/// tx.write("hello", false);
/// assert!(tx.flush(), "the reader has not gone to sleep: nothing to wake");
/// assert_eq!(rx.read(), Some("hello"));
///
/// // Finding the pipe empty puts the reader to sleep; the next flush says so.
/// assert_eq!(rx.read(), None);
/// tx.write("world", false);
/// assert!(!tx.flush(), "the reader sleeps: wake it");
/// assert_eq!(rx.read(), Some("world"));
/// ```
pub fn ypipe<T>() -> (Writer<T>, Reader<T>) {
    with_chunk_size::<T, 256>()
}

/// Creates a pipe whose chunks hold `N` items each.
///
/// Larger chunks mean fewer allocations and link hops; smaller ones less
/// memory held by an idle pipe. Up to two chunks plus one spare are
/// allocated at any time for a pipe that is drained as fast as it fills.
///
/// ```
/// let (mut tx, mut rx) = smolmq_ypipe::with_chunk_size::<u32, 4>();
/// for i in 0..10 {
///     tx.write(i, false);
/// }
/// let _ = tx.flush();
/// assert_eq!((0..10).map(|_| rx.read().unwrap()).sum::<u32>(), 45);
/// ```
pub fn with_chunk_size<T, const N: usize>() -> (Writer<T, N>, Reader<T, N>) {
    let first = Chunk::<T, N>::alloc();
    let shared = Arc::new(Shared {
        published: AtomicUsize::new(0),
        spare: AtomicPtr::new(ptr::null_mut()),
        gone: AtomicUsize::new(0),
        reader_end: UnsafeCell::new(Cursor {
            chunk: first,
            pos: 0,
        }),
        writer_end: UnsafeCell::new(Cursor {
            chunk: first,
            pos: 0,
        }),
        _owns: PhantomData,
    });
    let writer = Writer {
        shared: shared.clone(),
        chunk: first,
        pos: 0,
        written: 0,
        complete: 0,
        published: 0,
    };
    let reader = Reader {
        shared,
        chunk: first,
        pos: 0,
        read: 0,
        available: 0,
    };
    (writer, reader)
}

/// A position in the chunk list.
struct Cursor<T, const N: usize> {
    /// The chunk.
    chunk: *mut Chunk<T, N>,
    /// The slot within it.
    pos: usize,
}

// Not derived: the derive would demand `T: Copy`.
impl<T, const N: usize> Clone for Cursor<T, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const N: usize> Copy for Cursor<T, N> {}

/// State both halves reach.
struct Shared<T, const N: usize> {
    /// Encoded count of published items, or [`ASLEEP`]. See the module docs.
    published: AtomicUsize,
    /// One recycled empty chunk (or null): the reader parks a chunk it has
    /// drained here and the writer takes it instead of allocating.
    spare: AtomicPtr<Chunk<T, N>>,
    /// Which halves have been dropped: [`WRITER_GONE`] and [`READER_GONE`].
    gone: AtomicUsize,
    /// Where the reader stood when it was dropped; written once, by the
    /// reader's drop, and read by `Shared::drop`.
    reader_end: UnsafeCell<Cursor<T, N>>,
    /// Where the writer stood when it was dropped; written once, by the
    /// writer's drop, and read by `Shared::drop`.
    writer_end: UnsafeCell<Cursor<T, N>>,
    /// The queue owns `T`s (for drop check).
    _owns: PhantomData<T>,
}

impl<T, const N: usize> Shared<T, N> {
    /// Puts a drained chunk aside for reuse, freeing the one it displaces.
    fn recycle(&self, chunk: *mut Chunk<T, N>) {
        // Release: our last accesses to the chunk's slots happen-before the
        // writer's reuse, which acquires it with its own swap.
        let old = self.spare.swap(chunk, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: a chunk in `spare` holds no values and is reachable
            // from nowhere else; the swap made it ours alone.
            unsafe { Chunk::free(old) };
        }
    }

    /// Takes the spare chunk, or allocates one.
    fn fresh_chunk(&self) -> *mut Chunk<T, N> {
        let spare = self.spare.swap(ptr::null_mut(), Ordering::AcqRel);
        if spare.is_null() {
            Chunk::alloc()
        } else {
            spare
        }
    }
}

impl<T, const N: usize> Drop for Shared<T, N> {
    fn drop(&mut self) {
        // Both halves are gone and published their final positions before
        // releasing their `Arc`s; the last release synchronised with us.
        // SAFETY: written once by each half's drop, which happened-before.
        let mut at = self.reader_end.with(|c| unsafe { *c });
        // SAFETY: as above.
        let end = self.writer_end.with(|c| unsafe { *c });
        // Every slot from the reader's position up to the writer's holds a
        // value nobody took: drop them, freeing chunks as we leave them.
        while at.chunk != end.chunk || at.pos != end.pos {
            // SAFETY: the slot lies between the two positions, so it holds a
            // value, and both halves are gone so it is ours alone.
            unsafe { Chunk::drop_in_place(at.chunk, at.pos) };
            at.pos += 1;
            if at.pos == N {
                // SAFETY: the writer linked `next` before writing past this
                // chunk; we own everything now.
                let next = unsafe { Chunk::next(at.chunk) };
                // SAFETY: every value in this chunk was taken or dropped.
                unsafe { Chunk::free(at.chunk) };
                at = Cursor {
                    chunk: next,
                    pos: 0,
                };
            }
        }
        // SAFETY: the writer's chunk holds no values past its position, and
        // those before it were dropped above or taken by the reader.
        unsafe { Chunk::free(end.chunk) };
        let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if !spare.is_null() {
            // SAFETY: the spare chunk is empty and reachable from nowhere else.
            unsafe { Chunk::free(spare) };
        }
    }
}

/// The writing half of a pipe.
///
/// Items are written with [`write`](Writer::write) and become visible to the
/// reader only at the next [`flush`](Writer::flush), and then only up to the
/// last item written as complete.
pub struct Writer<T, const N: usize = 256> {
    /// State shared with the reader.
    shared: Arc<Shared<T, N>>,
    /// The chunk the next item goes into.
    chunk: *mut Chunk<T, N>,
    /// The slot in `chunk` the next item goes into; always `< N`.
    pos: usize,
    /// Encoded count of items written.
    written: usize,
    /// Encoded count of items written up to and including the last complete
    /// one: what the next flush publishes.
    complete: usize,
    /// Encoded count this writer last published.
    published: usize,
}

// SAFETY: the writer owns its chunks' unpublished slots and moves `T`s in;
// nothing in it is tied to the thread that created it, so it may move to
// another thread whenever `T` may.
unsafe impl<T: Send, const N: usize> Send for Writer<T, N> {}

impl<T, const N: usize> Writer<T, N> {
    /// Appends `item` to the pipe.
    ///
    /// With `incomplete` set the item is part of an unfinished group (a
    /// multipart message): it stays invisible to the reader, whatever is
    /// flushed, until an item written with `incomplete == false` completes
    /// the group. The reader then sees the whole group at once.
    ///
    /// Never blocks; allocates only when it crosses into a new chunk and no
    /// spare chunk is waiting.
    #[inline]
    pub fn write(&mut self, item: T, incomplete: bool) {
        // SAFETY: `pos < N` always holds between calls, the slot is beyond
        // anything published so the reader cannot touch it, and it is empty
        // (it was never written, or its value was taken or unwritten).
        unsafe { Chunk::write(self.chunk, self.pos, item) };
        self.pos += 1;
        self.written = self.written.wrapping_add(STEP);
        if !incomplete {
            self.complete = self.written;
        }
        if self.pos == N {
            self.link_new_chunk();
        }
    }

    /// Chains a fresh chunk after the full one and moves into it.
    #[cold]
    fn link_new_chunk(&mut self) {
        let new = self.shared.fresh_chunk();
        // SAFETY: `new` is ours (freshly allocated or taken from `spare`);
        // `self.chunk` is live and the writer alone writes links. The reader
        // follows `next` only after acquiring a count covering this chunk's
        // last item, published by a later flush.
        unsafe {
            Chunk::set_next(new, ptr::null_mut());
            Chunk::set_prev(new, self.chunk);
            Chunk::set_next(self.chunk, new);
        }
        self.chunk = new;
        self.pos = 0;
    }

    /// Takes back the last item written, if it is still incomplete.
    ///
    /// Returns `None` when there is no incomplete item at the end of the
    /// pipe: complete items belong to the reader from the moment they are
    /// written, flushed or not. Used to roll back a multipart message that
    /// cannot be finished.
    ///
    /// ```
    /// let (mut tx, mut rx) = smolmq_ypipe::ypipe::<&str>();
    /// tx.write("part 1", true);
    /// tx.write("part 2", true);
    /// assert_eq!(tx.unwrite(), Some("part 2"));
    /// assert_eq!(tx.unwrite(), Some("part 1"));
    /// assert_eq!(tx.unwrite(), None);
    /// let _ = tx.flush();
    /// assert_eq!(rx.read(), None);
    /// ```
    pub fn unwrite(&mut self) -> Option<T> {
        if self.written == self.complete {
            return None;
        }
        if self.pos == 0 {
            // The item is the last slot of the previous chunk; give back the
            // chunk we had just moved into (it holds nothing).
            let empty = self.chunk;
            // SAFETY: the writer alone reads and writes `prev`, which was
            // set when `empty` was linked; an incomplete item lives in the
            // previous chunk, so it exists and the reader cannot have
            // drained and recycled it.
            let prev = unsafe { Chunk::prev(empty) };
            // SAFETY: as above; the reader reads `prev`'s `next` only after
            // consuming its last slot, which is the unpublished item.
            unsafe { Chunk::set_next(prev, ptr::null_mut()) };
            self.shared.recycle(empty);
            self.chunk = prev;
            self.pos = N;
        }
        self.pos -= 1;
        self.written = self.written.wrapping_sub(STEP);
        // SAFETY: the slot holds the incomplete item we wrote last; it is
        // unpublished, so the reader cannot touch it.
        Some(unsafe { Chunk::take(self.chunk, self.pos) })
    }

    /// Publishes every complete item written so far.
    ///
    /// Returns `false` when the reader had found the pipe empty and gone to
    /// sleep: the caller must then wake it (through whatever it sleeps on,
    /// a signaler, a condition variable, a thread unpark). Returns `true`
    /// when the reader is awake and will find the items without help, and
    /// when there was nothing to publish.
    ///
    /// One atomic operation per call, whatever the number of items: write a
    /// batch, flush once.
    #[must_use = "when flush returns false the reader sleeps and must be woken"]
    #[inline]
    pub fn flush(&mut self) -> bool {
        if self.published == self.complete {
            return true;
        }
        // Release: the items' writes (and any chunk links) happen-before the
        // reader's acquire of the count.
        let awake = self
            .shared
            .published
            .compare_exchange(
                self.published,
                self.complete,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_ok();
        if !awake {
            // Only the reader changes `published` behind our back, and only
            // to ASLEEP: it drained everything we had published and sleeps.
            self.shared
                .published
                .store(self.complete, Ordering::Release);
        }
        self.published = self.complete;
        awake
    }

    /// True when items have been written as complete but not yet flushed.
    pub fn has_unflushed(&self) -> bool {
        self.published != self.complete
    }

    /// True once the reader has been dropped: nothing written from now on
    /// will ever be read (it is dropped with the pipe).
    pub fn is_reader_gone(&self) -> bool {
        self.shared.gone.load(Ordering::Relaxed) & READER_GONE != 0
    }
}

impl<T, const N: usize> Drop for Writer<T, N> {
    fn drop(&mut self) {
        let end = Cursor {
            chunk: self.chunk,
            pos: self.pos,
        };
        // SAFETY: only this drop writes `writer_end`; `Shared::drop` reads it
        // after both halves released their `Arc`s.
        self.shared.writer_end.with_mut(|c| unsafe { *c = end });
        // Release: whatever we flushed happens-before a reader that sees
        // the bit.
        self.shared.gone.fetch_or(WRITER_GONE, Ordering::Release);
    }
}

impl<T, const N: usize> fmt::Debug for Writer<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("chunk_size", &N)
            .field("unflushed", &self.has_unflushed())
            .finish_non_exhaustive()
    }
}

/// The reading half of a pipe.
///
/// When [`check_read`](Reader::check_read) or [`read`](Reader::read) find
/// nothing to read, the reader is marked asleep: the writer's next
/// [`flush`](Writer::flush) that publishes something returns `false`, so the
/// writer knows to wake it.
pub struct Reader<T, const N: usize = 256> {
    /// State shared with the writer.
    shared: Arc<Shared<T, N>>,
    /// The chunk the next item is read from.
    chunk: *mut Chunk<T, N>,
    /// The slot of the next item in `chunk`; always `< N`.
    pos: usize,
    /// Encoded count of items read.
    read: usize,
    /// Encoded count of items known published: those up to it can be read
    /// without touching shared state.
    available: usize,
}

// SAFETY: the reader owns the published, unread slots and moves `T`s out;
// nothing in it is tied to the thread that created it.
unsafe impl<T: Send, const N: usize> Send for Reader<T, N> {}

impl<T, const N: usize> Reader<T, N> {
    /// True when an item can be read now.
    ///
    /// When there is none, the reader is marked asleep (see
    /// [`Writer::flush`]) and `false` is returned: the caller should wait
    /// for the writer's wake-up before looking again.
    #[inline]
    pub fn check_read(&mut self) -> bool {
        if self.read != self.available {
            return true;
        }
        self.refill()
    }

    /// Asks the writer's side for newly published items, or goes to sleep.
    #[inline(never)]
    fn refill(&mut self) -> bool {
        // Look before writing: a reader that polls an empty pipe must not
        // hammer the shared word with read-modify-writes the writer then has
        // to wait for. Acquire: a new count comes with its items.
        match self.shared.published.load(Ordering::Acquire) {
            // Asleep since an earlier call, and no flush since.
            ASLEEP => return false,
            count if count != self.read => {
                self.available = count;
                return true;
            }
            // Nothing new: go to sleep, unless a flush slips in first.
            _ => {}
        }
        // Acquire on both outcomes: on failure we read the items the value
        // covers; on success there is nothing to read, and the next refill
        // acquires again.
        match self.shared.published.compare_exchange(
            self.read,
            ASLEEP,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            // Nothing new: we are asleep now.
            Ok(_) => false,
            // Still asleep from an earlier call: no flush since.
            Err(ASLEEP) => false,
            Err(count) => {
                self.available = count;
                true
            }
        }
    }

    /// Takes the next item, or returns `None` (and marks the reader asleep)
    /// when there is none.
    #[inline]
    pub fn read(&mut self) -> Option<T> {
        if !self.check_read() {
            return None;
        }
        Some(self.take())
    }

    /// Takes the item at the read position.
    ///
    /// Callers have established `read != available`.
    #[inline]
    fn take(&mut self) -> T {
        debug_assert_ne!(self.read, self.available);
        // SAFETY: `read != available`, so slot `pos` holds a published item
        // whose write happened-before our acquire of `available`; the writer
        // never touches published slots.
        let item = unsafe { Chunk::take(self.chunk, self.pos) };
        self.pos += 1;
        self.read = self.read.wrapping_add(STEP);
        if self.pos == N {
            self.next_chunk();
        }
        item
    }

    /// Takes the next item if one is published, without marking the reader
    /// asleep when there is none.
    ///
    /// For a reader that polls for a while before it sleeps: polling with
    /// `try_read` costs the writer nothing, while every empty
    /// [`read`](Reader::read) makes the writer's next flush report a sleeper
    /// (and so a wake-up). Call `read` or `check_read` before actually
    /// sleeping.
    ///
    /// ```
    /// let (mut tx, mut rx) = smolmq_ypipe::ypipe::<u8>();
    /// assert_eq!(rx.try_read(), None);
    /// tx.write(1, false);
    /// assert!(tx.flush(), "the reader only polled: it is not asleep");
    /// assert_eq!(rx.try_read(), Some(1));
    /// ```
    #[inline]
    pub fn try_read(&mut self) -> Option<T> {
        if self.read == self.available {
            match self.shared.published.load(Ordering::Acquire) {
                count if count != ASLEEP && count != self.read => self.available = count,
                _ => return None,
            }
        }
        Some(self.take())
    }

    /// Steps from a drained chunk into the next one and recycles the old.
    #[cold]
    fn next_chunk(&mut self) {
        let drained = self.chunk;
        // SAFETY: we just took the chunk's last item, which was published
        // after the writer linked `next`; the acquire that covered the item
        // covers the link.
        self.chunk = unsafe { Chunk::next(drained) };
        self.pos = 0;
        self.shared.recycle(drained);
    }

    /// Borrows the next item without taking it, or returns `None` (and marks
    /// the reader asleep) when there is none.
    ///
    /// ```
    /// let (mut tx, mut rx) = smolmq_ypipe::ypipe::<String>();
    /// tx.write("first".to_owned(), false);
    /// let _ = tx.flush();
    /// assert_eq!(rx.peek().map(String::as_str), Some("first"));
    /// assert_eq!(rx.read().as_deref(), Some("first"));
    /// ```
    #[inline]
    pub fn peek(&mut self) -> Option<&T> {
        if !self.check_read() {
            return None;
        }
        // SAFETY: as in `read`; the borrow is tied to `&mut self`, so the
        // slot cannot be emptied while it lives.
        Some(unsafe { Chunk::peek(self.chunk, self.pos) })
    }

    /// True once the writer has been dropped.
    ///
    /// Everything it flushed before going is still readable: a reader that
    /// sees `true` and then reads until `None` has seen every item it will
    /// ever get. Items the writer wrote but never flushed are dropped with
    /// the pipe, never delivered.
    pub fn is_writer_gone(&self) -> bool {
        // Acquire: pairs with the writer's drop, so its last flush is seen
        // by the reads that follow.
        self.shared.gone.load(Ordering::Acquire) & WRITER_GONE != 0
    }
}

impl<T, const N: usize> Drop for Reader<T, N> {
    fn drop(&mut self) {
        let end = Cursor {
            chunk: self.chunk,
            pos: self.pos,
        };
        // SAFETY: only this drop writes `reader_end`; `Shared::drop` reads it
        // after both halves released their `Arc`s.
        self.shared.reader_end.with_mut(|c| unsafe { *c = end });
        self.shared.gone.fetch_or(READER_GONE, Ordering::Release);
    }
}

impl<T, const N: usize> fmt::Debug for Reader<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("chunk_size", &N)
            .finish_non_exhaustive()
    }
}

/// Compile-time checks of the halves' auto traits.
#[allow(dead_code)]
fn _assert_send() {
    fn send<S: Send>() {}
    send::<Writer<String>>();
    send::<Reader<String>>();
}
