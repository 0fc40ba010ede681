//! [`Moments`]: count, exact sums of values and squares, mean, variance and a t interval.

use serde::{Deserialize, Serialize};

use super::{ExactSum, SummaryReport};

/// `a × b` added exactly (via a fused multiply-add for the rounding error) when the product
/// is finite and does not underflow.
fn add_product(acc: &mut ExactSum, a: f64, b: f64) {
    let p = a * b;
    acc.add(p);
    if p.is_finite() {
        acc.add(a.mul_add(b, -p));
    }
}

/// The 0.975 quantile of Student's t distribution with `df` degrees of freedom.
///
/// Tabulated (to 4 decimals) for `df` ≤ 30; beyond that the Cornish–Fisher expansion
/// `z + (z³ + z)/(4 df) + (5z⁵ + 16z³ + 3z)/(96 df²)` with z = 1.959964, which is within 1e-4
/// of the true value there and tends to 1.96.
pub(super) fn t_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010,
        2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739,
        2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let d = df as f64;
            let z3 = z * z * z;
            z + (z3 + z) / (4.0 * d) + (5.0 * z3 * z * z + 16.0 * z3 + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Count, exact sum and exact sum of squares of a stream of values: mean, sample variance
/// and a 95 % confidence interval for the mean.
///
/// Squares are accumulated exactly too (`x²` plus its rounding error from a fused
/// multiply-add), and [`variance`](Self::variance) evaluates Σ(x − m)² exactly up to terms of
/// order ε²·n·m², so it stays accurate even when the mean is large compared with the spread.
/// Non-finite values are not counted in `n`; see [`non_finite`](Self::non_finite).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moments {
    n: u64,
    sum: ExactSum,
    sum_sq: ExactSum,
}

impl Moments {
    /// No values yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value; NaN and ±∞ are only counted in [`non_finite`](Self::non_finite).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.sum.add(x);
            return;
        }
        self.n += 1;
        self.sum.add(x);
        let square = x * x;
        self.sum_sq.add(square);
        if square.is_finite() {
            self.sum_sq.add(x.mul_add(x, -square));
        }
    }

    /// Folds in another set of moments exactly.
    pub fn merge(&mut self, other: &Moments) {
        self.n = self.n.saturating_add(other.n);
        self.sum.merge(&other.sum);
        self.sum_sq.merge(&other.sum_sq);
    }

    /// How many finite values were added.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// How many NaN or infinite values were offered and left out.
    pub fn non_finite(&self) -> u64 {
        self.sum.non_finite()
    }

    /// The exact sum of the finite values.
    pub fn sum(&self) -> &ExactSum {
        &self.sum
    }

    /// The arithmetic mean; `None` when there are no values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum.value() / self.n as f64)
    }

    /// The sample variance (divisor n − 1), never negative; `None` when n < 2, `+∞` when a
    /// square or the sum left the `f64` range.
    pub fn variance(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let s = self.sum.value();
        let m = s / n;
        if self.sum_sq.non_finite() > 0 || !m.is_finite() {
            return Some(f64::INFINITY);
        }
        // The sum is s + r exactly, up to rounding r.
        let mut residual = self.sum.clone();
        residual.add(-s);
        let r = residual.value();
        // Σ(x − m)² = Σx² − 2m·Σx + n·m², for any m.
        let mut acc = self.sum_sq.clone();
        add_product(&mut acc, -2.0 * m, s);
        add_product(&mut acc, -2.0 * m, r);
        let m2 = m * m;
        add_product(&mut acc, n, m2);
        add_product(&mut acc, n, m.mul_add(m, -m2));
        if acc.non_finite() > self.sum_sq.non_finite() {
            return Some(f64::INFINITY);
        }
        Some((acc.value() / (n - 1.0)).max(0.0))
    }

    /// The sample standard deviation; `None` when n < 2.
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The standard error of the mean, s/√n; `None` when n < 2.
    pub fn std_error(&self) -> Option<f64> {
        self.variance().map(|v| (v / self.n as f64).sqrt())
    }

    /// The 95 % confidence interval for the mean, mean ± t·SE, where t is Student's 0.975
    /// quantile for n − 1 degrees of freedom (tabulated to 4 decimals up to 30 degrees of
    /// freedom, a Cornish–Fisher expansion tending to 1.96 beyond); `None` when n < 2.
    pub fn interval95(&self) -> Option<(f64, f64)> {
        let mean = self.mean()?;
        let half = t_975(self.n - 1) * self.std_error()?;
        Some((mean - half, mean + half))
    }

    /// The mean, its standard error and 95% interval as a [`SummaryReport`]; moments keep no
    /// quantiles, so those fields are `None`.
    pub fn report(&self) -> SummaryReport {
        let interval = self.interval95();
        SummaryReport {
            n: self.count(),
            non_finite: self.non_finite(),
            mean: self.mean(),
            std_error: self.std_error(),
            ci95_low: interval.map(|i| i.0),
            ci95_high: interval.map(|i| i.1),
            p5: None,
            p50: None,
            p95: None,
            min: None,
            max: None,
        }
    }
}
