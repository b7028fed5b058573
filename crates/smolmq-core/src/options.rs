//! [`SocketOptions`]: the per-socket settings, with libzmq 4.3's defaults.
//!
//! Every field names the libzmq option it stands for. Where libzmq encodes
//! "off" or "forever" as a magic number (`-1`, `0`), the field is an
//! [`Option`] and the magic number is `None`; the table on
//! [`SocketOptions`] gives each mapping. Durations are
//! [`Duration`]s rather than integer milliseconds.

#![deny(unsafe_code)]

use bytes::Bytes;
use core::fmt;
use smolmq_zmtp::MechanismConfig;
use std::time::Duration;

/// The largest duration any option accepts: `i32::MAX` milliseconds (about
/// 24.8 days), the range of libzmq's `int` milliseconds. Keeping to it
/// also means `Instant::now() + option` never overflows.
pub const MAX_DURATION: Duration = Duration::from_millis(i32::MAX as u64);

/// The largest `heartbeat_ttl`: ZMTP carries it in a 16-bit count of
/// deciseconds, so 65535 × 100 ms.
pub const MAX_HEARTBEAT_TTL: Duration = Duration::from_millis(65_535 * 100);

/// The longest routing id, in bytes.
pub const MAX_ROUTING_ID: usize = 255;

/// The `SO_SNDBUF` given to a tcp connection with a loopback peer when
/// [`SocketOptions::sndbuf`] is `None`: 128 KiB (Linux makes it 256 KiB).
///
/// Measured on the project's 2-core VM, PAIR over tcp on loopback, 64 KiB
/// messages: about 25 K msg/s with the automatic sizing (which grows the
/// buffer to megabytes when the sender runs ahead) against 42 K with this
/// one; 128 KiB messages 13 K against 25 K; 64-byte messages unchanged.
/// libzmq, given the same `ZMQ_SNDBUF`, measured as it does without one
/// (about 20 K msg/s at 128 KiB, 27 K at 64 KiB): the automatic sizing
/// costs smolmq's engine, not libzmq's, and why is not established.
pub const LOOPBACK_SNDBUF: u32 = 128 * 1024;

/// The settings of one socket.
///
/// Fields are public: build with struct update syntax from
/// [`SocketOptions::default()`] (libzmq 4.3's defaults) and check with
/// [`SocketOptions::validate`].
///
/// ```
/// use std::time::Duration;
/// use smolmq_core::SocketOptions;
///
/// let opts = SocketOptions {
///     sndhwm: 10,
///     linger: Some(Duration::ZERO),
///     reconnect_ivl_max: Duration::from_secs(5),
///     ..SocketOptions::default()
/// };
/// opts.validate()?;
/// // Exponential backoff: 100 ms, 200 ms, 400 ms, ... up to 5 s.
/// assert_eq!(opts.reconnect_delay(2), Some(Duration::from_millis(400)));
/// assert_eq!(opts.reconnect_delay(20), Some(Duration::from_secs(5)));
/// # Ok::<(), smolmq_core::OptionError>(())
/// ```
///
/// # Mapping to libzmq
///
/// | field | libzmq option | default | libzmq special values |
/// |---|---|---|---|
/// | `sndhwm`, `rcvhwm` | `ZMQ_SNDHWM`, `ZMQ_RCVHWM` | 1000 | 0 = unlimited (same here) |
/// | `linger` | `ZMQ_LINGER` | `None` | -1 = forever → `None`; 0 → `Some(ZERO)` |
/// | `reconnect_ivl` | `ZMQ_RECONNECT_IVL` | 100 ms | -1 = never reconnect → `None` |
/// | `reconnect_ivl_max` | `ZMQ_RECONNECT_IVL_MAX` | 0 | 0 = no backoff (same here) |
/// | `connect_timeout` | `ZMQ_CONNECT_TIMEOUT` | `None` | 0 = OS default → `None` |
/// | `handshake_ivl` | `ZMQ_HANDSHAKE_IVL` | 30 s | 0 = no limit → `None` |
/// | `heartbeat_ivl` | `ZMQ_HEARTBEAT_IVL` | `None` | 0 = off → `None` |
/// | `heartbeat_ttl` | `ZMQ_HEARTBEAT_TTL` | `None` | 0 = none sent → `None` |
/// | `heartbeat_timeout` | `ZMQ_HEARTBEAT_TIMEOUT` | `None` | unset = `heartbeat_ivl` → `None` |
/// | `maxmsgsize` | `ZMQ_MAXMSGSIZE` | `None` | -1 = unlimited → `None` |
/// | `sndtimeo`, `rcvtimeo` | `ZMQ_SNDTIMEO`, `ZMQ_RCVTIMEO` | `None` | -1 = forever → `None`; 0 → `Some(ZERO)` |
/// | `tcp_nodelay` | (always on in libzmq) | `true` | |
/// | `tcp_keepalive` | `ZMQ_TCP_KEEPALIVE` | `OsDefault` | -1 / 0 / 1 → [`TcpKeepalive`] |
/// | `tcp_keepalive_idle` | `ZMQ_TCP_KEEPALIVE_IDLE` | `None` | -1 = OS default → `None` |
/// | `tcp_keepalive_cnt` | `ZMQ_TCP_KEEPALIVE_CNT` | `None` | -1 = OS default → `None` |
/// | `tcp_keepalive_intvl` | `ZMQ_TCP_KEEPALIVE_INTVL` | `None` | -1 = OS default → `None` |
/// | `sndbuf` | `ZMQ_SNDBUF` | `None` | -1 = OS default → `None` (but see the field: loopback tcp) |
/// | `rcvbuf` | `ZMQ_RCVBUF` | `None` | -1 = OS default → `None` |
/// | `routing_id` | `ZMQ_ROUTING_ID` | `None` | empty = none → `None` |
/// | `ipv6` | `ZMQ_IPV6` | `false` | |
/// | `immediate` | `ZMQ_IMMEDIATE` | `false` | |
/// | `backlog` | `ZMQ_BACKLOG` | 100 | |
/// | `mechanism` | `ZMQ_PLAIN_SERVER`, `ZMQ_PLAIN_USERNAME`, `ZMQ_PLAIN_PASSWORD` | `Null` | see the field |
/// | `reconnect_jitter` | (libzmq adds its own) | 0 | percent, 0 to 100 |
/// | `reconnect_max_attempts` | (none) | `None` | `None` = keep trying |
/// | `idle_timeout` | (none) | `None` | `None` = never |
/// | `extensions` | (transport options: TLS, ...) | empty | |
///
/// Where `None` means "off", `Some(Duration::ZERO)` is refused by
/// [`validate`](SocketOptions::validate) rather than guessed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `ZMQ_SNDHWM`: the most messages queued for sending to one peer
    /// before sends block (or fail, or drop, per pattern). 0 means no
    /// limit: nothing is refused or dropped, though a blocking send of a
    /// socket with one peer, far ahead of it, waits a little for it (see
    /// [`Socket::send_blocking`](crate::Socket::send_blocking), "Pacing").
    pub sndhwm: usize,
    /// `ZMQ_RCVHWM`: the most messages queued as received from one peer
    /// before reading from it pauses. 0 means no limit.
    pub rcvhwm: usize,
    /// `ZMQ_LINGER`: how long, after close, unsent messages may still be
    /// sent before they are dropped. `None` waits forever (libzmq's -1, the
    /// default); `Some(Duration::ZERO)` drops them at once.
    pub linger: Option<Duration>,
    /// `ZMQ_RECONNECT_IVL`: the wait before reconnecting a lost or failed
    /// connection (the first wait of the backoff). `None` never reconnects
    /// (libzmq's -1). Default 100 ms.
    pub reconnect_ivl: Option<Duration>,
    /// `ZMQ_RECONNECT_IVL_MAX`: the ceiling of the exponential backoff.
    /// Zero (the default), or anything not above `reconnect_ivl`, means no
    /// backoff: every wait is `reconnect_ivl`. See
    /// [`reconnect_delay`](SocketOptions::reconnect_delay).
    pub reconnect_ivl_max: Duration,
    /// `ZMQ_CONNECT_TIMEOUT`: how long one connection attempt may take
    /// before it is abandoned (and retried after the reconnect delay).
    /// `None` leaves it to the OS (libzmq's 0, the default).
    pub connect_timeout: Option<Duration>,
    /// `ZMQ_HANDSHAKE_IVL`: how long a new connection may take to finish
    /// the protocol handshake before it is dropped. `None` means no limit
    /// (libzmq's 0). Default 30 s.
    pub handshake_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_IVL`: send a PING after this long without traffic
    /// from the peer. `None` (the default) sends none.
    pub heartbeat_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL`: the time-to-live sent in each PING, after which
    /// the peer may drop us if it hears nothing. Carried in whole
    /// deciseconds (truncated), so from 100 ms up to
    /// [`MAX_HEARTBEAT_TTL`]. `None` (the default) sends a TTL of 0: none.
    pub heartbeat_ttl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TIMEOUT`: drop the connection if nothing arrives this
    /// long after a PING was sent. `None` (the default) uses
    /// `heartbeat_ivl`, as libzmq does.
    pub heartbeat_timeout: Option<Duration>,
    /// `ZMQ_MAXMSGSIZE`: the largest message, in bytes over all its frames,
    /// accepted from a peer; a peer that sends a larger one is
    /// disconnected. `None` (the default) means no limit (libzmq's -1).
    pub maxmsgsize: Option<u64>,
    /// `ZMQ_SNDTIMEO`: how long a blocking send waits before failing with
    /// [`Error::Timeout`](crate::Error::Timeout). `None` (the default)
    /// waits forever; `Some(Duration::ZERO)` makes it non-blocking.
    pub sndtimeo: Option<Duration>,
    /// `ZMQ_RCVTIMEO`: how long a blocking receive waits before failing
    /// with [`Error::Timeout`](crate::Error::Timeout). `None` (the default)
    /// waits forever; `Some(Duration::ZERO)` makes it non-blocking.
    pub rcvtimeo: Option<Duration>,
    /// `TCP_NODELAY` on tcp connections (libzmq always sets it; here it can
    /// be turned off). Default `true`.
    pub tcp_nodelay: bool,
    /// `ZMQ_TCP_KEEPALIVE`: whether to set `SO_KEEPALIVE` on tcp
    /// connections. Default [`TcpKeepalive::OsDefault`].
    pub tcp_keepalive: TcpKeepalive,
    /// `ZMQ_TCP_KEEPALIVE_IDLE`: idle time before the first keepalive probe
    /// (`TCP_KEEPIDLE`), in whole seconds. `None` (the default) leaves the
    /// OS default.
    pub tcp_keepalive_idle: Option<Duration>,
    /// `ZMQ_TCP_KEEPALIVE_CNT`: unanswered probes before the connection is
    /// dropped (`TCP_KEEPCNT`). `None` (the default) leaves the OS default.
    pub tcp_keepalive_cnt: Option<u32>,
    /// `ZMQ_TCP_KEEPALIVE_INTVL`: time between keepalive probes
    /// (`TCP_KEEPINTVL`), in whole seconds. `None` (the default) leaves the
    /// OS default.
    pub tcp_keepalive_intvl: Option<Duration>,
    /// `ZMQ_SNDBUF`: the kernel send buffer (`SO_SNDBUF`) of each tcp
    /// (tls, ws and wss included) and ipc connection, in bytes (Linux doubles the value it is given, for
    /// its bookkeeping, and caps it at `net.core.wmem_max`). At least 1,
    /// at most `i32::MAX`.
    ///
    /// `None` (the default) leaves the system's automatic sizing, with one
    /// exception: a tcp connection whose peer is a loopback address
    /// (127.0.0.0/8, `::1`) gets [`LOOPBACK_SNDBUF`]. On loopback nothing
    /// is gained by bytes in flight beyond a few large messages, and the
    /// automatic sizing lets megabytes queue, which the kernel then copies
    /// cache-cold (see the constant for what it measured). Set a value to
    /// choose it for loopback too.
    pub sndbuf: Option<u32>,
    /// `ZMQ_RCVBUF`: the kernel receive buffer (`SO_RCVBUF`) of each tcp
    /// and ipc connection, in bytes (doubled and capped by the kernel as
    /// `sndbuf` is). At least 1, at most `i32::MAX`. `None` (the default)
    /// leaves the system's automatic sizing.
    pub rcvbuf: Option<u32>,
    /// `ZMQ_ROUTING_ID`: the identity announced to peers in the handshake
    /// (used by ROUTER peers to address us): 1 to 255 bytes, the first not
    /// zero (ids starting with a zero byte are reserved for generated ones).
    /// `None` (the default) announces none.
    pub routing_id: Option<Bytes>,
    /// `ZMQ_IPV6`: on tcp, let `*` and names resolve to IPv6 as well as
    /// IPv4. Default `false` (IPv4 only, as libzmq).
    pub ipv6: bool,
    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections, not
    /// to ones still being made. Default `false`.
    pub immediate: bool,
    /// `ZMQ_BACKLOG`: the listen backlog of tcp and ipc listeners. At most
    /// `i32::MAX`. Default 100.
    pub backlog: u32,
    /// The security mechanism and this socket's role in it
    /// (`ZMQ_MECHANISM`): NULL (the default), a PLAIN client
    /// ([`MechanismConfig::plain_client`], libzmq's `ZMQ_PLAIN_USERNAME` and
    /// `ZMQ_PLAIN_PASSWORD`) or a PLAIN server
    /// ([`MechanismConfig::plain_server`], libzmq's `ZMQ_PLAIN_SERVER`).
    ///
    /// A PLAIN server checks each client's credentials with the
    /// authenticator it is given, in the handshake, and refuses the client
    /// with an ERROR command when it returns `Err`; libzmq asks a ZAP
    /// handler instead (and, with no handler, accepts every client:
    /// `plain_server(|_| Ok(()))` does the same). Both sides must use the
    /// same mechanism. CURVE and GSSAPI are not implemented.
    pub mechanism: MechanismConfig,
    /// Random jitter on every reconnect wait, in percent (0 to 100): each
    /// wait given by [`reconnect_delay`](SocketOptions::reconnect_delay) is
    /// shortened by a random fraction of up to this share (see
    /// [`jittered`](SocketOptions::jittered)), so that many clients cut off
    /// at once do not all come back at the same instant. Default 0: none.
    pub reconnect_jitter: u8,
    /// The most connection attempts in a row that may fail (connect refused
    /// or timed out, transport handshake failed) before a connecting socket
    /// gives up on the endpoint. It then reports
    /// [`SocketEvent::ConnectGaveUp`](crate::SocketEvent::ConnectGaveUp),
    /// drops the messages queued for that endpoint, and, once it has no
    /// peer and no other endpoint left, sends and receives fail with
    /// [`Error::ConnectGaveUp`](crate::Error::ConnectGaveUp) instead of
    /// waiting. The count restarts after each connection that succeeds.
    /// `None` (the default) keeps trying forever, as libzmq; at least 1.
    pub reconnect_max_attempts: Option<u32>,
    /// Close a connection when nothing has arrived from its peer for this
    /// long (reported as `SocketEvent::Disconnected` with an idle timeout
    /// as the reason; a connecting socket then reconnects). Time during
    /// which the socket itself holds the peer back (its RCVHWM is reached)
    /// does not count. Applies to ZMTP and JSON-lines endpoints alike.
    /// `None` (the default): never.
    pub idle_timeout: Option<Duration>,
    /// Options of a transport's own (TLS certificates, ...), one value per
    /// type, read by the transport at bind, connect and per connection:
    /// see [`Extensions`](crate::Extensions). Empty by default; not checked
    /// by [`validate`](SocketOptions::validate) (the transport checks its
    /// own when it uses them).
    pub extensions: crate::Extensions,
}

impl Default for SocketOptions {
    /// libzmq 4.3's defaults (see the table on [`SocketOptions`]).
    fn default() -> SocketOptions {
        SocketOptions {
            sndhwm: 1000,
            rcvhwm: 1000,
            linger: None,
            reconnect_ivl: Some(Duration::from_millis(100)),
            reconnect_ivl_max: Duration::ZERO,
            connect_timeout: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            maxmsgsize: None,
            sndtimeo: None,
            rcvtimeo: None,
            tcp_nodelay: true,
            tcp_keepalive: TcpKeepalive::OsDefault,
            tcp_keepalive_idle: None,
            tcp_keepalive_cnt: None,
            tcp_keepalive_intvl: None,
            sndbuf: None,
            rcvbuf: None,
            routing_id: None,
            ipv6: false,
            immediate: false,
            backlog: 100,
            mechanism: MechanismConfig::Null,
            reconnect_jitter: 0,
            reconnect_max_attempts: None,
            idle_timeout: None,
            extensions: crate::Extensions::default(),
        }
    }
}

impl SocketOptions {
    /// Checks every field; the error names the first bad one and says why.
    ///
    /// * every duration is at most [`MAX_DURATION`] (`i32::MAX` ms);
    /// * `reconnect_ivl`, `connect_timeout`, `handshake_ivl`,
    ///   `heartbeat_ivl`, `heartbeat_ttl` and `heartbeat_timeout` are not
    ///   `Some(Duration::ZERO)` (their "off" is `None`);
    /// * `heartbeat_ttl` is from 100 ms to [`MAX_HEARTBEAT_TTL`];
    /// * `tcp_keepalive_idle` and `tcp_keepalive_intvl` are whole seconds,
    ///   at least 1; `tcp_keepalive_cnt` is from 1 to `i32::MAX` (the OS may
    ///   have lower limits, reported when the option is applied);
    /// * `sndbuf` and `rcvbuf` are from 1 to `i32::MAX`;
    /// * `routing_id` is 1 to 255 bytes and does not start with a zero byte;
    /// * `backlog` is at most `i32::MAX`;
    /// * a PLAIN client's user name and password are at most 255 bytes;
    /// * `reconnect_jitter` is at most 100, `reconnect_max_attempts` at
    ///   least 1, `idle_timeout` not `Some(Duration::ZERO)`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smolmq_core::{OptionError, SocketOptions};
    ///
    /// let opts = SocketOptions {
    ///     reconnect_ivl: Some(Duration::ZERO),
    ///     ..SocketOptions::default()
    /// };
    /// assert_eq!(
    ///     opts.validate(),
    ///     Err(OptionError::ZeroDuration { option: "reconnect_ivl" })
    /// );
    /// ```
    pub fn validate(&self) -> Result<(), OptionError> {
        check_duration("linger", self.linger)?;
        check_nonzero("reconnect_ivl", self.reconnect_ivl)?;
        check_duration("reconnect_ivl_max", Some(self.reconnect_ivl_max))?;
        check_nonzero("connect_timeout", self.connect_timeout)?;
        check_nonzero("handshake_ivl", self.handshake_ivl)?;
        check_nonzero("heartbeat_ivl", self.heartbeat_ivl)?;
        check_nonzero("heartbeat_ttl", self.heartbeat_ttl)?;
        if let Some(ttl) = self.heartbeat_ttl {
            check_range("heartbeat_ttl", ttl, HEARTBEAT_TTL_MIN, MAX_HEARTBEAT_TTL)?;
        }
        check_nonzero("heartbeat_timeout", self.heartbeat_timeout)?;
        check_duration("sndtimeo", self.sndtimeo)?;
        check_duration("rcvtimeo", self.rcvtimeo)?;
        check_keepalive_secs("tcp_keepalive_idle", self.tcp_keepalive_idle)?;
        check_keepalive_secs("tcp_keepalive_intvl", self.tcp_keepalive_intvl)?;
        if let Some(cnt) = self.tcp_keepalive_cnt {
            check_count("tcp_keepalive_cnt", u64::from(cnt), 1, I32_MAX)?;
        }
        for (option, size) in [("sndbuf", self.sndbuf), ("rcvbuf", self.rcvbuf)] {
            if let Some(size) = size {
                check_count(option, u64::from(size), 1, I32_MAX)?;
            }
        }
        if let Some(id) = &self.routing_id {
            if id.is_empty() || id.len() > MAX_ROUTING_ID {
                return Err(OptionError::RoutingIdLength { len: id.len() });
            }
            if id[0] == 0 {
                return Err(OptionError::RoutingIdReserved);
            }
        }
        check_count("backlog", u64::from(self.backlog), 0, I32_MAX)?;
        if let MechanismConfig::PlainClient { username, password } = &self.mechanism {
            for (field, value) in [("user name", username), ("password", password)] {
                if value.len() > MAX_PLAIN_CREDENTIAL {
                    return Err(OptionError::CredentialTooLong {
                        field,
                        len: value.len(),
                    });
                }
            }
        }
        check_count("reconnect_jitter", u64::from(self.reconnect_jitter), 0, 100)?;
        if let Some(n) = self.reconnect_max_attempts {
            check_count(
                "reconnect_max_attempts",
                u64::from(n),
                1,
                u64::from(u32::MAX),
            )?;
        }
        check_nonzero("idle_timeout", self.idle_timeout)?;
        Ok(())
    }

    /// `delay` with `reconnect_jitter` applied: shortened by
    /// `reconnect_jitter` percent times `random / u32::MAX`, so that a
    /// uniformly random `random` gives a wait uniformly spread over
    /// `[delay × (1 − jitter), delay]` (never above the backoff's ceiling).
    ///
    /// ```
    /// use std::time::Duration;
    /// use smolmq_core::SocketOptions;
    ///
    /// let opts = SocketOptions { reconnect_jitter: 50, ..SocketOptions::default() };
    /// let d = Duration::from_millis(400);
    /// assert_eq!(opts.jittered(d, 0), d);
    /// assert_eq!(opts.jittered(d, u32::MAX), Duration::from_millis(200));
    /// ```
    pub fn jittered(&self, delay: Duration, random: u32) -> Duration {
        let jitter = u64::from(self.reconnect_jitter.min(100));
        // Parts per (100 × u32::MAX) to take off, in 128 bits: no overflow.
        let off = u128::from(jitter) * u128::from(random);
        let scale = 100 * u128::from(u32::MAX);
        let nanos = delay.as_nanos();
        let cut = nanos * off / scale;
        Duration::from_nanos(u64::try_from(nanos - cut).unwrap_or(u64::MAX))
    }

    /// The wait before reconnect attempt number `attempt` (0 for the first
    /// attempt after a connection was lost or failed, 1 after that attempt
    /// failed too, and so on), or `None` if reconnecting is off
    /// (`reconnect_ivl` is `None`).
    ///
    /// As libzmq: if `reconnect_ivl_max` is above `reconnect_ivl`, the wait
    /// doubles from `reconnect_ivl` with each attempt up to
    /// `reconnect_ivl_max`; otherwise it is always `reconnect_ivl`. Unlike
    /// libzmq, no random jitter is added here: a connecting socket applies
    /// `reconnect_jitter` to it ([`jittered`](SocketOptions::jittered)).
    /// The count restarts at 0 once a connection succeeds.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smolmq_core::SocketOptions;
    ///
    /// let ms = Duration::from_millis;
    /// let opts = SocketOptions {
    ///     reconnect_ivl: Some(ms(100)),
    ///     reconnect_ivl_max: ms(1000),
    ///     ..SocketOptions::default()
    /// };
    /// let waits: Vec<_> = (0..6).map(|n| opts.reconnect_delay(n).unwrap()).collect();
    /// assert_eq!(waits, [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
    /// ```
    pub fn reconnect_delay(&self, attempt: u32) -> Option<Duration> {
        let ivl = self.reconnect_ivl?;
        let max = self.reconnect_ivl_max;
        if max <= ivl {
            return Some(ivl);
        }
        // ivl * 2^attempt, saturating: past 2^31 the ceiling is reached
        // for any non-zero interval anyway.
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        Some(ivl.checked_mul(factor).map_or(max, |wait| wait.min(max)))
    }

    /// The heartbeat timeout in force: `heartbeat_timeout`, or
    /// `heartbeat_ivl` when that is unset (as libzmq).
    pub fn effective_heartbeat_timeout(&self) -> Option<Duration> {
        self.heartbeat_timeout.or(self.heartbeat_ivl)
    }

    /// `heartbeat_ttl` as ZMTP carries it in a PING: whole deciseconds,
    /// truncated, saturating at 65535; 0 when `None`.
    pub fn heartbeat_ttl_deciseconds(&self) -> u16 {
        self.heartbeat_ttl.map_or(0, |ttl| {
            u16::try_from(ttl.as_millis() / 100).unwrap_or(u16::MAX)
        })
    }
}

/// `ZMQ_TCP_KEEPALIVE`: whether tcp connections set `SO_KEEPALIVE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TcpKeepalive {
    /// Leave the OS default (libzmq's -1). The default.
    #[default]
    OsDefault,
    /// Turn keepalive off (libzmq's 0).
    Off,
    /// Turn keepalive on (libzmq's 1), with the `tcp_keepalive_*` settings.
    On,
}

/// The smallest `heartbeat_ttl`: one decisecond, the unit ZMTP carries.
const HEARTBEAT_TTL_MIN: Duration = Duration::from_millis(100);
/// The longest PLAIN user name or password, in bytes (ZMTP carries each
/// after a one-byte length).
const MAX_PLAIN_CREDENTIAL: usize = 255;
/// `i32::MAX`, widened.
const I32_MAX: u64 = i32::MAX as u64;

/// A duration is at most [`MAX_DURATION`].
fn check_duration(option: &'static str, value: Option<Duration>) -> Result<(), OptionError> {
    match value {
        Some(value) => check_range(option, value, Duration::ZERO, MAX_DURATION),
        None => Ok(()),
    }
}

/// A duration whose "off" is `None` is not zero, and at most
/// [`MAX_DURATION`].
fn check_nonzero(option: &'static str, value: Option<Duration>) -> Result<(), OptionError> {
    if value == Some(Duration::ZERO) {
        return Err(OptionError::ZeroDuration { option });
    }
    check_duration(option, value)
}

/// A duration lies in `min..=max`.
fn check_range(
    option: &'static str,
    value: Duration,
    min: Duration,
    max: Duration,
) -> Result<(), OptionError> {
    if value < min || value > max {
        return Err(OptionError::DurationOutOfRange {
            option,
            value,
            min,
            max,
        });
    }
    Ok(())
}

/// A keepalive time is whole seconds, from 1 s to `i32::MAX` s.
fn check_keepalive_secs(option: &'static str, value: Option<Duration>) -> Result<(), OptionError> {
    let Some(value) = value else {
        return Ok(());
    };
    if value.subsec_nanos() != 0 {
        return Err(OptionError::NotWholeSeconds { option, value });
    }
    check_range(
        option,
        value,
        Duration::from_secs(1),
        Duration::from_secs(I32_MAX),
    )
}

/// A count lies in `min..=max`.
fn check_count(option: &'static str, value: u64, min: u64, max: u64) -> Result<(), OptionError> {
    if value < min || value > max {
        return Err(OptionError::CountOutOfRange {
            option,
            value,
            min,
            max,
        });
    }
    Ok(())
}

/// Why [`SocketOptions::validate`] refused a setting.
///
/// `option` fields hold the [`SocketOptions`] field name.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// `Some(Duration::ZERO)` for an option whose "off" is `None`.
    ZeroDuration {
        /// The field.
        option: &'static str,
    },
    /// A duration outside its range.
    DurationOutOfRange {
        /// The field.
        option: &'static str,
        /// The value given.
        value: Duration,
        /// The smallest value accepted.
        min: Duration,
        /// The largest value accepted.
        max: Duration,
    },
    /// A keepalive time with a fraction of a second (the OS takes seconds).
    NotWholeSeconds {
        /// The field.
        option: &'static str,
        /// The value given.
        value: Duration,
    },
    /// A count outside its range.
    CountOutOfRange {
        /// The field.
        option: &'static str,
        /// The value given.
        value: u64,
        /// The smallest value accepted.
        min: u64,
        /// The largest value accepted.
        max: u64,
    },
    /// A routing id of 0 or more than 255 bytes.
    RoutingIdLength {
        /// Its length.
        len: usize,
    },
    /// A routing id starting with a zero byte (reserved for generated ids).
    RoutingIdReserved,
    /// A PLAIN user name or password of more than 255 bytes.
    CredentialTooLong {
        /// `"user name"` or `"password"`.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionError::ZeroDuration { option } => {
                write!(f, "`{option}` is Some(0): use None to turn it off")
            }
            OptionError::DurationOutOfRange {
                option,
                value,
                min,
                max,
            } => write!(
                f,
                "`{option}` is {value:?}, outside the accepted range {min:?} to {max:?}"
            ),
            OptionError::NotWholeSeconds { option, value } => write!(
                f,
                "`{option}` is {value:?}: it must be a whole number of seconds"
            ),
            OptionError::CountOutOfRange {
                option,
                value,
                min,
                max,
            } => write!(
                f,
                "`{option}` is {value}, outside the accepted range {min} to {max}"
            ),
            OptionError::RoutingIdLength { len } => write!(
                f,
                "`routing_id` is {len} bytes long: it must be 1 to {MAX_ROUTING_ID} bytes"
            ),
            OptionError::RoutingIdReserved => f.write_str(
                "`routing_id` starts with a zero byte, which is reserved for generated ids",
            ),
            OptionError::CredentialTooLong { field, len } => write!(
                f,
                "the PLAIN {field} in `mechanism` is {len} bytes long: it must be at most \
                 {MAX_PLAIN_CREDENTIAL} bytes"
            ),
        }
    }
}

impl std::error::Error for OptionError {}

/// Compile-time checks: options are shared with I/O threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SocketOptions>();
    assert_send_sync::<OptionError>();
};
