//! Builders of valid records and the assertions the tests share.

use std::fmt::Debug;

use chanlab_shared::{
    Accelerator, ActivityCadence, ActivityKind, ActivityTarget, ActivityTargets, Assessment,
    AssessmentId, AssessmentPlan, Attainment, Cadences, Contract, ContractId, ContractTerms,
    Currency, Fraction, Goal, GoalId, GoalSetting, GoalStrategy, GoalStrategyKind, GrowthRate,
    IncentivePlan, KeyLinkResult, LifecycleStage, Metric, MetricWeight, MetricWeights, Money,
    Month, Multiplier, Name, Notes, OnboardingProgram, Partner, PartnerId, PartnerKind,
    PartnerProgram, Period, PeriodLength, PositiveCount, ProcessRules, ProcessSpec, ProcessSpecId,
    ProgramRebateTier, Quantity, RebateTier, RegionId, RepId, RevenueBasis, SalesRecord,
    SalesRecordId, Scope, SpecStatus, ThresholdBonus, ThresholdLevels, Tier, Uplift, Validated,
};
use chrono::NaiveDate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

pub(crate) fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

pub(crate) fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

pub(crate) fn fraction(v: f64) -> Fraction {
    Fraction::new(v).unwrap()
}

pub(crate) fn attainment(v: f64) -> Attainment {
    Attainment::new(v).unwrap()
}

pub(crate) fn multiplier(v: f64) -> Multiplier {
    Multiplier::new(v).unwrap()
}

pub(crate) fn growth(v: f64) -> GrowthRate {
    GrowthRate::new(v).unwrap()
}

pub(crate) fn count(n: u32) -> PositiveCount {
    PositiveCount::new(n).unwrap()
}

pub(crate) fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

pub(crate) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(crate) fn month(text: &str) -> Month {
    text.parse().unwrap()
}

pub(crate) fn period(text: &str) -> Period {
    text.parse().unwrap()
}

pub(crate) fn rebate(threshold: Money, rate: f64) -> RebateTier {
    RebateTier {
        threshold,
        rate: fraction(rate),
    }
}

/// Terms of a quarterly EUR 10,000.00 sell-in contract with the given rebate schedule.
pub(crate) fn contract_terms(rebate_tiers: Vec<RebateTier>) -> ContractTerms {
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
pub(crate) fn sample_contract() -> Contract {
    Contract::new(contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
    ]))
    .unwrap()
}

pub(crate) fn sales(sell_in: Money, sell_through: Money) -> Validated<SalesRecord> {
    SalesRecord::new(
        SalesRecordId::new(),
        PartnerId::new(),
        month("2026-11"),
        sell_in,
        sell_through,
    )
}

pub(crate) fn goal(metric: Metric, target: Quantity) -> Validated<Goal> {
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

pub(crate) fn metric_weight(metric: Metric, weight: f64) -> MetricWeight {
    MetricWeight {
        metric,
        weight: fraction(weight),
    }
}

pub(crate) fn weights(pairs: &[(Metric, f64)]) -> MetricWeights {
    MetricWeights::new(pairs.iter().map(|&(m, w)| metric_weight(m, w)).collect()).unwrap()
}

pub(crate) fn activity_target(activity: ActivityKind, per_period: u32) -> ActivityTarget {
    ActivityTarget {
        activity,
        per_period: count(per_period),
    }
}

pub(crate) fn cadence(
    tier: Tier,
    activity: ActivityKind,
    n: u32,
    every_months: u32,
) -> ActivityCadence {
    ActivityCadence {
        tier,
        activity,
        count: count(n),
        every_months: count(every_months),
    }
}

pub(crate) fn accelerator(from: f64, factor: f64) -> Accelerator {
    Accelerator {
        from_attainment: attainment(from),
        multiplier: multiplier(factor),
    }
}

pub(crate) fn bonus(at: f64, amount: Money) -> ThresholdBonus {
    ThresholdBonus {
        at_attainment: attainment(at),
        amount,
        period: PeriodLength::Quarter,
    }
}

pub(crate) fn plan(
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
pub(crate) fn sample_plan() -> IncentivePlan {
    plan(
        vec![accelerator(1.0, 1.5), accelerator(1.2, 2.0)],
        Some(2.0),
        vec![bonus(1.0, eur(100_000)), bonus(1.2, eur(250_000))],
    )
    .unwrap()
}

pub(crate) fn program_tier(at: f64, rate: f64) -> ProgramRebateTier {
    ProgramRebateTier {
        at_attainment: attainment(at),
        rate: fraction(rate),
    }
}

/// 20% margin, 1% rebate from 90% of target, 3% from 110%.
pub(crate) fn sample_program() -> PartnerProgram {
    PartnerProgram::new(
        fraction(0.2),
        vec![program_tier(0.9, 0.01), program_tier(1.1, 0.03)],
        PeriodLength::Quarter,
    )
    .unwrap()
}

/// One strategy of every kind, each with valid parameters.
pub(crate) fn all_strategies() -> Vec<GoalStrategy> {
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

pub(crate) fn sample_rules(strategy: GoalStrategy) -> ProcessRules {
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

pub(crate) fn sample_spec() -> ProcessSpec {
    ProcessSpec {
        created_by: None,
        updated_by: None,
        id: ProcessSpecId::new(),
        version: count(2),
        status: SpecStatus::Published,
        published_on: Some(date(2026, 1, 15)),
        rules: sample_rules(GoalStrategy::PotentialBased {
            share_of_potential: fraction(0.7),
        }),
    }
}

pub(crate) fn sample_partner() -> Partner {
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

pub(crate) fn key_link(
    metric: Metric,
    weight: f64,
    target: Quantity,
    actual: Quantity,
) -> KeyLinkResult {
    KeyLinkResult {
        metric,
        weight: fraction(weight),
        target,
        actual,
    }
}

pub(crate) fn assessment(results: Vec<KeyLinkResult>) -> Validated<Assessment> {
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
pub(crate) fn sample_assessment() -> Assessment {
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
pub(crate) fn assert_rejected<T: Debug>(result: Validated<T>, field: &str, message_part: &str) {
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
pub(crate) fn assert_close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, found {actual}"
    );
}

/// Serialises `value`, deserialises the JSON back and asserts the result equals `value`;
/// answers the JSON for further checks.
#[track_caller]
pub(crate) fn round_trip<T>(value: &T) -> Value
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
pub(crate) fn assert_json_rejected<T: DeserializeOwned + Debug>(json: Value, message_part: &str) {
    match serde_json::from_value::<T>(json.clone()) {
        Ok(value) => panic!("{json} should be rejected, but deserialised to {value:?}"),
        Err(err) => assert!(
            err.to_string().contains(message_part),
            "error `{err}` for {json} should mention {message_part:?}"
        ),
    }
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}
