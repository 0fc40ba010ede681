//! Access control: bearer tokens, the six roles, and which role may call which operation.
//!
//! A token is 32 random bytes from the operating system, shown once when it is created and
//! stored only as its SHA-256 hash ([`tokens`]). Each request's token is hashed and looked
//! up, with no cache, so a revoked, rotated or expired token fails at its next request. [`POLICY`] says, per OpenAPI operation id, whether each role may call it always
//! ([`Access::Yes`]), only within its scope ([`Access::Own`]: a regional manager's region,
//! a rep's own records, or published specs), or never ([`Access::No`], 403). A stored record
//! outside the caller's scope answers 404 exactly as an unknown id does ([`hidden`]). The README's
//! role × endpoint table is [`policy_table_markdown`], and a test calls every cell.

pub mod tokens;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use chanlab_shared::{RegionId, RepId};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

pub use tokens::{
    CreatedToken, TokenRecord, TokenRequest, TokenView, create_token_blocking, created, hash_token,
    hex, new_token,
};

/// A role, as written in token requests and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Everything, including tokens.
    Admin,
    /// Reads everything; writes partners, contracts, goals, process specs and assessments.
    ChannelManager,
    /// Manages the reps of one region and reads that region's records.
    RegionalManager,
    /// Logs its own activities and reads its own partners and scorecard.
    Rep,
    /// Reads everything, writes nothing.
    Viewer,
    /// A new channel manager in training: reads exercises and leaderboards, plays its own
    /// training sessions, and touches no records.
    Trainee,
}

impl RoleName {
    /// Every role, in the order of the policy table's columns.
    pub const ALL: [RoleName; 6] = [
        RoleName::Admin,
        RoleName::ChannelManager,
        RoleName::RegionalManager,
        RoleName::Rep,
        RoleName::Viewer,
        RoleName::Trainee,
    ];

    /// The name used in JSON and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            RoleName::Admin => "admin",
            RoleName::ChannelManager => "channel_manager",
            RoleName::RegionalManager => "regional_manager",
            RoleName::Rep => "rep",
            RoleName::Viewer => "viewer",
            RoleName::Trainee => "trainee",
        }
    }
}

/// Who is calling: a role with its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// See [`RoleName::Admin`].
    Admin,
    /// See [`RoleName::ChannelManager`].
    ChannelManager,
    /// See [`RoleName::RegionalManager`]; scoped to the region.
    RegionalManager(RegionId),
    /// See [`RoleName::Rep`]; scoped to the rep.
    Rep(RepId),
    /// See [`RoleName::Viewer`].
    Viewer,
    /// See [`RoleName::Trainee`]; its own training sessions.
    Trainee,
}

/// Whether a role may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Always.
    Yes,
    /// Only on records within the caller's scope.
    Own,
    /// Never (403).
    No,
}

use Access::{No, Own, Yes};

/// Per operation id: access of admin, channel_manager, regional_manager, rep, viewer,
/// trainee. For training sessions, "own" means the sessions the token created.
///
/// The record resources' operations declare their rows where they are declared (their
/// `Op`s in `routes/<resource>.rs`, through `routes::layer`); the rows of the
/// hand-written operations are `HAND_WRITTEN`.
pub static POLICY: LazyLock<Vec<(&'static str, [Access; 6])>> = LazyLock::new(|| {
    HAND_WRITTEN
        .iter()
        .copied()
        .chain(crate::routes::layer::policy_rows())
        .collect()
});

/// The policy rows of the operations with hand-written handlers.
const HAND_WRITTEN: &[(&str, [Access; 6])] = &[
    ("create_token", [Yes, No, No, No, No, No]),
    ("list_tokens", [Yes, Own, Own, Own, Own, Own]),
    ("revoke_token", [Yes, Own, Own, Own, Own, Own]),
    ("rotate_token", [Yes, Own, Own, Own, Own, Own]),
    ("get_backup", [Yes, No, No, No, No, No]),
    ("list_audit", [Yes, No, No, No, No, No]),
    ("create_webhook", [Yes, No, No, No, No, No]),
    ("list_webhooks", [Yes, No, No, No, No, No]),
    ("get_webhook", [Yes, No, No, No, No, No]),
    ("update_webhook", [Yes, No, No, No, No, No]),
    ("delete_webhook", [Yes, No, No, No, No, No]),
    ("list_webhook_deliveries", [Yes, No, No, No, No, No]),
    ("redeliver_webhook_delivery", [Yes, No, No, No, No, No]),
    ("rotate_webhook_secret", [Yes, No, No, No, No, No]),
    ("rep_scorecard", [Yes, Yes, Own, Own, Yes, No]),
    ("transition_partner", [Yes, Yes, No, No, No, No]),
    ("list_partner_transitions", [Yes, Yes, Own, Own, Yes, No]),
    ("import_partner_transitions", [Yes, Yes, No, No, No, No]),
    ("export_partner_transitions", [Yes, Yes, Own, Own, Yes, No]),
    ("partner_scorecard", [Yes, Yes, Own, Own, Yes, No]),
    ("create_process_spec", [Yes, Yes, No, No, No, No]),
    ("list_process_specs", [Yes, Yes, Own, No, Yes, No]),
    ("get_process_spec", [Yes, Yes, Own, No, Yes, No]),
    ("update_process_spec", [Yes, Yes, No, No, No, No]),
    ("publish_process_spec", [Yes, Yes, No, No, No, No]),
    ("list_process_spec_versions", [Yes, Yes, Own, No, Yes, No]),
    ("get_process_spec_version", [Yes, Yes, Own, No, Yes, No]),
    ("process_spec_compliance", [Yes, Yes, Own, No, Yes, No]),
    ("create_scenario", [Yes, Yes, No, No, No, No]),
    ("scenario_from_records", [Yes, Yes, No, No, No, No]),
    ("list_scenarios", [Yes, Yes, No, No, Yes, No]),
    ("get_scenario", [Yes, Yes, No, No, Yes, No]),
    ("delete_scenario", [Yes, Yes, No, No, No, No]),
    ("create_run", [Yes, Yes, No, No, No, No]),
    ("get_run", [Yes, Yes, No, No, Yes, No]),
    ("get_run_chart", [Yes, Yes, No, No, Yes, No]),
    ("delete_run", [Yes, Yes, No, No, No, No]),
    ("create_backtest", [Yes, Yes, No, No, No, No]),
    ("get_backtest", [Yes, Yes, No, No, Yes, No]),
    ("get_backtest_chart", [Yes, Yes, No, No, Yes, No]),
    ("list_exercises", [Yes, Yes, Yes, Yes, Yes, Yes]),
    ("get_exercise", [Yes, Yes, Yes, Yes, Yes, Yes]),
    ("exercise_leaderboard", [Yes, Yes, Yes, No, Yes, Yes]),
    ("create_training_session", [Yes, Yes, Yes, No, No, Yes]),
    ("list_training_sessions", [Yes, Yes, Own, No, Yes, Own]),
    ("get_training_session", [Yes, Yes, Own, No, Yes, Own]),
    ("play_training_round", [Own, Own, Own, No, No, Own]),
];

/// The access a role has to an operation, or `None` for an operation not in [`POLICY`].
pub fn access(operation: &str, role: RoleName) -> Option<Access> {
    let column = RoleName::ALL.iter().position(|r| *r == role)?;
    POLICY
        .iter()
        .find(|(op, _)| *op == operation)
        .map(|(_, row)| row[column])
}

/// The role × operation table as Markdown, in the order of `operations` (method, path,
/// operation id), as the README shows it.
pub fn policy_table_markdown(operations: &[(String, String, String)]) -> String {
    let mut out = String::from(
        "| endpoint | admin | channel_manager | regional_manager | rep | viewer | trainee |\n|---|---|---|---|---|---|---|\n",
    );
    for (method, path, op) in operations {
        let cells: Vec<&str> = RoleName::ALL
            .iter()
            .map(|r| match access(op, *r) {
                Some(Yes) => "yes",
                Some(Own) => "own",
                Some(No) => "—",
                None => "public",
            })
            .collect();
        out.push_str(&format!("| `{method} {path}` | {} |\n", cells.join(" | ")));
    }
    out
}

impl Principal {
    /// The role without its scope.
    pub fn role(&self) -> RoleName {
        match self {
            Principal::Admin => RoleName::Admin,
            Principal::ChannelManager => RoleName::ChannelManager,
            Principal::RegionalManager(_) => RoleName::RegionalManager,
            Principal::Rep(_) => RoleName::Rep,
            Principal::Viewer => RoleName::Viewer,
            Principal::Trainee => RoleName::Trainee,
        }
    }

    /// Checks the policy for `operation`: `Ok(Yes)` or `Ok(Own)` (the handler then checks
    /// the scope), or 403.
    pub fn allow(&self, operation: &str) -> Result<Access, ApiError> {
        match access(operation, self.role()) {
            Some(Yes) => Ok(Yes),
            Some(Own) => Ok(Own),
            _ => Err(ApiError::Forbidden(format!(
                "a {} token may not call {operation}",
                self.role().as_str()
            ))),
        }
    }

    /// A 403 for a request that itself names something outside the caller's scope: a list
    /// filter or a record to write naming another region or rep. The refusal depends on
    /// the request alone, never on what is stored, so it tells nothing about what exists. A
    /// *stored* record outside the scope is [`hidden`] instead.
    pub fn out_of_scope(&self, what: &str) -> ApiError {
        let scope = match self {
            Principal::RegionalManager(r) => format!("region {r}"),
            Principal::Rep(r) => format!("rep {r}"),
            _ => "its scope".to_owned(),
        };
        ApiError::Forbidden(format!(
            "this {} token is limited to {scope}; {what} is outside it",
            self.role().as_str()
        ))
    }
}

/// The answer for a stored record outside the caller's scope: the 404 an unknown id gets,
/// word for word, so that the answer does not tell a caller that a record it may not see
/// exists (GitHub answers a private repository the same way). A 403 is kept for what the
/// role may never do ([`Principal::allow`]) and for requests that name another scope
/// themselves ([`Principal::out_of_scope`]).
pub fn hidden(kind: &'static str, id: impl std::fmt::Display) -> ApiError {
    ApiError::NotFound {
        kind,
        id: id.to_string(),
    }
}

/// An authenticated caller: the principal, the token it used (its id names the caller in
/// logs; its hash scopes idempotency keys to their caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// SHA-256 of the bearer token, hex.
    pub token_hash: String,
    /// The token's id.
    pub token_id: uuid::Uuid,
    /// The token's label, for the audit trail.
    pub label: String,
}

impl Caller {
    /// See [`Principal::allow`].
    pub fn allow(&self, operation: &str) -> Result<Access, ApiError> {
        self.principal.allow(operation)
    }
}

/// The token of an `Authorization: Bearer <token>` header, or the 401 saying what is wrong.
fn bearer(header: Option<Result<String, ()>>) -> Result<String, ApiError> {
    match header {
        None => Err(ApiError::Unauthorized(
            "send `Authorization: Bearer <token>`; `chanlab token create` makes one".to_owned(),
        )),
        Some(Err(())) => Err(ApiError::Unauthorized(
            "the Authorization header is not text".to_owned(),
        )),
        Some(Ok(value)) => match value.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Ok(token.trim().to_owned())
            }
            _ => Err(ApiError::Unauthorized(
                "expected `Authorization: Bearer <token>`".to_owned(),
            )),
        },
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|h| h.to_str().map(str::to_owned).map_err(|_| ()));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no app state".to_owned()))?;
            let hash = hash_token(&bearer(header)?);
            let now = Utc::now();
            // No cache: revocation, rotation, expiry and a rep's departure count from the
            // next request, on every server sharing the store. On a store this process
            // owns (sled) the reads are a few page-cache lookups, cheaper on the worker
            // than the hop to the blocking pool; a shared store is a database round trip.
            let found = if state.store.shared() {
                let key = hash.clone();
                state
                    .store
                    .run(move |s| tokens::live(s, &key, now))
                    .await??
            } else {
                tokens::live(&state.store, &hash, now)?
            };
            let found = found.map_err(ApiError::Unauthorized)?;
            if let Some(write) = tokens::note_use(&found, now) {
                // Best effort, off the request's path: a failed or conflicting write only
                // leaves `last_used_at` a little older.
                let store = state.store.clone();
                actix_web::rt::spawn(async move {
                    let _ = store.run(move |s| s.commit(&[write], None)).await;
                });
            }
            // For the request's log line (`telemetry`).
            req.extensions_mut()
                .insert(crate::telemetry::TokenId(found.record.id));
            Ok(Caller {
                principal: found.principal,
                token_hash: hash,
                token_id: found.record.id,
                label: found.record.label.to_string(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_row_is_unique() {
        for (i, (op, _)) in POLICY.iter().enumerate() {
            assert!(!POLICY[..i].iter().any(|(o, _)| o == op), "{op} twice");
        }
    }

    #[test]
    fn a_bearer_header_is_read_and_anything_else_is_a_401() {
        assert_eq!(bearer(Some(Ok("Bearer  chl_x ".into()))).unwrap(), "chl_x");
        assert_eq!(bearer(Some(Ok("bearer chl_x".into()))).unwrap(), "chl_x");
        for bad in [
            None,
            Some(Err(())),
            Some(Ok("Basic abc".into())),
            Some(Ok("Bearer ".into())),
        ] {
            assert!(matches!(bearer(bad), Err(ApiError::Unauthorized(_))));
        }
    }
}
