//! [`ExactSum`], the Kulisch superaccumulator every other summary is built on, and the
//! exact text form of `f64` state fields.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Number of 64-bit limbs in an [`ExactSum`]: 2176 bits. A finite `f64` spans bits 0..=2097
/// counted from 2^-1074, leaving 77 bits of carry headroom below the sign bit.
const LIMBS: usize = 34;
/// Power of two of the accumulator's least significant bit.
const LSB_EXPONENT: i64 = -1074;
pub(super) const FRAC_MASK: u64 = (1 << 52) - 1;

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
    pub(super) fn to_exact_string(&self) -> String {
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
    pub(super) fn from_exact_str(text: &str) -> Option<Self> {
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
pub(super) mod exact_f64 {
    use super::*;

    pub(in crate::stats) fn to_text(x: f64) -> String {
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

    pub(in crate::stats) fn from_text(text: &str) -> Option<f64> {
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

    pub(in crate::stats) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_text(*x))
    }

    pub(in crate::stats) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        parse(&String::deserialize(d)?)
    }

    pub(in crate::stats) mod option {
        use super::*;

        pub(in crate::stats) fn serialize<S: Serializer>(
            x: &Option<f64>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            x.map(to_text).serialize(s)
        }

        pub(in crate::stats) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<f64>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| parse(&t))
                .transpose()
        }
    }
}
