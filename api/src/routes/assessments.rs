//! `/assessments`: scorecards of a rep, partner or region for a period against one version
//! of a process spec.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{
    Assessment, AssessmentId, KeyLinkResult, Period, PositiveCount, ProcessSpecId, Scope,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::goals::{scope_filter, scoped_field};
use super::{
    Cursor, create_record, delete_record, invalid, next_link, page_type, query_value, resource,
    update_record, write,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::state::AppState;

/// Registers the assessment routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/assessments")
            .route(web::get().to(list_assessments))
            .route(web::post().to(create_assessment)),
    )
    .service(
        resource("/assessments/{id}")
            .route(web::get().to(get_assessment))
            .route(web::put().to(update_assessment))
            .route(web::delete().to(delete_assessment)),
    );
}

/// An assessment as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scope": {"kind": "rep", "id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}, "period": "2026-Q4", "process_spec_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a08", "spec_version": 1, "results": [{"metric": "visits", "weight": 1.0, "target": {"count": 24}, "actual": {"count": 20}}]}))]
pub struct AssessmentInput {
    /// Who was assessed.
    pub scope: Scope,
    /// The period assessed.
    pub period: Period,
    /// The spec assessed against.
    pub process_spec_id: ProcessSpecId,
    /// The version of that spec.
    pub spec_version: PositiveCount,
    /// The key-link results; weights sum to 1.
    pub results: Vec<KeyLinkResult>,
}

page_type!(AssessmentPage, Assessment, "A page of assessments.");

/// Filters of `GET /assessments`: at most one scope filter, and a period.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return assessments after this id (from the `next` link).
    pub after: Option<String>,
    /// Only assessments of this rep.
    pub rep_id: Option<String>,
    /// Only assessments of this partner.
    pub partner_id: Option<String>,
    /// Only assessments of this region.
    pub region_id: Option<String>,
    /// Only assessments for this period, e.g. `2026-Q4`.
    pub period: Option<String>,
}

fn build(id: AssessmentId, i: AssessmentInput) -> Result<Assessment, ApiError> {
    Assessment::new(
        id,
        i.scope,
        i.period,
        i.process_spec_id,
        i.spec_version,
        i.results,
    )
    .map_err(invalid)
}

/// Creates an assessment.
#[utoipa::path(post, path = "/assessments", tag = "assessments", operation_id = "create_assessment",
    request_body = AssessmentInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = Assessment, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_assessment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<AssessmentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_assessment")?;
    let assessment = build(AssessmentId::new(), body.value)?;
    let location = format!("/assessments/{}", assessment.id());
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        scoped_field,
        assessment,
        location,
    )
    .await
}

/// Lists assessments, optionally of one partner.
#[utoipa::path(get, path = "/assessments", tag = "assessments", operation_id = "list_assessments",
    params(AssessmentQuery),
    responses(
        (status = 200, description = "A page of assessments.", body = AssessmentPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_assessments(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<AssessmentQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_assessments")?;
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
            s.list::<Assessment>(filter, after.as_deref(), limit, &|g: &Assessment| {
                period.is_none_or(|p| g.period() == p)
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(AssessmentPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads an assessment.
#[utoipa::path(get, path = "/assessments/{id}", tag = "assessments", operation_id = "get_assessment",
    params(("id" = String, Path, description = "The assessment's id.")),
    responses(
        (status = 200, description = "The assessment.", body = Assessment, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_assessment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_assessment")?;
    let id: AssessmentId = path_id("assessment", &id)?;
    super::read_one::<Assessment>(
        &state.store,
        &caller,
        access,
        "assessment",
        &id.to_string(),
        |_| true,
    )
}

/// Replaces an assessment.
#[utoipa::path(put, path = "/assessments/{id}", tag = "assessments", operation_id = "update_assessment",
    params(("id" = String, Path, description = "The assessment's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the assessment changed since.")),
    request_body = AssessmentInput,
    responses(
        (status = 200, description = "Updated.", body = Assessment, headers(("ETag" = String))),
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
pub async fn update_assessment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<AssessmentInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_assessment")?;
    let id: AssessmentId = path_id("assessment", &id)?;
    let next = build(id, body.value)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        scoped_field,
        move |s| {
            update_record::<Assessment>(s, &id.to_string(), if_match.0, "assessment", |_| Ok(next))
        },
    )
    .await
}

/// Deletes an assessment.
#[utoipa::path(delete, path = "/assessments/{id}", tag = "assessments", operation_id = "delete_assessment",
    params(("id" = String, Path, description = "The assessment's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the assessment changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_assessment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_assessment")?;
    let id: AssessmentId = path_id("assessment", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        scoped_field,
        move |s| {
            delete_record::<Assessment>(s, &id.to_string(), if_match.0, "assessment", |_| Ok(()))
        },
    )
    .await
}
