//! Money as integer minor units with an ISO 4217 currency.
//!
//! Recorded money is never an `f64`: sums of sales records must add up to the cent, and the
//! same export must re-import to the same numbers. [`Money`] keeps the amount in the
//! currency's minor unit (cents for EUR, yen for JPY) and refuses to add two currencies. The
//! simulator works in `f64` internally and converts at its edges.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;

/// An ISO 4217 currency that has a minor unit (EUR, USD, JPY, ...), written as its
/// three-letter code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "EUR", pattern = "^[A-Z]{3}$")]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    /// US dollar.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);

    /// Parses a three-letter code such as `EUR`; lower case is accepted.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        let upper = code.trim().to_ascii_uppercase();
        match iso_currency::Currency::from_code(&upper) {
            Some(c) if c.exponent().is_some() => Ok(Self(c)),
            Some(_) => Err(ValidationError::new(
                "",
                format!(
                    "{upper} has no minor unit (a commodity or fund code), use a currency such as EUR"
                ),
            )),
            None => Err(ValidationError::new(
                "",
                format!("expected an ISO 4217 currency code such as EUR or USD, found {code:?}"),
            )),
        }
    }

    /// The three-letter code, e.g. `"EUR"`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the minor unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn minor_digits(&self) -> u32 {
        // `parse` admits only currencies with an exponent, so this default is never used.
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

/// An amount of money in a currency's minor unit: `{"amount_minor": 125000, "currency": "EUR"}`
/// is EUR 1,250.00. Amounts may be negative (a credit); records that must not be say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 125000, "currency": "EUR"}))]
pub struct Money {
    /// At most 2^53 - 1 minor units either way: every amount is exact as a JSON number in
    /// JavaScript (`Number.MAX_SAFE_INTEGER`); a larger one is refused on input.
    #[serde(deserialize_with = "safe_minor")]
    #[schema(minimum = -9007199254740991_i64, maximum = 9007199254740991_i64)]
    amount_minor: i64,
    currency: Currency,
}

/// Adding or comparing money in two different currencies, or an overflow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The two amounts are in different currencies; chanlab never converts silently.
    #[error("cannot combine {left} and {right}: convert to one currency first")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result is beyond [`MAX_SAFE_MINOR`] minor units either way: chanlab never
    /// saturates a total, nor answers one a JSON client would read inexactly.
    #[error(
        "the amount is beyond {MAX_SAFE_MINOR} minor units either way (2^53 - 1, the largest a JSON client reads exactly)"
    )]
    Overflow,
}

/// The largest amount in minor units an input may carry, 2^53 - 1: JavaScript clients read
/// every JSON number as a double, exact up to here.
pub const MAX_SAFE_MINOR: i64 = (1 << 53) - 1;

/// `amount_minor` as sent, refused beyond [`MAX_SAFE_MINOR`] either way.
fn safe_minor<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let minor = i64::deserialize(d)?;
    check_safe(minor).map_err(serde::de::Error::custom)
}

fn check_safe(minor: i64) -> Result<i64, String> {
    if (-MAX_SAFE_MINOR..=MAX_SAFE_MINOR).contains(&minor) {
        Ok(minor)
    } else {
        Err(format!(
            "an amount is at most {MAX_SAFE_MINOR} minor units either way (2^53 - 1, exact in JavaScript), found {minor}"
        ))
    }
}

impl Money {
    /// `amount_minor` minor units of `currency`.
    pub const fn from_minor(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Parses a decimal amount such as `"1250.5"` or `"-3"` in `currency`, as found in a CSV
    /// cell. More decimals than the currency's minor unit allows are an error, not rounded.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "",
                format!(
                    "expected an amount such as 1250.00 with at most {} decimals, found {text:?}",
                    currency.minor_digits()
                ),
            )
        };
        let t = text.trim();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let places = currency.minor_digits() as usize;
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > places {
            return Err(bad());
        }
        let scale = 10_i64.pow(places as u32);
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let frac_padded = format!("{frac:0<places$}");
        let frac: i64 = if places == 0 {
            0
        } else {
            frac_padded.parse().map_err(|_| bad())?
        };
        let magnitude = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        check_safe(magnitude).map_err(|m| ValidationError::new("", m))?;
        Ok(Self::from_minor(
            if negative { -magnitude } else { magnitude },
            currency,
        ))
    }

    /// The amount in minor units.
    pub const fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is below zero.
    pub const fn is_negative(&self) -> bool {
        self.amount_minor < 0
    }

    /// The amount in major units as a float, for the simulator and charts only.
    pub fn to_major_f64(&self) -> f64 {
        self.amount_minor as f64 / 10_f64.powi(self.currency.minor_digits() as i32)
    }

    /// The sum of two amounts in the same currency, within [`MAX_SAFE_MINOR`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Self::bounded(
            i128::from(self.amount_minor) + i128::from(other.amount_minor),
            self.currency,
        )
    }

    /// The difference of two amounts in the same currency, within [`MAX_SAFE_MINOR`].
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Self::bounded(
            i128::from(self.amount_minor) - i128::from(other.amount_minor),
            self.currency,
        )
    }

    /// The total of `amounts`, all in `currency`, within [`MAX_SAFE_MINOR`]. Only the
    /// total is bounded: a running sum may pass the bound on its way (credits come later).
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        let zero = Self::zero(currency);
        let mut total: i128 = 0;
        for amount in amounts {
            zero.same_currency(amount)?;
            // Exact: 2^64 amounts of at most 2^63 each stay within 2^127.
            total += i128::from(amount.amount_minor);
        }
        Self::bounded(total, currency)
    }

    /// `minor` as money when it is within [`MAX_SAFE_MINOR`].
    fn bounded(minor: i128, currency: Currency) -> Result<Money, MoneyError> {
        i64::try_from(minor)
            .ok()
            .and_then(|m| check_safe(m).ok())
            .map(|m| Self::from_minor(m, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// Rejects a negative amount, naming `field`; for targets, sales and thresholds.
    pub fn require_non_negative(self, field: &str) -> Result<Money, ValidationError> {
        if self.is_negative() {
            Err(ValidationError::new(
                field,
                format!("must not be negative, found {self}"),
            ))
        } else {
            Ok(self)
        }
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    /// `1250.00 EUR`, `-3 JPY`: the exact decimal amount, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let places = self.currency.minor_digits();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let magnitude = self.amount_minor.unsigned_abs();
        if places == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency);
        }
        let scale = 10_u64.pow(places);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / scale,
            magnitude % scale,
            self.currency,
            width = places as usize
        )
    }
}

#[cfg(test)]
mod safe_range_tests {
    use super::*;

    #[test]
    fn amounts_beyond_two_to_the_53_are_refused_on_input() {
        let at = |minor: i64| format!(r#"{{"amount_minor": {minor}, "currency": "EUR"}}"#);
        let ok: Money = serde_json::from_str(&at(MAX_SAFE_MINOR)).unwrap();
        assert_eq!(ok.amount_minor(), MAX_SAFE_MINOR);
        let ok: Money = serde_json::from_str(&at(-MAX_SAFE_MINOR)).unwrap();
        assert_eq!(ok.amount_minor(), -MAX_SAFE_MINOR);
        for minor in [MAX_SAFE_MINOR + 1, -MAX_SAFE_MINOR - 1, i64::MAX, i64::MIN] {
            let err = serde_json::from_str::<Money>(&at(minor)).unwrap_err();
            assert!(err.to_string().contains("2^53 - 1"), "{minor}: {err}");
        }
        assert!(Money::parse_decimal("90071992547409.91", Currency::EUR).is_ok());
        assert!(Money::parse_decimal("90071992547409.92", Currency::EUR).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    #[test]
    fn currency_codes_parse_case_insensitively() {
        assert_eq!(Currency::parse("eur"), Ok(Currency::EUR));
        assert_eq!(Currency::parse(" USD "), Ok(Currency::USD));
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits(), 0);
    }

    #[test]
    fn unknown_and_unitless_codes_are_rejected() {
        let unknown = Currency::parse("EURO").unwrap_err();
        assert!(unknown.message().contains("ISO 4217"), "{unknown}");
        let gold = Currency::parse("XAU").unwrap_err();
        assert!(gold.message().contains("no minor unit"), "{gold}");
    }

    #[test]
    fn display_shows_exact_decimals() {
        assert_eq!(eur(125_000).to_string(), "1250.00 EUR");
        assert_eq!(eur(-5).to_string(), "-0.05 EUR");
        let yen = Money::from_minor(1200, Currency::parse("JPY").unwrap());
        assert_eq!(yen.to_string(), "1200 JPY");
    }

    #[test]
    fn decimal_text_parses_to_minor_units() {
        assert_eq!(
            Money::parse_decimal("1250.5", Currency::EUR),
            Ok(eur(125_050))
        );
        assert_eq!(Money::parse_decimal("-3", Currency::EUR), Ok(eur(-300)));
        assert_eq!(Money::parse_decimal("0.07", Currency::EUR), Ok(eur(7)));
    }

    #[test]
    fn decimal_text_with_too_many_places_or_junk_is_rejected() {
        for bad in [
            "1.005",
            "",
            "-",
            "1,5",
            "1e3",
            ".5",
            "12a",
            "99999999999999999999",
        ] {
            assert!(
                Money::parse_decimal(bad, Currency::EUR).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn adding_mixed_currencies_is_an_error() {
        let usd = Money::from_minor(1, Currency::USD);
        assert_eq!(eur(1).checked_add(eur(2)), Ok(eur(3)));
        assert_eq!(eur(5).checked_sub(eur(7)), Ok(eur(-2)));
        assert!(matches!(
            eur(1).checked_add(usd),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
        // Beyond 2^53 - 1 is an overflow too: a JSON client would read it inexactly.
        assert_eq!(
            eur(MAX_SAFE_MINOR).checked_add(eur(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            eur(-MAX_SAFE_MINOR).checked_sub(eur(1)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            eur(MAX_SAFE_MINOR).checked_sub(eur(1)),
            Ok(eur(MAX_SAFE_MINOR - 1))
        );
    }

    #[test]
    fn a_sum_is_exact_or_an_overflow_never_saturated() {
        let max = eur(MAX_SAFE_MINOR);
        assert_eq!(Money::sum(Currency::EUR, [max, eur(-1), eur(1)]), Ok(max));
        assert_eq!(
            Money::sum(Currency::EUR, [max, eur(1), eur(-1)]),
            Ok(max),
            "only the total is bounded"
        );
        assert_eq!(
            Money::sum(Currency::EUR, [max, eur(1)]),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::sum(Currency::EUR, std::iter::repeat_n(max, 2000)),
            Err(MoneyError::Overflow),
            "beyond i64 too"
        );
        assert_eq!(Money::sum(Currency::EUR, []), Ok(eur(0)));
        assert!(matches!(
            Money::sum(Currency::EUR, [eur(1), Money::from_minor(1, Currency::USD)]),
            Err(MoneyError::CurrencyMismatch { .. })
        ));
    }

    #[test]
    fn negative_amounts_are_rejected_where_required() {
        assert_eq!(eur(0).require_non_negative("target"), Ok(eur(0)));
        let err = eur(-1).require_non_negative("target").unwrap_err();
        assert_eq!(err.field(), "target");
    }

    #[test]
    fn money_round_trips_through_json() {
        let json = serde_json::to_string(&eur(125_000)).unwrap();
        assert_eq!(json, r#"{"amount_minor":125000,"currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), eur(125_000));
        let bad = r#"{"amount_minor":1,"currency":"ZZZ"}"#;
        assert!(serde_json::from_str::<Money>(bad).is_err());
    }
}
