//! Activities: the key-link events reps log (visits, trainings, reviews, calls, negotiations).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::id::{ActivityId, PartnerId, RepId};
use crate::value::{ExternalId, Notes};

/// What kind of key-link event an activity was.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A visit to a partner.
    Visit,
    /// A product or sales training given to a partner's staff.
    Training,
    /// A periodic business review with a partner.
    BusinessReview,
    /// A call to recruit a prospect.
    RecruitingCall,
    /// A contract negotiation meeting.
    Negotiation,
}

impl ActivityKind {
    /// Every kind.
    pub const ALL: [ActivityKind; 5] = [
        ActivityKind::Visit,
        ActivityKind::Training,
        ActivityKind::BusinessReview,
        ActivityKind::RecruitingCall,
        ActivityKind::Negotiation,
    ];
}

impl ActivityKind {
    /// The name used in JSON and TOML, e.g. `business_review`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Visit => "visit",
            ActivityKind::Training => "training",
            ActivityKind::BusinessReview => "business_review",
            ActivityKind::RecruitingCall => "recruiting_call",
            ActivityKind::Negotiation => "negotiation",
        }
    }
}

impl std::fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an activity went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityOutcome {
    /// It took place. Only completed activities count toward cadences.
    Completed,
    /// Called off in advance.
    Cancelled,
    /// The partner did not turn up.
    NoShow,
}

/// One key-link event logged by a rep with a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activity {
    /// The activity's id.
    pub id: ActivityId,
    /// The rep who did it.
    pub rep_id: RepId,
    /// The partner (or prospect) it was with.
    pub partner_id: PartnerId,
    /// The day it happened.
    #[schema(value_type = String, format = Date, example = "2026-11-12")]
    pub date: NaiveDate,
    /// What kind of activity it was.
    pub kind: ActivityKind,
    /// How it went.
    pub outcome: ActivityOutcome,
    /// Free-text notes.
    #[serde(default)]
    pub notes: Notes,
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
