//! The standard normal CDF Φ the rep's reach probabilities use (sim/MODEL.md §3.5, §3.6,
//! §7.3), tabulated once per process and interpolated.
//!
//! The effort search evaluates Φ at every point it tries for every bonus, and the operative
//! goal at every goal level: before this table, the Abramowitz & Stegun formula's division,
//! polynomial and `exp` were the largest single cost of a rep-month. A cubic Hermite
//! interpolant between nodes 1/16 apart, from Φ and its derivative φ at the nodes, costs one
//! multiplication, one conversion to an index, one table row and three multiply-adds, and
//! is closer to the true Φ than the formula was: |error| under 2.5e-8 (h⁴/384 · max|Φ⁗|
//! with h = 1/16), against the formula's 1.5e-7.

use std::sync::LazyLock;

use super::rep::SATURATED_Z;

/// Table nodes per unit of z.
const NODES_PER_UNIT: f64 = 16.0;
/// Intervals between nodes on [−SATURATED_Z, SATURATED_Z].
const INTERVALS: usize = (2.0 * SATURATED_Z * NODES_PER_UNIT) as usize;
/// Where the integral of φ for the lower tail starts: Φ(−12) ≈ 1.8e-33, nothing in f64
/// next to the values the table holds.
const TAIL_START: f64 = -12.0;
/// Simpson steps per table interval when integrating φ: the rule's error is then under
/// 1e-13 over the whole lower half.
const SIMPSON_STEPS: usize = 64;

/// Φ on [−SATURATED_Z, SATURATED_Z] as one cubic per interval between nodes.
#[derive(Debug, PartialEq)]
pub(crate) struct NormalTable {
    /// Per interval, Φ(z_i + s/16) = c0 + s·(c1 + s·(c2 + s·c3)) for s in [0, 1].
    cubics: Vec<[f64; 4]>,
}

static TABLE: LazyLock<NormalTable> = LazyLock::new(NormalTable::build);

/// The process's one table, built on first use.
pub(crate) fn table() -> &'static NormalTable {
    &TABLE
}

/// The standard normal density.
fn density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// ∫ φ over [a, b] by Simpson's rule in [`SIMPSON_STEPS`] steps.
fn simpson(a: f64, b: f64) -> f64 {
    let h = (b - a) / SIMPSON_STEPS as f64;
    let inner: f64 = (1..SIMPSON_STEPS)
        .map(|k| {
            let weight = if k % 2 == 1 { 4.0 } else { 2.0 };
            weight * density(a + h * k as f64)
        })
        .sum();
    (density(a) + inner + density(b)) * h / 3.0
}

impl NormalTable {
    fn build() -> Self {
        let step = 1.0 / NODES_PER_UNIT;
        let node = |i: usize| -SATURATED_Z + step * i as f64;
        // Φ at the nodes of the lower half, summed upward from far in the tail so that small
        // values keep their relative accuracy; the upper half by symmetry, 1 − Φ(−z).
        let half = INTERVALS / 2;
        let mut lower = Vec::with_capacity(half + 1);
        let mut sum = 0.0;
        let mut at = TAIL_START;
        while at + step <= -SATURATED_Z + 1e-12 {
            sum += simpson(at, at + step);
            at += step;
        }
        sum += simpson(at, -SATURATED_Z);
        lower.push(sum);
        for i in 1..=half {
            sum += simpson(node(i - 1), node(i));
            lower.push(sum);
        }
        let value = |i: usize| {
            if i <= half {
                lower[i]
            } else {
                1.0 - lower[INTERVALS - i]
            }
        };
        let cubics = (0..INTERVALS)
            .map(|i| {
                let (f0, f1) = (value(i), value(i + 1));
                let (d0, d1) = (step * density(node(i)), step * density(node(i + 1)));
                [
                    f0,
                    d0,
                    3.0 * (f1 - f0) - 2.0 * d0 - d1,
                    2.0 * (f0 - f1) + d0 + d1,
                ]
            })
            .collect();
        NormalTable { cubics }
    }

    /// Φ(z): exactly 1 from [`SATURATED_Z`] up and 0 from −[`SATURATED_Z`] down (where the
    /// true Φ is within 1e-17 of them), NaN for NaN.
    #[inline(always)]
    pub(crate) fn cdf(&self, z: f64) -> f64 {
        if z >= SATURATED_Z {
            return 1.0;
        }
        if z <= -SATURATED_Z {
            return 0.0;
        }
        let u = (z + SATURATED_Z) * NODES_PER_UNIT;
        // `as` floors a non-negative u (and maps NaN to 0, where s stays NaN); rounding can
        // put u at exactly INTERVALS, which is the last interval's end.
        let i = (u as usize).min(INTERVALS - 1);
        let s = u - i as f64;
        let [c0, c1, c2, c3] = self.cubics[i];
        c0 + s * (c1 + s * (c2 + s * c3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpolant's largest error: h⁴/384 · max|Φ⁗| = (1/16)⁴/384 · 0.55 ≈ 2.2e-8.
    const MAX_ERROR: f64 = 2.5e-8;

    /// Φ to double precision at a few points (from erfc in arbitrary precision).
    const REFERENCE: [(f64, f64); 7] = [
        (0.0, 0.5),
        (0.5, 0.691_462_461_274_013_1),
        (1.0, 0.841_344_746_068_543),
        (-1.96, 0.024_997_895_148_220_44),
        (3.0, 0.998_650_101_968_369_9),
        (-5.0, 2.866_515_718_791_939e-7),
        (-8.0, 6.220_960_574_271_784e-16),
    ];

    #[test]
    fn the_table_matches_reference_values_far_closer_than_the_old_formula() {
        let t = table();
        for (z, expected) in REFERENCE {
            let got = t.cdf(z);
            assert!(
                (got - expected).abs() < MAX_ERROR,
                "Φ({z}) = {got}, not {expected}"
            );
        }
    }

    #[test]
    fn the_tail_keeps_its_relative_accuracy() {
        let t = table();
        for (z, expected) in REFERENCE.iter().filter(|(z, _)| *z <= -5.0) {
            let relative = (t.cdf(*z) / expected - 1.0).abs();
            assert!(relative < 1e-3, "Φ({z}): relative error {relative:e}");
        }
    }

    /// The Abramowitz & Stegun 7.1.26 formula the table replaced (|error| < 1.5e-7).
    fn abramowitz_stegun(z: f64) -> f64 {
        let x = z.abs() / std::f64::consts::SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * x);
        let poly = t
            * (0.254_829_592
                + t * (-0.284_496_736
                    + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
        let erfc = poly * (-x * x).exp();
        if z >= 0.0 {
            1.0 - 0.5 * erfc
        } else {
            0.5 * erfc
        }
    }

    #[test]
    fn the_table_is_within_the_old_formulas_error_of_it_everywhere() {
        let t = table();
        let n = 200_000;
        let worst = (0..=n)
            .map(|k| {
                let z = -9.0 + 18.0 * f64::from(k) / f64::from(n);
                (t.cdf(z) - abramowitz_stegun(z)).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 1.5e-7 + MAX_ERROR, "largest difference {worst:e}");
    }

    #[test]
    fn the_interpolant_is_continuous_monotone_and_symmetric() {
        let t = table();
        let mut previous = 0.0;
        let n = 100_000;
        for k in 0..=n {
            let z = -9.0 + 18.0 * f64::from(k) / f64::from(n);
            let p = t.cdf(z);
            assert!(p >= previous, "Φ falls at {z}: {p} < {previous}");
            assert!((p + t.cdf(-z) - 1.0).abs() < 1e-12, "Φ({z}) + Φ(−{z}) ≠ 1");
            previous = p;
        }
        // At every node the two cubics meet.
        for i in 1..INTERVALS {
            let [c0, c1, c2, c3] = t.cubics[i - 1];
            assert!(
                (c0 + c1 + c2 + c3 - t.cubics[i][0]).abs() < 1e-15,
                "node {i}"
            );
        }
    }

    #[test]
    fn the_table_saturates_where_the_true_cdf_is_within_1e_17_of_0_or_1() {
        let t = table();
        assert_eq!(t.cdf(SATURATED_Z), 1.0);
        assert_eq!(t.cdf(-SATURATED_Z), 0.0);
        assert_eq!(t.cdf(f64::INFINITY), 1.0);
        assert_eq!(t.cdf(f64::NEG_INFINITY), 0.0);
        let inside = SATURATED_Z - 1e-9;
        assert_eq!(t.cdf(inside), 1.0);
        assert!(t.cdf(-inside) < 1e-17 && t.cdf(-inside) >= 0.0);
        assert!(t.cdf(f64::NAN).is_nan(), "NaN is not saturated");
    }
}
