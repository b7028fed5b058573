//! The unit of allocation: a fixed array of `N` item slots plus the links that
//! chain chunks into a queue.
//!
//! A chunk never owns the values in its slots: which slots hold a value is
//! known only to the pipe (everything between the reader's and the writer's
//! positions), so dropping values is the pipe's job, not the chunk's.

use crate::sync::UnsafeCell;
use core::mem::MaybeUninit;
use core::ptr;

/// `N` slots and the links to the neighbouring chunks.
pub(crate) struct Chunk<T, const N: usize> {
    /// Item storage; a slot is initialised exactly while it lies between the
    /// reader's position and the writer's position.
    pub(crate) slots: [UnsafeCell<MaybeUninit<T>>; N],
    /// The following chunk. Written by the writer when it links a new chunk,
    /// before any item in that chunk is published; read by the reader only
    /// once it has consumed the last slot of this chunk, and so only after
    /// it has acquired a publication that happened after the write.
    pub(crate) next: UnsafeCell<*mut Chunk<T, N>>,
    /// The preceding chunk. Written and read by the writer only (`unwrite`
    /// steps back across a chunk boundary through it).
    pub(crate) prev: UnsafeCell<*mut Chunk<T, N>>,
}

impl<T, const N: usize> Chunk<T, N> {
    /// Compile-time guard: a chunk must hold at least one item.
    const NON_EMPTY: () = assert!(N > 0, "a ypipe chunk must hold at least one item");

    /// Allocates a chunk with empty slots and null links.
    pub(crate) fn alloc() -> *mut Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::NON_EMPTY;
        #[cfg(not(loom))]
        {
            let mut chunk = Box::<Self>::new_uninit();
            let p = chunk.as_mut_ptr();
            // SAFETY: `p` points to the freshly allocated, properly aligned
            // chunk; we initialise the two link fields in place. The slots
            // need no initialisation: an array of `UnsafeCell<MaybeUninit<T>>`
            // (our `UnsafeCell` is `repr(transparent)`) is valid uninitialised.
            // Every field is now valid, so `assume_init` holds.
            unsafe {
                ptr::addr_of_mut!((*p).next).write(UnsafeCell::new(ptr::null_mut()));
                ptr::addr_of_mut!((*p).prev).write(UnsafeCell::new(ptr::null_mut()));
                Box::into_raw(chunk.assume_init())
            }
        }
        #[cfg(loom)]
        {
            Box::into_raw(Box::new(Chunk {
                slots: core::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
                next: UnsafeCell::new(ptr::null_mut()),
                prev: UnsafeCell::new(ptr::null_mut()),
            }))
        }
    }

    /// Frees a chunk without touching its slots.
    ///
    /// # Safety
    /// `chunk` came from [`Chunk::alloc`], is not freed yet, no slot of it
    /// holds a value that still needs dropping, and nobody uses it after.
    pub(crate) unsafe fn free(chunk: *mut Self) {
        // SAFETY: the caller guarantees `chunk` is a live allocation from
        // `Box::into_raw` that nobody else will touch.
        drop(unsafe { Box::from_raw(chunk) });
    }

    /// Moves `value` into slot `pos`.
    ///
    /// # Safety
    /// `chunk` is live, `pos < N`, the slot is empty and no other thread
    /// accesses it until the write is published.
    #[inline]
    pub(crate) unsafe fn write(chunk: *mut Self, pos: usize, value: T) {
        // SAFETY: the caller guarantees the chunk is live, `pos` is in
        // bounds and we have exclusive access to this slot.
        unsafe {
            (*chunk)
                .slots
                .get_unchecked(pos)
                .with_mut(|slot| (*slot).write(value));
        }
    }

    /// Moves the value out of slot `pos`, leaving the slot empty.
    ///
    /// # Safety
    /// `chunk` is live, `pos < N`, the slot holds a value whose write
    /// happened-before this call, and no other thread accesses the slot.
    #[inline]
    pub(crate) unsafe fn take(chunk: *mut Self, pos: usize) -> T {
        // SAFETY: as the caller guarantees: in bounds, initialised, ours.
        unsafe {
            (*chunk)
                .slots
                .get_unchecked(pos)
                .with_mut(|slot| (*slot).assume_init_read())
        }
    }

    /// Borrows the value in slot `pos`.
    ///
    /// # Safety
    /// As [`Chunk::take`]; the borrow must end before the slot is emptied.
    #[inline]
    pub(crate) unsafe fn peek<'a>(chunk: *mut Self, pos: usize) -> &'a T {
        // SAFETY: as the caller guarantees: in bounds, initialised, ours
        // for the lifetime of the borrow.
        unsafe {
            (*chunk)
                .slots
                .get_unchecked(pos)
                .with(|slot| (*slot).assume_init_ref())
        }
    }

    /// Drops the value in slot `pos` in place.
    ///
    /// # Safety
    /// As [`Chunk::take`].
    pub(crate) unsafe fn drop_in_place(chunk: *mut Self, pos: usize) {
        // SAFETY: as the caller guarantees: in bounds, initialised, ours.
        unsafe {
            (*chunk)
                .slots
                .get_unchecked(pos)
                .with_mut(|slot| (*slot).assume_init_drop());
        }
    }

    /// Reads the `next` link.
    ///
    /// # Safety
    /// `chunk` is live and the link's last write happened-before this read.
    #[inline]
    pub(crate) unsafe fn next(chunk: *mut Self) -> *mut Self {
        // SAFETY: as the caller guarantees.
        unsafe { (*chunk).next.with(|p| *p) }
    }

    /// Sets the `next` link.
    ///
    /// # Safety
    /// `chunk` is live and only the writer (or the last owner) touches links.
    #[inline]
    pub(crate) unsafe fn set_next(chunk: *mut Self, next: *mut Self) {
        // SAFETY: as the caller guarantees.
        unsafe { (*chunk).next.with_mut(|p| *p = next) }
    }

    /// Reads the `prev` link.
    ///
    /// # Safety
    /// `chunk` is live; called by the writer only.
    #[inline]
    pub(crate) unsafe fn prev(chunk: *mut Self) -> *mut Self {
        // SAFETY: as the caller guarantees.
        unsafe { (*chunk).prev.with(|p| *p) }
    }

    /// Sets the `prev` link.
    ///
    /// # Safety
    /// `chunk` is live; called by the writer only.
    #[inline]
    pub(crate) unsafe fn set_prev(chunk: *mut Self, prev: *mut Self) {
        // SAFETY: as the caller guarantees.
        unsafe { (*chunk).prev.with_mut(|p| *p = prev) }
    }
}
