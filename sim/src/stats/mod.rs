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

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(test)]
mod tests;

/// Number of 64-bit limbs in an [`ExactSum`]: 2176 bits. A finite `f64` spans bits 0..=2097
/// counted from 2^-1074, leaving 77 bits of carry headroom below the sign bit.
const LIMBS: usize = 34;
/// Power of two of the accumulator's least significant bit.
const LSB_EXPONENT: i64 = -1074;
const FRAC_MASK: u64 = (1 << 52) - 1;

/// The exact sum of any number of finite `f64` values: a Kulisch-style superaccumulator.
///
/// The state is a 2176-bit two's-complement integer (34 `u64` limbs, least significant
/// first) counting units of 2^-1074, the smallest subnormal. Every finite `f64` is an integer
/// multiple of that unit below 2^2098, so [`add`](Self::add) is an exact integer addition
/// touching two limbs plus a carry that rarely travels; the 77 bits of headroom mean that even
/// 2^64 additions of `f64::MAX` cannot overflow. Because integer addition is associative and
/// commutative, the state after adding a multiset of values, or merging partial sums of it,
/// is the same in any order.
///
/// Non-finite values are not added; they are counted, see [`non_finite`](Self::non_finite).
///
/// # Serialised form
///
/// `{"sum": "<exact>", "non_finite": <u64>}`, where `<exact>` is `"0"` or
/// `[-]0x<M>p<E>`: the sum is exactly ±M × 2^E, with M a lowercase hexadecimal integer
/// (odd, so the text is canonical) and E a decimal integer. For example `1.0` is `"0x1p0"`,
/// `-10.0` is `"-0x5p1"` and `0.1` is `"0xccccccccccccdp-55"`. Deserialising accepts any M
/// (leading or trailing zeros included) whose value fits the accumulator.
#[derive(Clone, PartialEq, Eq)]
pub struct ExactSum {
    limbs: [u64; LIMBS],
    non_finite: u64,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactSum {
    /// An empty sum, worth zero.
    pub fn new() -> Self {
        Self {
            limbs: [0; LIMBS],
            non_finite: 0,
        }
    }

    /// Adds `x` exactly. NaN and ±∞ are not added but counted in
    /// [`non_finite`](Self::non_finite).
    #[inline]
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.non_finite = self.non_finite.saturating_add(1);
            return;
        }
        let bits = x.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as usize;
        let frac = bits & FRAC_MASK;
        // x = mantissa × 2^(shift - 1074).
        let (mantissa, shift) = match biased {
            0 if frac == 0 => return,
            0 => (frac, 0),
            _ => (frac | 1 << 52, biased - 1),
        };
        let index = shift / 64;
        let wide = u128::from(mantissa) << (shift % 64);
        let (low, high) = (wide as u64, (wide >> 64) as u64);
        let limbs = &mut self.limbs;
        if bits >> 63 == 0 {
            let (l0, c0) = limbs[index].overflowing_add(low);
            let (l1, c1) = limbs[index + 1].overflowing_add(high);
            let (l1, c2) = l1.overflowing_add(u64::from(c0));
            limbs[index] = l0;
            limbs[index + 1] = l1;
            if c1 || c2 {
                for limb in &mut limbs[index + 2..] {
                    let (v, carry) = limb.overflowing_add(1);
                    *limb = v;
                    if !carry {
                        break;
                    }
                }
            }
        } else {
            let (l0, b0) = limbs[index].overflowing_sub(low);
            let (l1, b1) = limbs[index + 1].overflowing_sub(high);
            let (l1, b2) = l1.overflowing_sub(u64::from(b0));
            limbs[index] = l0;
            limbs[index + 1] = l1;
            if b1 || b2 {
                for limb in &mut limbs[index + 2..] {
                    let (v, borrow) = limb.overflowing_sub(1);
                    *limb = v;
                    if !borrow {
                        break;
                    }
                }
            }
        }
    }

    /// Adds another partial sum (and its count of non-finite values) exactly.
    pub fn merge(&mut self, other: &ExactSum) {
        let mut carry = false;
        for (limb, &o) in self.limbs.iter_mut().zip(&other.limbs) {
            let (v, c1) = limb.overflowing_add(o);
            let (v, c2) = v.overflowing_add(u64::from(carry));
            *limb = v;
            carry = c1 || c2;
        }
        self.non_finite = self.non_finite.saturating_add(other.non_finite);
    }

    /// The sum rounded once to the nearest `f64` (ties to even); ±∞ if it is beyond the
    /// `f64` range. An exact zero is `+0.0`. Depends only on the state, not on how it was
    /// reached.
    pub fn value(&self) -> f64 {
        if self.is_negative() {
            -magnitude_to_f64(&negated(&self.limbs))
        } else {
            magnitude_to_f64(&self.limbs)
        }
    }

    /// How many NaN or infinite values were offered to [`add`](Self::add) (and merged in)
    /// and left out of the sum.
    pub fn non_finite(&self) -> u64 {
        self.non_finite
    }

    fn is_negative(&self) -> bool {
        self.limbs[LIMBS - 1] >> 63 == 1
    }

    /// The exact text form described on the type.
    fn to_exact_string(&self) -> String {
        let negative = self.is_negative();
        let mut mag = if negative {
            negated(&self.limbs)
        } else {
            self.limbs
        };
        let Some(low) = mag.iter().position(|&l| l != 0) else {
            return "0".to_owned();
        };
        let zeros = low * 64 + mag[low].trailing_zeros() as usize;
        shift_right(&mut mag, zeros);
        let top = mag.iter().rposition(|&l| l != 0).unwrap_or(0);
        let mut text = String::with_capacity(24 + 16 * top);
        if negative {
            text.push('-');
        }
        text.push_str(&format!("0x{:x}", mag[top]));
        for limb in mag[..top].iter().rev() {
            text.push_str(&format!("{limb:016x}"));
        }
        text.push_str(&format!("p{}", zeros as i64 + LSB_EXPONENT));
        text
    }

    /// Parses the exact text form; `None` if malformed or out of range.
    fn from_exact_str(text: &str) -> Option<Self> {
        let mut sum = Self::new();
        if text == "0" {
            return Some(sum);
        }
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (digits, exponent) = rest.strip_prefix("0x")?.split_once('p')?;
        let exponent: i64 = exponent.parse().ok()?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut mag = [0u64; LIMBS];
        for (i, digit) in digits.bytes().rev().enumerate() {
            let digit = u64::from(char::from(digit).to_digit(16)?);
            if digit != 0 {
                *mag.get_mut(i / 16)? |= digit << (4 * (i % 16));
            }
        }
        let shift = usize::try_from(exponent.checked_sub(LSB_EXPONENT)?).ok();
        let any = mag.iter().any(|&l| l != 0);
        if any && !shift_left(&mut mag, shift?) {
            return None;
        }
        sum.limbs = if negative { negated(&mag) } else { mag };
        // The sign bit must agree with the sign written (zero is fine either way).
        (!any || sum.is_negative() == negative).then_some(sum)
    }
}

impl fmt::Debug for ExactSum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExactSum")
            .field("value", &self.value())
            .field("exact", &self.to_exact_string())
            .field("non_finite", &self.non_finite)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct ExactSumRepr {
    sum: String,
    non_finite: u64,
}

impl Serialize for ExactSum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ExactSumRepr {
            sum: self.to_exact_string(),
            non_finite: self.non_finite,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExactSum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = ExactSumRepr::deserialize(deserializer)?;
        let mut sum = ExactSum::from_exact_str(&repr.sum).ok_or_else(|| {
            D::Error::custom(format!(
                "`{}` is not an exact sum (±0x<hex>p<exp>)",
                repr.sum
            ))
        })?;
        sum.non_finite = repr.non_finite;
        Ok(sum)
    }
}

/// Two's-complement negation.
fn negated(limbs: &[u64; LIMBS]) -> [u64; LIMBS] {
    let mut out = [0u64; LIMBS];
    let mut carry = true;
    for (o, &l) in out.iter_mut().zip(limbs) {
        let (v, c) = (!l).overflowing_add(u64::from(carry));
        *o = v;
        carry = c;
    }
    out
}

fn shift_right(limbs: &mut [u64; LIMBS], bits: usize) {
    let (whole, part) = (bits / 64, bits % 64);
    for i in 0..LIMBS {
        let lo = limbs.get(i + whole).copied().unwrap_or(0);
        let hi = limbs.get(i + whole + 1).copied().unwrap_or(0);
        limbs[i] = if part == 0 {
            lo
        } else {
            lo >> part | hi << (64 - part)
        };
    }
}

/// Shifts left; `false` (leaving garbage) if a set bit would fall off the top.
fn shift_left(limbs: &mut [u64; LIMBS], bits: usize) -> bool {
    let (whole, part) = (bits / 64, bits % 64);
    if whole >= LIMBS {
        return false;
    }
    let lost_whole = limbs[LIMBS - whole..].iter().any(|&l| l != 0);
    let lost_part = part != 0 && limbs[LIMBS - 1 - whole] >> (64 - part) != 0;
    if lost_whole || lost_part {
        return false;
    }
    for i in (0..LIMBS).rev() {
        let lo = i.checked_sub(whole).map_or(0, |j| limbs[j]);
        let below = i.checked_sub(whole + 1).map_or(0, |j| limbs[j]);
        limbs[i] = if part == 0 {
            lo
        } else {
            lo << part | below >> (64 - part)
        };
    }
    true
}

/// Rounds a non-negative accumulator (units of 2^-1074) to the nearest `f64`, ties to even.
fn magnitude_to_f64(mag: &[u64; LIMBS]) -> f64 {
    let Some(top) = mag.iter().rposition(|&l| l != 0) else {
        return 0.0;
    };
    let highest = top * 64 + 63 - mag[top].leading_zeros() as usize;
    if highest < 53 {
        // Below 2^53 units the bit pattern of the f64 is the integer itself (subnormals, and
        // normals with the smallest exponent, whose implicit bit lands in the exponent field).
        return f64::from_bits(mag[0]);
    }
    let shift = highest - 52;
    let bits_at = |pos: usize| -> u64 {
        let lo = u128::from(mag[pos / 64]);
        let hi = u128::from(mag.get(pos / 64 + 1).copied().unwrap_or(0));
        ((hi << 64 | lo) >> (pos % 64)) as u64
    };
    let mut mantissa = bits_at(shift) & ((1 << 53) - 1);
    let round = bits_at(shift - 1) & 1 == 1;
    let sticky_pos = shift - 1;
    let sticky = mag[..sticky_pos / 64].iter().any(|&l| l != 0)
        || mag[sticky_pos / 64] & ((1u64 << (sticky_pos % 64)) - 1) != 0;
    let mut shift = shift as u64;
    if round && (sticky || mantissa & 1 == 1) {
        mantissa += 1;
        if mantissa == 1 << 53 {
            mantissa >>= 1;
            shift += 1;
        }
    }
    // mantissa × 2^(shift - 1074) with a 53-bit mantissa has biased exponent shift + 1.
    let biased = shift + 1;
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    f64::from_bits(biased << 52 | (mantissa & FRAC_MASK))
}

/// Exact serde form for `f64` state fields: the [`ExactSum`] text form, plus `"-0"`, `"inf"`,
/// `"-inf"` and `"NaN"`.
mod exact_f64 {
    use super::*;

    pub(super) fn to_text(x: f64) -> String {
        match x {
            _ if x.is_nan() => "NaN".to_owned(),
            f64::INFINITY => "inf".to_owned(),
            f64::NEG_INFINITY => "-inf".to_owned(),
            _ if x == 0.0 && x.is_sign_negative() => "-0".to_owned(),
            _ => {
                let mut sum = ExactSum::new();
                sum.add(x);
                sum.to_exact_string()
            }
        }
    }

    pub(super) fn from_text(text: &str) -> Option<f64> {
        match text {
            "NaN" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "-0" => Some(-0.0),
            _ => {
                let sum = ExactSum::from_exact_str(text)?;
                let x = sum.value();
                let mut check = ExactSum::new();
                check.add(x);
                (check == sum).then_some(x)
            }
        }
    }

    fn parse<E: serde::de::Error>(text: &str) -> Result<f64, E> {
        from_text(text).ok_or_else(|| E::custom(format!("`{text}` is not an exact f64")))
    }

    pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_text(*x))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        parse(&String::deserialize(d)?)
    }

    pub(super) mod option {
        use super::*;

        pub(in super::super) fn serialize<S: Serializer>(
            x: &Option<f64>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            x.map(to_text).serialize(s)
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<f64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| parse(&t))
                .transpose()
        }
    }
}

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
fn t_975(df: u64) -> f64 {
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
fn bucket_index(magnitude: f64) -> i32 {
    let bits = magnitude.to_bits();
    let exponent = (bits >> 52) as i32 - 1023;
    let sub = ((bits & FRAC_MASK) * BUCKETS_PER_OCTAVE as u64) >> 52;
    exponent * BUCKETS_PER_OCTAVE + sub as i32
}

/// The representative magnitude of a sketch bucket: the harmonic mean 2ab/(a + b) of its
/// bounds a = (1 + k/100)·2^e and b = (1 + (k+1)/100)·2^e.
fn bucket_value(index: i32) -> f64 {
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
/// (the mean with none, the standard error and interval with fewer than two) are `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryReport {
    /// How many finite values were summarised.
    pub n: u64,
    /// How many NaN or infinite values were offered and left out.
    pub non_finite: u64,
    /// The mean.
    pub mean: Option<f64>,
    /// The standard error of the mean.
    pub std_error: Option<f64>,
    /// Lower end of the 95 % confidence interval for the mean (Student t).
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % confidence interval for the mean.
    pub ci95_high: Option<f64>,
    /// 5th percentile (sketch, relative error ≤ [`Sketch::RELATIVE_ACCURACY`]).
    pub p5: Option<f64>,
    /// Median (sketch).
    pub p50: Option<f64>,
    /// 95th percentile (sketch).
    pub p95: Option<f64>,
    /// Exact minimum.
    pub min: Option<f64>,
    /// Exact maximum.
    pub max: Option<f64>,
}
