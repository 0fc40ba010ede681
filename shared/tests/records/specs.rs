//! The rules of a process spec: activity cadences, the incentive plan and the partner program.

use chanlab_shared::{ActivityKind, Cadences, PartnerProgram, PeriodLength, RevenueBasis, Tier};

use crate::helpers::{
    accelerator, assert_close, assert_rejected, attainment, bonus, cadence, eur, fraction, plan,
    program_tier, sample_plan, sample_program, usd,
};

// ---------------------------------------------------------------------------------------------
// Cadences
// ---------------------------------------------------------------------------------------------

#[test]
fn cadences_with_distinct_tier_and_activity_are_accepted() {
    let cadences = Cadences::new(vec![
        cadence(Tier::A, ActivityKind::Visit, 1, 1),
        cadence(Tier::A, ActivityKind::Training, 1, 6),
        cadence(Tier::B, ActivityKind::Visit, 1, 3),
    ])
    .unwrap();

    assert_eq!(cadences.cadences().len(), 3);
}

#[test]
fn a_second_cadence_for_the_same_tier_and_activity_is_rejected() {
    let list = vec![
        cadence(Tier::A, ActivityKind::Visit, 1, 1),
        cadence(Tier::B, ActivityKind::Visit, 1, 3),
        cadence(Tier::A, ActivityKind::Visit, 2, 1),
    ];

    assert_rejected(Cadences::new(list), "[2]", "already has a visit cadence");
}

#[test]
fn cadences_give_required_activities_per_partner_per_month() {
    let cadences = Cadences::new(vec![
        cadence(Tier::A, ActivityKind::Visit, 2, 1),
        cadence(Tier::B, ActivityKind::Visit, 1, 3),
    ])
    .unwrap();

    assert_close(cadences.per_month(Tier::A, ActivityKind::Visit), 2.0);
    assert_close(cadences.per_month(Tier::B, ActivityKind::Visit), 1.0 / 3.0);
    assert_eq!(cadences.per_month(Tier::C, ActivityKind::Visit), 0.0);
    assert_eq!(cadences.per_month(Tier::A, ActivityKind::Training), 0.0);
}

// ---------------------------------------------------------------------------------------------
// IncentivePlan
// ---------------------------------------------------------------------------------------------

#[test]
fn a_consistent_incentive_plan_is_accepted() {
    let plan = sample_plan();

    assert_eq!(plan.basis(), RevenueBasis::SellThrough);
    assert_eq!(plan.commission_rate().get(), 0.04);
    assert_eq!(plan.accelerators().len(), 2);
    assert_eq!(plan.cap(), Some(attainment(2.0)));
    assert_eq!(plan.threshold_bonuses().len(), 2);
}

#[test]
fn an_incentive_plan_with_nothing_but_commission_is_accepted() {
    let plan = plan(vec![], None, vec![]).unwrap();

    assert_close(plan.marginal_rate(0.0), 0.04);
    assert_close(plan.marginal_rate(9.0), 0.04);
}

#[test]
fn accelerators_that_do_not_start_at_rising_attainment_are_rejected() {
    let accelerators = vec![accelerator(1.2, 1.5), accelerator(1.0, 2.0)];

    assert_rejected(
        plan(accelerators, None, vec![]),
        "accelerators[1].from_attainment",
        "rising attainment",
    );
}

#[test]
fn a_cap_below_goal_is_rejected() {
    assert_rejected(plan(vec![], Some(0.9), vec![]), "cap", "below 1.0");
}

#[test]
fn a_cap_at_goal_is_accepted() {
    assert!(plan(vec![], Some(1.0), vec![]).is_ok());
}

#[test]
fn a_cap_not_above_the_last_accelerator_start_is_rejected() {
    let at_start = plan(
        vec![accelerator(1.0, 1.5), accelerator(1.5, 2.0)],
        Some(1.5),
        vec![],
    );
    let below_start = plan(vec![accelerator(1.6, 2.0)], Some(1.5), vec![]);

    assert_rejected(at_start, "cap", "above the last accelerator's start");
    assert_rejected(below_start, "cap", "above the last accelerator's start");
}

#[test]
fn a_negative_threshold_bonus_is_rejected() {
    let bonuses = vec![bonus(1.0, eur(100)), bonus(1.2, eur(-100))];

    assert_rejected(
        plan(vec![], None, bonuses),
        "threshold_bonuses[1].amount",
        "must not be negative",
    );
}

#[test]
fn threshold_bonuses_in_mixed_currencies_are_rejected() {
    let bonuses = vec![bonus(1.0, eur(100)), bonus(1.2, usd(200))];

    assert_rejected(
        plan(vec![], None, bonuses),
        "threshold_bonuses[1].amount",
        "one currency",
    );
}

#[test]
fn below_the_first_accelerator_commission_is_paid_at_the_base_rate() {
    let plan = sample_plan();

    assert_close(plan.marginal_rate(0.0), 0.04);
    assert_close(plan.marginal_rate(0.99), 0.04);
}

#[test]
fn above_an_accelerator_commission_is_paid_at_the_highest_multiplier_reached() {
    let plan = sample_plan();

    assert_close(plan.marginal_rate(1.0), 0.06);
    assert_close(plan.marginal_rate(1.1), 0.06);
    assert_close(plan.marginal_rate(1.2), 0.08);
    assert_close(plan.marginal_rate(1.9), 0.08);
}

#[test]
fn above_the_cap_no_commission_is_paid() {
    let plan = sample_plan();

    assert_eq!(plan.marginal_rate(2.01), 0.0);
    assert_eq!(plan.marginal_rate(5.0), 0.0);
}

// ---------------------------------------------------------------------------------------------
// PartnerProgram
// ---------------------------------------------------------------------------------------------

#[test]
fn a_partner_program_with_rising_steps_is_accepted() {
    let program = sample_program();

    assert_eq!(program.base_margin().get(), 0.2);
    assert_eq!(program.rebate_tiers().len(), 2);
    assert_eq!(program.target_period(), PeriodLength::Quarter);
}

#[test]
fn a_partner_program_with_steps_that_do_not_rise_is_rejected() {
    let steps = vec![program_tier(1.0, 0.01), program_tier(1.0, 0.02)];

    assert_rejected(
        PartnerProgram::new(fraction(0.2), steps, PeriodLength::Year),
        "rebate_tiers[1].at_attainment",
        "steps must rise",
    );
}

#[test]
fn a_partner_program_whose_higher_step_pays_less_is_rejected() {
    let steps = vec![
        program_tier(0.9, 0.01),
        program_tier(1.0, 0.03),
        program_tier(1.2, 0.02),
    ];

    assert_rejected(
        PartnerProgram::new(fraction(0.2), steps, PeriodLength::Year),
        "rebate_tiers[2].rate",
        "must not pay less",
    );
}

#[test]
fn the_program_rebate_is_the_rate_of_the_highest_step_reached() {
    let program = sample_program();

    assert_eq!(program.rebate_rate(0.0), 0.0);
    assert_eq!(program.rebate_rate(0.89), 0.0);
    assert_eq!(program.rebate_rate(0.9), 0.01);
    assert_eq!(program.rebate_rate(1.05), 0.01);
    assert_eq!(program.rebate_rate(1.1), 0.03);
    assert_eq!(program.rebate_rate(3.0), 0.03);
}
