//! Commands: READY, ERROR, the PLAIN commands, PING / PONG, SUBSCRIBE /
//! CANCEL, and any other command kept as it came.
//!
//! ```text
//! command-body = name-length(1) name command-data
//! ```

use crate::frame::{encode_header, header_len};
use crate::metadata::{Metadata, MetadataError};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;

/// Longest PING / PONG context (RFC 37: `0*16OCTET`).
pub const MAX_PING_CONTEXT: usize = 16;
/// Longest ERROR reason, PLAIN user name or password (a 1-octet length).
pub const MAX_SHORT_STRING: usize = 255;

/// A ZMTP command.
///
/// ```
/// use bytes::Bytes;
/// use smolmq_zmtp::Command;
///
/// let ping = Command::Ping { ttl: 50, context: Bytes::from_static(b"abc") };
/// let body = ping.to_body().unwrap();
/// assert_eq!(&body[..], b"\x04PING\x00\x32abc");
/// assert_eq!(Command::decode(body), Ok(ping));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `READY`: the NULL handshake's (and PLAIN server's) metadata.
    Ready(Metadata),
    /// `ERROR`: a fatal handshake error with a reason for the log.
    Error {
        /// The reason, at most 255 bytes (decoded lossily as UTF-8).
        reason: String,
    },
    /// `HELLO` (PLAIN): the client's credentials.
    Hello {
        /// User name, at most 255 bytes.
        username: Bytes,
        /// Password, at most 255 bytes.
        password: Bytes,
    },
    /// `WELCOME` (PLAIN): the server accepted the credentials.
    Welcome,
    /// `INITIATE` (PLAIN): the client's metadata.
    Initiate(Metadata),
    /// `PING` (3.1): a heartbeat request.
    Ping {
        /// Time to live in tenths of a second (0: none).
        ttl: u16,
        /// Context to echo, at most 16 bytes.
        context: Bytes,
    },
    /// `PONG` (3.1): a heartbeat reply.
    Pong {
        /// The PING's context, at most 16 bytes.
        context: Bytes,
    },
    /// `SUBSCRIBE` (3.1): subscribe to a topic prefix.
    Subscribe(Bytes),
    /// `CANCEL` (3.1): cancel one subscription to a topic prefix.
    Cancel(Bytes),
    /// Any other command, kept so that unknown commands are not errors.
    Unknown {
        /// The command name (1 to 255 bytes).
        name: Bytes,
        /// The command data after the name.
        body: Bytes,
    },
}

impl Command {
    /// An ERROR command, the reason cut to 255 bytes (at a character
    /// boundary) if longer.
    pub fn error(reason: &str) -> Command {
        let mut end = reason.len().min(MAX_SHORT_STRING);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Command::Error {
            reason: reason[..end].to_owned(),
        }
    }

    /// The command name, e.g. `b"READY"`.
    pub fn name(&self) -> &[u8] {
        match self {
            Command::Ready(_) => b"READY",
            Command::Error { .. } => b"ERROR",
            Command::Hello { .. } => b"HELLO",
            Command::Welcome => b"WELCOME",
            Command::Initiate(_) => b"INITIATE",
            Command::Ping { .. } => b"PING",
            Command::Pong { .. } => b"PONG",
            Command::Subscribe(_) => b"SUBSCRIBE",
            Command::Cancel(_) => b"CANCEL",
            Command::Unknown { name, .. } => name,
        }
    }

    /// Parses a command frame's body. Slices of `body` are kept, not
    /// copies.
    pub fn decode(mut body: Bytes) -> Result<Command, CommandError> {
        let Some(&name_len) = body.first() else {
            return Err(CommandError::MissingName);
        };
        let name_len = usize::from(name_len);
        if name_len == 0 {
            return Err(CommandError::MissingName);
        }
        if body.len() < 1 + name_len {
            return Err(CommandError::Truncated {
                command: "command",
                needed: 1 + name_len,
                available: body.len(),
            });
        }
        body.advance(1);
        let name = body.split_to(name_len);
        let mut data = body;
        let command = match &name[..] {
            b"READY" => Command::Ready(Metadata::decode(data)?),
            b"INITIATE" => Command::Initiate(Metadata::decode(data)?),
            b"ERROR" => {
                let reason = short_string(&mut data, "ERROR")?;
                no_trailing(&data, "ERROR")?;
                Command::Error {
                    reason: String::from_utf8_lossy(&reason).into_owned(),
                }
            }
            b"HELLO" => {
                let username = short_string(&mut data, "HELLO")?;
                let password = short_string(&mut data, "HELLO")?;
                no_trailing(&data, "HELLO")?;
                Command::Hello { username, password }
            }
            b"WELCOME" => {
                no_trailing(&data, "WELCOME")?;
                Command::Welcome
            }
            b"PING" => {
                if data.len() < 2 {
                    return Err(CommandError::Truncated {
                        command: "PING",
                        needed: 2,
                        available: data.len(),
                    });
                }
                let ttl = data.get_u16();
                check_context(&data)?;
                Command::Ping { ttl, context: data }
            }
            b"PONG" => {
                check_context(&data)?;
                Command::Pong { context: data }
            }
            b"SUBSCRIBE" => Command::Subscribe(data),
            b"CANCEL" => Command::Cancel(data),
            _ => Command::Unknown { name, body: data },
        };
        Ok(command)
    }

    /// Length of the encoded body (name and data), after checking every
    /// field's limit.
    pub fn body_len(&self) -> Result<usize, CommandError> {
        let name = self.name();
        if name.is_empty() || name.len() > 255 || !name.iter().all(u8::is_ascii_alphabetic) {
            return Err(CommandError::InvalidName {
                name: name[..name.len().min(64)].escape_ascii().to_string(),
            });
        }
        let data = match self {
            Command::Ready(md) | Command::Initiate(md) => md.encoded_len(),
            Command::Error { reason } => {
                check_short("ERROR reason", reason.len())?;
                1 + reason.len()
            }
            Command::Hello { username, password } => {
                check_short("PLAIN user name", username.len())?;
                check_short("PLAIN password", password.len())?;
                2 + username.len() + password.len()
            }
            Command::Welcome => 0,
            Command::Ping { context, .. } => {
                check_context(context)?;
                2 + context.len()
            }
            Command::Pong { context } => {
                check_context(context)?;
                context.len()
            }
            Command::Subscribe(topic) | Command::Cancel(topic) => topic.len(),
            Command::Unknown { body, .. } => body.len(),
        };
        Ok(1 + name.len() + data)
    }

    /// Appends the body (name and data) to `out`; nothing is written if a
    /// field is over its limit.
    pub fn encode_body(&self, out: &mut BytesMut) -> Result<(), CommandError> {
        let len = self.body_len()?;
        out.reserve(len);
        self.put_body(out);
        Ok(())
    }

    /// The body (name and data) as a new buffer.
    pub fn to_body(&self) -> Result<Bytes, CommandError> {
        let mut out = BytesMut::new();
        self.encode_body(&mut out)?;
        Ok(out.freeze())
    }

    /// Appends the whole command frame (header and body) to `out`; nothing
    /// is written if a field is over its limit.
    pub fn encode_frame(&self, out: &mut BytesMut) -> Result<(), CommandError> {
        let len = self.body_len()?;
        out.reserve(header_len(len) + len);
        encode_header(out, len, false, true);
        self.put_body(out);
        Ok(())
    }

    /// Writes the body; limits already checked by `body_len`.
    pub(crate) fn put_body(&self, out: &mut impl BufMut) {
        let name = self.name();
        out.put_u8(name.len() as u8);
        out.put_slice(name);
        match self {
            Command::Ready(md) | Command::Initiate(md) => md.put(out),
            Command::Error { reason } => {
                out.put_u8(reason.len() as u8);
                out.put_slice(reason.as_bytes());
            }
            Command::Hello { username, password } => {
                out.put_u8(username.len() as u8);
                out.put_slice(username);
                out.put_u8(password.len() as u8);
                out.put_slice(password);
            }
            Command::Welcome => {}
            Command::Ping { ttl, context } => {
                out.put_u16(*ttl);
                out.put_slice(context);
            }
            Command::Pong { context } => out.put_slice(context),
            Command::Subscribe(topic) | Command::Cancel(topic) => out.put_slice(topic),
            Command::Unknown { body, .. } => out.put_slice(body),
        }
    }
}

/// Fails if a fixed-layout command has bytes after its last field.
fn no_trailing(data: &[u8], command: &'static str) -> Result<(), CommandError> {
    if !data.is_empty() {
        return Err(CommandError::TrailingBytes {
            command,
            extra: data.len(),
        });
    }
    Ok(())
}

/// Reads a 1-octet length and that many bytes.
fn short_string(data: &mut Bytes, command: &'static str) -> Result<Bytes, CommandError> {
    let Some(&len) = data.first() else {
        return Err(CommandError::Truncated {
            command,
            needed: 1,
            available: 0,
        });
    };
    let len = usize::from(len);
    if data.len() < 1 + len {
        return Err(CommandError::Truncated {
            command,
            needed: 1 + len,
            available: data.len(),
        });
    }
    data.advance(1);
    Ok(data.split_to(len))
}

/// Checks a PING / PONG context length.
fn check_context(context: &[u8]) -> Result<(), CommandError> {
    if context.len() > MAX_PING_CONTEXT {
        return Err(CommandError::PingContextTooLong { len: context.len() });
    }
    Ok(())
}

/// Checks a 1-octet-length field.
fn check_short(field: &'static str, len: usize) -> Result<(), CommandError> {
    if len > MAX_SHORT_STRING {
        return Err(CommandError::FieldTooLong { field, len });
    }
    Ok(())
}

/// Why a command could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The frame is a message frame, not a command.
    NotACommand,
    /// The body is empty or its name length is zero.
    MissingName,
    /// A name to encode is empty, longer than 255 or not all ASCII letters.
    InvalidName {
        /// The name (escaped, at most 64 bytes shown).
        name: String,
    },
    /// A field is cut short by the end of the command.
    Truncated {
        /// The command (or "command" while the name is read).
        command: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// A fixed-layout command has bytes after its last field.
    TrailingBytes {
        /// The command.
        command: &'static str,
        /// Number of extra bytes.
        extra: usize,
    },
    /// A PING or PONG context is longer than 16 bytes.
    PingContextTooLong {
        /// The context's length.
        len: usize,
    },
    /// An ERROR reason, user name or password to encode is longer than 255
    /// bytes.
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// Malformed metadata in READY or INITIATE.
    Metadata(MetadataError),
}

impl From<MetadataError> for CommandError {
    fn from(e: MetadataError) -> Self {
        CommandError::Metadata(e)
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::NotACommand => f.write_str("frame is a message, not a command"),
            CommandError::MissingName => f.write_str("command without a name"),
            CommandError::InvalidName { name } => write!(
                f,
                "invalid command name \"{name}\": 1 to 255 ASCII letters expected"
            ),
            CommandError::Truncated {
                command,
                needed,
                available,
            } => write!(
                f,
                "{command} cut short: {needed} bytes needed, {available} left"
            ),
            CommandError::TrailingBytes { command, extra } => {
                write!(f, "{command} has {extra} unexpected trailing bytes")
            }
            CommandError::PingContextTooLong { len } => write!(
                f,
                "PING/PONG context of {len} bytes, more than {MAX_PING_CONTEXT}"
            ),
            CommandError::FieldTooLong { field, len } => {
                write!(f, "{field} of {len} bytes, more than {MAX_SHORT_STRING}")
            }
            CommandError::Metadata(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CommandError::Metadata(e) => Some(e),
            _ => None,
        }
    }
}
