//! Months and goal periods.
//!
//! Channel data is monthly (a sales record is one partner in one month) and goals run over
//! calendar periods: a month, a quarter, a half-year or a year. [`Month`] is written
//! `2026-11`; a [`Period`] is written the way managers say it: `2026-11`, `2026-Q4`,
//! `2026-H2` or `2026`.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;

// The schemas of `Month` and `Period` spell this range in their patterns (1970 to 9999).
const MIN_YEAR: i32 = 1970;
const MAX_YEAR: i32 = 9999;

/// A calendar month, `2026-11`. Ordered; months can be counted and stepped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "2026-11", pattern = r"^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$")]
pub struct Month(
    /// Months since January of year 0; keeps ordering and arithmetic trivial.
    i32,
);

impl Month {
    /// The month `month` (1..=12) of `year` (1970..=9999).
    pub fn new(year: i32, month: u32) -> Result<Self, ValidationError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ValidationError::new(
                "",
                format!("year must be between {MIN_YEAR} and {MAX_YEAR}, found {year}"),
            ));
        }
        if !(1..=12).contains(&month) {
            return Err(ValidationError::new(
                "",
                format!("month must be between 1 and 12, found {month}"),
            ));
        }
        Ok(Self(year * 12 + month as i32 - 1))
    }

    /// The month a date falls in.
    pub fn of_date(date: NaiveDate) -> Result<Self, ValidationError> {
        Self::new(date.year(), date.month())
    }

    /// The year, e.g. 2026.
    pub fn year(&self) -> i32 {
        self.0.div_euclid(12)
    }

    /// The month of the year, 1..=12.
    pub fn month(&self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// The month `n` months later (earlier when `n` is negative), or `None` past the
    /// supported years.
    pub fn plus(&self, n: i32) -> Option<Month> {
        let index = self.0.checked_add(n)?;
        (MIN_YEAR * 12..(MAX_YEAR + 1) * 12)
            .contains(&index)
            .then_some(Month(index))
    }

    /// Months from `self` to `later`: 0 for the same month, negative when `later` is earlier.
    pub fn months_until(&self, later: Month) -> i32 {
        later.0 - self.0
    }

    /// The first day of the month.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.month(), 1)
            .expect("Month::new admits only real year/month pairs")
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl FromStr for Month {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || ValidationError::new("", format!("expected a month such as 2026-11, found {s:?}"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?)
    }
}

impl TryFrom<String> for Month {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Month> for String {
    fn from(m: Month) -> String {
        m.to_string()
    }
}

/// How long a goal period lasts. Periods are calendar-aligned: quarters start in January,
/// April, July and October.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PeriodLength {
    /// One month.
    Month,
    /// Three months.
    Quarter,
    /// Six months.
    HalfYear,
    /// Twelve months.
    Year,
}

impl PeriodLength {
    /// Number of months in the period.
    pub const fn months(self) -> i32 {
        match self {
            PeriodLength::Month => 1,
            PeriodLength::Quarter => 3,
            PeriodLength::HalfYear => 6,
            PeriodLength::Year => 12,
        }
    }
}

/// A calendar goal period: `2026-11`, `2026-Q4`, `2026-H2` or `2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    first: Month,
    length: PeriodLength,
}

impl Period {
    /// The period of `length` that contains `month`.
    pub fn containing(month: Month, length: PeriodLength) -> Self {
        let n = length.months();
        let offset = (month.month() as i32 - 1) % n;
        Self {
            first: month
                .plus(-offset)
                .expect("the period's first month is in the same year"),
            length,
        }
    }

    /// The first month of the period.
    pub fn first(&self) -> Month {
        self.first
    }

    /// The last month of the period.
    pub fn last(&self) -> Month {
        self.first
            .plus(self.length.months() - 1)
            .expect("a period ends in the year it starts")
    }

    /// The period's length.
    pub fn length(&self) -> PeriodLength {
        self.length
    }

    /// True when `month` falls inside the period.
    pub fn contains(&self, month: Month) -> bool {
        self.first <= month && month <= self.last()
    }

    /// The months of the period, in order.
    pub fn months(&self) -> impl Iterator<Item = Month> + use<> {
        let first = self.first;
        (0..self.length.months()).filter_map(move |i| first.plus(i))
    }

    /// The period of the same length that follows this one, or `None` after year 9999.
    pub fn next(&self) -> Option<Period> {
        Some(Self {
            first: self.first.plus(self.length.months())?,
            length: self.length,
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month) = (self.first.year(), self.first.month());
        match self.length {
            PeriodLength::Month => write!(f, "{}", self.first),
            PeriodLength::Quarter => write!(f, "{year:04}-Q{}", (month - 1) / 3 + 1),
            PeriodLength::HalfYear => write!(f, "{year:04}-H{}", (month - 1) / 6 + 1),
            PeriodLength::Year => write!(f, "{year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || {
            ValidationError::new(
                "",
                format!("expected a period such as 2026-11, 2026-Q4, 2026-H2 or 2026, found {s:?}"),
            )
        };
        let year_of = |y: &str| -> Result<i32, ValidationError> {
            if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) {
                y.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let Some((y, rest)) = t.split_once('-') else {
            return Ok(Self {
                first: Month::new(year_of(t)?, 1)?,
                length: PeriodLength::Year,
            });
        };
        let year = year_of(y)?;
        let (length, first_month) = match rest.as_bytes() {
            [b'Q', q @ b'1'..=b'4'] => (PeriodLength::Quarter, u32::from(q - b'1') * 3 + 1),
            [b'H', h @ b'1'..=b'2'] => (PeriodLength::HalfYear, u32::from(h - b'1') * 6 + 1),
            _ => {
                return Ok(Self::containing(
                    t.parse().map_err(|_| bad())?,
                    PeriodLength::Month,
                ));
            }
        };
        Ok(Self {
            first: Month::new(year, first_month)?,
            length,
        })
    }
}

// A hand-written schema because the derive cannot describe a two-field struct as a string.
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A calendar period: a month `2026-11`, a quarter `2026-Q4`, a half-year `2026-H2` or a year `2026`."))
            .pattern(Some(r"^(19[7-9]\d|[2-9]\d{3})(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$"))
            .examples(["2026-Q4"])
            .into()
    }
}

impl ToSchema for Period {}

impl TryFrom<String> for Period {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn months_parse_and_display_as_year_dash_month() {
        let m = month("2026-11");
        assert_eq!((m.year(), m.month()), (2026, 11));
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(Month::new(2026, 1).unwrap().to_string(), "2026-01");
    }

    #[test]
    fn malformed_months_are_rejected() {
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-11",
            "2026/11",
            "",
            "1969-12",
            "2026-11-01",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(month("2026-11").plus(3), Some(month("2027-02")));
        assert_eq!(month("2026-01").plus(-1), Some(month("2025-12")));
        assert_eq!(month("2026-01").months_until(month("2027-03")), 14);
        assert_eq!(month("9999-12").plus(1), None);
        assert_eq!(month("1970-01").plus(-1), None);
    }

    #[test]
    fn months_come_from_dates() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(Month::of_date(date), Ok(month("2026-11")));
        assert_eq!(
            month("2026-11").first_day(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
    }

    #[test]
    fn periods_parse_in_every_form_and_print_back() {
        for text in [
            "2026-11", "2026-Q4", "2026-H2", "2026", "2026-Q1", "2026-H1",
        ] {
            let p: Period = text.parse().unwrap();
            assert_eq!(p.to_string(), text);
        }
        let q4: Period = "2026-Q4".parse().unwrap();
        assert_eq!(
            (q4.first(), q4.last()),
            (month("2026-10"), month("2026-12"))
        );
        assert_eq!(q4.months().count(), 3);
        assert!(q4.contains(month("2026-11")) && !q4.contains(month("2027-01")));
        assert_eq!(q4.next().unwrap().to_string(), "2027-Q1");
    }

    #[test]
    fn malformed_periods_are_rejected() {
        for bad in [
            "2026-Q5", "2026-Q0", "2026-H3", "202", "2026-", "Q4-2026", "2026-q4",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_period_containing_a_month_is_calendar_aligned() {
        let p = Period::containing(month("2026-08"), PeriodLength::Quarter);
        assert_eq!(p.to_string(), "2026-Q3");
        let h = Period::containing(month("2026-08"), PeriodLength::HalfYear);
        assert_eq!(h.to_string(), "2026-H2");
    }

    #[test]
    fn months_and_periods_are_json_strings() {
        assert_eq!(
            serde_json::to_string(&month("2026-11")).unwrap(),
            "\"2026-11\""
        );
        let p: Period = serde_json::from_str("\"2026-Q4\"").unwrap();
        assert_eq!(p.length(), PeriodLength::Quarter);
        assert!(serde_json::from_str::<Month>("\"2026-13\"").is_err());
    }
}
