//! The one path every write takes: run the storage work on the blocking pool, commit it
//! atomically (with the idempotent response, when the request carries an `Idempotency-Key`),
//! wait until it is on disk, then answer.

use std::sync::Mutex;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::auth::{Caller, hex};
use crate::error::ApiError;
use crate::events::Event;
use crate::extract::{IdempotencyKey, IfMatch};
use crate::state::AppState;
use crate::storage::{CommitError, Expect, Kind, Record, Store, Write, store_put};

/// What a write answers, kept whole so that an idempotent retry gets the same answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Outcome {
    /// HTTP status.
    pub status: u16,
    /// The version of the written record, sent as the ETag.
    pub version: Option<u64>,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// The `Location` of a created record.
    pub location: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Remembered {
    request: String,
    outcome: Outcome,
}

/// A 201 for a newly created record at `location`.
pub(crate) fn created<T: Serialize>(record: &T, location: String) -> Outcome {
    Outcome {
        status: 201,
        version: Some(1),
        body: Some(serde_json::to_value(record).expect("records serialise")),
        location: Some(location),
    }
}

/// The usual request field for a missing reference of `kind`.
pub(crate) fn default_field(kind: Kind) -> String {
    match kind {
        Kind::Spec => "process_spec_id".to_owned(),
        Kind::SpecVersion => "spec_version".to_owned(),
        Kind::Sales => "sales_record_id".to_owned(),
        other => format!("{}_id", other.name()),
    }
}

enum Done {
    Fresh(Outcome),
    Replay(Vec<u8>),
}

/// Runs `work` (which reads what it needs and returns the writes and the answer), commits,
/// flushes and answers. `field_of` names the request field of a missing reference.
pub(crate) async fn write<F>(
    state: &AppState,
    caller: &Caller,
    idempotency: IdempotencyKey,
    req: &HttpRequest,
    raw_body: &[u8],
    field_of: fn(Kind) -> String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&Store) -> Result<(Vec<Write>, Outcome), ApiError> + Send + 'static,
{
    write_with_events(
        state,
        caller,
        idempotency,
        req,
        raw_body,
        field_of,
        None,
        move |s| work(s).map(|(writes, outcome)| (writes, outcome, Vec::new())),
    )
    .await
}

/// [`write`] for work whose checks read records that the storage cannot guard in the commit
/// (no version, unique value or reference covers them, e.g. "every other sales record of
/// this partner is in EUR"): `work` and the commit run holding `lock`, so two such writes
/// cannot both pass their checks on the same state. The lock is released before the flush,
/// so these writes still share flushes with every other.
#[allow(clippy::too_many_arguments)] // the parts of one request, passed through to `write`
pub(crate) async fn write_serialised<F>(
    state: &AppState,
    caller: &Caller,
    idempotency: IdempotencyKey,
    req: &HttpRequest,
    raw_body: &[u8],
    field_of: fn(Kind) -> String,
    lock: &'static Serial,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&Store) -> Result<(Vec<Write>, Outcome), ApiError> + Send + 'static,
{
    write_with_events(
        state,
        caller,
        idempotency,
        req,
        raw_body,
        field_of,
        Some(lock),
        move |s| work(s).map(|(writes, outcome)| (writes, outcome, Vec::new())),
    )
    .await
}

/// [`write`] (holding `lock`, when given, like [`write_serialised`]) for work whose commit
/// makes an event no record change shows (an import finished): `work` returns it beside
/// the writes, and it is committed to the outbox with them.
#[allow(clippy::too_many_arguments)] // the parts of one request, passed through to `write`
pub(crate) async fn write_with_events<F>(
    state: &AppState,
    caller: &Caller,
    idempotency: IdempotencyKey,
    req: &HttpRequest,
    raw_body: &[u8],
    field_of: fn(Kind) -> String,
    lock: Option<&'static Serial>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&Store) -> Result<(Vec<Write>, Outcome, Vec<Event>), ApiError> + Send + 'static,
{
    let request_hash = hex(&Sha256::digest(raw_body));
    let scoped = idempotency.0.map(|key| {
        hex(&Sha256::digest(
            format!(
                "{}\n{}\n{}\n{key}",
                caller.token_hash,
                req.method(),
                req.path()
            )
            .as_bytes(),
        ))
    });
    let request = request_hash.clone();
    let actor = Actor::of_request(caller, req);
    let done = state
        .store
        .run(move |store| -> Result<Done, ApiError> {
            let decide = || decide(store, &actor, scoped, request, field_of, work);
            match lock {
                Some(serial) => serial.hold(store, decide)?,
                None => decide(),
            }
        })
        .await??;
    state.store.durable().await?;
    match done {
        Done::Fresh(outcome) => Ok(respond(&outcome, false)),
        Done::Replay(bytes) => {
            let remembered: Remembered = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::Internal(format!("a remembered response is damaged: {e}"))
            })?;
            if remembered.request != request_hash {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "this key was already used with a different request body; use a new key for a new request",
                ));
            }
            Ok(respond(&remembered.outcome, true))
        }
    }
}

/// A write's check and commit: the response remembered under its key, or `work`'s writes
/// committed with the response remembered beside them.
fn decide<F>(
    store: &Store,
    actor: &Actor,
    scoped: Option<String>,
    request: String,
    field_of: fn(Kind) -> String,
    work: F,
) -> Result<Done, ApiError>
where
    F: FnOnce(&Store) -> Result<(Vec<Write>, Outcome, Vec<Event>), ApiError>,
{
    if let Some(key) = &scoped
        && let Some(previous) = store.recall(key)?
    {
        return Ok(Done::Replay(previous));
    }
    let (writes, mut outcome, events) = work(store)?;
    let prepared = audit::prepare(store, Some(actor), writes)?;
    if let Some(body) = &mut outcome.body {
        prepared.stamp_answer(body);
    }
    let remember = scoped.map(|key| {
        let response = Remembered {
            request,
            outcome: outcome.clone(),
        };
        store.remember(
            key,
            serde_json::to_vec(&response).expect("outcomes serialise"),
        )
    });
    match audit::commit_prepared(store, Some(actor), prepared, remember.as_ref(), events) {
        Ok(_) => Ok(Done::Fresh(outcome)),
        Err(CommitError::Replayed(previous)) => Ok(Done::Replay(previous)),
        Err(e) => Err(ApiError::from_commit(e, &field_of)),
    }
}

/// A rule no commit's own checks cover (no version, unique value or reference, e.g. "every
/// other sales record of this partner is in EUR"), kept by letting one write under it at a
/// time check and commit: in this process by a mutex, and across the processes sharing a
/// store by the store's lock of the same name ([`Store::exclusive`]). The mutex is taken
/// first, so a process holds at most one database connection waiting for the shared lock.
pub(crate) struct Serial {
    name: &'static str,
    local: Mutex<()>,
}

impl Serial {
    /// The rule called `name` (the shared lock's name: never rename one that has shipped
    /// while an older binary may share the store).
    pub(crate) const fn new(name: &'static str) -> Self {
        Self {
            name,
            local: Mutex::new(()),
        }
    }

    /// Runs `work` holding the rule. Blocking.
    fn hold<T>(&self, store: &Store, work: impl FnOnce() -> T) -> Result<T, ApiError> {
        // A panic while holding the mutex poisons nothing that matters (it guards no data).
        let _local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        Ok(store.exclusive(self.name, work)?)
    }
}

/// Stores a new `record` (which must not exist yet) and answers 201 with `Location`: the
/// tail every create handler shares once it has checked the caller and built the record.
#[allow(clippy::too_many_arguments)] // the parts of one request, passed through to `write`
pub(crate) async fn create_record<T: Record>(
    state: &AppState,
    caller: &Caller,
    idempotency: IdempotencyKey,
    req: &HttpRequest,
    raw_body: &[u8],
    field_of: fn(Kind) -> String,
    record: T,
    location: String,
) -> Result<HttpResponse, ApiError> {
    write(
        state,
        caller,
        idempotency,
        req,
        raw_body,
        field_of,
        move |_| {
            Ok((
                vec![store_put(&record, Expect::Absent)],
                created(&record, location),
            ))
        },
    )
    .await
}

/// Replaces a record after checking that the caller may see it (`visible`, 403 or 404)
/// and then `If-Match` (RFC 9110 §13.2.1: preconditions come after authorisation and
/// existence); `build` gets the stored record.
pub(crate) fn update_record<T: Record>(
    store: &Store,
    id: &str,
    if_match: &IfMatch,
    kind_name: &'static str,
    visible: impl FnOnce(&T) -> Result<(), ApiError>,
    build: impl FnOnce(&T) -> Result<T, ApiError>,
) -> Result<(Vec<Write>, Outcome), ApiError> {
    let (current, version) = store.get::<T>(id)?.ok_or_else(|| ApiError::NotFound {
        kind: kind_name,
        id: id.to_owned(),
    })?;
    visible(&current)?;
    check_if_match(if_match, version, kind_name, id)?;
    let next = build(&current)?;
    let outcome = Outcome {
        status: 200,
        version: Some(version + 1),
        body: Some(serde_json::to_value(&next).expect("records serialise")),
        location: None,
    };
    Ok((vec![store_put(&next, Expect::Version(version))], outcome))
}

/// Deletes a record after checking that `allowed` accepts it (the caller's scope: 403 or
/// 404) and then `If-Match`, in RFC 9110 §13.2.1's order.
pub(crate) fn delete_record<T: Record>(
    store: &Store,
    id: &str,
    if_match: &IfMatch,
    kind_name: &'static str,
    allowed: impl FnOnce(&T) -> Result<(), ApiError>,
) -> Result<(Vec<Write>, Outcome), ApiError> {
    let (current, version) = store.get::<T>(id)?.ok_or_else(|| ApiError::NotFound {
        kind: kind_name,
        id: id.to_owned(),
    })?;
    allowed(&current)?;
    check_if_match(if_match, version, kind_name, id)?;
    let outcome = Outcome {
        status: 204,
        version: None,
        body: None,
        location: None,
    };
    Ok((
        vec![Write::Delete {
            kind: T::KIND,
            id: id.to_owned(),
            expect: Expect::Version(version),
        }],
        outcome,
    ))
}

/// 400 when `If-Match` is malformed, 412 when it names no version or others than `version`.
/// Called once the record is found and the caller may see it.
pub(crate) fn check_if_match(
    if_match: &IfMatch,
    version: u64,
    kind_name: &str,
    id: &str,
) -> Result<(), ApiError> {
    use crate::extract::Precondition;
    match &if_match.0 {
        Err(detail) => Err(ApiError::BadRequest(detail.clone())),
        Ok(Some(Precondition::Versions(named))) if !named.contains(&version) => {
            let named = match named.as_slice() {
                [] => "no version this server issued".to_owned(),
                [one] => format!("version \"{one}\""),
                many => format!("versions {many:?}"),
            };
            Err(ApiError::PreconditionFailed(format!(
                "the {kind_name} {id} has changed: If-Match named {named} but it is at \"{version}\"; GET it again and reapply your change"
            )))
        }
        _ => Ok(()),
    }
}

fn respond(outcome: &Outcome, replayed: bool) -> HttpResponse {
    let mut builder =
        HttpResponse::build(StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::OK));
    if let Some(v) = outcome.version {
        builder.insert_header((header::ETAG, super::etag(v)));
    }
    if let Some(location) = &outcome.location {
        builder.insert_header((header::LOCATION, location.as_str()));
    }
    if replayed {
        builder.insert_header(("Idempotent-Replayed", "true"));
    }
    match &outcome.body {
        Some(body) => builder.json(body),
        None => builder.finish(),
    }
}
