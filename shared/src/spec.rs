//! Process specifications: the channel manager's published rules.
//!
//! A [`ProcessSpec`] is everything the channel manager can set without line authority over
//! the reps: how goals are set, which activities each tier of partner requires, how new
//! partners are onboarded, which key links are assessed, how reps are paid and what partners
//! earn. The simulator compares specs; the API stores them, and a published version is never
//! edited (a change publishes a new version).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activity::ActivityKind;
use crate::calendar::PeriodLength;
use crate::error::ValidationError;
use crate::goal::Metric;
use crate::id::ProcessSpecId;
use crate::money::Money;
use crate::partner::Tier;
use crate::strategy::{GoalStrategy, MetricWeights};
use crate::value::{Attainment, Fraction, Multiplier, Name, Notes, PositiveCount};

/// A channel manager's process specification, one version of it: the [`ProcessRules`] plus
/// the bookkeeping of a stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    /// The spec's id, shared by all its versions.
    pub id: ProcessSpecId,
    /// Version number, from 1; each publication of a change adds one.
    pub version: PositiveCount,
    /// Draft, published or retired.
    pub status: SpecStatus,
    /// The day this version was published, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub published_on: Option<NaiveDate>,
    /// What the spec says.
    pub rules: ProcessRules,
    /// Who made the record and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<crate::Stamp>,
    /// Who changed it last and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<crate::Stamp>,
}

/// What a process spec says: its name and the rules a channel manager publishes. This is
/// what a spec file holds, what the API accepts when a spec is written, and what the
/// simulator runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRules {
    /// A short name, e.g. "FY27 potential-based".
    pub name: Name,
    /// What the spec is for.
    #[serde(default)]
    pub description: Notes,
    /// How goals are set.
    pub goal_setting: GoalSetting,
    /// Required activity cadences per tier.
    #[serde(default)]
    pub cadences: Cadences,
    /// What new partners get in their first months.
    pub onboarding: OnboardingProgram,
    /// Which key links are assessed, with what weights.
    pub assessment: AssessmentPlan,
    /// How reps are paid.
    pub incentive: IncentivePlan,
    /// What partners earn.
    pub partner_program: PartnerProgram,
}

/// Where a spec version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecStatus {
    /// Being written; may still change.
    Draft,
    /// In force; immutable.
    Published,
    /// Superseded or withdrawn.
    Retired,
}

/// How goals are set: the strategy, the period it sets them for and the metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalSetting {
    /// The goal-setting strategy and its parameters.
    pub strategy: GoalStrategy,
    /// How long each goal period lasts.
    pub period: PeriodLength,
    /// The metric revenue goals are set on (activity-based and scorecard strategies set
    /// their own metrics).
    pub metric: Metric,
}

/// A required cadence: partners of `tier` get `count` activities of `activity` every
/// `every_months` months (tier-A visited monthly is `{A, visit, 1, 1}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityCadence {
    /// The partner tier it applies to.
    pub tier: Tier,
    /// The activity required.
    pub activity: ActivityKind,
    /// How many per interval.
    pub count: PositiveCount,
    /// Interval length in months.
    pub every_months: PositiveCount,
}

impl ActivityCadence {
    /// Required activities per partner per month, e.g. 1 every 3 months is 0.333.
    pub fn per_month(&self) -> f64 {
        f64::from(self.count.get()) / f64::from(self.every_months.get())
    }
}

/// The cadences of a spec, at most one per (tier, activity); may be empty.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<ActivityCadence>", into = "Vec<ActivityCadence>")]
#[schema(value_type = Vec<ActivityCadence>)]
pub struct Cadences(Vec<ActivityCadence>);

impl Cadences {
    /// Checks that no (tier, activity) pair is given twice.
    pub fn new(cadences: Vec<ActivityCadence>) -> Result<Self, ValidationError> {
        let mut seen = BTreeSet::new();
        for (i, c) in cadences.iter().enumerate() {
            if !seen.insert((c.tier, c.activity)) {
                return Err(ValidationError::new(
                    format!("[{i}]"),
                    format!(
                        "tier {:?} already has a {} cadence; give one per tier and activity",
                        c.tier, c.activity
                    ),
                ));
            }
        }
        Ok(Self(cadences))
    }

    /// The cadences.
    pub fn cadences(&self) -> &[ActivityCadence] {
        &self.0
    }

    /// Required `activity` per partner of `tier` per month; zero when none is required.
    pub fn per_month(&self, tier: Tier, activity: ActivityKind) -> f64 {
        self.0
            .iter()
            .find(|c| c.tier == tier && c.activity == activity)
            .map_or(0.0, ActivityCadence::per_month)
    }
}

impl TryFrom<Vec<ActivityCadence>> for Cadences {
    type Error = ValidationError;
    fn try_from(v: Vec<ActivityCadence>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<Cadences> for Vec<ActivityCadence> {
    fn from(c: Cadences) -> Self {
        c.0
    }
}

/// What a newly contracted partner gets before it is expected to sell on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnboardingProgram {
    /// How long onboarding lasts.
    pub months: PositiveCount,
    /// Trainings given during onboarding.
    pub trainings: u32,
    /// Visits per month during onboarding.
    pub visits_per_month: u32,
}

/// Which key links are measured, with what weights, how often, and how much pay rides on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPlan {
    /// The assessed key links and their weights (summing to 1).
    pub key_links: MetricWeights,
    /// How often reps and partners are assessed.
    pub every: PeriodLength,
    /// Share of a rep's variable pay that depends on the assessment score; 0 when the
    /// assessment is only reported.
    #[serde(default = "zero_fraction")]
    pub pay_weight: Fraction,
}

fn zero_fraction() -> Fraction {
    Fraction::new(0.0).expect("0 is a fraction")
}

/// Above `from_attainment` of goal, commission is paid at `multiplier` × the base rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    /// Attainment from which the multiplier applies, e.g. 1.0 for "above goal".
    pub from_attainment: Attainment,
    /// Multiplier on the base commission rate.
    pub multiplier: Multiplier,
}

/// A lump-sum bonus paid when attainment over a period reaches a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdBonus {
    /// Attainment that earns the bonus, e.g. 1.0 for reaching goal.
    pub at_attainment: Attainment,
    /// The bonus.
    pub amount: Money,
    /// The period over which attainment is measured (quarterly bonuses pace, annual ones
    /// reward the year).
    pub period: PeriodLength,
}

/// Which revenue a rep's commission is paid on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevenueBasis {
    /// What partners buy from us; rewards loading partners with stock.
    SellIn,
    /// What partners sell on; rewards real demand.
    SellThrough,
}

/// A rep incentive plan: commission, accelerators, an optional cap and threshold bonuses.
///
/// Accelerators rise in `from_attainment`; the cap, when set, is at or above 100% of goal
/// and above every accelerator's start; all bonuses are non-negative and in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "IncentivePlanFields")]
pub struct IncentivePlan {
    basis: RevenueBasis,
    commission_rate: Fraction,
    // `default` here only tells the schema what `IncentivePlanFields` accepts: the two
    // lists may be left out (deserialisation goes through `try_from`).
    #[serde(default)]
    accelerators: Vec<Accelerator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cap: Option<Attainment>,
    #[serde(default)]
    threshold_bonuses: Vec<ThresholdBonus>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncentivePlanFields {
    basis: RevenueBasis,
    commission_rate: Fraction,
    #[serde(default)]
    accelerators: Vec<Accelerator>,
    #[serde(default)]
    cap: Option<Attainment>,
    #[serde(default)]
    threshold_bonuses: Vec<ThresholdBonus>,
}

impl TryFrom<IncentivePlanFields> for IncentivePlan {
    type Error = ValidationError;
    fn try_from(f: IncentivePlanFields) -> Result<Self, Self::Error> {
        IncentivePlan::new(
            f.basis,
            f.commission_rate,
            f.accelerators,
            f.cap,
            f.threshold_bonuses,
        )
    }
}

impl IncentivePlan {
    /// Checks the plan's parts fit together (see the type's docs).
    pub fn new(
        basis: RevenueBasis,
        commission_rate: Fraction,
        accelerators: Vec<Accelerator>,
        cap: Option<Attainment>,
        threshold_bonuses: Vec<ThresholdBonus>,
    ) -> Result<Self, ValidationError> {
        for (i, pair) in accelerators.windows(2).enumerate() {
            if pair[1].from_attainment <= pair[0].from_attainment {
                return Err(ValidationError::new(
                    format!("accelerators[{}].from_attainment", i + 1),
                    format!(
                        "accelerators must start at rising attainment: {} is not above {}",
                        pair[1].from_attainment, pair[0].from_attainment
                    ),
                ));
            }
        }
        if let Some(cap) = cap {
            if cap.get() < 1.0 {
                return Err(ValidationError::new(
                    "cap",
                    format!(
                        "a cap below 1.0 (100% of goal) stops pay before the goal is reached, found {cap}"
                    ),
                ));
            }
            if let Some(last) = accelerators.last().filter(|a| a.from_attainment >= cap) {
                return Err(ValidationError::new(
                    "cap",
                    format!(
                        "the cap {cap} must be above the last accelerator's start {}",
                        last.from_attainment
                    ),
                ));
            }
        }
        let currency = threshold_bonuses.first().map(|b| b.amount.currency());
        for (i, bonus) in threshold_bonuses.iter().enumerate() {
            let field = format!("threshold_bonuses[{i}].amount");
            bonus.amount.require_non_negative(&field)?;
            if Some(bonus.amount.currency()) != currency {
                return Err(ValidationError::new(
                    field,
                    "all bonuses must be in one currency".to_owned(),
                ));
            }
        }
        Ok(Self {
            basis,
            commission_rate,
            accelerators,
            cap,
            threshold_bonuses,
        })
    }

    /// The revenue commission is paid on.
    pub fn basis(&self) -> RevenueBasis {
        self.basis
    }

    /// The base commission rate.
    pub fn commission_rate(&self) -> Fraction {
        self.commission_rate
    }

    /// Accelerators, lowest start first.
    pub fn accelerators(&self) -> &[Accelerator] {
        &self.accelerators
    }

    /// Attainment above which no more commission is paid.
    pub fn cap(&self) -> Option<Attainment> {
        self.cap
    }

    /// Threshold bonuses.
    pub fn threshold_bonuses(&self) -> &[ThresholdBonus] {
        &self.threshold_bonuses
    }

    /// Commission rate on revenue earned at `attainment` (marginal rate): the base rate times
    /// the highest accelerator reached, and zero from the cap on.
    pub fn marginal_rate(&self, attainment: f64) -> f64 {
        if self.cap.is_some_and(|cap| attainment >= cap.get()) {
            return 0.0;
        }
        let multiplier = self
            .accelerators
            .iter()
            .rev()
            .find(|a| attainment >= a.from_attainment.get())
            .map_or(1.0, |a| a.multiplier.get());
        self.commission_rate.get() * multiplier
    }
}

/// One step of the partner program's rebate schedule, relative to each partner's sell-in
/// target: at `at_attainment` of target, the partner earns `rate` on the period's sell-in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramRebateTier {
    /// Sell-in attainment of target that earns the rate, e.g. 1.0.
    pub at_attainment: Attainment,
    /// Rebate rate, e.g. 0.02 for 2%.
    pub rate: Fraction,
}

/// What partners earn: a base margin and a rebate schedule on their sell-in target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "PartnerProgramFields")]
pub struct PartnerProgram {
    base_margin: Fraction,
    // As in `IncentivePlan`: the schema's view of `PartnerProgramFields`.
    #[serde(default)]
    rebate_tiers: Vec<ProgramRebateTier>,
    target_period: PeriodLength,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerProgramFields {
    base_margin: Fraction,
    #[serde(default)]
    rebate_tiers: Vec<ProgramRebateTier>,
    target_period: PeriodLength,
}

impl TryFrom<PartnerProgramFields> for PartnerProgram {
    type Error = ValidationError;
    fn try_from(f: PartnerProgramFields) -> Result<Self, Self::Error> {
        PartnerProgram::new(f.base_margin, f.rebate_tiers, f.target_period)
    }
}

impl PartnerProgram {
    /// Checks that rebate steps rise in attainment and never pay less as they rise.
    pub fn new(
        base_margin: Fraction,
        rebate_tiers: Vec<ProgramRebateTier>,
        target_period: PeriodLength,
    ) -> Result<Self, ValidationError> {
        for (i, pair) in rebate_tiers.windows(2).enumerate() {
            let field = |f: &str| format!("rebate_tiers[{}].{f}", i + 1);
            if pair[1].at_attainment <= pair[0].at_attainment {
                return Err(ValidationError::new(
                    field("at_attainment"),
                    format!(
                        "steps must rise: {} is not above {}",
                        pair[1].at_attainment, pair[0].at_attainment
                    ),
                ));
            }
            if pair[1].rate < pair[0].rate {
                return Err(ValidationError::new(
                    field("rate"),
                    format!(
                        "a higher step must not pay less: {} is below {}",
                        pair[1].rate, pair[0].rate
                    ),
                ));
            }
        }
        Ok(Self {
            base_margin,
            rebate_tiers,
            target_period,
        })
    }

    /// Margin partners earn on list price.
    pub fn base_margin(&self) -> Fraction {
        self.base_margin
    }

    /// Rebate steps, lowest first.
    pub fn rebate_tiers(&self) -> &[ProgramRebateTier] {
        &self.rebate_tiers
    }

    /// The period sell-in targets and rebates are measured over.
    pub fn target_period(&self) -> PeriodLength {
        self.target_period
    }

    /// Rebate rate at `attainment` of the sell-in target.
    pub fn rebate_rate(&self, attainment: f64) -> f64 {
        self.rebate_tiers
            .iter()
            .rev()
            .find(|t| attainment >= t.at_attainment.get())
            .map_or(0.0, |t| t.rate.get())
    }
}
