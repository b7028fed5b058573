//! Helpers shared by the integration tests: feed a decoder chunk by chunk
//! and collect everything it reports.

#![allow(dead_code, unreachable_pub)]

use bytes::{Bytes, BytesMut};
use smolmq_jsonl::{LineDecoder, LineError};

/// One thing the decoder reported.
pub type Event = Result<Vec<u8>, LineError>;

/// What feeding a whole input produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lines and errors, in stream order.
    pub events: Vec<Event>,
    /// Largest buffer length seen right after a decode call returned.
    pub max_buffered: usize,
    /// Bytes left in the buffer at the end.
    pub leftover: usize,
}

impl Outcome {
    /// The lines only, as byte vectors.
    pub fn lines(&self) -> Vec<Vec<u8>> {
        self.events
            .iter()
            .filter_map(|e| e.as_ref().ok().cloned())
            .collect()
    }

    /// The errors only.
    pub fn errors(&self) -> Vec<LineError> {
        self.events
            .iter()
            .filter_map(|e| e.as_ref().err().cloned())
            .collect()
    }
}

/// How to call the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `decode` until it returns `Ok(None)`.
    OneByOne,
    /// `decode_batch` until it returns `Ok`.
    Batch,
}

/// Feeds `chunks` in order into one buffer, decoding after each.
pub fn feed<'a>(
    decoder: &mut LineDecoder,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    mode: Mode,
) -> Outcome {
    let mut out = Outcome::default();
    let mut buf = BytesMut::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        drain(decoder, &mut buf, mode, &mut out);
    }
    out.leftover = buf.len();
    out
}

/// Decodes everything complete in `buf` into `out`.
pub fn drain(decoder: &mut LineDecoder, buf: &mut BytesMut, mode: Mode, out: &mut Outcome) {
    // Every call either ends the loop or consumes a line: bounded by the
    // buffer length (plus one for the final call).
    for _ in 0..=buf.len() + 1 {
        let done = match mode {
            Mode::OneByOne => match decoder.decode(buf) {
                Ok(Some(line)) => {
                    out.events.push(Ok(line.to_vec()));
                    false
                }
                Ok(None) => true,
                Err(e) => {
                    out.events.push(Err(e));
                    false
                }
            },
            Mode::Batch => {
                let mut lines: Vec<Bytes> = Vec::new();
                let r = decoder.decode_batch(buf, &mut lines);
                out.events.extend(lines.iter().map(|l| Ok(l.to_vec())));
                match r {
                    Ok(n) => {
                        assert_eq!(n, lines.len(), "decode_batch count");
                        true
                    }
                    Err(e) => {
                        out.events.push(Err(e));
                        false
                    }
                }
            }
        };
        out.max_buffered = out.max_buffered.max(buf.len());
        if done {
            return;
        }
    }
    panic!("decoder did not settle");
}

/// Feeds the whole input at once.
pub fn feed_all(decoder: &mut LineDecoder, input: &[u8], mode: Mode) -> Outcome {
    feed(decoder, [input], mode)
}

/// Both modes, for tests that must hold for each.
pub const MODES: [Mode; 2] = [Mode::OneByOne, Mode::Batch];
