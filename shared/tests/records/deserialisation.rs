//! Deserialisation runs the constructors' checks and rejects unknown fields, variants and
//! ids that are not version-7 UUIDs.

use chanlab_shared::{
    Assessment, Contract, Goal, GoalStrategy, IncentivePlan, Metric, MetricWeights, Partner,
    PartnerProgram, ProcessSpec, Quantity, SalesRecord,
};
use serde_json::json;

use crate::helpers::{
    assert_json_rejected, eur, goal, sales, sample_assessment, sample_contract, sample_partner,
    sample_plan, sample_program, sample_spec, to_json,
};

#[test]
fn a_contract_whose_rates_fall_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_contract());
    json["rebate_tiers"][1]["rate"] = json!(0.005);

    assert_json_rejected::<Contract>(
        json,
        "rebate_tiers[1].rate: a higher threshold must not pay less",
    );
}

#[test]
fn a_contract_with_a_negative_target_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_contract());
    json["sell_in_target"]["amount_minor"] = json!(-1);

    assert_json_rejected::<Contract>(json, "sell_in_target: must not be negative");
}

#[test]
fn a_contract_without_rebate_tiers_deserialises_with_an_empty_schedule() {
    let mut json = to_json(&sample_contract());
    json.as_object_mut().unwrap().remove("rebate_tiers");

    let contract: Contract = serde_json::from_value(json).unwrap();

    assert!(contract.rebate_tiers().is_empty());
}

#[test]
fn a_sales_record_in_mixed_currencies_is_rejected_when_deserialised() {
    let mut json = to_json(&sales(eur(100), eur(50)).unwrap());
    json["sell_through"]["currency"] = json!("USD");

    assert_json_rejected::<SalesRecord>(json, "must be in the same currency as sell_in");
}

#[test]
fn a_sales_record_with_negative_sell_in_is_rejected_when_deserialised() {
    let mut json = to_json(&sales(eur(100), eur(50)).unwrap());
    json["sell_in"]["amount_minor"] = json!(-100);

    assert_json_rejected::<SalesRecord>(json, "sell_in: must not be negative");
}

#[test]
fn a_goal_with_a_target_in_the_wrong_unit_is_rejected_when_deserialised() {
    let mut json = to_json(&goal(Metric::Visits, Quantity::Count(12)).unwrap());
    json["target"] = json!({"amount": {"amount_minor": 100, "currency": "EUR"}});

    assert_json_rejected::<Goal>(json, "target: metric visits is measured as a count");
}

#[test]
fn a_goal_with_an_unknown_strategy_is_rejected_when_deserialised() {
    let mut json = to_json(&goal(Metric::Visits, Quantity::Count(12)).unwrap());
    json["strategy"] = json!("random");

    assert_json_rejected::<Goal>(json, "unknown variant `random`");
}

#[test]
fn an_incentive_plan_with_a_cap_below_goal_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_plan());
    json["cap"] = json!(0.8);

    assert_json_rejected::<IncentivePlan>(json, "cap: a cap below 1.0");
}

#[test]
fn an_incentive_plan_with_mixed_currency_bonuses_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_plan());
    json["threshold_bonuses"][1]["amount"]["currency"] = json!("USD");

    assert_json_rejected::<IncentivePlan>(
        json,
        "threshold_bonuses[1].amount: all bonuses must be in one currency",
    );
}

#[test]
fn a_partner_program_whose_steps_fall_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_program());
    json["rebate_tiers"][1]["at_attainment"] = json!(0.5);

    assert_json_rejected::<PartnerProgram>(json, "rebate_tiers[1].at_attainment: steps must rise");
}

#[test]
fn an_assessment_whose_weights_do_not_sum_to_one_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_assessment());
    json["results"][1]["weight"] = json!(0.1);

    assert_json_rejected::<Assessment>(json, "results: weights must sum to 1, found 0.700");
}

#[test]
fn an_assessment_without_results_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_assessment());
    json["results"] = json!([]);

    assert_json_rejected::<Assessment>(json, "expected at least one key-link result");
}

#[test]
fn metric_weights_not_summing_to_one_are_rejected_when_deserialised() {
    let json = json!([
        {"metric": "sell_in", "weight": 0.5},
        {"metric": "visits", "weight": 0.25},
    ]);

    assert_json_rejected::<MetricWeights>(json, "weights must sum to 1, found 0.750");
}

#[test]
fn metric_weights_naming_a_metric_twice_are_rejected_when_deserialised() {
    let json = json!([
        {"metric": "visits", "weight": 0.5},
        {"metric": "visits", "weight": 0.5},
    ]);

    assert_json_rejected::<MetricWeights>(json, "listed twice");
}

#[test]
fn a_process_spec_with_falling_threshold_levels_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_spec());
    json["rules"]["goal_setting"]["strategy"] =
        json!({"kind": "tiered_thresholds", "growth": 0.05, "levels": [1.0, 0.9]});

    assert_json_rejected::<ProcessSpec>(json, "levels must rise");
}

#[test]
fn a_process_spec_with_an_invalid_incentive_plan_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_spec());
    json["rules"]["incentive"]["cap"] = json!(0.5);

    assert_json_rejected::<ProcessSpec>(json, "a cap below 1.0");
}

#[test]
fn a_process_spec_whose_key_link_weights_do_not_sum_to_one_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_spec());
    json["rules"]["assessment"]["key_links"][0]["weight"] = json!(0.9);

    assert_json_rejected::<ProcessSpec>(json, "weights must sum to 1, found 1.300");
}

#[test]
fn a_process_spec_with_a_duplicate_cadence_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_spec());
    json["rules"]["cadences"][1]["tier"] = json!("A");

    assert_json_rejected::<ProcessSpec>(json, "already has a visit cadence");
}

#[test]
fn a_process_spec_with_an_out_of_range_growth_is_rejected_when_deserialised() {
    let mut json = to_json(&sample_spec());
    json["rules"]["goal_setting"]["strategy"] = json!({"kind": "flat_growth", "growth": 7.0});

    assert_json_rejected::<ProcessSpec>(json, "growth rate");
}

#[test]
fn a_partner_with_an_unknown_field_is_rejected() {
    let mut json = to_json(&sample_partner());
    json["colour"] = json!("blue");

    assert_json_rejected::<Partner>(json, "unknown field `colour`");
}

#[test]
fn a_contract_with_an_unknown_field_is_rejected() {
    let mut json = to_json(&sample_contract());
    json["discount"] = json!(0.1);

    assert_json_rejected::<Contract>(json, "unknown field `discount`");
}

#[test]
fn a_process_spec_with_an_unknown_field_is_rejected() {
    let mut json = to_json(&sample_spec());
    json["owner"] = json!("channel manager");

    assert_json_rejected::<ProcessSpec>(json, "unknown field `owner`");
}

#[test]
fn process_rules_with_an_unknown_field_are_rejected() {
    let mut json = to_json(&sample_spec());
    json["rules"]["bonus_pool"] = json!(1000);

    assert_json_rejected::<ProcessSpec>(json, "unknown field `bonus_pool`");
}

#[test]
fn a_strategy_with_an_unknown_parameter_is_rejected() {
    let json = json!({"kind": "flat_growth", "growth": 0.1, "decay": 0.5});

    assert_json_rejected::<GoalStrategy>(json, "unknown field `decay`");
}

#[test]
fn a_partner_with_an_unknown_tier_is_rejected() {
    let mut json = to_json(&sample_partner());
    json["tier"] = json!("Z");

    assert_json_rejected::<Partner>(json, "unknown variant `Z`");
}

#[test]
fn a_partner_with_an_unknown_stage_is_rejected() {
    let mut json = to_json(&sample_partner());
    json["stage"] = json!("sleeping");

    assert_json_rejected::<Partner>(json, "unknown variant `sleeping`");
}

#[test]
fn a_partner_tier_in_lower_case_is_rejected() {
    let mut json = to_json(&sample_partner());
    json["tier"] = json!("a");

    assert_json_rejected::<Partner>(json, "unknown variant `a`");
}

#[test]
fn a_strategy_of_an_unknown_kind_is_rejected() {
    let mut json = to_json(&sample_spec());
    json["rules"]["goal_setting"]["strategy"] = json!({"kind": "random", "growth": 0.1});

    assert_json_rejected::<ProcessSpec>(json.clone(), "unknown variant `random`");
    assert_json_rejected::<GoalStrategy>(
        json["rules"]["goal_setting"]["strategy"].clone(),
        "unknown variant `random`",
    );
}

#[test]
fn a_record_with_an_id_that_is_not_a_v7_uuid_is_rejected() {
    let mut json = to_json(&sample_partner());
    json["region_id"] = json!("f47ac10b-58cc-4372-a567-0e02b2c3d479");

    assert_json_rejected::<Partner>(json, "version-7");
}
