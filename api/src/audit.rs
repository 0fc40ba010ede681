//! The audit trail and the one commit every record write goes through.
//!
//! `commit` reads what each write replaces, and commits beside the writes, in the same
//! atomic commit: an [`AuditEntry`] per changed record when a caller made the change
//! (who, when, which operation, which record, each field before and after), and the
//! outbox records of the events the change makes ([`crate::events`]). So no write path can
//! leave a change unaudited or without its event, and neither can exist without the change.
//! Writes the system makes on its own (a run's progress, a token's `last_used_at`) carry no
//! actor and make no audit entry; they still make their events (`run.finished`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use chanlab_shared::Stamp;

use crate::auth::Caller;

mod range;
use crate::events::{self, Event};
use crate::storage::{CommitError, Expect, Kind, Record, Remember, Store, Write, store_put};
pub(crate) use range::{Range, entry_id};

/// Who made a change, and through which operation.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// The token the change was made with (none on the command line, which needs none).
    pub token_id: Option<Uuid>,
    /// The token's label (a person or a system, as the admin named it), or `command line`.
    pub label: String,
    /// The request's `X-Request-Id`, when the change came over HTTP.
    pub request_id: Option<String>,
    /// `POST /partners/{id}/transitions`, or the command for the command line.
    pub operation: String,
}

impl Actor {
    /// The actor of an HTTP request by `caller`.
    pub(crate) fn of_request(caller: &Caller, req: &actix_web::HttpRequest) -> Self {
        use actix_web::HttpMessage;
        let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
        Self {
            token_id: Some(caller.token_id),
            label: caller.label.clone(),
            request_id: req
                .extensions()
                .get::<crate::telemetry::RequestId>()
                .map(|r| r.0.clone()),
            operation: format!("{} {pattern}", req.method()),
        }
    }

    /// The actor of a command run on the store directly (`chanlab token create`): whoever
    /// may open the data directory or the database, which the system's own access rules
    /// guard.
    pub(crate) fn command_line(command: &str) -> Self {
        Self {
            token_id: None,
            label: COMMAND_LINE.to_owned(),
            request_id: None,
            operation: format!("chanlab {command}"),
        }
    }
}

/// The actor label of changes made on the command line.
pub const COMMAND_LINE: &str = "command line";

/// One record's change in a commit: what it was and what it becomes (`None`: absent).
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// The collection.
    pub kind: Kind,
    /// The record's id.
    pub id: String,
    /// The stored record before the commit.
    pub before: Option<Value>,
    /// The record after it.
    pub after: Option<Value>,
}

/// What a change did to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// The record is new.
    Created,
    /// The record was replaced.
    Updated,
    /// The record was removed.
    Deleted,
    /// Many records of the collection were written by one operation (a CSV import): see
    /// `batch`.
    Batch,
    /// The caller asked a running job (a run) to stop. The job stores itself `cancelled`
    /// once the replications in flight end, a write of the system's own with no entry, so
    /// this entry is the trail of who cancelled it.
    CancelRequested,
}

/// The records of a [`AuditAction::Batch`] entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditBatch {
    /// How many records the operation created.
    pub created: u64,
    /// How many it replaced.
    pub updated: u64,
    /// How many it removed.
    pub deleted: u64,
    /// Their ids (in a listing filtered by `record_id`, just that one; otherwise the first
    /// [`BATCH_IDS_SHOWN`]).
    pub record_ids: Vec<String>,
}

/// How many of a batch's record ids a listing shows when it is not filtered by record.
pub const BATCH_IDS_SHOWN: usize = 100;

/// Beyond this many audited records in one commit, each collection's changes are one
/// [`AuditAction::Batch`] entry rather than one entry per record: a 100,000-row import
/// would otherwise write 100,000 more records in its commit, which more than doubled its
/// time on sled (22 s → 56 s for 8 MiB). The records' own `created_by`/`updated_by` and
/// the entry's ids still say who wrote each one and when.
pub const BATCH_ABOVE: usize = 100;

/// At most this many records in one batch entry; a larger commit has several per
/// collection. Each record id is an index entry of its batch's entry, so one entry for a
/// 100,000-row import was one write of 100,000 keys, which no commit can split into
/// chunks (sled's bulk commit, `storage::sled_backend::bulk`).
pub const BATCH_MAX: usize = 1_000;

/// A field's value before and after a change (absent: `null` and left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// The top-level field of the record.
    pub field: String,
    /// Its value before (left out when the field was absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Its value after (left out when the field is absent now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// The token a change was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditActor {
    /// The token's id (`GET /tokens`); absent for a change made on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Uuid>,
    /// Its label when the change was made.
    pub label: String,
}

impl AuditActor {
    /// The actor as the `actor` index and filter name it: the token id, or `command line`.
    pub fn key(&self) -> String {
        self.token_id
            .map_or_else(|| COMMAND_LINE.to_owned(), |t| t.to_string())
    }
}

/// One change to one record, by whom and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Time-ordered (UUIDv7): listing by id lists oldest first.
    pub id: Uuid,
    /// When the change was committed.
    pub at: DateTime<Utc>,
    /// Who made it.
    pub actor: AuditActor,
    /// The request's id (`X-Request-Id`), when it came over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The operation: `METHOD /route/{pattern}`, or the command.
    pub operation: String,
    /// The record's collection (`partner`, `goal`, ...).
    pub kind: String,
    /// The record's id (absent for a batch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// What happened to it.
    pub action: AuditAction,
    /// Each top-level field that differs, before and after (secrets left out; empty for a
    /// batch).
    pub changes: Vec<FieldChange>,
    /// The records of a batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<AuditBatch>,
}

impl Record for AuditEntry {
    const KIND: Kind = Kind::Audit;
    fn key(&self) -> String {
        self.id.to_string()
    }
    fn indexes(&self) -> Vec<(String, String)> {
        let record = |id: &str| ("record".to_owned(), record_key(&self.kind, id));
        let mut v = vec![
            ("actor".to_owned(), self.actor.key()),
            ("kind".to_owned(), self.kind.clone()),
        ];
        v.extend(self.record_id.as_deref().map(record));
        if let Some(batch) = &self.batch {
            v.extend(batch.record_ids.iter().map(|id| record(id)));
        }
        v
    }
}

/// The `record` index's value for a record.
pub(crate) fn record_key(kind: &str, id: &str) -> String {
    format!("{kind}/{id}")
}

/// Collections whose writes are bookkeeping, not records anyone changes: no audit entry.
/// (Results are written by the simulator under a run the audit already names; the audit
/// trail and the outbox would otherwise audit themselves; webhook deliveries are the
/// deliverer's bookkeeping, listed at `GET /webhooks/{id}/deliveries`.)
fn audited(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::Audit
            | Kind::Outbox
            | Kind::Delivery
            | Kind::RunResult
            | Kind::RunInput
            | Kind::BacktestResult
            | Kind::Transition
    )
}

/// Fields never copied into the audit trail: a token's hash, a webhook's secrets.
const SECRET_FIELDS: &[&str] = &["hash", "secret", "previous_secret"];

/// The collections whose records carry `created_by` and `updated_by` ([`Stamp`]).
pub const STAMPED: &[Kind] = &[
    Kind::Region,
    Kind::Rep,
    Kind::Partner,
    Kind::Contract,
    Kind::Activity,
    Kind::Sales,
    Kind::Goal,
    Kind::Spec,
    Kind::Assessment,
];

/// Fields the audit entry itself says (who and when), left out of its field changes.
const IMPLIED_FIELDS: &[&str] = &["created_by", "updated_by"];

/// A commit's writes with what they replace, read and stamped, ready to commit.
pub(crate) struct Prepared {
    writes: Vec<Write>,
    changes: Vec<Change>,
    /// The events the changes make, derived from the stamped records.
    made: Vec<Event>,
    at: DateTime<Utc>,
}

impl Prepared {
    /// `body` (a write's answer) with the stamps of the record it shows, so the answer is
    /// the record as stored.
    pub(crate) fn stamp_answer(&self, body: &mut Value) {
        let Some(id) = body.get("id").and_then(Value::as_str) else {
            return;
        };
        let Some(after) = self
            .changes
            .iter()
            .find(|c| c.id == id && STAMPED.contains(&c.kind))
            .and_then(|c| c.after.as_ref())
        else {
            return;
        };
        for field in IMPLIED_FIELDS {
            if let (Some(v), Some(b)) = (after.get(*field), body.as_object_mut()) {
                b.insert((*field).to_owned(), v.clone());
            }
        }
    }
}

/// Reads what each of `writes` replaces and, when `actor` makes them, stamps each record
/// that carries `created_by`/`updated_by`: `created_by` kept from the stored record (or
/// the actor's, for a new one) whatever the write says, `updated_by` the actor's. Blocking.
pub(crate) fn prepare(
    store: &Store,
    actor: Option<&Actor>,
    mut writes: Vec<Write>,
) -> Result<Prepared, crate::storage::StorageError> {
    let at = Utc::now();
    let mut changes = changes(store, &writes)?;
    if let Some(actor) = actor {
        let stamp = serde_json::to_value(Stamp {
            token_id: actor.token_id,
            label: actor.label.clone(),
            at,
        })
        .expect("stamps serialise");
        for (w, c) in writes.iter_mut().zip(&mut changes) {
            if let (Write::Put { data, .. }, Some(Value::Object(after))) = (w, &mut c.after)
                && STAMPED.contains(&c.kind)
            {
                let created = c
                    .before
                    .as_ref()
                    .map_or(Some(&stamp), |b| b.get("created_by"));
                match created {
                    Some(v) => after.insert("created_by".to_owned(), v.clone()),
                    None => after.remove("created_by"),
                };
                after.insert("updated_by".to_owned(), stamp.clone());
                *data = serde_json::to_vec(after).expect("records serialise");
            }
        }
    }
    let made = events::derived(&changes);
    if changes.len() > BATCH_ABOVE {
        // A batch entry lists ids, not field changes, and the events are made: the new
        // values are no longer read, only whether there is one. (A 100,000-row import
        // held 290 MB of them otherwise.)
        for c in changes.iter_mut().filter(|c| c.after.is_some()) {
            c.after = Some(Value::Null);
        }
    }
    Ok(Prepared {
        writes,
        changes,
        made,
        at,
    })
}

/// Applies `writes` atomically with their audit entries (when `actor` made them) and the
/// outbox records of the events they make, plus `extra` events no record change shows (an
/// import finished). The versions are those of `writes`' own puts, in order. Blocking.
pub(crate) fn commit(
    store: &Store,
    actor: Option<&Actor>,
    writes: &[Write],
    remember: Option<&Remember>,
    extra: Vec<Event>,
) -> Result<Vec<u64>, CommitError> {
    let prepared = prepare(store, actor, writes.to_vec()).map_err(CommitError::Storage)?;
    commit_prepared(store, actor, prepared, remember, extra)
}

/// [`commit`] of writes already [`prepare`]d (by the same `actor`).
pub(crate) fn commit_prepared(
    store: &Store,
    actor: Option<&Actor>,
    prepared: Prepared,
    remember: Option<&Remember>,
    extra: Vec<Event>,
) -> Result<Vec<u64>, CommitError> {
    let Prepared {
        mut writes,
        changes,
        mut made,
        at,
    } = prepared;
    let puts = writes
        .iter()
        .filter(|w| matches!(w, Write::Put { .. }))
        .count();
    if let Some(actor) = actor {
        writes.extend(entries(actor, &changes, at));
    }
    made.extend(extra);
    writes.extend(events::outbox_writes(&made, at));
    let mut versions = store.commit(&writes, remember)?;
    versions.truncate(puts);
    Ok(versions)
}

/// An entry by `actor` at `at` about `record_id` of `kind`, with no field changes; `seq`
/// is its place in its commit ([`entry_id`]).
fn entry(
    actor: &Actor,
    at: DateTime<Utc>,
    seq: usize,
    kind: Kind,
    record_id: Option<String>,
    action: AuditAction,
) -> AuditEntry {
    AuditEntry {
        id: entry_id(at, seq),
        at,
        actor: AuditActor {
            token_id: actor.token_id,
            label: actor.label.clone(),
        },
        request_id: actor.request_id.clone(),
        operation: actor.operation.clone(),
        kind: kind.name().to_owned(),
        record_id,
        action,
        changes: Vec::new(),
        batch: None,
    }
}

/// Records that `actor` asked the running job `kind`/`id` to stop
/// ([`AuditAction::CancelRequested`]), then makes it durable. Blocking.
pub(crate) fn cancel_requested(
    store: &Store,
    actor: &Actor,
    kind: Kind,
    id: &str,
) -> Result<(), crate::storage::StorageError> {
    let e = entry(
        actor,
        Utc::now(),
        0,
        kind,
        Some(id.to_owned()),
        AuditAction::CancelRequested,
    );
    store
        .commit(&[store_put(&e, Expect::Absent)], None)
        .map_err(|e| match e {
            CommitError::Storage(e) => e,
            other => crate::storage::StorageError::new(other.to_string()),
        })?;
    store.flush_blocking()
}

/// What each write replaces. A write that expects the record absent replaces nothing
/// (and needs no read); otherwise the stored record is read, which is exact for writes
/// that expect a version (the commit fails if another changed it meanwhile) and the
/// latest known for the others.
fn changes(store: &Store, writes: &[Write]) -> Result<Vec<Change>, crate::storage::StorageError> {
    let mut out = Vec::with_capacity(writes.len());
    for w in writes {
        let (kind, id, expect, after) = match w {
            Write::Put {
                kind,
                id,
                expect,
                data,
                ..
            } => (*kind, id, *expect, serde_json::from_slice(data).ok()),
            Write::Delete { kind, id, expect } => (*kind, id, *expect, None),
        };
        let before = match expect {
            Expect::Absent => None,
            _ => store
                .get_kind(kind, id)?
                .and_then(|raw| serde_json::from_slice(&raw.data).ok()),
        };
        out.push(Change {
            kind,
            id: id.clone(),
            before,
            after,
        });
    }
    Ok(out)
}

/// What a change did to its record, or `None` when it did nothing.
fn action(c: &Change) -> Option<AuditAction> {
    match (&c.before, &c.after) {
        (None, Some(_)) => Some(AuditAction::Created),
        (Some(_), Some(_)) => Some(AuditAction::Updated),
        (Some(_), None) => Some(AuditAction::Deleted),
        (None, None) => None,
    }
}

/// The audit entries of `changes` by `actor` at `at`: one per audited record that changed,
/// or, beyond [`BATCH_ABOVE`] records, batches per collection of at most [`BATCH_MAX`].
fn entries(actor: &Actor, changes: &[Change], at: DateTime<Utc>) -> Vec<Write> {
    let seq = std::cell::Cell::new(0);
    let entry = |kind, record_id, action, changes, batch| AuditEntry {
        changes,
        batch,
        ..entry(
            actor,
            at,
            seq.replace(seq.get() + 1),
            kind,
            record_id,
            action,
        )
    };
    let audited: Vec<(&Change, AuditAction)> = changes
        .iter()
        .filter(|c| audited(c.kind))
        .filter_map(|c| action(c).map(|a| (c, a)))
        .collect();
    if audited.len() > BATCH_ABOVE {
        let mut batches: Vec<(Kind, AuditBatch)> = Vec::new();
        for (c, a) in audited {
            let open = |(k, b): &(Kind, AuditBatch)| *k == c.kind && b.record_ids.len() < BATCH_MAX;
            let at = match batches.iter().rposition(open) {
                Some(i) => i,
                None => {
                    batches.push((
                        c.kind,
                        AuditBatch {
                            created: 0,
                            updated: 0,
                            deleted: 0,
                            record_ids: Vec::new(),
                        },
                    ));
                    batches.len() - 1
                }
            };
            let b = &mut batches[at].1;
            match a {
                AuditAction::Created => b.created += 1,
                AuditAction::Deleted => b.deleted += 1,
                _ => b.updated += 1,
            }
            b.record_ids.push(c.id.clone());
        }
        return batches
            .into_iter()
            .map(|(kind, b)| {
                let e = entry(kind, None, AuditAction::Batch, Vec::new(), Some(b));
                store_put(&e, Expect::Absent)
            })
            .collect();
    }
    audited
        .into_iter()
        .filter_map(|(c, action)| {
            let fields = diff(c.before.as_ref(), c.after.as_ref());
            if action == AuditAction::Updated && fields.is_empty() {
                return None;
            }
            let e = entry(c.kind, Some(c.id.clone()), action, fields, None);
            Some(store_put(&e, Expect::Absent))
        })
        .collect()
}

/// The top-level fields that differ between two records, in field order, secrets left out.
fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let empty = Map::new();
    let as_map = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        _ => empty.clone(),
    };
    let (before, after) = (as_map(before), as_map(after));
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|f| !SECRET_FIELDS.contains(&f.as_str()) && !IMPLIED_FIELDS.contains(&f.as_str()))
        .filter(|f| before.get(*f) != after.get(*f))
        .map(|f| FieldChange {
            field: f.clone(),
            before: before.get(f).cloned(),
            after: after.get(f).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diff_names_each_changed_field_and_leaves_secrets_out() {
        let before = json!({"id": "p", "name": "Acme", "tier": "gold", "hash": "aa"});
        let after = json!({"id": "p", "name": "Acme Ltd", "stage": "active", "hash": "bb"});
        let d = diff(Some(&before), Some(&after));
        let fields: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "stage", "tier"]);
        assert_eq!(d[0].before, Some(json!("Acme")));
        assert_eq!(d[0].after, Some(json!("Acme Ltd")));
        assert_eq!(d[1].before, None);
        assert_eq!(d[2].after, None);
    }

    #[test]
    fn a_created_record_lists_every_field_and_an_unchanged_one_makes_no_entry() {
        let actor = Actor {
            token_id: Some(Uuid::now_v7()),
            label: "ops".to_owned(),
            request_id: None,
            operation: "POST /regions".to_owned(),
        };
        let record = json!({"id": "r", "name": "North"});
        let created = Change {
            kind: Kind::Region,
            id: "r".to_owned(),
            before: None,
            after: Some(record.clone()),
        };
        let same = Change {
            before: Some(record.clone()),
            ..created.clone()
        };
        let bookkeeping = Change {
            kind: Kind::RunResult,
            ..created.clone()
        };
        let made = entries(&actor, &[created, same, bookkeeping], Utc::now());
        assert_eq!(made.len(), 1, "only the created region is audited");
        let Write::Put { data, indexes, .. } = &made[0] else {
            panic!("an audit entry is a put")
        };
        let entry: AuditEntry = serde_json::from_slice(data).unwrap();
        assert_eq!(entry.action, AuditAction::Created);
        assert_eq!(entry.changes.len(), 2);
        assert!(indexes.contains(&("record".to_owned(), "region/r".to_owned())));
    }
}
