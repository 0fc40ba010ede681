//! `Goal` and `Quantity`: a target must be measured in the unit of its metric.

use chanlab_shared::{GoalStrategyKind, Metric, Quantity};

use crate::helpers::{assert_rejected, eur, goal, period};

#[test]
fn a_revenue_goal_with_an_amount_target_is_accepted() {
    let goal = goal(Metric::SellIn, Quantity::Amount(eur(5_000_000))).unwrap();

    assert_eq!(goal.metric(), Metric::SellIn);
    assert_eq!(goal.target(), Quantity::Amount(eur(5_000_000)));
    assert_eq!(goal.period(), period("2026-Q4"));
    assert_eq!(goal.strategy(), GoalStrategyKind::FlatGrowth);
    assert!(goal.process_spec_id().is_some());
}

#[test]
fn a_count_goal_with_a_count_target_is_accepted() {
    let goal = goal(Metric::Visits, Quantity::Count(12)).unwrap();

    assert_eq!(goal.target(), Quantity::Count(12));
}

#[test]
fn a_revenue_goal_with_a_count_target_is_rejected() {
    assert_rejected(
        goal(Metric::SellThrough, Quantity::Count(12)),
        "target",
        "measured as an amount",
    );
}

#[test]
fn a_count_goal_with_an_amount_target_is_rejected() {
    assert_rejected(
        goal(Metric::PartnersSigned, Quantity::Amount(eur(100))),
        "target",
        "measured as a count",
    );
}

#[test]
fn a_goal_with_a_negative_amount_is_rejected() {
    assert_rejected(
        goal(Metric::SellIn, Quantity::Amount(eur(-100))),
        "target",
        "must not be negative",
    );
}

#[test]
fn a_quantity_is_checked_against_its_metric_under_the_given_field_name() {
    assert_eq!(
        Quantity::Count(3).check_for(Metric::Trainings, "actual"),
        Ok(Quantity::Count(3))
    );
    assert_eq!(
        Quantity::Amount(eur(0)).check_for(Metric::SellIn, "actual"),
        Ok(Quantity::Amount(eur(0)))
    );
    assert_rejected(
        Quantity::Amount(eur(5)).check_for(Metric::Visits, "results[2].actual"),
        "results[2].actual",
        "a count",
    );
    assert_rejected(
        Quantity::Amount(eur(-5)).check_for(Metric::SellIn, "actual"),
        "actual",
        "must not be negative",
    );
}
