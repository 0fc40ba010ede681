//! Small validated values: names, probabilities, fractions, multipliers, counts.
//!
//! Each is a newtype with a private field, built only through `new`/`parse` (or serde, which
//! goes through the same check), so a function that takes a [`Probability`] never has to ask
//! whether it lies in 0..=1.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;

/// What [`Name`] and [`ExternalId`] accept, as the OpenAPI document declares it: no control
/// character (Unicode `Cc`) and at least one character that is not white space (Rust's
/// `char::is_whitespace`, spelt out: `\s` differs between regex engines). utoipa takes only
/// a literal, so the schemas repeat it; `value::tests` holds them to this one.
pub const TEXT_PATTERN: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$";

/// `text` checked to be 1 to `max` characters without control characters and not only white
/// space ([`TEXT_PATTERN`]), then trimmed: what [`Name`] and [`ExternalId`] accept. The
/// checks read the text as sent, so they agree with the document's `maxLength` and pattern.
fn checked_text(text: &str, max: usize) -> Result<String, ValidationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new("", "must not be empty"));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(ValidationError::new(
            "",
            format!("must be at most {max} characters, found {chars}"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "",
            "must not contain control characters such as tabs or newlines",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "Nordic Distribution AB", min_length = 1, max_length = 200, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$")]
pub struct Name(String);

impl Name {
    /// Longest name accepted, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Trims `text` and checks it is a usable name.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        checked_text(text, Self::MAX_CHARS).map(Self)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Name {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

/// A record's code in another system (a CRM's account number, an ERP's customer code):
/// trimmed, 1 to 100 characters, no control characters. Unique per record kind, so an
/// import can name a record by it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "CRM-00042", min_length = 1, max_length = 100, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$")]
pub struct ExternalId(String);

impl ExternalId {
    /// Longest external id accepted, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Trims `text` and checks it is a usable external id.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        checked_text(text, Self::MAX_CHARS).map(Self)
    }

    /// The external id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ExternalId {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ExternalId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ExternalId> for String {
    fn from(n: ExternalId) -> String {
        n.0
    }
}

/// Defines a float newtype restricted to a closed range, checked on construction and on
/// deserialisation. NaN and infinities are always rejected.
macro_rules! bounded_f64 {
    ($(#[$attr:meta])* $name:ident, $min:expr, $max:expr, $what:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, ToSchema)]
        $(#[$attr])*
        #[serde(try_from = "f64", into = "f64")]
        pub struct $name(f64);

        impl $name {
            /// Smallest accepted value.
            pub const MIN: f64 = $min;
            /// Largest accepted value.
            pub const MAX: f64 = $max;

            /// Checks that `value` lies in the accepted range.
            pub fn new(value: f64) -> Result<Self, ValidationError> {
                if value.is_finite() && (Self::MIN..=Self::MAX).contains(&value) {
                    Ok(Self(value))
                } else {
                    Err(ValidationError::new(
                        "",
                        format!(
                            concat!("expected ", $what, " between {} and {}, found {}"),
                            Self::MIN, Self::MAX, value
                        ),
                    ))
                }
            }

            /// The value.
            pub fn get(self) -> f64 {
                self.0
            }
        }

        impl TryFrom<f64> for $name {
            type Error = ValidationError;
            fn try_from(value: f64) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for f64 {
            fn from(v: $name) -> f64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

bounded_f64!(
    /// A probability, 0 to 1.
    #[schema(value_type = f64, minimum = 0.0, maximum = 1.0, example = 0.25)]
    Probability, 0.0, 1.0, "a probability"
);
bounded_f64!(
    /// A share of something, 0 to 1: a margin, a commission or rebate rate, a weight, a
    /// fraction of potential. `0.06` is 6%.
    #[schema(value_type = f64, minimum = 0.0, maximum = 1.0, example = 0.06)]
    Fraction, 0.0, 1.0, "a fraction (0.06 is 6%)"
);
bounded_f64!(
    /// A factor applied to a rate, e.g. an accelerator that pays 1.5× the base commission above
    /// goal, or a decelerator of 0.5. Zero is allowed (pays nothing); 10× is the sanity limit.
    #[schema(value_type = f64, minimum = 0.0, maximum = 10.0, example = 1.5)]
    Multiplier, 0.0, 10.0, "a multiplier"
);
bounded_f64!(
    /// A relative change, e.g. `0.10` for +10% growth or `-0.05` for a 5% cut; from -90% to
    /// +500%.
    #[schema(value_type = f64, minimum = -0.9, maximum = 5.0, example = 0.1)]
    GrowthRate, -0.9, 5.0, "a growth rate (0.10 is +10%)"
);
bounded_f64!(
    /// Goal attainment as a ratio of actual to target, e.g. `1.0` at goal, `1.2` at 120%; up
    /// to 10×.
    #[schema(value_type = f64, minimum = 0.0, maximum = 10.0, example = 1.0)]
    Attainment, 0.0, 10.0, "an attainment ratio (1.0 is 100% of goal)"
);

bounded_f64!(
    #[schema(value_type = f64, minimum = 0.0, maximum = 3.0, example = 0.3)]
    /// How far a stretch goal sits above the expected level, e.g. `0.3` for +30%; from 0 to
    /// +300%.
    Uplift,
    0.0,
    3.0,
    "an uplift (0.3 is +30%)"
);

/// A positive whole count: activities per cadence interval, months of a term, rounds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(try_from = "u32", into = "u32")]
#[schema(value_type = u32, minimum = 1, example = 2)]
pub struct PositiveCount(NonZeroU32);

impl PositiveCount {
    /// Checks that `value` is at least 1.
    pub fn new(value: u32) -> Result<Self, ValidationError> {
        NonZeroU32::new(value)
            .map(Self)
            .ok_or_else(|| ValidationError::new("", "must be at least 1, found 0"))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

impl TryFrom<u32> for PositiveCount {
    type Error = ValidationError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<PositiveCount> for u32 {
    fn from(c: PositiveCount) -> u32 {
        c.get()
    }
}

impl fmt::Display for PositiveCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed() {
        assert_eq!(Name::parse("  Acme Ltd ").unwrap().as_str(), "Acme Ltd");
    }

    #[test]
    fn empty_long_and_control_names_are_rejected() {
        assert!(Name::parse("   ").unwrap_err().message().contains("empty"));
        let long = "x".repeat(Name::MAX_CHARS + 1);
        assert!(
            Name::parse(&long)
                .unwrap_err()
                .message()
                .contains("at most 200")
        );
        assert!(
            Name::parse("a\tb")
                .unwrap_err()
                .message()
                .contains("control")
        );
        assert!(
            Name::parse(&"é".repeat(Name::MAX_CHARS)).is_ok(),
            "limit counts characters, not bytes"
        );
    }

    #[test]
    fn bounded_floats_accept_their_range_inclusive() {
        assert_eq!(Probability::new(0.0).unwrap().get(), 0.0);
        assert_eq!(Probability::new(1.0).unwrap().get(), 1.0);
        assert_eq!(Fraction::new(0.06).unwrap().get(), 0.06);
        assert_eq!(Multiplier::new(2.0).unwrap().get(), 2.0);
        assert_eq!(GrowthRate::new(-0.05).unwrap().get(), -0.05);
        assert_eq!(Attainment::new(1.2).unwrap().get(), 1.2);
    }

    #[test]
    fn bounded_floats_reject_out_of_range_and_non_finite_values() {
        assert!(
            Probability::new(1.01)
                .unwrap_err()
                .message()
                .contains("probability between 0 and 1")
        );
        assert!(Probability::new(-0.1).is_err());
        assert!(Probability::new(f64::NAN).is_err());
        assert!(Fraction::new(f64::INFINITY).is_err());
        assert!(Multiplier::new(10.5).is_err());
        assert!(GrowthRate::new(-0.95).is_err());
        assert!(Attainment::new(-1.0).is_err());
    }

    #[test]
    fn counts_must_be_positive() {
        assert_eq!(PositiveCount::new(3).unwrap().get(), 3);
        assert!(
            PositiveCount::new(0)
                .unwrap_err()
                .message()
                .contains("at least 1")
        );
    }

    #[test]
    fn deserialisation_runs_the_same_checks() {
        assert!(serde_json::from_str::<Probability>("1.5").is_err());
        assert!(serde_json::from_str::<PositiveCount>("0").is_err());
        assert!(serde_json::from_str::<Name>("\"\"").is_err());
        assert_eq!(serde_json::from_str::<Fraction>("0.5").unwrap().get(), 0.5);
    }
}

/// Free-text notes on a record: up to 2,000 characters, trimmed; may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "Agreed a joint webinar in Q1.", max_length = 2000)]
pub struct Notes(String);

impl Notes {
    /// Longest notes accepted, in characters.
    pub const MAX_CHARS: usize = 2000;

    /// Trims `text` and checks its length.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let trimmed = text.trim();
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "",
                format!(
                    "must be at most {} characters, found {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The notes as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Notes {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Notes> for String {
    fn from(n: Notes) -> String {
        n.0
    }
}

#[cfg(test)]
mod notes_tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_and_bounded() {
        assert_eq!(
            Notes::parse("  met the owner ").unwrap().as_str(),
            "met the owner"
        );
        assert!(Notes::parse("").is_ok());
        let long = "n".repeat(Notes::MAX_CHARS + 1);
        assert!(
            Notes::parse(&long)
                .unwrap_err()
                .message()
                .contains("at most 2000")
        );
    }
}
