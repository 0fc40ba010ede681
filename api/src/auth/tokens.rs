//! Bearer tokens: made, listed, rotated, revoked and expired, and the check every request
//! makes of the token it carries.
//!
//! A token is `chl_` and 64 lower-case hex digits (32 random bytes from the operating
//! system): the fixed prefix lets secret scanners (GitHub's, gitleaks, trufflehog) find a
//! leaked one with the pattern `chl_[0-9a-f]{64}`. It is shown once, when it is made or
//! rotated; the store keeps only its SHA-256.
//!
//! Nothing about a token is cached between requests: each request reads its record (one
//! index lookup and one point read), so a revocation, a rotation, an expiry or a rep's
//! departure takes effect at the next request on every server sharing the store. The one
//! write a request can cause, `last_used_at`, is made at most once per
//! [`LAST_USED_EVERY`] per token, off the request's path, and only if the record is still
//! the version that was read (it never brings back a revoked or rotated token).

use chanlab_shared::{Name, Region, RegionId, Rep, RepId, RepStatus};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::TryRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Principal, RoleName};
use crate::error::ApiError;
use crate::storage::{Expect, StorageError, Store, Write, store_put};

/// How stale `last_used_at` may be: a token used more often is written at most this often.
pub const LAST_USED_EVERY: TimeDelta = TimeDelta::seconds(60);

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
    /// When the token stops working (RFC 3339, in the future). Absent: the server's default
    /// lifetime (`chanlab serve --token-lifetime-days`), or never if it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token: the hash of its secret beside what `GET /tokens` shows ([`TokenView`]),
/// never the token itself. Stored flat (`hash` beside the view's fields), so the view is
/// the record with one field left out, declared once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    #[serde(default)]
    pub hash: String,
    /// The grant and its dates.
    #[serde(flatten)]
    pub view: TokenView,
}

/// Field reads see through to the view: `record.role`, `record.expires_at`.
impl std::ops::Deref for TokenRecord {
    type Target = TokenView;
    fn deref(&self) -> &TokenView {
        &self.view
    }
}

/// A token as `GET /tokens` shows it: the grant and its dates, never the secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
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
    /// The day it was created.
    #[schema(value_type = String, format = Date)]
    pub created_on: NaiveDate,
    /// When it stops working; never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to within a minute); never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When its secret was last replaced; never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
}

impl From<&TokenRecord> for TokenView {
    fn from(r: &TokenRecord) -> Self {
        r.view.clone()
    }
}

/// A newly made (or rotated) token: the secret, shown once, and what it grants.
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
    /// When it stops working; never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
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
    /// Checks that the scope fits the role (a region for a regional manager, a rep for a
    /// rep, neither for the others) and that an expiry is in the future.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), ApiError> {
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
        if let Some(at) = self.expires_at
            && at <= now
        {
            return Err(ApiError::field(
                "expires_at",
                format!(
                    "{at} is not in the future (now is {now}); give a later time or leave it out"
                ),
            ));
        }
        Ok(())
    }
}

/// A fresh secret.
fn secret() -> Result<String, StorageError> {
    let mut bytes = [0u8; 32];
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StorageError::new(format!("the system random source failed: {e}")))?;
    Ok(format!("chl_{}", hex(&bytes)))
}

/// Makes a fresh token and the record to store for it. `lifetime` is the default for a
/// request that names no expiry.
pub fn new_token(
    request: &TokenRequest,
    now: DateTime<Utc>,
    lifetime: Option<TimeDelta>,
) -> Result<(String, TokenRecord), StorageError> {
    let token = secret()?;
    let record = TokenRecord {
        hash: hash_token(&token),
        view: TokenView {
            id: Uuid::now_v7(),
            role: request.role,
            region_id: request.region_id,
            rep_id: request.rep_id,
            label: request.label.clone(),
            created_on: now.date_naive(),
            expires_at: request.expires_at.or_else(|| lifetime.map(|l| now + l)),
            last_used_at: None,
            rotated_at: None,
        },
    };
    Ok((token, record))
}

/// The record with a new secret (the old one stops working when it is stored), and the
/// new secret.
pub fn rotated(
    record: &TokenRecord,
    now: DateTime<Utc>,
) -> Result<(String, TokenRecord), StorageError> {
    let token = secret()?;
    let next = TokenRecord {
        hash: hash_token(&token),
        view: TokenView {
            rotated_at: Some(now),
            ..record.view.clone()
        },
    };
    Ok((token, next))
}

/// Creates a token directly on a store and flushes it: what `chanlab token create` does on
/// a data directory. Blocking.
pub fn create_token_blocking(
    store: &Store,
    request: &TokenRequest,
    lifetime: Option<TimeDelta>,
) -> Result<CreatedToken, ApiError> {
    let now = Utc::now();
    request.check(now)?;
    let (token, record) = new_token(request, now, lifetime)?;
    commit_durably(store, "token create", &[store_put(&record, Expect::Absent)])?;
    Ok(created(token, record))
}

/// Every token, oldest first: what `chanlab token list` prints. Blocking.
pub fn list_tokens_blocking(store: &Store) -> Result<Vec<TokenView>, ApiError> {
    Ok(store
        .all::<TokenRecord>(None)?
        .iter()
        .map(TokenView::from)
        .collect())
}

/// Revokes token `id` directly on a store: `chanlab token revoke`. Blocking.
pub fn revoke_token_blocking(store: &Store, id: Uuid) -> Result<TokenView, ApiError> {
    let (record, _) = stored(store, id)?;
    // Any version, as `DELETE /tokens/{id}`: a use noted meanwhile must not refuse it.
    commit_durably(
        store,
        "token revoke",
        &[Write::Delete {
            kind: crate::storage::Kind::Token,
            id: id.to_string(),
            expect: Expect::Present,
        }],
    )?;
    Ok(TokenView::from(&record))
}

/// Gives token `id` a new secret directly on a store: `chanlab token rotate`. Blocking.
pub fn rotate_token_blocking(store: &Store, id: Uuid) -> Result<CreatedToken, ApiError> {
    let (record, _) = stored(store, id)?;
    let (token, next) = rotated(&record, Utc::now())?;
    commit_durably(store, "token rotate", &[store_put(&next, Expect::Present)])?;
    Ok(created(token, next))
}

fn stored(store: &Store, id: Uuid) -> Result<(TokenRecord, u64), ApiError> {
    store
        .get::<TokenRecord>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "token",
            id: id.to_string(),
        })
}

/// Commits a command line's `writes` (audited as `chanlab <command>`) and flushes them.
fn commit_durably(store: &Store, command: &str, writes: &[Write]) -> Result<(), ApiError> {
    let actor = crate::audit::Actor::command_line(command);
    crate::audit::commit(store, Some(&actor), writes, None, Vec::new())
        .map_err(|e| ApiError::from_commit(e, &|k| format!("{}_id", k.name())))?;
    store.flush_blocking()?;
    Ok(())
}

/// The answer for a made or rotated token.
pub fn created(token: String, record: TokenRecord) -> CreatedToken {
    let v = record.view;
    CreatedToken {
        token,
        id: v.id,
        role: v.role,
        region_id: v.region_id,
        rep_id: v.rep_id,
        label: v.label,
        expires_at: v.expires_at,
    }
}

/// A token the store knows, with what it grants now.
#[derive(Debug)]
pub(crate) struct Found {
    /// The stored record.
    pub record: TokenRecord,
    /// Its version, for the conditional `last_used_at` write.
    pub version: u64,
    /// What it grants.
    pub principal: Principal,
}

/// Looks up the token with SHA-256 `hash` and checks it still works at `now`: not expired,
/// and its rep still employed or its region still there. `Ok(Err(reason))` is a token that
/// no longer works, with the sentence the 401 gives. Blocking.
pub(crate) fn live(
    store: &Store,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Result<Found, String>, StorageError> {
    let unknown = || {
        Ok(Err(
            "the bearer token is not known (revoked, rotated or never made)".to_owned(),
        ))
    };
    let Some(first) = store
        .list::<TokenRecord>(Some(("hash", hash)), None, 1, &|_| true)?
        .items
        .into_iter()
        .next()
    else {
        return unknown();
    };
    // The index led here; the point read gives the version, and a rotation between the two
    // reads shows as a different hash.
    let Some((record, version)) = store.get::<TokenRecord>(&first.id.to_string())? else {
        return unknown();
    };
    if record.hash != hash {
        return unknown();
    }
    if let Some(at) = record.expires_at
        && at <= now
    {
        return Ok(Err(format!(
            "the bearer token expired at {at}; ask an admin for a new one"
        )));
    }
    let principal = match (record.role, record.region_id, record.rep_id) {
        (RoleName::Admin, ..) => Principal::Admin,
        (RoleName::ChannelManager, ..) => Principal::ChannelManager,
        (RoleName::Viewer, ..) => Principal::Viewer,
        (RoleName::Trainee, ..) => Principal::Trainee,
        (RoleName::RegionalManager, Some(region), _) => {
            if store.get::<Region>(&region.to_string())?.is_none() {
                return Ok(Err(format!(
                    "the region {region} of this regional_manager token no longer exists"
                )));
            }
            Principal::RegionalManager(region)
        }
        (RoleName::Rep, _, Some(rep)) => match store.get::<Rep>(&rep.to_string())? {
            Some((r, _)) if r.status == RepStatus::Departed => {
                return Ok(Err(format!(
                    "the rep {rep} of this token has left (status departed)"
                )));
            }
            Some(_) => Principal::Rep(rep),
            None => return Ok(Err(format!("the rep {rep} of this token no longer exists"))),
        },
        _ => return Ok(Err("the token's record lacks its scope".to_owned())),
    };
    Ok(Ok(Found {
        record,
        version,
        principal,
    }))
}

/// The write that records a use at `now`, if the stored `last_used_at` is older than
/// [`LAST_USED_EVERY`]. Conditional on the version read, so it fails (harmlessly) after a
/// rotation or revocation instead of undoing it.
pub(crate) fn note_use(found: &Found, now: DateTime<Utc>) -> Option<Write> {
    let stale = found
        .record
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_EVERY);
    stale.then(|| {
        let next = TokenRecord {
            hash: found.record.hash.clone(),
            view: TokenView {
                last_used_at: Some(now),
                ..found.record.view.clone()
            },
        };
        store_put(&next, Expect::Version(found.version))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(role: RoleName) -> TokenRequest {
        TokenRequest {
            role,
            region_id: None,
            rep_id: None,
            label: Name::parse("bi").unwrap(),
            expires_at: None,
        }
    }

    #[test]
    fn tokens_are_hashed_not_stored() {
        let (token, record) = new_token(&request(RoleName::Viewer), Utc::now(), None).unwrap();
        assert!(token.starts_with("chl_") && token.len() == 68);
        assert_eq!(record.hash, hash_token(&token));
        assert!(!serde_json::to_string(&record).unwrap().contains(&token));
        let view = serde_json::to_string(&TokenView::from(&record)).unwrap();
        assert!(!view.contains(&record.hash), "a view never shows the hash");
    }

    #[test]
    fn a_regional_manager_token_needs_a_region() {
        let req = request(RoleName::RegionalManager);
        assert!(matches!(
            req.check(Utc::now()),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn the_default_lifetime_applies_only_when_no_expiry_is_asked() {
        let now = Utc::now();
        let day = TimeDelta::days(1);
        let (_, r) = new_token(&request(RoleName::Viewer), now, Some(day)).unwrap();
        assert_eq!(r.expires_at, Some(now + day));
        let mut asked = request(RoleName::Viewer);
        asked.expires_at = Some(now + TimeDelta::hours(2));
        let (_, r) = new_token(&asked, now, Some(day)).unwrap();
        assert_eq!(r.expires_at, asked.expires_at);
        let (_, r) = new_token(&request(RoleName::Viewer), now, None).unwrap();
        assert_eq!(r.expires_at, None);
    }

    #[test]
    fn an_expiry_in_the_past_names_the_field() {
        let now = Utc::now();
        let mut req = request(RoleName::Viewer);
        req.expires_at = Some(now - TimeDelta::seconds(1));
        match req.check(now) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, "expires_at"),
            other => panic!("expected a 422 naming expires_at, got {other:?}"),
        }
    }

    #[test]
    fn a_rotation_keeps_the_grant_and_changes_the_secret() {
        let now = Utc::now();
        let (old, record) = new_token(&request(RoleName::Admin), now, None).unwrap();
        let (new, next) = rotated(&record, now).unwrap();
        assert_ne!(old, new);
        assert_eq!(next.hash, hash_token(&new));
        assert_eq!(
            (next.id, next.role, &next.label),
            (record.id, record.role, &record.label)
        );
        assert_eq!(next.rotated_at, Some(now));
    }

    #[test]
    fn a_use_is_written_at_most_once_a_minute() {
        let now = Utc::now();
        let (_, record) = new_token(&request(RoleName::Viewer), now, None).unwrap();
        let mut found = Found {
            record,
            version: 3,
            principal: Principal::Viewer,
        };
        match note_use(&found, now) {
            Some(Write::Put { expect, .. }) => assert_eq!(expect, Expect::Version(3)),
            other => panic!("a first use is written, conditionally: {other:?}"),
        }
        found.record.view.last_used_at = Some(now);
        assert!(note_use(&found, now + TimeDelta::seconds(59)).is_none());
        assert!(note_use(&found, now + LAST_USED_EVERY).is_some());
    }
}
