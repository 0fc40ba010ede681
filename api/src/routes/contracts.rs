//! `/contracts`: contracts signed with partners.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{
    Contract, ContractId, ContractTerms, Fraction, Money, PartnerId, PeriodLength, PositiveCount,
    RebateTier,
};
use chrono::NaiveDate;
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

/// Registers the contract routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/contracts")
            .route(web::get().to(list_contracts))
            .route(web::post().to(create_contract)),
    )
    .service(
        resource("/contracts/{id}")
            .route(web::get().to(get_contract))
            .route(web::put().to(update_contract))
            .route(web::delete().to(delete_contract)),
    );
}

/// A contract as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "start": "2026-01-01", "term_months": 24, "margin": 0.06, "rebate_tiers": [{"threshold": {"amount_minor": 10000000, "currency": "EUR"}, "rate": 0.01}], "sell_in_target": {"amount_minor": 12000000, "currency": "EUR"}, "target_period": "quarter"}))]
pub struct ContractInput {
    /// The partner who signed it.
    pub partner_id: PartnerId,
    /// First day in force.
    #[schema(value_type = String, format = Date)]
    pub start: NaiveDate,
    /// Length in months.
    pub term_months: PositiveCount,
    /// Partner's margin, e.g. 0.06 for 6%.
    pub margin: Fraction,
    /// Rebate schedule, lowest threshold first.
    #[serde(default)]
    pub rebate_tiers: Vec<RebateTier>,
    /// Sell-in target per target period.
    pub sell_in_target: Money,
    /// The period the target refers to.
    pub target_period: PeriodLength,
}

page_type!(ContractPage, Contract, "A page of contracts.");

/// Filters of `GET /contracts`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return contracts after this id (from the `next` link).
    pub after: Option<String>,
    /// Only contracts of this partner.
    pub partner_id: Option<String>,
}

fn build(id: ContractId, i: ContractInput) -> Result<Contract, ApiError> {
    Contract::new(ContractTerms {
        id,
        partner_id: i.partner_id,
        start: i.start,
        term_months: i.term_months,
        margin: i.margin,
        rebate_tiers: i.rebate_tiers,
        sell_in_target: i.sell_in_target,
        target_period: i.target_period,
    })
    .map_err(invalid)
}

/// Creates a contract.
#[utoipa::path(post, path = "/contracts", tag = "contracts", operation_id = "create_contract",
    request_body = ContractInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = Contract, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_contract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<ContractInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_contract")?;
    let contract = build(ContractId::new(), body.value)?;
    let location = format!("/contracts/{}", contract.id());
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        contract,
        location,
    )
    .await
}

/// Lists contracts, optionally of one partner.
#[utoipa::path(get, path = "/contracts", tag = "contracts", operation_id = "list_contracts",
    params(ContractQuery),
    responses(
        (status = 200, description = "A page of contracts.", body = ContractPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_contracts(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<ContractQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_contracts")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let partner: Option<PartnerId> = query_value("partner_id", &query.partner_id)?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| {
            let partner = partner.map(|p| p.to_string());
            s.list::<Contract>(
                partner.as_deref().map(|p| ("partner", p)),
                after.as_deref(),
                limit,
                &|_| true,
            )
        })
        .await??;
    Ok(HttpResponse::Ok().json(ContractPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads a contract.
#[utoipa::path(get, path = "/contracts/{id}", tag = "contracts", operation_id = "get_contract",
    params(("id" = String, Path, description = "The contract's id.")),
    responses(
        (status = 200, description = "The contract.", body = Contract, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_contract(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_contract")?;
    let id: ContractId = path_id("contract", &id)?;
    super::read_one::<Contract>(
        &state.store,
        &caller,
        access,
        "contract",
        &id.to_string(),
        |_| true,
    )
}

/// Replaces a contract.
#[utoipa::path(put, path = "/contracts/{id}", tag = "contracts", operation_id = "update_contract",
    params(("id" = String, Path, description = "The contract's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the contract changed since.")),
    request_body = ContractInput,
    responses(
        (status = 200, description = "Updated.", body = Contract, headers(("ETag" = String))),
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
pub async fn update_contract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<ContractInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_contract")?;
    let id: ContractId = path_id("contract", &id)?;
    let next = build(id, body.value)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |s| {
            update_record::<Contract>(s, &id.to_string(), if_match.0, "contract", |_| Ok(next))
        },
    )
    .await
}

/// Deletes a contract.
#[utoipa::path(delete, path = "/contracts/{id}", tag = "contracts", operation_id = "delete_contract",
    params(("id" = String, Path, description = "The contract's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the contract changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_contract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_contract")?;
    let id: ContractId = path_id("contract", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| delete_record::<Contract>(s, &id.to_string(), if_match.0, "contract", |_| Ok(())),
    )
    .await
}
