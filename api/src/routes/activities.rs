//! `/activities`: the key-link events reps log. A rep logs and edits its own; regional
//! managers read those of their region's reps.

use std::collections::HashSet;

use actix_web::web;

use chanlab_shared::{
    Activity, ActivityId, ActivityKind, ActivityOutcome, Notes, PartnerId, Rep, RepId,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::layer::{self, ListPlan, Op, Resource, Verb};
use super::{page_type, query_enum, query_value};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::storage::{Store, index_key};

use Access::{No, Own, Yes};

/// Registers the activity routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
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
}

page_type!(ActivityPage, Activity, "A page of activities.");

/// Filters of `GET /activities`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return activities after this id (from the `next` link).
    pub after: Option<String>,
    /// Only activities of this rep.
    pub rep_id: Option<String>,
    /// Only activities with this partner.
    pub partner_id: Option<String>,
    /// Only activities of this kind (e.g. `visit`).
    pub kind: Option<String>,
    /// Only activities on or after this day (`2026-11-01`).
    pub from: Option<String>,
    /// Only activities on or before this day (`2026-11-30`).
    pub to: Option<String>,
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
            id,
            rep_id: i.rep_id,
            partner_id: i.partner_id,
            date: i.date,
            kind: i.kind,
            outcome: i.outcome,
            notes: i.notes,
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
        if let (Access::Own, Principal::Rep(own)) = (access, caller.principal) {
            if rep.is_some_and(|r| r != own) {
                return Err(caller.principal.out_of_scope("another rep's activities"));
            }
            rep = Some(own);
        }
        let index = rep
            .map(|r| ("rep", r.to_string()))
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
            }),
        })
    }
}
