//! DEALER, ROUTER, REQ and REP sockets for smolmq (RFC 28/REQREP): round robin, routing ids, envelopes.
//!
//! (Being written.)
