//! Line-delimited JSON framing, sans-IO: the wire format of MCP and
//! JSON-RPC 2.0 over a byte stream (stdio, TCP, Unix sockets).
//!
//! One message per line. This crate turns a read buffer into lines and
//! lines into vectored writes; it owns no socket and does no I/O, so it can
//! sit under any event loop, be fuzzed, and be benchmarked on its own.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use smolmq_jsonl::{LineDecoder, LineEncoder};
//!
//! // Sending: queue payloads, write them with vectored writes.
//! let mut encoder = LineEncoder::new();
//! encoder.push(Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)).unwrap();
//! encoder.push(Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notify"}"#)).unwrap();
//! let mut wire = Vec::new();
//! while !encoder.is_empty() {
//!     encoder.write_to(&mut wire).unwrap();
//! }
//!
//! // Receiving: the bytes arrive in arbitrary pieces into one read buffer.
//! let mut decoder = LineDecoder::default();
//! let mut read_buf = BytesMut::new();
//! let mut lines: Vec<Bytes> = Vec::new();
//! for piece in wire.chunks(7) {
//!     read_buf.extend_from_slice(piece); // what a socket read would do
//!     decoder.decode_batch(&mut read_buf, &mut lines).unwrap();
//! }
//! assert_eq!(lines.len(), 2);
//! assert_eq!(lines[0], &br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#[..]);
//! assert!(read_buf.is_empty());
//! ```
//!
//! # Decoding
//!
//! [`LineDecoder`] works on a [`bytes::BytesMut`] that the caller reads
//! into. [`LineDecoder::decode_batch`] splits every complete line off the
//! buffer in one pass (memchr), each as a [`bytes::Bytes`] that shares the
//! buffer's memory: no copy, one reference-count increment per line. The
//! partial last line waits in the buffer; the decoder remembers how far it
//! has searched it, so no byte is searched twice however the line is split
//! across reads. [`LineDecoder::decode`] returns one line at a time.
//!
//! The framing rules: `\n` ends a line and a `\r` before it is removed
//! (CRLF peers work); empty lines are skipped; a UTF-8 byte order mark at
//! the start of the stream is skipped; each line is checked to be UTF-8
//! (on by default, [`LineDecoder::set_utf8_validation`] turns it off); a
//! maximum line length ([`DEFAULT_MAX_LINE`], 16 MiB, unless set) is
//! enforced *before* more of a line is buffered, and the rest of an
//! over-long line is discarded rather than ever read as a message. See
//! [`LineDecoder`] for the exact rules and [`LineError`] for what is
//! reported.
//!
//! ## What UTF-8 validation costs
//!
//! Little. The check uses `simdutf8` (SIMD, chosen at run time), and
//! `decode_batch` runs it once per window of up to 64 lines / 16 KiB while
//! the window is still in the L1 cache (a `\n` never occurs inside a
//! multi-byte sequence, so a window is valid exactly when each line is).
//! On the `jsonl` bench (4 MiB of JSON-RPC lines, development machine, quick
//! mode) `decode_batch` splits 4 KiB lines at about 25 GB/s with validation
//! and 27 GB/s without, and 256-byte lines at about 7.7 and 7.9 GB/s.
//!
//! # Encoding
//!
//! [`LineEncoder`] queues payloads (as [`bytes::Bytes`], never copied) and
//! hands them out as `[payload, "\n", payload, "\n", ...]`
//! [`std::io::IoSlice`]s for one vectored write, then
//! [`advance`](LineEncoder::advance)s past what the write took, also in the
//! middle of a payload. [`encode`] gives the two slices of a single line. A
//! payload that is empty, contains a raw `\n` or ends with `\r` is refused
//! with an [`EncodeError`] that says where.
//!
//! # JSON-RPC 2.0 (feature `jsonrpc`)
//!
//! `jsonrpc::parse` reads a line into a request, notification, response or
//! error response with serde_json, keeping `params` and `result` as raw
//! JSON, and turns bad input into the spec's `-32700` / `-32600` error
//! responses. See the module docs.
//!
//! # Testing
//!
//! The tests cut multi-line inputs at every byte offset, check the length
//! limit at `max - 1`, `max` and `max + 1` and the resynchronisation after
//! an over-long line, and run property tests over random line sequences and
//! arbitrary bytes. Two cargo-fuzz targets (`line_decoder`, `jsonrpc`) live
//! in `fuzz/`; the README says how to run them.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]

mod decode;
mod encode;
#[cfg(feature = "jsonrpc")]
pub mod jsonrpc;

pub use decode::{LineDecoder, LineError, DEFAULT_MAX_LINE};
pub use encode::{check_payload, encode, EncodeError, LineEncoder, MAX_IO_SLICES};

/// Compile-time checks that the codec types can move between threads.
#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LineDecoder>();
    send_sync::<LineEncoder>();
    send_sync::<LineError>();
    send_sync::<EncodeError>();
    #[cfg(feature = "jsonrpc")]
    {
        send_sync::<jsonrpc::Message>();
        send_sync::<jsonrpc::Rejection>();
    }
}
