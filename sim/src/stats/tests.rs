use std::fmt;

use super::*;

/// xorshift64*: a tiny deterministic generator for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Signed values spanning magnitudes 1e-3 to 1e6.
    fn spread(&mut self) -> f64 {
        let sign = if self.next() & 1 == 0 { 1.0 } else { -1.0 };
        sign * self.unit() * 10f64.powi(self.below(10) as i32 - 3)
    }

    /// Any finite f64, subnormals and extremes included.
    fn any_finite(&mut self) -> f64 {
        loop {
            let x = f64::from_bits(self.next());
            if x.is_finite() {
                return x;
            }
        }
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

fn spread_values(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Rng(seed);
    (0..n).map(|_| rng.spread()).collect()
}

fn exact_sum(values: &[f64]) -> ExactSum {
    let mut sum = ExactSum::new();
    values.iter().for_each(|&x| sum.add(x));
    sum
}

fn round_trip<T: Serialize + for<'de> Deserialize<'de>>(value: &T) -> T {
    let text = serde_json::to_string(value).expect("serialises");
    serde_json::from_str(&text).expect("deserialises")
}

// ---- ExactSum ----

#[test]
fn exact_sum_keeps_the_one_that_plain_addition_loses() {
    let values = [1e16, 1.0, -1e16];
    assert_ne!(values.iter().sum::<f64>(), 1.0);
    assert_eq!(exact_sum(&values).value(), 1.0);
}

#[test]
fn ten_tenths_sum_to_the_correctly_rounded_exact_value() {
    let tenths = [0.1; 10];
    assert_eq!(tenths.iter().sum::<f64>(), 0.999_999_999_999_999_9);
    let sum = exact_sum(&tenths);
    // Ten times the double nearest 0.1 is exactly 1 + 2^-54, which rounds to 1.
    assert_eq!(sum.to_exact_string(), "0x40000000000001p-54");
    assert_eq!(sum.value().to_bits(), 1.0f64.to_bits());
}

#[test]
fn value_rounds_half_to_even_and_uses_the_sticky_bits() {
    let half_ulp = 2f64.powi(-53);
    assert_eq!(exact_sum(&[1.0, half_ulp]).value(), 1.0);
    let just_above = exact_sum(&[1.0, half_ulp, 2f64.powi(-200)]).value();
    assert_eq!(just_above, 1.0 + f64::EPSILON);
    let odd = 1.0 + f64::EPSILON;
    assert_eq!(
        exact_sum(&[odd, half_ulp]).value(),
        1.0 + 2.0 * f64::EPSILON
    );
    assert_eq!(
        exact_sum(&[-odd, -half_ulp]).value(),
        -1.0 - 2.0 * f64::EPSILON
    );
}

#[test]
fn the_value_of_two_values_equals_ieee_addition_bit_for_bit() {
    let mut rng = Rng(17);
    for i in 0..20_000 {
        let a = rng.any_finite();
        // Half the pairs have nearby exponents, so that they actually interact.
        let near = a * (rng.unit() * 4.0 - 2.0);
        let b = if i % 2 == 0 || !near.is_finite() {
            rng.any_finite()
        } else {
            near
        };
        let expected = a + b;
        let got = exact_sum(&[a, b]).value();
        if expected == 0.0 {
            assert_eq!(got.to_bits(), 0, "{a:e} + {b:e}");
        } else {
            assert_eq!(got.to_bits(), expected.to_bits(), "{a:e} + {b:e}");
        }
        assert_eq!(exact_sum(&[a]).value(), a);
    }
}

#[test]
fn adding_then_subtracting_random_values_returns_exactly_zero() {
    let mut rng = Rng(99);
    let mut values: Vec<f64> = (0..3000).map(|_| rng.any_finite()).collect();
    let mut sum = exact_sum(&values);
    assert_ne!(sum, ExactSum::new());
    rng.shuffle(&mut values);
    values.iter().for_each(|&x| sum.add(-x));
    assert_eq!(sum, ExactSum::new());
    assert_eq!(sum.value().to_bits(), 0.0f64.to_bits());
}

#[test]
fn subnormals_and_the_largest_doubles_are_summed_exactly() {
    let tiny = f64::from_bits(1);
    assert_eq!(exact_sum(&[tiny, tiny, tiny]).value(), f64::from_bits(3));
    assert_eq!(exact_sum(&[f64::MAX, tiny, -f64::MAX]).value(), tiny);
    assert_eq!(
        exact_sum(&[f64::MAX, f64::MAX, -f64::MAX]).value(),
        f64::MAX
    );
    assert_eq!(exact_sum(&[f64::MAX, f64::MAX]).value(), f64::INFINITY);
    assert_eq!(
        exact_sum(&[-f64::MAX, -f64::MAX]).value(),
        f64::NEG_INFINITY
    );
    let smallest_normal = exact_sum(&[f64::MIN_POSITIVE, -tiny, tiny]).value();
    assert_eq!(smallest_normal, f64::MIN_POSITIVE);
    assert_eq!(
        exact_sum(&[f64::MIN_POSITIVE, -tiny]).value(),
        f64::from_bits((1 << 52) - 1)
    );
}

#[test]
fn two_to_the_64_maximal_doubles_do_not_overflow_the_accumulator() {
    let mut up = exact_sum(&[f64::MAX]);
    let mut down = exact_sum(&[-f64::MAX]);
    for _ in 0..64 {
        up.merge(&up.clone());
        down.merge(&down.clone());
    }
    assert_eq!(up.value(), f64::INFINITY);
    assert_eq!(down.value(), f64::NEG_INFINITY);
    up.merge(&down);
    assert_eq!(up, ExactSum::new());
}

#[test]
fn non_finite_values_are_counted_and_left_out() {
    let mut sum = exact_sum(&[f64::NAN, 1.0, f64::INFINITY, f64::NEG_INFINITY]);
    assert_eq!(sum.value(), 1.0);
    assert_eq!(sum.non_finite(), 3);
    sum.merge(&exact_sum(&[f64::NAN]));
    assert_eq!(sum.non_finite(), 4);
}

#[test]
fn the_order_of_additions_does_not_change_the_state() {
    let mut rng = Rng(5);
    let mut values: Vec<f64> = (0..4000)
        .map(|i| {
            if i % 5 == 0 {
                rng.any_finite()
            } else {
                rng.spread()
            }
        })
        .collect();
    let forward = exact_sum(&values);
    values.reverse();
    let reverse = exact_sum(&values);
    rng.shuffle(&mut values);
    let shuffled = exact_sum(&values);
    assert_eq!(forward, reverse);
    assert_eq!(forward, shuffled);
    assert_eq!(forward.value().to_bits(), shuffled.value().to_bits());

    let mut moments = [Moments::new(), Moments::new()];
    let mut sketches = [Sketch::new(), Sketch::new()];
    let spread = spread_values(6, 4000);
    for (k, order) in [spread.clone(), spread.iter().rev().copied().collect()]
        .iter()
        .enumerate()
    {
        order.iter().for_each(|&x| moments[k].add(x));
        order.iter().for_each(|&x| sketches[k].add(x));
    }
    assert_eq!(moments[0], moments[1]);
    assert_eq!(sketches[0], sketches[1]);
}

// ---- Merging ----

trait Fold: Clone + PartialEq + fmt::Debug {
    fn empty() -> Self;
    fn push(&mut self, x: f64);
    fn fold_in(&mut self, other: &Self);
}

macro_rules! fold_impl {
    ($t:ty, $empty:expr) => {
        impl Fold for $t {
            fn empty() -> Self {
                $empty
            }
            fn push(&mut self, x: f64) {
                self.add(x);
            }
            fn fold_in(&mut self, other: &Self) {
                self.merge(other);
            }
        }
    };
}

fold_impl!(ExactSum, ExactSum::new());
fold_impl!(Moments, Moments::new());
fold_impl!(Sketch, Sketch::new());
fold_impl!(Summary, Summary::new());

impl Fold for Histogram {
    fn empty() -> Self {
        Histogram::new(-50.0, 50.0, 37).expect("valid layout")
    }
    fn push(&mut self, x: f64) {
        self.add(x);
    }
    fn fold_in(&mut self, other: &Self) {
        self.merge(other).expect("same layout");
    }
}

/// Splits into 1, 2, 3 and 7 uneven chunks, folds each, and merges them in several orders.
fn assert_merge_equals_sequential<T: Fold>(values: &[f64]) {
    let mut sequential = T::empty();
    values.iter().for_each(|&x| sequential.push(x));
    let mut rng = Rng(11);
    for chunks in [1, 2, 3, 7] {
        let mut cuts: Vec<usize> = (1..chunks).map(|_| rng.below(values.len())).collect();
        cuts.extend([0, values.len()]);
        cuts.sort_unstable();
        let mut parts: Vec<T> = cuts
            .windows(2)
            .map(|w| {
                let mut part = T::empty();
                values[w[0]..w[1]].iter().for_each(|&x| part.push(x));
                part
            })
            .collect();
        for _ in 0..3 {
            let mut merged = T::empty();
            parts.iter().for_each(|p| merged.fold_in(p));
            assert_eq!(merged, sequential, "{chunks} chunks");
            // Merging into the last part rather than an empty one changes nothing either.
            let mut into_part = parts[parts.len() - 1].clone();
            parts[..parts.len() - 1]
                .iter()
                .rev()
                .for_each(|p| into_part.fold_in(p));
            assert_eq!(into_part, sequential, "{chunks} chunks, into a part");
            rng.shuffle(&mut parts);
        }
    }
}

fn merge_test_values() -> Vec<f64> {
    let mut values = spread_values(21, 3000);
    values.extend([
        0.0,
        -0.0,
        1e-13,
        f64::NAN,
        f64::INFINITY,
        50.0,
        -50.0,
        1e300,
        -1e-300,
    ]);
    Rng(22).shuffle(&mut values);
    values
}

#[test]
fn merged_chunks_of_exact_sums_equal_the_sequential_sum() {
    assert_merge_equals_sequential::<ExactSum>(&merge_test_values());
}

#[test]
fn merged_chunks_of_moments_equal_the_sequential_moments() {
    assert_merge_equals_sequential::<Moments>(&merge_test_values());
}

#[test]
fn merged_chunks_of_sketches_equal_the_sequential_sketch() {
    assert_merge_equals_sequential::<Sketch>(&merge_test_values());
}

#[test]
fn merged_chunks_of_histograms_equal_the_sequential_histogram() {
    assert_merge_equals_sequential::<Histogram>(&merge_test_values());
}

#[test]
fn merged_chunks_of_summaries_equal_the_sequential_summary() {
    assert_merge_equals_sequential::<Summary>(&merge_test_values());
}

// ---- Moments ----

fn moments_of(values: &[f64]) -> Moments {
    let mut moments = Moments::new();
    values.iter().for_each(|&x| moments.add(x));
    moments
}

fn assert_close(got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs(), "{got} vs {want}");
}

#[test]
fn mean_and_variance_match_a_two_pass_computation() {
    let mut rng = Rng(3);
    let values: Vec<f64> = (0..5000)
        .map(|_| 100.0 + 10.0 * (rng.unit() - 0.5))
        .collect();
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let moments = moments_of(&values);
    assert_eq!(moments.count(), 5000);
    assert_close(moments.mean().unwrap(), mean, 1e-12);
    assert_close(moments.variance().unwrap(), variance, 1e-12);
    assert_close(moments.std_dev().unwrap(), variance.sqrt(), 1e-12);
    assert_close(moments.std_error().unwrap(), (variance / n).sqrt(), 1e-12);
}

#[test]
fn variance_stays_exact_when_the_mean_dwarfs_the_spread() {
    let moments = moments_of(&[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0, 1e9 + 4.0]);
    assert_close(moments.variance().unwrap(), 5.0 / 3.0, 1e-15);
    assert_eq!(moments_of(&[7.25; 10]).variance(), Some(0.0));
}

#[test]
fn undefined_moments_are_none_for_zero_and_one_values() {
    let empty = Moments::new();
    assert_eq!(empty.count(), 0);
    assert_eq!(empty.mean(), None);
    assert_eq!(empty.variance(), None);
    assert_eq!(empty.interval95(), None);
    let one = moments_of(&[4.5]);
    assert_eq!(one.mean(), Some(4.5));
    assert_eq!(one.variance(), None);
    assert_eq!(one.std_dev(), None);
    assert_eq!(one.std_error(), None);
    assert_eq!(one.interval95(), None);
}

#[test]
fn the_interval_uses_the_student_t_quantile_for_small_samples() {
    let two = moments_of(&[1.0, 3.0]);
    // Mean 2, standard error 1, so the half-width is t(1 df) = 12.706.
    let (low, high) = two.interval95().unwrap();
    assert_close(2.0 - low, 12.706, 1e-4);
    assert_close(high - 2.0, 12.706, 1e-4);
    assert_close(t_975(10), 2.228, 1e-3);
    assert!((t_975(30) - t_975(31)).abs() < 0.003);
    assert_close(t_975(1000), 1.9623, 1e-4);
    assert_close(t_975(u64::MAX), 1.96, 1e-3);
}

#[test]
fn non_finite_values_are_not_counted_as_observations() {
    let moments = moments_of(&[1.0, f64::NAN, 3.0, f64::INFINITY]);
    assert_eq!(moments.count(), 2);
    assert_eq!(moments.non_finite(), 2);
    assert_eq!(moments.mean(), Some(2.0));
    assert_eq!(moments_of(&[1e200, -1e200]).variance(), Some(f64::INFINITY));
}

// ---- Sketch ----

fn sketch_of(values: &[f64]) -> Sketch {
    let mut sketch = Sketch::new();
    values.iter().for_each(|&x| sketch.add(x));
    sketch
}

fn true_quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
}

fn assert_within_alpha(got: f64, want: f64) {
    assert!(
        (got - want).abs() <= Sketch::RELATIVE_ACCURACY * want.abs(),
        "{got} vs {want}"
    );
}

#[test]
fn sketch_quantiles_of_one_to_ten_thousand_are_within_alpha() {
    let values: Vec<f64> = (1..=10_000).map(f64::from).collect();
    let mut shuffled = values.clone();
    Rng(8).shuffle(&mut shuffled);
    let sketch = sketch_of(&shuffled);
    assert_eq!(sketch.count(), 10_000);
    for i in 0..=1000 {
        let q = f64::from(i) / 1000.0;
        assert_within_alpha(sketch.quantile(q).unwrap(), true_quantile(&values, q));
    }
    assert_eq!(sketch.quantile(0.0), Some(1.0));
    assert_eq!(sketch.quantile(1.0), Some(10_000.0));
    assert!(sketch.bucket_count() < 1500, "{}", sketch.bucket_count());
}

#[test]
fn sketch_handles_negative_zero_and_positive_values() {
    let mut rng = Rng(12);
    let mut values: Vec<f64> = (0..3000).map(|_| rng.spread()).collect();
    values.extend([0.0; 200]);
    values.extend([5e-13, -5e-13]);
    let sketch = sketch_of(&values);
    values.sort_by(f64::total_cmp);
    assert_eq!(sketch.min(), Some(values[0]));
    assert_eq!(sketch.max(), Some(values[values.len() - 1]));
    for i in 0..=200 {
        let q = f64::from(i) / 200.0;
        let (got, want) = (sketch.quantile(q).unwrap(), true_quantile(&values, q));
        if want.abs() < Sketch::ZERO_THRESHOLD {
            assert!(got.abs() < Sketch::ZERO_THRESHOLD, "q={q}: {got}");
        } else {
            assert_within_alpha(got, want);
        }
    }
}

#[test]
fn every_bucket_representative_is_within_alpha_of_its_values() {
    let mut rng = Rng(31);
    for _ in 0..50_000 {
        let x = rng.any_finite().abs();
        if x >= Sketch::ZERO_THRESHOLD {
            assert_within_alpha(bucket_value(bucket_index(x)), x);
        }
    }
}

#[test]
fn an_empty_sketch_has_no_quantiles_and_bad_q_is_rejected() {
    let empty = Sketch::new();
    assert_eq!(empty.quantile(0.5), None);
    assert_eq!(empty.min(), None);
    assert_eq!(empty.max(), None);
    let sketch = sketch_of(&[1.0, 2.0, f64::NAN]);
    assert_eq!(sketch.non_finite(), 1);
    assert_eq!(sketch.quantile(-0.1), None);
    assert_eq!(sketch.quantile(1.5), None);
    assert_eq!(sketch.quantile(f64::NAN), None);
}

#[test]
fn the_minimum_of_signed_zeros_does_not_depend_on_order() {
    let a = sketch_of(&[0.0, -0.0]);
    let b = sketch_of(&[-0.0, 0.0]);
    assert_eq!(a.min().unwrap().to_bits(), (-0.0f64).to_bits());
    assert_eq!(a.min().unwrap().to_bits(), b.min().unwrap().to_bits());
    assert_eq!(a.max().unwrap().to_bits(), 0);
}

// ---- Histogram ----

#[test]
fn bad_histogram_layouts_are_rejected() {
    assert!(Histogram::new(1.0, 1.0, 10).is_err());
    assert!(Histogram::new(2.0, 1.0, 10).is_err());
    assert!(Histogram::new(f64::NAN, 1.0, 10).is_err());
    assert!(Histogram::new(0.0, f64::INFINITY, 10).is_err());
    assert!(Histogram::new(-f64::MAX, f64::MAX, 10).is_err());
    assert_eq!(Histogram::new(0.0, 1.0, 0), Err(HistogramError::BadBins(0)));
    assert!(Histogram::new(0.0, 1.0, Histogram::MAX_BINS + 1).is_err());
    assert!(Histogram::new(1.0, 1.0 + f64::EPSILON, 4).is_err());
    assert!(Histogram::new(0.0, 1.0, Histogram::MAX_BINS).is_ok());
}

#[test]
fn histogram_counts_bins_underflow_and_overflow() {
    let mut histogram = Histogram::new(0.0, 10.0, 5).unwrap();
    let values = [
        -1.0,
        0.0,
        1.999,
        2.0,
        5.0,
        9.999,
        10.0,
        11.0,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    values.iter().for_each(|&x| histogram.add(x));
    assert_eq!(histogram.bin_edges(), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(histogram.counts(), &[2, 1, 1, 0, 1]);
    assert_eq!(histogram.underflow(), 2);
    assert_eq!(histogram.overflow(), 2);
    assert_eq!(histogram.nan(), 1);
    assert_eq!(histogram.total(), values.len() as u64);
}

#[test]
fn values_on_awkward_edges_land_in_the_bin_the_edges_describe() {
    let mut histogram = Histogram::new(0.1, 0.7, 3).unwrap();
    let edges = histogram.bin_edges();
    for &x in &edges[..3] {
        histogram.add(x);
        histogram.add(f64::from_bits(x.to_bits() - 1));
    }
    assert_eq!(histogram.counts(), &[2, 2, 1]);
    assert_eq!(histogram.underflow(), 1);
}

#[test]
fn merging_histograms_with_different_layouts_is_an_error() {
    let mut a = Histogram::new(0.0, 10.0, 5).unwrap();
    a.add(3.0);
    let before = a.clone();
    for other in [(0.0, 10.0, 6), (0.0, 11.0, 5), (-1.0, 10.0, 5)] {
        let b = Histogram::new(other.0, other.1, other.2).unwrap();
        assert_eq!(a.merge(&b), Err(HistogramError::LayoutMismatch));
    }
    assert_eq!(a, before);
    assert!(a.merge(&Histogram::new(-0.0, 10.0, 5).unwrap()).is_ok());
}

// ---- Summary ----

#[test]
fn the_summary_report_agrees_with_its_parts() {
    let values: Vec<f64> = (1..=1000).map(f64::from).collect();
    let mut summary = Summary::new();
    values.iter().for_each(|&x| summary.add(x));
    summary.add(f64::NAN);
    let report = summary.report();
    assert_eq!(report.n, 1000);
    assert_eq!(report.non_finite, 1);
    assert_eq!(report.mean, Some(500.5));
    assert_eq!(report.min, Some(1.0));
    assert_eq!(report.max, Some(1000.0));
    assert_within_alpha(report.p5.unwrap(), 50.0);
    assert_within_alpha(report.p50.unwrap(), 500.0);
    assert_within_alpha(report.p95.unwrap(), 950.0);
    let (low, high) = (report.ci95_low.unwrap(), report.ci95_high.unwrap());
    assert_close(high - 500.5, 1.9623 * report.std_error.unwrap(), 1e-3);
    assert_close(500.5 - low, high - 500.5, 1e-12);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["n"], 1000);
    assert!(Summary::new().report().mean.is_none());
}

// ---- Serde ----

#[test]
fn exact_sums_survive_a_json_round_trip() {
    let mut rng = Rng(40);
    let mut cases = vec![
        ExactSum::new(),
        exact_sum(&[1.0]),
        exact_sum(&[-10.0, f64::NAN]),
        exact_sum(&[f64::from_bits(1)]),
        exact_sum(&[-f64::from_bits(1)]),
        exact_sum(&[0.1; 10]),
    ];
    let mut huge = exact_sum(&[-f64::MAX]);
    for _ in 0..70 {
        huge.merge(&huge.clone());
    }
    cases.push(huge);
    cases.extend((0..50).map(|_| exact_sum(&[rng.any_finite(), rng.any_finite(), 1e-300])));
    for sum in &cases {
        assert_eq!(&round_trip(sum), sum);
    }
    assert_eq!(exact_sum(&[0.1]).to_exact_string(), "0xccccccccccccdp-55");
    assert_eq!(
        serde_json::to_string(&exact_sum(&[-10.0])).unwrap(),
        r#"{"sum":"-0x5p1","non_finite":0}"#
    );
}

#[test]
fn malformed_exact_sums_are_rejected() {
    for bad in [
        "",
        "1",
        "0x",
        "0xp1",
        "0x1",
        "0x1p",
        "0xgp0",
        "+0x1p0",
        "0x1p-1075",
        "0x1p2000",
    ] {
        let json = format!(r#"{{"sum":"{bad}","non_finite":0}}"#);
        assert!(
            serde_json::from_str::<ExactSum>(&json).is_err(),
            "{bad:?} accepted"
        );
    }
    let lenient: ExactSum = serde_json::from_str(r#"{"sum":"0x0010p-4","non_finite":2}"#).unwrap();
    assert_eq!(lenient.value(), 1.0);
    assert_eq!(lenient.non_finite(), 2);
}

#[test]
fn exact_f64_text_preserves_every_bit() {
    let mut rng = Rng(41);
    let special = [
        0.0,
        -0.0,
        0.1 + 0.2,
        f64::from_bits(1),
        f64::MAX,
        -f64::MAX,
        f64::INFINITY,
    ];
    for x in special
        .into_iter()
        .chain((0..1000).map(|_| rng.any_finite()))
    {
        assert_eq!(
            exact_f64::from_text(&exact_f64::to_text(x))
                .unwrap()
                .to_bits(),
            x.to_bits()
        );
    }
    assert!(exact_f64::from_text("0x1p2000").is_none());
    assert!(exact_f64::from_text("0x20000000000001p0").is_none());
}

#[test]
fn moments_sketches_histograms_and_summaries_survive_a_json_round_trip() {
    let values = merge_test_values();
    let moments = moments_of(&values);
    assert_eq!(round_trip(&moments), moments);
    assert_eq!(round_trip(&Moments::new()), Moments::new());
    let sketch = sketch_of(&values);
    assert_eq!(round_trip(&sketch), sketch);
    assert_eq!(round_trip(&Sketch::new()), Sketch::new());
    let awkward = sketch_of(&[0.1 + 0.2, -0.0, 1e-310]);
    assert_eq!(
        round_trip(&awkward).min().unwrap().to_bits(),
        (-0.0f64).to_bits()
    );
    assert_eq!(round_trip(&awkward), awkward);
    let mut histogram = Histogram::new(0.1, 0.1 + 0.2, 7).unwrap();
    values.iter().for_each(|&x| histogram.add(x / 1000.0));
    assert_eq!(round_trip(&histogram), histogram);
    let mut summary = Summary::new();
    values.iter().for_each(|&x| summary.add(x));
    assert_eq!(round_trip(&summary), summary);
}

#[test]
fn inconsistent_serialised_sketches_and_histograms_are_rejected() {
    let mut json = serde_json::to_value(sketch_of(&[1.0, 2.0])).unwrap();
    json["count"] = 3.into();
    assert!(serde_json::from_value::<Sketch>(json).is_err());
    let mut json = serde_json::to_value(Histogram::new(0.0, 1.0, 4).unwrap()).unwrap();
    json["counts"] = serde_json::json!([]);
    assert!(serde_json::from_value::<Histogram>(json.clone()).is_err());
    json["counts"] = serde_json::json!([0, 0]);
    json["hi"] = "-0x1p0".into();
    assert!(serde_json::from_value::<Histogram>(json).is_err());
}
