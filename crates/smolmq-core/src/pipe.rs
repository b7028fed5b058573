//! Pipes: the message path between a socket and one peer.
//!
//! A pipe joins two owners (a socket and an engine, or two inproc sockets).
//! Each end can write to and read from the other, through two
//! [`smolmq_ypipe`] queues, one per direction, so the path carries no lock
//! and, while both sides keep up, no atomic operation per message: the
//! writer publishes a batch with one [`flush`](Pipe::flush), the reader
//! learns it with one atomic load.
//!
//! # High-water marks
//!
//! Each direction has a high-water mark (HWM): the most messages written and
//! not yet read. [`write`](Pipe::write) refuses a message once the mark is
//! reached (and hands it back), so a slow reader holds back a fast writer
//! instead of growing memory. A mark of 0 means no limit.
//!
//! The reader does not report every message it takes: it publishes its
//! count every *low-water mark* (LWM) messages, about half the HWM, as
//! libzmq does. The writer's view of free room is therefore conservative,
//! never optimistic.
//!
//! # Wake-ups
//!
//! Neither end ever blocks. Each owner attaches a [`PipeEvents`] sink with a
//! token of its choice, and the pipe tells it, only on a transition:
//!
//! * [`readable`](PipeEvents::readable): the owner's last
//!   [`read`](Pipe::read) found the pipe empty, and the peer has since
//!   flushed messages;
//! * [`writable`](PipeEvents::writable): the owner's last
//!   [`write`](Pipe::write) was refused at the HWM, and the reader has since
//!   made room (or the owner waits for its lead to shrink,
//!   [`wait_lead`](Pipe::wait_lead), and the reader has taken enough);
//! * [`closed`](PipeEvents::closed): the peer end was dropped.
//!
//! So an owner keeps reading (or writing) until refused and then waits for
//! the event, and while it keeps up no event is sent at all.
//!
//! ```
//! use smolmq_core::pipe::{pipe_pair, PipeEvents, WriteError};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//!
//! /// Counts wake-ups.
//! #[derive(Default)]
//! struct Wakes(AtomicUsize);
//! impl PipeEvents for Wakes {
//!     fn readable(&self, _token: usize) { self.0.fetch_add(1, Ordering::SeqCst); }
//!     fn writable(&self, _token: usize) {}
//!     fn closed(&self, _token: usize) {}
//! }
//!
//! let (mut a, mut b) = pipe_pair::<&str>(2, 2);
//! let b_wakes = Arc::new(Wakes::default());
//! b.attach(b_wakes.clone(), 7);
//!
//! assert!(a.write("one").is_ok());
//! assert!(a.write("two").is_ok());
//! // The HWM (2) is reached: the message is handed back.
//! assert!(matches!(a.write("three"), Err(WriteError::Full("three"))));
//! a.flush();
//! assert_eq!(b.read(), Some("one"));
//! assert_eq!(b.read(), Some("two"));
//! assert_eq!(b.read(), None); // b is now waiting for a `readable` event
//! a.write("three").unwrap();
//! a.flush();
//! assert_eq!(b_wakes.0.load(Ordering::SeqCst), 1);
//! ```

use crate::sync::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering};
use smolmq_ypipe::{Reader, Writer};
use std::fmt;

/// Receives a pipe owner's wake-ups. See the [module docs](self).
///
/// Calls come from the thread of the *other* end's owner, on the rare paths
/// where a side changes state; they must be quick and must not block (push
/// a command to a mailbox, set a flag, wake a task).
pub trait PipeEvents: Send + Sync + 'static {
    /// The pipe has messages again after [`Pipe::read`] found it empty.
    fn readable(&self, token: usize);
    /// The pipe has room again after [`Pipe::write`] was refused at the HWM
    /// (or the lead a [`Pipe::wait_lead`] waits for is reached).
    fn writable(&self, token: usize);
    /// The peer end was dropped. Messages it flushed before can still be
    /// read; then [`Pipe::read`] returns `None` for good and
    /// [`Pipe::is_peer_gone`] is `true`.
    fn closed(&self, token: usize);
}

/// Why [`Pipe::write`] refused a message; the message is handed back.
#[derive(Clone, PartialEq, Eq)]
pub enum WriteError<T> {
    /// The HWM is reached; wait for [`PipeEvents::writable`].
    Full(T),
    /// The peer end is gone; nothing will ever read the message.
    Closed(T),
}

impl<T> WriteError<T> {
    /// The refused message.
    pub fn into_inner(self) -> T {
        match self {
            WriteError::Full(m) | WriteError::Closed(m) => m,
        }
    }
}

impl<T> fmt::Debug for WriteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Full(_) => f.write_str("Full(..)"),
            WriteError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for WriteError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Full(_) => f.write_str("pipe is full (high-water mark reached)"),
            WriteError::Closed(_) => f.write_str("pipe is closed (peer end dropped)"),
        }
    }
}

impl<T> std::error::Error for WriteError<T> {}

/// Looks [`Pipe::read_patiently`] takes at an empty pipe before it
/// announces sleep (fewer under loom, to keep the model small).
#[cfg(not(loom))]
pub const PATIENT_LOOKS: usize = 4;
/// Looks [`Pipe::read_patiently`] takes at an empty pipe before it
/// announces sleep (fewer under loom, to keep the model small).
#[cfg(loom)]
pub const PATIENT_LOOKS: usize = 2;

/// Spin-loop hints between two looks of [`Pipe::read_patiently`]. A hint
/// costs about 25 ns on the project's test machine (AMD EPYC), so the whole
/// wait is about 1.2 µs: long enough for a writer that keeps up to flush its
/// next messages, short enough not to matter when none comes. Spacing the
/// looks matters as much as their number: a reader that looks back to back
/// takes the cache line of the writer's publication word after every
/// message, and the writer's next flush (a compare-exchange) waits for it
/// (measured, inproc PAIR 64 B: 8 looks 4 hints apart ran at 10.4 M msg/s,
/// 4 looks 16 apart at 11.9 M, before the send path lost a `memcpy`).
pub const PATIENT_SPINS: u32 = 16;

/// The low-water mark for a high-water mark: how many messages a reader
/// takes between two reports of its count. About half the HWM, so a writer
/// stopped at the HWM resumes with half the room free; at most 1024 below
/// the HWM for large marks, so a report is never far away.
fn low_water_mark(hwm: usize) -> usize {
    /// Largest distance kept between the HWM and the LWM.
    const MAX_DELTA: usize = 1024;
    if hwm > 2 * MAX_DELTA {
        hwm - MAX_DELTA
    } else {
        hwm.div_ceil(2)
    }
}

/// How many messages the reader of a pipe without a HWM takes between two
/// reports of its count, while the writer asks for them (see
/// [`Pipe::lead`]): 8, or 1 under loom, to keep the models small.
pub const LEAD_REPORT_EVERY: usize = if cfg!(loom) { 1 } else { 8 };

/// Flow-control state of one direction.
struct Flow {
    /// Most messages in flight; 0 for no limit.
    hwm: usize,
    /// Messages the reader takes between reports of its count.
    lwm: usize,
    /// Messages read, as last reported by the reader (wrapping).
    read: AtomicUsize,
    /// The writer was refused and waits for room (or, without a HWM, waits
    /// for its lead to shrink: [`Pipe::wait_lead`]).
    writer_waiting: AtomicBool,
    /// The read count (wrapping) the waiting writer waits for: a report
    /// below it does not wake the writer, so a wait for many messages
    /// costs one wake-up, not one per report. Written by the writer
    /// before it announces the wait, read by the reader after its report
    /// (both ordered by the read-modify-writes on `read`).
    wake_at: AtomicUsize,
    /// Without a HWM: the writer wants the reader's count (it asked for its
    /// [`Pipe::lead`]), so the reader reports it every
    /// [`LEAD_REPORT_EVERY`] messages. A hint: both sides access it
    /// relaxed.
    lead_wanted: AtomicBool,
}

impl Flow {
    fn new(hwm: usize) -> Self {
        Flow {
            hwm,
            lwm: low_water_mark(hwm),
            read: AtomicUsize::new(0),
            writer_waiting: AtomicBool::new(false),
            wake_at: AtomicUsize::new(0),
            lead_wanted: AtomicBool::new(false),
        }
    }
}

/// Where one end's events go.
type Sink = Option<(std::sync::Arc<dyn PipeEvents>, usize)>;

/// State both ends reach.
struct Shared {
    /// `flow[i]`: the direction written by end `i`.
    flow: [Flow; 2],
    /// `sink[i]`: where end `i`'s owner wants its events. Locked only on
    /// wake-up transitions, attach and drop, never per message.
    sink: [Mutex<Sink>; 2],
    /// `gone[i]`: end `i` was dropped.
    gone: [AtomicBool; 2],
}

impl Shared {
    /// Calls `event` on end `side`'s sink, if it has one.
    fn notify(&self, side: usize, event: impl FnOnce(&dyn PipeEvents, usize)) {
        let sink = self.sink[side]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        // Call without the lock held: the sink may do anything quick,
        // including touching this pipe's other end.
        if let Some((sink, token)) = sink {
            event(&*sink, token);
        }
    }
}

/// Creates a pipe and returns its two ends.
///
/// `hwm_ab` bounds the messages written by the first end and not yet read
/// by the second, `hwm_ba` the other direction; 0 means no limit. (A socket
/// joining two peers usually passes its SNDHWM plus the peer's RCVHWM, as
/// libzmq does.)
pub fn pipe_pair<T>(hwm_ab: usize, hwm_ba: usize) -> (Pipe<T>, Pipe<T>) {
    let shared = Arc::new(Shared {
        flow: [Flow::new(hwm_ab), Flow::new(hwm_ba)],
        sink: [Mutex::new(None), Mutex::new(None)],
        gone: [AtomicBool::new(false), AtomicBool::new(false)],
    });
    let (tx_ab, rx_ab) = smolmq_ypipe::ypipe();
    let (tx_ba, rx_ba) = smolmq_ypipe::ypipe();
    let a = Pipe::new(shared.clone(), 0, tx_ab, rx_ba);
    let b = Pipe::new(shared, 1, tx_ba, rx_ab);
    (a, b)
}

/// One end of a pipe: writes to and reads from the other end.
///
/// Created in pairs by [`pipe_pair`]. An end is owned by one thread (or task)
/// at a time and may move between them.
pub struct Pipe<T> {
    /// State shared with the other end.
    shared: Arc<Shared>,
    /// Which end this is: 0 or 1.
    side: usize,
    /// Our outgoing queue.
    tx: Writer<T>,
    /// Our incoming queue.
    rx: Reader<T>,
    /// Messages written (wrapping).
    written: usize,
    /// The peer's read count as we last loaded it (wrapping).
    peer_read: usize,
    /// Messages read (wrapping).
    read: usize,
    /// Our read count as we last reported it (wrapping).
    read_reported: usize,
}

impl<T> Pipe<T> {
    fn new(shared: Arc<Shared>, side: usize, tx: Writer<T>, rx: Reader<T>) -> Self {
        Pipe {
            shared,
            side,
            tx,
            rx,
            written: 0,
            peer_read: 0,
            read: 0,
            read_reported: 0,
        }
    }

    /// The other end's index.
    fn peer(&self) -> usize {
        1 - self.side
    }

    /// Directs this end's events to `sink`, tagged with `token`; replaces any
    /// earlier sink.
    ///
    /// Events that happened before attaching are not replayed: after
    /// attaching (or moving the end to a new owner), the owner must try to
    /// read and write as if it had just been told the pipe is readable and
    /// writable.
    pub fn attach(&self, sink: std::sync::Arc<dyn PipeEvents>, token: usize) {
        *self.shared.sink[self.side]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((sink, token));
    }

    /// Stops sending this end's events anywhere.
    pub fn detach(&self) {
        *self.shared.sink[self.side]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    /// The HWM of the direction this end writes (0: no limit).
    pub fn hwm(&self) -> usize {
        self.shared.flow[self.side].hwm
    }

    /// True once the peer end has been dropped.
    pub fn is_peer_gone(&self) -> bool {
        self.shared.gone[self.peer()].load(Ordering::Acquire)
    }

    /// True if one more message would be accepted now.
    ///
    /// When it returns `false` because of the HWM, it has flushed what was
    /// written (so the reader can make room) and registered for a
    /// [`PipeEvents::writable`] event.
    #[inline]
    pub fn check_write(&mut self) -> bool {
        let flow = &self.shared.flow[self.side];
        if flow.hwm == 0 || self.written.wrapping_sub(self.peer_read) < flow.hwm {
            return true;
        }
        self.check_write_slow()
    }

    /// The HWM looks reached: look at the reader's latest count, and if it
    /// is still reached, register to be woken.
    #[cold]
    fn check_write_slow(&mut self) -> bool {
        if self.is_peer_gone() {
            return false;
        }
        let hwm = self.shared.flow[self.side].hwm;
        self.peer_read = self.shared.flow[self.side].read.load(Ordering::Acquire);
        if self.written.wrapping_sub(self.peer_read) < hwm {
            return true;
        }
        self.wait_below(hwm)
    }

    /// The writer's side of waiting for the reader: flushes, announces
    /// that it waits until fewer than `bound` of its messages are unread,
    /// and looks once more. `true` if that is already so (no wait);
    /// otherwise the reader's next report of its count sends
    /// [`PipeEvents::writable`].
    fn wait_below(&mut self, bound: usize) -> bool {
        // Make sure the reader can see everything, or it could never make
        // room.
        self.flush();
        // Announce the wait, then look once more. Both sides touch `read`
        // with a read-modify-write, so the two are ordered: if the reader's
        // report comes later, it acquires our announcement and wakes us; if
        // it came earlier, we read its count here. Either way no wake-up is
        // lost. (A plain store/load pair would need SeqCst's store-load
        // ordering, which the RMW makes explicit and loom can check.)
        let flow = &self.shared.flow[self.side];
        // Fewer than `bound` unread once the reader has read this many.
        flow.wake_at.store(
            self.written.wrapping_sub(bound).wrapping_add(1),
            Ordering::Relaxed,
        );
        flow.writer_waiting.store(true, Ordering::Relaxed);
        self.peer_read = flow.read.fetch_add(0, Ordering::AcqRel);
        if self.written.wrapping_sub(self.peer_read) < bound {
            flow.writer_waiting.store(false, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// Messages written on this end so far (wrapping).
    #[inline]
    pub fn written(&self) -> usize {
        self.written
    }

    /// How many messages written on this end the reader has not taken yet,
    /// as far as the reader has told: an upper bound of the true count.
    ///
    /// With a HWM the reader reports its count every LWM messages anyway.
    /// Without one it reports nothing until a writer asks, here: from then
    /// on every [`LEAD_REPORT_EVERY`] messages, until
    /// [`stop_lead_reports`](Pipe::stop_lead_reports). So the first answer
    /// after a quiet time is usually too high: ask again after the reader
    /// had time to report.
    pub fn lead(&mut self) -> usize {
        let flow = &self.shared.flow[self.side];
        if flow.hwm == 0 && !flow.lead_wanted.load(Ordering::Relaxed) {
            flow.lead_wanted.store(true, Ordering::Relaxed);
        }
        self.peer_read = flow.read.load(Ordering::Acquire);
        self.written.wrapping_sub(self.peer_read)
    }

    /// Without a HWM: tells the reader it need not report its count any
    /// more (until the next [`lead`](Pipe::lead)), sparing it an atomic
    /// write every [`LEAD_REPORT_EVERY`] messages.
    pub fn stop_lead_reports(&self) {
        let flow = &self.shared.flow[self.side];
        if flow.hwm == 0 {
            flow.lead_wanted.store(false, Ordering::Relaxed);
        }
    }

    /// The reader's count of messages taken, as last loaded by
    /// [`lead`](Pipe::lead) or [`check_write`](Pipe::check_write)
    /// (wrapping): it moves when the reader reads and reports.
    #[inline]
    pub fn read_seen(&self) -> usize {
        self.peer_read
    }

    /// For a writer whose [`lead`](Pipe::lead) is `at_least` or more:
    /// returns `true` if it is below `at_least` now; otherwise registers
    /// for a [`PipeEvents::writable`] event, which comes with the reader's
    /// next report of its count (or [`PipeEvents::closed`] when the reader
    /// goes), and returns `false`.
    ///
    /// Nothing is refused either way: the writer decides what to do while
    /// it waits (`Socket::send_blocking` waits a little, see there). A
    /// reader that had not yet seen the request for reports when it took
    /// its last messages sends none: a writer must bound its wait.
    pub fn wait_lead(&mut self, at_least: usize) -> bool {
        if self.lead() < at_least {
            return true;
        }
        self.wait_below(at_least)
    }

    /// Writes a message; it reaches the peer at the next
    /// [`flush`](Pipe::flush).
    ///
    /// Refused with [`WriteError::Full`] at the HWM (a
    /// [`PipeEvents::writable`] event follows when there is room) and with
    /// [`WriteError::Closed`] once the peer is gone; the message is handed
    /// back either way.
    #[inline]
    pub fn write(&mut self, msg: T) -> Result<(), WriteError<T>> {
        if !self.check_write() {
            if self.is_peer_gone() {
                return Err(WriteError::Closed(msg));
            }
            return Err(WriteError::Full(msg));
        }
        self.tx.write(msg, false);
        self.written = self.written.wrapping_add(1);
        Ok(())
    }

    /// Publishes everything written; wakes the peer's owner if it was
    /// waiting for messages.
    #[inline]
    pub fn flush(&mut self) {
        if !self.tx.flush() {
            self.shared
                .notify(self.peer(), |sink, token| sink.readable(token));
        }
    }

    /// Takes the next message, or returns `None` when the pipe is empty; the
    /// owner then gets a [`PipeEvents::readable`] event when messages arrive
    /// (or [`PipeEvents::closed`] when the peer goes).
    #[inline]
    pub fn read(&mut self) -> Option<T> {
        let msg = self.rx.read()?;
        Some(self.account_read(msg))
    }

    /// Like [`read`](Pipe::read), but when the pipe is empty, looks again a
    /// few times ([`PATIENT_LOOKS`], with [`PATIENT_SPINS`] spin-loop hints
    /// between looks: about 1.2 µs in all) before announcing sleep.
    ///
    /// For a reader that would otherwise go to sleep between two messages of
    /// a writer that is only slightly slower: every empty `read` makes the
    /// writer's next flush wake the reader (a mailbox command and a
    /// signal), and a receiver that outruns its sender would pay that for
    /// every message. The looks in between cost the writer nothing (they do
    /// not write the shared word). Use `read` when scanning many pipes,
    /// where the wait would add up.
    #[inline]
    pub fn read_patiently(&mut self) -> Option<T> {
        if let Some(msg) = self.rx.try_read() {
            return Some(self.account_read(msg));
        }
        self.read_patiently_slow()
    }

    /// The waiting part of [`read_patiently`](Pipe::read_patiently).
    #[cold]
    fn read_patiently_slow(&mut self) -> Option<T> {
        for _ in 1..PATIENT_LOOKS {
            for _ in 0..PATIENT_SPINS {
                crate::sync::spin_loop();
            }
            if let Some(msg) = self.rx.try_read() {
                return Some(self.account_read(msg));
            }
        }
        self.read()
    }

    /// Counts a message just taken, reporting the count to the writer every
    /// LWM messages.
    #[inline]
    fn account_read(&mut self, msg: T) -> T {
        self.read = self.read.wrapping_add(1);
        let flow = &self.shared.flow[self.peer()];
        if flow.hwm != 0 {
            if self.read.wrapping_sub(self.read_reported) >= flow.lwm {
                self.report_read();
            }
        } else if self.read.wrapping_sub(self.read_reported) >= LEAD_REPORT_EVERY {
            self.report_lead();
        }
        msg
    }

    /// Without a HWM, every [`LEAD_REPORT_EVERY`] messages: reports our
    /// count if the writer asked for it, else only remembers that we
    /// looked (so the flag is read once per that many messages).
    #[cold]
    fn report_lead(&mut self) {
        if self.shared.flow[self.peer()]
            .lead_wanted
            .load(Ordering::Relaxed)
        {
            self.report_read();
        } else {
            self.read_reported = self.read;
        }
    }

    /// True if [`read`](Pipe::read) would return a message now. When it
    /// returns `false` the owner is registered for a `readable` event, as
    /// with `read`.
    #[inline]
    pub fn check_read(&mut self) -> bool {
        self.rx.check_read()
    }

    /// Tells the writer how many messages we have taken, and wakes it if it
    /// waits for room (or for its lead to shrink) and now has it.
    #[cold]
    fn report_read(&mut self) {
        let flow = &self.shared.flow[self.peer()];
        // An RMW, paired with the writer's: see `wait_below`. When ours
        // comes after the writer's, it acquires the writer's `wake_at` and
        // announcement; when it comes before, the writer saw our count and
        // judged for itself, and a stale `wake_at` here can only wake it
        // for nothing or leave the wake-up to a later report.
        flow.read.swap(self.read, Ordering::AcqRel);
        self.read_reported = self.read;
        if flow.writer_waiting.load(Ordering::Acquire)
            && self.read.wrapping_sub(flow.wake_at.load(Ordering::Relaxed)) <= usize::MAX / 2
            && flow.writer_waiting.swap(false, Ordering::AcqRel)
        {
            self.shared
                .notify(self.peer(), |sink, token| sink.writable(token));
        }
    }
}

impl<T> Drop for Pipe<T> {
    fn drop(&mut self) {
        // Deliver what was written: the peer drains it after `closed`.
        let _ = self.tx.flush();
        self.shared.gone[self.side].store(true, Ordering::Release);
        // A writer waiting for room would wait for ever: tell the peer, and
        // whether it reads or writes, it learns the pipe is closed.
        self.shared
            .notify(self.peer(), |sink, token| sink.closed(token));
    }
}

impl<T> fmt::Debug for Pipe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipe")
            .field("side", &self.side)
            .field("hwm", &self.hwm())
            .field("written", &self.written)
            .field("read", &self.read)
            .field("peer_gone", &self.is_peer_gone())
            .finish_non_exhaustive()
    }
}

/// Compile-time check: an end can move to another thread.
#[allow(dead_code)]
fn _assert_send() {
    fn send<S: Send>() {}
    send::<Pipe<bytes::Bytes>>();
}
