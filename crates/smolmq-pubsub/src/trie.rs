//! Subscription stores: radix tries keyed by topic bytes.
//!
//! * [`RadixTrie`]: the generic store, one value per key; path-compressed
//!   (an edge holds a run of bytes, so a long topic costs one node, not one
//!   per byte) with children sorted by their first byte. Matching a message
//!   walks down the trie along the message's first frame and visits every
//!   key that is a prefix of it: the cost depends on the message, not on
//!   how many topics are stored.
//! * [`MultiTrie`]: what a publisher keeps (libzmq's `mtrie_t`): for each
//!   topic, the set of pipes subscribed to it, plus an index from pipe to
//!   topics so a pipe leaving costs only its own topics.
//! * [`CountingTrie`]: what a subscriber keeps (libzmq's `trie_t`): how
//!   many times each topic was subscribed.
//!
//! ```
//! use smolmq_pubsub::trie::MultiTrie;
//!
//! let mut subs = MultiTrie::new();
//! assert!(subs.add(b"weather.", 1u32)); // first subscriber of the topic
//! assert!(!subs.add(b"weather.", 2));
//! assert!(subs.add(b"", 3)); // the empty topic matches everything
//! let mut hit = Vec::new();
//! subs.for_each_match(b"weather.paris", |p| hit.push(p));
//! hit.sort();
//! assert_eq!(hit, [1, 2, 3]);
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::hash::Hash;

/// One node: the bytes of the edge leading to it, a value if a key ends
/// here, children sorted by the first byte of their (non-empty) labels.
struct Node<V> {
    /// The edge label from the parent (empty only at the root).
    label: Vec<u8>,
    /// The value of the key ending here.
    value: Option<V>,
    /// Children, sorted by `label[0]`, at most one per first byte.
    children: Vec<Node<V>>,
}

impl<V> Node<V> {
    /// A node with no value and no children.
    fn new(label: Vec<u8>) -> Node<V> {
        Node {
            label,
            value: None,
            children: Vec::new(),
        }
    }

    /// The index of the child whose label starts with `byte`.
    fn child(&self, byte: u8) -> Result<usize, usize> {
        self.children.binary_search_by_key(&byte, |c| c.label[0])
    }

    /// Cuts this node's label at `at`: the node keeps the head, a new
    /// single child gets the tail, the value and the children.
    fn split(&mut self, at: usize) {
        let tail = self.label.split_off(at);
        let child = Node {
            label: tail,
            value: self.value.take(),
            children: std::mem::take(&mut self.children),
        };
        self.children = vec![child];
    }

    /// Absorbs the only child (this node has no value).
    fn merge_child(&mut self) {
        debug_assert!(self.value.is_none() && self.children.len() == 1);
        if let Some(child) = self.children.pop() {
            self.label.extend_from_slice(&child.label);
            self.value = child.value;
            self.children = child.children;
        }
    }
}

/// The length of the common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A radix trie (path-compressed) from byte strings to values.
///
/// No operation recurses (dropping neither), so keys of any length and
/// tries of any depth (a peer chooses the keys) are safe. Empty nodes are pruned on removal: the trie's size follows what
/// it holds.
///
/// ```
/// use smolmq_pubsub::trie::RadixTrie;
///
/// let mut t = RadixTrie::new();
/// *t.get_or_insert_with(b"ab", || 0) += 1;
/// *t.get_or_insert_with(b"abc", || 0) += 1;
/// let mut seen = Vec::new();
/// t.for_each_prefix_of(b"abcd", |v| seen.push(*v));
/// assert_eq!(seen, [1, 1]);
/// assert_eq!(t.remove(b"ab"), Some(1));
/// assert_eq!(t.len(), 1);
/// ```
pub struct RadixTrie<V> {
    /// The root (empty label; its value is the empty key's).
    root: Node<V>,
    /// Keys with a value.
    len: usize,
}

impl<V> Drop for RadixTrie<V> {
    fn drop(&mut self) {
        // Without recursion: a trie can be as deep as its longest key.
        let mut stack = std::mem::take(&mut self.root.children);
        while let Some(mut node) = stack.pop() {
            stack.append(&mut node.children);
        }
    }
}

impl<V> fmt::Debug for RadixTrie<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RadixTrie")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<V> Default for RadixTrie<V> {
    fn default() -> Self {
        RadixTrie {
            root: Node::new(Vec::new()),
            len: 0,
        }
    }
}

impl<V> RadixTrie<V> {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys hold a value.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no key holds a value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`, made by `make` if there is none.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V {
        let mut node = &mut self.root;
        let mut rest = key;
        while let Some(&first) = rest.first() {
            match node.child(first) {
                Err(i) => {
                    node.children.insert(i, Node::new(rest.to_vec()));
                    node = &mut node.children[i];
                    rest = &[];
                }
                Ok(i) => {
                    let common = common_prefix(&node.children[i].label, rest);
                    if common < node.children[i].label.len() {
                        node.children[i].split(common);
                    }
                    node = &mut node.children[i];
                    rest = &rest[common..];
                }
            }
        }
        if node.value.is_none() {
            self.len += 1;
        }
        node.value.get_or_insert_with(make)
    }

    /// The child indices from the root to the node of `key`, if `key` ends
    /// exactly at a node.
    fn path(&self, key: &[u8]) -> Option<Vec<usize>> {
        let mut path = Vec::new();
        let mut node = &self.root;
        let mut rest = key;
        while let Some(&first) = rest.first() {
            let i = node.child(first).ok()?;
            let child = &node.children[i];
            rest = rest.strip_prefix(&child.label[..])?;
            path.push(i);
            node = child;
        }
        Some(path)
    }

    /// The node reached by following `path` from the root.
    fn node_mut(&mut self, path: &[usize]) -> &mut Node<V> {
        let mut node = &mut self.root;
        for &i in path {
            node = &mut node.children[i];
        }
        node
    }

    /// The node of `key`, if `key` ends exactly at a node.
    fn node(&self, key: &[u8]) -> Option<&Node<V>> {
        let mut node = &self.root;
        let mut rest = key;
        while let Some(&first) = rest.first() {
            let child = &node.children[node.child(first).ok()?];
            rest = rest.strip_prefix(&child.label[..])?;
            node = child;
        }
        Some(node)
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.node(key)?.value.as_ref()
    }

    /// The value of `key`, to change in place.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let path = self.path(key)?;
        self.node_mut(&path).value.as_mut()
    }

    /// Removes the value of `key` and prunes the nodes it leaves empty.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let path = self.path(key)?;
        let Some((&last, above)) = path.split_last() else {
            let value = self.root.value.take();
            if value.is_some() {
                self.len -= 1;
            }
            return value;
        };
        let parent = self.node_mut(above);
        let target = &mut parent.children[last];
        let value = target.value.take()?;
        match target.children.len() {
            0 => {
                parent.children.remove(last);
                // A valueless inner node with one child left is merged
                // with it (never the root: its label stays empty).
                if !above.is_empty() && parent.value.is_none() && parent.children.len() == 1 {
                    parent.merge_child();
                }
            }
            1 => target.merge_child(),
            _ => {}
        }
        self.len -= 1;
        Some(value)
    }

    /// Calls `f` with the value of every key that is a prefix of `data`
    /// (the empty key included), shortest first.
    pub fn for_each_prefix_of(&self, data: &[u8], mut f: impl FnMut(&V)) {
        let mut node = &self.root;
        let mut rest = data;
        loop {
            if let Some(v) = &node.value {
                f(v);
            }
            let Some(&first) = rest.first() else { return };
            let Ok(i) = node.child(first) else { return };
            let child = &node.children[i];
            let Some(after) = rest.strip_prefix(&child.label[..]) else {
                return;
            };
            rest = after;
            node = child;
        }
    }

    /// The empty key's value if it is the only key: every `data` then has
    /// exactly that one prefix.
    #[inline]
    pub fn only_empty_key(&self) -> Option<&V> {
        if self.len == 1 {
            self.root.value.as_ref()
        } else {
            None
        }
    }

    /// True if some key is a prefix of `data`.
    pub fn has_prefix_of(&self, data: &[u8]) -> bool {
        let mut node = &self.root;
        let mut rest = data;
        loop {
            if node.value.is_some() {
                return true;
            }
            let Some(&first) = rest.first() else {
                return false;
            };
            let Ok(i) = node.child(first) else {
                return false;
            };
            let child = &node.children[i];
            let Some(after) = rest.strip_prefix(&child.label[..]) else {
                return false;
            };
            rest = after;
            node = child;
        }
    }

    /// Calls `f` with every key and its value, in byte order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &V)) {
        let mut key = Vec::new();
        let mut stack: Vec<(&Node<V>, usize)> = vec![(&self.root, 0)];
        while let Some((node, base)) = stack.pop() {
            key.truncate(base);
            key.extend_from_slice(&node.label);
            if let Some(v) = &node.value {
                f(&key, v);
            }
            let here = key.len();
            stack.extend(node.children.iter().rev().map(|c| (c, here)));
        }
    }

    /// Every key, in byte order.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys = Vec::with_capacity(self.len);
        self.for_each(|k, _| keys.push(k.to_vec()));
        keys
    }

    /// How many nodes the trie has (the root included): for tests of
    /// pruning.
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            count += 1;
            stack.extend(node.children.iter());
        }
        count
    }
}

/// What [`MultiTrie::rm`] found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RmResult {
    /// The pipe was not subscribed to the topic.
    NotFound,
    /// The pipe was the topic's last subscriber.
    LastValueRemoved,
    /// Other pipes are still subscribed to the topic.
    ValuesRemain,
}

/// For each topic, the set of pipes subscribed to it (libzmq's `mtrie_t`).
///
/// A pipe is subscribed to a topic or not: subscribing again changes
/// nothing, one cancel removes it (as in libzmq, whose per-topic pipe set
/// is a `std::set`). Counting is the subscriber's business
/// ([`CountingTrie`]): a SUB sends a cancel only when its last
/// subscription to the topic goes.
#[derive(Debug)]
pub struct MultiTrie<P> {
    /// Topic -> subscribed pipes (sorted, never empty).
    topics: RadixTrie<Vec<P>>,
    /// Pipe -> its topics, so a pipe leaving costs only its own topics.
    by_pipe: HashMap<P, BTreeSet<Box<[u8]>>>,
}

impl<P> Default for MultiTrie<P> {
    fn default() -> Self {
        MultiTrie {
            topics: RadixTrie::default(),
            by_pipe: HashMap::new(),
        }
    }
}

impl<P: Copy + Ord + Hash> MultiTrie<P> {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribes `pipe` to `topic`; true if no pipe was subscribed to it
    /// before (libzmq's "first added").
    pub fn add(&mut self, topic: &[u8], pipe: P) -> bool {
        let pipes = self.topics.get_or_insert_with(topic, Vec::new);
        let first = pipes.is_empty();
        if let Err(i) = pipes.binary_search(&pipe) {
            pipes.insert(i, pipe);
            self.by_pipe.entry(pipe).or_default().insert(topic.into());
        }
        first
    }

    /// Cancels `pipe`'s subscription to `topic`.
    pub fn rm(&mut self, topic: &[u8], pipe: P) -> RmResult {
        let Some(pipes) = self.topics.get_mut(topic) else {
            return RmResult::NotFound;
        };
        let Ok(i) = pipes.binary_search(&pipe) else {
            return RmResult::NotFound;
        };
        pipes.remove(i);
        let last = pipes.is_empty();
        if last {
            self.topics.remove(topic);
        }
        self.forget(pipe, topic);
        if last {
            RmResult::LastValueRemoved
        } else {
            RmResult::ValuesRemain
        }
    }

    /// Drops `topic` from `pipe`'s index.
    fn forget(&mut self, pipe: P, topic: &[u8]) {
        if let Some(set) = self.by_pipe.get_mut(&pipe) {
            set.remove(topic);
            if set.is_empty() {
                self.by_pipe.remove(&pipe);
            }
        }
    }

    /// Removes every subscription of `pipe`, calling `f(topic, last)` for
    /// each, in byte order of the topics; `last` is true when no pipe is
    /// left subscribed to the topic.
    pub fn rm_pipe(&mut self, pipe: P, mut f: impl FnMut(&[u8], bool)) {
        let Some(topics) = self.by_pipe.remove(&pipe) else {
            return;
        };
        for topic in topics {
            let Some(pipes) = self.topics.get_mut(&topic) else {
                continue;
            };
            if let Ok(i) = pipes.binary_search(&pipe) {
                pipes.remove(i);
            }
            let last = pipes.is_empty();
            if last {
                self.topics.remove(&topic);
            }
            f(&topic, last);
        }
    }

    /// Calls `f` for every pipe subscribed to a prefix of `data`. A pipe
    /// subscribed to several such prefixes is passed once per prefix.
    pub fn for_each_match(&self, data: &[u8], mut f: impl FnMut(P)) {
        self.topics
            .for_each_prefix_of(data, |pipes| pipes.iter().for_each(|&p| f(p)));
    }

    /// The pipes subscribed to the empty topic, when that is the only topic
    /// subscribed: every message matches each of them once (a publisher's
    /// fast path, with no walk and no deduplication).
    #[inline]
    pub fn everything_only(&self) -> Option<&[P]> {
        self.topics.only_empty_key().map(Vec::as_slice)
    }

    /// True if `pipe` is subscribed to exactly `topic`.
    pub fn contains(&self, topic: &[u8], pipe: P) -> bool {
        self.topics
            .get(topic)
            .is_some_and(|pipes| pipes.binary_search(&pipe).is_ok())
    }

    /// The topics `pipe` is subscribed to, in byte order.
    pub fn topics_of(&self, pipe: P) -> Vec<Vec<u8>> {
        self.by_pipe
            .get(&pipe)
            .map(|set| set.iter().map(|t| t.to_vec()).collect())
            .unwrap_or_default()
    }

    /// How many topics have at least one subscriber (libzmq's
    /// `ZMQ_TOPICS_COUNT` on an XPUB).
    pub fn num_prefixes(&self) -> usize {
        self.topics.len()
    }

    /// The underlying trie's node count: for tests of pruning.
    pub fn node_count(&self) -> usize {
        self.topics.node_count()
    }
}

/// How many times each topic is subscribed (libzmq's `trie_t`): what a
/// SUB or XSUB keeps, to filter, to send again after a reconnection, and
/// to send a cancel only when the last subscription to a topic goes.
#[derive(Debug, Default)]
pub struct CountingTrie {
    /// Topic -> count (never 0).
    topics: RadixTrie<u64>,
}

impl CountingTrie {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one more subscription to `topic`; true if it is the first.
    pub fn add(&mut self, topic: &[u8]) -> bool {
        let count = self.topics.get_or_insert_with(topic, || 0);
        *count += 1;
        *count == 1
    }

    /// Removes one subscription to `topic`; true if it was the last one
    /// (false too when there was none).
    pub fn rm(&mut self, topic: &[u8]) -> bool {
        let Some(count) = self.topics.get_mut(topic) else {
            return false;
        };
        *count -= 1;
        if *count == 0 {
            self.topics.remove(topic);
            true
        } else {
            false
        }
    }

    /// How many subscriptions to exactly `topic` are counted.
    pub fn count(&self, topic: &[u8]) -> u64 {
        self.topics.get(topic).copied().unwrap_or(0)
    }

    /// True if some subscribed topic is a prefix of `data`.
    pub fn matches(&self, data: &[u8]) -> bool {
        self.topics.has_prefix_of(data)
    }

    /// Calls `f` with every subscribed topic, once each, in byte order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        self.topics.for_each(|t, _| f(t));
    }

    /// The subscribed topics, in byte order.
    pub fn topics(&self) -> Vec<Vec<u8>> {
        self.topics.keys()
    }

    /// How many distinct topics are subscribed.
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// True if nothing is subscribed.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    /// The underlying trie's node count: for tests of pruning.
    pub fn node_count(&self) -> usize {
        self.topics.node_count()
    }
}
