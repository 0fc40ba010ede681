//! Derived views: scorecards of a rep or a partner and the compliance of a region's reps
//! with a process spec, computed from the records for one period.
//!
//! These are pure functions over records a caller has loaded, so they are tested without
//! a server. They live in `shared`, beside the records and the spec they read, rather than
//! in the API (which only loads the records and serves the result) or in `sim` (they
//! describe the recorded channel, not a simulated one): any front end, or the calibration,
//! can compute a scorecard without a server.
//!
//! Cadences count partners under management (`contracted`, `active`, `at_risk`); only
//! completed activities count as done.

use std::collections::BTreeMap;

use crate::{
    Activity, ActivityKind, ActivityOutcome, Currency, Goal, GoalId, LifecycleStage, Metric, Money,
    MoneyError, Month, Partner, PartnerId, Period, ProcessSpec, ProcessSpecId, Quantity, RegionId,
    RepId, SalesRecord, StageChange, Tier, ValidationError,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One required cadence over the period: what the spec asks of these partners and what
/// was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CadenceResult {
    /// The partner tier the cadence applies to.
    pub tier: Tier,
    /// The activity required.
    pub activity: ActivityKind,
    /// Partners of that tier under management.
    pub partners: u64,
    /// Activities required over the period (may be fractional: 1 every 3 months over one
    /// month is 0.33).
    pub required: f64,
    /// Completed activities of that kind with those partners in the period.
    pub done: u64,
    /// done ÷ required (1 when nothing is required).
    pub attainment: f64,
}

/// A goal of the period, with the actual computed from the records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GoalResult {
    /// The goal.
    pub goal_id: GoalId,
    /// What it measures.
    pub metric: Metric,
    /// The target.
    pub target: Quantity,
    /// What the records show.
    pub actual: Quantity,
    /// actual ÷ target (1 when the target is zero).
    pub attainment: f64,
}

/// Sell-in against sell-through over the period, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SalesSummary {
    /// What partners bought from us.
    pub sell_in: Money,
    /// What partners sold on.
    pub sell_through: Money,
    /// sell_in − sell_through: stock added to (or taken from) partner inventory.
    pub inventory_change: Money,
}

/// Key-link results of one rep for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RepScorecard {
    /// The rep.
    pub rep_id: RepId,
    /// The period.
    pub period: Period,
    /// The process spec whose cadences apply, if one is published.
    pub process_spec_id: Option<ProcessSpecId>,
    /// Its version.
    pub spec_version: Option<u32>,
    /// Partners the rep owns.
    pub partners: u64,
    /// Cadences required by the spec for the rep's partners, against what the rep did.
    pub cadences: Vec<CadenceResult>,
    /// Share of required cadence activities done (each cadence counted up to its
    /// requirement); 1 when nothing is required.
    pub compliance: f64,
    /// The rep's goals for the period.
    pub goals: Vec<GoalResult>,
    /// Sell-in and sell-through of the rep's partners, per currency.
    pub sales: Vec<SalesSummary>,
    /// Partners of the rep that signed (moved to `contracted`) in the period.
    pub partners_signed: u64,
}

/// Key-link results of one partner for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartnerScorecard {
    /// The partner.
    pub partner_id: PartnerId,
    /// The period.
    pub period: Period,
    /// The partner's stage now.
    pub stage: LifecycleStage,
    /// The process spec whose cadences apply, if one is published.
    pub process_spec_id: Option<ProcessSpecId>,
    /// Its version.
    pub spec_version: Option<u32>,
    /// Cadences required for this partner's tier, against the activities with it.
    pub cadences: Vec<CadenceResult>,
    /// Share of required cadence activities done; 1 when nothing is required.
    pub compliance: f64,
    /// The partner's goals for the period.
    pub goals: Vec<GoalResult>,
    /// Its sell-in and sell-through, per currency.
    pub sales: Vec<SalesSummary>,
}

/// Compliance of one region or rep with a spec's cadences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceRow {
    /// The region (for region rows) or the rep's region.
    pub region_id: RegionId,
    /// The rep, for rep rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_id: Option<RepId>,
    /// Partners under management.
    pub partners: u64,
    /// Activities required over the period.
    pub required: f64,
    /// Required activities done (each cadence counted up to its requirement).
    pub done: f64,
    /// done ÷ required; 1 when nothing is required.
    pub compliance: f64,
}

/// How well each region and rep followed a process spec's cadences in a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceReport {
    /// The spec.
    pub process_spec_id: ProcessSpecId,
    /// The version assessed.
    pub spec_version: u32,
    /// The period.
    pub period: Period,
    /// One row per region.
    pub regions: Vec<ComplianceRow>,
    /// One row per rep that owns partners.
    pub reps: Vec<ComplianceRow>,
}

/// True for stages in which a partner is under management and cadences apply.
pub fn managed(stage: LifecycleStage) -> bool {
    matches!(
        stage,
        LifecycleStage::Contracted | LifecycleStage::Active | LifecycleStage::AtRisk
    )
}

fn completed_in(a: &Activity, period: Period) -> bool {
    a.outcome == ActivityOutcome::Completed
        && Month::of_date(a.date).is_ok_and(|m| period.contains(m))
}

/// Cadence results for `partners` (those under management count) and the activities done
/// with them.
pub fn cadences(
    spec: Option<&ProcessSpec>,
    partners: &[Partner],
    activities: &[Activity],
    period: Period,
) -> Vec<CadenceResult> {
    let Some(spec) = spec else { return Vec::new() };
    let months = f64::from(period.length().months() as u32);
    spec.rules
        .cadences
        .cadences()
        .iter()
        .map(|c| {
            let ids: Vec<PartnerId> = partners
                .iter()
                .filter(|p| p.tier == c.tier && managed(p.stage()))
                .map(|p| p.id)
                .collect();
            let required = c.per_month() * months * ids.len() as f64;
            let done = activities
                .iter()
                .filter(|a| {
                    a.kind == c.activity && ids.contains(&a.partner_id) && completed_in(a, period)
                })
                .count() as u64;
            CadenceResult {
                tier: c.tier,
                activity: c.activity,
                partners: ids.len() as u64,
                required,
                done,
                attainment: ratio(done as f64, required),
            }
        })
        .collect()
}

/// Share of required activities done, each cadence counted up to its requirement.
pub fn compliance(results: &[CadenceResult]) -> f64 {
    let required: f64 = results.iter().map(|r| r.required).sum();
    let done: f64 = results
        .iter()
        .map(|r| (r.done as f64).min(r.required))
        .sum();
    ratio(done, required)
}

fn ratio(actual: f64, target: f64) -> f64 {
    if target <= 0.0 { 1.0 } else { actual / target }
}

/// Sell-in and sell-through of `sales` in the period, per currency (in code order).
///
/// A total beyond [`MAX_SAFE_MINOR`](crate::MAX_SAFE_MINOR) is an error naming the
/// figure (`sales[0].sell_in`), never a saturated or inexact number.
pub fn sales_summary(
    sales: &[SalesRecord],
    period: Period,
) -> Result<Vec<SalesSummary>, ValidationError> {
    let mut by_currency: BTreeMap<&'static str, (Currency, Vec<&SalesRecord>)> = BTreeMap::new();
    for r in sales.iter().filter(|r| period.contains(r.month())) {
        let c = r.sell_in().currency();
        by_currency
            .entry(c.code())
            .or_insert((c, Vec::new()))
            .1
            .push(r);
    }
    by_currency
        .into_values()
        .enumerate()
        .map(|(i, (c, records))| {
            let total = |figure: &str, pick: fn(&SalesRecord) -> Money| {
                Money::sum(c, records.iter().map(|r| pick(r)))
                    .map_err(|e| too_large(format!("sales[{i}].{figure}"), figure, e))
            };
            let sell_in = total("sell_in", SalesRecord::sell_in)?;
            let sell_through = total("sell_through", SalesRecord::sell_through)?;
            let inventory_change = sell_in.checked_sub(sell_through).map_err(|e| {
                too_large(
                    format!("sales[{i}].inventory_change"),
                    "inventory_change",
                    e,
                )
            })?;
            Ok(SalesSummary {
                sell_in,
                sell_through,
                inventory_change,
            })
        })
        .collect()
}

/// The error for a total that money cannot hold, naming it at `field`.
fn too_large(field: String, figure: &str, e: MoneyError) -> ValidationError {
    ValidationError::new(
        field,
        format!(
            "the period's {figure} cannot be given: {e}; ask for a shorter period, or look for a mistyped amount among its sales records"
        ),
    )
}

/// The records a goal's actual is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Activities of the scope.
    pub activities: &'a [Activity],
    /// Sales of the scope's partners.
    pub sales: &'a [SalesRecord],
    /// Lifecycle moves of the scope's partners.
    pub transitions: &'a [StageChange],
}

/// Each goal with its actual from `evidence` over its period. An amount actual beyond
/// [`MAX_SAFE_MINOR`](crate::MAX_SAFE_MINOR) is an error naming it (`goals[0].actual`).
pub fn goal_results(
    goals: &[Goal],
    evidence: Evidence<'_>,
) -> Result<Vec<GoalResult>, ValidationError> {
    goals
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let period = g.period();
            let actual = match (g.metric(), g.target()) {
                (Metric::SellIn | Metric::SellThrough, Quantity::Amount(target)) => {
                    let pick = if g.metric() == Metric::SellIn {
                        SalesRecord::sell_in
                    } else {
                        SalesRecord::sell_through
                    };
                    let amounts = evidence
                        .sales
                        .iter()
                        .filter(|r| {
                            period.contains(r.month())
                                && r.sell_in().currency() == target.currency()
                        })
                        .map(pick);
                    let figure = if g.metric() == Metric::SellIn {
                        "sell_in"
                    } else {
                        "sell_through"
                    };
                    Quantity::Amount(
                        Money::sum(target.currency(), amounts)
                            .map_err(|e| too_large(format!("goals[{i}].actual"), figure, e))?,
                    )
                }
                (Metric::PartnersSigned, _) => Quantity::Count(
                    evidence
                        .transitions
                        .iter()
                        .filter(|t| {
                            t.to == LifecycleStage::Contracted
                                && Month::of_date(t.on).is_ok_and(|m| period.contains(m))
                        })
                        .count() as u64,
                ),
                (metric, _) => Quantity::Count(
                    evidence
                        .activities
                        .iter()
                        .filter(|a| Some(a.kind) == metric.activity() && completed_in(a, period))
                        .count() as u64,
                ),
            };
            Ok(GoalResult {
                goal_id: g.id(),
                metric: g.metric(),
                target: g.target(),
                attainment: ratio(actual.as_f64(), g.target().as_f64()),
                actual,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ActivityId, Name, PartnerKind, RepId};

    fn partner(tier: Tier, stage: LifecycleStage) -> Partner {
        Partner::new(
            PartnerId::new(),
            Name::parse("P").unwrap(),
            PartnerKind::Reseller,
            tier,
            RegionId::new(),
            None,
            stage,
        )
    }

    fn visit(p: &Partner, date: &str, outcome: ActivityOutcome) -> Activity {
        Activity {
            id: ActivityId::new(),
            rep_id: RepId::new(),
            partner_id: p.id,
            date: date.parse().unwrap(),
            kind: ActivityKind::Visit,
            outcome,
            notes: Default::default(),
            external_id: None,
            created_by: None,
            updated_by: None,
        }
    }

    #[test]
    fn only_completed_activities_in_the_period_count_toward_a_cadence() {
        let spec: ProcessSpec = serde_json::from_value(serde_json::json!({
            "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a08", "version": 1, "status": "published",
            "rules": serde_json::from_str::<serde_json::Value>(crate::scorecard::tests::RULES).unwrap()
        }))
        .unwrap();
        let a = partner(Tier::A, LifecycleStage::Active);
        let prospect = partner(Tier::A, LifecycleStage::Prospect);
        let acts = vec![
            visit(&a, "2026-11-03", ActivityOutcome::Completed),
            visit(&a, "2026-11-20", ActivityOutcome::Cancelled),
            visit(&a, "2026-10-30", ActivityOutcome::Completed),
        ];
        let period: Period = "2026-11".parse().unwrap();
        let results = cadences(Some(&spec), &[a, prospect], &acts, period);
        let visits = results
            .iter()
            .find(|r| r.tier == Tier::A && r.activity == ActivityKind::Visit)
            .unwrap();
        assert_eq!((visits.partners, visits.required, visits.done), (1, 2.0, 1));
        assert_eq!(visits.attainment, 0.5);
    }

    fn sale(p: &Partner, month: &str, sell_in: i64, sell_through: i64) -> SalesRecord {
        let eur = |minor| Money::from_minor(minor, Currency::EUR);
        SalesRecord::new(
            crate::SalesRecordId::new(),
            p.id,
            month.parse().unwrap(),
            eur(sell_in),
            eur(sell_through),
        )
        .unwrap()
    }

    #[test]
    fn a_sales_total_money_cannot_hold_names_its_figure_never_saturates() {
        let p = partner(Tier::A, LifecycleStage::Active);
        let max = crate::MAX_SAFE_MINOR;
        let quarter: Period = "2026-Q4".parse().unwrap();
        // At the bound exactly: given as it is.
        let at = [sale(&p, "2026-10", max - 1, 0), sale(&p, "2026-11", 1, 5)];
        let summary = sales_summary(&at, quarter).unwrap();
        assert_eq!(summary[0].sell_in.amount_minor(), max);
        assert_eq!(summary[0].inventory_change.amount_minor(), max - 5);
        // One minor unit over: an error on the figure, where a saturated sum was given.
        let over = [sale(&p, "2026-10", max, 0), sale(&p, "2026-11", 1, 0)];
        let e = sales_summary(&over, quarter).unwrap_err();
        assert_eq!(e.field(), "sales[0].sell_in");
        assert!(e.message().contains("shorter period"), "{}", e.message());
        // Outside the period the same records do not count.
        let october: Period = "2026-10".parse().unwrap();
        assert_eq!(
            sales_summary(&over, october).unwrap()[0]
                .sell_in
                .amount_minor(),
            max
        );
        let through = [sale(&p, "2026-10", max, max), sale(&p, "2026-11", 0, 1)];
        assert_eq!(
            sales_summary(&through, quarter).unwrap_err().field(),
            "sales[0].sell_through"
        );
        // A goal's actual over the same records.
        let goal: Goal = serde_json::from_value(serde_json::json!({
            "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a09",
            "scope": {"kind": "partner", "id": p.id}, "period": "2026-Q4", "metric": "sell_in",
            "target": {"amount": {"amount_minor": 100, "currency": "EUR"}},
            "strategy": "flat_growth"
        }))
        .unwrap();
        let evidence = |sales| Evidence {
            activities: &[],
            sales,
            transitions: &[],
        };
        let e = goal_results(std::slice::from_ref(&goal), evidence(&over)).unwrap_err();
        assert_eq!(e.field(), "goals[0].actual");
        let ok = goal_results(&[goal], evidence(&at)).unwrap();
        assert_eq!(
            ok[0].actual,
            Quantity::Amount(Money::from_minor(max, Currency::EUR))
        );
    }

    /// Rules with one cadence: tier-A partners visited twice a month.
    pub(super) const RULES: &str = r#"{
        "name": "Test",
        "goal_setting": {"strategy": {"kind": "flat_growth", "growth": 0.05}, "period": "quarter", "metric": "sell_through"},
        "cadences": [{"tier": "A", "activity": "visit", "count": 2, "every_months": 1}],
        "onboarding": {"months": 3, "trainings": 2, "visits_per_month": 2},
        "assessment": {"key_links": [{"metric": "visits", "weight": 1.0}], "every": "quarter"},
        "incentive": {"basis": "sell_through", "commission_rate": 0.03},
        "partner_program": {"base_margin": 0.06, "target_period": "quarter"}
    }"#;
}
