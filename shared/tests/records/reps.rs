//! `Rep::check_dates`: a leaving date only for a departed rep, and not before the hiring date.

use chanlab_shared::{RegionId, Rep, RepId, RepStatus, Validated};
use chrono::NaiveDate;

use crate::helpers::{assert_rejected, date, name};

fn rep(status: RepStatus, left_on: Option<NaiveDate>) -> Rep {
    Rep {
        created_by: None,
        updated_by: None,
        id: RepId::new(),
        name: name("Jonas Lind"),
        region_id: RegionId::new(),
        hired_on: date(2025, 3, 1),
        status,
        left_on,
        external_id: None,
    }
}

fn checked(rep: Rep) -> Validated<Rep> {
    rep.check_dates().map(|()| rep)
}

#[test]
fn a_departed_rep_with_a_leaving_date_after_hiring_is_accepted() {
    assert!(checked(rep(RepStatus::Departed, Some(date(2026, 6, 30)))).is_ok());
}

#[test]
fn a_departed_rep_without_a_leaving_date_is_accepted() {
    assert!(checked(rep(RepStatus::Departed, None)).is_ok());
}

#[test]
fn a_leaving_date_on_an_active_rep_is_rejected() {
    assert_rejected(
        checked(rep(RepStatus::Active, Some(date(2026, 6, 30)))),
        "left_on",
        "only a departed rep",
    );
}

#[test]
fn a_leaving_date_before_the_hiring_date_is_rejected() {
    assert_rejected(
        checked(rep(RepStatus::Departed, Some(date(2025, 2, 28)))),
        "left_on",
        "must not be before hired_on (2025-03-01)",
    );
}
