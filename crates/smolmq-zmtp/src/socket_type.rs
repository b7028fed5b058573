//! Socket types, their names on the wire and the compatibility table of
//! RFC 37.

use core::fmt;
use core::str::FromStr;

/// A ZeroMQ socket type, as announced in the `Socket-Type` metadata
/// property of READY (NULL) or INITIATE / READY (PLAIN).
///
/// The classic types (PAIR to XSUB) are those of ZMTP 3.0 and 3.1; the
/// thread-safe draft types of RFC 37 (CLIENT to CHANNEL) are recognised too
/// so that a peer announcing one is refused with a clear reason rather than
/// as an unknown name.
///
/// ```
/// use smolmq_zmtp::SocketType;
///
/// assert_eq!(SocketType::Dealer.as_str(), "DEALER");
/// assert_eq!("ROUTER".parse::<SocketType>(), Ok(SocketType::Router));
/// assert!(SocketType::Dealer.is_compatible_with(SocketType::Router));
/// assert!(!SocketType::Pub.is_compatible_with(SocketType::Pub));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SocketType {
    /// `PAIR`: exclusive pair.
    Pair,
    /// `PUB`: publisher.
    Pub,
    /// `SUB`: subscriber.
    Sub,
    /// `REQ`: requester.
    Req,
    /// `REP`: replier.
    Rep,
    /// `DEALER`: asynchronous requester / replier.
    Dealer,
    /// `ROUTER`: addressed asynchronous replier.
    Router,
    /// `PULL`: pipeline sink.
    Pull,
    /// `PUSH`: pipeline source.
    Push,
    /// `XPUB`: publisher that sees subscriptions.
    XPub,
    /// `XSUB`: subscriber that sends raw subscriptions.
    XSub,
    /// `CLIENT` (draft, thread-safe).
    Client,
    /// `SERVER` (draft, thread-safe).
    Server,
    /// `RADIO` (draft, thread-safe).
    Radio,
    /// `DISH` (draft, thread-safe).
    Dish,
    /// `SCATTER` (draft, thread-safe).
    Scatter,
    /// `GATHER` (draft, thread-safe).
    Gather,
    /// `PEER` (draft, thread-safe).
    Peer,
    /// `CHANNEL` (draft, thread-safe).
    Channel,
}

impl SocketType {
    /// Every socket type, in declaration order.
    pub const ALL: [SocketType; 19] = [
        SocketType::Pair,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::Req,
        SocketType::Rep,
        SocketType::Dealer,
        SocketType::Router,
        SocketType::Pull,
        SocketType::Push,
        SocketType::XPub,
        SocketType::XSub,
        SocketType::Client,
        SocketType::Server,
        SocketType::Radio,
        SocketType::Dish,
        SocketType::Scatter,
        SocketType::Gather,
        SocketType::Peer,
        SocketType::Channel,
    ];

    /// The name sent in the `Socket-Type` property (upper case, as in the
    /// RFC), e.g. `"DEALER"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SocketType::Pair => "PAIR",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pull => "PULL",
            SocketType::Push => "PUSH",
            SocketType::XPub => "XPUB",
            SocketType::XSub => "XSUB",
            SocketType::Client => "CLIENT",
            SocketType::Server => "SERVER",
            SocketType::Radio => "RADIO",
            SocketType::Dish => "DISH",
            SocketType::Scatter => "SCATTER",
            SocketType::Gather => "GATHER",
            SocketType::Peer => "PEER",
            SocketType::Channel => "CHANNEL",
        }
    }

    /// The name as bytes, e.g. `b"DEALER"`.
    pub const fn as_bytes(self) -> &'static [u8] {
        self.as_str().as_bytes()
    }

    /// Parses the value of a `Socket-Type` property.
    ///
    /// Names are compared without regard to ASCII case (the RFC gives them
    /// as ABNF literals, which are case-insensitive); every peer in practice
    /// sends upper case.
    ///
    /// ```
    /// use smolmq_zmtp::SocketType;
    ///
    /// assert_eq!(SocketType::from_bytes(b"XPUB"), Ok(SocketType::XPub));
    /// let err = SocketType::from_bytes(b"STREAM").unwrap_err();
    /// assert_eq!(err.to_string(), "unknown socket type \"STREAM\"");
    /// ```
    pub fn from_bytes(name: &[u8]) -> Result<SocketType, UnknownSocketType> {
        SocketType::ALL
            .iter()
            .copied()
            .find(|t| t.as_bytes().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownSocketType::new(name))
    }

    /// Whether a socket of this type may talk to a peer of type `peer`:
    /// the table of RFC 37 ("The Socket-Type Property"). The relation is
    /// symmetric.
    ///
    /// | type | compatible peers |
    /// |---|---|
    /// | REQ | REP, ROUTER |
    /// | REP | REQ, DEALER |
    /// | DEALER | REP, DEALER, ROUTER |
    /// | ROUTER | REQ, DEALER, ROUTER |
    /// | PUB, XPUB | SUB, XSUB |
    /// | SUB, XSUB | PUB, XPUB |
    /// | PUSH | PULL |
    /// | PULL | PUSH |
    /// | PAIR | PAIR |
    /// | CLIENT | SERVER (and back) |
    /// | RADIO | DISH (and back) |
    /// | SCATTER | GATHER (and back) |
    /// | PEER | PEER |
    /// | CHANNEL | CHANNEL |
    pub const fn is_compatible_with(self, peer: SocketType) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pub | XPub, Sub | XSub)
                | (Sub | XSub, Pub | XPub)
                | (Push, Pull)
                | (Pull, Push)
                | (Pair, Pair)
                | (Client, Server)
                | (Server, Client)
                | (Radio, Dish)
                | (Dish, Radio)
                | (Scatter, Gather)
                | (Gather, Scatter)
                | (Peer, Peer)
                | (Channel, Channel)
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SocketType {
    type Err = UnknownSocketType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SocketType::from_bytes(s.as_bytes())
    }
}

/// The error for a `Socket-Type` value that names no known socket type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSocketType {
    /// The name as received (at most the first 64 bytes are kept).
    name: Vec<u8>,
    /// Length of the name as received.
    len: usize,
}

impl UnknownSocketType {
    /// Longest prefix of the name kept for the message.
    const KEEP: usize = 64;

    /// Records an unknown name.
    fn new(name: &[u8]) -> Self {
        UnknownSocketType {
            name: name[..name.len().min(Self::KEEP)].to_vec(),
            len: name.len(),
        }
    }

    /// The name as received (truncated to its first 64 bytes).
    pub fn name(&self) -> &[u8] {
        &self.name
    }
}

impl fmt::Display for UnknownSocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown socket type \"{}\"", self.name.escape_ascii())?;
        if self.len > self.name.len() {
            write!(f, " (truncated, {} bytes in all)", self.len)?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownSocketType {}
