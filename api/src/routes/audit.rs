//! `GET /audit`: the audit trail, for admins ([`crate::audit`] writes it).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{Cursor, next_link};
use crate::audit::{self, AuditEntry, BATCH_IDS_SHOWN, COMMAND_LINE, record_key};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Kind;

super::page_type!(AuditPage, AuditEntry, "A page of audit entries.");

/// Registers the audit route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/audit").route(web::get().to(list_audit)));
}

/// The audit trail's filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Only changes to records of this collection (`partner`, `goal`, `token`, ...).
    #[param(schema_with = kind_schema)]
    pub kind: Option<String>,
    /// Only changes to this record (needs `kind`).
    pub record_id: Option<String>,
    /// Only changes made with this token (its id), or `command line`.
    #[param(schema_with = actor_schema)]
    pub actor: Option<String>,
    /// Only changes at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Only changes before this time (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return entries after this id: the `next` link of the previous page carries it.
    pub after: Option<String>,
}

/// The collections `kind` names, as the storage calls them.
fn kind_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(Kind::ALL.iter().map(|k| k.name())))
        .build()
}

/// A token id or [`COMMAND_LINE`] (`anyOf`: linters cannot tell a uuid string from that
/// constant apart, so `oneOf` would read as overlapping).
fn actor_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    utoipa::openapi::schema::AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([COMMAND_LINE])),
        )
        .build()
        .into()
}

fn time(name: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    ApiError::BadRequest(format!(
                        "query parameter {name}: {e}; expected an RFC 3339 time such as 2026-12-01T00:00:00Z"
                    ))
                })
        })
        .transpose()
}

impl AuditFilter {
    /// The index to read (the narrowest the filter names), checked.
    fn index(&self) -> Result<Option<(&'static str, String)>, ApiError> {
        if let Some(kind) = &self.kind
            && Kind::from_name(kind).is_none()
        {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
            return Err(ApiError::BadRequest(format!(
                "query parameter kind: no collection is called {kind}; expected one of {}",
                names.join(", ")
            )));
        }
        if let Some(actor) = &self.actor
            && actor != COMMAND_LINE
            && uuid::Uuid::parse_str(actor).is_err()
        {
            return Err(ApiError::BadRequest(format!(
                "query parameter actor: {actor} is neither a token id nor \"{COMMAND_LINE}\""
            )));
        }
        Ok(match (&self.kind, &self.record_id, &self.actor) {
            (Some(kind), Some(id), _) => Some(("record", record_key(kind, id))),
            (None, Some(_), _) => {
                return Err(ApiError::BadRequest(
                    "query parameter record_id needs kind (the record's collection) beside it"
                        .to_owned(),
                ));
            }
            (_, None, Some(actor)) => Some(("actor", actor.clone())),
            (Some(kind), None, None) => Some(("kind", kind.clone())),
            (None, None, None) => None,
        })
    }
}

/// Lists audit entries oldest first: each change a caller made to a record (who, when,
/// which operation, each field before and after), filtered by record, actor and time.
#[utoipa::path(get, path = "/audit", tag = "audit", operation_id = "list_audit",
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of audit entries.", body = AuditPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_audit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_audit")?;
    let filter = query.into_inner();
    let limit = Cursor {
        limit: filter.limit,
        after: None,
    }
    .limit()?;
    let index = filter.index()?;
    let record_id = filter.record_id.clone();
    let range = audit::Range {
        index,
        since: time("since", &filter.since)?,
        until: time("until", &filter.until)?,
        after: filter.after,
        kind: filter.kind,
        actor: filter.actor,
        limit,
    };
    let page = state.store.run(move |s| range.list(s)).await??;
    let mut items = page.items;
    for batch in items.iter_mut().filter_map(|e| e.batch.as_mut()) {
        // A batch names up to every record of an import: show the one asked for, or the
        // first few (the counts say how many there are).
        match &record_id {
            Some(id) => batch.record_ids.retain(|r| r == id),
            None => batch.record_ids.truncate(BATCH_IDS_SHOWN),
        }
    }
    Ok(HttpResponse::Ok().json(AuditPage {
        next: next_link(&req, page.next_after),
        items,
    }))
}
