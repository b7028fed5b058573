//! Configuration validation: every invalid config is refused with an error
//! naming the offending value.

use smolmq_pool::{
    ConfigError, Pool, PoolConfig, MAX_POOLED_PER_TIER, MAX_THREAD_CACHE_PER_TIER, MAX_TIERS,
    MAX_TIER_SIZE, MIN_THREAD_CACHE_PER_TIER,
};

fn refused(config: PoolConfig) -> ConfigError {
    let err = Pool::new(config.clone()).unwrap_err();
    assert_eq!(config.validate(), Err(err.clone()));
    err
}

fn with(f: impl FnOnce(&mut PoolConfig)) -> PoolConfig {
    let mut config = PoolConfig::default();
    f(&mut config);
    config
}

#[test]
fn default_is_valid() {
    PoolConfig::default().validate().unwrap();
    let pool = Pool::new(PoolConfig::default()).unwrap();
    assert_eq!(pool.config(), &PoolConfig::default());
}

#[test]
fn invalid_configs_are_refused() {
    let cases = [
        (with(|c| c.tiers = vec![]), ConfigError::NoTiers, "no tiers"),
        (
            with(|c| c.tiers = vec![0, 4096]),
            ConfigError::ZeroTier { index: 0 },
            "tier 0 has size 0",
        ),
        (
            with(|c| c.tiers = vec![4096, 4096]),
            ConfigError::TiersNotIncreasing {
                index: 1,
                previous: 4096,
                size: 4096,
            },
            "tier 1 (4096 bytes) follows a tier of 4096 bytes",
        ),
        (
            with(|c| c.tiers = vec![8192, 4096, 16384]),
            ConfigError::TiersNotIncreasing {
                index: 1,
                previous: 8192,
                size: 4096,
            },
            "strictly increasing",
        ),
        (
            with(|c| c.tiers = vec![4096, MAX_TIER_SIZE + 1]),
            ConfigError::TierTooLarge {
                index: 1,
                size: MAX_TIER_SIZE + 1,
                max: MAX_TIER_SIZE,
            },
            "tier 1 has size 1073741825 bytes",
        ),
        (
            with(|c| c.tiers = (1..=MAX_TIERS + 1).collect()),
            ConfigError::TooManyTiers {
                count: MAX_TIERS + 1,
                max: MAX_TIERS,
            },
            "65 tiers",
        ),
        (
            with(|c| c.max_pooled_per_tier = 0),
            ConfigError::PooledOutOfRange {
                requested: 0,
                max: MAX_POOLED_PER_TIER,
            },
            "max_pooled_per_tier is 0",
        ),
        (
            with(|c| c.max_pooled_per_tier = MAX_POOLED_PER_TIER + 1),
            ConfigError::PooledOutOfRange {
                requested: MAX_POOLED_PER_TIER + 1,
                max: MAX_POOLED_PER_TIER,
            },
            "65537",
        ),
        (
            with(|c| c.thread_cache_per_tier = usize::MAX),
            ConfigError::ThreadCacheOutOfRange {
                requested: usize::MAX,
                min: MIN_THREAD_CACHE_PER_TIER,
                max: MAX_THREAD_CACHE_PER_TIER,
            },
            "thread_cache_per_tier is 18446744073709551615, it must be in 2..=1024",
        ),
        (
            with(|c| c.thread_cache_per_tier = 1),
            ConfigError::ThreadCacheOutOfRange {
                requested: 1,
                min: MIN_THREAD_CACHE_PER_TIER,
                max: MAX_THREAD_CACHE_PER_TIER,
            },
            "thread_cache_per_tier is 1,",
        ),
        (
            with(|c| {
                c.max_pooled_per_tier = 7;
                c.thread_cache_per_tier = 16;
            }),
            ConfigError::PooledBelowMagazine {
                max_pooled: 7,
                magazine: 8,
            },
            "max_pooled_per_tier is 7, less than one magazine of 8 buffers",
        ),
    ];
    for (config, expected, message) in cases {
        let err = refused(config);
        assert_eq!(err, expected);
        let text = err.to_string();
        assert!(
            text.contains(message),
            "{text:?} should mention {message:?}"
        );
    }
}

#[test]
fn limits_themselves_are_accepted() {
    PoolConfig {
        tiers: (1..=MAX_TIERS).collect(),
        max_pooled_per_tier: MAX_POOLED_PER_TIER,
        thread_cache_per_tier: MAX_THREAD_CACHE_PER_TIER,
    }
    .validate()
    .unwrap();
    Pool::new(PoolConfig {
        tiers: vec![1, MAX_TIER_SIZE],
        max_pooled_per_tier: 1,
        thread_cache_per_tier: MIN_THREAD_CACHE_PER_TIER,
    })
    .unwrap();
}

#[test]
fn counts_round_down_to_whole_magazines() {
    // An odd thread cache is two magazines of 2.
    let odd = PoolConfig {
        tiers: vec![100],
        max_pooled_per_tier: 10,
        thread_cache_per_tier: 5,
    };
    odd.validate().unwrap();
    assert_eq!(odd.magazine(), 2);
    // 10 shared (5 magazines of 2) + 4 per thread.
    assert_eq!(odd.max_held_bytes(1), 100 * (10 + 4));
    // 70 rounds down to 8 magazines of 8.
    let uneven = with(|c| c.max_pooled_per_tier = 70);
    assert_eq!(
        uneven.max_held_bytes(0),
        PoolConfig::default().max_held_bytes(0)
    );
}

#[test]
fn error_is_a_std_error() {
    let err: Box<dyn std::error::Error> = Box::new(ConfigError::NoTiers);
    assert!(err.to_string().contains("no tiers"));
}

#[test]
fn max_held_bytes_saturates() {
    let config = PoolConfig {
        tiers: vec![MAX_TIER_SIZE],
        max_pooled_per_tier: MAX_POOLED_PER_TIER,
        thread_cache_per_tier: MAX_THREAD_CACHE_PER_TIER,
    };
    assert_eq!(config.max_held_bytes(usize::MAX), usize::MAX);
    assert_eq!(PoolConfig::default().max_held_bytes(0), 64 * 92 * 1024);
}
