//! Pipe behaviour on one thread: HWM, events, close.

use smolmq_core::pipe::{pipe_pair, Pipe, PipeEvents, WriteError};
use std::sync::{Arc, Mutex};

/// Records every event with its token.
#[derive(Default)]
struct Log(Mutex<Vec<(&'static str, usize)>>);

impl Log {
    fn take(&self) -> Vec<(&'static str, usize)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl PipeEvents for Log {
    fn readable(&self, token: usize) {
        self.0.lock().unwrap().push(("readable", token));
    }
    fn writable(&self, token: usize) {
        self.0.lock().unwrap().push(("writable", token));
    }
    fn closed(&self, token: usize) {
        self.0.lock().unwrap().push(("closed", token));
    }
}

/// Reads from `pipe` and checks that the messages are `expected`, in order.
fn read_in_order<T: PartialEq + std::fmt::Debug>(
    pipe: &mut Pipe<T>,
    expected: impl IntoIterator<Item = T>,
) {
    for want in expected {
        assert_eq!(pipe.read(), Some(want));
    }
}

#[test]
fn messages_flow_both_ways_in_order() {
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    for i in 0..5000 {
        a.write(i).unwrap();
        b.write(i + 1_000_000).unwrap();
    }
    a.flush();
    b.flush();
    for i in 0..5000 {
        assert_eq!(b.read(), Some(i));
        assert_eq!(a.read(), Some(i + 1_000_000));
    }
    assert_eq!(a.read(), None);
    assert_eq!(b.read(), None);
}

#[test]
fn nothing_is_visible_before_flush() {
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    a.write(1).unwrap();
    assert_eq!(b.read(), None);
    a.flush();
    assert_eq!(b.read(), Some(1));
}

#[test]
fn hwm_refuses_and_writable_follows_when_reader_makes_room() {
    let (mut a, mut b) = pipe_pair::<u32>(10, 0);
    let log = Arc::new(Log::default());
    a.attach(log.clone(), 1);
    for i in 0..10 {
        a.write(i).unwrap();
    }
    assert_eq!(a.write(10), Err(WriteError::Full(10)));
    assert!(!a.check_write());
    // Refusal flushed what was written, so the reader can make room.
    // The reader reports every lwm = 5 messages.
    read_in_order(&mut b, 0..4);
    assert!(log.take().is_empty(), "no room reported before the LWM");
    assert_eq!(b.read(), Some(4));
    assert_eq!(log.take(), vec![("writable", 1)]);
    for i in 10..15 {
        a.write(i).unwrap();
    }
    assert!(matches!(a.write(99), Err(WriteError::Full(99))));
    a.flush();
    let rest: Vec<u32> = std::iter::from_fn(|| b.read()).collect();
    assert_eq!(rest, (5..15).collect::<Vec<_>>());
}

#[test]
fn readable_is_sent_only_to_a_reader_that_found_the_pipe_empty() {
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    let log = Arc::new(Log::default());
    b.attach(log.clone(), 42);
    a.write(1).unwrap();
    a.flush();
    assert!(log.take().is_empty(), "b never looked: it is not waiting");
    assert_eq!(b.read(), Some(1));
    assert_eq!(b.read(), None);
    a.write(2).unwrap();
    a.flush();
    a.write(3).unwrap();
    a.flush();
    assert_eq!(log.take(), vec![("readable", 42)], "one wake-up per sleep");
}

#[test]
fn dropping_an_end_delivers_what_it_wrote_then_reports_closed() {
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    let log = Arc::new(Log::default());
    b.attach(log.clone(), 3);
    a.write(1).unwrap();
    a.write(2).unwrap(); // never flushed by hand
    drop(a);
    assert_eq!(log.take(), vec![("closed", 3)]);
    assert!(b.is_peer_gone());
    assert_eq!(b.read(), Some(1));
    assert_eq!(b.read(), Some(2));
    assert_eq!(b.read(), None);
    assert!(matches!(b.write(9), Ok(()) | Err(WriteError::Closed(9))));
}

#[test]
fn writer_at_hwm_learns_the_reader_left() {
    let (mut a, b) = pipe_pair::<u32>(2, 0);
    let log = Arc::new(Log::default());
    a.attach(log.clone(), 5);
    a.write(1).unwrap();
    a.write(2).unwrap();
    assert_eq!(a.write(3), Err(WriteError::Full(3)));
    drop(b);
    assert_eq!(log.take(), vec![("closed", 5)]);
    assert_eq!(a.write(3), Err(WriteError::Closed(3)));
}

#[test]
fn reattaching_moves_events_to_the_new_sink() {
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    let first = Arc::new(Log::default());
    let second = Arc::new(Log::default());
    b.attach(first.clone(), 1);
    assert_eq!(b.read(), None);
    b.attach(second.clone(), 2);
    a.write(1).unwrap();
    a.flush();
    assert!(first.take().is_empty());
    assert_eq!(second.take(), vec![("readable", 2)]);
    b.detach();
    assert_eq!(b.read(), Some(1));
    assert_eq!(b.read(), None);
    a.write(2).unwrap();
    a.flush();
    assert!(second.take().is_empty(), "detached: no events");
}

#[test]
fn large_hwm_reports_before_the_writer_stalls() {
    // HWM 5000: LWM is 1024 below it, so a reader that keeps up reports
    // long before the writer reaches the mark.
    let (mut a, mut b) = pipe_pair::<u32>(5000, 0);
    let log = Arc::new(Log::default());
    a.attach(log.clone(), 0);
    for round in 0..20u32 {
        for i in 0..4000 {
            a.write(round * 4000 + i).unwrap();
        }
        a.flush();
        for i in 0..4000 {
            assert_eq!(b.read(), Some(round * 4000 + i));
        }
    }
    assert!(log.take().is_empty(), "the writer never had to wait");
}

#[test]
fn an_unlimited_pipe_reports_the_readers_count_only_while_asked() {
    use smolmq_core::pipe::LEAD_REPORT_EVERY;
    let (mut a, mut b) = pipe_pair::<u32>(0, 0);
    for i in 0..100 {
        a.write(i).unwrap();
    }
    a.flush();
    // Nothing read yet; asking starts the reports.
    assert_eq!(a.lead(), 100);
    read_in_order(&mut b, 0..50);
    let lead = a.lead();
    assert!(
        (50..50 + LEAD_REPORT_EVERY).contains(&lead),
        "lead {lead} after 50 of 100 read"
    );
    // Told to stop, the reader reports no more.
    a.stop_lead_reports();
    read_in_order(&mut b, 50..90);
    assert_eq!(a.lead(), lead, "no report after the stop");
    assert_eq!(a.read_seen(), 100 - lead);
    // Asked again (the `lead` above), it reports from its next messages
    // on.
    read_in_order(&mut b, 90..100);
    assert!(a.lead() < LEAD_REPORT_EVERY, "all read");
    assert_eq!(a.written(), 100);
}

#[test]
fn a_writer_waiting_for_its_lead_is_woken_by_the_next_report() {
    use smolmq_core::pipe::LEAD_REPORT_EVERY;
    let (mut a, mut b) = pipe_pair::<usize>(0, 0);
    let log = Arc::new(Log::default());
    a.attach(log.clone(), 7);
    a.lead();
    let n = 4 * LEAD_REPORT_EVERY;
    for i in 0..n {
        a.write(i).unwrap();
    }
    // Wait until fewer than 2 reports' worth are unread. Not flushed:
    // waiting publishes what was written, or the reader could never catch
    // up.
    let target = 2 * LEAD_REPORT_EVERY;
    assert!(!a.wait_lead(target));
    // Reports that leave the writer too far ahead do not wake it.
    read_in_order(&mut b, 0..2 * LEAD_REPORT_EVERY);
    assert!(log.take().is_empty(), "woken before the lead was reached");
    // The report that brings the lead under the target does.
    read_in_order(&mut b, 2 * LEAD_REPORT_EVERY..3 * LEAD_REPORT_EVERY);
    assert_eq!(log.take(), [("writable", 7)], "one wake-up for the wait");
    assert!(a.wait_lead(target), "caught up");
    // A reader that keeps reading wakes no one who is not waiting.
    read_in_order(&mut b, 3 * LEAD_REPORT_EVERY..n);
    assert!(log.take().is_empty());
}

#[test]
fn a_pipe_with_a_hwm_tells_the_lead_without_being_asked() {
    let (mut a, mut b) = pipe_pair::<u32>(100, 0);
    for i in 0..80 {
        a.write(i).unwrap();
    }
    a.flush();
    read_in_order(&mut b, 0..60);
    // The LWM of a HWM of 100 is 50: one report so far.
    assert_eq!(a.lead(), 30);
}
