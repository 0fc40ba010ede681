//! Mergeable streaming statistics: what the Monte Carlo engine folds per-replication results
//! into.
//!
//! A run must give bit-identical results on any number of threads, and a run split into
//! shards (`--shard k/n`) and merged must equal the full run exactly. Plain floating-point
//! sums depend on the order of the additions, so every sum here is exact:
//!
//! - [`ExactSum`] is a Kulisch superaccumulator, a fixed-size integer that holds the exact sum
//!   of any number of `f64`s; adding and merging are integer additions, so the state does not
//!   depend on order or grouping, and [`ExactSum::value`] rounds it once, correctly.
//! - [`Moments`] keeps a count and exact sums of values and squares, for mean, variance and a
//!   95 % confidence interval.
//! - [`Sketch`] is a DDSketch-style quantile sketch (plus an exact minimum and maximum) and
//!   [`Histogram`] a fixed-bin histogram; both hold only integer counts, so merging is exact.
//! - [`Summary`] bundles [`Moments`] and a [`Sketch`] for one KPI and produces a
//!   [`SummaryReport`].
//!
//! Memory never grows with the number of values: the accumulators and histogram are fixed
//! size, and the sketch grows only with the logarithmic range of the data.
//!
//! Every type merges with `merge(&mut self, &other)`, serialises with serde, and after a JSON
//! round trip compares `==` to the original. Floating-point fields that are part of the state
//! (a sketch's minimum, a histogram's range) are written in the exact binary form described
//! at [`ExactSum`], because decimal text need not parse back to the same bits.
//!
//! Non-finite inputs (NaN, ±∞) are never folded into a sum or a sketch; those types count
//! them instead (`non_finite()`), so callers can report them. A histogram counts ±∞ as
//! underflow or overflow and NaN on its own.

mod exact_sum;
mod histogram;
mod moments;
mod sketch;

use serde::{Deserialize, Serialize};

pub use exact_sum::ExactSum;
pub use histogram::{Histogram, HistogramError};
pub use moments::Moments;
pub use sketch::Sketch;

#[cfg(test)]
use {
    exact_sum::exact_f64,
    moments::t_975,
    sketch::{bucket_index, bucket_value},
};

#[cfg(test)]
mod tests;

/// What the engine keeps per KPI: [`Moments`] for the mean and its interval, a [`Sketch`]
/// for quantiles and the exact range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    moments: Moments,
    sketch: Sketch,
}

impl Summary {
    /// No values yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value to both parts.
    pub fn add(&mut self, x: f64) {
        self.moments.add(x);
        self.sketch.add(x);
    }

    /// Folds in another summary exactly.
    pub fn merge(&mut self, other: &Summary) {
        self.moments.merge(&other.moments);
        self.sketch.merge(&other.sketch);
    }

    /// The moments part.
    pub fn moments(&self) -> &Moments {
        &self.moments
    }

    /// The sketch part.
    pub fn sketch(&self) -> &Sketch {
        &self.sketch
    }

    /// The figures reported for the KPI.
    pub fn report(&self) -> SummaryReport {
        SummaryReport {
            p5: self.sketch.quantile(0.05),
            p50: self.sketch.quantile(0.5),
            p95: self.sketch.quantile(0.95),
            min: self.sketch.min(),
            max: self.sketch.max(),
            ..self.moments.report()
        }
    }
}

/// The reported figures of a [`Summary`]. Figures that are undefined for so few values
/// (the mean with none, the standard error and interval with fewer than two) are `None`
/// (`null` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryReport {
    /// How many finite values were summarised.
    pub n: u64,
    /// How many NaN or infinite values were offered and left out.
    pub non_finite: u64,
    /// The mean.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub mean: Option<f64>,
    /// The standard error of the mean.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub std_error: Option<f64>,
    /// Lower end of the 95 % confidence interval for the mean (Student t).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % confidence interval for the mean.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub ci95_high: Option<f64>,
    /// 5th percentile (sketch, relative error ≤ [`Sketch::RELATIVE_ACCURACY`]).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p5: Option<f64>,
    /// Median (sketch).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p50: Option<f64>,
    /// 95th percentile (sketch).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub p95: Option<f64>,
    /// Exact minimum.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub min: Option<f64>,
    /// Exact maximum.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub max: Option<f64>,
}
