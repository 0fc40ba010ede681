//! Goal-setting strategies: how a process spec turns information into each period's goals.
//!
//! The simulator implements each one (see `sim/MODEL.md`); here they are only their
//! parameters, validated. A strategy may use only what a real manager knows when goals are
//! set: last period's actuals and goals, an *estimate* of each scope's potential, and the
//! reps' own proposals.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activity::ActivityKind;
use crate::error::ValidationError;
use crate::goal::Metric;
use crate::value::{Attainment, Fraction, GrowthRate, PositiveCount, Uplift};

/// A goal-setting strategy and its parameters, tagged by `kind` in JSON and TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GoalStrategy {
    /// Every scope's goal is its baseline (its actual in the period before the spec took
    /// effect) grown by `growth`; later actuals do not move the goal.
    FlatGrowth {
        /// Annual growth over the baseline, e.g. 0.08 for +8% a year.
        growth: GrowthRate,
    },
    /// Each goal is last goal moved toward last actual, then grown: a beat raises the next
    /// goal by `up_weight` of the excess, a miss lowers it by `down_weight` of the shortfall
    /// (Leone, Misra & Zimmerman 2004 find `up_weight > down_weight`).
    Ratchet {
        /// Annual growth applied after the ratchet (prorated to the goal period).
        growth: GrowthRate,
        /// Share of an overshoot carried into the next goal.
        up_weight: Fraction,
        /// Share of a shortfall taken off the next goal.
        down_weight: Fraction,
    },
    /// Goals are a share of each scope's estimated potential.
    PotentialBased {
        /// Share of estimated potential set as the goal, e.g. 0.7.
        share_of_potential: Fraction,
    },
    /// Goals set deliberately above the expected level.
    Stretch {
        /// Uplift over the expected level, e.g. 0.3 for +30%.
        uplift: Uplift,
    },
    /// Reps propose their own goal; the manager blends it with an own estimate.
    Participative {
        /// Weight on the rep's proposal; the rest is on the manager's estimate.
        weight_on_proposal: Fraction,
        /// Share of estimated potential the manager's own estimate uses.
        share_of_potential: Fraction,
    },
    /// Several thresholds (e.g. 90%, 100%, 120% of a grown baseline), each paying the
    /// matching threshold bonus of the incentive plan.
    TieredThresholds {
        /// Annual growth over the baseline that defines the 100% level.
        growth: GrowthRate,
        /// Threshold levels as ratios of the 100% level, rising.
        levels: ThresholdLevels,
    },
    /// Goals on key-link activities instead of revenue.
    ActivityBased {
        /// Activity counts per goal period, one per activity kind.
        targets: ActivityTargets,
    },
    /// Goals on several metrics at once, combined with weights.
    BalancedScorecard {
        /// Annual growth applied to the revenue metrics' baselines.
        growth: GrowthRate,
        /// Metrics and their weights, summing to 1.
        weights: MetricWeights,
    },
}

/// The name of a [`GoalStrategy`] without its parameters, as recorded on a [`Goal`](crate::Goal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoalStrategyKind {
    /// See [`GoalStrategy::FlatGrowth`].
    FlatGrowth,
    /// See [`GoalStrategy::Ratchet`].
    Ratchet,
    /// See [`GoalStrategy::PotentialBased`].
    PotentialBased,
    /// See [`GoalStrategy::Stretch`].
    Stretch,
    /// See [`GoalStrategy::Participative`].
    Participative,
    /// See [`GoalStrategy::TieredThresholds`].
    TieredThresholds,
    /// See [`GoalStrategy::ActivityBased`].
    ActivityBased,
    /// See [`GoalStrategy::BalancedScorecard`].
    BalancedScorecard,
    /// Set by hand, outside any strategy.
    Manual,
}

impl GoalStrategy {
    /// The strategy's name without parameters.
    pub const fn kind(&self) -> GoalStrategyKind {
        match self {
            GoalStrategy::FlatGrowth { .. } => GoalStrategyKind::FlatGrowth,
            GoalStrategy::Ratchet { .. } => GoalStrategyKind::Ratchet,
            GoalStrategy::PotentialBased { .. } => GoalStrategyKind::PotentialBased,
            GoalStrategy::Stretch { .. } => GoalStrategyKind::Stretch,
            GoalStrategy::Participative { .. } => GoalStrategyKind::Participative,
            GoalStrategy::TieredThresholds { .. } => GoalStrategyKind::TieredThresholds,
            GoalStrategy::ActivityBased { .. } => GoalStrategyKind::ActivityBased,
            GoalStrategy::BalancedScorecard { .. } => GoalStrategyKind::BalancedScorecard,
        }
    }
}

/// Rising threshold levels, 1 to 10 of them, e.g. `[0.9, 1.0, 1.2]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<Attainment>", into = "Vec<Attainment>")]
#[schema(value_type = Vec<f64>, example = json!([0.9, 1.0, 1.2]))]
pub struct ThresholdLevels(Vec<Attainment>);

impl ThresholdLevels {
    /// Checks there are 1 to 10 levels, each above the one before and above zero.
    pub fn new(levels: Vec<Attainment>) -> Result<Self, ValidationError> {
        if levels.is_empty() || levels.len() > 10 {
            return Err(ValidationError::new(
                "",
                format!("expected 1 to 10 threshold levels, found {}", levels.len()),
            ));
        }
        for (i, pair) in levels.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                return Err(ValidationError::new(
                    format!("[{}]", i + 1),
                    format!("levels must rise: {} is not above {}", pair[1], pair[0]),
                ));
            }
        }
        if levels[0].get() <= 0.0 {
            return Err(ValidationError::new(
                "[0]",
                "the first level must be above 0",
            ));
        }
        Ok(Self(levels))
    }

    /// The levels, lowest first.
    pub fn levels(&self) -> &[Attainment] {
        &self.0
    }
}

impl TryFrom<Vec<Attainment>> for ThresholdLevels {
    type Error = ValidationError;
    fn try_from(v: Vec<Attainment>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<ThresholdLevels> for Vec<Attainment> {
    fn from(t: ThresholdLevels) -> Self {
        t.0
    }
}

/// A required number of activities of one kind per goal period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityTarget {
    /// The activity kind.
    pub activity: ActivityKind,
    /// How many per goal period.
    pub per_period: PositiveCount,
}

/// Activity targets, at least one, at most one per activity kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<ActivityTarget>", into = "Vec<ActivityTarget>")]
#[schema(value_type = Vec<ActivityTarget>)]
pub struct ActivityTargets(Vec<ActivityTarget>);

impl ActivityTargets {
    /// Checks the list is non-empty and names each activity kind at most once.
    pub fn new(targets: Vec<ActivityTarget>) -> Result<Self, ValidationError> {
        if targets.is_empty() {
            return Err(ValidationError::new(
                "",
                "expected at least one activity target",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, t) in targets.iter().enumerate() {
            if !seen.insert(t.activity) {
                return Err(ValidationError::new(
                    format!("[{i}].activity"),
                    format!(
                        "{} is listed twice; give one target per activity kind",
                        t.activity
                    ),
                ));
            }
        }
        Ok(Self(targets))
    }

    /// The targets.
    pub fn targets(&self) -> &[ActivityTarget] {
        &self.0
    }
}

impl TryFrom<Vec<ActivityTarget>> for ActivityTargets {
    type Error = ValidationError;
    fn try_from(v: Vec<ActivityTarget>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<ActivityTargets> for Vec<ActivityTarget> {
    fn from(t: ActivityTargets) -> Self {
        t.0
    }
}

/// A metric and its weight in a scorecard or an assessment plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricWeight {
    /// The metric (key link).
    pub metric: Metric,
    /// Its weight; all weights in a list sum to 1.
    pub weight: Fraction,
}

/// Weighted metrics: at least one, each metric once, weights summing to 1 (± 0.001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "Vec<MetricWeight>", into = "Vec<MetricWeight>")]
#[schema(value_type = Vec<MetricWeight>)]
pub struct MetricWeights(Vec<MetricWeight>);

impl MetricWeights {
    /// Checks the list is non-empty, names each metric once and its weights sum to 1.
    pub fn new(weights: Vec<MetricWeight>) -> Result<Self, ValidationError> {
        if weights.is_empty() {
            return Err(ValidationError::new(
                "",
                "expected at least one weighted metric",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, w) in weights.iter().enumerate() {
            if !seen.insert(w.metric) {
                return Err(ValidationError::new(
                    format!("[{i}].metric"),
                    format!("{} is listed twice; give each metric one weight", w.metric),
                ));
            }
        }
        let sum: f64 = weights.iter().map(|w| w.weight.get()).sum();
        if (sum - 1.0).abs() > 1e-3 {
            return Err(ValidationError::new(
                "",
                format!("weights must sum to 1, found {sum:.3}"),
            ));
        }
        Ok(Self(weights))
    }

    /// The weighted metrics.
    pub fn weights(&self) -> &[MetricWeight] {
        &self.0
    }

    /// The weight of `metric`, zero when it is not listed.
    pub fn weight_of(&self, metric: Metric) -> f64 {
        self.0
            .iter()
            .find(|w| w.metric == metric)
            .map_or(0.0, |w| w.weight.get())
    }
}

impl TryFrom<Vec<MetricWeight>> for MetricWeights {
    type Error = ValidationError;
    fn try_from(v: Vec<MetricWeight>) -> Result<Self, Self::Error> {
        Self::new(v)
    }
}

impl From<MetricWeights> for Vec<MetricWeight> {
    fn from(w: MetricWeights) -> Self {
        w.0
    }
}
