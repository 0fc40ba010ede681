//! Events other systems learn of through webhooks.
//!
//! Events are derived from a commit's record changes (`derived`) so no write path can
//! forget one, and written to the outbox (`outbox_writes`) in the same commit as the
//! change (`audit::commit`): an acknowledged change is never without its event,
//! even across a crash. Delivery reads the outbox afterwards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{OneOfBuilder, Ref, Schema};
use uuid::Uuid;

use serde_json::Value;

use crate::audit::Change;
use crate::records::RunStatus;
use crate::routes::Matched;
use crate::storage::{Expect, Kind, Record, Write, store_put};
use crate::training::TrainingSessionRecord;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// A partner moved to another lifecycle stage.
    #[serde(rename = "partner.stage_changed")]
    PartnerStageChanged,
    /// A process spec version was published.
    #[serde(rename = "spec.published")]
    SpecPublished,
    /// A run finished (done, failed, cancelled or interrupted).
    #[serde(rename = "run.finished")]
    RunFinished,
    /// A CSV import committed.
    #[serde(rename = "import.finished")]
    ImportFinished,
    /// A training session played its last round.
    #[serde(rename = "training.session_finished")]
    TrainingSessionFinished,
    /// A goal was created.
    #[serde(rename = "goal.created")]
    GoalCreated,
}

/// An event about to be written to the outbox.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    /// What happened.
    pub event: EventType,
    /// The event's `data`: the record it is about, as the API shows it.
    pub payload: serde_json::Value,
}

/// An event in the outbox, written in the commit of the change it reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct OutboxEvent {
    /// Time-ordered (UUIDv7), so the outbox reads oldest first; receivers de-duplicate on it.
    pub id: Uuid,
    /// What happened.
    pub event: EventType,
    /// When the change was committed.
    pub occurred_at: DateTime<Utc>,
    /// The record it is about.
    pub data: serde_json::Value,
}

impl Record for OutboxEvent {
    const KIND: Kind = Kind::Outbox;
    fn key(&self) -> String {
        self.id.to_string()
    }
}

/// The events a commit's changes make, each with its record as the API shows it. A
/// backtest is not a run: its end makes no `run.finished`.
pub(crate) fn derived(changes: &[Change]) -> Vec<Event> {
    changes.iter().filter_map(event_of).collect()
}

/// A field of a stored record, if present.
fn field<'a>(record: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    record.and_then(|r| r.get(name))
}

/// The event one record's change makes, if any.
fn event_of(c: &Change) -> Option<Event> {
    let after = c.after.as_ref()?;
    let (before, now) = (c.before.as_ref(), Some(after));
    let event = match c.kind {
        Kind::Partner if before.is_some() && field(before, "stage") != field(now, "stage") => {
            EventType::PartnerStageChanged
        }
        Kind::Spec
            if field(now, "status") == Some(&Value::from("published"))
                && field(before, "status") != field(now, "status") =>
        {
            EventType::SpecPublished
        }
        Kind::Run if final_run(field(now, "status")) && !final_run(field(before, "status")) => {
            EventType::RunFinished
        }
        Kind::TrainingSession
            if !is_null(field(now, "finished_at")) && is_null(field(before, "finished_at")) =>
        {
            return Some(Event {
                event: EventType::TrainingSessionFinished,
                payload: training_view(after),
            });
        }
        Kind::Goal if before.is_none() => EventType::GoalCreated,
        _ => return None,
    };
    Some(Event {
        event,
        payload: after.clone(),
    })
}

fn is_null(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

/// Whether a run's stored `status` is one it ends in.
fn final_run(status: Option<&Value>) -> bool {
    status
        .and_then(|s| serde_json::from_value::<RunStatus>(s.clone()).ok())
        .is_some_and(|s| !s.is_active())
}

/// A training session as `GET /training/sessions/{id}` shows it (never its owner's hash).
fn training_view(stored: &Value) -> Value {
    let record = serde_json::from_value::<TrainingSessionRecord>(stored.clone()).ok();
    match record.and_then(|r| crate::training::exercise(&r.exercise).map(|e| (r, e))) {
        Some((r, e)) => {
            serde_json::to_value(crate::training::view_of(&r, e)).expect("views serialise")
        }
        None => {
            let mut v = stored.clone();
            if let Some(m) = v.as_object_mut() {
                m.remove("owner_hash");
            }
            v
        }
    }
}

/// The `data` of an `import.finished` event: what a CSV import committed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportFinished {
    /// The kind of record imported: `region`, `rep`, `partner`, `contract`, `activity`,
    /// `sales_record`, `goal` or `assessment`.
    #[schema(example = "region")]
    pub kind: &'static str,
    /// How many records the import created.
    pub count: usize,
    /// The reference cells that named a record by its external id or its name, with the
    /// record each matched (as the import's answer lists them).
    pub matched: Vec<Matched>,
}

/// The `import.finished` event of a CSV import of `count` records of `kind`, `matched`
/// being the references it resolved by external id or name.
pub(crate) fn import_finished(kind: Kind, count: usize, matched: &[Matched]) -> Event {
    let data = ImportFinished {
        kind: kind.name(),
        count,
        matched: matched.to_vec(),
    };
    Event {
        event: EventType::ImportFinished,
        payload: serde_json::to_value(data).expect("an import's event serialises"),
    }
}

/// The schema of an event's `data`, by the event's `type`: the record it is about as the
/// API shows it, or for an import what it committed. Deliveries keep the JSON committed with
/// the change, so this only describes it.
pub struct EventData;

/// Schemas by name, as utoipa collects a component's references.
type Schemas = Vec<(String, RefOr<Schema>)>;

/// `T` and every schema it refers to, added to `schemas`.
fn add<T: ToSchema>(schemas: &mut Schemas) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

impl EventData {
    /// The schemas it is one of, in [`EventType`] order, each with its references.
    fn kinds() -> [fn(&mut Schemas); 6] {
        [
            add::<chanlab_shared::Partner>,
            add::<chanlab_shared::ProcessSpec>,
            add::<crate::records::RunRecord>,
            add::<ImportFinished>,
            add::<crate::training::TrainingSessionView>,
            add::<chanlab_shared::Goal>,
        ]
    }
}

impl utoipa::PartialSchema for EventData {
    fn schema() -> RefOr<Schema> {
        let mut one_of = OneOfBuilder::new().description(Some(
            "The record the event is about, by the event's `type`: `partner.stage_changed` a \
             `Partner` (in its new stage), `spec.published` a `ProcessSpec`, `run.finished` a \
             `RunRecord` (its result is at `GET /runs/{id}`), `import.finished` an \
             `ImportFinished`, `training.session_finished` a `TrainingSessionView`, \
             `goal.created` a `Goal`.",
        ));
        for kind in Self::kinds() {
            // The first schema a kind adds is its own; the rest are its references.
            let mut own = Schemas::new();
            kind(&mut own);
            one_of = one_of.item(Ref::from_schema_name(own.swap_remove(0).0));
        }
        one_of.into()
    }
}

impl ToSchema for EventData {
    fn name() -> std::borrow::Cow<'static, str> {
        "EventData".into()
    }

    fn schemas(schemas: &mut Schemas) {
        for kind in Self::kinds() {
            kind(schemas);
        }
    }
}

/// The outbox records of `events`, committed at `at`.
pub(crate) fn outbox_writes(events: &[Event], at: DateTime<Utc>) -> Vec<Write> {
    events
        .iter()
        .map(|e| {
            store_put(
                &OutboxEvent {
                    id: Uuid::now_v7(),
                    event: e.event,
                    occurred_at: at,
                    data: e.payload.clone(),
                },
                Expect::Absent,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(kind: Kind, before: Option<Value>, after: Option<Value>) -> Change {
        Change {
            kind,
            id: "x".to_owned(),
            before,
            after,
        }
    }

    fn types(changes: &[Change]) -> Vec<EventType> {
        derived(changes).iter().map(|e| e.event).collect()
    }

    #[test]
    fn each_event_comes_from_its_change_only() {
        let partner = |stage: &str| Some(json!({"id": "p", "stage": stage}));
        assert_eq!(
            types(&[change(
                Kind::Partner,
                partner("prospect"),
                partner("active")
            )]),
            [EventType::PartnerStageChanged]
        );
        assert!(types(&[change(Kind::Partner, partner("active"), partner("active"))]).is_empty());
        assert!(types(&[change(Kind::Partner, None, partner("active"))]).is_empty());
        let spec = |status: &str| Some(json!({"id": "s", "status": status}));
        assert_eq!(
            types(&[
                change(Kind::Spec, spec("draft"), spec("published")),
                // The retired version and the version record make no second event.
                change(Kind::SpecVersion, spec("published"), spec("retired")),
                change(Kind::SpecVersion, None, spec("published")),
            ]),
            [EventType::SpecPublished]
        );
        let run = |status: &str| Some(json!({"id": "r", "status": status}));
        assert_eq!(
            types(&[change(Kind::Run, run("running"), run("done"))]),
            [EventType::RunFinished]
        );
        assert!(types(&[change(Kind::Run, run("queued"), run("running"))]).is_empty());
        assert!(types(&[change(Kind::Run, run("done"), run("done"))]).is_empty());
        assert!(types(&[change(Kind::Backtest, run("running"), run("done"))]).is_empty());
        let goal = Some(json!({"id": "g"}));
        assert_eq!(
            types(&[change(Kind::Goal, None, goal.clone())]),
            [EventType::GoalCreated]
        );
        assert!(types(&[change(Kind::Goal, goal.clone(), goal)]).is_empty());
        let session = |finished: Value| {
            Some(json!({"id": "t", "exercise": "none", "owner_hash": "h", "finished_at": finished}))
        };
        let finished = derived(&[change(
            Kind::TrainingSession,
            session(Value::Null),
            session(json!("2027-01-01T00:00:00Z")),
        )]);
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].event, EventType::TrainingSessionFinished);
        assert!(
            finished[0].payload.get("owner_hash").is_none(),
            "never the owner's hash"
        );
    }
}
