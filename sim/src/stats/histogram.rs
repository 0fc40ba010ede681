//! [`Histogram`]: fixed-bin counts with underflow, overflow and NaN.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::exact_sum::exact_f64;

/// Why a [`Histogram`] could not be made or merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HistogramError {
    /// The range was not finite, not increasing, or too wide for its width to be finite.
    #[error("histogram range [{lo}, {hi}) must be finite with lo < hi")]
    BadRange {
        /// The lower bound given.
        lo: f64,
        /// The upper bound given.
        hi: f64,
    },
    /// The bin count was zero, above [`Histogram::MAX_BINS`], or too many for the bin edges
    /// to be distinct `f64` values.
    #[error("a histogram over this range cannot have {0} bins (1 to {max} with distinct edges)", max = Histogram::MAX_BINS)]
    BadBins(usize),
    /// The two histograms have different ranges or bin counts.
    #[error("cannot merge histograms with different bin layouts")]
    LayoutMismatch,
}

/// Counts of values in equal-width bins over `[lo, hi)`, plus values below (underflow),
/// at or above `hi` (overflow) and NaN.
///
/// Bin `i` holds `edges[i] <= x < edges[i + 1]` for the edges of
/// [`bin_edges`](Self::bin_edges), exactly as those `f64`s compare. `-∞` counts as underflow
/// and `+∞` as overflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    #[serde(with = "exact_f64")]
    lo: f64,
    #[serde(with = "exact_f64")]
    hi: f64,
    counts: Vec<u64>,
    underflow: u64,
    overflow: u64,
    nan: u64,
}

#[derive(Deserialize)]
struct HistogramRepr {
    #[serde(with = "exact_f64")]
    lo: f64,
    #[serde(with = "exact_f64")]
    hi: f64,
    counts: Vec<u64>,
    underflow: u64,
    overflow: u64,
    nan: u64,
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = HistogramRepr::deserialize(deserializer)?;
        let mut histogram = Histogram::new(r.lo, r.hi, r.counts.len()).map_err(D::Error::custom)?;
        histogram.counts = r.counts;
        histogram.underflow = r.underflow;
        histogram.overflow = r.overflow;
        histogram.nan = r.nan;
        Ok(histogram)
    }
}

impl Histogram {
    /// The most bins a histogram may have.
    pub const MAX_BINS: usize = 1 << 20;

    /// `bins` equal bins over `[lo, hi)`. Rejects non-finite bounds, `lo >= hi`, a width
    /// `hi - lo` beyond the `f64` range, and bin counts that are zero, above
    /// [`MAX_BINS`](Self::MAX_BINS) or too many for distinct edges.
    pub fn new(lo: f64, hi: f64, bins: usize) -> Result<Self, HistogramError> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(HistogramError::BadRange { lo, hi });
        }
        if bins == 0 || bins > Self::MAX_BINS {
            return Err(HistogramError::BadBins(bins));
        }
        let histogram = Self {
            lo: lo + 0.0, // −0 becomes +0, so equal layouts have equal bits
            hi,
            counts: vec![0; bins],
            underflow: 0,
            overflow: 0,
            nan: 0,
        };
        if (0..bins).any(|i| histogram.edge(i) >= histogram.edge(i + 1)) {
            return Err(HistogramError::BadBins(bins));
        }
        Ok(histogram)
    }

    fn bins(&self) -> usize {
        self.counts.len()
    }

    fn edge(&self, i: usize) -> f64 {
        if i >= self.bins() {
            self.hi
        } else {
            self.lo + (self.hi - self.lo) * i as f64 / self.bins() as f64
        }
    }

    /// Counts one value.
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
        } else if x < self.lo {
            self.underflow += 1;
        } else if x >= self.hi {
            self.overflow += 1;
        } else {
            let bins = self.bins();
            let guess = ((x - self.lo) / (self.hi - self.lo) * bins as f64) as usize;
            let mut i = guess.min(bins - 1);
            while i > 0 && x < self.edge(i) {
                i -= 1;
            }
            while i + 1 < bins && x >= self.edge(i + 1) {
                i += 1;
            }
            self.counts[i] += 1;
        }
    }

    /// Adds another histogram's counts; an error (and no change) if its range or bin count
    /// differs.
    pub fn merge(&mut self, other: &Histogram) -> Result<(), HistogramError> {
        if self.lo != other.lo || self.hi != other.hi || self.bins() != other.bins() {
            return Err(HistogramError::LayoutMismatch);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine = mine.saturating_add(*theirs);
        }
        self.underflow = self.underflow.saturating_add(other.underflow);
        self.overflow = self.overflow.saturating_add(other.overflow);
        self.nan = self.nan.saturating_add(other.nan);
        Ok(())
    }

    /// The count in each bin, lowest first.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The `bins + 1` bin edges, from `lo` to `hi`.
    pub fn bin_edges(&self) -> Vec<f64> {
        (0..=self.bins()).map(|i| self.edge(i)).collect()
    }

    /// Values below `lo`, `-∞` included.
    pub fn underflow(&self) -> u64 {
        self.underflow
    }

    /// Values at or above `hi`, `+∞` included.
    pub fn overflow(&self) -> u64 {
        self.overflow
    }

    /// NaN values offered.
    pub fn nan(&self) -> u64 {
        self.nan
    }

    /// Every value offered: in the bins, underflow, overflow and NaN.
    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .fold(self.underflow, |acc, &c| acc.saturating_add(c))
            .saturating_add(self.overflow)
            .saturating_add(self.nan)
    }
}
