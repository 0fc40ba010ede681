//! `/tokens`: an admin creates bearer tokens for the other roles.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{Outcome, default_field, write};
use crate::auth::{Caller, CreatedToken, TokenRequest, created, new_token};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey};
use crate::state::AppState;
use crate::storage::{Expect, store_put};

/// Registers the token routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/tokens").route(web::post().to(create_token)))
        .service(super::resource("/admin/backup").route(web::get().to(get_backup)));
}

/// A consistent backup of every record, as `chanlab backup` writes it (JSON lines; restore
/// it with `chanlab restore FILE --data-dir DIR`). Commits wait while it is read.
#[utoipa::path(get, path = "/admin/backup", tag = "tokens", operation_id = "get_backup",
    responses(
        (status = 200, description = "The backup, JSON lines: a header, one line per record and remembered response, and an end line with the counts.", body = String, content_type = "application/x-ndjson"),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn get_backup(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_backup")?;
    let bytes = state
        .store
        .run(|s| {
            let mut out = Vec::new();
            s.export(&mut out).map(|_| out)
        })
        .await??;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"chanlab-backup.jsonl\"",
        ))
        .body(bytes))
}

/// Creates a token. The answer holds the token itself, which is never shown again.
///
/// `Idempotency-Key` is not honoured here: replaying the answer would mean storing the
/// token in clear.
#[utoipa::path(post, path = "/tokens", tag = "tokens", operation_id = "create_token",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "Created; keep the token, only its hash is stored.", body = CreatedToken),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: Body<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_token")?;
    let request = body.value;
    request.check()?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |_| {
            let (token, record) = new_token(&request)?;
            let write = store_put(&record, Expect::Absent);
            let answer = created(token, record);
            Ok((
                vec![write],
                Outcome {
                    status: 201,
                    version: None,
                    body: Some(serde_json::to_value(answer).expect("tokens serialise")),
                    location: None,
                },
            ))
        },
    )
    .await
}
