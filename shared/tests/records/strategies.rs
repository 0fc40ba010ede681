//! The parameters of goal strategies: threshold levels, activity targets and metric weights.

use chanlab_shared::{ActivityKind, ActivityTargets, Metric, MetricWeights, ThresholdLevels};

use crate::helpers::{activity_target, assert_rejected, attainment, metric_weight};

#[test]
fn rising_threshold_levels_are_accepted() {
    let levels = ThresholdLevels::new(vec![attainment(0.9), attainment(1.0), attainment(1.2)]);

    assert_eq!(levels.unwrap().levels().len(), 3);
}

#[test]
fn empty_threshold_levels_are_rejected() {
    assert_rejected(ThresholdLevels::new(vec![]), "", "1 to 10 threshold levels");
}

#[test]
fn more_than_ten_threshold_levels_are_rejected() {
    let eleven = (1..=11).map(|i| attainment(f64::from(i) * 0.2)).collect();

    assert_rejected(ThresholdLevels::new(eleven), "", "found 11");
}

#[test]
fn threshold_levels_that_do_not_rise_are_rejected() {
    let levels = vec![attainment(0.9), attainment(1.2), attainment(1.2)];

    assert_rejected(ThresholdLevels::new(levels), "[2]", "levels must rise");
}

#[test]
fn a_first_threshold_level_of_zero_is_rejected() {
    let levels = vec![attainment(0.0), attainment(1.0)];

    assert_rejected(ThresholdLevels::new(levels), "[0]", "above 0");
}

#[test]
fn one_target_per_activity_kind_is_accepted() {
    let targets = ActivityTargets::new(vec![
        activity_target(ActivityKind::Visit, 6),
        activity_target(ActivityKind::BusinessReview, 1),
    ])
    .unwrap();

    assert_eq!(targets.targets().len(), 2);
}

#[test]
fn empty_activity_targets_are_rejected() {
    assert_rejected(ActivityTargets::new(vec![]), "", "at least one");
}

#[test]
fn a_duplicate_activity_target_is_rejected() {
    let targets = vec![
        activity_target(ActivityKind::Visit, 6),
        activity_target(ActivityKind::Training, 1),
        activity_target(ActivityKind::Visit, 2),
    ];

    assert_rejected(
        ActivityTargets::new(targets),
        "[2].activity",
        "listed twice",
    );
}

#[test]
fn metric_weights_summing_to_one_are_accepted_and_looked_up_by_metric() {
    let weights = MetricWeights::new(vec![
        metric_weight(Metric::SellThrough, 0.7),
        metric_weight(Metric::Visits, 0.3),
    ])
    .unwrap();

    assert_eq!(weights.weights().len(), 2);
    assert_eq!(weights.weight_of(Metric::SellThrough), 0.7);
    assert_eq!(weights.weight_of(Metric::Visits), 0.3);
    assert_eq!(weights.weight_of(Metric::Trainings), 0.0);
}

#[test]
fn empty_metric_weights_are_rejected() {
    assert_rejected(MetricWeights::new(vec![]), "", "at least one");
}

#[test]
fn a_metric_weighted_twice_is_rejected() {
    let list = vec![
        metric_weight(Metric::Visits, 0.5),
        metric_weight(Metric::Visits, 0.5),
    ];

    assert_rejected(MetricWeights::new(list), "[1].metric", "listed twice");
}

#[test]
fn metric_weights_not_summing_to_one_are_rejected() {
    let list = vec![
        metric_weight(Metric::SellIn, 0.5),
        metric_weight(Metric::Visits, 0.4),
    ];

    assert_rejected(MetricWeights::new(list), "", "sum to 1, found 0.900");
}

#[test]
fn metric_weights_off_by_less_than_a_thousandth_are_accepted() {
    let list = vec![
        metric_weight(Metric::SellIn, 0.3333),
        metric_weight(Metric::Visits, 0.3333),
        metric_weight(Metric::Trainings, 0.3333),
    ];

    assert!(MetricWeights::new(list).is_ok());
}
