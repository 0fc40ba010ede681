//! `/sales-records`: what each partner bought from us (sell-in) and sold on (sell-through)
//! per month; one record per partner and month, and one currency per partner: a record in
//! another currency than the partner's other records is a 409 naming `sell_in`, because
//! amounts in two currencies cannot be summed into the partner's history.

use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_shared::{Currency, Money, Month, PartnerId, SalesRecord, SalesRecordId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

use super::csv_io::{self, CsvBody, ImportReport};
use super::{
    Cursor, Serial, created, default_field, delete_record, invalid, next_link, page_type,
    query_value, resource, update_record, write, write_serialised,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch, path_id};
use crate::problem::FieldError;
use crate::state::AppState;
use crate::storage::{Expect, Store, store_put};

/// Writes that add or change sales records check the partner's currency against its other
/// records, which no version or unique value in the commit covers, so they check and commit
/// one at a time, across instances too (deletes cannot break the rule and do not take it).
static SALES_WRITES: Serial = Serial::new("sales_records.currency");

/// The currency of `partner`'s stored sales records (other than `except`), when one of them
/// is in another currency than `currency`. Blocking.
fn other_currency(
    s: &Store,
    partner: PartnerId,
    currency: Currency,
    except: Option<SalesRecordId>,
) -> Result<Option<Currency>, ApiError> {
    Ok(
        s.all::<SalesRecord>(Some(("partner", &partner.to_string())))?
            .iter()
            .filter(|r| Some(r.id()) != except)
            .map(|r| r.sell_in().currency())
            .find(|c| *c != currency),
    )
}

/// The conflict of a record in `found` for a partner whose records are in `theirs`.
fn currency_conflict(
    field: String,
    partner: PartnerId,
    theirs: Currency,
    whose: &str,
    found: Currency,
) -> FieldError {
    FieldError {
        field,
        message: format!(
            "partner {partner}'s {whose} in {theirs}, and a partner's sales are recorded in one currency: expected {theirs}, found {found}"
        ),
    }
}

/// A 409 naming `sell_in` when `record` is in another currency than its partner's other
/// stored records. Blocking.
fn check_currency(
    s: &Store,
    record: &SalesRecord,
    except: Option<SalesRecordId>,
) -> Result<(), ApiError> {
    let found = record.sell_in().currency();
    match other_currency(s, record.partner_id(), found, except)? {
        Some(theirs) => Err(ApiError::ConflictingFields(vec![currency_conflict(
            "sell_in".to_owned(),
            record.partner_id(),
            theirs,
            "sales records are",
            found,
        )])),
        None => Ok(()),
    }
}

/// Registers the sales record routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/sales-records/import").route(web::post().to(import_sales_records)))
        .service(resource("/sales-records/export.csv").route(web::get().to(export_sales_records)))
        .service(
            resource("/sales-records")
                .route(web::get().to(list_sales_records))
                .route(web::post().to(create_sales_record)),
        )
        .service(
            resource("/sales-records/{id}")
                .route(web::get().to(get_sales_record))
                .route(web::put().to(update_sales_record))
                .route(web::delete().to(delete_sales_record)),
        );
}

/// A sales record as written by a client: everything but the id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"partner_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03", "month": "2026-11", "sell_in": {"amount_minor": 4200000, "currency": "EUR"}, "sell_through": {"amount_minor": 3900000, "currency": "EUR"}}))]
pub struct SalesRecordInput {
    /// The partner.
    pub partner_id: PartnerId,
    /// The month.
    pub month: Month,
    /// What the partner bought from us.
    pub sell_in: Money,
    /// What the partner sold on.
    pub sell_through: Money,
}

page_type!(SalesRecordPage, SalesRecord, "A page of sales records.");

/// Filters of `GET /sales-records`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SalesRecordQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Return records after this id (from the `next` link).
    pub after: Option<String>,
    /// Only records of this partner.
    pub partner_id: Option<String>,
    /// Only months from this one on (`2026-01`).
    pub from: Option<String>,
    /// Only months up to and including this one (`2026-12`).
    pub to: Option<String>,
}

fn build(id: SalesRecordId, i: SalesRecordInput) -> Result<SalesRecord, ApiError> {
    SalesRecord::new(id, i.partner_id, i.month, i.sell_in, i.sell_through).map_err(invalid)
}

/// The columns of the sales CSV; amounts are decimals in `currency`.
pub const SALES_COLUMNS: [&str; 6] = [
    "id",
    "partner_id",
    "month",
    "currency",
    "sell_in",
    "sell_through",
];

/// Creates a sales record; one per partner and month (409 for a second), in the currency of
/// the partner's other records (409 naming `sell_in` otherwise).
#[utoipa::path(post, path = "/sales-records", tag = "sales", operation_id = "create_sales_record",
    request_body = SalesRecordInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Created.", body = SalesRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = super::responses::Conflict),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_sales_record(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<SalesRecordInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_sales_record")?;
    let record = build(SalesRecordId::new(), body.value)?;
    let location = format!("/sales-records/{}", record.id());
    write_serialised(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        &SALES_WRITES,
        move |s| {
            check_currency(s, &record, None)?;
            Ok((
                vec![store_put(&record, Expect::Absent)],
                created(&record, location),
            ))
        },
    )
    .await
}

/// Lists sales records, optionally of one partner.
#[utoipa::path(get, path = "/sales-records", tag = "sales", operation_id = "list_sales_records",
    params(SalesRecordQuery),
    responses(
        (status = 200, description = "A page of sales records.", body = SalesRecordPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_sales_records(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<SalesRecordQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_sales_records")?;
    let limit = Cursor {
        limit: query.limit,
        after: None,
    }
    .limit()?;
    let partner: Option<PartnerId> = query_value("partner_id", &query.partner_id)?;
    let from: Option<Month> = query_value("from", &query.from)?;
    let to: Option<Month> = query_value("to", &query.to)?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| {
            let partner = partner.map(|p| p.to_string());
            s.list::<SalesRecord>(
                partner.as_deref().map(|p| ("partner", p)),
                after.as_deref(),
                limit,
                &|r: &SalesRecord| {
                    from.is_none_or(|m| r.month() >= m) && to.is_none_or(|m| r.month() <= m)
                },
            )
        })
        .await??;
    Ok(HttpResponse::Ok().json(SalesRecordPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads a sales record.
#[utoipa::path(get, path = "/sales-records/{id}", tag = "sales", operation_id = "get_sales_record",
    params(("id" = String, Path, description = "The sales record's id.")),
    responses(
        (status = 200, description = "The sales record.", body = SalesRecord, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_sales_record(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_sales_record")?;
    let id: SalesRecordId = path_id("sales_record", &id)?;
    super::read_one::<SalesRecord>(
        &state.store,
        &caller,
        access,
        "sales_record",
        &id.to_string(),
        |_| true,
    )
}

/// Replaces a sales record; it must stay in the currency of the partner's other records
/// (409 naming `sell_in` otherwise).
#[utoipa::path(put, path = "/sales-records/{id}", tag = "sales", operation_id = "update_sales_record",
    params(("id" = String, Path, description = "The sales record's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the sales record changed since.")),
    request_body = SalesRecordInput,
    responses(
        (status = 200, description = "Updated.", body = SalesRecord, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn update_sales_record(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    body: Body<SalesRecordInput>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_sales_record")?;
    let id: SalesRecordId = path_id("sales_record", &id)?;
    let next = build(id, body.value)?;
    write_serialised(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        &SALES_WRITES,
        move |s| {
            update_record::<SalesRecord>(s, &id.to_string(), if_match.0, "sales_record", |_| {
                check_currency(s, &next, Some(id))?;
                Ok(next)
            })
        },
    )
    .await
}

/// Deletes a sales record.
#[utoipa::path(delete, path = "/sales-records/{id}", tag = "sales", operation_id = "delete_sales_record",
    params(("id" = String, Path, description = "The sales record's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the sales record changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_sales_record(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_sales_record")?;
    let id: SalesRecordId = path_id("sales_record", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            delete_record::<SalesRecord>(s, &id.to_string(), if_match.0, "sales_record", |_| Ok(()))
        },
    )
    .await
}

/// Imports sales records from CSV (`id` may be empty for a new id); amounts are decimals in
/// the row's currency, e.g. `1250.50`. Every row is checked first (including one record per
/// partner and month, in the file and against the store); all are imported or none.
///
/// A row in another currency than its partner's stored records, or than the partner's first
/// row in the file when it has none, is a 409 naming `rows[<line>].sell_in` (once every row
/// passes the 422 checks).
#[utoipa::path(post, path = "/sales-records/import", tag = "sales", operation_id = "import_sales_records",
    request_body(content = String, content_type = "text/csv", description = "Columns: id,partner_id,month,currency,sell_in,sell_through."),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the first result and imports nothing new.")),
    responses(
        (status = 201, description = "Every row was imported.", body = ImportReport),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 409, response = super::responses::Conflict),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn import_sales_records(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: CsvBody,
) -> Result<HttpResponse, ApiError> {
    caller.allow("import_sales_records")?;
    let rows = csv_io::read(&body.0, &SALES_COLUMNS)?;
    let mut errors = Vec::new();
    let mut records: Vec<(usize, SalesRecord)> = Vec::new();
    for row in &rows {
        let id = row.optional("id", &mut errors, |t| t.parse::<SalesRecordId>());
        let partner = row.required("partner_id", &mut errors, |t| t.parse::<PartnerId>());
        let month = row.required("month", &mut errors, |t| t.parse::<Month>());
        let currency = row.required("currency", &mut errors, Currency::parse);
        let Some(currency) = currency else { continue };
        let sell_in = row.required("sell_in", &mut errors, |t| {
            Money::parse_decimal(t, currency)
        });
        let sell_through = row.required("sell_through", &mut errors, |t| {
            Money::parse_decimal(t, currency)
        });
        if let (Ok(id), Some(partner), Some(month), Some(sell_in), Some(sell_through)) =
            (id, partner, month, sell_in, sell_through)
        {
            match SalesRecord::new(
                id.unwrap_or_else(SalesRecordId::new),
                partner,
                month,
                sell_in,
                sell_through,
            ) {
                Ok(record) => {
                    if records
                        .iter()
                        .any(|(_, r)| r.partner_id() == partner && r.month() == month)
                    {
                        row.error(
                            &mut errors,
                            "month",
                            format!("the file has two rows for partner {partner} in {month}"),
                        );
                    }
                    records.push((row.line, record));
                }
                Err(e) => row.error(&mut errors, e.field(), e.message()),
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    write_serialised(
        &state,
        &caller,
        idem,
        &req,
        &body.0,
        default_field,
        &SALES_WRITES,
        move |s| {
            let mut errors = Vec::new();
            let mut conflicts = Vec::new();
            // Each partner's currency: its stored records', or its first row's in the file.
            let mut currency: HashMap<PartnerId, (Currency, Option<usize>)> = HashMap::new();
            for (line, r) in &records {
                if s.get::<chanlab_shared::Partner>(&r.partner_id().to_string())?
                    .is_none()
                {
                    errors.push(FieldError {
                        field: format!("rows[{line}].partner_id"),
                        message: format!("no partner with id {}", r.partner_id()),
                    });
                    continue;
                }
                let existing =
                    s.all::<SalesRecord>(Some(("partner", &r.partner_id().to_string())))?;
                let found = r.sell_in().currency();
                let (theirs, first_line) =
                    *currency
                        .entry(r.partner_id())
                        .or_insert_with(|| match existing.first() {
                            Some(e) => (e.sell_in().currency(), None),
                            None => (found, Some(*line)),
                        });
                let stored_other = existing
                    .iter()
                    .map(|e| e.sell_in().currency())
                    .find(|c| *c != found);
                match (stored_other, first_line) {
                    (Some(stored), _) => conflicts.push(currency_conflict(
                        format!("rows[{line}].sell_in"),
                        r.partner_id(),
                        stored,
                        "sales records are",
                        found,
                    )),
                    (None, Some(first)) if theirs != found => conflicts.push(currency_conflict(
                        format!("rows[{line}].sell_in"),
                        r.partner_id(),
                        theirs,
                        &format!("first row in this file (line {first}) is"),
                        found,
                    )),
                    _ => {}
                }
                if existing
                    .iter()
                    .any(|e| e.month() == r.month() || e.id() == r.id())
                {
                    errors.push(FieldError {
                        field: format!("rows[{line}].month"),
                        message: format!(
                            "partner {} already has a sales record for {}",
                            r.partner_id(),
                            r.month()
                        ),
                    });
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            if !conflicts.is_empty() {
                return Err(ApiError::ConflictingFields(conflicts));
            }
            Ok(super::csv_io::imported(&records))
        },
    )
    .await
}

/// Exports sales records as CSV, in the import's columns.
#[utoipa::path(get, path = "/sales-records/export.csv", tag = "sales", operation_id = "export_sales_records",
    responses(
        (status = 200, description = "The sales records as CSV.", body = String, content_type = "text/csv"),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn export_sales_records(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.allow("export_sales_records")?;
    let records = state.store.run(|s| s.all::<SalesRecord>(None)).await??;
    let rows = records
        .into_iter()
        .map(|r| {
            vec![
                r.id().to_string(),
                r.partner_id().to_string(),
                r.month().to_string(),
                r.sell_in().currency().to_string(),
                csv_io::decimal(r.sell_in()),
                csv_io::decimal(r.sell_through()),
            ]
        })
        .collect();
    Ok(csv_io::respond("sales-records.csv", &SALES_COLUMNS, rows))
}
