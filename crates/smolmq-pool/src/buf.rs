//! [`PooledBuf`]: a fixed-capacity byte buffer that goes home when dropped,
//! and the owner behind [`PooledBuf::freeze`].

use crate::cache;
use bytes::{buf::UninitSlice, BufMut, Bytes};
use core::fmt;
use core::mem;
use core::ops::{Deref, DerefMut};
use std::io;

/// The tier value of a buffer that belongs to no pool (an oversized
/// request, or a buffer already handed to a frozen owner).
const UNPOOLED: u8 = u8::MAX;

/// Where a buffer goes when it is dropped.
#[derive(Debug, Clone, Copy)]
struct Home {
    /// The id of the pool it came from.
    pool: u64,
    /// Its tier in that pool, or [`UNPOOLED`].
    tier: u8,
}

impl Home {
    /// Returns `buf` to this home, or frees it.
    #[inline]
    fn release(self, buf: Box<[u8]>) {
        if self.tier != UNPOOLED {
            cache::release(buf, self.pool, usize::from(self.tier));
        }
    }
}

/// A byte buffer from a [`Pool`](crate::Pool): a fixed capacity (its tier's
/// size), of which the first [`len`](PooledBuf::len) bytes are filled.
///
/// It dereferences to the filled part. Fill it with
/// [`extend_from_slice`](PooledBuf::extend_from_slice), with
/// [`fill_with`](PooledBuf::fill_with) / [`try_fill_with`](PooledBuf::try_fill_with)
/// (e.g. a socket read into the spare capacity), through
/// [`spare_capacity_mut`](PooledBuf::spare_capacity_mut) and
/// [`set_len`](PooledBuf::set_len), or as a [`bytes::BufMut`] or an
/// [`io::Write`]. It never grows: writes beyond the capacity are refused.
///
/// Dropping it returns it to its pool; [`freeze`](PooledBuf::freeze) turns
/// it into a [`Bytes`] that returns it when the last clone or slice drops.
///
/// The whole capacity is always initialised (new buffers are zeroed), so
/// the spare capacity is a plain `&mut [u8]` and no method needs `unsafe`.
/// A reused buffer's spare capacity holds whatever its last user wrote.
///
/// ```
/// use std::io::Read;
///
/// let pool = smolmq_pool::Pool::default();
/// let mut buf = pool.get(4096);
/// buf.extend_from_slice(b"HEAD")?;
/// // Read straight into the spare capacity, as from a socket.
/// let mut input: &[u8] = b"payload";
/// let n = buf.try_fill_with(|spare| input.read(spare)).unwrap();
/// assert_eq!((n, &buf[..]), (7, &b"HEADpayload"[..]));
/// # Ok::<(), smolmq_pool::CapacityError>(())
/// ```
pub struct PooledBuf {
    /// The whole capacity, initialised.
    buf: Box<[u8]>,
    /// Bytes filled, `<= buf.len()`.
    len: usize,
    /// Where `buf` goes on drop.
    home: Home,
}

impl PooledBuf {
    /// Wraps a buffer of tier `tier` of pool `pool`.
    #[inline]
    pub(crate) fn pooled(buf: Box<[u8]>, pool: u64, tier: usize) -> PooledBuf {
        // Tiers are at most `MAX_TIERS` (64), so the index fits below
        // `UNPOOLED`; anything else is treated as unpooled.
        let tier = u8::try_from(tier).unwrap_or(UNPOOLED);
        PooledBuf {
            buf,
            len: 0,
            home: Home { pool, tier },
        }
    }

    /// Wraps a buffer that is freed when dropped.
    pub(crate) fn unpooled(buf: Box<[u8]>) -> PooledBuf {
        PooledBuf {
            buf,
            len: 0,
            home: Home {
                pool: 0,
                tier: UNPOOLED,
            },
        }
    }

    /// Bytes filled.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing is filled.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fixed capacity: the tier size (or the exact size of an oversized
    /// request).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes that can still be filled: `capacity() - len()`.
    #[inline]
    pub fn remaining_capacity(&self) -> usize {
        self.buf.len() - self.len
    }

    /// True if this buffer returns to a pool when dropped; false for an
    /// oversized request's plain allocation.
    pub fn is_pooled(&self) -> bool {
        self.home.tier != UNPOOLED
    }

    /// The filled bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The filled bytes, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Empties the buffer, keeping its capacity.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Keeps the first `len` bytes; does nothing if `len >= self.len()`.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Appends `data`, or refuses it whole if it does not fit.
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let mut buf = pool.get(4096);
    /// buf.extend_from_slice(&[1; 4000]).unwrap();
    /// let err = buf.extend_from_slice(&[2; 100]).unwrap_err();
    /// assert_eq!((err.requested, err.available), (100, 96));
    /// assert_eq!(buf.len(), 4000);
    /// ```
    #[inline]
    pub fn extend_from_slice(&mut self, data: &[u8]) -> Result<(), CapacityError> {
        let end = self.len.saturating_add(data.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.len = end;
                Ok(())
            }
            _ => Err(self.capacity_error(data.len())),
        }
    }

    /// The unfilled part of the capacity, to write into before
    /// [`set_len`](PooledBuf::set_len). Already initialised (zeroes, or
    /// bytes a previous user left), so writing it needs no `unsafe`.
    #[inline]
    pub fn spare_capacity_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..]
    }

    /// Sets how many bytes are filled: any `len <= capacity()` is accepted.
    /// Growing exposes the bytes already in the spare capacity, typically
    /// just written through [`spare_capacity_mut`](PooledBuf::spare_capacity_mut).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let mut buf = pool.get(16);
    /// buf.spare_capacity_mut()[..3].copy_from_slice(b"abc");
    /// buf.set_len(3).unwrap();
    /// assert_eq!(&buf[..], b"abc");
    /// assert!(buf.set_len(4097).is_err());
    /// ```
    #[inline]
    pub fn set_len(&mut self, len: usize) -> Result<(), CapacityError> {
        if len > self.buf.len() {
            return Err(CapacityError {
                requested: len.saturating_sub(self.len),
                available: self.remaining_capacity(),
                capacity: self.buf.len(),
            });
        }
        self.len = len;
        Ok(())
    }

    /// Lets `fill` write into the spare capacity and counts the bytes it
    /// says it wrote as filled. Returns that count, capped at the spare
    /// capacity (a `fill` that claims more than it was given is held to
    /// what it was given).
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let mut buf = pool.get(4096);
    /// let n = buf.fill_with(|spare| {
    ///     spare.fill(0xab);
    ///     spare.len()
    /// });
    /// assert_eq!((n, buf.len()), (4096, 4096));
    /// ```
    #[inline]
    pub fn fill_with<F>(&mut self, fill: F) -> usize
    where
        F: FnOnce(&mut [u8]) -> usize,
    {
        let spare = &mut self.buf[self.len..];
        let n = fill(spare).min(spare.len());
        self.len += n;
        n
    }

    /// Like [`fill_with`](PooledBuf::fill_with) for a fallible `fill`, such
    /// as `|spare| socket.read(spare)`: on `Err` nothing is counted as
    /// filled and the error is passed on.
    #[inline]
    pub fn try_fill_with<F, E>(&mut self, fill: F) -> Result<usize, E>
    where
        F: FnOnce(&mut [u8]) -> Result<usize, E>,
    {
        let spare = &mut self.buf[self.len..];
        let n = fill(spare)?.min(spare.len());
        self.len += n;
        Ok(n)
    }

    /// Turns the filled bytes into a [`Bytes`], without copying. The buffer
    /// goes back to its pool when the last clone or slice of the `Bytes` is
    /// dropped, on whatever thread that happens.
    ///
    /// Built on [`Bytes::from_owner`], which makes one small heap
    /// allocation per call (its reference-counted header holding the
    /// buffer's owner, 48 bytes on 64-bit targets); clones and slices allocate nothing. An
    /// empty buffer freezes into [`Bytes::new`] without allocating, and
    /// goes back at once.
    ///
    /// ```
    /// let pool = smolmq_pool::Pool::default();
    /// let mut buf = pool.get(4096);
    /// buf.extend_from_slice(b"hello world").unwrap();
    /// let bytes = buf.freeze();
    /// let world = bytes.slice(6..);
    /// drop(bytes);
    /// assert_eq!(pool.stats().returns, 0, "`world` still uses the buffer");
    /// drop(world);
    /// assert_eq!(pool.stats().returns, 1);
    /// ```
    pub fn freeze(mut self) -> Bytes {
        if self.len == 0 {
            return Bytes::new();
        }
        let owner = Frozen {
            buf: mem::take(&mut self.buf),
            len: self.len,
            home: self.home,
        };
        // `self` now holds an empty box that must not be returned.
        self.home.tier = UNPOOLED;
        Bytes::from_owner(owner)
    }

    /// The error for a write of `requested` bytes that does not fit.
    fn capacity_error(&self, requested: usize) -> CapacityError {
        CapacityError {
            requested,
            available: self.remaining_capacity(),
            capacity: self.buf.len(),
        }
    }
}

impl Drop for PooledBuf {
    #[inline]
    fn drop(&mut self) {
        self.home.release(mem::take(&mut self.buf));
    }
}

impl Deref for PooledBuf {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for PooledBuf {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for PooledBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for PooledBuf {
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl fmt::Debug for PooledBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledBuf")
            .field("len", &self.len)
            .field("capacity", &self.buf.len())
            .field("pooled", &self.is_pooled())
            .finish()
    }
}

impl io::Write for PooledBuf {
    /// Writes as much of `data` as fits; `Ok(0)` once the buffer is full
    /// (so `write_all` fails with [`io::ErrorKind::WriteZero`]).
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(self.remaining_capacity());
        self.buf[self.len..self.len + n].copy_from_slice(&data[..n]);
        self.len += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// SAFETY: `BufMut` is unsafe to implement because callers trust that
// `chunk_mut` is valid for writes of its whole length and that
// `advance_mut(cnt)` makes exactly the next `cnt` bytes of it part of the
// buffer. Here `chunk_mut` is `self.buf[self.len..]`, a live, exclusively
// borrowed, initialised region of exactly `remaining_mut()` bytes (empty
// iff `remaining_mut() == 0`), and `advance_mut` only moves `len` forward
// within the capacity (it panics rather than go beyond it). Since the
// memory is always initialised, no byte that was never written can be
// read through the filled part.
#[allow(unsafe_code)]
unsafe impl BufMut for PooledBuf {
    #[inline]
    fn remaining_mut(&self) -> usize {
        self.remaining_capacity()
    }

    /// Marks `cnt` more bytes as filled.
    ///
    /// # Panics
    ///
    /// If `cnt > remaining_mut()`. Like every fixed-capacity `BufMut`
    /// (`&mut [u8]`), the provided `put_*` methods panic when the data does
    /// not fit; check [`remaining_mut`](BufMut::remaining_mut) first, or use
    /// the checked [`PooledBuf::extend_from_slice`].
    #[inline]
    unsafe fn advance_mut(&mut self, cnt: usize) {
        let remaining = self.remaining_capacity();
        assert!(
            cnt <= remaining,
            "PooledBuf::advance_mut: {cnt} bytes past the {remaining} that remain"
        );
        self.len += cnt;
    }

    #[inline]
    fn chunk_mut(&mut self) -> &mut UninitSlice {
        UninitSlice::new(&mut self.buf[self.len..])
    }
}

/// Why a write into a [`PooledBuf`] was refused: it does not fit in the
/// fixed capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapacityError {
    /// Bytes the write needed.
    pub requested: usize,
    /// Bytes that were left.
    pub available: usize,
    /// The buffer's capacity.
    pub capacity: usize,
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pooled buffer full: {} bytes requested, {} left of its capacity of {}",
            self.requested, self.available, self.capacity
        )
    }
}

impl std::error::Error for CapacityError {}

/// The owner of a frozen buffer inside a [`Bytes`]: returns the buffer to
/// its pool when `Bytes` drops it (after the last clone or slice).
struct Frozen {
    /// The whole capacity.
    buf: Box<[u8]>,
    /// Bytes filled; what the `Bytes` sees.
    len: usize,
    /// Where `buf` goes on drop.
    home: Home,
}

impl AsRef<[u8]> for Frozen {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Frozen {
    #[inline]
    fn drop(&mut self) {
        self.home.release(mem::take(&mut self.buf));
    }
}
