//! Estimators: rates read straight off the records (with Jeffreys or Gamma intervals), and
//! the simulated-moments block solved by a damped chord (Newton) iteration on common random
//! numbers, with the sandwich variance of indirect inference (sim/MODEL.md §12.3).

use super::moments::Rate;
use crate::uncertainty::Scale;

/// z for a two-sided 90% interval.
pub(crate) const Z90: f64 = 1.644_853_626_951_472_2;

/// An estimate on a scale, with its sd there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) value: f64,
    /// Standard deviation on `scale`.
    pub(crate) sd: f64,
    pub(crate) scale: Scale,
}

impl Estimate {
    pub(crate) fn interval(&self, lo: f64, hi: f64) -> (f64, f64) {
        let y = self.scale.to_scale(self.value);
        (
            self.scale.from_scale(y - Z90 * self.sd).clamp(lo, hi),
            self.scale.from_scale(y + Z90 * self.sd).clamp(lo, hi),
        )
    }
}

/// A probability from `events` of `trials` (Jeffreys prior: the posterior median, and the
/// logit-scale sd of the Beta(e + ½, n − e + ½) posterior).
pub(crate) fn probability(rate: Rate) -> Option<Estimate> {
    if rate.exposure < 1.0 {
        return None;
    }
    let a = rate.events + 0.5;
    let b = (rate.exposure - rate.events).max(0.0) + 0.5;
    // Median of Beta(a, b) ≈ (a − 1/3)/(a + b − 2/3) for a, b ≥ 1; the mean below that.
    let value = if a >= 1.0 && b >= 1.0 {
        (a - 1.0 / 3.0) / (a + b - 2.0 / 3.0)
    } else {
        a / (a + b)
    };
    Some(Estimate {
        value,
        sd: (1.0 / a + 1.0 / b).sqrt(),
        scale: Scale::Logit,
    })
}

/// A rate per unit of exposure (events Poisson): its value and log-scale sd.
pub(crate) fn rate(rate: Rate) -> Option<Estimate> {
    if rate.exposure <= 0.0 {
        return None;
    }
    let events = rate.events + 0.5;
    Some(Estimate {
        value: events / rate.exposure,
        sd: 1.0 / events.sqrt(),
        scale: Scale::Log,
    })
}

/// Monthly attrition hazard `h·(1 + a·misses)` fitted by Poisson maximum likelihood to
/// departures and exposure by consecutive misses (0, 1, 2, 3+). Returns (h, a) with the sd
/// of log h and of a from the observed information; when the records do not pin a down
/// (too few rep-months after misses, or an sd of 2 or more), a is `None` and h is fitted
/// with a at `default_a`.
pub(crate) fn attrition(
    by_misses: &[Rate; 4],
    default_a: f64,
) -> Option<(Estimate, Option<Estimate>)> {
    let events: f64 = by_misses.iter().map(|r| r.events).sum();
    let exposure: f64 = by_misses.iter().map(|r| r.exposure).sum();
    if exposure < 12.0 {
        return None;
    }
    let loglik = |a: f64| -> (f64, f64) {
        let weighted: f64 = by_misses
            .iter()
            .enumerate()
            .map(|(k, r)| r.exposure * (1.0 + a * k as f64))
            .sum();
        let h = (events + 0.5) / weighted;
        let ll = by_misses
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let mu = h * (1.0 + a * k as f64);
                r.events * mu.ln() - mu * r.exposure
            })
            .sum();
        (ll, h)
    };
    // Golden-section search for the multiplier a on [0, 10] (profile likelihood).
    let (mut lo, mut hi) = (0.0f64, 10.0f64);
    let g = 0.618_033_988_749_895;
    for _ in 0..60 {
        let x1 = hi - g * (hi - lo);
        let x2 = lo + g * (hi - lo);
        if loglik(x1).0 < loglik(x2).0 {
            lo = x1;
        } else {
            hi = x2;
        }
    }
    let a = 0.5 * (lo + hi);
    let h_at = |a: f64| Estimate {
        value: loglik(a).1,
        sd: 1.0 / (events + 0.5).sqrt(),
        scale: Scale::Log,
    };
    let missed: f64 = by_misses[1..].iter().map(|r| r.exposure).sum();
    if missed < 24.0 || events < 3.0 {
        return Some((h_at(default_a), None));
    }
    // Curvature of the profile log-likelihood in a, by central differences.
    let step = 0.05f64.max(a * 0.05);
    let (l0, l1, l2) = (loglik(a - step).0, loglik(a).0, loglik(a + step).0);
    let curvature = (l0 - 2.0 * l1 + l2) / (step * step);
    let sd_a = if curvature < 0.0 {
        (-1.0 / curvature).sqrt()
    } else {
        f64::INFINITY
    };
    if sd_a >= 2.0 {
        return Some((h_at(default_a), None));
    }
    Some((
        h_at(a),
        Some(Estimate {
            value: a,
            sd: sd_a,
            scale: Scale::Linear,
        }),
    ))
}

/// Solves the square linear system `a·x = b` (Gaussian elimination with partial pivoting);
/// `None` when it is singular.
pub(crate) fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            let (upper, lower) = a.split_at_mut(row);
            for (x, p) in lower[0][col..n].iter_mut().zip(&upper[col][col..n]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// The inverse of a square matrix, column by column.
pub(crate) fn inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut cols = Vec::with_capacity(n);
    for j in 0..n {
        let e: Vec<f64> = (0..n).map(|i| if i == j { 1.0 } else { 0.0 }).collect();
        cols.push(solve(a.to_vec(), e)?);
    }
    Some(
        (0..n)
            .map(|i| (0..n).map(|j| cols[j][i]).collect())
            .collect(),
    )
}

/// Sample covariance of the rows of `x` (each row one replication's moments).
pub(crate) fn covariance(x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = x.len();
    let k = x.first().map_or(0, Vec::len);
    let means: Vec<f64> = (0..k)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n as f64)
        .collect();
    (0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    x.iter()
                        .map(|r| (r[i] - means[i]) * (r[j] - means[j]))
                        .sum::<f64>()
                        / (n.max(2) - 1) as f64
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_system_is_solved_and_a_singular_one_refused() {
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
        assert!(solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], vec![1.0, 2.0]).is_none());
    }

    #[test]
    fn a_probability_interval_covers_its_rate() {
        let e = probability(Rate {
            events: 30.0,
            exposure: 500.0,
        })
        .unwrap();
        let (lo, hi) = e.interval(0.0, 1.0);
        assert!(lo < 0.06 && 0.06 < hi && hi - lo < 0.05, "{lo} {hi}");
    }

    #[test]
    fn attrition_recovers_the_hazard_and_the_effect_of_misses() {
        // h = 1%/month, a = 0.5: rate 1%, 1.5%, 2%, 2.5% over large exposures.
        let by = [
            Rate {
                events: 100.0,
                exposure: 10_000.0,
            },
            Rate {
                events: 75.0,
                exposure: 5_000.0,
            },
            Rate {
                events: 40.0,
                exposure: 2_000.0,
            },
            Rate {
                events: 25.0,
                exposure: 1_000.0,
            },
        ];
        let (h, a) = attrition(&by, 0.25).unwrap();
        let a = a.unwrap();
        assert!((h.value - 0.01).abs() < 0.001, "{}", h.value);
        assert!((a.value - 0.5).abs() < 0.1, "{}", a.value);
        assert!(a.sd < 0.2, "{}", a.sd);
    }
}
