//! Access control: bearer tokens, the six roles, and which role may call which operation.
//!
//! A token is 32 random bytes from the operating system, shown once when it is created and
//! stored only as its SHA-256 hash. Each request's token is hashed and looked up (then
//! cached). [`POLICY`] says, per OpenAPI operation id, whether each role may call it always
//! ([`Access::Yes`]), only within its scope ([`Access::Own`]: a regional manager's region,
//! a rep's own records, or published specs), or never ([`Access::No`]). The README's
//! role × endpoint table is [`policy_table_markdown`], and a test calls every cell.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use chanlab_shared::{Name, RegionId, RepId};
use chrono::{NaiveDate, Utc};
use rand::TryRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::{Expect, StorageError, Store, store_put};

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
    ("get_backup", [Yes, No, No, No, No, No]),
    ("rep_scorecard", [Yes, Yes, Own, Own, Yes, No]),
    ("transition_partner", [Yes, Yes, No, No, No, No]),
    ("list_partner_transitions", [Yes, Yes, Own, Own, Yes, No]),
    ("import_partner_transitions", [Yes, Yes, No, No, No, No]),
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

    /// A 403 for a record outside the caller's scope.
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

/// What a new token may do: the request body of `POST /tokens` and the arguments of
/// `chanlab token create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "regional_manager", "region_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01", "label": "Nordics RM"}))]
pub struct TokenRequest {
    /// The role.
    pub role: RoleName,
    /// The region, for a regional manager (and only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<RegionId>,
    /// The rep, for a rep (and only then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_id: Option<RepId>,
    /// Who or what the token is for.
    pub label: Name,
}

/// A stored token: its hash and grant, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRecord {
    /// The token's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// SHA-256 of the token, hex.
    #[schema(ignore)]
    #[serde(default)]
    pub hash: String,
    /// The role.
    pub role: RoleName,
    /// The region of a regional manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<RegionId>,
    /// The rep of a rep token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_id: Option<RepId>,
    /// Who or what the token is for.
    pub label: Name,
    /// The day it was created.
    #[schema(value_type = String, format = Date)]
    pub created_on: NaiveDate,
}

/// A newly created token: the secret (shown once) and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The bearer token. Store it now: only its hash is kept.
    #[schema(example = "chl_5f0c...")]
    pub token: String,
    /// The token's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The role.
    pub role: RoleName,
    /// The region of a regional manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_id: Option<RegionId>,
    /// The rep of a rep token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rep_id: Option<RepId>,
    /// Who or what the token is for.
    pub label: Name,
}

/// SHA-256 of a token, as hex.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Lower-case hex of `bytes`. Runs on every request, so it avoids `format!` per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

impl TokenRequest {
    /// Checks that the scope fits the role: a region for a regional manager, a rep for a
    /// rep, neither for the others.
    pub fn check(&self) -> Result<(), ApiError> {
        let (need_region, need_rep) = match self.role {
            RoleName::RegionalManager => (true, false),
            RoleName::Rep => (false, true),
            _ => (false, false),
        };
        if need_region != self.region_id.is_some() {
            return Err(ApiError::field(
                "region_id",
                if need_region {
                    "a regional_manager token needs the region it manages"
                } else {
                    "only a regional_manager token takes a region"
                },
            ));
        }
        if need_rep != self.rep_id.is_some() {
            return Err(ApiError::field(
                "rep_id",
                if need_rep {
                    "a rep token needs the rep it belongs to"
                } else {
                    "only a rep token takes a rep"
                },
            ));
        }
        Ok(())
    }
}

/// Makes a fresh token and the record to store for it.
pub fn new_token(request: &TokenRequest) -> Result<(String, TokenRecord), StorageError> {
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StorageError::new(format!("the system random source failed: {e}")))?;
    let token = format!("chl_{}", hex(&bytes));
    let record = TokenRecord {
        id: Uuid::now_v7(),
        hash: hash_token(&token),
        role: request.role,
        region_id: request.region_id,
        rep_id: request.rep_id,
        label: request.label.clone(),
        created_on: Utc::now().date_naive(),
    };
    Ok((token, record))
}

/// Creates a token directly on a store and flushes it: what `chanlab token create` does on
/// a data directory. Blocking.
pub fn create_token_blocking(
    store: &Store,
    request: &TokenRequest,
) -> Result<CreatedToken, ApiError> {
    request.check()?;
    let (token, record) = new_token(request)?;
    store
        .commit(&[store_put(&record, Expect::Absent)], None)
        .map_err(|e| ApiError::from_commit(e, &|k| format!("{}_id", k.name())))?;
    store.flush_blocking()?;
    Ok(created(token, record))
}

/// The answer for a created token.
pub fn created(token: String, record: TokenRecord) -> CreatedToken {
    CreatedToken {
        token,
        id: record.id,
        role: record.role,
        region_id: record.region_id,
        rep_id: record.rep_id,
        label: record.label,
    }
}

fn principal_of(record: &TokenRecord) -> Option<Principal> {
    Some(match record.role {
        RoleName::Admin => Principal::Admin,
        RoleName::ChannelManager => Principal::ChannelManager,
        RoleName::RegionalManager => Principal::RegionalManager(record.region_id?),
        RoleName::Rep => Principal::Rep(record.rep_id?),
        RoleName::Viewer => Principal::Viewer,
        RoleName::Trainee => Principal::Trainee,
    })
}

fn lookup(store: &Store, hash: &str) -> Result<Option<Principal>, StorageError> {
    let found = store.list::<TokenRecord>(Some(("hash", hash)), None, 1, &|_| true)?;
    Ok(found.items.first().and_then(principal_of))
}

/// An authenticated caller: the principal and the hash of the token it used (which scopes
/// idempotency keys to their caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who is calling.
    pub principal: Principal,
    /// SHA-256 of the bearer token, hex.
    pub token_hash: String,
}

impl Caller {
    /// See [`Principal::allow`].
    pub fn allow(&self, operation: &str) -> Result<Access, ApiError> {
        self.principal.allow(operation)
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|h| h.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no app state".to_owned()))?;
            let token = match header {
                None => {
                    return Err(ApiError::Unauthorized(
                        "send `Authorization: Bearer <token>`; `chanlab token create` makes one"
                            .to_owned(),
                    ));
                }
                Some(Err(_)) => {
                    return Err(ApiError::Unauthorized(
                        "the Authorization header is not text".to_owned(),
                    ));
                }
                Some(Ok(value)) => match value.split_once(' ') {
                    Some((scheme, token))
                        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                    {
                        token.trim().to_owned()
                    }
                    _ => {
                        return Err(ApiError::Unauthorized(
                            "expected `Authorization: Bearer <token>`".to_owned(),
                        ));
                    }
                },
            };
            let hash = hash_token(&token);
            if let Some(p) = state.tokens.read().expect("token cache lock").get(&hash) {
                return Ok(Caller {
                    principal: *p,
                    token_hash: hash,
                });
            }
            let key = hash.clone();
            let found = state.store.run(move |s| lookup(s, &key)).await??;
            match found {
                Some(p) => {
                    state
                        .tokens
                        .write()
                        .expect("token cache lock")
                        .insert(hash.clone(), p);
                    Ok(Caller {
                        principal: p,
                        token_hash: hash,
                    })
                }
                None => Err(ApiError::Unauthorized(
                    "the bearer token is not known".to_owned(),
                )),
            }
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
    fn tokens_are_hashed_not_stored() {
        let req = TokenRequest {
            role: RoleName::Viewer,
            region_id: None,
            rep_id: None,
            label: Name::parse("bi").unwrap(),
        };
        let (token, record) = new_token(&req).unwrap();
        assert!(token.starts_with("chl_") && token.len() == 68);
        assert_eq!(record.hash, hash_token(&token));
        assert!(!serde_json::to_string(&record).unwrap().contains(&token));
    }

    #[test]
    fn a_regional_manager_token_needs_a_region() {
        let req = TokenRequest {
            role: RoleName::RegionalManager,
            region_id: None,
            rep_id: None,
            label: Name::parse("rm").unwrap(),
        };
        assert!(matches!(req.check(), Err(ApiError::Validation(_))));
    }
}
