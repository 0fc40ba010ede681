//! `/activities`: the key-link events reps log. A rep logs and edits its own, only with
//! partners it owns; regional managers read those of their region's reps.

use std::collections::HashSet;

use actix_web::web;

use chanlab_shared::{
    Activity, ActivityId, ActivityKind, ActivityOutcome, ExternalId, Notes, Partner, PartnerId,
    Rep, RepId,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{Row, date_cell, enum_cell, external_cell};
use super::layer::{self, CsvResource, ListPlan, Op, Refs, Resource, Verb};
use super::{page_type, query_enum, query_value};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::problem::FieldError;
use crate::storage::{CommitError, Kind, Store, index_key};

use Access::{No, Own, Yes};

/// Registers the activity routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    layer::configure_csv::<Activity>(cfg);
    layer::configure::<Activity>(cfg);
}

/// An activity as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rep_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02", "partner_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "date": "2026-11-12", "kind": "visit", "outcome": "completed", "notes": "Agreed a joint webinar in Q1."}))]
pub struct ActivityInput {
    /// The rep who did it.
    pub rep_id: RepId,
    /// The partner it was with.
    pub partner_id: PartnerId,
    /// The day it happened.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// What kind of activity it was.
    pub kind: ActivityKind,
    /// How it went.
    pub outcome: ActivityOutcome,
    /// Free-text notes.
    #[serde(default)]
    pub notes: Notes,
    /// The activity's code in another system (a CRM's), unique among activities.
    #[serde(default)]
    pub external_id: Option<ExternalId>,
}

page_type!(ActivityPage, Activity, "A page of activities.");

/// Filters of `GET /activities`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return activities after this id (from the `next` link).
    pub after: Option<String>,
    /// Only activities of this rep.
    #[param(value_type = Option<chanlab_shared::RepId>)]
    pub rep_id: Option<String>,
    /// Only activities with this partner.
    #[param(value_type = Option<chanlab_shared::PartnerId>)]
    pub partner_id: Option<String>,
    /// Only activities of this kind (e.g. `visit`).
    #[param(value_type = Option<chanlab_shared::ActivityKind>)]
    pub kind: Option<String>,
    /// Only activities on or after this day (`2026-11-01`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Only activities on or before this day (`2026-11-30`).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only the activity with this external id.
    #[param(value_type = Option<chanlab_shared::ExternalId>)]
    pub external_id: Option<String>,
}

layer::paged!(ActivityQuery);

fn date_param(name: &str, value: &Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
                ApiError::BadRequest(format!(
                    "query parameter {name}: expected a date such as 2026-11-01, found {v:?}"
                ))
            })
        })
        .transpose()
}

impl Resource for Activity {
    const NAME: &'static str = "activity";
    const NOUN: &'static str = "activity";
    const PLURAL: &'static str = "activities";
    const PATH: &'static str = "/activities";
    const TAG: &'static str = "activities";
    const OPS: &'static [Op] = &[
        Op::new(
            Verb::Create,
            "create_activity",
            [Yes, No, No, Own, No, No],
            "Creates an activity.",
        ),
        Op::new(
            Verb::List,
            "list_activities",
            [Yes, Yes, Own, Own, Yes, No],
            "Lists activities, optionally of one partner.",
        ),
        Op::new(
            Verb::Get,
            "get_activity",
            [Yes, Yes, Own, Own, Yes, No],
            "Reads an activity.",
        ),
        Op::new(
            Verb::Update,
            "update_activity",
            [Yes, No, No, Own, No, No],
            "Replaces an activity.",
        ),
        Op::new(
            Verb::Delete,
            "delete_activity",
            [Yes, No, No, Own, No, No],
            "Deletes an activity.",
        ),
    ];

    type Id = ActivityId;
    type Input = ActivityInput;
    type Query = ActivityQuery;
    type Page = ActivityPage;
    type Draft = Activity;
    /// The reps of the caller's region, for a regional manager; empty otherwise.
    type Context = HashSet<RepId>;

    const CONTEXT_SCANS: bool = true;

    fn new_id() -> ActivityId {
        ActivityId::new()
    }

    fn draft(id: ActivityId, i: ActivityInput) -> Result<Activity, ApiError> {
        Ok(Activity {
            created_by: None,
            updated_by: None,
            id,
            rep_id: i.rep_id,
            partner_id: i.partner_id,
            date: i.date,
            kind: i.kind,
            outcome: i.outcome,
            notes: i.notes,
            external_id: i.external_id,
        })
    }

    fn finish(draft: Activity, _current: Option<&Activity>) -> Result<Activity, ApiError> {
        Ok(draft)
    }

    /// A rep logs and edits only its own activities.
    fn check_draft(caller: &Caller, access: Access, draft: &Activity) -> Result<(), ApiError> {
        if Self::in_scope(caller, access, draft, &HashSet::new()) {
            Ok(())
        } else {
            Err(caller.principal.out_of_scope("another rep's activities"))
        }
    }

    /// A rep's own activities; a regional manager's, those of its region's reps.
    fn in_scope(
        caller: &Caller,
        access: Access,
        activity: &Activity,
        region_reps: &HashSet<RepId>,
    ) -> bool {
        match (access, caller.principal) {
            (Access::Yes, _) => true,
            (Access::Own, Principal::Rep(rep)) => activity.rep_id == rep,
            (Access::Own, Principal::RegionalManager(_)) => region_reps.contains(&activity.rep_id),
            _ => false,
        }
    }

    /// A rep logs activities only with partners it owns: another rep's partner answers as
    /// an unknown one does (the 422 on `partner_id` the commit gives a missing partner), so
    /// the answer does not tell the rep that the partner exists. The partner is read in the
    /// same blocking work as the commit; a reassignment committed in between leaves an
    /// activity logged while the rep still owned the partner, which is what it records.
    fn check_write(
        store: &Store,
        caller: &Caller,
        access: Access,
        next: &Activity,
        _replacing: Option<ActivityId>,
    ) -> Result<(), ApiError> {
        let (Access::Own, Principal::Rep(rep)) = (access, caller.principal) else {
            return Ok(());
        };
        let partner = next.partner_id.to_string();
        let owned = store
            .get::<Partner>(&partner)?
            .is_some_and(|(p, _)| p.owner_rep_id == Some(rep));
        if owned {
            Ok(())
        } else {
            Err(ApiError::from_commit(
                CommitError::MissingReference {
                    kind: Kind::Partner,
                    id: partner,
                },
                &Self::field_of,
            ))
        }
    }

    fn context(store: &Store, caller: &Caller) -> Result<HashSet<RepId>, ApiError> {
        Ok(match caller.principal {
            Principal::RegionalManager(r) => store
                .all::<Rep>(Some(("region", &r.to_string())))?
                .into_iter()
                .map(|rep| rep.id)
                .collect(),
            _ => HashSet::new(),
        })
    }

    fn list_plan(
        q: ActivityQuery,
        caller: &Caller,
        access: Access,
    ) -> Result<ListPlan<Activity>, ApiError> {
        let mut rep: Option<RepId> = query_value("rep_id", &q.rep_id)?;
        let partner: Option<PartnerId> = query_value("partner_id", &q.partner_id)?;
        let kind: Option<ActivityKind> = query_enum("kind", &q.kind)?;
        let from = date_param("from", &q.from)?;
        let to = date_param("to", &q.to)?;
        let external: Option<ExternalId> = query_value("external_id", &q.external_id)?;
        if let (Access::Own, Principal::Rep(own)) = (access, caller.principal) {
            if rep.is_some_and(|r| r != own) {
                return Err(caller.principal.out_of_scope("another rep's activities"));
            }
            rep = Some(own);
        }
        let index = layer::external_index(&external)
            .or(rep.map(|r| ("rep", r.to_string())))
            .or(partner.map(|p| ("partner", p.to_string())))
            .or(kind.map(|k| ("kind", index_key::activity_kind(k).to_owned())));
        Ok(ListPlan {
            index,
            keep: Box::new(move |a: &Activity| {
                rep.is_none_or(|r| a.rep_id == r)
                    && partner.is_none_or(|p| a.partner_id == p)
                    && kind.is_none_or(|k| a.kind == k)
                    && from.is_none_or(|d| a.date >= d)
                    && to.is_none_or(|d| a.date <= d)
                    && external
                        .as_ref()
                        .is_none_or(|e| a.external_id.as_ref() == Some(e))
            }),
        })
    }
}

/// The columns of the activities CSV.
pub const ACTIVITY_COLUMNS: [&str; 10] = [
    "id",
    "external_id",
    "rep_id",
    "rep_name",
    "partner_id",
    "partner_name",
    "date",
    "kind",
    "outcome",
    "notes",
];

/// A unit enum's snake_case name, as its JSON and the import's cells write it.
fn wire_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl CsvResource for Activity {
    const CSV_OPS: &'static [Op] = &[
        Op::new(Verb::Import, "import_activities", [Yes, No, No, Own, No, No], "Imports activities from CSV (`id` may be empty for a new id; `rep_id` and `partner_id`\nhold an id, external id or name). A rep imports only its own. All rows or none.").conflicts(),
        Op::new(Verb::Export, "export_activities", [Yes, Yes, Own, Own, Yes, No], "Exports activities as CSV, in the import's columns."),
    ];
    const COLUMNS: &'static [&'static str] = &ACTIVITY_COLUMNS;
    const OPTIONAL_COLUMNS: &'static [&'static str] =
        &["id", "external_id", "rep_name", "partner_name", "notes"];
    const FILE_NAME: &'static str = "activities.csv";
    const REFERENCES: &'static [Kind] = &[Kind::Rep, Kind::Partner];

    fn to_row(&self, refs: &Refs) -> Vec<String> {
        vec![
            self.id.to_string(),
            external_cell(&self.external_id),
            self.rep_id.to_string(),
            refs.name(Kind::Rep, self.rep_id),
            self.partner_id.to_string(),
            refs.name(Kind::Partner, self.partner_id),
            self.date.to_string(),
            wire_name(self.kind),
            wire_name(self.outcome),
            self.notes.as_str().to_owned(),
        ]
    }

    /// An activity per row; a rep's name is matched among all reps (the row names no
    /// region), and a rep may import only its own activities.
    fn from_row(
        row: &Row,
        errors: &mut Vec<FieldError>,
        caller: &Caller,
        access: Access,
        refs: &mut Refs,
    ) -> Option<Activity> {
        let id = row.optional("id", errors, |t| t.parse::<ActivityId>());
        let external_id = row.optional("external_id", errors, ExternalId::parse);
        let rep = refs.required::<RepId>(row, "rep_id", Kind::Rep, None, errors);
        let partner = refs.required::<PartnerId>(row, "partner_id", Kind::Partner, None, errors);
        let date = row.required("date", errors, date_cell);
        let kind = row.required("kind", errors, enum_cell::<ActivityKind>);
        let outcome = row.required("outcome", errors, enum_cell::<ActivityOutcome>);
        let notes = row.optional("notes", errors, Notes::parse);
        let (
            Ok(id),
            Ok(external_id),
            Some(rep_id),
            Some(partner_id),
            Some(date),
            Some(kind),
            Some(outcome),
            Ok(notes),
        ) = (id, external_id, rep, partner, date, kind, outcome, notes)
        else {
            return None;
        };
        let activity = Activity {
            created_by: None,
            updated_by: None,
            id: id.unwrap_or_else(ActivityId::new),
            rep_id,
            partner_id,
            date,
            kind,
            outcome,
            notes: notes.unwrap_or_default(),
            external_id,
        };
        if !Self::in_scope(caller, access, &activity, &HashSet::new()) {
            row.error(
                errors,
                "rep_id",
                "another rep's activity: a rep imports only its own",
            );
        }
        Some(activity)
    }
}
