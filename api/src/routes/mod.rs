//! The HTTP routes, one module per resource, each with a `configure` function, and the few
//! helpers they share: ETags, idempotent writes, cursor pages.
//!
//! Handlers are thin: they check the caller's access, parse the request into domain values,
//! run storage work on the blocking pool through [`Store::run`](crate::storage::Store::run),
//! wait for durability, and answer.

pub mod activities;
pub mod assessments;
pub mod audit;
pub mod backtests;
pub mod contracts;
pub mod goals;
pub mod health;
pub mod partners;
pub mod regions;
pub mod reps;
pub mod responses;
pub mod runs;
pub mod sales;
pub mod scenarios;
pub mod scorecards;
pub mod specs;
pub mod tokens;
pub mod training;
pub mod webhooks;

mod csv_io;
pub(crate) mod layer;
mod write;

pub use csv_io::{ImportReport, Matched, MatchedBy};

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{ApiError, problem_for_status, problem_response};

pub(crate) use write::{
    Outcome, Serial, check_if_match, create_record, created, default_field, delete_record,
    update_record, write, write_serialised, write_with_events,
};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    tokens::configure(cfg);
    audit::configure(cfg);
    webhooks::configure(cfg);
    regions::configure(cfg);
    reps::configure(cfg);
    partners::configure(cfg);
    contracts::configure(cfg);
    activities::configure(cfg);
    sales::configure(cfg);
    goals::configure(cfg);
    specs::configure(cfg);
    assessments::configure(cfg);
    scenarios::configure(cfg);
    runs::configure(cfg);
    backtests::configure(cfg);
    training::configure(cfg);
}

/// A resource at `path` whose unknown methods answer 405 problem+json with `Allow`.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// 405 with `Allow` (RFC 9110 §15.5.6 requires it): the methods the OpenAPI document gives
/// the matched path, so the header and the spec cannot disagree (a test sends every
/// documented path a method it lacks and compares).
async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut response = problem_response(&problem_for_status(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
    ));
    if let Some(allow) = req
        .match_pattern()
        .and_then(|pattern| allowed_methods().get(&pattern).cloned())
        && let Ok(value) = header::HeaderValue::from_str(&allow)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Each documented path's methods as an `Allow` value (`GET, POST`), built once.
fn allowed_methods() -> &'static std::collections::HashMap<String, String> {
    static ALLOWED: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    ALLOWED.get_or_init(|| {
        let mut by_path: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (method, path, _) in crate::openapi::operations() {
            by_path.entry(path).or_default().push(method);
        }
        by_path
            .into_iter()
            .map(|(path, methods)| (path, methods.join(", ")))
            .collect()
    })
}

/// The ETag of a record version.
pub(crate) fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// A 200 with `value` as JSON and its ETag.
pub(crate) fn json_with_etag<T: serde::Serialize>(value: &T, version: u64) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(value)
}

/// Largest page a list returns.
pub const MAX_LIMIT: usize = 500;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 50;

/// Cursor parameters shared by every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
    /// Return records after this id: the `next` link of the previous page carries it.
    pub after: Option<String>,
}

impl Cursor {
    /// The checked page size.
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::BadRequest(format!(
                "limit must be between 1 and {MAX_LIMIT}, found {n}"
            ))),
        }
    }
}

/// The `next` link for a page that ends at `last`: this request's path and query with
/// `after` replaced.
pub(crate) fn next_link(req: &HttpRequest, after: Option<String>) -> Option<String> {
    let after = after?;
    let mut parts: Vec<&str> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("after="))
        .collect();
    let cursor = format!("after={after}");
    parts.push(&cursor);
    Some(format!("{}?{}", req.path(), parts.join("&")))
}

/// Defines a page type for a record, as lists answer it.
macro_rules! page_type {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            /// The records on this page, oldest first.
            pub items: Vec<$item>,
            /// The link to the next page, or null on the last page.
            pub next: Option<String>,
        }
    };
}
pub(crate) use page_type;

/// Parses an optional query value with the domain's parser, naming the parameter on failure.
pub(crate) fn query_value<T: std::str::FromStr<Err = chanlab_shared::ValidationError>>(
    name: &str,
    value: &Option<String>,
) -> Result<Option<T>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            v.parse::<T>().map_err(|e| {
                ApiError::BadRequest(format!("query parameter {name}: {}", e.message()))
            })
        })
        .transpose()
}

/// Parses an optional query enum (a snake_case name such as `at_risk`).
pub(crate) fn query_enum<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Option<String>,
) -> Result<Option<T>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            serde_json::from_value::<T>(serde_json::Value::String(v.to_owned())).map_err(|e| {
                let msg = e.to_string();
                ApiError::BadRequest(format!("query parameter {name}: {msg}"))
            })
        })
        .transpose()
}

/// A domain rejection as a 422.
pub(crate) fn invalid(err: chanlab_shared::ValidationError) -> ApiError {
    ApiError::Validation(vec![err.into()])
}

/// Answers one record by id, with its ETag. When the caller's access does not depend on the
/// record ([`Access::Yes`]) the stored JSON is sent as it is; otherwise it is decoded and
/// `in_scope` decides (a record outside the scope is the 404 of an unknown id).
///
/// Point reads run on the worker thread: sled answers them from its page cache (a miss is
/// one small read), which costs less than the hop to the blocking pool. Scans, commits and
/// flushes always go through [`Store::run`](crate::storage::Store::run).
pub(crate) fn read_one<T: crate::storage::Record>(
    store: &crate::storage::Store,
    access: crate::auth::Access,
    kind: &'static str,
    id: &str,
    in_scope: impl FnOnce(&T) -> bool,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound {
        kind,
        id: id.to_owned(),
    };
    if access == crate::auth::Access::Yes {
        let raw = store.get_raw::<T>(id)?.ok_or_else(not_found)?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(raw.version)))
            .content_type("application/json")
            .body(raw.data));
    }
    let (record, version) = store.get::<T>(id)?.ok_or_else(not_found)?;
    if !in_scope(&record) {
        return Err(crate::auth::hidden(kind, id));
    }
    Ok(json_with_etag(&record, version))
}
