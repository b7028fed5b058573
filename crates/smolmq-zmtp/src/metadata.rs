//! Connection metadata: the properties carried by READY and INITIATE.
//!
//! ```text
//! metadata = *property
//! property = name-length(1) name value-length(4, network order) value
//! ```

use crate::socket_type::{SocketType, UnknownSocketType};
use bytes::{Buf, BufMut, Bytes, BytesMut};
use core::fmt;

/// Name of the socket type property.
pub const SOCKET_TYPE: &str = "Socket-Type";
/// Name of the identity (routing id) property.
pub const IDENTITY: &str = "Identity";
/// Name of the resource property (ZMTP 3.1).
pub const RESOURCE: &str = "Resource";

/// Longest identity a peer may announce (RFC 37: `0*255OCTET`).
pub const MAX_IDENTITY_LEN: usize = 255;
/// Longest property value (RFC 37: 2^31 - 1 octets).
pub const MAX_VALUE_LEN: usize = i32::MAX as usize;

/// Ordered metadata properties.
///
/// Names are compared without regard to ASCII case, as RFC 37 requires.
/// Properties decoded from a peer are kept in the order received, all of
/// them, so the application can read its own (`X-...`) ones.
///
/// ```
/// use smolmq_zmtp::{Metadata, SocketType};
///
/// let mut md = Metadata::new();
/// md.insert("Socket-Type", "DEALER").unwrap();
/// md.insert("X-Color", "blue").unwrap();
/// assert_eq!(md.socket_type(), Some(Ok(SocketType::Dealer)));
/// assert_eq!(md.get("x-color").map(|v| &v[..]), Some(&b"blue"[..]));
/// assert!(md.insert("bad name", "x").is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `(name, value)` pairs in wire order.
    props: Vec<(Bytes, Bytes)>,
}

impl Metadata {
    /// Empty metadata.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Sets a property, replacing any of the same name (ignoring case) in
    /// place; returns the old value.
    ///
    /// The name must be 1 to 255 characters of `A-Z a-z 0-9 - _ . +`, the
    /// value at most 2^31 - 1 bytes.
    pub fn insert(
        &mut self,
        name: impl Into<Bytes>,
        value: impl Into<Bytes>,
    ) -> Result<Option<Bytes>, MetadataError> {
        let name = name.into();
        let value = value.into();
        check_name(&name)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(MetadataError::ValueTooLong {
                name: lossy(&name),
                len: value.len(),
            });
        }
        match self.position(&name) {
            Some(i) => Ok(Some(core::mem::replace(&mut self.props[i].1, value))),
            None => {
                self.props.push((name, value));
                Ok(None)
            }
        }
    }

    /// The value of the first property called `name` (ignoring case).
    pub fn get(&self, name: impl AsRef<[u8]>) -> Option<&Bytes> {
        self.position(name.as_ref()).map(|i| &self.props[i].1)
    }

    /// Removes the first property called `name` (ignoring case).
    pub fn remove(&mut self, name: impl AsRef<[u8]>) -> Option<Bytes> {
        self.position(name.as_ref()).map(|i| self.props.remove(i).1)
    }

    /// The `Socket-Type` property, parsed; `None` if absent.
    pub fn socket_type(&self) -> Option<Result<SocketType, UnknownSocketType>> {
        self.get(SOCKET_TYPE).map(|v| SocketType::from_bytes(v))
    }

    /// The `Identity` property; `None` if absent.
    pub fn identity(&self) -> Option<&Bytes> {
        self.get(IDENTITY)
    }

    /// Iterates over `(name, value)` in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Bytes)> + '_ {
        self.props.iter().map(|(n, v)| (&n[..], v))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.props.len()
    }

    /// Whether there are no properties.
    pub fn is_empty(&self) -> bool {
        self.props.is_empty()
    }

    /// Length of the encoded form in bytes.
    pub fn encoded_len(&self) -> usize {
        self.props
            .iter()
            .map(|(n, v)| 1 + n.len() + 4 + v.len())
            .sum()
    }

    /// Appends the encoded properties to `out`.
    ///
    /// Properties that came from [`Metadata::decode`] are written back as
    /// received; [`Metadata::insert`] has already checked the rest.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        self.put(out);
    }

    /// Writes the encoded properties.
    pub(crate) fn put(&self, out: &mut impl BufMut) {
        for (name, value) in &self.props {
            // Both bounds hold: insert checked them, decode read them from
            // fields of these widths.
            out.put_u8(name.len() as u8);
            out.put_slice(name);
            out.put_u32(value.len() as u32);
            out.put_slice(value);
        }
    }

    /// Decodes properties from a command body (after the command name).
    /// Names and values are slices of `data`, not copies.
    ///
    /// Names are not checked against the RFC's character set (a peer's
    /// unusual name is kept, not refused); an empty name, a value longer
    /// than 2^31 - 1 or a property cut short is an error.
    pub fn decode(mut data: Bytes) -> Result<Metadata, MetadataError> {
        let mut props = Vec::new();
        while !data.is_empty() {
            let name_len = usize::from(data[0]);
            if name_len == 0 {
                return Err(MetadataError::EmptyName);
            }
            if data.len() < 1 + name_len + 4 {
                return Err(MetadataError::Truncated {
                    needed: 1 + name_len + 4,
                    available: data.len(),
                });
            }
            data.advance(1);
            let name = data.split_to(name_len);
            let value_len = data.get_u32() as usize;
            if value_len > MAX_VALUE_LEN {
                return Err(MetadataError::ValueTooLong {
                    name: lossy(&name),
                    len: value_len,
                });
            }
            if data.len() < value_len {
                return Err(MetadataError::Truncated {
                    needed: value_len,
                    available: data.len(),
                });
            }
            let value = data.split_to(value_len);
            props.push((name, value));
        }
        Ok(Metadata { props })
    }

    /// Index of the first property called `name`, ignoring case.
    fn position(&self, name: &[u8]) -> Option<usize> {
        self.props
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }
}

/// Checks a property name against RFC 37's `1*255name-char`.
fn check_name(name: &[u8]) -> Result<(), MetadataError> {
    let valid_chars = name
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'));
    if name.is_empty() || name.len() > 255 || !valid_chars {
        return Err(MetadataError::InvalidName { name: lossy(name) });
    }
    Ok(())
}

/// A printable rendering of a name, for error messages (at most 64 bytes).
fn lossy(name: &[u8]) -> String {
    let shown = &name[..name.len().min(64)];
    let mut s = shown.escape_ascii().to_string();
    if shown.len() < name.len() {
        s.push_str("...");
    }
    s
}

/// Why metadata could not be built or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// A name to insert is empty, longer than 255 bytes, or has a character
    /// other than `A-Z a-z 0-9 - _ . +`.
    InvalidName {
        /// The name (escaped, at most 64 bytes shown).
        name: String,
    },
    /// A received property has an empty name.
    EmptyName,
    /// A value is longer than 2^31 - 1 bytes.
    ValueTooLong {
        /// The property's name (escaped).
        name: String,
        /// The value's length.
        len: usize,
    },
    /// A received property is cut short by the end of the command.
    Truncated {
        /// Bytes the property needs at this point.
        needed: usize,
        /// Bytes left in the command.
        available: usize,
    },
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::InvalidName { name } => write!(
                f,
                "invalid metadata name \"{name}\": 1 to 255 of A-Z a-z 0-9 - _ . + expected"
            ),
            MetadataError::EmptyName => f.write_str("metadata property with an empty name"),
            MetadataError::ValueTooLong { name, len } => write!(
                f,
                "metadata value of \"{name}\" is {len} bytes, more than the limit of {MAX_VALUE_LEN}"
            ),
            MetadataError::Truncated { needed, available } => write!(
                f,
                "metadata property cut short: {needed} bytes needed, {available} left"
            ),
        }
    }
}

impl std::error::Error for MetadataError {}
