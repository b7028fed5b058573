//! PUB, SUB, XPUB and XSUB sockets for smolmq (RFC 29/PUBSUB): prefix subscriptions on a trie, resent after reconnects.
//!
//! (Being written.)
