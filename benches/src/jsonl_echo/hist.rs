//! A latency histogram with fixed storage: log-linear buckets (exact below
//! 128 ns, then 64 per power of two, under 1.6 % error), so recording costs
//! no allocation and the histogram's memory does not grow during a run.

use std::time::Duration;

/// Values below this are counted exactly.
const LINEAR: u64 = 128;
/// Buckets per power of two above `LINEAR`.
const SUB: u64 = 64;
/// Bucket count: the linear part plus 64 per exponent 7..=63.
const BUCKETS: usize = (LINEAR + (64 - 7) * SUB) as usize;

/// Round-trip times in nanoseconds.
#[derive(Clone)]
pub(crate) struct Histogram {
    /// Count per bucket.
    counts: Box<[u64]>,
    /// Values recorded.
    n: u64,
    /// Their sum (ns).
    sum: u128,
    /// The smallest (ns).
    min: u64,
    /// The largest (ns).
    max: u64,
}

impl Histogram {
    /// An empty histogram (allocates its buckets once).
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            n: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Forgets every value, keeping the storage.
    pub(crate) fn clear(&mut self) {
        self.counts.fill(0);
        self.n = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
    }

    /// Records one round trip.
    pub(crate) fn record(&mut self, d: Duration) {
        let v = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.counts[index(v)] += 1;
        self.n += 1;
        self.sum += u128::from(v);
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Adds `other`'s values to these.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(other.counts.iter()) {
            *a += b;
        }
        self.n += other.n;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Values recorded.
    pub(crate) fn len(&self) -> u64 {
        self.n
    }

    /// The smallest value, µs.
    pub(crate) fn min_us(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        self.min as f64 / 1e3
    }

    /// The largest value, µs.
    pub(crate) fn max_us(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        self.max as f64 / 1e3
    }

    /// The mean, µs.
    pub(crate) fn avg_us(&self) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        self.sum as f64 / self.n as f64 / 1e3
    }

    /// The `q` quantile (0..=1), µs: the middle of the bucket holding the
    /// value of rank ceil(q n), clamped to the exact min and max.
    pub(crate) fn quantile_us(&self, q: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let (lo, hi) = bounds(i);
                let mid = lo + (hi - lo) / 2;
                return mid.clamp(self.min, self.max) as f64 / 1e3;
            }
        }
        self.max as f64 / 1e3
    }
}

/// The bucket of value `v`.
fn index(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let e = 63 - u64::from(v.leading_zeros()); // >= 7
    let top = v >> (e - 6); // 64..128
    (LINEAR + (e - 7) * SUB + (top - SUB)) as usize
}

/// The values bucket `i` holds: `lo..=hi`.
fn bounds(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < LINEAR {
        return (i, i);
    }
    let e = (i - LINEAR) / SUB + 7;
    let top = (i - LINEAR) % SUB + SUB;
    let lo = top << (e - 6);
    let width = 1u64 << (e - 6);
    (lo, lo.saturating_add(width - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order() {
        let mut last = 0;
        for v in (0..100_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS);
            assert!(i >= last);
            last = i;
            let (lo, hi) = bounds(i);
            assert!(lo <= v && v <= hi, "{v} not in bucket {i} = {lo}..={hi}");
        }
    }

    #[test]
    fn quantiles_within_two_percent() {
        let mut h = Histogram::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us));
        }
        for (q, want) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile_us(q);
            assert!((got - want).abs() / want < 0.02, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.min_us(), 1.0);
        assert_eq!(h.max_us(), 1000.0);
        assert!((h.avg_us() - 500.5).abs() < 1e-9);
    }
}
