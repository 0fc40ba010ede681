//! The sales organisation: regions and the reps in them.
//!
//! A rep has one direct supervisor, the regional manager of their region. The channel manager
//! is not in that line, which is why chanlab steers through process specs and assessment
//! rather than orders (see PRODUCT.md).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::id::{RegionId, RepId};
use crate::value::Name;

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
}
