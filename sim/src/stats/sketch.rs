//! [`Sketch`]: a DDSketch-style quantile sketch with exact merging.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::exact_sum::{FRAC_MASK, exact_f64};

/// Buckets per power of two in a [`Sketch`]'s index mapping.
const BUCKETS_PER_OCTAVE: i32 = 100;

/// A DDSketch-style quantile sketch with relative accuracy [`Sketch::RELATIVE_ACCURACY`].
///
/// Positive values go to logarithmic buckets, negative values to mirrored buckets by
/// magnitude, and values with |x| < [`Sketch::ZERO_THRESHOLD`] to a zero bucket. The index
/// of |x| = (1 + f)·2^e is `100·e + ⌊100·f⌋` (DDSketch's linearly interpolated mapping,
/// computed exactly from the bits of x, so it is the same on every platform): each bucket
/// spans a ratio of at most 1.01, and its representative value (the harmonic mean of its
/// bounds) is within 1/201 < α of every value in it. Quantiles of the zero bucket are
/// reported as 0.
///
/// Buckets hold integer counts and are never collapsed, so merging is exact and independent
/// of order. Memory is bounded by the log-range of the data, not the number of values: at
/// most 100 buckets per power of two spanned by |x| for each sign, e.g. at most 8,000 per
/// sign for magnitudes between 1e-12 and 1e12 (under 110,000 whatever the data).
///
/// The minimum and maximum are kept exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sketch {
    positive: BTreeMap<i32, u64>,
    negative: BTreeMap<i32, u64>,
    zero: u64,
    count: u64,
    non_finite: u64,
    #[serde(with = "exact_f64::option")]
    min: Option<f64>,
    #[serde(with = "exact_f64::option")]
    max: Option<f64>,
}

#[derive(Deserialize)]
struct SketchRepr {
    positive: BTreeMap<i32, u64>,
    negative: BTreeMap<i32, u64>,
    zero: u64,
    count: u64,
    non_finite: u64,
    #[serde(with = "exact_f64::option")]
    min: Option<f64>,
    #[serde(with = "exact_f64::option")]
    max: Option<f64>,
}

impl<'de> Deserialize<'de> for Sketch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = SketchRepr::deserialize(deserializer)?;
        let total = r
            .positive
            .values()
            .chain(r.negative.values())
            .try_fold(r.zero, |acc, &c| {
                (c > 0).then(|| acc.checked_add(c)).flatten()
            });
        let extremes_ok = match (r.min, r.max) {
            (Some(lo), Some(hi)) => r.count > 0 && lo.is_finite() && hi.is_finite() && lo <= hi,
            (None, None) => r.count == 0,
            _ => false,
        };
        if total != Some(r.count) || !extremes_ok {
            return Err(D::Error::custom(
                "inconsistent sketch: bucket counts, count and min/max disagree",
            ));
        }
        Ok(Sketch {
            positive: r.positive,
            negative: r.negative,
            zero: r.zero,
            count: r.count,
            non_finite: r.non_finite,
            min: r.min,
            max: r.max,
        })
    }
}

impl Sketch {
    /// The guaranteed relative accuracy α of [`quantile`](Self::quantile) for values outside
    /// the zero bucket.
    pub const RELATIVE_ACCURACY: f64 = 0.005;
    /// Values with |x| below this go to the zero bucket and are reported as 0.
    pub const ZERO_THRESHOLD: f64 = 1e-12;

    /// An empty sketch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value; NaN and ±∞ are only counted in [`non_finite`](Self::non_finite).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.non_finite = self.non_finite.saturating_add(1);
            return;
        }
        self.count += 1;
        self.min = Some(self.min.map_or(x, |m| lesser(m, x)));
        self.max = Some(self.max.map_or(x, |m| greater(m, x)));
        let magnitude = x.abs();
        if magnitude < Self::ZERO_THRESHOLD {
            self.zero += 1;
            return;
        }
        let buckets = if x > 0.0 {
            &mut self.positive
        } else {
            &mut self.negative
        };
        *buckets.entry(bucket_index(magnitude)).or_insert(0) += 1;
    }

    /// Folds in another sketch exactly.
    pub fn merge(&mut self, other: &Sketch) {
        for (mine, theirs) in [
            (&mut self.positive, &other.positive),
            (&mut self.negative, &other.negative),
        ] {
            for (&index, &c) in theirs {
                let slot = mine.entry(index).or_insert(0);
                *slot = slot.saturating_add(c);
            }
        }
        self.zero = self.zero.saturating_add(other.zero);
        self.count = self.count.saturating_add(other.count);
        self.non_finite = self.non_finite.saturating_add(other.non_finite);
        self.min = combine(self.min, other.min, lesser);
        self.max = combine(self.max, other.max, greater);
    }

    /// How many finite values were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// How many NaN or infinite values were offered and left out.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    /// The smallest value added, exactly; `None` when empty.
    pub fn min(&self) -> Option<f64> {
        self.min
    }

    /// The largest value added, exactly; `None` when empty.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// How many buckets are in use (the sketch's memory, apart from a fixed part).
    pub fn bucket_count(&self) -> usize {
        self.positive.len() + self.negative.len() + usize::from(self.zero > 0)
    }

    /// The `q`-quantile, `q` in `0..=1`: the representative of the bucket holding the value
    /// of 0-based rank ⌊q·(n − 1)⌋ among the sorted values, clamped to
    /// [[`min`](Self::min), [`max`](Self::max)]; the lowest and highest ranks give the exact
    /// minimum and maximum. Its relative error is at most
    /// [`RELATIVE_ACCURACY`](Self::RELATIVE_ACCURACY) (absolute error below
    /// [`ZERO_THRESHOLD`](Self::ZERO_THRESHOLD) in the zero bucket). `None` when the sketch
    /// is empty or `q` is outside `0..=1` or NaN.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let (min, max) = (self.min?, self.max?);
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank == 0 {
            return Some(min);
        }
        if rank >= self.count - 1 {
            return Some(max);
        }
        let mut seen = 0u64;
        let buckets = self
            .negative
            .iter()
            .rev()
            .map(|(&i, &c)| (-bucket_value(i), c));
        let buckets = buckets
            .chain(std::iter::once((0.0, self.zero)))
            .chain(self.positive.iter().map(|(&i, &c)| (bucket_value(i), c)));
        for (value, c) in buckets {
            seen = seen.saturating_add(c);
            if seen > rank {
                return Some(value.max(min).min(max));
            }
        }
        Some(max)
    }
}

/// The sketch bucket of a magnitude ≥ [`Sketch::ZERO_THRESHOLD`] (so a normal number).
pub(super) fn bucket_index(magnitude: f64) -> i32 {
    let bits = magnitude.to_bits();
    let exponent = (bits >> 52) as i32 - 1023;
    let sub = ((bits & FRAC_MASK) * BUCKETS_PER_OCTAVE as u64) >> 52;
    exponent * BUCKETS_PER_OCTAVE + sub as i32
}

/// The representative magnitude of a sketch bucket: the harmonic mean 2ab/(a + b) of its
/// bounds a = (1 + k/100)·2^e and b = (1 + (k+1)/100)·2^e.
pub(super) fn bucket_value(index: i32) -> f64 {
    let exponent = index.div_euclid(BUCKETS_PER_OCTAVE);
    let k = f64::from(index.rem_euclid(BUCKETS_PER_OCTAVE));
    let ratio = 2.0 * (100.0 + k) * (101.0 + k) / (100.0 * (201.0 + 2.0 * k));
    let scale = match exponent {
        ..-1022 => 0.0,
        1024.. => f64::INFINITY,
        e => f64::from_bits(((e + 1023) as u64) << 52),
    };
    ratio * scale
}

/// The lesser in the IEEE total order (so −0 < +0, whatever the argument order).
fn lesser(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a) == Ordering::Less {
        b
    } else {
        a
    }
}

/// The greater in the IEEE total order.
fn greater(a: f64, b: f64) -> f64 {
    if b.total_cmp(&a) == Ordering::Greater {
        b
    } else {
        a
    }
}

fn combine(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}
