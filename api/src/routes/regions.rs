//! `/regions`: the regional units and their managers.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{Name, Region, RegionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    Cursor, create_record, default_field, delete_record, next_link, page_type, resource,
    update_record, write,
};
use crate::auth::{Access, Caller, Principal};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::state::AppState;

/// Registers the region routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/regions")
            .route(web::get().to(list_regions))
            .route(web::post().to(create_region)),
    )
    .service(
        resource("/regions/{id}")
            .route(web::get().to(get_region))
            .route(web::put().to(update_region))
            .route(web::delete().to(delete_region)),
    );
}

/// A region as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Nordics", "regional_manager": "Astrid Berg"}))]
pub struct RegionInput {
    /// The region's name.
    pub name: Name,
    /// The regional manager, the reps' direct supervisor.
    pub regional_manager: Name,
}

page_type!(RegionPage, Region, "A page of regions.");

/// Creates a region.
#[utoipa::path(post, path = "/regions", tag = "regions", operation_id = "create_region",
    request_body = RegionInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = Region, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_region(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<RegionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_region")?;
    let input = body.value;
    let region = Region {
        id: RegionId::new(),
        name: input.name,
        regional_manager: input.regional_manager,
    };
    let location = format!("/regions/{}", region.id);
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        region,
        location,
    )
    .await
}

/// Lists regions (a regional manager sees only its own).
#[utoipa::path(get, path = "/regions", tag = "regions", operation_id = "list_regions",
    params(Cursor),
    responses(
        (status = 200, description = "A page of regions.", body = RegionPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_regions(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_regions")?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let own = match (access, caller.principal) {
        (Access::Own, Principal::RegionalManager(r)) => Some(r),
        _ => None,
    };
    let page = state
        .store
        .run(move |s| {
            s.list::<Region>(None, after.as_deref(), limit, &|r: &Region| {
                own.is_none_or(|o| o == r.id)
            })
        })
        .await??;
    Ok(HttpResponse::Ok().json(RegionPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

fn check_scope(caller: &Caller, access: Access, region: &Region) -> Result<(), ApiError> {
    match (access, caller.principal) {
        (Access::Yes, _) => Ok(()),
        (Access::Own, Principal::RegionalManager(r)) if r == region.id => Ok(()),
        _ => Err(caller
            .principal
            .out_of_scope(&format!("region {}", region.id))),
    }
}

/// Reads a region.
#[utoipa::path(get, path = "/regions/{id}", tag = "regions", operation_id = "get_region",
    params(("id" = String, Path, description = "The region's id.")),
    responses(
        (status = 200, description = "The region.", body = Region, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_region(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_region")?;
    let id: RegionId = path_id("region", &id)?;
    super::read_one::<Region>(
        &state.store,
        &caller,
        access,
        "region",
        &id.to_string(),
        |r| check_scope(&caller, access, r).is_ok(),
    )
}

/// Replaces a region's name and manager. Send `If-Match` with the ETag you read.
#[utoipa::path(put, path = "/regions/{id}", tag = "regions", operation_id = "update_region",
    params(("id" = String, Path, description = "The region's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the region changed since.")),
    request_body = RegionInput,
    responses(
        (status = 200, description = "Updated.", body = Region, headers(("ETag" = String))),
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
pub async fn update_region(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<RegionInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_region")?;
    let id: RegionId = path_id("region", &id)?;
    let input = body.value;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |s| {
            update_record::<Region>(s, &id.to_string(), if_match.0, "region", |_| {
                Ok(Region {
                    id,
                    name: input.name,
                    regional_manager: input.regional_manager,
                })
            })
        },
    )
    .await
}

/// Deletes a region that no rep, partner, goal or token refers to (409 otherwise).
#[utoipa::path(delete, path = "/regions/{id}", tag = "regions", operation_id = "delete_region",
    params(("id" = String, Path, description = "The region's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the region changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_region(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_region")?;
    let id: RegionId = path_id("region", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| delete_record::<Region>(s, &id.to_string(), if_match.0, "region", |_| Ok(())),
    )
    .await
}
