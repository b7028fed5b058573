//! The 64-byte greeting that opens every ZMTP 3.x connection, and an
//! incremental decoder for it.
//!
//! ```text
//! offset  0      1..=8     9      10     11     12..32     32         33..64
//!        +------+---------+------+------+------+----------+----------+--------+
//!        | 0xFF | padding | 0x7F | major| minor| mechanism| as-server| filler |
//!        +------+---------+------+------+------+----------+----------+--------+
//! ```

use bytes::{Buf, BufMut, BytesMut};
use core::fmt;

/// Length of a ZMTP 3.x greeting.
pub const GREETING_LEN: usize = 64;

/// Offset of the major version byte.
const MAJOR_AT: usize = 10;
/// Offset of the minor version byte.
const MINOR_AT: usize = 11;
/// Offset of the first mechanism byte.
const MECHANISM_AT: usize = 12;
/// Length of the mechanism field.
const MECHANISM_LEN: usize = 20;
/// Offset of the as-server byte.
const AS_SERVER_AT: usize = 32;

/// A protocol version as announced in a greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version (3 for every peer this crate accepts).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Version {
    /// ZMTP 3.0 (RFC 23): no PING/PONG, subscriptions as messages.
    pub const V3_0: Version = Version { major: 3, minor: 0 };
    /// ZMTP 3.1 (RFC 37): the version this crate speaks.
    pub const V3_1: Version = Version { major: 3, minor: 1 };

    /// The version both sides use with a peer that announced `self`.
    ///
    /// RFC 37: a peer accepts higher versions as valid and always uses its
    /// own protocol with an equal or higher peer. We speak 3.1, so any
    /// 3.1-or-later peer (4.0 included) is spoken to in 3.1, and a 3.0 peer
    /// in 3.0 (we downgrade: subscriptions as messages, no heartbeats).
    pub fn negotiated(self) -> Version {
        if self >= Version::V3_1 {
            Version::V3_1
        } else {
            Version::V3_0
        }
    }

    /// Whether the negotiated version has the 3.1 commands (SUBSCRIBE,
    /// CANCEL, PING, PONG).
    pub fn has_3_1_commands(self) -> bool {
        self >= Version::V3_1
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A security mechanism, as named in the greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// `NULL`: no security (RFC 37).
    Null,
    /// `PLAIN`: clear-text user name and password (RFC 24).
    Plain,
    /// `CURVE`: recognised, not implemented (RFC 25/26).
    Curve,
    /// Any other name: the 20-byte field as received.
    Other([u8; MECHANISM_LEN]),
}

impl Mechanism {
    /// Parses the 20-byte, zero-padded mechanism field.
    pub fn from_field(field: [u8; MECHANISM_LEN]) -> Mechanism {
        let end = field.iter().position(|&b| b == 0).unwrap_or(MECHANISM_LEN);
        // Only an all-zero tail makes a known name: "NULL\0X..." is Other.
        if field[end..].iter().any(|&b| b != 0) {
            return Mechanism::Other(field);
        }
        match &field[..end] {
            b"NULL" => Mechanism::Null,
            b"PLAIN" => Mechanism::Plain,
            b"CURVE" => Mechanism::Curve,
            _ => Mechanism::Other(field),
        }
    }

    /// The 20-byte, zero-padded field sent in the greeting.
    pub fn to_field(self) -> [u8; MECHANISM_LEN] {
        let name: &[u8] = match self {
            Mechanism::Null => b"NULL",
            Mechanism::Plain => b"PLAIN",
            Mechanism::Curve => b"CURVE",
            Mechanism::Other(field) => return field,
        };
        let mut field = [0; MECHANISM_LEN];
        field[..name.len()].copy_from_slice(name);
        field
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.to_field();
        let end = field.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        write!(f, "{}", field[..end].escape_ascii())
    }
}

/// A decoded (or to-be-sent) greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// Version announced.
    pub version: Version,
    /// Security mechanism announced.
    pub mechanism: Mechanism,
    /// Whether the sender acts as server of the security handshake
    /// (significant for PLAIN and CURVE only).
    pub as_server: bool,
}

impl Greeting {
    /// Our greeting: version 3.1, the given mechanism and role.
    pub fn new(mechanism: Mechanism, as_server: bool) -> Greeting {
        Greeting {
            version: Version::V3_1,
            mechanism,
            as_server,
        }
    }

    /// The 64 bytes on the wire. Padding and filler are zero, as RFC 37
    /// asks of a peer that sends its whole greeting at once.
    ///
    /// ```
    /// use smolmq_zmtp::{Greeting, Mechanism};
    ///
    /// let bytes = Greeting::new(Mechanism::Null, false).to_bytes();
    /// assert_eq!(&bytes[..16], b"\xff\0\0\0\0\0\0\0\0\x7f\x03\x01NULL");
    /// assert!(bytes[16..].iter().all(|&b| b == 0));
    /// ```
    pub fn to_bytes(&self) -> [u8; GREETING_LEN] {
        let mut out = [0; GREETING_LEN];
        out[0] = 0xFF;
        out[9] = 0x7F;
        out[MAJOR_AT] = self.version.major;
        out[MINOR_AT] = self.version.minor;
        out[MECHANISM_AT..MECHANISM_AT + MECHANISM_LEN].copy_from_slice(&self.mechanism.to_field());
        out[AS_SERVER_AT] = u8::from(self.as_server);
        out
    }

    /// Appends the 64 bytes to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }
}

/// Why a greeting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GreetingError {
    /// A signature byte is wrong: byte 0 must be 0xFF and byte 9 0x7F. A
    /// ZMTP 1.0 peer (or anything that is not ZMTP) fails here.
    BadSignature {
        /// Offset of the byte in the greeting (0 or 9).
        offset: usize,
        /// The byte received.
        byte: u8,
    },
    /// The peer speaks a major version below 3 (ZMTP 2.0 sends 1, older
    /// drafts 2); this crate speaks 3.x only and does not downgrade.
    UnsupportedVersion {
        /// The major version received.
        major: u8,
    },
    /// A mechanism byte is not `A`-`Z`, a digit, `-`, `_`, `.`, `+` or a
    /// trailing zero.
    BadMechanism {
        /// Offset of the byte in the greeting (12 to 31).
        offset: usize,
        /// The byte received.
        byte: u8,
    },
    /// The as-server byte is neither 0 nor 1.
    BadAsServer {
        /// The byte received.
        byte: u8,
    },
}

impl fmt::Display for GreetingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GreetingError::BadSignature { offset, byte } => write!(
                f,
                "bad greeting signature: byte {offset} is {byte:#04x}, expected {:#04x} \
                 (not a ZMTP 2.0+ peer)",
                if offset == 0 { 0xFF } else { 0x7F }
            ),
            GreetingError::UnsupportedVersion { major } => write!(
                f,
                "unsupported ZMTP major version {major}: only ZMTP 3.0 and later are spoken"
            ),
            GreetingError::BadMechanism { offset, byte } => write!(
                f,
                "bad mechanism name in greeting: byte {offset} is {byte:#04x}"
            ),
            GreetingError::BadAsServer { byte } => {
                write!(
                    f,
                    "bad as-server byte {byte:#04x} in greeting, expected 0 or 1"
                )
            }
        }
    }
}

impl std::error::Error for GreetingError {}

/// Reads a peer's greeting incrementally.
///
/// Feed it whatever arrived, as often as needed; it consumes at most the 64
/// greeting bytes and leaves anything after them in the buffer. Each byte
/// is checked as it arrives, so a peer that is not ZMTP 3.x is refused at
/// the first byte that proves it (byte 0 for most garbage).
///
/// ```
/// use bytes::BytesMut;
/// use smolmq_zmtp::{GreetingDecoder, GreetingError};
///
/// let mut decoder = GreetingDecoder::new();
/// let mut input = BytesMut::from(&b"GET / HTTP/1.1\r\n"[..]);
/// assert_eq!(
///     decoder.decode(&mut input),
///     Err(GreetingError::BadSignature { offset: 0, byte: b'G' })
/// );
/// ```
#[derive(Debug, Clone)]
pub struct GreetingDecoder {
    /// Bytes received so far.
    buf: [u8; GREETING_LEN],
    /// Number of valid bytes in `buf`.
    len: usize,
}

impl Default for GreetingDecoder {
    fn default() -> Self {
        GreetingDecoder::new()
    }
}

impl GreetingDecoder {
    /// A decoder that has seen nothing yet.
    pub fn new() -> GreetingDecoder {
        GreetingDecoder {
            buf: [0; GREETING_LEN],
            len: 0,
        }
    }

    /// Number of greeting bytes received so far (0 to 64).
    pub fn received(&self) -> usize {
        self.len
    }

    /// Consumes greeting bytes from `input`; returns the greeting once all
    /// 64 bytes are in, `None` while more are needed. Bytes following the
    /// greeting stay in `input`. After an error the decoder should be
    /// dropped together with the connection.
    pub fn decode(&mut self, input: &mut BytesMut) -> Result<Option<Greeting>, GreetingError> {
        let take = (GREETING_LEN - self.len).min(input.len());
        for i in 0..take {
            let byte = input[i];
            self.check(self.len + i, byte)?;
            self.buf[self.len + i] = byte;
        }
        self.len += take;
        input.advance(take);
        if self.len < GREETING_LEN {
            return Ok(None);
        }
        let mut field = [0; MECHANISM_LEN];
        field.copy_from_slice(&self.buf[MECHANISM_AT..MECHANISM_AT + MECHANISM_LEN]);
        Ok(Some(Greeting {
            version: Version {
                major: self.buf[MAJOR_AT],
                minor: self.buf[MINOR_AT],
            },
            mechanism: Mechanism::from_field(field),
            as_server: self.buf[AS_SERVER_AT] == 1,
        }))
    }

    /// Checks the byte at `offset`, given the bytes before it in `buf`.
    fn check(&self, offset: usize, byte: u8) -> Result<(), GreetingError> {
        match offset {
            0 if byte != 0xFF => Err(GreetingError::BadSignature { offset, byte }),
            9 if byte != 0x7F => Err(GreetingError::BadSignature { offset, byte }),
            MAJOR_AT if byte < 3 => Err(GreetingError::UnsupportedVersion { major: byte }),
            MECHANISM_AT..AS_SERVER_AT => {
                let after_nul = offset > MECHANISM_AT && self.buf[offset - 1] == 0;
                let ok = if after_nul {
                    byte == 0
                } else {
                    matches!(byte, b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'+' | 0)
                };
                if ok {
                    Ok(())
                } else {
                    Err(GreetingError::BadMechanism { offset, byte })
                }
            }
            AS_SERVER_AT if byte > 1 => Err(GreetingError::BadAsServer { byte }),
            // Padding, minor version and filler are not significant.
            _ => Ok(()),
        }
    }
}
