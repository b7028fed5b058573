//! PUSH and PULL sockets for smolmq (RFC 30/PIPELINE): load-balanced out, fair-queued in.
//!
//! (Being written.)
