//! A keyed hash for the ROUTER's routing-id table.
//!
//! Every message a ROUTER sends is looked up by its routing id. With the
//! standard library's SipHash-1-3 that lookup cost about 170 instructions
//! per message for a 3-byte id, a quarter of everything a ROUTER's sending
//! thread did per message (callgrind, ROUTER_ROUTER inproc 64 B: 729
//! instructions per message). Routing ids are short (libzmq: at most 255
//! bytes, five when the ROUTER makes them), so a hash that takes 16 bytes
//! per step with one 64 x 64 -> 128-bit multiply does the same job in a
//! few dozen.
//!
//! The ids are chosen by peers (a peer announces its own), so the hash must
//! not let a peer pick ids that collide and turn the table into a list: the
//! key is 128 random bits per table, drawn from the standard library's
//! hash seeds, and every step mixes it in before the multiply. Without the
//! key, the output of the folded multiply says little about its inputs;
//! this is the construction of hashes such as foldhash and aHash's
//! fallback, meant to resist collision flooding by a remote party, though
//! not a cryptographic guarantee as SipHash's is.

use bytes::Bytes;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// One 64 x 64 -> 128-bit multiply, the two halves folded together.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = (a as u128).wrapping_mul(b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

/// `b` (at most 8 bytes) as one number, with no call to `memcpy` (a
/// zero-padded copy of a variable length was one, about 15 instructions
/// per call and two calls per lookup). Two overlapping 4-byte loads from
/// 4 bytes up, three single bytes below: for a given length, different
/// bytes give different numbers, and `write` mixes the length in.
#[inline]
fn load(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let (mut lo, mut hi) = ([0u8; 4], [0u8; 4]);
        lo.copy_from_slice(&b[..4]);
        hi.copy_from_slice(&b[n - 4..]);
        u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << 32
    } else if n > 0 {
        u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16
    } else {
        0
    }
}

/// Builds [`IdHasher`]s with one random key: the table's hasher.
#[derive(Clone, Debug)]
pub(crate) struct IdHash {
    /// The key: two words mixed into every step, one to start from.
    k: [u64; 3],
}

impl IdHash {
    /// A fresh random key.
    pub(crate) fn new() -> IdHash {
        let seed = std::collections::hash_map::RandomState::new();
        let k0 = seed.hash_one(1_u64);
        let k1 = seed.hash_one(2_u64);
        let k2 = seed.hash_one(3_u64);
        IdHash { k: [k0, k1, k2] }
    }
}

impl Default for IdHash {
    fn default() -> IdHash {
        IdHash::new()
    }
}

impl BuildHasher for IdHash {
    type Hasher = IdHasher;

    #[inline]
    fn build_hasher(&self) -> IdHasher {
        IdHasher {
            k: [self.k[0], self.k[1]],
            h: self.k[2],
        }
    }
}

/// The hasher of [`IdHash`]: 16 bytes per multiply.
#[derive(Clone, Debug)]
pub(crate) struct IdHasher {
    /// The key.
    k: [u64; 2],
    /// The state.
    h: u64,
}

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while rest.len() > 16 {
            let (a, b) = rest.split_at(8);
            self.h = fold(load(a) ^ self.k[0] ^ self.h, load(&b[..8]) ^ self.k[1]);
            rest = &rest[16..];
        }
        let (a, b) = rest.split_at(rest.len().min(8));
        // The length goes in with the last step, so that ids that differ
        // only by trailing zero bytes hash apart.
        let tail = load(b) ^ ((bytes.len() as u64) << 56);
        self.h = fold(load(a) ^ self.k[0] ^ self.h, tail ^ self.k[1]);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        // `[u8]`'s `Hash` writes its length first; `write` mixes the length
        // in anyway, so this only has to be cheap and not lose it.
        self.h = self.h.wrapping_add(n as u64).rotate_left(23);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.h, self.k[1])
    }
}

/// A short id (at most 16 bytes) in three words: its length and its two
/// halves as [`load`] reads them. For a given length `load` keeps every
/// byte, so two ids have equal keys exactly when they are equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ShortKey {
    len: usize,
    a: u64,
    b: u64,
}

impl ShortKey {
    /// The key of `id`, or `None` if it is longer than 16 bytes.
    #[inline]
    fn of(id: &[u8]) -> Option<ShortKey> {
        if id.len() > 16 {
            return None;
        }
        let (a, b) = id.split_at(id.len().min(8));
        Some(ShortKey {
            len: id.len(),
            a: load(a),
            b: load(b),
        })
    }
}

/// The ROUTER's routing-id table: id to pipe, keyed with [`IdHash`], and
/// the entry found last remembered, so that a run of messages to one peer
/// (a reply stream, a benchmark, a proxy's burst) compares three words per
/// message instead of hashing and probing. Any change to the table forgets
/// it.
#[derive(Debug)]
pub(crate) struct IdTable<P> {
    /// Every routing id and its pipe.
    map: HashMap<Bytes, P, IdHash>,
    /// The id [`route`](IdTable::route) found last, if short, and its pipe.
    last: Option<(ShortKey, P)>,
}

impl<P> Default for IdTable<P> {
    fn default() -> IdTable<P> {
        IdTable {
            map: HashMap::default(),
            last: None,
        }
    }
}

impl<P: Copy> IdTable<P> {
    /// Whether `id` names a pipe.
    pub(crate) fn contains_key(&self, id: &[u8]) -> bool {
        self.map.contains_key(id)
    }

    /// The pipe `id` names.
    pub(crate) fn get(&self, id: &[u8]) -> Option<P> {
        self.map.get(id).copied()
    }

    /// The table's own copy of `id`, and its pipe.
    pub(crate) fn get_key_value(&self, id: &[u8]) -> Option<(&Bytes, P)> {
        self.map.get_key_value(id).map(|(k, &v)| (k, v))
    }

    /// The pipe `id` names, for a message about to be sent there: as
    /// [`get`](IdTable::get), through the remembered entry when it is the
    /// same id.
    #[inline]
    pub(crate) fn route(&mut self, id: &[u8]) -> Option<P> {
        let key = ShortKey::of(id);
        if let (Some(key), Some((last, pipe))) = (key, self.last) {
            if key == last {
                return Some(pipe);
            }
        }
        let pipe = self.get(id)?;
        self.last = key.map(|key| (key, pipe));
        Some(pipe)
    }

    /// Names pipe `pipe` `id` (replacing what `id` named).
    pub(crate) fn insert(&mut self, id: Bytes, pipe: P) {
        self.last = None;
        self.map.insert(id, pipe);
    }

    /// Forgets `id`.
    pub(crate) fn remove(&mut self, id: &[u8]) {
        self.last = None;
        self.map.remove(id);
    }

    /// Every pipe that has an id.
    pub(crate) fn pipes(&self) -> impl Iterator<Item = P> + '_ {
        self.map.values().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn hash(h: &IdHash, id: &[u8]) -> u64 {
        h.hash_one(id)
    }

    #[test]
    fn equal_ids_hash_equal_and_lengths_matter() {
        let h = IdHash::new();
        assert_eq!(hash(&h, b"cli"), hash(&h, b"cli"));
        assert_ne!(hash(&h, b"cli"), hash(&h, b"cli\0"));
        assert_ne!(hash(&h, b""), hash(&h, b"\0"));
        let long = [7u8; 40];
        assert_ne!(hash(&h, &long[..33]), hash(&h, &long[..32]));
    }

    #[test]
    fn every_short_id_of_one_length_loads_apart() {
        for len in 1..=2usize {
            let ids: HashSet<u64> = (0u32..1 << (8 * len))
                .map(|n| load(&n.to_le_bytes()[..len]))
                .collect();
            assert_eq!(ids.len(), 1 << (8 * len), "length {len}");
        }
        // From 3 bytes up every byte lands in the number: flipping any bit
        // of any byte changes it.
        for len in 3..=8usize {
            let id = [0x5au8; 8];
            let base = load(&id[..len]);
            for i in 0..len {
                for bit in 0..8 {
                    let mut other = id;
                    other[i] ^= 1 << bit;
                    assert_ne!(load(&other[..len]), base, "length {len}, byte {i}");
                }
            }
        }
        assert_eq!(load(&[]), 0);
    }

    #[test]
    fn route_finds_what_get_finds_and_forgets_on_every_change() {
        let mut t = IdTable::default();
        let (p1, p2) = (1u32, 2u32);
        t.insert(Bytes::from_static(b"alpha"), p1);
        t.insert(Bytes::from_static(b"beta"), p2);
        assert_eq!(t.route(b"alpha"), Some(p1));
        assert_eq!(t.route(b"alpha"), Some(p1));
        assert_eq!(t.route(b"alph"), None);
        assert_eq!(t.route(b"alpha\0"), None);
        assert_eq!(t.route(b"beta"), Some(p2));
        // The remembered id moves to another pipe, or goes.
        t.insert(Bytes::from_static(b"beta"), p1);
        assert_eq!(t.route(b"beta"), Some(p1));
        t.remove(b"beta");
        assert_eq!(t.route(b"beta"), None);
        // Ids longer than 16 bytes are routed, not remembered.
        let long = Bytes::from_static(b"a routing id of 28 bytes....");
        t.insert(long.clone(), p2);
        assert_eq!(t.route(&long), Some(p2));
        assert_eq!(t.last, None);
        assert_eq!(t.route(&long[..16]), None);
    }

    #[test]
    fn short_keys_are_equal_exactly_when_ids_are() {
        let ids: [&[u8]; 9] = [
            b"",
            b"\0",
            b"\0\0",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefghijklmnop",
            b"abcdefghijklmnoq",
        ];
        for x in ids {
            for y in ids {
                assert_eq!(ShortKey::of(x) == ShortKey::of(y), x == y, "{x:?} {y:?}");
            }
        }
        assert_eq!(ShortKey::of(&[0; 17]), None);
    }

    #[test]
    fn the_key_differs_between_tables() {
        let (a, b) = (IdHash::new(), IdHash::new());
        let ids: Vec<[u8; 5]> = (0u32..64).map(|n| [0, n as u8, 0, 0, 1]).collect();
        let same = ids
            .iter()
            .filter(|id| hash(&a, &id[..]) == hash(&b, &id[..]))
            .count();
        assert!(same < 4, "{same} of 64 ids hashed alike under two keys");
    }

    /// Generated ids (a zero byte and a counter, as the ROUTER makes them)
    /// and short announced ones spread over the low bits the table uses.
    #[test]
    fn sequential_ids_spread_over_buckets() {
        let h = IdHash::new();
        let buckets: HashSet<u64> = (0u32..4096)
            .map(|n| {
                let mut id = [0u8; 5];
                id[1..].copy_from_slice(&n.to_be_bytes());
                hash(&h, &id) & 4095
            })
            .collect();
        // A uniform hash fills about 63 % of 4096 buckets with 4096 keys.
        assert!(buckets.len() > 2300, "{} buckets of 4096", buckets.len());
    }
}
