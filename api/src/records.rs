//! Records the API keeps besides the domain's own: a partner's lifecycle moves and each
//! version of a process spec.

use chanlab_shared::{LifecycleStage, PartnerId, ProcessSpec, ProcessSpecId, RepId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// One lifecycle move of a partner, kept so that key links such as `partners_signed` can be
/// counted per period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRecord {
    /// The move's id (a UUIDv7, so moves sort by time).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The partner that moved.
    pub partner_id: PartnerId,
    /// The stage it left.
    pub from: LifecycleStage,
    /// The stage it entered.
    pub to: LifecycleStage,
    /// The day of the move.
    #[schema(value_type = String, format = Date, example = "2026-11-12")]
    pub on: NaiveDate,
    /// The partner's owner rep at the time of the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_rep_id: Option<RepId>,
}

/// One stored version of a process spec. Published versions are never rewritten except to
/// be retired when a later version is published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SpecVersion(pub ProcessSpec);

impl SpecVersion {
    /// The storage key of version `version` of spec `id`: zero-padded so versions sort.
    pub fn key_of(id: ProcessSpecId, version: u32) -> String {
        format!("{id}.{version:010}")
    }
}
