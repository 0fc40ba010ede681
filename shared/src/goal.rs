//! Goals: a target for a scope over a period, on a metric, with the strategy that set it.
//!
//! [`Metric`] names the key links and results that goals and assessments measure; a
//! [`Quantity`] is a value of one (money for revenue, a count for everything else).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activity::ActivityKind;
use crate::calendar::Period;
use crate::error::ValidationError;
use crate::id::{GoalId, PartnerId, ProcessSpecId, RegionId, RepId};
use crate::money::Money;
use crate::strategy::GoalStrategyKind;
use crate::value::ExternalId;

/// A key link or result that a goal or an assessment measures.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Revenue from what partners bought from us.
    SellIn,
    /// What partners sold on to their customers.
    SellThrough,
    /// New partner contracts signed.
    PartnersSigned,
    /// Completed partner visits.
    Visits,
    /// Completed partner trainings.
    Trainings,
    /// Completed business reviews.
    BusinessReviews,
    /// Completed recruiting calls.
    RecruitingCalls,
    /// Completed negotiation meetings.
    Negotiations,
}

/// Whether a metric is measured in money or counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Measured in money.
    Money,
    /// Counted.
    Count,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 8] = [
        Metric::SellIn,
        Metric::SellThrough,
        Metric::PartnersSigned,
        Metric::Visits,
        Metric::Trainings,
        Metric::BusinessReviews,
        Metric::RecruitingCalls,
        Metric::Negotiations,
    ];

    /// The unit the metric is measured in.
    pub const fn unit(self) -> Unit {
        match self {
            Metric::SellIn | Metric::SellThrough => Unit::Money,
            _ => Unit::Count,
        }
    }

    /// The metric that counts activities of `kind`.
    pub const fn counting(kind: ActivityKind) -> Metric {
        match kind {
            ActivityKind::Visit => Metric::Visits,
            ActivityKind::Training => Metric::Trainings,
            ActivityKind::BusinessReview => Metric::BusinessReviews,
            ActivityKind::RecruitingCall => Metric::RecruitingCalls,
            ActivityKind::Negotiation => Metric::Negotiations,
        }
    }

    /// The name used in JSON and TOML, e.g. `sell_through`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Metric::SellIn => "sell_in",
            Metric::SellThrough => "sell_through",
            Metric::PartnersSigned => "partners_signed",
            Metric::Visits => "visits",
            Metric::Trainings => "trainings",
            Metric::BusinessReviews => "business_reviews",
            Metric::RecruitingCalls => "recruiting_calls",
            Metric::Negotiations => "negotiations",
        }
    }

    /// The activity kind this metric counts, if it counts activities.
    pub const fn activity(self) -> Option<ActivityKind> {
        match self {
            Metric::Visits => Some(ActivityKind::Visit),
            Metric::Trainings => Some(ActivityKind::Training),
            Metric::BusinessReviews => Some(ActivityKind::BusinessReview),
            Metric::RecruitingCalls => Some(ActivityKind::RecruitingCall),
            Metric::Negotiations => Some(ActivityKind::Negotiation),
            Metric::SellIn | Metric::SellThrough | Metric::PartnersSigned => None,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of a metric: `{"amount": {"amount_minor": 5000000, "currency": "EUR"}}` or
/// `{"count": 12}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// An amount of money.
    Amount(Money),
    /// A count.
    Count(u64),
}

impl Quantity {
    /// The unit of this value.
    pub const fn unit(&self) -> Unit {
        match self {
            Quantity::Amount(_) => Unit::Money,
            Quantity::Count(_) => Unit::Count,
        }
    }

    /// The value as a float (major units for money), for ratios and the simulator.
    pub fn as_f64(&self) -> f64 {
        match self {
            Quantity::Amount(m) => m.to_major_f64(),
            Quantity::Count(n) => *n as f64,
        }
    }

    /// Checks the value fits `metric` (money for revenue, a count otherwise) and is not
    /// negative; `field` names it in the error.
    pub fn check_for(self, metric: Metric, field: &str) -> Result<Self, ValidationError> {
        if self.unit() != metric.unit() {
            let expected = match metric.unit() {
                Unit::Money => {
                    "an amount, e.g. {\"amount\": {\"amount_minor\": 100000, \"currency\": \"EUR\"}}"
                }
                Unit::Count => "a count, e.g. {\"count\": 12}",
            };
            return Err(ValidationError::new(
                field,
                format!("metric {metric} is measured as {expected}"),
            ));
        }
        if let Quantity::Amount(m) = self {
            m.require_non_negative(field)?;
        }
        Ok(self)
    }
}

/// Who a goal or an assessment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// One rep.
    Rep(RepId),
    /// One partner.
    Partner(PartnerId),
    /// A whole region.
    Region(RegionId),
}

/// A target for a scope over a period, on a metric, with the strategy that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "GoalFields")]
pub struct Goal {
    id: GoalId,
    scope: Scope,
    period: Period,
    metric: Metric,
    target: Quantity,
    strategy: GoalStrategyKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    process_spec_id: Option<ProcessSpecId>,
    /// The record's code in another system (a CRM's), unique among records of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// Who made the record and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<crate::Stamp>,
    /// Who changed it last and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<crate::Stamp>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoalFields {
    id: GoalId,
    scope: Scope,
    period: Period,
    metric: Metric,
    target: Quantity,
    strategy: GoalStrategyKind,
    #[serde(default)]
    process_spec_id: Option<ProcessSpecId>,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    created_by: Option<crate::Stamp>,
    #[serde(default)]
    updated_by: Option<crate::Stamp>,
}

impl TryFrom<GoalFields> for Goal {
    type Error = ValidationError;
    fn try_from(f: GoalFields) -> Result<Self, Self::Error> {
        Goal::new(
            f.id,
            f.scope,
            f.period,
            f.metric,
            f.target,
            f.strategy,
            f.process_spec_id,
        )
        .map(|g| Goal {
            external_id: f.external_id,
            created_by: f.created_by,
            updated_by: f.updated_by,
            ..g
        })
    }
}

impl Goal {
    /// A goal whose target is measured in the metric's unit and is not negative.
    pub fn new(
        id: GoalId,
        scope: Scope,
        period: Period,
        metric: Metric,
        target: Quantity,
        strategy: GoalStrategyKind,
        process_spec_id: Option<ProcessSpecId>,
    ) -> Result<Self, ValidationError> {
        let target = target.check_for(metric, "target")?;
        Ok(Self {
            id,
            scope,
            period,
            metric,
            target,
            strategy,
            process_spec_id,
            external_id: None,
            created_by: None,
            updated_by: None,
        })
    }

    /// The goal's id.
    pub fn id(&self) -> GoalId {
        self.id
    }

    /// Who the goal is for.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The period it covers.
    pub fn period(&self) -> Period {
        self.period
    }

    /// What it measures.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// The target value.
    pub fn target(&self) -> Quantity {
        self.target
    }

    /// The strategy that set it.
    pub fn strategy(&self) -> GoalStrategyKind {
        self.strategy
    }

    /// The process spec it was set under, if any.
    pub fn process_spec_id(&self) -> Option<ProcessSpecId> {
        self.process_spec_id
    }
}
