//! `Assessment`: the checks on its key-link results, and how they are scored.

use chanlab_shared::{Metric, Quantity};

use crate::helpers::{
    assert_close, assert_rejected, assessment, eur, key_link, period, sample_assessment, usd,
};

#[test]
fn a_consistent_assessment_is_accepted() {
    let assessment = sample_assessment();

    assert_eq!(assessment.results().len(), 2);
    assert_eq!(assessment.spec_version().get(), 1);
    assert_eq!(assessment.period(), period("2026-Q4"));
}

#[test]
fn an_assessment_without_results_is_rejected() {
    assert_rejected(assessment(vec![]), "results", "at least one");
}

#[test]
fn an_assessment_result_whose_target_is_in_the_wrong_unit_is_rejected() {
    let results = vec![key_link(
        Metric::SellIn,
        1.0,
        Quantity::Count(5),
        Quantity::Amount(eur(5)),
    )];

    assert_rejected(assessment(results), "results[0].target", "an amount");
}

#[test]
fn an_assessment_result_whose_actual_is_in_the_wrong_unit_is_rejected() {
    let results = vec![
        key_link(Metric::Visits, 0.5, Quantity::Count(5), Quantity::Count(5)),
        key_link(
            Metric::Trainings,
            0.5,
            Quantity::Count(2),
            Quantity::Amount(eur(2)),
        ),
    ];

    assert_rejected(assessment(results), "results[1].actual", "a count");
}

#[test]
fn an_assessment_listing_a_metric_twice_is_rejected() {
    let results = vec![
        key_link(Metric::Visits, 0.5, Quantity::Count(5), Quantity::Count(5)),
        key_link(Metric::Visits, 0.5, Quantity::Count(6), Quantity::Count(4)),
    ];

    assert_rejected(assessment(results), "results[1].metric", "listed twice");
}

#[test]
fn an_assessment_whose_weights_do_not_sum_to_one_is_rejected() {
    let results = vec![
        key_link(Metric::Visits, 0.5, Quantity::Count(5), Quantity::Count(5)),
        key_link(
            Metric::Trainings,
            0.2,
            Quantity::Count(2),
            Quantity::Count(2),
        ),
    ];

    assert_rejected(assessment(results), "results", "sum to 1, found 0.700");
}

#[test]
fn an_assessment_result_with_target_and_actual_in_different_currencies_is_rejected() {
    // EUR 10,000 target against USD 20,000 actual: an attainment of 2.0 would compare two
    // currencies, which chanlab otherwise refuses to do silently.
    let results = vec![key_link(
        Metric::SellIn,
        1.0,
        Quantity::Amount(eur(1_000_000)),
        Quantity::Amount(usd(2_000_000)),
    )];

    let result = assessment(results);

    let err = result.expect_err("a EUR target with a USD actual must be rejected");
    assert_eq!(err.field(), "results[0].actual", "{err}");
    assert!(err.message().contains("currency"), "{err}");
}

#[test]
fn the_score_weights_each_key_link_attainment() {
    let assessment = sample_assessment();

    // 0.6 × 1.1 + 0.4 × 0.75
    assert_close(assessment.score(), 0.96);
}

#[test]
fn a_score_is_one_when_every_key_link_is_exactly_met() {
    let assessment = assessment(vec![
        key_link(
            Metric::SellIn,
            0.5,
            Quantity::Amount(eur(100)),
            Quantity::Amount(eur(100)),
        ),
        key_link(Metric::Visits, 0.5, Quantity::Count(4), Quantity::Count(4)),
    ])
    .unwrap();

    assert_close(assessment.score(), 1.0);
}

#[test]
fn a_zero_target_counts_as_met() {
    let nothing_required = key_link(Metric::Visits, 1.0, Quantity::Count(0), Quantity::Count(0));
    let zero_revenue_goal = key_link(
        Metric::SellIn,
        1.0,
        Quantity::Amount(eur(0)),
        Quantity::Amount(eur(500)),
    );

    assert_eq!(nothing_required.attainment(), 1.0);
    assert_eq!(zero_revenue_goal.attainment(), 1.0);
}

#[test]
fn attainment_is_capped_at_two() {
    let overshoot = key_link(Metric::Visits, 1.0, Quantity::Count(2), Quantity::Count(10));
    let double = key_link(Metric::Visits, 1.0, Quantity::Count(2), Quantity::Count(4));
    let half = key_link(Metric::Visits, 1.0, Quantity::Count(2), Quantity::Count(1));

    assert_eq!(overshoot.attainment(), 2.0);
    assert_eq!(double.attainment(), 2.0);
    assert_eq!(half.attainment(), 0.5);
}

#[test]
fn one_overshoot_cannot_hide_a_missed_key_link() {
    let assessment = assessment(vec![
        key_link(
            Metric::Visits,
            0.5,
            Quantity::Count(1),
            Quantity::Count(100),
        ),
        key_link(
            Metric::Trainings,
            0.5,
            Quantity::Count(4),
            Quantity::Count(0),
        ),
    ])
    .unwrap();

    assert_close(assessment.score(), 1.0);
}
