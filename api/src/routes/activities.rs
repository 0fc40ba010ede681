//! `/activities`: the key-link events reps log. A rep logs and edits its own; regional
//! managers read those of their region's reps.

use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashSet;

use chanlab_shared::{
    Activity, ActivityId, ActivityKind, ActivityOutcome, Notes, PartnerId, Rep, RepId,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Cursor, create_record, default_field, delete_record, json_with_etag, next_link, page_type,
    query_value, resource, update_record, write,
};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::state::AppState;

/// Registers the activity routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/activities")
            .route(web::get().to(list_activities))
            .route(web::post().to(create_activity)),
    )
    .service(
        resource("/activities/{id}")
            .route(web::get().to(get_activity))
            .route(web::put().to(update_activity))
            .route(web::delete().to(delete_activity)),
    );
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

fn build(id: ActivityId, i: ActivityInput) -> Result<Activity, ApiError> {
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

/// Whether the caller may see or touch `activity`; `region_reps` are the reps of a regional
/// manager's region.
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

/// The reps of the caller's region, for a regional manager; empty otherwise. Blocking.
fn region_reps(store: &crate::storage::Store, caller: &Caller) -> Result<HashSet<RepId>, ApiError> {
    Ok(match caller.principal {
        Principal::RegionalManager(r) => store
            .all::<Rep>(Some(("region", &r.to_string())))?
            .into_iter()
            .map(|rep| rep.id)
            .collect(),
        _ => HashSet::new(),
    })
}

/// Creates an activity.
#[utoipa::path(post, path = "/activities", tag = "activities", operation_id = "create_activity",
    request_body = ActivityInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = Activity, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<ActivityInput>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("create_activity")?;
    let activity = build(ActivityId::new(), body.value)?;
    if !in_scope(&caller, access, &activity, &HashSet::new()) {
        return Err(caller.principal.out_of_scope("another rep's activities"));
    }
    let location = format!("/activities/{}", activity.id);
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        activity,
        location,
    )
    .await
}

/// Lists activities, optionally of one partner.
#[utoipa::path(get, path = "/activities", tag = "activities", operation_id = "list_activities",
    params(ActivityQuery),
    responses(
        (status = 200, description = "A page of activities.", body = ActivityPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_activities(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<ActivityQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_activities")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let mut rep: Option<RepId> = query_value("rep_id", &query.rep_id)?;
    let partner: Option<PartnerId> = query_value("partner_id", &query.partner_id)?;
    let kind: Option<ActivityKind> = super::query_enum("kind", &query.kind)?;
    let from = date_param("from", &query.from)?;
    let to = date_param("to", &query.to)?;
    if let (Access::Own, Principal::Rep(own)) = (access, caller.principal) {
        if rep.is_some_and(|r| r != own) {
            return Err(caller.principal.out_of_scope("another rep's activities"));
        }
        rep = Some(own);
    }
    let after = query.after.clone();
    let c = caller.clone();
    let page = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            let reps = region_reps(s, &c)?;
            let filter = rep
                .map(|r| ("rep", r.to_string()))
                .or(partner.map(|p| ("partner", p.to_string())))
                .or(kind.map(|k| {
                    (
                        "kind",
                        crate::storage::index_key::activity_kind(k).to_string(),
                    )
                }));
            Ok(s.list::<Activity>(
                filter.as_ref().map(|(i, v)| (*i, v.as_str())),
                after.as_deref(),
                limit,
                &|a: &Activity| {
                    rep.is_none_or(|r| a.rep_id == r)
                        && partner.is_none_or(|p| a.partner_id == p)
                        && kind.is_none_or(|k| a.kind == k)
                        && from.is_none_or(|d| a.date >= d)
                        && to.is_none_or(|d| a.date <= d)
                        && in_scope(&c, access, a, &reps)
                },
            )?)
        })
        .await??;
    Ok(HttpResponse::Ok().json(ActivityPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads an activity.
#[utoipa::path(get, path = "/activities/{id}", tag = "activities", operation_id = "get_activity",
    params(("id" = String, Path, description = "The activity's id.")),
    responses(
        (status = 200, description = "The activity.", body = Activity, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_activity(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_activity")?;
    let id: ActivityId = path_id("activity", &id)?;
    let c = caller.clone();
    let found = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            Ok((s.get::<Activity>(&id.to_string())?, region_reps(s, &c)?))
        })
        .await??;
    let (activity, version) = found.0.ok_or_else(|| ApiError::NotFound {
        kind: "activity",
        id: id.to_string(),
    })?;
    if !in_scope(&caller, access, &activity, &found.1) {
        return Err(caller.principal.out_of_scope(&format!("activity {id}")));
    }
    Ok(json_with_etag(&activity, version))
}

/// Replaces an activity.
#[utoipa::path(put, path = "/activities/{id}", tag = "activities", operation_id = "update_activity",
    params(("id" = String, Path, description = "The activity's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the activity changed since.")),
    request_body = ActivityInput,
    responses(
        (status = 200, description = "Updated.", body = Activity, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn update_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<ActivityInput>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("update_activity")?;
    let id: ActivityId = path_id("activity", &id)?;
    let next = build(id, body.value)?;
    if !in_scope(&caller, access, &next, &HashSet::new()) {
        return Err(caller.principal.out_of_scope("another rep's activities"));
    }
    let c = caller.clone();
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |s| {
            update_record::<Activity>(s, &id.to_string(), if_match.0, "activity", |current| {
                if in_scope(&c, access, current, &HashSet::new()) {
                    Ok(next)
                } else {
                    Err(c.principal.out_of_scope(&format!("activity {id}")))
                }
            })
        },
    )
    .await
}

/// Deletes an activity.
#[utoipa::path(delete, path = "/activities/{id}", tag = "activities", operation_id = "delete_activity",
    params(("id" = String, Path, description = "The activity's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the activity changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_activity(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("delete_activity")?;
    let id: ActivityId = path_id("activity", &id)?;
    let c = caller.clone();
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            delete_record::<Activity>(s, &id.to_string(), if_match.0, "activity", |current| {
                if in_scope(&c, access, current, &HashSet::new()) {
                    Ok(())
                } else {
                    Err(c.principal.out_of_scope(&format!("activity {id}")))
                }
            })
        },
    )
    .await
}
