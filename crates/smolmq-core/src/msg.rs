//! [`Msg`]: a multipart message of [`Bytes`] frames.
//!
//! # Representation
//!
//! A message is one frame or several. The common case, one frame, is stored
//! inline (`Repr::One`): building, cloning and sending it allocates nothing
//! beyond what the [`Bytes`] itself holds. Several frames live in a `Vec`
//! (`Repr::Many`, always at least two frames), so a multipart message costs
//! one more allocation. Either way `size_of::<Msg>()` is 32 bytes on 64-bit
//! targets (the `Vec` shares the space of the `Bytes`), which matters because
//! messages travel by value through the pipes.
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

/// A multipart message: one or more frames of [`Bytes`].
///
/// Cheap to clone (each frame is reference counted, never copied) and
/// small: `size_of::<Msg>()` is 32 bytes on 64-bit targets, and a
/// single-frame message needs no allocation beyond its `Bytes`. It always
/// holds at least one frame; a zero-length frame is a valid message.
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
#[derive(Clone)]
enum Repr {
    /// Exactly one frame, inline.
    One(Bytes),
    /// Two frames or more (never fewer: see the module docs).
    Many(Vec<Bytes>),
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
            repr: Repr::One(Bytes::new()),
        }
    }

    /// A single-frame message holding a copy of `data`.
    ///
    /// For data that is already a [`Bytes`], a `Vec<u8>` or `'static`, use
    /// the `From` conversions instead: they do not copy.
    pub fn copy_from_slice(data: &[u8]) -> Msg {
        Msg::from(Bytes::copy_from_slice(data))
    }

    /// A message of the given frames, in order, or `None` if there are none.
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
        let mut all = Vec::with_capacity(lower.saturating_add(2));
        all.push(first);
        all.push(second);
        all.extend(frames);
        Some(Msg {
            repr: Repr::Many(all),
        })
    }

    /// The frames, in order. Never empty.
    #[inline]
    pub fn frames(&self) -> &[Bytes] {
        match &self.repr {
            Repr::One(frame) => slice::from_ref(frame),
            Repr::Many(frames) => frames,
        }
    }

    /// An iterator over the frames, in order.
    #[inline]
    pub fn iter(&self) -> slice::Iter<'_, Bytes> {
        self.frames().iter()
    }

    /// The number of frames: 1 or more.
    #[inline]
    #[allow(clippy::len_without_is_empty)] // A message is never empty.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::One(_) => 1,
            Repr::Many(frames) => frames.len(),
        }
    }

    /// Whether the message has exactly one frame.
    #[inline]
    pub fn is_single(&self) -> bool {
        matches!(self.repr, Repr::One(_))
    }

    /// The total payload in bytes: the sum of the frame lengths.
    ///
    /// Saturates at `usize::MAX` (only reachable with frames that share
    /// memory, e.g. one `Bytes` cloned many times).
    pub fn size(&self) -> usize {
        match &self.repr {
            Repr::One(frame) => frame.len(),
            Repr::Many(frames) => frames
                .iter()
                .fold(0usize, |sum, frame| sum.saturating_add(frame.len())),
        }
    }

    /// The first frame. Always present.
    #[inline]
    pub fn first(&self) -> &Bytes {
        match &self.repr {
            Repr::One(frame) => frame,
            // Invariant: `Many` holds at least two frames.
            Repr::Many(frames) => &frames[0],
        }
    }

    /// The last frame. Always present (the first one, for a single frame).
    #[inline]
    pub fn last(&self) -> &Bytes {
        match &self.repr {
            Repr::One(frame) => frame,
            // Invariant: `Many` holds at least two frames.
            Repr::Many(frames) => &frames[frames.len() - 1],
        }
    }

    /// The frame at `index`, or `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<&Bytes> {
        self.frames().get(index)
    }

    /// Appends a frame at the end.
    ///
    /// The first push onto a single-frame message allocates the frame list.
    pub fn push_back(&mut self, frame: Bytes) {
        match &mut self.repr {
            Repr::One(first) => {
                let first = core::mem::take(first);
                self.repr = Repr::Many(vec![first, frame]);
            }
            Repr::Many(frames) => frames.push(frame),
        }
    }

    /// Inserts a frame at the front (as a ROUTER prepends a routing id).
    ///
    /// The first push onto a single-frame message allocates the frame list;
    /// on a multipart message it moves the other frames up by one.
    pub fn push_front(&mut self, frame: Bytes) {
        match &mut self.repr {
            Repr::One(only) => {
                let only = core::mem::take(only);
                self.repr = Repr::Many(vec![frame, only]);
            }
            Repr::Many(frames) => frames.insert(0, frame),
        }
    }

    /// Removes and returns the first frame, if it is not the only one.
    ///
    /// Returns `None`, leaving the message unchanged, when the message has a
    /// single frame: a message never becomes empty. Use
    /// [`Msg::split_first`] to take the first frame whatever the length.
    pub fn pop_front(&mut self) -> Option<Bytes> {
        match &mut self.repr {
            Repr::One(_) => None,
            Repr::Many(frames) if frames.len() == 2 => {
                let second = frames.pop()?;
                let first = frames.pop()?;
                self.repr = Repr::One(second);
                Some(first)
            }
            Repr::Many(frames) => Some(frames.remove(0)),
        }
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
            None => (self.into_first(), None),
        }
    }

    /// The frames as a `Vec` (allocates for a single-frame message).
    pub fn into_vec(self) -> Vec<Bytes> {
        match self.repr {
            Repr::One(frame) => vec![frame],
            Repr::Many(frames) => frames,
        }
    }

    /// An owning iterator over the frames, in order.
    pub fn into_frames(self) -> IntoFrames {
        IntoFrames {
            inner: match self.repr {
                Repr::One(frame) => IntoFramesInner::One(Some(frame)),
                Repr::Many(frames) => IntoFramesInner::Many(frames.into_iter()),
            },
        }
    }

    /// The first frame, dropping the others.
    fn into_first(self) -> Bytes {
        match self.repr {
            Repr::One(frame) => frame,
            Repr::Many(frames) => frames.into_iter().next().unwrap_or_default(),
        }
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
    /// number, each with the same bytes.
    fn eq(&self, other: &Msg) -> bool {
        self.frames() == other.frames()
    }
}

impl Eq for Msg {}

impl core::hash::Hash for Msg {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.frames().hash(state);
    }
}

impl From<Bytes> for Msg {
    /// A single-frame message. Does not copy.
    #[inline]
    fn from(frame: Bytes) -> Msg {
        Msg {
            repr: Repr::One(frame),
        }
    }
}

impl From<BytesMut> for Msg {
    /// A single-frame message. Does not copy.
    fn from(frame: BytesMut) -> Msg {
        Msg::from(frame.freeze())
    }
}

impl From<Vec<u8>> for Msg {
    /// A single-frame message. Takes the vector over without copying.
    fn from(frame: Vec<u8>) -> Msg {
        Msg::from(Bytes::from(frame))
    }
}

impl From<String> for Msg {
    /// A single-frame message of the string's UTF-8 bytes, without copying.
    fn from(frame: String) -> Msg {
        Msg::from(Bytes::from(frame))
    }
}

impl From<&'static [u8]> for Msg {
    /// A single-frame message pointing at static data: no copy, no allocation.
    fn from(frame: &'static [u8]) -> Msg {
        Msg::from(Bytes::from_static(frame))
    }
}

impl<const N: usize> From<&'static [u8; N]> for Msg {
    /// A single-frame message pointing at static data, so that
    /// `Msg::from(b"hello")` works: no copy, no allocation.
    fn from(frame: &'static [u8; N]) -> Msg {
        Msg::from(Bytes::from_static(frame))
    }
}

impl From<&'static str> for Msg {
    /// A single-frame message of the string's UTF-8 bytes: no copy, no
    /// allocation.
    fn from(frame: &'static str) -> Msg {
        Msg::from(Bytes::from_static(frame.as_bytes()))
    }
}

impl TryFrom<Vec<Bytes>> for Msg {
    type Error = EmptyMsgError;

    /// A message of the given frames, in order, or [`EmptyMsgError`] for an
    /// empty vector (a message has at least one frame).
    ///
    /// A multipart vector is kept as the message's frame list, no copy; a
    /// one-frame vector becomes a single-frame message and is freed.
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
    type Item = &'a Bytes;
    type IntoIter = slice::Iter<'a, Bytes>;

    fn into_iter(self) -> slice::Iter<'a, Bytes> {
        self.iter()
    }
}

impl fmt::Debug for Msg {
    /// Lists the frames: printable ones as quoted text, others as hex, each
    /// cut after a few bytes with the full length given, e.g.
    /// `Msg["hello", 0x00ff10]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Msg")?;
        f.debug_list()
            .entries(self.frames().iter().map(|frame| FrameDebug(frame)))
            .finish()
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

/// Compile-time checks: messages cross threads, and stay small.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Msg>();
    assert_send_sync::<IntoFrames>();
    assert!(core::mem::size_of::<Msg>() <= 5 * core::mem::size_of::<usize>());
};
