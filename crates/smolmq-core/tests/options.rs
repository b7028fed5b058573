//! `SocketOptions`: libzmq's defaults, validation of every bad value, and
//! the reconnect backoff.

use bytes::Bytes;
use proptest::prelude::*;
use smolmq_core::{
    MechanismConfig, OptionError, SocketOptions, TcpKeepalive, MAX_DURATION, MAX_HEARTBEAT_TTL,
    MAX_ROUTING_ID,
};
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[test]
fn defaults_are_libzmq_4_3() {
    let o = SocketOptions::default();
    assert_eq!(o.sndhwm, 1000);
    assert_eq!(o.rcvhwm, 1000);
    assert_eq!(o.linger, None, "ZMQ_LINGER -1: forever");
    assert_eq!(o.reconnect_ivl, Some(ms(100)));
    assert_eq!(o.reconnect_ivl_max, Duration::ZERO);
    assert_eq!(o.connect_timeout, None);
    assert_eq!(o.handshake_ivl, Some(secs(30)));
    assert_eq!(o.heartbeat_ivl, None);
    assert_eq!(o.heartbeat_ttl, None);
    assert_eq!(o.heartbeat_timeout, None);
    assert_eq!(o.maxmsgsize, None);
    assert_eq!(o.sndtimeo, None);
    assert_eq!(o.rcvtimeo, None);
    assert!(o.tcp_nodelay);
    assert_eq!(o.tcp_keepalive, TcpKeepalive::OsDefault);
    assert_eq!(TcpKeepalive::default(), TcpKeepalive::OsDefault);
    assert_eq!(o.tcp_keepalive_idle, None);
    assert_eq!(o.tcp_keepalive_cnt, None);
    assert_eq!(o.tcp_keepalive_intvl, None);
    assert_eq!(o.routing_id, None);
    assert!(!o.ipv6);
    assert!(!o.immediate);
    assert_eq!(o.backlog, 100);
    assert_eq!(o.mechanism, MechanismConfig::Null);
    assert_eq!(o.reconnect_jitter, 0);
    assert_eq!(o.reconnect_max_attempts, None);
    assert_eq!(o.idle_timeout, None);
    assert_eq!(o.validate(), Ok(()));
}

#[test]
fn meaningful_values_validate() {
    let o = SocketOptions {
        sndhwm: 0,
        rcvhwm: 0,
        linger: Some(Duration::ZERO),
        reconnect_ivl: None,
        reconnect_ivl_max: Duration::ZERO,
        connect_timeout: Some(ms(1)),
        handshake_ivl: None,
        heartbeat_ivl: Some(ms(1)),
        heartbeat_ttl: Some(ms(100)),
        heartbeat_timeout: Some(MAX_DURATION),
        maxmsgsize: Some(0),
        sndtimeo: Some(Duration::ZERO),
        rcvtimeo: Some(MAX_DURATION),
        tcp_nodelay: false,
        tcp_keepalive: TcpKeepalive::On,
        tcp_keepalive_idle: Some(secs(1)),
        tcp_keepalive_cnt: Some(1),
        tcp_keepalive_intvl: Some(secs(i32::MAX as u64)),
        sndbuf: Some(1),
        rcvbuf: Some(i32::MAX as u32),
        routing_id: Some(Bytes::from(vec![1u8; MAX_ROUTING_ID])),
        ipv6: true,
        immediate: true,
        backlog: 0,
        mechanism: MechanismConfig::plain_client("user", ""),
        reconnect_jitter: 100,
        reconnect_max_attempts: Some(1),
        idle_timeout: Some(ms(1)),
        extensions: Default::default(),
    };
    assert_eq!(o.validate(), Ok(()));
    let o = SocketOptions {
        heartbeat_ttl: Some(MAX_HEARTBEAT_TTL),
        tcp_keepalive_cnt: Some(i32::MAX as u32),
        backlog: i32::MAX as u32,
        routing_id: Some(Bytes::from_static(b"A")),
        ..SocketOptions::default()
    };
    assert_eq!(o.validate(), Ok(()));
}

#[test]
fn zero_is_refused_where_none_means_off() {
    type Set = fn(&mut SocketOptions);
    let cases: [(&str, Set); 7] = [
        ("reconnect_ivl", |o| o.reconnect_ivl = Some(Duration::ZERO)),
        ("idle_timeout", |o| o.idle_timeout = Some(Duration::ZERO)),
        ("connect_timeout", |o| {
            o.connect_timeout = Some(Duration::ZERO)
        }),
        ("handshake_ivl", |o| o.handshake_ivl = Some(Duration::ZERO)),
        ("heartbeat_ivl", |o| o.heartbeat_ivl = Some(Duration::ZERO)),
        ("heartbeat_ttl", |o| o.heartbeat_ttl = Some(Duration::ZERO)),
        ("heartbeat_timeout", |o| {
            o.heartbeat_timeout = Some(Duration::ZERO)
        }),
    ];
    for (option, set) in cases {
        let mut o = SocketOptions::default();
        set(&mut o);
        let e = o.validate().unwrap_err();
        assert_eq!(e, OptionError::ZeroDuration { option });
        assert_eq!(
            e.to_string(),
            format!("`{option}` is Some(0): use None to turn it off")
        );
    }
}

#[test]
fn reconnect_jitter_and_max_attempts_are_checked() {
    let o = SocketOptions {
        reconnect_jitter: 101,
        ..SocketOptions::default()
    };
    assert_eq!(
        o.validate(),
        Err(OptionError::CountOutOfRange {
            option: "reconnect_jitter",
            value: 101,
            min: 0,
            max: 100
        })
    );
    let o = SocketOptions {
        reconnect_max_attempts: Some(0),
        ..SocketOptions::default()
    };
    let e = o.validate().unwrap_err();
    assert!(
        e.to_string().contains("`reconnect_max_attempts` is 0"),
        "{e}"
    );
    // Jitter only ever shortens a wait, by at most its share.
    let o = SocketOptions {
        reconnect_jitter: 25,
        ..SocketOptions::default()
    };
    let d = Duration::from_millis(1000);
    for r in [0, 1, u32::MAX / 2, u32::MAX - 1, u32::MAX] {
        let j = o.jittered(d, r);
        assert!(j <= d && j >= Duration::from_millis(750), "{j:?}");
    }
    assert_eq!(SocketOptions::default().jittered(d, u32::MAX), d);
}

#[test]
fn durations_beyond_i32_millis_are_refused() {
    let too_long = MAX_DURATION + Duration::from_nanos(1);
    type Set = fn(&mut SocketOptions, Duration);
    let cases: [(&str, Set); 10] = [
        ("linger", |o, d| o.linger = Some(d)),
        ("idle_timeout", |o, d| o.idle_timeout = Some(d)),
        ("reconnect_ivl", |o, d| o.reconnect_ivl = Some(d)),
        ("reconnect_ivl_max", |o, d| o.reconnect_ivl_max = d),
        ("connect_timeout", |o, d| o.connect_timeout = Some(d)),
        ("handshake_ivl", |o, d| o.handshake_ivl = Some(d)),
        ("heartbeat_ivl", |o, d| o.heartbeat_ivl = Some(d)),
        ("heartbeat_timeout", |o, d| o.heartbeat_timeout = Some(d)),
        ("sndtimeo", |o, d| o.sndtimeo = Some(d)),
        ("rcvtimeo", |o, d| o.rcvtimeo = Some(d)),
    ];
    for (option, set) in cases {
        let mut o = SocketOptions::default();
        set(&mut o, MAX_DURATION);
        assert_eq!(o.validate(), Ok(()), "{option} at the maximum");
        set(&mut o, too_long);
        assert_eq!(
            o.validate(),
            Err(OptionError::DurationOutOfRange {
                option,
                value: too_long,
                min: Duration::ZERO,
                max: MAX_DURATION,
            })
        );
        set(&mut o, Duration::MAX);
        assert!(o.validate().is_err(), "{option} = Duration::MAX");
    }
    assert_eq!(MAX_DURATION, ms(i32::MAX as u64));
}

#[test]
fn heartbeat_ttl_range() {
    let with = |ttl| SocketOptions {
        heartbeat_ttl: Some(ttl),
        ..SocketOptions::default()
    };
    assert_eq!(
        with(ms(99)).validate(),
        Err(OptionError::DurationOutOfRange {
            option: "heartbeat_ttl",
            value: ms(99),
            min: ms(100),
            max: MAX_HEARTBEAT_TTL,
        })
    );
    let over = MAX_HEARTBEAT_TTL + ms(1);
    assert!(matches!(
        with(over).validate(),
        Err(OptionError::DurationOutOfRange {
            option: "heartbeat_ttl",
            ..
        })
    ));
    assert_eq!(MAX_HEARTBEAT_TTL, ms(6_553_500));

    // Carried in whole deciseconds, truncated.
    assert_eq!(SocketOptions::default().heartbeat_ttl_deciseconds(), 0);
    assert_eq!(with(ms(100)).heartbeat_ttl_deciseconds(), 1);
    assert_eq!(with(ms(1999)).heartbeat_ttl_deciseconds(), 19);
    assert_eq!(
        with(MAX_HEARTBEAT_TTL).heartbeat_ttl_deciseconds(),
        u16::MAX
    );
    assert_eq!(with(Duration::MAX).heartbeat_ttl_deciseconds(), u16::MAX);
}

#[test]
fn heartbeat_timeout_defaults_to_the_interval() {
    let mut o = SocketOptions::default();
    assert_eq!(o.effective_heartbeat_timeout(), None);
    o.heartbeat_ivl = Some(secs(1));
    assert_eq!(o.effective_heartbeat_timeout(), Some(secs(1)));
    o.heartbeat_timeout = Some(secs(3));
    assert_eq!(o.effective_heartbeat_timeout(), Some(secs(3)));
}

#[test]
fn keepalive_values() {
    let idle = |d| SocketOptions {
        tcp_keepalive_idle: Some(d),
        ..SocketOptions::default()
    };
    assert_eq!(
        idle(ms(1500)).validate(),
        Err(OptionError::NotWholeSeconds {
            option: "tcp_keepalive_idle",
            value: ms(1500),
        })
    );
    assert_eq!(
        idle(Duration::ZERO).validate(),
        Err(OptionError::DurationOutOfRange {
            option: "tcp_keepalive_idle",
            value: Duration::ZERO,
            min: secs(1),
            max: secs(i32::MAX as u64),
        })
    );
    assert!(idle(secs(i32::MAX as u64 + 1)).validate().is_err());
    let intvl = SocketOptions {
        tcp_keepalive_intvl: Some(ms(10)),
        ..SocketOptions::default()
    };
    assert!(matches!(
        intvl.validate(),
        Err(OptionError::NotWholeSeconds {
            option: "tcp_keepalive_intvl",
            ..
        })
    ));
    let cnt = |n| SocketOptions {
        tcp_keepalive_cnt: Some(n),
        ..SocketOptions::default()
    };
    assert_eq!(
        cnt(0).validate(),
        Err(OptionError::CountOutOfRange {
            option: "tcp_keepalive_cnt",
            value: 0,
            min: 1,
            max: i32::MAX as u64,
        })
    );
    assert!(cnt(i32::MAX as u32 + 1).validate().is_err());
    assert_eq!(
        cnt(0).validate().unwrap_err().to_string(),
        "`tcp_keepalive_cnt` is 0, outside the accepted range 1 to 2147483647"
    );
}

#[test]
fn buffer_sizes_are_one_byte_to_i32_max() {
    type Set = fn(&mut SocketOptions, u32);
    let cases: [(&str, Set); 2] = [
        ("sndbuf", |o, n| o.sndbuf = Some(n)),
        ("rcvbuf", |o, n| o.rcvbuf = Some(n)),
    ];
    for (option, set) in cases {
        let sized = |n| {
            let mut o = SocketOptions::default();
            set(&mut o, n);
            o
        };
        assert_eq!(sized(1).validate(), Ok(()), "{option}");
        assert_eq!(sized(i32::MAX as u32).validate(), Ok(()), "{option}");
        assert_eq!(
            sized(0).validate(),
            Err(OptionError::CountOutOfRange {
                option,
                value: 0,
                min: 1,
                max: i32::MAX as u64,
            })
        );
        assert!(sized(i32::MAX as u32 + 1).validate().is_err(), "{option}");
    }
    let o = SocketOptions::default();
    assert_eq!((o.sndbuf, o.rcvbuf), (None, None));
}

#[test]
fn routing_id_rules() {
    let id = |bytes: Vec<u8>| SocketOptions {
        routing_id: Some(Bytes::from(bytes)),
        ..SocketOptions::default()
    };
    assert_eq!(
        id(vec![]).validate(),
        Err(OptionError::RoutingIdLength { len: 0 })
    );
    assert_eq!(
        id(vec![b'x'; 256]).validate(),
        Err(OptionError::RoutingIdLength { len: 256 })
    );
    assert_eq!(
        id(vec![0, 1, 2]).validate(),
        Err(OptionError::RoutingIdReserved)
    );
    assert_eq!(id(vec![1, 0]).validate(), Ok(()));
    assert_eq!(
        id(vec![b'x'; 256]).validate().unwrap_err().to_string(),
        "`routing_id` is 256 bytes long: it must be 1 to 255 bytes"
    );
    assert!(id(vec![0])
        .validate()
        .unwrap_err()
        .to_string()
        .contains("zero byte"));
}

#[test]
fn plain_credentials_fit_a_byte_length() {
    let plain = |user: usize, pass: usize| SocketOptions {
        mechanism: MechanismConfig::plain_client(vec![b'u'; user], vec![b'p'; pass]),
        ..SocketOptions::default()
    };
    assert_eq!(plain(255, 255).validate(), Ok(()));
    assert_eq!(plain(0, 0).validate(), Ok(()));
    assert_eq!(
        plain(256, 1).validate(),
        Err(OptionError::CredentialTooLong {
            field: "user name",
            len: 256
        })
    );
    assert_eq!(
        plain(1, 300).validate(),
        Err(OptionError::CredentialTooLong {
            field: "password",
            len: 300
        })
    );
    // A server's authenticator compares by identity.
    let server = MechanismConfig::plain_server(|_| Ok(()));
    assert_eq!(server.clone(), server);
    assert_ne!(server, MechanismConfig::plain_server(|_| Ok(())));
    assert_ne!(server, MechanismConfig::Null);
}

#[test]
fn backlog_fits_an_int() {
    let o = SocketOptions {
        backlog: i32::MAX as u32 + 1,
        ..SocketOptions::default()
    };
    assert_eq!(
        o.validate(),
        Err(OptionError::CountOutOfRange {
            option: "backlog",
            value: i32::MAX as u64 + 1,
            min: 0,
            max: i32::MAX as u64,
        })
    );
}

#[test]
fn out_of_range_durations_display_their_bounds() {
    let o = SocketOptions {
        heartbeat_ttl: Some(ms(50)),
        ..SocketOptions::default()
    };
    assert_eq!(
        o.validate().unwrap_err().to_string(),
        "`heartbeat_ttl` is 50ms, outside the accepted range 100ms to 6553.5s"
    );
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(o.validate().unwrap_err());
    assert!(e.to_string().contains("heartbeat_ttl"));
}

// ---- reconnect backoff ----

#[test]
fn reconnect_without_backoff_is_constant() {
    let o = SocketOptions::default();
    for attempt in [0, 1, 2, 10, u32::MAX] {
        assert_eq!(o.reconnect_delay(attempt), Some(ms(100)));
    }
    // A ceiling not above the interval is ignored, as libzmq documents.
    for max in [ms(50), ms(100)] {
        let o = SocketOptions {
            reconnect_ivl_max: max,
            ..SocketOptions::default()
        };
        assert_eq!(o.reconnect_delay(5), Some(ms(100)));
    }
}

#[test]
fn reconnect_backoff_doubles_up_to_the_ceiling() {
    let o = SocketOptions {
        reconnect_ivl: Some(ms(100)),
        reconnect_ivl_max: ms(1000),
        ..SocketOptions::default()
    };
    let waits: Vec<_> = (0..7).map(|n| o.reconnect_delay(n).unwrap()).collect();
    assert_eq!(
        waits,
        [
            ms(100),
            ms(200),
            ms(400),
            ms(800),
            ms(1000),
            ms(1000),
            ms(1000)
        ]
    );
    // Very high attempt counts saturate instead of overflowing.
    for attempt in [31, 32, 63, 64, 1000, u32::MAX] {
        assert_eq!(o.reconnect_delay(attempt), Some(ms(1000)));
    }
    // A ceiling between two doublings is reached exactly.
    let o = SocketOptions {
        reconnect_ivl_max: ms(300),
        ..o
    };
    assert_eq!(o.reconnect_delay(1), Some(ms(200)));
    assert_eq!(o.reconnect_delay(2), Some(ms(300)));
}

#[test]
fn reconnect_off() {
    let o = SocketOptions {
        reconnect_ivl: None,
        reconnect_ivl_max: secs(10),
        ..SocketOptions::default()
    };
    assert_eq!(o.reconnect_delay(0), None);
    assert_eq!(o.reconnect_delay(7), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn backoff_is_monotonic_and_bounded(
        ivl in 1u64..=100_000,
        max in 0u64..=10_000_000,
        attempt in 0u32..100,
    ) {
        let o = SocketOptions {
            reconnect_ivl: Some(ms(ivl)),
            reconnect_ivl_max: ms(max),
            ..SocketOptions::default()
        };
        prop_assert_eq!(o.validate(), Ok(()));
        let now = o.reconnect_delay(attempt).unwrap();
        let next = o.reconnect_delay(attempt + 1).unwrap();
        prop_assert!(now <= next);
        prop_assert!(now >= ms(ivl));
        prop_assert!(now <= ms(ivl.max(max)));
        if max > ivl {
            let exact = ivl.saturating_mul(1u64.checked_shl(attempt).unwrap_or(u64::MAX)).min(max);
            prop_assert_eq!(now, ms(exact));
        } else {
            prop_assert_eq!(now, ms(ivl));
        }
    }
}
