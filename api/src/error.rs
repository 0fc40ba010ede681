//! The API's error type: every refusal becomes an RFC 9457 `application/problem+json` body.
//!
//! Handlers return [`ApiError`]; its [`ResponseError`] implementation picks the status and
//! writes the [`Problem`]. Storage and other internal failures are logged in full with
//! `tracing` and answered with a bare 500 whose body says nothing about the internals.
//! [`problem_for_status`] also rewrites the few error responses actix produces on its own
//! (unknown routes, wrong methods) so that no error leaves the server as text/plain.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::problem::{FieldError, Problem};
use crate::storage::{CommitError, Fault, Kind, StorageError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No usable bearer token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The token's role or scope does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The addressed record does not exist (404).
    #[error("no {kind} with id {id}")]
    NotFound {
        /// What was looked for, e.g. `partner`.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request could not be read: malformed JSON, a bad query parameter or path id (400).
    #[error("{0}")]
    BadRequest(String),
    /// Fields were rejected (422).
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    /// The request conflicts with the stored state (409); `allowed` lists alternatives.
    #[error("{detail}")]
    Conflict {
        /// What conflicts.
        detail: String,
        /// Values that would be accepted instead.
        allowed: Vec<String>,
    },
    /// Fields that are valid on their own conflict with the stored records (409), e.g. a
    /// sales record in another currency than the partner's others; `errors[]` names each.
    #[error("fields conflict with the stored records")]
    ConflictingFields(Vec<FieldError>),
    /// `If-Match` named another version (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The body is larger than the limit (413).
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive within [`BODY_TIMEOUT`](crate::extract::BODY_TIMEOUT) (408).
    #[error("the request body did not arrive within {0} seconds")]
    RequestTimeout(u64),
    /// The body is not in a media type the endpoint reads (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The server is busy with as many simulation runs or CSV imports as it takes (429,
    /// `Retry-After`).
    #[error("{detail}")]
    TooManyRequests {
        /// The problem's title: what there are too many of.
        title: &'static str,
        /// What is busy and what to do.
        detail: String,
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// The storage could not write: 507 when the disk is full, 503 with `Retry-After` on
    /// another I/O error. The details are logged, never sent.
    #[error("storage cannot write: {0}")]
    StorageUnavailable(StorageError),
    /// Something failed inside the server (500); the message is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client is told to wait after a storage I/O error.
pub const STORAGE_RETRY_AFTER_SECONDS: u64 = 5;

impl ApiError {
    /// A 422 for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// Maps a refused commit; `field_of` names the request field that refers to a record
    /// of a kind (so a missing region is reported on `region_id`).
    pub fn from_commit(err: CommitError, field_of: &dyn Fn(Kind) -> String) -> Self {
        match err {
            CommitError::AlreadyExists { kind, id } => ApiError::Conflict {
                detail: format!("a {} with id {id} already exists", kind.name()),
                allowed: Vec::new(),
            },
            CommitError::NotFound { kind, id } => ApiError::NotFound {
                kind: kind.name(),
                id,
            },
            CommitError::Stale {
                kind,
                id,
                expected,
                current,
            } => ApiError::PreconditionFailed(format!(
                "the {} {id} has changed: If-Match named version \"{expected}\" but it is at \"{current}\"; GET it again and reapply your change",
                kind.name()
            )),
            CommitError::MissingReference { kind, id } => {
                ApiError::field(field_of(kind), format!("no {} with id {id}", kind.name()))
            }
            CommitError::Duplicate {
                kind,
                name,
                value,
                existing,
            } => ApiError::Conflict {
                detail: format!(
                    "another {} ({existing}) already has {name} {value}",
                    kind.name()
                ),
                allowed: Vec::new(),
            },
            CommitError::Referenced { kind, id, count } => ApiError::Conflict {
                detail: format!(
                    "the {} {id} is still referenced by {count} other record(s); remove or reassign them first",
                    kind.name()
                ),
                allowed: Vec::new(),
            },
            CommitError::Replayed(_) => ApiError::Conflict {
                detail:
                    "the Idempotency-Key was used by a concurrent request; retry to get its result"
                        .to_owned(),
                allowed: Vec::new(),
            },
            CommitError::Storage(e) => e.into(),
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        match self {
            ApiError::Unauthorized(d) => {
                Problem::new(401, "unauthorized", "Authentication required", d)
            }
            ApiError::Forbidden(d) => {
                Problem::new(403, "forbidden", "Not allowed for this token", d)
            }
            ApiError::NotFound { .. } => {
                Problem::new(404, "not-found", "No such record", self.to_string())
            }
            ApiError::BadRequest(d) => {
                Problem::new(400, "bad-request", "The request could not be read", d)
            }
            ApiError::Validation(errors) => Problem::validation(errors.clone()),
            ApiError::Conflict { detail, allowed } => {
                let mut p = Problem::new(
                    409,
                    "conflict",
                    "The request conflicts with the stored records",
                    detail,
                );
                p.allowed = allowed.clone();
                p
            }
            ApiError::ConflictingFields(errors) => Problem::conflicting_fields(errors.clone()),
            ApiError::PreconditionFailed(d) => {
                Problem::new(412, "precondition-failed", "The record has changed", d)
            }
            ApiError::PayloadTooLarge(_) => Problem::new(
                413,
                "payload-too-large",
                "The request body is too large",
                self.to_string(),
            ),
            ApiError::RequestTimeout(_) => Problem::new(
                408,
                "request-timeout",
                "The request body did not arrive in time",
                self.to_string(),
            ),
            ApiError::UnsupportedMediaType(d) => {
                Problem::new(415, "unsupported-media-type", "Unsupported media type", d)
            }
            ApiError::TooManyRequests { title, detail, .. } => {
                Problem::new(429, "too-many-requests", title, detail)
            }
            ApiError::StorageUnavailable(e) if e.fault == Fault::NoSpace => Problem::new(
                507,
                "insufficient-storage",
                "The server's storage is full",
                "the server's disk is full, so this write could not be made durable: it may or may not be kept. Read the record before retrying, or retry with the same Idempotency-Key, once the operator has freed space",
            ),
            ApiError::StorageUnavailable(_) => Problem::new(
                503,
                "storage-unavailable",
                "The server's storage cannot write",
                "the server's storage failed to write (a write, or the write a read can need on the way), so this request could not be answered; a write may or may not be kept. Retry after the Retry-After seconds, reading the record first or with the same Idempotency-Key; the failure has been logged",
            ),
            ApiError::Internal(_) => Problem::new(
                500,
                "internal",
                "Internal server error",
                "the server failed to handle the request; it has been logged",
            ),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        if e.is_write_fault() {
            ApiError::StorageUnavailable(e)
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(details) => tracing::error!(error = %details, "request failed"),
            ApiError::StorageUnavailable(e) => {
                tracing::error!(error = %e, "the storage cannot write")
            }
            _ => {}
        }
        let mut response = problem_response(&self.problem());
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"chanlab\""),
            );
        }
        if let ApiError::TooManyRequests { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let ApiError::StorageUnavailable(e) = self
            && e.fault != Fault::NoSpace
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(STORAGE_RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// A response carrying `problem` as `application/problem+json`.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_JSON))
        .body(serde_json::to_vec(problem).expect("problems serialise"))
}

/// A generic problem for an error status that no handler described (an unknown route, a
/// method the route does not have, an error actix raised before a handler ran).
pub fn problem_for_status(status: StatusCode) -> Problem {
    let (slug, title, detail) = match status.as_u16() {
        404 => (
            "not-found",
            "Not found",
            "no endpoint at this path; see /openapi.json for the API",
        ),
        405 => (
            "method-not-allowed",
            "Method not allowed",
            "this path does not accept this method; see /openapi.json",
        ),
        413 => (
            "payload-too-large",
            "The request body is too large",
            "the request body is larger than the limit",
        ),
        400 => (
            "bad-request",
            "The request could not be read",
            "the request is malformed",
        ),
        s if s >= 500 => (
            "internal",
            "Internal server error",
            "the server failed to handle the request; it has been logged",
        ),
        _ => (
            "error",
            status.canonical_reason().unwrap_or("Error"),
            "the request was refused",
        ),
    };
    Problem::new(status.as_u16(), slug, title, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_body_never_carries_the_internal_message() {
        let err = ApiError::Internal("sled: corrupted page at /var/secret".to_owned());
        let body = serde_json::to_string(&err.problem()).unwrap();
        assert!(!body.contains("sled"), "{body}");
        assert!(!body.contains("secret"), "{body}");
    }

    #[test]
    fn conflicting_fields_are_a_409_naming_each_field() {
        let err = ApiError::ConflictingFields(vec![FieldError {
            field: "rows[3].sell_in".into(),
            message: "in USD".into(),
        }]);
        let p = err.problem();
        assert_eq!(p.status, 409);
        assert_eq!(p.problem_type, "https://chanlab.dev/problems/conflict");
        assert_eq!(p.errors[0].field, "rows[3].sell_in");
    }

    #[test]
    fn a_missing_reference_names_the_request_field() {
        let err = ApiError::from_commit(
            CommitError::MissingReference {
                kind: Kind::Region,
                id: "x".into(),
            },
            &|k| format!("{}_id", k.name()),
        );
        let p = err.problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "region_id");
    }
}
