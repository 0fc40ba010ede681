//! Who made or last changed a record, and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Who changed a record and when: the token (none for a change made on the command line)
/// with its label. Set by the API's one commit path, never by a client; the audit trail
/// (`GET /audit`) has every change, these the first and the latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// The token's id (`GET /tokens`); absent for the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Uuid>,
    /// The token's label when the change was made, or `command line`.
    pub label: String,
    /// When the change was committed.
    pub at: DateTime<Utc>,
}
