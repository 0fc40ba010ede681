//! The sales organisation: regions and the reps in them.
//!
//! A rep has one direct supervisor, the regional manager of their region. The channel manager
//! is not in that line, which is why chanlab steers through process specs and assessment
//! rather than orders (see PRODUCT.md).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::id::{RegionId, RepId};
use crate::value::{ExternalId, Name};

/// A regional unit, run by a regional manager who supervises its reps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The region's id.
    pub id: RegionId,
    /// The region's name, e.g. "Nordics".
    pub name: Name,
    /// Name of the regional manager, the reps' direct supervisor.
    pub regional_manager: Name,
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

/// Employment status of a rep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepStatus {
    /// Working their territory.
    Active,
    /// Temporarily away; territory uncovered.
    OnLeave,
    /// Left the company.
    Departed,
}

/// A sales rep, who visits and recruits partners in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rep {
    /// The rep's id.
    pub id: RepId,
    /// Full name.
    pub name: Name,
    /// The region the rep belongs to.
    pub region_id: RegionId,
    /// Date the rep was hired; drives ramp-up.
    #[schema(value_type = String, format = Date, example = "2025-03-01")]
    pub hired_on: NaiveDate,
    /// Employment status.
    pub status: RepStatus,
    /// The day a departed rep left; only a `departed` rep has one, on or after `hired_on`.
    /// Without it the records say nothing about when attrition happened (sim/MODEL.md §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-06-30")]
    pub left_on: Option<NaiveDate>,
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

impl Rep {
    /// Checks the dates agree with the status: `left_on` only for a departed rep, and not
    /// before `hired_on`. The error names the field.
    pub fn check_dates(&self) -> Result<(), crate::ValidationError> {
        match self.left_on {
            Some(_) if self.status != RepStatus::Departed => Err(crate::ValidationError::new(
                "left_on",
                "only a departed rep has a leaving date; set status to departed or leave left_on out",
            )),
            Some(left) if left < self.hired_on => Err(crate::ValidationError::new(
                "left_on",
                format!(
                    "must not be before hired_on ({}), found {left}",
                    self.hired_on
                ),
            )),
            _ => Ok(()),
        }
    }
}
