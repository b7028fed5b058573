//! Arbitrary bytes, split at arbitrary points, through a decoder with a
//! small maximum line length: no panic, every returned line obeys the
//! framing rules, the buffer stays bounded, and `decode` and
//! `decode_batch` report the same things.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use smolmq_jsonl::{LineDecoder, LineError};

/// One thing the decoder reported.
type Event = Result<Bytes, LineError>;

/// Feeds `data` in chunks whose sizes come from `sizes`, collecting events.
fn run(max: usize, utf8: bool, sizes: &[u8], data: &[u8], batch: bool) -> Vec<Event> {
    let mut decoder = LineDecoder::new(max);
    decoder.set_utf8_validation(utf8);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    // A line is refused past `max + 1` bytes; at stream start up to two
    // bytes wait to see whether they begin a byte order mark.
    let bound = (max + 1).max(2);
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let size = (sizes.get(i % sizes.len().max(1)).copied().unwrap_or(7) as usize % 64 + 1)
            .min(rest.len());
        i += 1;
        buf.extend_from_slice(&rest[..size]);
        rest = &rest[size..];
        // Each call returns or consumes a line: bounded by the buffer.
        for _ in 0..=buf.len() + 1 {
            let done = if batch {
                let mut lines = Vec::new();
                let r = decoder.decode_batch(&mut buf, &mut lines);
                events.extend(lines.into_iter().map(Ok));
                match r {
                    Ok(_) => true,
                    Err(e) => {
                        events.push(Err(e));
                        false
                    }
                }
            } else {
                match decoder.decode(&mut buf) {
                    Ok(Some(line)) => {
                        events.push(Ok(line));
                        false
                    }
                    Ok(None) => true,
                    Err(e) => {
                        events.push(Err(e));
                        false
                    }
                }
            };
            assert!(buf.len() <= bound + size, "buffer grew to {}", buf.len());
            if done {
                break;
            }
        }
        assert!(buf.len() <= bound, "partial tail of {} bytes", buf.len());
    }
    for line in events.iter().flatten() {
        assert!(!line.is_empty() && line.len() <= max);
        assert!(!line.contains(&b'\n'));
        // Only one `\r` is stripped: a line ends with one only after `\r\r\n`.
        assert!(line.last() != Some(&b'\r') || data.windows(2).any(|w| w == b"\r\r"));
        if utf8 {
            assert!(std::str::from_utf8(line).is_ok());
        }
    }
    events
}

fuzz_target!(|input: &[u8]| {
    let [max, flags, n_sizes, rest @ ..] = input else {
        return;
    };
    let n_sizes = (*n_sizes as usize % 16).min(rest.len());
    let (sizes, data) = rest.split_at(n_sizes);
    let max = *max as usize % 48;
    let utf8 = flags & 1 == 1;
    let a = run(max, utf8, sizes, data, false);
    let b = run(max, utf8, sizes, data, true);
    assert_eq!(a, b, "decode and decode_batch disagree");
});
