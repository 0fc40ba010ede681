//! One test per partner-side mechanism, each on a hand-built partner and seat.

use chanlab_shared::{LifecycleStage, Tier};

use super::*;
use crate::model::fixtures::plan;
use crate::model::state::ramp;

/// The fixture's tier-B partner: a run rate of 6,000 a month.
fn partner(stage: LifecycleStage) -> Partner {
    crate::model::fixtures::partner(stage, Tier::B)
}

fn choice() -> Choice {
    Choice {
        effort: 1.0,
        compliance: 1.0,
        recruiting: 0.0,
        attention: 1.0,
        pull_in: 0.0,
        push_out: 0.0,
        pull_discount: 0.0,
        expected_revenue: 6_000.0,
        commitment: 1.0,
    }
}

fn seat(choice: Choice) -> SeatMonth {
    SeatMonth {
        choice,
        filled: true,
        pull: 0.0,
        push: 0.0,
        conversion: 0.0,
        response: 1.0,
    }
}

fn terms() -> MonthTerms {
    MonthTerms {
        market: 1.0,
        floor: 0.2,
        target_months_left: 3.0,
        last_target_month: false,
        months_after: 12.0,
    }
}

#[test]
fn a_prospect_enters_negotiation_with_the_seats_conversion_chance() {
    let (p, b) = (plan("flat-growth"), Behaviour::default());
    let mut prospect = partner(LifecycleStage::Prospect);
    assert!(!pipeline(&mut prospect, 0.3, 0.31, &p, &b, &terms()));
    assert_eq!(prospect.stage, LifecycleStage::Prospect);
    assert!(!pipeline(&mut prospect, 0.3, 0.29, &p, &b, &terms()));
    assert_eq!(prospect.stage, LifecycleStage::Negotiating);
}

#[test]
fn a_negotiation_resolves_at_one_over_its_length_and_signs_its_share() {
    let (p, b) = (plan("flat-growth"), Behaviour::default());
    let resolve = 1.0 / b.negotiation_months;
    let signs = resolve * b.signing_probability;
    for (u, stage) in [
        (signs * 0.99, LifecycleStage::Contracted),
        ((signs + resolve) / 2.0, LifecycleStage::Lost),
        (resolve * 1.01, LifecycleStage::Negotiating),
    ] {
        let mut n = partner(LifecycleStage::Negotiating);
        pipeline(&mut n, 0.0, u, &p, &b, &terms());
        assert_eq!(n.stage, stage, "u = {u}");
    }
}

#[test]
fn a_contracted_partner_activates_with_onboarding_and_a_prorated_target() {
    let (p, b) = (plan("potential-based"), Behaviour::default());
    let mut c = partner(LifecycleStage::Contracted);
    let m = terms();
    assert!(
        !pipeline(&mut c, 0.0, 0.5, &p, &b, &m),
        "served from next month"
    );
    assert_eq!(c.stage, LifecycleStage::Active);
    assert_eq!(c.months_selling, 0.0);
    assert_eq!(
        c.ramp,
        ramp(0.0, b.partner_ramp_months),
        "the ramp-up starts again"
    );
    assert_eq!(c.forecast, c.potential * c.engagement * c.ramp);
    assert_eq!(c.onboarding_left, p.onboarding_months);
    let engagement =
        (m.floor + ACTIVATION_ENGAGEMENT + p.onboarding_trainings * b.engagement_per_training)
            .min(1.0);
    assert_eq!(c.engagement, engagement);
    let expected_target = (1.0 + b.partner_target_growth) * c.forecast * 3.0;
    assert!((c.target - expected_target).abs() < 1e-9);
    let mut active = partner(LifecycleStage::Active);
    assert!(pipeline(&mut active, 0.0, 0.0, &p, &b, &m));
}

#[test]
fn compliant_reps_give_the_mandated_cadence_and_vacant_seats_none() {
    let p = plan("potential-based");
    let mandated = p.mandated_touches[Tier::B];
    assert!(mandated > 0.0, "the spec mandates tier-B touches");
    let part = partner(LifecycleStage::Active);
    let full = service(&seat(choice()), &p, Tier::B, 0.0).to(&part);
    assert_eq!(
        (full.touches, full.done, full.mandated),
        (mandated, mandated, mandated)
    );
    let mut none = choice();
    none.compliance = 0.0;
    let own = mandated / 2.0;
    let lax = service(&seat(none), &p, Tier::B, own).to(&part);
    assert_eq!((lax.touches, lax.done), (own, own));
    let mut vacant = seat(choice());
    vacant.filled = false;
    let empty = service(&vacant, &p, Tier::B, own).to(&part);
    assert_eq!((empty.touches, empty.done), (0.0, 0.0));
    assert_eq!(
        empty.mandated, mandated,
        "still required: compliance counts the gap"
    );
    let mut onboarding = partner(LifecycleStage::Active);
    onboarding.onboarding_left = 1;
    let welcomed = service(&seat(choice()), &p, Tier::B, 0.0).to(&onboarding);
    assert_eq!(welcomed.touches, mandated + p.onboarding_visits);
}

#[test]
fn natural_demand_scales_with_market_noise_response_and_ramp() {
    let b = Behaviour::default();
    let mut p = partner(LifecycleStage::Active);
    let base = natural_demand(&p, 1.0, 1.0, 1.0);
    assert!((base - 6_000.0).abs() < 1e-9);
    assert!((natural_demand(&p, 1.1, 0.9, 0.5) - base * 1.1 * 0.9 * 0.5).abs() < 1e-6);
    p.set_months_selling(0.0, &b);
    let new = natural_demand(&p, 1.0, 1.0, 1.0);
    assert!((new - base * ramp(0.0, b.partner_ramp_months)).abs() < 1e-9);
}

#[test]
fn pulled_deals_are_owed_by_later_months_and_capped_by_what_they_can_repay() {
    let (p, b) = (plan("flat-growth"), Behaviour::default());
    let mut s = seat(choice());
    s.pull = 1.0; // asks for a whole month's worth
    let natural = 6_000.0;
    let mut part = partner(LifecycleStage::Active);
    let timed = deal_timing(&mut part, &s, natural, &p, &b, 12.0);
    let room = b.max_pull_in * natural;
    assert_eq!(timed.pulled, natural.min(room));
    assert_eq!(timed.sell_through, natural + timed.pulled);
    assert_eq!(part.carry, -timed.pulled, "owed by the months after");
    // Next month repays what was pulled before anything sells.
    let mut quiet = seat(choice());
    quiet.pull = 0.0;
    let next = deal_timing(&mut part, &quiet, natural, &p, &b, 11.0);
    assert!((next.sell_through - (natural - timed.pulled).max(0.0)).abs() < 1e-9);
    // With nothing after this month, nothing can be pulled.
    let mut last = partner(LifecycleStage::Active);
    assert_eq!(deal_timing(&mut last, &s, natural, &p, &b, 0.0).pulled, 0.0);
    // Pushing out moves sell-through into the carry, never below zero.
    let mut push = seat(choice());
    push.push = 0.25;
    let mut pushed = partner(LifecycleStage::Active);
    let t = deal_timing(&mut pushed, &push, natural, &p, &b, 12.0);
    assert_eq!(t.sell_through, natural * 0.75);
    assert_eq!(pushed.carry, natural * 0.25);
    assert_eq!(t.moved, natural * 0.25);
}

#[test]
fn goals_on_sell_in_time_orders_not_deals() {
    let (mut p, b) = (plan("flat-growth"), Behaviour::default());
    p.goal_on_sell_in = true;
    let mut s = seat(choice());
    s.pull = 0.5;
    s.push = 0.2;
    let mut part = partner(LifecycleStage::Active);
    let t = deal_timing(&mut part, &s, 6_000.0, &p, &b, 12.0);
    assert_eq!(t.sell_through, 6_000.0);
    assert_eq!(t.loading, 0.5 * part.forecast);
    assert_eq!(t.held_back, 0.2);
    assert_eq!(part.carry, 0.0);
}

#[test]
fn orders_keep_the_stock_flow_identity_and_storage_caps_rep_loading() {
    let (p, b) = (plan("flat-growth"), Behaviour::default());
    let mut part = partner(LifecycleStage::Active);
    let before = part.inventory;
    let timed = Timed {
        sell_through: 6_000.0,
        pulled: 0.0,
        loading: 1e9,
        held_back: 0.0,
        moved: 0.0,
    };
    let o = order(&mut part, &timed, 6_000.0, &p, &b, false);
    assert!((part.inventory - (before + o.sell_in - 6_000.0)).abs() < 1e-6);
    assert!(
        part.inventory <= b.max_cover_months * part.forecast + 1e-6,
        "stock {} over the storage limit",
        part.inventory
    );
    assert!(o.rep_loading < 1e9 && o.rep_loading > 0.0);
    assert_eq!(part.period_sell_in, o.sell_in);
    // A partner short of stock still sells what it can: the order covers the gap.
    let mut empty = partner(LifecycleStage::Active);
    empty.inventory = 0.0;
    let mut hold = timed;
    hold.loading = 0.0;
    hold.held_back = 1.0;
    let o = order(&mut empty, &hold, 6_000.0, &p, &b, false);
    assert!(empty.inventory >= 0.0 && o.sell_in >= 6_000.0 - 1e-9);
}

#[test]
fn a_partner_just_short_of_a_rebate_step_loads_only_if_it_pays() {
    let (p, b) = (plan("potential-based"), Behaviour::default());
    let step = p.rebates[0].at_attainment;
    let timed = Timed {
        sell_through: 6_000.0,
        pulled: 0.0,
        loading: 0.0,
        held_back: 0.0,
        moved: 0.0,
    };
    let short = |responsiveness: f64| {
        let mut part = partner(LifecycleStage::Active);
        part.responsiveness = responsiveness;
        part.target = 18_000.0 / step;
        part.period_sell_in = 18_000.0 * 0.97 - 6_000.0;
        order(&mut part, &timed, 6_000.0, &p, &b, true)
    };
    let keen = short(1.0);
    assert!(keen.rebate_loading > 0.0, "{keen:?}");
    assert_eq!(
        short(0.0).rebate_loading,
        0.0,
        "an unresponsive partner does not load"
    );
    let mut part = partner(LifecycleStage::Active);
    part.target = 18_000.0 / step;
    part.period_sell_in = 18_000.0 * 0.97 - 6_000.0;
    assert_eq!(
        order(&mut part, &timed, 6_000.0, &p, &b, false).rebate_loading,
        0.0
    );
}

#[test]
fn engagement_follows_attention_and_suffers_from_pushed_stock() {
    let b = Behaviour::default();
    let half = 2.0;
    let mut attended = partner(LifecycleStage::Active);
    engagement(&mut attended, engagement_target(20.0, half, 0.2), 0.0, &b);
    let mut ignored = partner(LifecycleStage::Active);
    engagement(&mut ignored, engagement_target(0.0, half, 0.2), 0.0, &b);
    assert!(attended.engagement > 0.6 && ignored.engagement < 0.6);
    let mut pushed = partner(LifecycleStage::Active);
    engagement(&mut pushed, engagement_target(20.0, half, 0.2), 3_000.0, &b);
    assert!(pushed.engagement < attended.engagement);
    let mut crushed = partner(LifecycleStage::Active);
    engagement(&mut crushed, engagement_target(0.0, half, 0.2), 1e9, &b);
    assert_eq!(crushed.engagement, 0.0, "clamped at zero");
}

#[test]
fn a_disengaged_partner_is_at_risk_and_may_churn_or_recover() {
    let b = Behaviour::default();
    let mut low = partner(LifecycleStage::Active);
    low.engagement = b.at_risk_below - 0.01;
    assert!(!stage_and_churn(&mut low, 0.0, &b));
    assert_eq!(low.stage, LifecycleStage::AtRisk);
    assert_eq!(low.months_selling, 101.0, "a month older");
    let mut new = partner(LifecycleStage::Active);
    new.set_months_selling(0.0, &b);
    stage_and_churn(&mut new, 1.0, &b);
    assert_eq!(
        new.ramp,
        ramp(1.0, b.partner_ramp_months),
        "its ramp-up a month on"
    );
    assert!(new.ramp > ramp(0.0, b.partner_ramp_months));
    assert!(stage_and_churn(&mut low, b.churn_hazard_at_risk * 0.5, &b));
    assert_eq!(low.stage, LifecycleStage::Churned);
    let mut back = partner(LifecycleStage::AtRisk);
    back.engagement = b.recovered_above + 0.01;
    assert!(!stage_and_churn(&mut back, 0.0, &b), "recovery comes first");
    assert_eq!(back.stage, LifecycleStage::Active);
}

#[test]
fn the_forecast_weights_sum_to_one() {
    assert!((FORECAST_WEIGHT_OLD + FORECAST_WEIGHT_NEW - 1.0).abs() < 1e-12);
}

#[test]
fn the_partner_constants_are_the_ones_model_md_documents() {
    use crate::model::plan::assert_documented;
    assert_documented(
        "partner.rs::ACTIVATION_ENGAGEMENT",
        &[ACTIVATION_ENGAGEMENT],
    );
    assert_documented("partner.rs::FORECAST_WEIGHT_OLD", &[FORECAST_WEIGHT_OLD]);
    assert_documented("partner.rs::FORECAST_WEIGHT_NEW", &[FORECAST_WEIGHT_NEW]);
    assert_documented("partner.rs::REBATE_STEP_MARGIN", &[REBATE_STEP_MARGIN]);
    assert_documented("partner.rs::UNWIND_EXTRA_MONTHS", &[UNWIND_EXTRA_MONTHS]);
    assert_documented(
        "ledger.rs::REFERENCE_PARTNER_MARGIN",
        &[crate::model::ledger::REFERENCE_PARTNER_MARGIN],
    );
    use crate::model::world;
    assert_documented("world.rs::BASELINE_NOISE_SD", &[world::BASELINE_NOISE_SD]);
    assert_documented(
        "world.rs::INITIAL_ENGAGEMENT_SD",
        &[world::INITIAL_ENGAGEMENT_SD],
    );
    assert_documented(
        "world.rs::INITIAL_ENGAGEMENT_RANGE",
        &world::INITIAL_ENGAGEMENT_RANGE,
    );
    assert_documented(
        "world.rs::MIN_ATTRITION_FOR_TENURE",
        &[world::MIN_ATTRITION_FOR_TENURE],
    );
    assert_documented("world.rs::MAX_TENURE_MONTHS", &[world::MAX_TENURE_MONTHS]);
    assert_documented(
        "state.rs::LONG_SELLING",
        &[crate::model::state::LONG_SELLING],
    );
    assert_documented("run.rs::COMMITTED", &[crate::model::run::COMMITTED]);
    assert_documented(
        "run.rs::MARGIN_PULL_EXPONENT",
        &[crate::model::run::MARGIN_PULL_EXPONENT],
    );
    assert_documented("run.rs::FLOOR_CAP", &[crate::model::run::FLOOR_CAP]);
}
