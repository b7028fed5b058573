//! [`Msg`]: a multipart message of frames.
//!
//! # Representation
//!
//! A message is one frame or several, stored one of six ways:
//!
//! * **inline**: one frame, or two, of at most [`INLINE_MAX`] (77) bytes
//!   in all, held inside the `Msg` itself. No allocation and no reference
//!   count: moving the message to another thread moves its bytes with it,
//!   so the two threads never share a counter's cache line. Most small
//!   messages take this form, and so do a ROUTER's routing id in front of
//!   a small body (up to 13 + 64 bytes) and a REQ's empty delimiter and
//!   its body. The bytes end at the end of the space, so putting a frame
//!   in front of one (a ROUTER receiving) or taking the first of two off
//!   (a ROUTER sending) moves no byte of the other.
//! * **one [`Bytes`]**: one larger frame, reference counted, never copied.
//! * **one pooled buffer held alone**: a copy [`Msg::copy_from_slice`]
//!   made of 78 bytes up to [`POOLED_MAX`] (8 KiB): no reference count and
//!   no `Bytes` header, whose allocation on the sender and free on the
//!   receiver cost more than the copy at these sizes. It becomes a `Bytes`
//!   only when asked for one (`pop_front`, `into_frames`, [`Msg::share`]);
//!   a clone copies it.
//! * **a routing id in front of such a buffer**: two frames, the first of
//!   at most [`ROUTED_ID_MAX`] (38) bytes held inline and the second a
//!   pooled copy as above. A ROUTER puts a peer's id in front of a
//!   mid-size body it receives, and takes it off one it sends, without an
//!   allocation or a reference count.
//! * **a routing id in front of one [`Bytes`]**: the same for a larger
//!   frame, or one an engine handed over as a slice of its read buffer
//!   (no frame list to allocate).
//! * **a `Vec<Bytes>`**: two frames or more (one more allocation).
//!
//! Growing a message past what fits inline moves its inline frames into
//! `Bytes` (a copy each); taking a frame off a two-frame inline message
//! leaves the other inline.
//!
//! `size_of::<Msg>()` is 80 bytes on 64-bit targets: [`INLINE_MAX`] takes
//! a 64-byte payload with room to spare, plus two length bytes and the
//! variant tag (at 72 bytes of inline space, a 64-byte body behind a
//! 6-byte id did not fit). Messages travel by value through the pipes, so
//! copying 80 bytes is the whole cost of handing a small one over.
//!
//! Which form a message has is not observable through the API, save for
//! pointers: equality, hashing and `Debug` look only at the frames' bytes.
//! Accessors borrow frames as `&[u8]`; the methods that hand out owned
//! [`Bytes`] ([`pop_front`](Msg::pop_front), [`split_first`](Msg::split_first),
//! [`into_frames`](Msg::into_frames)) copy an inline frame into a new
//! `Bytes`.
//!
//! # Invariant
//!
//! A message always has at least one frame: a zero-length frame is a valid
//! message, as in ZeroMQ, but a message with no frames does not exist.
//! Every constructor and mutator keeps it so: [`Msg::from_frames`] and
//! `TryFrom<Vec<Bytes>>` refuse an empty list, and [`Msg::pop_front`] never
//! takes the last frame.

#![deny(unsafe_code)]

use bytes::{Bytes, BytesMut};
use core::fmt;
use core::iter::FusedIterator;
use core::slice;
use std::vec;

/// Longest printable frame shown in full by `Debug`; longer ones are cut.
const DEBUG_TEXT_MAX: usize = 32;
/// Most bytes of a binary frame shown (as hex) by `Debug`.
const DEBUG_HEX_MAX: usize = 16;

/// Longest frame a single-frame [`Msg`] stores inline, in place, with no
/// allocation and no reference count (77 bytes: the inline form then makes
/// `size_of::<Msg>()` 80 on 64-bit targets).
pub const INLINE_MAX: usize = 77;

/// Most bytes two frames may hold together and still be stored inline in
/// a [`Msg`]: the same [`INLINE_MAX`], the two share the space. A 64-byte
/// body behind a ROUTER id of up to 13 bytes fits.
pub const INLINE2_MAX: usize = INLINE_MAX;

/// Longest first frame kept inline in front of a single larger frame (a
/// pooled copy the message holds alone, see [`Msg::copy_from_slice`], or
/// one [`Bytes`]): 38 bytes, what fits beside the buffer in the 80 bytes of
/// a [`Msg`]. Routing ids are usually 5 bytes (the ones a ROUTER
/// generates) or a short name; a longer first frame in front of such a
/// body is kept as a `Bytes` in a frame list.
pub const ROUTED_ID_MAX: usize = 38;

/// A multipart message: one or more frames.
///
/// A single frame of at most [`INLINE_MAX`] bytes is stored inside the
/// message (no allocation, no reference count); larger frames are
/// [`Bytes`], so cloning does not copy them, except a copy that
/// [`Msg::copy_from_slice`] made into a pooled buffer below [`POOLED_MAX`]
/// bytes, which the message holds alone: a clone copies it (see
/// [`Msg::share`]). `size_of::<Msg>()` is 80 bytes
/// on 64-bit targets. A message always holds at least one frame; a
/// zero-length frame is a valid message.
///
/// ```
/// use bytes::Bytes;
/// use smolmq_core::Msg;
///
/// let mut msg = Msg::from("body");
/// assert!(msg.is_single());
///
/// // A ROUTER prepends the peer's routing id...
/// msg.push_front(Bytes::from_static(b"peer-1"));
/// assert_eq!(msg.len(), 2);
/// assert_eq!(msg.size(), 10);
/// assert_eq!(msg.first(), b"peer-1");
///
/// // ...and takes it off again.
/// assert_eq!(msg.pop_front().as_deref(), Some(&b"peer-1"[..]));
/// assert_eq!(msg, Msg::from("body"));
/// // The last frame is never popped: a message is never empty.
/// assert_eq!(msg.pop_front(), None);
/// ```
#[derive(Clone)]
pub struct Msg {
    /// The frames.
    repr: Repr,
}

/// Storage of a message's frames.
enum Repr {
    /// One frame or two, of at most `INLINE_MAX` bytes in all.
    Inline(Inline),
    /// Exactly one frame, reference counted (usually longer than
    /// `INLINE_MAX`, but any length is valid).
    One(Bytes),
    /// Exactly one frame, a copy [`Msg::copy_from_slice`] made into a
    /// pooled buffer that the message holds alone (longer than
    /// `INLINE_MAX`, shorter than [`POOLED_MAX`]). No reference count and
    /// no `Bytes` header: the buffer goes back to its pool when the message
    /// is dropped. It becomes a `Bytes` (one allocation) only when a caller
    /// asks for one.
    #[cfg(not(loom))]
    Pooled(smolmq_pool::PooledBuf),
    /// Exactly two frames: a short one (a routing id) in front of a pooled
    /// buffer held alone as in `Pooled`.
    #[cfg(not(loom))]
    Routed(Short, smolmq_pool::PooledBuf),
    /// Exactly two frames: a short one (a routing id) in front of one
    /// reference-counted frame as in `One`.
    RoutedOne(Short, Bytes),
    /// Two frames or more (never fewer: see the module docs).
    Many(Vec<Bytes>),
}

/// A frame of at most [`ROUTED_ID_MAX`] bytes, in place.
#[derive(Clone, Copy)]
struct Short {
    /// Bytes used, at most `ROUTED_ID_MAX`.
    len: u8,
    /// The frame, then unused bytes.
    data: [u8; ROUTED_ID_MAX],
}

impl Short {
    /// `frame`, if it fits.
    #[inline]
    fn new(frame: &[u8]) -> Option<Short> {
        let mut data = [0; ROUTED_ID_MAX];
        data.get_mut(..frame.len())?.copy_from_slice(frame);
        Some(Short {
            len: frame.len() as u8,
            data,
        })
    }

    /// The frame.
    #[inline]
    fn as_slice(&self) -> &[u8] {
        &self.data[..usize::from(self.len)]
    }
}

/// [`Inline::split`] of a single frame.
const ONE_FRAME: u8 = u8::MAX;

/// One or two frames stored in a [`Msg`]: their bytes are the last `len`
/// bytes of `data`, and of two frames the first is the first `split` of
/// them. The bytes end at a fixed place so that the room is in front: a
/// ROUTER puts a routing id before a body, or takes it off, without moving
/// the body (what lies before the frames is left over and never read).
#[derive(Clone, Copy)]
struct Inline {
    /// Bytes of the frames together, at most `INLINE_MAX`.
    len: u8,
    /// Length of the first of two frames, or `ONE_FRAME`.
    split: u8,
    /// Unused bytes, then the frames.
    data: [u8; INLINE_MAX],
}

impl Inline {
    /// One empty frame.
    const EMPTY: Inline = Inline {
        len: 0,
        split: ONE_FRAME,
        data: [0; INLINE_MAX],
    };

    /// One frame; `frame` must fit.
    #[inline]
    fn one(frame: &[u8]) -> Inline {
        debug_assert!(frame.len() <= INLINE_MAX);
        let mut data = [0; INLINE_MAX];
        data[INLINE_MAX - frame.len()..].copy_from_slice(frame);
        Inline {
            len: frame.len() as u8,
            split: ONE_FRAME,
            data,
        }
    }

    /// Two frames, if they fit together.
    #[inline]
    fn two(a: &[u8], b: &[u8]) -> Option<Inline> {
        let len = a.len() + b.len();
        if len > INLINE_MAX {
            return None;
        }
        let mut inline = Inline::EMPTY;
        let start = INLINE_MAX - len;
        inline.data[start..start + a.len()].copy_from_slice(a);
        inline.data[start + a.len()..].copy_from_slice(b);
        inline.len = len as u8;
        inline.split = a.len() as u8;
        Some(inline)
    }

    /// Whether there are two frames.
    #[inline]
    fn is_two(&self) -> bool {
        self.split != ONE_FRAME
    }

    /// The first frame, and the second if there are two.
    #[inline]
    fn frames(&self) -> (&[u8], Option<&[u8]>) {
        let bytes = &self.data[INLINE_MAX - usize::from(self.len)..];
        if self.is_two() {
            let (a, b) = bytes.split_at(usize::from(self.split));
            (a, Some(b))
        } else {
            (bytes, None)
        }
    }

    /// Puts `frame` in front of a single frame if the two fit, and says
    /// whether it did. The frame held does not move.
    #[inline]
    fn push_front(&mut self, frame: &[u8]) -> bool {
        let len = usize::from(self.len);
        if self.is_two() || frame.len() > INLINE_MAX - len {
            return false;
        }
        let start = INLINE_MAX - len - frame.len();
        self.data[start..start + frame.len()].copy_from_slice(frame);
        self.split = frame.len() as u8;
        self.len = (len + frame.len()) as u8;
        true
    }

    /// Puts `frame` after a single frame if the two fit, and says whether
    /// it did (the frame held moves forward to make room).
    fn push_back(&mut self, frame: &[u8]) -> bool {
        let len = usize::from(self.len);
        if self.is_two() || frame.len() > INLINE_MAX - len {
            return false;
        }
        let start = INLINE_MAX - len;
        self.data.copy_within(start.., start - frame.len());
        self.data[INLINE_MAX - frame.len()..].copy_from_slice(frame);
        self.split = len as u8;
        self.len = (len + frame.len()) as u8;
        true
    }

    /// Drops the first of two frames, and says whether there were two. No
    /// byte moves.
    #[inline]
    fn drop_front(&mut self) -> bool {
        if !self.is_two() {
            return false;
        }
        self.len -= self.split;
        self.split = ONE_FRAME;
        true
    }
}

impl Msg {
    /// A message of one empty frame (ZeroMQ's zero-length message).
    ///
    /// Allocates nothing. Same as [`Msg::default`].
    ///
    /// ```
    /// let msg = smolmq_core::Msg::new();
    /// assert_eq!(msg.len(), 1);
    /// assert_eq!(msg.size(), 0);
    /// ```
    pub const fn new() -> Msg {
        Msg {
            repr: Repr::Inline(Inline::EMPTY),
        }
    }

    /// A single-frame message holding a copy of `data`: inline (no
    /// allocation) up to [`INLINE_MAX`] bytes, in a pooled buffer up to
    /// 256 KiB, in a new [`Bytes`] above.
    ///
    /// Below [`POOLED_MAX`] (8 KiB) the message holds the pooled buffer
    /// alone, with no reference count and no `Bytes` header (nothing is
    /// allocated once the pool is warm); cloning such a message copies the
    /// frame into another pooled buffer, unless [`Msg::share`] made it
    /// shared first. From `POOLED_MAX` the buffer is a pooled [`Bytes`],
    /// which clones share.
    ///
    /// A pooled buffer returns to its pool when the last handle to the
    /// message's frame is dropped, on whatever thread (the receiver's, or
    /// the I/O thread's once the frame is written), so a sender reuses warm
    /// buffers instead of allocating for each message. Up to 32 KiB the
    /// pool is one of small tiers (128 B to 32 KiB, powers of two), from
    /// 32 KiB the process's pool of large bodies, the one the engines read
    /// large frames into (a fresh 64 KiB allocation faults in its pages:
    /// `clear_page_erms` was a fifth of a 64 KiB tcp run's samples). A
    /// frame takes at most twice its length in memory for as long as it
    /// lives, as with a power-of-two allocator.
    ///
    /// For large data that is already a [`Bytes`] or a `Vec<u8>`, use the
    /// `From` conversions instead: they do not copy it.
    #[inline]
    pub fn copy_from_slice(data: &[u8]) -> Msg {
        if data.len() <= INLINE_MAX {
            Msg::inline(data)
        } else {
            Msg {
                repr: copy_to_repr(data),
            }
        }
    }

    /// Makes the frame of a message that holds a pooled copy alone (what
    /// [`Msg::copy_from_slice`] makes of 78 bytes up to [`POOLED_MAX`])
    /// reference counted, so that clones made after this share it instead
    /// of copying it. One allocation (the `Bytes` header), once, and a
    /// frame list if a routing id is held beside the copy; nothing for any
    /// other message.
    ///
    /// For a sender that clones one message to many peers, as PUB does:
    ///
    /// ```
    /// use smolmq_core::Msg;
    ///
    /// let mut msg = Msg::copy_from_slice(&[7u8; 1000]);
    /// msg.share();
    /// let copy = msg.clone();
    /// assert_eq!(copy.first().as_ptr(), msg.first().as_ptr(), "one buffer, shared");
    /// ```
    #[inline]
    pub fn share(&mut self) {
        #[cfg(not(loom))]
        match self.repr {
            Repr::Pooled(_) => {
                let frame = core::mem::take(&mut self.repr).into_first();
                self.repr = Repr::One(frame);
            }
            Repr::Routed(..) => {
                let frames = core::mem::take(self).into_list(0);
                self.repr = Repr::Many(frames);
            }
            _ => {}
        }
    }

    /// A two-frame inline message, if `a` and `b` fit together.
    #[inline]
    fn inline2(a: &[u8], b: &[u8]) -> Option<Msg> {
        Inline::two(a, b).map(|two| Msg {
            repr: Repr::Inline(two),
        })
    }

    /// An inline single-frame message. `data` must fit.
    #[inline]
    fn inline(data: &[u8]) -> Msg {
        Msg {
            repr: Repr::Inline(Inline::one(data)),
        }
    }

    /// A message of the given frames, in order, or `None` if there are none.
    ///
    /// A single frame of at most [`INLINE_MAX`] bytes is copied inline, as
    /// by `From<Bytes>`, and so are two frames of at most [`INLINE2_MAX`]
    /// bytes together; other frames of a multipart message are kept as
    /// given, without a copy.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use smolmq_core::Msg;
    ///
    /// let msg = Msg::from_frames(["a", "b", "c"].map(Bytes::from)).unwrap();
    /// assert_eq!(msg.len(), 3);
    /// assert!(Msg::from_frames(Vec::<Bytes>::new()).is_none());
    /// ```
    pub fn from_frames<I>(frames: I) -> Option<Msg>
    where
        I: IntoIterator<Item = Bytes>,
    {
        let mut frames = frames.into_iter();
        let first = frames.next()?;
        let Some(second) = frames.next() else {
            return Some(Msg::from(first));
        };
        let (lower, _) = frames.size_hint();
        if lower == 0 && first.len() + second.len() <= INLINE2_MAX {
            let third = frames.next();
            if third.is_none() {
                return Msg::inline2(&first, &second);
            }
            let mut all = Vec::with_capacity(3);
            all.extend([first, second]);
            all.extend(third);
            all.extend(frames);
            return Some(Msg {
                repr: Repr::Many(all),
            });
        }
        let mut all = Vec::with_capacity(lower.saturating_add(2));
        all.push(first);
        all.push(second);
        all.extend(frames);
        Some(Msg {
            repr: Repr::Many(all),
        })
    }

    /// An iterator over the frames, in order, as byte slices.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Many(frames) => IterInner::Many(frames.iter()),
                Repr::Inline(inline) => match inline.frames() {
                    (a, Some(b)) => IterInner::Two(Some(a), Some(b)),
                    (a, None) => IterInner::One(Some(a)),
                },
                Repr::One(frame) => IterInner::One(Some(&frame[..])),
                #[cfg(not(loom))]
                Repr::Pooled(buf) => IterInner::One(Some(&buf[..])),
                #[cfg(not(loom))]
                Repr::Routed(id, buf) => IterInner::Two(Some(id.as_slice()), Some(&buf[..])),
                Repr::RoutedOne(id, frame) => IterInner::Two(Some(id.as_slice()), Some(&frame[..])),
            },
        }
    }

    /// An iterator over the frames, in order, telling which are reference
    /// counted ([`FrameRef::Shared`]: can be kept without a copy) and which
    /// the message holds alone ([`FrameRef::Inline`]: inline, or a pooled
    /// copy below [`POOLED_MAX`]; copy them).
    ///
    /// For encoders: large frames go out zero-copy, small ones by copy.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use smolmq_core::{FrameRef, Msg};
    ///
    /// let big = Bytes::from(vec![0u8; 1000]);
    /// let msg = Msg::from(big.clone());
    /// match msg.shared_frames().next() {
    ///     Some(FrameRef::Shared(frame)) => assert_eq!(frame.as_ptr(), big.as_ptr()),
    ///     other => panic!("{other:?}"),
    /// }
    /// let small = Msg::from("hi");
    /// assert!(matches!(small.shared_frames().next(), Some(FrameRef::Inline(b"hi"))));
    /// ```
    #[inline]
    pub fn shared_frames(&self) -> SharedFrames<'_> {
        SharedFrames {
            inner: match &self.repr {
                Repr::Inline(inline) => match inline.frames() {
                    (a, Some(b)) => {
                        SharedInner::Two(Some(FrameRef::Inline(a)), Some(FrameRef::Inline(b)))
                    }
                    (a, None) => SharedInner::One(Some(FrameRef::Inline(a))),
                },
                Repr::One(frame) => SharedInner::One(Some(FrameRef::Shared(frame))),
                // Shorter than `POOLED_MAX`, which encoders copy anyway.
                #[cfg(not(loom))]
                Repr::Pooled(buf) => SharedInner::One(Some(FrameRef::Inline(&buf[..]))),
                #[cfg(not(loom))]
                Repr::Routed(id, buf) => SharedInner::Two(
                    Some(FrameRef::Inline(id.as_slice())),
                    Some(FrameRef::Inline(&buf[..])),
                ),
                Repr::RoutedOne(id, frame) => SharedInner::Two(
                    Some(FrameRef::Inline(id.as_slice())),
                    Some(FrameRef::Shared(frame)),
                ),
                Repr::Many(frames) => SharedInner::Many(frames.iter()),
            },
        }
    }

    /// The number of frames: 1 or more.
    #[inline]
    #[allow(clippy::len_without_is_empty)] // A message is never empty.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Many(frames) => frames.len(),
            Repr::Inline(inline) if inline.is_two() => 2,
            #[cfg(not(loom))]
            Repr::Routed(..) => 2,
            Repr::RoutedOne(..) => 2,
            _ => 1,
        }
    }

    /// Whether the message has exactly one frame.
    #[inline]
    pub fn is_single(&self) -> bool {
        match &self.repr {
            Repr::Inline(inline) => !inline.is_two(),
            Repr::One(_) => true,
            #[cfg(not(loom))]
            Repr::Pooled(_) => true,
            #[cfg(not(loom))]
            Repr::Routed(..) => false,
            Repr::RoutedOne(..) | Repr::Many(_) => false,
        }
    }

    /// The total payload in bytes: the sum of the frame lengths.
    ///
    /// Saturates at `usize::MAX` (only reachable with frames that share
    /// memory, e.g. one `Bytes` cloned many times).
    #[inline]
    pub fn size(&self) -> usize {
        match &self.repr {
            Repr::Inline(inline) => usize::from(inline.len),
            Repr::One(frame) => frame.len(),
            #[cfg(not(loom))]
            Repr::Pooled(buf) => buf.len(),
            #[cfg(not(loom))]
            Repr::Routed(id, buf) => usize::from(id.len) + buf.len(),
            Repr::RoutedOne(id, frame) => usize::from(id.len) + frame.len(),
            Repr::Many(frames) => frames
                .iter()
                .fold(0usize, |sum, frame| sum.saturating_add(frame.len())),
        }
    }

    /// The first frame. Always present.
    #[inline]
    pub fn first(&self) -> &[u8] {
        match &self.repr {
            Repr::Inline(inline) => inline.frames().0,
            Repr::One(frame) => frame,
            #[cfg(not(loom))]
            Repr::Pooled(buf) => &buf[..],
            #[cfg(not(loom))]
            Repr::Routed(id, _) => id.as_slice(),
            Repr::RoutedOne(id, _) => id.as_slice(),
            // Invariant: `Many` holds at least two frames.
            Repr::Many(frames) => &frames[0],
        }
    }

    /// The last frame. Always present (the first one, for a single frame).
    #[inline]
    pub fn last(&self) -> &[u8] {
        match &self.repr {
            // Invariant: `Many` holds at least two frames.
            Repr::Many(frames) => &frames[frames.len() - 1],
            Repr::Inline(inline) => match inline.frames() {
                (_, Some(last)) | (last, None) => last,
            },
            Repr::One(frame) | Repr::RoutedOne(_, frame) => frame,
            #[cfg(not(loom))]
            Repr::Pooled(buf) | Repr::Routed(_, buf) => &buf[..],
        }
    }

    /// The frame at `index`, or `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        match &self.repr {
            Repr::Many(frames) => frames.get(index).map(|f| &f[..]),
            Repr::Inline(inline) => match (index, inline.frames()) {
                (0, (first, _)) => Some(first),
                (1, (_, second)) => second,
                _ => None,
            },
            Repr::One(frame) => (index == 0).then_some(&frame[..]),
            #[cfg(not(loom))]
            Repr::Pooled(buf) => (index == 0).then_some(&buf[..]),
            #[cfg(not(loom))]
            Repr::Routed(id, buf) => match index {
                0 => Some(id.as_slice()),
                1 => Some(&buf[..]),
                _ => None,
            },
            Repr::RoutedOne(id, frame) => match index {
                0 => Some(id.as_slice()),
                1 => Some(&frame[..]),
                _ => None,
            },
        }
    }

    /// Appends a frame at the end.
    ///
    /// Two frames that fit in [`INLINE2_MAX`] bytes stay inline (the new
    /// one copied in); otherwise the first push onto a single-frame message
    /// allocates the frame list (and copies inline frames into `Bytes`).
    pub fn push_back(&mut self, frame: Bytes) {
        let done = match &mut self.repr {
            Repr::Many(frames) => {
                frames.push(frame);
                return;
            }
            Repr::Inline(inline) => inline.push_back(&frame),
            _ => false,
        };
        if done {
            return;
        }
        let mut frames = core::mem::take(self).into_list(1);
        frames.push(frame);
        self.repr = Repr::Many(frames);
    }

    /// Inserts a frame at the front (as a ROUTER prepends a routing id).
    ///
    /// Two frames that fit in [`INLINE2_MAX`] bytes stay inline (the new
    /// one copied in); otherwise the first push onto a single-frame message
    /// allocates the frame list (and copies inline frames into `Bytes`); on
    /// a multipart message it moves the other frames up by one.
    pub fn push_front(&mut self, frame: Bytes) {
        if !self.push_front_in_place(&frame) {
            self.push_front_with(frame);
        }
    }

    /// Inserts a copy of `frame` at the front: no allocation when the
    /// message stays inline (see [`push_front`](Msg::push_front)), a new
    /// `Bytes` otherwise. For routing ids the caller keeps.
    #[inline]
    pub fn push_front_slice(&mut self, frame: &[u8]) {
        if !self.push_front_in_place(frame) {
            self.push_front_with(Bytes::copy_from_slice(frame));
        }
    }

    /// Puts a copy of `frame` in front without allocating, if the message
    /// can hold it so: two inline frames, or a short frame in front of a
    /// pooled copy or of one `Bytes`.
    #[inline]
    fn push_front_in_place(&mut self, frame: &[u8]) -> bool {
        if let Repr::Inline(inline) = &mut self.repr {
            return inline.push_front(frame);
        }
        if !self.is_single() {
            return false;
        }
        let Some(id) = Short::new(frame) else {
            return false;
        };
        // One frame, not inline: a pooled copy or one `Bytes`.
        self.repr = match core::mem::take(&mut self.repr) {
            #[cfg(not(loom))]
            Repr::Pooled(buf) => Repr::Routed(id, buf),
            Repr::One(body) => Repr::RoutedOne(id, body),
            other => {
                self.repr = other;
                return false;
            }
        };
        true
    }

    /// [`push_front`](Msg::push_front) when the result is not inline.
    fn push_front_with(&mut self, frame: Bytes) {
        if let Repr::Many(frames) = &mut self.repr {
            return frames.insert(0, frame);
        }
        let mut frames = core::mem::take(self).into_list(1);
        frames.insert(0, frame);
        self.repr = Repr::Many(frames);
    }

    /// Removes and returns the first frame, if it is not the only one.
    ///
    /// Returns `None`, leaving the message unchanged, when the message has a
    /// single frame: a message never becomes empty. Use
    /// [`Msg::split_first`] to take the first frame whatever the length,
    /// and [`Msg::drop_front`] to drop it without making a `Bytes` of it.
    /// A frame left alone of at most [`INLINE_MAX`] bytes moves inline.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        match &mut self.repr {
            Repr::Many(frames) if frames.len() == 2 => {
                let second = frames.pop()?;
                let first = frames.pop()?;
                *self = Msg::from(second);
                return Some(first);
            }
            Repr::Many(frames) => return Some(frames.remove(0)),
            Repr::Inline(inline) if inline.is_two() => {
                let first = Bytes::copy_from_slice(inline.frames().0);
                inline.drop_front();
                return Some(first);
            }
            _ => {}
        }
        // A routing id held beside one body, or a single frame.
        if self.is_single() {
            return None;
        }
        let first = Bytes::copy_from_slice(self.first());
        self.drop_front();
        Some(first)
    }

    /// Drops the first frame, if it is not the only one, and says whether
    /// it did: [`pop_front`](Msg::pop_front) without handing the frame out,
    /// so an inline one is not copied (a ROUTER that looked the routing id
    /// up with [`first`](Msg::first) drops it so).
    ///
    /// ```
    /// use smolmq_core::Msg;
    ///
    /// let mut msg = Msg::from_frames(["peer", "body"].map(bytes::Bytes::from)).unwrap();
    /// assert!(msg.drop_front());
    /// assert_eq!(msg, Msg::from("body"));
    /// assert!(!msg.drop_front());
    /// ```
    pub fn drop_front(&mut self) -> bool {
        match &mut self.repr {
            Repr::Inline(inline) => return inline.drop_front(),
            Repr::Many(_) => return self.pop_front().is_some(),
            _ => {}
        }
        // A routing id held beside one body goes; a single frame stays.
        self.repr = match core::mem::take(&mut self.repr) {
            #[cfg(not(loom))]
            Repr::Routed(_, buf) => Repr::Pooled(buf),
            Repr::RoutedOne(_, frame) => Repr::One(frame),
            single => {
                self.repr = single;
                return false;
            }
        };
        true
    }

    /// Splits the message into its first frame and the rest, if any.
    ///
    /// ```
    /// use smolmq_core::Msg;
    ///
    /// let (first, rest) = Msg::from("only").split_first();
    /// assert_eq!(first, "only");
    /// assert!(rest.is_none());
    /// ```
    pub fn split_first(mut self) -> (Bytes, Option<Msg>) {
        match self.pop_front() {
            Some(first) => (first, Some(self)),
            None => (self.take_single(), None),
        }
    }

    /// The frames as `Bytes` in a list with room for `room` more: one
    /// allocation (none for a frame list with room to spare). Inline
    /// frames and a routing id held beside a body are copied, a pooled copy
    /// is frozen.
    fn into_list(self, room: usize) -> Vec<Bytes> {
        let len = self.len();
        match self.repr {
            Repr::Many(mut frames) => {
                frames.reserve(room);
                frames
            }
            repr => {
                let mut frames = Vec::with_capacity(len + room);
                match repr {
                    Repr::Inline(inline) => {
                        let (a, b) = inline.frames();
                        frames.push(Bytes::copy_from_slice(a));
                        frames.extend(b.map(Bytes::copy_from_slice));
                    }
                    #[cfg(not(loom))]
                    Repr::Routed(id, buf) => {
                        frames.extend([Bytes::copy_from_slice(id.as_slice()), buf.freeze()]);
                    }
                    Repr::RoutedOne(id, frame) => {
                        frames.extend([Bytes::copy_from_slice(id.as_slice()), frame]);
                    }
                    single => frames.push(single.into_first()),
                }
                frames
            }
        }
    }

    /// The frames as a `Vec` (allocates for a single-frame message).
    pub fn into_vec(self) -> Vec<Bytes> {
        self.into_list(0)
    }

    /// An owning iterator over the frames, in order. An inline frame is
    /// copied into a new `Bytes`.
    pub fn into_frames(self) -> IntoFrames {
        let inner = if self.is_single() {
            IntoFramesInner::One(Some(self.repr.into_first()))
        } else {
            IntoFramesInner::Many(self.into_list(0).into_iter())
        };
        IntoFrames { inner }
    }

    /// The frame of a single-frame message as `Bytes` (an inline frame is
    /// copied), leaving an empty inline frame behind; for `Many`, the first
    /// frame (unused: callers match `Many` first).
    fn take_single(&mut self) -> Bytes {
        core::mem::take(&mut self.repr).into_first()
    }
}

impl Clone for Repr {
    /// A reference-count increment for `Bytes` frames; a copy for inline
    /// frames and for a pooled frame the message holds alone (into another
    /// pooled buffer: see [`Msg::share`] to make clones share it instead).
    fn clone(&self) -> Repr {
        match self {
            Repr::Inline(inline) => Repr::Inline(*inline),
            Repr::One(frame) => Repr::One(frame.clone()),
            #[cfg(not(loom))]
            Repr::Pooled(buf) => Repr::Pooled(copy_pool().copy_of(buf)),
            #[cfg(not(loom))]
            Repr::Routed(id, buf) => Repr::Routed(*id, copy_pool().copy_of(buf)),
            Repr::RoutedOne(id, frame) => Repr::RoutedOne(*id, frame.clone()),
            Repr::Many(frames) => Repr::Many(frames.clone()),
        }
    }
}

impl Repr {
    /// The first frame as `Bytes` (an inline frame is copied, a pooled one
    /// frozen), dropping the others.
    fn into_first(self) -> Bytes {
        match self {
            Repr::Inline(inline) => Bytes::copy_from_slice(inline.frames().0),
            Repr::One(frame) => frame,
            #[cfg(not(loom))]
            Repr::Pooled(buf) => buf.freeze(),
            #[cfg(not(loom))]
            Repr::Routed(id, _) => Bytes::copy_from_slice(id.as_slice()),
            Repr::RoutedOne(id, _) => Bytes::copy_from_slice(id.as_slice()),
            Repr::Many(frames) => frames.into_iter().next().unwrap_or_default(),
        }
    }
}

impl Default for Repr {
    /// One empty inline frame.
    fn default() -> Repr {
        Msg::new().repr
    }
}

impl Default for Msg {
    /// A message of one empty frame, as [`Msg::new`].
    fn default() -> Msg {
        Msg::new()
    }
}

impl PartialEq for Msg {
    /// Two messages are equal when they have the same frames: the same
    /// number, each with the same bytes (however they are stored).
    fn eq(&self, other: &Msg) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Msg {}

impl core::hash::Hash for Msg {
    /// Hashes the frames' bytes, consistently with `Eq`.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for frame in self {
            frame.hash(state);
        }
    }
}

impl From<Bytes> for Msg {
    /// A single-frame message. A frame of at most [`INLINE_MAX`] bytes is
    /// copied into the message (and the `Bytes` dropped), so that the
    /// message carries no reference count; a larger one is kept as it is,
    /// without a copy.
    #[inline]
    fn from(frame: Bytes) -> Msg {
        if frame.len() <= INLINE_MAX {
            Msg::inline(&frame)
        } else {
            Msg {
                repr: Repr::One(frame),
            }
        }
    }
}

impl From<BytesMut> for Msg {
    /// A single-frame message: inline up to [`INLINE_MAX`] bytes (a copy),
    /// otherwise the buffer frozen, without a copy.
    fn from(frame: BytesMut) -> Msg {
        if frame.len() <= INLINE_MAX {
            Msg::inline(&frame)
        } else {
            Msg::from(frame.freeze())
        }
    }
}

impl From<Vec<u8>> for Msg {
    /// A single-frame message: inline up to [`INLINE_MAX`] bytes (a copy),
    /// otherwise the vector taken over without a copy.
    fn from(frame: Vec<u8>) -> Msg {
        if frame.len() <= INLINE_MAX {
            Msg::inline(&frame)
        } else {
            Msg::from(Bytes::from(frame))
        }
    }
}

impl From<String> for Msg {
    /// A single-frame message of the string's UTF-8 bytes: inline up to
    /// [`INLINE_MAX`] bytes, otherwise taken over without a copy.
    fn from(frame: String) -> Msg {
        Msg::from(frame.into_bytes())
    }
}

impl From<&'static [u8]> for Msg {
    /// A single-frame message of static data: inline up to [`INLINE_MAX`]
    /// bytes, otherwise pointing at the data (no copy, no allocation).
    fn from(frame: &'static [u8]) -> Msg {
        if frame.len() <= INLINE_MAX {
            Msg::inline(frame)
        } else {
            Msg::from(Bytes::from_static(frame))
        }
    }
}

impl<const N: usize> From<&'static [u8; N]> for Msg {
    /// A single-frame message of static data, so that `Msg::from(b"hello")`
    /// works: inline up to [`INLINE_MAX`] bytes, otherwise pointing at the
    /// data (no copy, no allocation).
    fn from(frame: &'static [u8; N]) -> Msg {
        Msg::from(&frame[..])
    }
}

impl From<&'static str> for Msg {
    /// A single-frame message of the string's UTF-8 bytes: inline up to
    /// [`INLINE_MAX`] bytes, otherwise pointing at the string (no copy, no
    /// allocation).
    fn from(frame: &'static str) -> Msg {
        Msg::from(frame.as_bytes())
    }
}

impl TryFrom<Vec<Bytes>> for Msg {
    type Error = EmptyMsgError;

    /// A message of the given frames, in order, or [`EmptyMsgError`] for an
    /// empty vector (a message has at least one frame).
    ///
    /// A multipart vector is kept as the message's frame list, no copy; a
    /// one-frame vector becomes a single-frame message (as `From<Bytes>`)
    /// and is freed.
    fn try_from(mut frames: Vec<Bytes>) -> Result<Msg, EmptyMsgError> {
        match frames.len() {
            0 => Err(EmptyMsgError),
            1 => Ok(Msg::from(frames.pop().ok_or(EmptyMsgError)?)),
            _ => Ok(Msg {
                repr: Repr::Many(frames),
            }),
        }
    }
}

impl From<Msg> for Vec<Bytes> {
    fn from(msg: Msg) -> Vec<Bytes> {
        msg.into_vec()
    }
}

impl IntoIterator for Msg {
    type Item = Bytes;
    type IntoIter = IntoFrames;

    fn into_iter(self) -> IntoFrames {
        self.into_frames()
    }
}

impl<'a> IntoIterator for &'a Msg {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for Msg {
    /// Lists the frames: printable ones as quoted text, others as hex, each
    /// cut after a few bytes with the full length given, e.g.
    /// `Msg["hello", 0x00ff10]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Msg")?;
        f.debug_list().entries(self.iter().map(FrameDebug)).finish()
    }
}

/// Formats one frame for [`Msg`]'s `Debug`.
struct FrameDebug<'a>(&'a [u8]);

impl fmt::Debug for FrameDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frame = self.0;
        let is_text = frame
            .iter()
            .all(|&b| (0x20..=0x7e).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'));
        let shown = if is_text {
            let end = frame.len().min(DEBUG_TEXT_MAX);
            // Every byte is ASCII, so any prefix is valid UTF-8.
            let text = core::str::from_utf8(&frame[..end]).map_err(|_| fmt::Error)?;
            write!(f, "{text:?}")?;
            end
        } else {
            let end = frame.len().min(DEBUG_HEX_MAX);
            f.write_str("0x")?;
            for byte in &frame[..end] {
                write!(f, "{byte:02x}")?;
            }
            end
        };
        if shown < frame.len() {
            write!(f, "\u{2026} ({} B)", frame.len())?;
        }
        Ok(())
    }
}

/// The error of `Msg::try_from(Vec<Bytes>)` for an empty vector: a message
/// has at least one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmptyMsgError;

impl fmt::Display for EmptyMsgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message needs at least one frame, got none")
    }
}

impl std::error::Error for EmptyMsgError {}

/// The owning iterator over a message's frames: [`Msg::into_frames`].
#[derive(Debug)]
pub struct IntoFrames {
    /// Where the frames come from.
    inner: IntoFramesInner,
}

/// The two shapes of [`IntoFrames`], following [`Repr`].
#[derive(Debug)]
enum IntoFramesInner {
    /// A single frame, until taken.
    One(Option<Bytes>),
    /// The frame list.
    Many(vec::IntoIter<Bytes>),
}

impl Iterator for IntoFrames {
    type Item = Bytes;

    #[inline]
    fn next(&mut self) -> Option<Bytes> {
        match &mut self.inner {
            IntoFramesInner::One(frame) => frame.take(),
            IntoFramesInner::Many(frames) => frames.next(),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = match &self.inner {
            IntoFramesInner::One(frame) => usize::from(frame.is_some()),
            IntoFramesInner::Many(frames) => frames.len(),
        };
        (len, Some(len))
    }
}

impl DoubleEndedIterator for IntoFrames {
    fn next_back(&mut self) -> Option<Bytes> {
        match &mut self.inner {
            IntoFramesInner::One(frame) => frame.take(),
            IntoFramesInner::Many(frames) => frames.next_back(),
        }
    }
}

impl ExactSizeIterator for IntoFrames {}

impl FusedIterator for IntoFrames {}

/// The iterator over a message's frames as byte slices: [`Msg::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    /// Where the frames come from.
    inner: IterInner<'a>,
}

/// The two shapes of [`Iter`].
#[derive(Debug, Clone)]
enum IterInner<'a> {
    /// A single frame, until taken.
    One(Option<&'a [u8]>),
    /// Two inline frames, until taken.
    Two(Option<&'a [u8]>, Option<&'a [u8]>),
    /// The frame list.
    Many(slice::Iter<'a, Bytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.inner {
            IterInner::One(frame) => frame.take(),
            IterInner::Two(a, b) => a.take().or_else(|| b.take()),
            IterInner::Many(frames) => frames.next().map(|f| &f[..]),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = match &self.inner {
            IterInner::One(frame) => usize::from(frame.is_some()),
            IterInner::Two(a, b) => usize::from(a.is_some()) + usize::from(b.is_some()),
            IterInner::Many(frames) => frames.len(),
        };
        (len, Some(len))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::One(frame) => frame.take(),
            IterInner::Two(a, b) => b.take().or_else(|| a.take()),
            IterInner::Many(frames) => frames.next_back().map(|f| &f[..]),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl FusedIterator for Iter<'_> {}

/// One frame of a message, as [`Msg::shared_frames`] gives it to an
/// encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRef<'a> {
    /// Held by the message alone: stored inside it (at most [`INLINE_MAX`]
    /// bytes; two inline frames share [`INLINE2_MAX`]), or a pooled copy
    /// shorter than [`POOLED_MAX`] (see [`Msg::copy_from_slice`]): copy it.
    Inline(&'a [u8]),
    /// A reference-counted frame: clone it to keep it without a copy.
    Shared(&'a Bytes),
}

impl<'a> FrameRef<'a> {
    /// The frame's bytes.
    #[inline]
    pub fn as_slice(self) -> &'a [u8] {
        match self {
            FrameRef::Inline(frame) => frame,
            FrameRef::Shared(frame) => frame,
        }
    }

    /// The frame as `Bytes`: a reference-count increment for a shared
    /// frame, a copy for an inline one.
    pub fn to_bytes(self) -> Bytes {
        match self {
            FrameRef::Inline(frame) => Bytes::copy_from_slice(frame),
            FrameRef::Shared(frame) => frame.clone(),
        }
    }
}

/// The iterator of [`Msg::shared_frames`].
#[derive(Debug, Clone)]
pub struct SharedFrames<'a> {
    /// Where the frames come from.
    inner: SharedInner<'a>,
}

/// The two shapes of [`SharedFrames`].
#[derive(Debug, Clone)]
enum SharedInner<'a> {
    /// A single frame, until taken.
    One(Option<FrameRef<'a>>),
    /// Two inline frames, until taken.
    Two(Option<FrameRef<'a>>, Option<FrameRef<'a>>),
    /// The frame list.
    Many(slice::Iter<'a, Bytes>),
}

impl<'a> Iterator for SharedFrames<'a> {
    type Item = FrameRef<'a>;

    #[inline]
    fn next(&mut self) -> Option<FrameRef<'a>> {
        match &mut self.inner {
            SharedInner::One(frame) => frame.take(),
            SharedInner::Two(a, b) => a.take().or_else(|| b.take()),
            SharedInner::Many(frames) => frames.next().map(FrameRef::Shared),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = match &self.inner {
            SharedInner::One(frame) => usize::from(frame.is_some()),
            SharedInner::Two(a, b) => usize::from(a.is_some()) + usize::from(b.is_some()),
            SharedInner::Many(frames) => frames.len(),
        };
        (len, Some(len))
    }
}

impl ExactSizeIterator for SharedFrames<'_> {}

impl FusedIterator for SharedFrames<'_> {}

/// Compile-time checks: messages cross threads, and stay small.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Msg>();
    assert_send_sync::<IntoFrames>();
    assert!(INLINE_MAX <= u8::MAX as usize);
    assert!(core::mem::size_of::<Msg>() <= INLINE_MAX + 2 * core::mem::size_of::<usize>());
    #[cfg(target_pointer_width = "64")]
    assert!(core::mem::size_of::<Msg>() == 80);
};

/// Frames [`Msg::copy_from_slice`] copies into a pooled buffer that the
/// message holds alone, with no `Bytes` around it, are shorter than this:
/// the ZMTP encoder's default copy threshold (8 KiB), below which an engine
/// copies a frame into its batch anyway, so holding it without a reference
/// count costs the write path nothing. Longer copies are pooled `Bytes`.
///
/// The reason is the `Bytes` header: `Bytes::from_owner` allocates 48
/// bytes for every pooled frame, on the sending thread, and the receiving
/// thread frees it: under callgrind, PAIR inproc 256 B spent 40 % of the
/// sender's instructions in `malloc` and 40 % of the receiver's in `free`.
pub const POOLED_MAX: usize = smolmq_zmtp::DEFAULT_COPY_THRESHOLD;

/// A copy of `data` (longer than [`INLINE_MAX`]): a pooled buffer held
/// alone below [`POOLED_MAX`], pooled `Bytes` up to a large body's size,
/// new `Bytes` above (see [`Msg::copy_from_slice`]).
#[cfg(not(loom))]
fn copy_to_repr(data: &[u8]) -> Repr {
    use crate::engine::{body_pool, DIRECT_MAX, DIRECT_MIN};
    // A buffer the pool must allocate is built from `data`, not zeroed
    // first: the sender outrunning the buffers coming back (HWM
    // unlimited, large messages) allocates for every message.
    if data.len() < POOLED_MAX {
        return Repr::Pooled(copy_pool().copy_of(data));
    }
    let pool = if data.len() < DIRECT_MIN {
        copy_pool()
    } else if data.len() <= DIRECT_MAX {
        body_pool()
    } else {
        return Repr::One(Bytes::copy_from_slice(data));
    };
    Repr::One(pool.copy_of(data).freeze())
}

/// The buffers [`Msg::copy_from_slice`] copies frames of up to 32 KiB
/// into: tiers of 128 B to 32 KiB, 64 buffers per tier shared and 16 per
/// thread (at most 4 MiB shared and 1 MiB per thread held, summed over the
/// tiers).
///
/// The copy is made on the sending thread and dropped on another (the
/// receiver's for inproc, the I/O thread's once written): with the global
/// allocator each message's buffer was freed into the sending thread's
/// malloc arena from across threads, and the two threads met on that
/// arena's lock (a third of an inproc PAIR 1 KiB profile, futex waits
/// included). The pool trades buffers between the threads a magazine of 8
/// at a time.
#[cfg(not(loom))]
fn copy_pool() -> &'static smolmq_pool::Pool {
    use smolmq_pool::{Pool, PoolConfig};
    use std::sync::OnceLock;
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let config = PoolConfig {
            tiers: (7..=15).map(|shift| 1 << shift).collect(),
            max_pooled_per_tier: 64,
            thread_cache_per_tier: 16,
        };
        // The configuration is a constant that validates.
        Pool::new(config).unwrap_or_else(|_| unreachable!("valid pool configuration"))
    })
}

/// A copy of `data` (under loom, which builds no engine or pool).
#[cfg(loom)]
fn copy_to_repr(data: &[u8]) -> Repr {
    Repr::One(Bytes::copy_from_slice(data))
}
