//! Tests for chanlab's record types: the validating constructors that are not unit-tested
//! inside `shared/src`, JSON round trips of every public record, and deserialisation going
//! through the same checks as the constructors.

use std::fmt::Debug;

use chanlab_shared::{
    Accelerator, Activity, ActivityCadence, ActivityId, ActivityKind, ActivityOutcome,
    ActivityTarget, ActivityTargets, Assessment, AssessmentId, AssessmentPlan, Attainment,
    Cadences, Contract, ContractId, ContractTerms, Currency, Fraction, Goal, GoalId, GoalSetting,
    GoalStrategy, GoalStrategyKind, GrowthRate, IncentivePlan, KeyLinkResult, LifecycleStage,
    Metric, MetricWeight, MetricWeights, Money, Month, Multiplier, Name, Notes, OnboardingProgram,
    Partner, PartnerId, PartnerKind, PartnerProgram, Period, PeriodLength, PositiveCount,
    ProcessRules, ProcessSpec, ProcessSpecId, ProgramRebateTier, Quantity, RebateTier, Region,
    RegionId, Rep, RepId, RepStatus, RevenueBasis, SalesRecord, SalesRecordId, Scope, SpecStatus,
    ThresholdBonus, ThresholdLevels, Tier, Uplift, Validated,
};
use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

fn fraction(v: f64) -> Fraction {
    Fraction::new(v).unwrap()
}

fn attainment(v: f64) -> Attainment {
    Attainment::new(v).unwrap()
}

fn multiplier(v: f64) -> Multiplier {
    Multiplier::new(v).unwrap()
}

fn growth(v: f64) -> GrowthRate {
    GrowthRate::new(v).unwrap()
}

fn count(n: u32) -> PositiveCount {
    PositiveCount::new(n).unwrap()
}

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn month(text: &str) -> Month {
    text.parse().unwrap()
}

fn period(text: &str) -> Period {
    text.parse().unwrap()
}

fn rebate(threshold: Money, rate: f64) -> RebateTier {
    RebateTier {
        threshold,
        rate: fraction(rate),
    }
}

/// Terms of a quarterly EUR 10,000.00 sell-in contract with the given rebate schedule.
fn contract_terms(rebate_tiers: Vec<RebateTier>) -> ContractTerms {
    ContractTerms {
        id: ContractId::new(),
        partner_id: PartnerId::new(),
        start: date(2026, 1, 1),
        term_months: count(12),
        margin: fraction(0.06),
        rebate_tiers,
        sell_in_target: eur(1_000_000),
        target_period: PeriodLength::Quarter,
    }
}

/// A contract paying 1% from EUR 5,000 and 2% from EUR 10,000 of quarterly sell-in.
fn sample_contract() -> Contract {
    Contract::new(contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
    ]))
    .unwrap()
}

fn sales(sell_in: Money, sell_through: Money) -> Validated<SalesRecord> {
    SalesRecord::new(
        SalesRecordId::new(),
        PartnerId::new(),
        month("2026-11"),
        sell_in,
        sell_through,
    )
}

fn goal(metric: Metric, target: Quantity) -> Validated<Goal> {
    Goal::new(
        GoalId::new(),
        Scope::Rep(RepId::new()),
        period("2026-Q4"),
        metric,
        target,
        GoalStrategyKind::FlatGrowth,
        Some(ProcessSpecId::new()),
    )
}

fn metric_weight(metric: Metric, weight: f64) -> MetricWeight {
    MetricWeight {
        metric,
        weight: fraction(weight),
    }
}

fn weights(pairs: &[(Metric, f64)]) -> MetricWeights {
    MetricWeights::new(pairs.iter().map(|&(m, w)| metric_weight(m, w)).collect()).unwrap()
}

fn activity_target(activity: ActivityKind, per_period: u32) -> ActivityTarget {
    ActivityTarget {
        activity,
        per_period: count(per_period),
    }
}

fn cadence(tier: Tier, activity: ActivityKind, n: u32, every_months: u32) -> ActivityCadence {
    ActivityCadence {
        tier,
        activity,
        count: count(n),
        every_months: count(every_months),
    }
}

fn accelerator(from: f64, factor: f64) -> Accelerator {
    Accelerator {
        from_attainment: attainment(from),
        multiplier: multiplier(factor),
    }
}

fn bonus(at: f64, amount: Money) -> ThresholdBonus {
    ThresholdBonus {
        at_attainment: attainment(at),
        amount,
        period: PeriodLength::Quarter,
    }
}

fn plan(
    accelerators: Vec<Accelerator>,
    cap: Option<f64>,
    bonuses: Vec<ThresholdBonus>,
) -> Validated<IncentivePlan> {
    IncentivePlan::new(
        RevenueBasis::SellThrough,
        fraction(0.04),
        accelerators,
        cap.map(attainment),
        bonuses,
    )
}

/// 4% commission, 1.5× from 100% of goal, 2× from 120%, capped at 200%, two bonuses.
fn sample_plan() -> IncentivePlan {
    plan(
        vec![accelerator(1.0, 1.5), accelerator(1.2, 2.0)],
        Some(2.0),
        vec![bonus(1.0, eur(100_000)), bonus(1.2, eur(250_000))],
    )
    .unwrap()
}

fn program_tier(at: f64, rate: f64) -> ProgramRebateTier {
    ProgramRebateTier {
        at_attainment: attainment(at),
        rate: fraction(rate),
    }
}

/// 20% margin, 1% rebate from 90% of target, 3% from 110%.
fn sample_program() -> PartnerProgram {
    PartnerProgram::new(
        fraction(0.2),
        vec![program_tier(0.9, 0.01), program_tier(1.1, 0.03)],
        PeriodLength::Quarter,
    )
    .unwrap()
}

/// One strategy of every kind, each with valid parameters.
fn all_strategies() -> Vec<GoalStrategy> {
    vec![
        GoalStrategy::FlatGrowth {
            growth: growth(0.08),
        },
        GoalStrategy::Ratchet {
            growth: growth(0.05),
            up_weight: fraction(0.6),
            down_weight: fraction(0.3),
        },
        GoalStrategy::PotentialBased {
            share_of_potential: fraction(0.7),
        },
        GoalStrategy::Stretch {
            uplift: Uplift::new(0.3).unwrap(),
        },
        GoalStrategy::Participative {
            weight_on_proposal: fraction(0.5),
            share_of_potential: fraction(0.7),
        },
        GoalStrategy::TieredThresholds {
            growth: growth(0.05),
            levels: ThresholdLevels::new(vec![attainment(0.9), attainment(1.0), attainment(1.2)])
                .unwrap(),
        },
        GoalStrategy::ActivityBased {
            targets: ActivityTargets::new(vec![
                activity_target(ActivityKind::Visit, 6),
                activity_target(ActivityKind::Training, 1),
            ])
            .unwrap(),
        },
        GoalStrategy::BalancedScorecard {
            growth: growth(0.05),
            weights: weights(&[
                (Metric::SellThrough, 0.5),
                (Metric::Visits, 0.3),
                (Metric::Trainings, 0.2),
            ]),
        },
    ]
}

fn sample_rules(strategy: GoalStrategy) -> ProcessRules {
    ProcessRules {
        name: name("FY27 potential-based"),
        description: Notes::parse("Goals from estimated potential, paid on sell-through.").unwrap(),
        goal_setting: GoalSetting {
            strategy,
            period: PeriodLength::Quarter,
            metric: Metric::SellThrough,
        },
        cadences: Cadences::new(vec![
            cadence(Tier::A, ActivityKind::Visit, 1, 1),
            cadence(Tier::B, ActivityKind::Visit, 1, 3),
        ])
        .unwrap(),
        onboarding: OnboardingProgram {
            months: count(3),
            trainings: 2,
            visits_per_month: 2,
        },
        assessment: AssessmentPlan {
            key_links: weights(&[(Metric::SellThrough, 0.6), (Metric::Visits, 0.4)]),
            every: PeriodLength::Quarter,
            pay_weight: fraction(0.2),
        },
        incentive: sample_plan(),
        partner_program: sample_program(),
    }
}

fn sample_spec() -> ProcessSpec {
    ProcessSpec {
        id: ProcessSpecId::new(),
        version: count(2),
        status: SpecStatus::Published,
        published_on: Some(date(2026, 1, 15)),
        rules: sample_rules(GoalStrategy::PotentialBased {
            share_of_potential: fraction(0.7),
        }),
    }
}

fn sample_partner() -> Partner {
    Partner::new(
        PartnerId::new(),
        name("Nordic Distribution AB"),
        PartnerKind::Distributor,
        Tier::A,
        RegionId::new(),
        Some(RepId::new()),
        LifecycleStage::Active,
    )
}

fn key_link(metric: Metric, weight: f64, target: Quantity, actual: Quantity) -> KeyLinkResult {
    KeyLinkResult {
        metric,
        weight: fraction(weight),
        target,
        actual,
    }
}

fn assessment(results: Vec<KeyLinkResult>) -> Validated<Assessment> {
    Assessment::new(
        AssessmentId::new(),
        Scope::Rep(RepId::new()),
        period("2026-Q4"),
        ProcessSpecId::new(),
        count(1),
        results,
    )
}

/// Sell-through 110% of goal (weight 0.6) and visits 75% of goal (weight 0.4).
fn sample_assessment() -> Assessment {
    assessment(vec![
        key_link(
            Metric::SellThrough,
            0.6,
            Quantity::Amount(eur(1_000_000)),
            Quantity::Amount(eur(1_100_000)),
        ),
        key_link(Metric::Visits, 0.4, Quantity::Count(12), Quantity::Count(9)),
    ])
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// Asserts `result` is a rejection of `field` whose message mentions `message_part`.
#[track_caller]
fn assert_rejected<T: Debug>(result: Validated<T>, field: &str, message_part: &str) {
    match result {
        Ok(value) => panic!("expected {field} to be rejected, but got {value:?}"),
        Err(err) => {
            assert_eq!(err.field(), field, "wrong field in {err}");
            assert!(
                err.message().contains(message_part),
                "message of `{err}` should mention {message_part:?}"
            );
        }
    }
}

#[track_caller]
fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, found {actual}"
    );
}

/// Serialises `value`, deserialises the JSON back and asserts the result equals `value`;
/// answers the JSON for further checks.
#[track_caller]
fn round_trip<T>(value: &T) -> Value
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_value(value).expect("serialises");
    let back: T = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("{json} does not deserialise: {e}"));
    assert_eq!(&back, value, "round trip through {json} changed the value");
    json
}

/// Asserts that `json` does not deserialise as `T` and the error mentions `message_part`.
#[track_caller]
fn assert_json_rejected<T: DeserializeOwned + Debug>(json: Value, message_part: &str) {
    match serde_json::from_value::<T>(json.clone()) {
        Ok(value) => panic!("{json} should be rejected, but deserialised to {value:?}"),
        Err(err) => assert!(
            err.to_string().contains(message_part),
            "error `{err}` for {json} should mention {message_part:?}"
        ),
    }
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Contract
// ---------------------------------------------------------------------------------------------

#[test]
fn a_contract_with_rising_thresholds_and_rates_is_accepted() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
    ]);
    let (id, partner_id) = (terms.id, terms.partner_id);

    let contract = Contract::new(terms).unwrap();

    assert_eq!(contract.id(), id);
    assert_eq!(contract.partner_id(), partner_id);
    assert_eq!(contract.start(), date(2026, 1, 1));
    assert_eq!(contract.term_months().get(), 12);
    assert_eq!(contract.margin().get(), 0.06);
    assert_eq!(contract.rebate_tiers().len(), 2);
    assert_eq!(contract.sell_in_target(), eur(1_000_000));
    assert_eq!(contract.target_period(), PeriodLength::Quarter);
}

#[test]
fn a_contract_without_rebate_tiers_is_accepted() {
    let contract = Contract::new(contract_terms(vec![])).unwrap();

    assert!(contract.rebate_tiers().is_empty());
    assert_eq!(contract.rebate_rate_for(eur(99_000_000)), 0.0);
}

#[test]
fn a_contract_with_a_negative_sell_in_target_is_rejected() {
    let mut terms = contract_terms(vec![]);
    terms.sell_in_target = eur(-1);

    assert_rejected(
        Contract::new(terms),
        "sell_in_target",
        "must not be negative",
    );
}

#[test]
fn a_contract_with_a_negative_rebate_threshold_is_rejected() {
    let terms = contract_terms(vec![rebate(eur(-100), 0.01)]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[0].threshold",
        "must not be negative",
    );
}

#[test]
fn a_contract_with_a_threshold_in_another_currency_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(usd(1_000_000), 0.02),
    ]);

    let err = Contract::new(terms).unwrap_err();

    assert_eq!(err.field(), "rebate_tiers[1].threshold");
    assert!(err.message().contains("currency EUR"), "{err}");
    assert!(err.message().contains("USD"), "{err}");
}

#[test]
fn a_contract_with_falling_rebate_thresholds_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(1_000_000), 0.01),
        rebate(eur(500_000), 0.02),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[1].threshold",
        "thresholds must rise",
    );
}

#[test]
fn a_contract_with_a_repeated_rebate_threshold_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
        rebate(eur(1_000_000), 0.03),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[2].threshold",
        "is not above",
    );
}

#[test]
fn a_contract_whose_higher_threshold_pays_less_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.02),
        rebate(eur(1_000_000), 0.01),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[1].rate",
        "must not pay less",
    );
}

#[test]
fn a_contract_whose_higher_threshold_pays_the_same_rate_is_accepted() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.02),
        rebate(eur(1_000_000), 0.02),
    ]);

    assert!(Contract::new(terms).is_ok());
}

#[test]
fn a_contract_ends_its_term_in_months_after_its_start() {
    let mut terms = contract_terms(vec![]);
    terms.start = date(2026, 3, 15);
    terms.term_months = count(10);

    let contract = Contract::new(terms).unwrap();

    assert_eq!(contract.end(), Some(date(2027, 1, 15)));
    assert_eq!(sample_contract().end(), Some(date(2027, 1, 1)));
}

#[test]
fn the_rebate_rate_is_the_rate_of_the_highest_threshold_reached() {
    let contract = sample_contract();

    assert_eq!(contract.rebate_rate_for(eur(0)), 0.0);
    assert_eq!(contract.rebate_rate_for(eur(499_999)), 0.0);
    assert_eq!(contract.rebate_rate_for(eur(500_000)), 0.01);
    assert_eq!(contract.rebate_rate_for(eur(999_999)), 0.01);
    assert_eq!(contract.rebate_rate_for(eur(1_000_000)), 0.02);
    assert_eq!(contract.rebate_rate_for(eur(50_000_000)), 0.02);
}

#[test]
fn sell_in_in_another_currency_earns_no_contract_rebate() {
    let contract = sample_contract();

    assert_eq!(contract.rebate_rate_for(usd(50_000_000)), 0.0);
}

// ---------------------------------------------------------------------------------------------
// SalesRecord
// ---------------------------------------------------------------------------------------------

#[test]
fn a_sales_record_with_non_negative_amounts_in_one_currency_is_accepted() {
    let id = SalesRecordId::new();
    let partner_id = PartnerId::new();

    let record = SalesRecord::new(id, partner_id, month("2026-11"), eur(500), eur(300)).unwrap();

    assert_eq!(record.id(), id);
    assert_eq!(record.partner_id(), partner_id);
    assert_eq!(record.month(), month("2026-11"));
    assert_eq!(record.sell_in(), eur(500));
    assert_eq!(record.sell_through(), eur(300));
}

#[test]
fn a_sales_record_with_negative_sell_in_is_rejected() {
    assert_rejected(sales(eur(-1), eur(0)), "sell_in", "must not be negative");
}

#[test]
fn a_sales_record_with_negative_sell_through_is_rejected() {
    assert_rejected(
        sales(eur(0), eur(-1)),
        "sell_through",
        "must not be negative",
    );
}

#[test]
fn a_sales_record_with_mixed_currencies_is_rejected() {
    let err = sales(eur(100), usd(100)).unwrap_err();

    assert_eq!(err.field(), "sell_through");
    assert!(err.message().contains("same currency as sell_in"), "{err}");
    assert!(
        err.message().contains("EUR") && err.message().contains("USD"),
        "{err}"
    );
}

#[test]
fn inventory_grows_when_a_partner_buys_more_than_it_sells() {
    let stuffing = sales(eur(1_000), eur(400)).unwrap();
    let destocking = sales(eur(200), eur(500)).unwrap();

    assert_eq!(stuffing.inventory_change(), Ok(eur(600)));
    assert_eq!(destocking.inventory_change(), Ok(eur(-300)));
}

// ---------------------------------------------------------------------------------------------
// Goal and Quantity
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Strategy parameters
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Assessment
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// JSON round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn money_round_trips_as_minor_units_and_a_currency_code() {
    let json = round_trip(&eur(-125_050));

    assert_eq!(json, json!({"amount_minor": -125_050, "currency": "EUR"}));
}

#[test]
fn months_and_periods_round_trip_as_strings() {
    assert_eq!(round_trip(&month("2026-01")), json!("2026-01"));
    for text in ["2026-11", "2026-Q4", "2026-H1", "2026"] {
        assert_eq!(round_trip(&period(text)), json!(text));
    }
}

#[test]
fn scopes_round_trip_tagged_by_kind_with_a_string_id() {
    let rep = RepId::new();
    let partner = PartnerId::new();
    let region = RegionId::new();

    let rep_json = round_trip(&Scope::Rep(rep));
    let partner_json = round_trip(&Scope::Partner(partner));
    let region_json = round_trip(&Scope::Region(region));

    assert_eq!(rep_json, json!({"kind": "rep", "id": rep.to_string()}));
    assert_eq!(
        partner_json,
        json!({"kind": "partner", "id": partner.to_string()})
    );
    assert_eq!(
        region_json,
        json!({"kind": "region", "id": region.to_string()})
    );
}

#[test]
fn quantities_round_trip_as_snake_case_variants() {
    let amount = round_trip(&Quantity::Amount(eur(5_000_000)));
    let counted = round_trip(&Quantity::Count(12));

    assert_eq!(
        amount,
        json!({"amount": {"amount_minor": 5_000_000, "currency": "EUR"}})
    );
    assert_eq!(counted, json!({"count": 12}));
}

#[test]
fn a_region_round_trips() {
    let region = Region {
        id: RegionId::new(),
        name: name("Nordics"),
        regional_manager: name("Ingrid Berg"),
    };

    let json = round_trip(&region);

    assert_eq!(json["id"], json!(region.id.to_string()));
    assert_eq!(json["regional_manager"], "Ingrid Berg");
}

#[test]
fn a_rep_round_trips_with_snake_case_status_and_iso_date() {
    let rep = Rep {
        id: RepId::new(),
        name: name("Jonas Lind"),
        region_id: RegionId::new(),
        hired_on: date(2025, 3, 1),
        status: RepStatus::OnLeave,
    };

    let json = round_trip(&rep);

    assert!(json["region_id"].is_string(), "{json}");
    assert_eq!(json["hired_on"], "2025-03-01");
    assert_eq!(json["status"], "on_leave");
}

#[test]
fn a_partner_round_trips_with_its_stage() {
    let partner = sample_partner();

    let json = round_trip(&partner);

    assert!(json["id"].is_string(), "{json}");
    assert!(json["region_id"].is_string(), "{json}");
    assert!(json["owner_rep_id"].is_string(), "{json}");
    assert_eq!(json["kind"], "distributor");
    assert_eq!(json["tier"], "A");
    assert_eq!(json["stage"], "active");
}

#[test]
fn a_partner_without_an_owner_round_trips_without_the_field() {
    let mut partner = sample_partner();
    partner.owner_rep_id = None;
    partner.kind = PartnerKind::SystemIntegrator;

    let json = round_trip(&partner);

    assert!(json.get("owner_rep_id").is_none(), "{json}");
    assert_eq!(json["kind"], "system_integrator");
}

#[test]
fn a_contract_round_trips() {
    let contract = sample_contract();

    let json = round_trip(&contract);

    assert!(json["partner_id"].is_string(), "{json}");
    assert_eq!(json["start"], "2026-01-01");
    assert_eq!(json["term_months"], 12);
    assert_eq!(json["target_period"], "quarter");
    assert_eq!(json["sell_in_target"]["currency"], "EUR");
    assert_eq!(
        json["rebate_tiers"][1]["threshold"]["amount_minor"],
        1_000_000
    );
    assert_eq!(json["rebate_tiers"][1]["rate"], 0.02);
}

#[test]
fn an_activity_round_trips() {
    let activity = Activity {
        id: ActivityId::new(),
        rep_id: RepId::new(),
        partner_id: PartnerId::new(),
        date: date(2026, 11, 12),
        kind: ActivityKind::BusinessReview,
        outcome: ActivityOutcome::NoShow,
        notes: Notes::parse("Rescheduled to next week.").unwrap(),
    };

    let json = round_trip(&activity);

    assert!(json["rep_id"].is_string(), "{json}");
    assert_eq!(json["kind"], "business_review");
    assert_eq!(json["outcome"], "no_show");
    assert_eq!(json["date"], "2026-11-12");
}

#[test]
fn an_activity_without_notes_deserialises_with_empty_notes() {
    let activity = Activity {
        id: ActivityId::new(),
        rep_id: RepId::new(),
        partner_id: PartnerId::new(),
        date: date(2026, 11, 12),
        kind: ActivityKind::Visit,
        outcome: ActivityOutcome::Completed,
        notes: Notes::default(),
    };
    let mut json = to_json(&activity);
    json.as_object_mut().unwrap().remove("notes");

    let back: Activity = serde_json::from_value(json).unwrap();

    assert_eq!(back, activity);
}

#[test]
fn a_sales_record_round_trips() {
    let record = sales(eur(500_000), eur(420_000)).unwrap();

    let json = round_trip(&record);

    assert!(json["id"].is_string(), "{json}");
    assert!(json["partner_id"].is_string(), "{json}");
    assert_eq!(json["month"], "2026-11");
    assert_eq!(json["sell_in"]["amount_minor"], 500_000);
    assert_eq!(json["sell_through"]["amount_minor"], 420_000);
}

#[test]
fn a_goal_round_trips() {
    let goal = goal(Metric::SellThrough, Quantity::Amount(eur(5_000_000))).unwrap();

    let json = round_trip(&goal);

    assert_eq!(json["scope"]["kind"], "rep");
    assert!(json["scope"]["id"].is_string(), "{json}");
    assert!(json["process_spec_id"].is_string(), "{json}");
    assert_eq!(json["period"], "2026-Q4");
    assert_eq!(json["metric"], "sell_through");
    assert_eq!(json["strategy"], "flat_growth");
    assert_eq!(json["target"]["amount"]["amount_minor"], 5_000_000);
}

#[test]
fn a_manual_goal_without_a_spec_round_trips_without_the_spec_field() {
    let goal = Goal::new(
        GoalId::new(),
        Scope::Region(RegionId::new()),
        period("2026"),
        Metric::PartnersSigned,
        Quantity::Count(4),
        GoalStrategyKind::Manual,
        None,
    )
    .unwrap();

    let json = round_trip(&goal);

    assert!(json.get("process_spec_id").is_none(), "{json}");
    assert_eq!(json["strategy"], "manual");
    assert_eq!(json["metric"], "partners_signed");
}

#[test]
fn every_goal_strategy_round_trips_tagged_by_its_snake_case_kind() {
    let expected_kinds = [
        "flat_growth",
        "ratchet",
        "potential_based",
        "stretch",
        "participative",
        "tiered_thresholds",
        "activity_based",
        "balanced_scorecard",
    ];
    let strategies = all_strategies();
    assert_eq!(strategies.len(), expected_kinds.len());

    for (strategy, expected) in strategies.iter().zip(expected_kinds) {
        let json = round_trip(strategy);

        assert_eq!(json["kind"], expected, "{json}");
        assert_eq!(
            json["kind"],
            to_json(&strategy.kind()),
            "GoalStrategy and GoalStrategyKind name {expected} alike"
        );
    }
}

#[test]
fn every_goal_strategy_round_trips_inside_a_goal_setting() {
    for strategy in all_strategies() {
        let setting = GoalSetting {
            strategy,
            period: PeriodLength::HalfYear,
            metric: Metric::SellIn,
        };

        let json = round_trip(&setting);

        assert_eq!(json["period"], "half_year");
        assert_eq!(json["metric"], "sell_in");
        assert!(json["strategy"]["kind"].is_string(), "{json}");
    }
}

#[test]
fn strategy_parameters_are_plain_json_values() {
    let strategies = all_strategies();

    let flat = to_json(&strategies[0]);
    let tiered = to_json(&strategies[5]);
    let activity = to_json(&strategies[6]);
    let scorecard = to_json(&strategies[7]);

    assert_eq!(flat, json!({"kind": "flat_growth", "growth": 0.08}));
    assert_eq!(tiered["levels"], json!([0.9, 1.0, 1.2]));
    assert_eq!(
        activity["targets"][0],
        json!({"activity": "visit", "per_period": 6})
    );
    assert_eq!(
        scorecard["weights"][0],
        json!({"metric": "sell_through", "weight": 0.5})
    );
}

#[test]
fn a_process_spec_round_trips() {
    let spec = sample_spec();

    let json = round_trip(&spec);

    assert!(json["id"].is_string(), "{json}");
    assert_eq!(json["version"], 2);
    assert_eq!(json["status"], "published");
    assert_eq!(json["published_on"], "2026-01-15");
    let rules = &json["rules"];
    assert_eq!(rules["goal_setting"]["strategy"]["kind"], "potential_based");
    assert_eq!(rules["cadences"][0]["tier"], "A");
    assert_eq!(rules["cadences"][0]["activity"], "visit");
    assert_eq!(rules["assessment"]["every"], "quarter");
    assert_eq!(rules["incentive"]["basis"], "sell_through");
    assert_eq!(rules["incentive"]["cap"], 2.0);
    assert_eq!(rules["partner_program"]["target_period"], "quarter");
}

#[test]
fn a_process_spec_round_trips_with_every_goal_strategy() {
    for strategy in all_strategies() {
        let mut spec = sample_spec();
        spec.rules = sample_rules(strategy);
        spec.status = SpecStatus::Draft;
        spec.published_on = None;

        let json = round_trip(&spec);

        assert!(json.get("published_on").is_none(), "{json}");
        assert_eq!(json["status"], "draft");
    }
}

#[test]
fn a_process_spec_may_leave_out_cadences_description_and_pay_weight() {
    let mut json = to_json(&sample_spec());
    let rules = json["rules"].as_object_mut().unwrap();
    rules.remove("cadences");
    rules.remove("description");
    rules["assessment"]
        .as_object_mut()
        .unwrap()
        .remove("pay_weight");

    let spec: ProcessSpec = serde_json::from_value(json).unwrap();

    assert!(spec.rules.cadences.cadences().is_empty());
    assert_eq!(spec.rules.description, Notes::default());
    assert_eq!(spec.rules.assessment.pay_weight.get(), 0.0);
}

#[test]
fn an_incentive_plan_without_a_cap_round_trips_without_the_field() {
    let plan = plan(vec![accelerator(1.0, 1.5)], None, vec![]).unwrap();

    let json = round_trip(&plan);

    assert!(json.get("cap").is_none(), "{json}");
}

#[test]
fn a_partner_program_round_trips() {
    let json = round_trip(&sample_program());

    assert_eq!(json["base_margin"], 0.2);
    assert_eq!(
        json["rebate_tiers"][1],
        json!({"at_attainment": 1.1, "rate": 0.03})
    );
}

#[test]
fn an_assessment_round_trips() {
    let assessment = sample_assessment();

    let json = round_trip(&assessment);

    assert!(json["process_spec_id"].is_string(), "{json}");
    assert_eq!(json["scope"]["kind"], "rep");
    assert_eq!(json["spec_version"], 1);
    assert_eq!(json["results"][0]["metric"], "sell_through");
    assert_eq!(json["results"][1]["target"], json!({"count": 12}));
}

// ---------------------------------------------------------------------------------------------
// Deserialisation runs the constructors' checks
// ---------------------------------------------------------------------------------------------

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
