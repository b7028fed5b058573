//! The subscription stores against naive models: a `Vec` of
//! (topic, pipe) pairs for `MultiTrie` (libzmq's mtrie: a set per topic),
//! a `Vec` of (topic, count) for `CountingTrie` (libzmq's trie).

use proptest::prelude::*;
use smolmq_pubsub::trie::{CountingTrie, MultiTrie, RadixTrie, RmResult};
use std::collections::BTreeSet;

/// Topics from a small alphabet, so that prefixes and shared runs (the
/// interesting cases for a radix trie: splits and merges) are common.
fn topic() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![b'a', b'b', b'c', 0u8, 255u8]),
        0..6,
    )
}

#[derive(Clone, Debug)]
enum Op {
    Add(Vec<u8>, u8),
    Rm(Vec<u8>, u8),
    RmPipe(u8),
    Match(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (topic(), 0u8..5).prop_map(|(t, p)| Op::Add(t, p)),
        3 => (topic(), 0u8..5).prop_map(|(t, p)| Op::Rm(t, p)),
        1 => (0u8..5).prop_map(Op::RmPipe),
        3 => prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'c', 0u8, 255u8]), 0..8)
            .prop_map(Op::Match),
    ]
}

/// The model: a set of (topic, pipe) pairs.
#[derive(Default)]
struct Naive(Vec<(Vec<u8>, u8)>);

impl Naive {
    fn holders(&self, topic: &[u8]) -> usize {
        self.0.iter().filter(|(t, _)| t == topic).count()
    }
    fn add(&mut self, topic: &[u8], pipe: u8) -> bool {
        let first = self.holders(topic) == 0;
        if !self.0.iter().any(|(t, p)| t == topic && *p == pipe) {
            self.0.push((topic.to_vec(), pipe));
        }
        first
    }
    fn rm(&mut self, topic: &[u8], pipe: u8) -> RmResult {
        let Some(i) = self.0.iter().position(|(t, p)| t == topic && *p == pipe) else {
            return RmResult::NotFound;
        };
        self.0.remove(i);
        if self.holders(topic) == 0 {
            RmResult::LastValueRemoved
        } else {
            RmResult::ValuesRemain
        }
    }
    fn rm_pipe(&mut self, pipe: u8) -> Vec<(Vec<u8>, bool)> {
        let mut mine: Vec<Vec<u8>> = self
            .0
            .iter()
            .filter(|(_, p)| *p == pipe)
            .map(|(t, _)| t.clone())
            .collect();
        mine.sort();
        self.0.retain(|(_, p)| *p != pipe);
        mine.into_iter()
            .map(|t| {
                let last = self.holders(&t) == 0;
                (t, last)
            })
            .collect()
    }
    /// Each pipe once per matching prefix, as `for_each_match` passes them.
    fn matches(&self, data: &[u8]) -> Vec<u8> {
        let mut m: Vec<u8> = self
            .0
            .iter()
            .filter(|(t, _)| data.starts_with(t))
            .map(|(_, p)| *p)
            .collect();
        m.sort();
        m
    }
    fn prefixes(&self) -> usize {
        self.0.iter().map(|(t, _)| t).collect::<BTreeSet<_>>().len()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn multi_trie_behaves_like_a_set_of_pairs(ops in prop::collection::vec(op(), 0..60)) {
        let mut trie = MultiTrie::new();
        let mut naive = Naive::default();
        for op in ops {
            match op {
                Op::Add(t, p) => prop_assert_eq!(trie.add(&t, p), naive.add(&t, p)),
                Op::Rm(t, p) => prop_assert_eq!(trie.rm(&t, p), naive.rm(&t, p)),
                Op::RmPipe(p) => {
                    let mut got = Vec::new();
                    trie.rm_pipe(p, |t, last| got.push((t.to_vec(), last)));
                    prop_assert_eq!(got, naive.rm_pipe(p));
                }
                Op::Match(data) => {
                    let mut got = Vec::new();
                    trie.for_each_match(&data, |p| got.push(p));
                    got.sort();
                    prop_assert_eq!(got, naive.matches(&data));
                }
            }
            prop_assert_eq!(trie.num_prefixes(), naive.prefixes());
            // The publisher's fast path: only the empty topic, each pipe once.
            let only_empty = naive.prefixes() == 1 && naive.0.iter().all(|(t, _)| t.is_empty());
            match trie.everything_only() {
                Some(all) => {
                    prop_assert!(only_empty);
                    prop_assert_eq!(all.to_vec(), naive.matches(b"any topic"));
                }
                None => prop_assert!(!only_empty),
            }
            for p in 0..5u8 {
                let mut want: Vec<Vec<u8>> = naive.0.iter().filter(|(_, q)| *q == p).map(|(t, _)| t.clone()).collect();
                want.sort();
                prop_assert_eq!(trie.topics_of(p), want);
            }
        }
        // Emptied, the trie is pruned back to its root.
        for p in 0..5u8 {
            trie.rm_pipe(p, |_, _| {});
        }
        prop_assert_eq!(trie.num_prefixes(), 0);
        prop_assert_eq!(trie.node_count(), 1);
    }

    #[test]
    fn counting_trie_behaves_like_counts(
        ops in prop::collection::vec((any::<bool>(), topic()), 0..80),
        probes in prop::collection::vec(topic(), 0..10),
    ) {
        let mut trie = CountingTrie::new();
        let mut naive: Vec<(Vec<u8>, u64)> = Vec::new();
        for (add, t) in ops {
            let pos = naive.iter().position(|(k, _)| *k == t);
            if add {
                let first = pos.is_none();
                match pos {
                    Some(i) => naive[i].1 += 1,
                    None => naive.push((t.clone(), 1)),
                }
                prop_assert_eq!(trie.add(&t), first);
            } else {
                let last = match pos {
                    Some(i) => {
                        naive[i].1 -= 1;
                        if naive[i].1 == 0 {
                            naive.remove(i);
                            true
                        } else {
                            false
                        }
                    }
                    None => false,
                };
                prop_assert_eq!(trie.rm(&t), last);
            }
            let mut keys: Vec<Vec<u8>> = naive.iter().map(|(k, _)| k.clone()).collect();
            keys.sort();
            prop_assert_eq!(trie.topics(), keys);
            for (k, c) in &naive {
                prop_assert_eq!(trie.count(k), *c);
            }
            for probe in &probes {
                let want = naive.iter().any(|(k, _)| probe.starts_with(k));
                prop_assert_eq!(trie.matches(probe), want);
            }
        }
        for (k, c) in naive {
            for _ in 0..c {
                trie.rm(&k);
            }
        }
        prop_assert!(trie.is_empty());
        prop_assert_eq!(trie.node_count(), 1);
    }

    #[test]
    fn radix_trie_prefix_walk_is_every_prefix_key(
        keys in prop::collection::btree_set(topic(), 0..20),
        data in topic(),
    ) {
        let mut trie = RadixTrie::new();
        for k in &keys {
            *trie.get_or_insert_with(k, || k.clone()) = k.clone();
        }
        let mut got = Vec::new();
        trie.for_each_prefix_of(&data, |v: &Vec<u8>| got.push(v.clone()));
        let want: Vec<Vec<u8>> = keys.iter().filter(|k| data.starts_with(k)).cloned().collect();
        // Shortest first, which for prefixes of one string is byte order.
        prop_assert_eq!(got, want);
        prop_assert_eq!(trie.keys(), keys.iter().cloned().collect::<Vec<_>>());
        for k in &keys {
            prop_assert_eq!(trie.get(k), Some(k));
        }
    }
}

#[test]
fn long_topics_need_no_recursion() {
    // A peer chooses topic lengths: a megabyte topic, then one branching
    // off near its end, must not need a deep stack.
    let long = vec![b'x'; 1 << 20];
    let mut branch = long[..long.len() - 1].to_vec();
    branch.push(b'y');
    let mut t = MultiTrie::new();
    assert!(t.add(&long, 1u32));
    assert!(t.add(&branch, 2));
    let mut hit = Vec::new();
    t.for_each_match(&long, |p| hit.push(p));
    assert_eq!(hit, [1]);
    assert_eq!(t.rm(&long, 1), RmResult::LastValueRemoved);
    assert_eq!(t.node_count(), 2);
}

#[test]
fn many_topics_match_only_their_prefixes() {
    let mut t = MultiTrie::new();
    for i in 0..10_000u32 {
        t.add(format!("topic.{i}.").as_bytes(), i);
    }
    t.add(b"topic.", 99_999);
    let mut hit = Vec::new();
    t.for_each_match(b"topic.4242.body", |p| hit.push(p));
    hit.sort();
    assert_eq!(hit, [4242, 99_999]);
    assert_eq!(t.num_prefixes(), 10_001);
}

#[test]
fn deep_tries_need_no_stack() {
    // Topics "a", "aa", "aaa", ...: a chain as deep as the longest topic.
    // Built, matched, emptied and dropped on a thread with a small stack.
    std::thread::Builder::new()
        .stack_size(128 << 10)
        .spawn(|| {
            let mut t = MultiTrie::new();
            for n in 1..=3000 {
                t.add(&vec![b'a'; n], n as u32);
            }
            let mut hit = 0;
            t.for_each_match(&[b'a'; 3000], |_| hit += 1);
            assert_eq!(hit, 3000);
            for n in (1..=1500).step_by(2) {
                assert_eq!(t.rm(&vec![b'a'; n], n as u32), RmResult::LastValueRemoved);
            }
            let mut c = CountingTrie::new();
            for n in 1..=3000 {
                c.add(&vec![b'b'; n]);
            }
            assert!(c.matches(b"bbb"));
            drop(c);
            drop(t);
        })
        .unwrap()
        .join()
        .unwrap();
}
