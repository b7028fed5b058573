//! [`Extensions`]: option values of a transport's own, carried per socket
//! in [`SocketOptions::extensions`].
//!
//! The core knows tcp and ipc settings by name, but not a TLS certificate
//! or a WebSocket header: those belong to transport crates that the core
//! must not depend on. A transport crate defines its own options type and
//! the socket carries one value of it, keyed by its type, to the
//! transport's `bind`, `connect` and `establish`, which read it back with
//! [`SocketOptions::extension`].

#![deny(unsafe_code)]

use crate::SocketOptions;
use std::any::{Any, TypeId};
use std::fmt;
use std::sync::Arc;

/// A set of values of distinct types: at most one value per type.
///
/// Cloning is cheap (the values are shared, behind `Arc`s), so a socket
/// that hands its options to every connection copies no certificate. Two
/// sets are equal when they hold the same types with equal values, in any
/// order.
///
/// ```
/// use smolmq_core::{Extensions, SocketOptions};
///
/// #[derive(Debug, PartialEq, Eq)]
/// struct Greeting(&'static str);
///
/// let mut options = SocketOptions::default();
/// assert_eq!(options.extension::<Greeting>(), None);
/// options.set_extension(Greeting("hello"));
/// assert_eq!(options.extension::<Greeting>(), Some(&Greeting("hello")));
///
/// let copy = options.clone();
/// assert_eq!(copy, options);
/// options.set_extension(Greeting("bye"));
/// assert_ne!(copy, options);
/// assert!(options.extensions.remove::<Greeting>());
/// assert_eq!(options.extensions, Extensions::default());
/// ```
#[derive(Clone, Default)]
pub struct Extensions {
    /// The values, one per type, in insertion order (a socket carries one
    /// or two: a linear search beats hashing).
    values: Vec<Arc<dyn Value>>,
}

/// What the set needs of a value: its type, equality and `Debug`, behind a
/// trait object.
trait Value: Send + Sync + 'static {
    /// The value, to downcast.
    fn as_any(&self) -> &dyn Any;
    /// Whether `other` is a value of the same type, equal to this one.
    fn equals(&self, other: &dyn Value) -> bool;
    /// Formats the value with its `Debug`.
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<T: Any + Send + Sync + fmt::Debug + Eq> Value for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn equals(&self, other: &dyn Value) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }

    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Extensions {
    /// The value of type `T`, if one was set.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.values
            .iter()
            .find_map(|value| value.as_any().downcast_ref::<T>())
    }

    /// Sets the value of type `T`, replacing an earlier one of that type.
    pub fn insert<T: Any + Send + Sync + fmt::Debug + Eq>(&mut self, value: T) {
        let value: Arc<dyn Value> = Arc::new(value);
        match self.position(TypeId::of::<T>()) {
            Some(at) => self.values[at] = value,
            None => self.values.push(value),
        }
    }

    /// Removes the value of type `T`; whether there was one.
    pub fn remove<T: Any>(&mut self) -> bool {
        match self.position(TypeId::of::<T>()) {
            Some(at) => {
                self.values.remove(at);
                true
            }
            None => false,
        }
    }

    /// How many values the set holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the set holds no value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Where the value of type `id` is.
    fn position(&self, id: TypeId) -> Option<usize> {
        self.values
            .iter()
            .position(|value| value.as_any().type_id() == id)
    }
}

impl PartialEq for Extensions {
    fn eq(&self, other: &Extensions) -> bool {
        // One value per type: same length and every value found equal in
        // the other set means the same set.
        self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .all(|value| other.values.iter().any(|o| value.equals(&**o)))
    }
}

impl Eq for Extensions {}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// One value, printed with its own `Debug`.
        struct Item<'a>(&'a dyn Value);
        impl fmt::Debug for Item<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug(f)
            }
        }
        f.debug_set()
            .entries(self.values.iter().map(|value| Item(&**value)))
            .finish()
    }
}

impl SocketOptions {
    /// The transport option of type `T` set on this socket, if any (see
    /// [`Extensions`]).
    pub fn extension<T: Any>(&self) -> Option<&T> {
        self.extensions.get()
    }

    /// Sets a transport option of type `T`, replacing an earlier one of
    /// that type (see [`Extensions`]).
    pub fn set_extension<T: Any + Send + Sync + fmt::Debug + Eq>(&mut self, value: T) {
        self.extensions.insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::Extensions;

    #[derive(Debug, PartialEq, Eq)]
    struct A(u8);
    #[derive(Debug, PartialEq, Eq)]
    struct B(&'static str);

    #[test]
    fn one_value_per_type_and_order_does_not_matter() {
        let mut x = Extensions::default();
        x.insert(A(1));
        x.insert(B("b"));
        x.insert(A(2));
        assert_eq!(x.len(), 2);
        assert_eq!(x.get::<A>(), Some(&A(2)));
        let mut y = Extensions::default();
        y.insert(B("b"));
        y.insert(A(2));
        assert_eq!(x, y);
        y.insert(A(3));
        assert_ne!(x, y);
        assert_eq!(format!("{x:?}"), r#"{A(2), B("b")}"#);
        assert!(y.remove::<A>());
        assert!(!y.remove::<A>());
        assert_ne!(x, y);
    }
}
