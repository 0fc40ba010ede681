//! Contracts signed with partners.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::PeriodLength;
use crate::error::ValidationError;
use crate::id::{ContractId, PartnerId};
use crate::money::Money;
use crate::value::{ExternalId, Fraction, PositiveCount};

/// One step of a contract's rebate schedule: once the partner's sell-in over the target
/// period reaches `threshold`, it earns `rate` back on that period's sell-in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebateTier {
    /// Sell-in over the target period at which this rate starts to apply.
    pub threshold: Money,
    /// Rebate paid on the period's sell-in, e.g. 0.02 for 2%.
    pub rate: Fraction,
}

/// A contract with a partner: its term, margin, rebate schedule and sell-in target.
///
/// Built through [`Contract::new`] (or deserialised through the same checks): the target and
/// thresholds are non-negative and in one currency, thresholds strictly rise and rates never
/// fall as thresholds rise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "ContractFields")]
pub struct Contract {
    id: ContractId,
    partner_id: PartnerId,
    #[schema(value_type = String, format = Date, example = "2026-01-01")]
    start: NaiveDate,
    term_months: PositiveCount,
    margin: Fraction,
    rebate_tiers: Vec<RebateTier>,
    sell_in_target: Money,
    target_period: PeriodLength,
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
struct ContractFields {
    id: ContractId,
    partner_id: PartnerId,
    start: NaiveDate,
    term_months: PositiveCount,
    margin: Fraction,
    #[serde(default)]
    rebate_tiers: Vec<RebateTier>,
    sell_in_target: Money,
    target_period: PeriodLength,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    created_by: Option<crate::Stamp>,
    #[serde(default)]
    updated_by: Option<crate::Stamp>,
}

impl TryFrom<ContractFields> for Contract {
    type Error = ValidationError;
    fn try_from(f: ContractFields) -> Result<Self, Self::Error> {
        Contract::new(ContractTerms {
            id: f.id,
            partner_id: f.partner_id,
            start: f.start,
            term_months: f.term_months,
            margin: f.margin,
            rebate_tiers: f.rebate_tiers,
            sell_in_target: f.sell_in_target,
            target_period: f.target_period,
        })
        .map(|c| Contract {
            external_id: f.external_id,
            created_by: f.created_by,
            updated_by: f.updated_by,
            ..c
        })
    }
}

/// The unchecked parts of a contract, for [`Contract::new`].
#[derive(Debug, Clone)]
pub struct ContractTerms {
    /// The contract's id.
    pub id: ContractId,
    /// The partner who signed it.
    pub partner_id: PartnerId,
    /// First day the contract is in force.
    pub start: NaiveDate,
    /// Length of the contract.
    pub term_months: PositiveCount,
    /// Partner's margin on our list price, e.g. 0.06 for 6%.
    pub margin: Fraction,
    /// Rebate schedule, lowest threshold first.
    pub rebate_tiers: Vec<RebateTier>,
    /// Sell-in the partner commits to per target period.
    pub sell_in_target: Money,
    /// The period the target and the rebate thresholds refer to.
    pub target_period: PeriodLength,
}

impl Contract {
    /// Checks the terms and builds the contract.
    pub fn new(terms: ContractTerms) -> Result<Self, ValidationError> {
        let target = terms
            .sell_in_target
            .require_non_negative("sell_in_target")?;
        let mut previous: Option<RebateTier> = None;
        for (i, tier) in terms.rebate_tiers.iter().enumerate() {
            let in_tier = |e: ValidationError| e.at_index(i).within("rebate_tiers");
            tier.threshold
                .require_non_negative("threshold")
                .map_err(in_tier)?;
            if tier.threshold.currency() != target.currency() {
                return Err(in_tier(ValidationError::new(
                    "threshold",
                    format!(
                        "must be in the target's currency {}, found {}",
                        target.currency(),
                        tier.threshold.currency()
                    ),
                )));
            }
            if let Some(prev) = previous {
                if tier.threshold.amount_minor() <= prev.threshold.amount_minor() {
                    return Err(in_tier(ValidationError::new(
                        "threshold",
                        format!(
                            "thresholds must rise: {} is not above {}",
                            tier.threshold, prev.threshold
                        ),
                    )));
                }
                if tier.rate < prev.rate {
                    return Err(in_tier(ValidationError::new(
                        "rate",
                        format!(
                            "a higher threshold must not pay less: {} is below {}",
                            tier.rate, prev.rate
                        ),
                    )));
                }
            }
            previous = Some(*tier);
        }
        Ok(Self {
            id: terms.id,
            partner_id: terms.partner_id,
            start: terms.start,
            term_months: terms.term_months,
            margin: terms.margin,
            rebate_tiers: terms.rebate_tiers,
            sell_in_target: target,
            target_period: terms.target_period,
            external_id: None,
            created_by: None,
            updated_by: None,
        })
    }

    /// The contract's id.
    pub fn id(&self) -> ContractId {
        self.id
    }

    /// The partner who signed it.
    pub fn partner_id(&self) -> PartnerId {
        self.partner_id
    }

    /// First day in force.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Length in months.
    pub fn term_months(&self) -> PositiveCount {
        self.term_months
    }

    /// The day after the last day in force, or `None` past the calendar's range. A term
    /// starting on the 31st ends on the last day of a shorter month (Jan 31 + 1 month is
    /// Feb 28), as in chrono's month arithmetic.
    pub fn end(&self) -> Option<NaiveDate> {
        self.start
            .checked_add_months(Months::new(self.term_months.get()))
    }

    /// Partner's margin.
    pub fn margin(&self) -> Fraction {
        self.margin
    }

    /// Rebate schedule, lowest threshold first.
    pub fn rebate_tiers(&self) -> &[RebateTier] {
        &self.rebate_tiers
    }

    /// Sell-in target per target period.
    pub fn sell_in_target(&self) -> Money {
        self.sell_in_target
    }

    /// The period the target refers to.
    pub fn target_period(&self) -> PeriodLength {
        self.target_period
    }

    /// The rebate rate earned by `sell_in` over one target period: the rate of the highest
    /// threshold reached, or zero below the first.
    pub fn rebate_rate_for(&self, sell_in: Money) -> f64 {
        self.rebate_tiers
            .iter()
            .rev()
            .find(|t| {
                t.threshold.currency() == sell_in.currency()
                    && sell_in.amount_minor() >= t.threshold.amount_minor()
            })
            .map_or(0.0, |t| t.rate.get())
    }
}
