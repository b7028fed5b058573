//! The pool's configuration and its validation.

use core::fmt;

/// The largest tier size a pool accepts: 1 GiB.
pub const MAX_TIER_SIZE: usize = 1 << 30;
/// The most tiers a pool accepts.
pub const MAX_TIERS: usize = 64;
/// The deepest shared pool per tier a pool accepts. The shared stack and
/// queue of each tier reserve a slot each per magazine up front (24 and
/// about 32 bytes), so this bounds that reservation as well as the memory
/// the pool can hold.
pub const MAX_POOLED_PER_TIER: usize = 1 << 16;
/// The largest per-thread cache per tier a pool accepts (two magazines of
/// 512 buffers).
pub const MAX_THREAD_CACHE_PER_TIER: usize = 1024;
/// The smallest per-thread cache per tier a pool accepts (two magazines of
/// one buffer).
pub const MIN_THREAD_CACHE_PER_TIER: usize = 2;

/// How a [`Pool`](crate::Pool) sizes its tiers and bounds what it keeps.
///
/// Buffers move between a thread and the shared pool a *magazine* at a
/// time: a batch of `thread_cache_per_tier / 2` buffers of one tier. Each
/// thread caches at most two magazines per tier, the shared pool at most
/// `max_pooled_per_tier / magazine` full magazines per tier.
///
/// The memory a pool holds (buffers returned and kept for reuse, not those
/// handed out) is therefore at most, summed over the tiers,
/// `tier size * (max_pooled_per_tier + thread_cache_per_tier * threads)`,
/// where `threads` counts the live threads that have used the pool
/// ([`max_held_bytes`](PoolConfig::max_held_bytes)).
///
/// ```
/// use smolmq_pool::PoolConfig;
///
/// let config = PoolConfig::default();
/// assert_eq!(config.tiers, [4096, 8192, 16384, 65536]);
/// assert_eq!(config.magazine(), 8);
/// assert_eq!(config.max_held_bytes(2), 92 * 1024 * (64 + 16 * 2));
/// config.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolConfig {
    /// Buffer capacities in bytes, strictly increasing, each in
    /// `1..=`[`MAX_TIER_SIZE`], at most [`MAX_TIERS`] of them. A request is
    /// served from the smallest tier at least as large; a request above the
    /// largest tier gets a plain allocation that is never pooled.
    pub tiers: Vec<usize>,
    /// How many buffers of each tier the shared pool keeps, in
    /// `1..=`[`MAX_POOLED_PER_TIER`] and at least one magazine; rounded down
    /// to whole magazines. A buffer returned when both the returning
    /// thread's cache and the shared pool are full is freed (counted as
    /// discarded).
    pub max_pooled_per_tier: usize,
    /// How many buffers of each tier each thread keeps to itself, in
    /// [`MIN_THREAD_CACHE_PER_TIER`]`..=`[`MAX_THREAD_CACHE_PER_TIER`]: two
    /// magazines of half this many (an odd value is rounded down). Larger
    /// magazines mean fewer trips to the shared pool when one thread gets
    /// buffers and another returns them.
    pub thread_cache_per_tier: usize,
}

impl Default for PoolConfig {
    /// Tiers of 4, 8, 16 and 64 KiB; 64 buffers per tier in the shared pool
    /// and 16 per tier in each thread's cache (magazines of 8): at most
    /// 5.75 MiB shared and 1.44 MiB per thread held.
    fn default() -> Self {
        PoolConfig {
            tiers: vec![4 << 10, 8 << 10, 16 << 10, 64 << 10],
            max_pooled_per_tier: 64,
            thread_cache_per_tier: 16,
        }
    }
}

impl PoolConfig {
    /// Checks every field against the rules written on it.
    ///
    /// ```
    /// use smolmq_pool::{ConfigError, PoolConfig};
    ///
    /// let config = PoolConfig { tiers: vec![8192, 4096], ..PoolConfig::default() };
    /// assert_eq!(
    ///     config.validate(),
    ///     Err(ConfigError::TiersNotIncreasing { index: 1, previous: 8192, size: 4096 })
    /// );
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tiers.is_empty() {
            return Err(ConfigError::NoTiers);
        }
        if self.tiers.len() > MAX_TIERS {
            return Err(ConfigError::TooManyTiers {
                count: self.tiers.len(),
                max: MAX_TIERS,
            });
        }
        let mut previous = 0;
        for (index, &size) in self.tiers.iter().enumerate() {
            if size == 0 {
                return Err(ConfigError::ZeroTier { index });
            }
            if size > MAX_TIER_SIZE {
                return Err(ConfigError::TierTooLarge {
                    index,
                    size,
                    max: MAX_TIER_SIZE,
                });
            }
            if index > 0 && size <= previous {
                return Err(ConfigError::TiersNotIncreasing {
                    index,
                    previous,
                    size,
                });
            }
            previous = size;
        }
        if self.max_pooled_per_tier == 0 || self.max_pooled_per_tier > MAX_POOLED_PER_TIER {
            return Err(ConfigError::PooledOutOfRange {
                requested: self.max_pooled_per_tier,
                max: MAX_POOLED_PER_TIER,
            });
        }
        if !(MIN_THREAD_CACHE_PER_TIER..=MAX_THREAD_CACHE_PER_TIER)
            .contains(&self.thread_cache_per_tier)
        {
            return Err(ConfigError::ThreadCacheOutOfRange {
                requested: self.thread_cache_per_tier,
                min: MIN_THREAD_CACHE_PER_TIER,
                max: MAX_THREAD_CACHE_PER_TIER,
            });
        }
        if self.max_pooled_per_tier < self.magazine() {
            return Err(ConfigError::PooledBelowMagazine {
                max_pooled: self.max_pooled_per_tier,
                magazine: self.magazine(),
            });
        }
        Ok(())
    }

    /// Buffers per magazine: `thread_cache_per_tier / 2`, at least 1.
    pub fn magazine(&self) -> usize {
        (self.thread_cache_per_tier / 2).max(1)
    }

    /// The most bytes a pool with this configuration holds for reuse while
    /// `threads` threads use it: the bound documented on [`PoolConfig`],
    /// with both counts rounded down to whole magazines (saturating at
    /// `usize::MAX`).
    pub fn max_held_bytes(&self, threads: usize) -> usize {
        let magazine = self.magazine();
        let shared = self.max_pooled_per_tier / magazine * magazine;
        let per_tier = (2 * magazine)
            .saturating_mul(threads)
            .saturating_add(shared);
        self.tiers.iter().fold(0usize, |sum, &size| {
            sum.saturating_add(size.saturating_mul(per_tier))
        })
    }
}

/// Why a [`PoolConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `tiers` is empty.
    NoTiers,
    /// `tiers` has more entries than [`MAX_TIERS`].
    TooManyTiers {
        /// How many tiers were given.
        count: usize,
        /// The most accepted.
        max: usize,
    },
    /// A tier of size zero.
    ZeroTier {
        /// Its position in `tiers`.
        index: usize,
    },
    /// A tier larger than [`MAX_TIER_SIZE`].
    TierTooLarge {
        /// Its position in `tiers`.
        index: usize,
        /// Its size in bytes.
        size: usize,
        /// The largest accepted.
        max: usize,
    },
    /// A tier not larger than the one before it.
    TiersNotIncreasing {
        /// Its position in `tiers`.
        index: usize,
        /// The size of the tier before it.
        previous: usize,
        /// Its size.
        size: usize,
    },
    /// `max_pooled_per_tier` is zero or above [`MAX_POOLED_PER_TIER`].
    PooledOutOfRange {
        /// The value given.
        requested: usize,
        /// The largest accepted.
        max: usize,
    },
    /// `thread_cache_per_tier` is outside
    /// [`MIN_THREAD_CACHE_PER_TIER`]`..=`[`MAX_THREAD_CACHE_PER_TIER`].
    ThreadCacheOutOfRange {
        /// The value given.
        requested: usize,
        /// The smallest accepted.
        min: usize,
        /// The largest accepted.
        max: usize,
    },
    /// `max_pooled_per_tier` is smaller than one magazine
    /// (`thread_cache_per_tier / 2`), so the shared pool could not hold any.
    PooledBelowMagazine {
        /// `max_pooled_per_tier`.
        max_pooled: usize,
        /// The magazine size.
        magazine: usize,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ConfigError::NoTiers => f.write_str("pool config has no tiers: give at least one size"),
            ConfigError::TooManyTiers { count, max } => {
                write!(
                    f,
                    "pool config has {count} tiers, at most {max} are allowed"
                )
            }
            ConfigError::ZeroTier { index } => {
                write!(f, "pool config tier {index} has size 0")
            }
            ConfigError::TierTooLarge { index, size, max } => write!(
                f,
                "pool config tier {index} has size {size} bytes, above the maximum of {max}"
            ),
            ConfigError::TiersNotIncreasing {
                index,
                previous,
                size,
            } => write!(
                f,
                "pool config tiers must be strictly increasing, \
                 but tier {index} ({size} bytes) follows a tier of {previous} bytes"
            ),
            ConfigError::PooledOutOfRange { requested, max } => write!(
                f,
                "pool config max_pooled_per_tier is {requested}, it must be in 1..={max}"
            ),
            ConfigError::ThreadCacheOutOfRange {
                requested,
                min,
                max,
            } => write!(
                f,
                "pool config thread_cache_per_tier is {requested}, it must be in {min}..={max}"
            ),
            ConfigError::PooledBelowMagazine {
                max_pooled,
                magazine,
            } => write!(
                f,
                "pool config max_pooled_per_tier is {max_pooled}, less than one magazine \
                 of {magazine} buffers (thread_cache_per_tier / 2)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
