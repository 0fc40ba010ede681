//! `/goals`: targets for a rep, partner or region over a period, on a metric.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{
    Goal, GoalId, GoalStrategyKind, Metric, PartnerId, Period, ProcessSpecId, Quantity, RegionId,
    RepId, Scope,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    Cursor, create_record, default_field, delete_record, invalid, next_link, page_type,
    query_value, resource, update_record, write,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::state::AppState;

/// Registers the goal routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/goals")
            .route(web::get().to(list_goals))
            .route(web::post().to(create_goal)),
    )
    .service(
        resource("/goals/{id}")
            .route(web::get().to(get_goal))
            .route(web::put().to(update_goal))
            .route(web::delete().to(delete_goal)),
    );
}

/// A goal as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scope": {"kind": "rep", "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}, "period": "2026-Q4", "metric": "visits", "target": {"count": 24}, "strategy": "activity_based"}))]
pub struct GoalInput {
    /// Who the goal is for.
    pub scope: Scope,
    /// The period it covers.
    pub period: Period,
    /// What it measures.
    pub metric: Metric,
    /// The target, in the metric's unit.
    pub target: Quantity,
    /// The strategy that set it (`manual` when set by hand).
    pub strategy: GoalStrategyKind,
    /// The process spec it was set under.
    #[serde(default)]
    pub process_spec_id: Option<ProcessSpecId>,
}

page_type!(GoalPage, Goal, "A page of goals.");

/// Filters of `GET /goals`: at most one scope filter, and a period.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GoalQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return goals after this id (from the `next` link).
    pub after: Option<String>,
    /// Only goals of this rep.
    pub rep_id: Option<String>,
    /// Only goals of this partner.
    pub partner_id: Option<String>,
    /// Only goals of this region.
    pub region_id: Option<String>,
    /// Only goals for this period, e.g. `2026-Q4`.
    pub period: Option<String>,
}

/// The scope filter of a goals or assessments query, as its index value.
pub(crate) fn scope_filter(
    rep: &Option<String>,
    partner: &Option<String>,
    region: &Option<String>,
) -> Result<Option<String>, ApiError> {
    let rep: Option<RepId> = query_value("rep_id", rep)?;
    let partner: Option<PartnerId> = query_value("partner_id", partner)?;
    let region: Option<RegionId> = query_value("region_id", region)?;
    let scopes: Vec<Scope> = [
        rep.map(Scope::Rep),
        partner.map(Scope::Partner),
        region.map(Scope::Region),
    ]
    .into_iter()
    .flatten()
    .collect();
    match scopes.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(crate::storage::scope_key(*one))),
        _ => Err(ApiError::BadRequest(
            "give at most one of rep_id, partner_id and region_id".to_owned(),
        )),
    }
}

/// The request field of a missing reference in a goal or assessment.
pub(crate) fn scoped_field(kind: crate::storage::Kind) -> String {
    use crate::storage::Kind;
    match kind {
        Kind::Rep | Kind::Partner | Kind::Region => "scope.id".to_owned(),
        other => default_field(other),
    }
}

fn build(id: GoalId, i: GoalInput) -> Result<Goal, ApiError> {
    Goal::new(
        id,
        i.scope,
        i.period,
        i.metric,
        i.target,
        i.strategy,
        i.process_spec_id,
    )
    .map_err(invalid)
}

/// Creates a goal.
#[utoipa::path(post, path = "/goals", tag = "goals", operation_id = "create_goal",
    request_body = GoalInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = Goal, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_goal(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<GoalInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_goal")?;
    let goal = build(GoalId::new(), body.value)?;
    let location = format!("/goals/{}", goal.id());
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        scoped_field,
        goal,
        location,
    )
    .await
}

/// Lists goals, optionally of one partner.
#[utoipa::path(get, path = "/goals", tag = "goals", operation_id = "list_goals",
    params(GoalQuery),
    responses(
        (status = 200, description = "A page of goals.", body = GoalPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_goals(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<GoalQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_goals")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let scope = scope_filter(&query.rep_id, &query.partner_id, &query.region_id)?;
    let period: Option<Period> = query_value("period", &query.period)?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| {
            let period_key = period.map(|p| p.to_string());
            let filter = scope
                .as_deref()
                .map(|v| ("scope", v))
                .or(period_key.as_deref().map(|v| ("period", v)));
            s.list::<Goal>(filter, after.as_deref(), limit, &|g: &Goal| {
                period.is_none_or(|p| g.period() == p)
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(GoalPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads a goal.
#[utoipa::path(get, path = "/goals/{id}", tag = "goals", operation_id = "get_goal",
    params(("id" = String, Path, description = "The goal's id.")),
    responses(
        (status = 200, description = "The goal.", body = Goal, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_goal")?;
    let id: GoalId = path_id("goal", &id)?;
    super::read_one::<Goal>(
        &state.store,
        &caller,
        access,
        "goal",
        &id.to_string(),
        |_| true,
    )
}

/// Replaces a goal.
#[utoipa::path(put, path = "/goals/{id}", tag = "goals", operation_id = "update_goal",
    params(("id" = String, Path, description = "The goal's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the goal changed since.")),
    request_body = GoalInput,
    responses(
        (status = 200, description = "Updated.", body = Goal, headers(("ETag" = String))),
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
pub async fn update_goal(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<GoalInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_goal")?;
    let id: GoalId = path_id("goal", &id)?;
    let next = build(id, body.value)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        scoped_field,
        move |s| update_record::<Goal>(s, &id.to_string(), if_match.0, "goal", |_| Ok(next)),
    )
    .await
}

/// Deletes a goal.
#[utoipa::path(delete, path = "/goals/{id}", tag = "goals", operation_id = "delete_goal",
    params(("id" = String, Path, description = "The goal's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the goal changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_goal(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_goal")?;
    let id: GoalId = path_id("goal", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        scoped_field,
        move |s| delete_record::<Goal>(s, &id.to_string(), if_match.0, "goal", |_| Ok(())),
    )
    .await
}
