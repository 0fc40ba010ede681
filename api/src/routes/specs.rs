//! `/process-specs`: the channel manager's published rules, versioned.
//!
//! A spec starts as a draft (version 1). `PUT` edits a draft in place; on a published spec it
//! starts a new draft version instead, so a published version is never changed. `POST
//! .../publish` publishes the draft and retires the version it replaces. Regional managers
//! see published versions only.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{
    Activity, Partner, Period, PositiveCount, ProcessRules, ProcessSpec, ProcessSpecId, RegionId,
    Rep, RepId, SpecStatus,
};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;

use super::{
    Cursor, Outcome, check_if_match, default_field, json_with_etag, next_link, page_type, resource,
    write,
};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::records::SpecVersion;
use crate::state::AppState;
use crate::storage::{Expect, Store, Write, store_put};
use chanlab_shared::scorecard::{self, ComplianceReport, ComplianceRow};

/// Registers the process spec routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/process-specs")
            .route(web::get().to(list_process_specs))
            .route(web::post().to(create_process_spec)),
    )
    .service(
        resource("/process-specs/{id}")
            .route(web::get().to(get_process_spec))
            .route(web::put().to(update_process_spec)),
    )
    .service(resource("/process-specs/{id}/publish").route(web::post().to(publish_process_spec)))
    .service(
        resource("/process-specs/{id}/versions").route(web::get().to(list_process_spec_versions)),
    )
    .service(
        resource("/process-specs/{id}/versions/{version}")
            .route(web::get().to(get_process_spec_version)),
    )
    .service(
        resource("/process-specs/{id}/compliance").route(web::get().to(process_spec_compliance)),
    );
}

page_type!(
    ProcessSpecPage,
    ProcessSpec,
    "A page of process specs (one version each)."
);

fn published_only(caller: &Caller, access: Access) -> bool {
    access == Access::Own && matches!(caller.principal, Principal::RegionalManager(_))
}

fn not_found(id: ProcessSpecId) -> ApiError {
    ApiError::NotFound {
        kind: "process_spec",
        id: id.to_string(),
    }
}

/// The current published version of a spec, with its storage version. Blocking.
fn current_published(
    store: &Store,
    id: ProcessSpecId,
) -> Result<Option<(ProcessSpec, u64)>, ApiError> {
    let versions = store.all::<SpecVersion>(Some(("spec", &id.to_string())))?;
    let Some(v) = versions
        .into_iter()
        .rev()
        .find(|v| v.0.status == SpecStatus::Published)
    else {
        return Ok(None);
    };
    let key = SpecVersion::key_of(id, v.0.version.get());
    Ok(store.get::<SpecVersion>(&key)?.map(|(v, n)| (v.0, n)))
}

/// Creates a process spec as a draft, version 1.
#[utoipa::path(post, path = "/process-specs", tag = "process specs", operation_id = "create_process_spec",
    request_body = ProcessRules,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created as a draft.", body = ProcessSpec, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_process_spec(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<ProcessRules>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_process_spec")?;
    let spec = ProcessSpec {
        created_by: None,
        updated_by: None,
        id: ProcessSpecId::new(),
        version: PositiveCount::new(1).expect("1 is positive"),
        status: SpecStatus::Draft,
        published_on: None,
        rules: body.value,
    };
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |_| {
            let location = format!("/process-specs/{}", spec.id);
            let writes = vec![
                store_put(&spec, Expect::Absent),
                store_put(&SpecVersion(spec.clone()), Expect::Absent),
            ];
            Ok((writes, super::created(&spec, location)))
        },
    )
    .await
}

/// Lists process specs, each at its latest version (a regional manager: each at its
/// current published version).
#[utoipa::path(get, path = "/process-specs", tag = "process specs", operation_id = "list_process_specs",
    params(Cursor),
    responses(
        (status = 200, description = "A page of process specs.", body = ProcessSpecPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_process_specs(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_process_specs")?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let published = published_only(&caller, access);
    let (items, next_after) = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            if published {
                let page = s.list::<SpecVersion>(
                    Some((
                        "status",
                        crate::storage::index_key::spec_status(SpecStatus::Published),
                    )),
                    after.as_deref(),
                    limit,
                    &|_| true,
                )?;
                Ok((
                    page.items.into_iter().map(|v| v.0).collect::<Vec<_>>(),
                    page.next_after,
                ))
            } else {
                let page = s.list::<ProcessSpec>(None, after.as_deref(), limit, &|_| true)?;
                Ok((page.items, page.next_after))
            }
        })
        .await??;
    Ok(HttpResponse::Ok().json(ProcessSpecPage {
        next: next_link(&req, next_after),
        items,
    }))
}

/// Reads a process spec at its latest version (a regional manager: its current published
/// version).
#[utoipa::path(get, path = "/process-specs/{id}", tag = "process specs", operation_id = "get_process_spec",
    params(("id" = String, Path, description = "The spec's id.")),
    responses(
        (status = 200, description = "The spec.", body = ProcessSpec, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_process_spec(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_process_spec")?;
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    let published = published_only(&caller, access);
    let found = state
        .store
        .run(move |s| -> Result<_, ApiError> {
            if published {
                current_published(s, id)
            } else {
                Ok(s.get::<ProcessSpec>(&id.to_string())?)
            }
        })
        .await??;
    let (spec, version) = found.ok_or_else(|| not_found(id))?;
    Ok(json_with_etag(&spec, version))
}

/// Changes a spec's rules: a draft is edited in place; a published or retired spec gets a
/// new draft version and stays as it was.
#[utoipa::path(put, path = "/process-specs/{id}", tag = "process specs", operation_id = "update_process_spec",
    params(("id" = String, Path, description = "The spec's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the spec changed since.")),
    request_body = ProcessRules,
    responses(
        (status = 200, description = "The draft with the new rules.", body = ProcessSpec, headers(("ETag" = String))),
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
pub async fn update_process_spec(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<ProcessRules>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_process_spec")?;
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    let rules = body.value;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |s| {
            let (head, version) = s
                .get::<ProcessSpec>(&id.to_string())?
                .ok_or_else(|| not_found(id))?;
            check_if_match(&if_match, version, "process_spec", &id.to_string())?;
            let (next, version_write) = if head.status == SpecStatus::Draft {
                let next = ProcessSpec { rules, ..head };
                let w = store_put(&SpecVersion(next.clone()), Expect::Present);
                (next, w)
            } else {
                let number = PositiveCount::new(head.version.get() + 1).map_err(super::invalid)?;
                let next = ProcessSpec {
                    created_by: None,
                    updated_by: None,
                    id,
                    version: number,
                    status: SpecStatus::Draft,
                    published_on: None,
                    rules,
                };
                let w = store_put(&SpecVersion(next.clone()), Expect::Absent);
                (next, w)
            };
            let outcome = Outcome {
                status: 200,
                version: Some(version + 1),
                body: Some(serde_json::to_value(&next).expect("specs serialise")),
                location: None,
            };
            Ok((
                vec![store_put(&next, Expect::Version(version)), version_write],
                outcome,
            ))
        },
    )
    .await
}

/// Publishes the draft version, retiring the version it replaces. 409 when the latest
/// version is not a draft.
#[utoipa::path(post, path = "/process-specs/{id}/publish", tag = "process specs", operation_id = "publish_process_spec",
    params(("id" = String, Path, description = "The spec's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the spec changed since."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result.")),
    responses(
        (status = 200, description = "Published.", body = ProcessSpec, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn publish_process_spec(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    idem: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    caller.allow("publish_process_spec")?;
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    write(&state, &caller, idem, &req, b"", default_field, move |s| {
        let (head, version) = s
            .get::<ProcessSpec>(&id.to_string())?
            .ok_or_else(|| not_found(id))?;
        check_if_match(&if_match, version, "process_spec", &id.to_string())?;
        if head.status != SpecStatus::Draft {
            return Err(ApiError::Conflict {
                detail: format!(
                    "version {} is already {}; PUT a change to start a new draft version",
                    head.version,
                    if head.status == SpecStatus::Published {
                        "published"
                    } else {
                        "retired"
                    }
                ),
                allowed: Vec::new(),
            });
        }
        let mut writes: Vec<Write> = Vec::new();
        if let Some((mut previous, v)) = current_published(s, id)? {
            previous.status = SpecStatus::Retired;
            writes.push(store_put(&SpecVersion(previous), Expect::Version(v)));
        }
        let next = ProcessSpec {
            status: SpecStatus::Published,
            published_on: Some(Utc::now().date_naive()),
            ..head
        };
        writes.push(store_put(&SpecVersion(next.clone()), Expect::Present));
        writes.push(store_put(&next, Expect::Version(version)));
        let outcome = Outcome {
            status: 200,
            version: Some(version + 1),
            body: Some(serde_json::to_value(&next).expect("specs serialise")),
            location: None,
        };
        Ok((writes, outcome))
    })
    .await
}

/// Lists every version of a spec, oldest first (a regional manager: published and retired
/// versions only, and 404 for a spec never published, as reading the spec answers).
#[utoipa::path(get, path = "/process-specs/{id}/versions", tag = "process specs", operation_id = "list_process_spec_versions",
    params(("id" = String, Path, description = "The spec's id.")),
    responses(
        (status = 200, description = "The versions.", body = Vec<ProcessSpec>),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn list_process_spec_versions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_process_spec_versions")?;
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    let published = published_only(&caller, access);
    let versions = state
        .store
        .run(move |s| s.all::<SpecVersion>(Some(("spec", &id.to_string()))))
        .await??;
    let items: Vec<ProcessSpec> = versions
        .into_iter()
        .map(|v| v.0)
        .filter(|v| !published || v.status != SpecStatus::Draft)
        .collect();
    // A spec never published does not exist for a regional manager, as
    // `GET /process-specs/{id}` answers it.
    if items.is_empty() {
        return Err(not_found(id));
    }
    Ok(HttpResponse::Ok().json(items))
}

/// Reads one version of a spec. To a regional manager a draft version is unknown (404).
#[utoipa::path(get, path = "/process-specs/{id}/versions/{version}", tag = "process specs", operation_id = "get_process_spec_version",
    params(("id" = String, Path, description = "The spec's id."), ("version" = u32, Path, description = "The version number, from 1.")),
    responses(
        (status = 200, description = "The version.", body = ProcessSpec, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_process_spec_version(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, u32)>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_process_spec_version")?;
    let (id, number) = path.into_inner();
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    let found = state
        .store
        .get::<SpecVersion>(&SpecVersion::key_of(id, number))?;
    let (spec, version) = found.ok_or_else(|| ApiError::NotFound {
        kind: "process_spec_version",
        id: format!("{id} version {number}"),
    })?;
    if published_only(&caller, access) && spec.0.status == SpecStatus::Draft {
        // Hidden from a regional manager: answered as a version that does not exist.
        return Err(crate::auth::hidden(
            "process_spec_version",
            format!("{id} version {number}"),
        ));
    }
    Ok(json_with_etag(&spec.0, version))
}

/// Parameters of a compliance report.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// The period: `2026-11`, `2026-Q4`, `2026-H2` or `2026`.
    #[param(value_type = chanlab_shared::Period)]
    pub period: String,
}

/// How well each region and rep followed the spec's cadences in a period (its current
/// published version, or its latest version if none is published). A regional manager sees
/// its own region and reps.
#[utoipa::path(get, path = "/process-specs/{id}/compliance", tag = "process specs", operation_id = "process_spec_compliance",
    params(("id" = String, Path, description = "The spec's id."), ComplianceQuery),
    responses(
        (status = 200, description = "Compliance per region and per rep.", body = ComplianceReport),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn process_spec_compliance(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: web::Query<ComplianceQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("process_spec_compliance")?;
    let id: ProcessSpecId = path_id("process_spec", &id)?;
    let period: Period = query
        .period
        .parse()
        .map_err(|e: chanlab_shared::ValidationError| {
            ApiError::BadRequest(format!("query parameter period: {}", e.message()))
        })?;
    let only_region = match (access, caller.principal) {
        (Access::Own, Principal::RegionalManager(r)) => Some(r),
        _ => None,
    };
    let report = state
        .store
        .run(move |s| -> Result<ComplianceReport, ApiError> {
            let spec = match current_published(s, id)? {
                Some((spec, _)) => spec,
                None if only_region.is_some() => return Err(not_found(id)),
                None => {
                    s.get::<ProcessSpec>(&id.to_string())?
                        .ok_or_else(|| not_found(id))?
                        .0
                }
            };
            let partners = s.all::<Partner>(None)?;
            let activities: Vec<Activity> = s
                .all::<Activity>(None)?
                .into_iter()
                .filter(|a| {
                    chanlab_shared::Month::of_date(a.date).is_ok_and(|m| period.contains(m))
                })
                .collect();
            let reps: HashMap<RepId, Rep> =
                s.all::<Rep>(None)?.into_iter().map(|r| (r.id, r)).collect();
            Ok(compliance_report(
                &spec,
                period,
                &partners,
                &activities,
                &reps,
                only_region,
            ))
        })
        .await??;
    Ok(HttpResponse::Ok().json(report))
}

fn row(
    spec: &ProcessSpec,
    period: Period,
    region_id: RegionId,
    rep_id: Option<RepId>,
    partners: &[Partner],
    activities: &[Activity],
) -> ComplianceRow {
    let results = scorecard::cadences(Some(spec), partners, activities, period);
    let required: f64 = results.iter().map(|r| r.required).sum();
    let done: f64 = results
        .iter()
        .map(|r| (r.done as f64).min(r.required))
        .sum();
    ComplianceRow {
        region_id,
        rep_id,
        partners: partners
            .iter()
            .filter(|p| scorecard::managed(p.stage()))
            .count() as u64,
        required,
        done,
        compliance: scorecard::compliance(&results),
    }
}

fn compliance_report(
    spec: &ProcessSpec,
    period: Period,
    partners: &[Partner],
    activities: &[Activity],
    reps: &HashMap<RepId, Rep>,
    only_region: Option<RegionId>,
) -> ComplianceReport {
    let mut by_region: BTreeMap<RegionId, Vec<Partner>> = BTreeMap::new();
    let mut by_rep: BTreeMap<RepId, Vec<Partner>> = BTreeMap::new();
    for p in partners {
        by_region.entry(p.region_id).or_default().push(p.clone());
        if let Some(rep) = p.owner_rep_id {
            by_rep.entry(rep).or_default().push(p.clone());
        }
    }
    let regions = by_region
        .iter()
        .filter(|(r, _)| only_region.is_none_or(|o| o == **r))
        .map(|(region, ps)| row(spec, period, *region, None, ps, activities))
        .collect();
    let reps_rows = by_rep
        .iter()
        .filter_map(|(rep, ps)| {
            let region = reps.get(rep).map(|r| r.region_id)?;
            if only_region.is_some_and(|o| o != region) {
                return None;
            }
            // A rep answers for its partners in its own region, as its scorecard counts
            // them (records stored before the owner-region rule may hold others).
            let ps: Vec<Partner> = ps
                .iter()
                .filter(|p| p.region_id == region)
                .cloned()
                .collect();
            if ps.is_empty() {
                return None;
            }
            let own: Vec<Activity> = activities
                .iter()
                .filter(|a| a.rep_id == *rep)
                .cloned()
                .collect();
            Some(row(spec, period, region, Some(*rep), &ps, &own))
        })
        .collect();
    ComplianceReport {
        process_spec_id: spec.id,
        spec_version: spec.version.get(),
        period,
        regions,
        reps: reps_rows,
    }
}
