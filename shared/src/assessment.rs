//! Assessments: the scorecard of a rep or partner for a period against a process spec.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calendar::Period;
use crate::error::ValidationError;
use crate::goal::{Metric, Quantity, Scope};
use crate::id::{AssessmentId, ProcessSpecId};
use crate::value::{ExternalId, Fraction, PositiveCount};

/// One key link's result in an assessment: what was required and what was done.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLinkResult {
    /// The key link.
    pub metric: Metric,
    /// Its weight in the assessment.
    pub weight: Fraction,
    /// What the spec or goal required.
    pub target: Quantity,
    /// What was done.
    pub actual: Quantity,
}

impl KeyLinkResult {
    /// Actual over target, capped at 2 so one overshoot cannot hide a missed key link; a
    /// zero target counts as met.
    pub fn attainment(&self) -> f64 {
        let target = self.target.as_f64();
        if target <= 0.0 {
            1.0
        } else {
            (self.actual.as_f64() / target).min(2.0)
        }
    }
}

/// A scorecard for one scope and period, against one version of a process spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "AssessmentFields")]
pub struct Assessment {
    id: AssessmentId,
    scope: Scope,
    period: Period,
    process_spec_id: ProcessSpecId,
    spec_version: PositiveCount,
    results: Vec<KeyLinkResult>,
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
struct AssessmentFields {
    id: AssessmentId,
    scope: Scope,
    period: Period,
    process_spec_id: ProcessSpecId,
    spec_version: PositiveCount,
    results: Vec<KeyLinkResult>,
    #[serde(default)]
    external_id: Option<ExternalId>,
    #[serde(default)]
    created_by: Option<crate::Stamp>,
    #[serde(default)]
    updated_by: Option<crate::Stamp>,
}

impl TryFrom<AssessmentFields> for Assessment {
    type Error = ValidationError;
    fn try_from(f: AssessmentFields) -> Result<Self, Self::Error> {
        Assessment::new(
            f.id,
            f.scope,
            f.period,
            f.process_spec_id,
            f.spec_version,
            f.results,
        )
        .map(|a| Assessment {
            external_id: f.external_id,
            created_by: f.created_by,
            updated_by: f.updated_by,
            ..a
        })
    }
}

impl Assessment {
    /// Checks each result is in its metric's unit (with target and actual in one currency),
    /// each metric appears once and the weights sum to 1.
    pub fn new(
        id: AssessmentId,
        scope: Scope,
        period: Period,
        process_spec_id: ProcessSpecId,
        spec_version: PositiveCount,
        results: Vec<KeyLinkResult>,
    ) -> Result<Self, ValidationError> {
        if results.is_empty() {
            return Err(ValidationError::new(
                "results",
                "expected at least one key-link result",
            ));
        }
        for (i, r) in results.iter().enumerate() {
            let at = |e: ValidationError| e.at_index(i).within("results");
            r.target.check_for(r.metric, "target").map_err(at)?;
            r.actual.check_for(r.metric, "actual").map_err(at)?;
            if let (Quantity::Amount(target), Quantity::Amount(actual)) = (r.target, r.actual)
                && target.currency() != actual.currency()
            {
                return Err(at(ValidationError::new(
                    "actual",
                    format!(
                        "must be in the target's currency {}, found {}",
                        target.currency(),
                        actual.currency()
                    ),
                )));
            }
            if results[..i]
                .iter()
                .any(|earlier| earlier.metric == r.metric)
            {
                return Err(at(ValidationError::new(
                    "metric",
                    format!("{} is listed twice", r.metric),
                )));
            }
        }
        let sum: f64 = results.iter().map(|r| r.weight.get()).sum();
        if (sum - 1.0).abs() > 1e-3 {
            return Err(ValidationError::new(
                "results",
                format!("weights must sum to 1, found {sum:.3}"),
            ));
        }
        Ok(Self {
            id,
            scope,
            period,
            process_spec_id,
            spec_version,
            results,
            external_id: None,
            created_by: None,
            updated_by: None,
        })
    }

    /// The assessment's id.
    pub fn id(&self) -> AssessmentId {
        self.id
    }

    /// Who was assessed.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// The period assessed.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The spec assessed against.
    pub fn process_spec_id(&self) -> ProcessSpecId {
        self.process_spec_id
    }

    /// The spec version assessed against.
    pub fn spec_version(&self) -> PositiveCount {
        self.spec_version
    }

    /// The key-link results.
    pub fn results(&self) -> &[KeyLinkResult] {
        &self.results
    }

    /// The weighted score: Σ weight × attainment, 1.0 when every key link is exactly met.
    pub fn score(&self) -> f64 {
        self.results
            .iter()
            .map(|r| r.weight.get() * r.attainment())
            .sum()
    }
}
