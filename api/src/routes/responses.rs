//! Reusable OpenAPI responses for the problem+json errors, so each operation lists every
//! status it can answer without repeating the schema.

use utoipa::ToResponse;

use crate::problem::Problem;

/// The request could not be read: malformed JSON, a bad query parameter.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No bearer token, or one the server does not know.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(pub Problem);

/// The token's role may not call this operation, or the request itself names something
/// outside the token's scope (a list filter, a record to write in another region).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(pub Problem);

/// No record with this id, or none the token may see: a record outside its scope answers
/// exactly as an unknown one does.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The request conflicts with the stored records (a duplicate, a record still referenced,
/// an illegal lifecycle move, a currency other than the partner's); `errors` names the
/// fields when there are any.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// `If-Match` named a version that is no longer current.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(pub Problem);

/// The body is larger than the limit (256 KiB for JSON, 8 MiB for CSV).
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub Problem);

/// The body is not in the media type the endpoint reads.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(pub Problem);

/// Fields were rejected; `errors` lists each with its path. Nothing was written.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// The server is running as many simulation runs as it takes; `Retry-After` says when to
/// try again.
#[derive(Debug, ToResponse)]
#[response(content_type = "application/problem+json", headers(("Retry-After" = u64, description = "Seconds to wait.")))]
pub struct TooManyRequests(pub Problem);
