//! `/tokens`: an admin makes bearer tokens for the other roles; every caller can list,
//! rotate and revoke its own (an admin: any).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use uuid::Uuid;

use super::scenarios::uuid_path;
use super::{Cursor, Outcome, default_field, next_link, write};
use crate::auth::tokens::rotated;
use crate::auth::{
    Access, Caller, CreatedToken, TokenRecord, TokenRequest, TokenView, created, new_token,
};
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey};
use crate::state::AppState;
use crate::storage::{Expect, Kind, Write, store_put};

super::page_type!(TokenPage, TokenView, "A page of tokens.");

/// Registers the token routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/tokens")
            .route(web::post().to(create_token))
            .route(web::get().to(list_tokens)),
    )
    .service(super::resource("/tokens/{id}").route(web::delete().to(revoke_token)))
    .service(super::resource("/tokens/{id}/rotate").route(web::post().to(rotate_token)))
    .service(super::resource("/admin/backup").route(web::get().to(get_backup)));
}

/// Whether a caller granted `access` may see or touch `token`: an admin any, the others
/// the one they call with. A token outside that answers 404, like an unknown one, so a
/// caller learns nothing of the others' ids.
fn mine(caller: &Caller, access: Access, token: &TokenRecord) -> bool {
    access == Access::Yes || token.id == caller.token_id
}

/// Lists tokens, oldest first: every token for an admin, the caller's own for the others.
/// Never the secret or its hash.
#[utoipa::path(get, path = "/tokens", tag = "tokens", operation_id = "list_tokens",
    params(Cursor),
    responses(
        (status = 200, description = "A page of tokens.", body = TokenPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_tokens(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("list_tokens")?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let who = caller.clone();
    let page = state
        .store
        .run(move |s| {
            s.list::<TokenRecord>(None, after.as_deref(), limit, &|t| mine(&who, access, t))
        })
        .await??;
    Ok(HttpResponse::Ok().json(TokenPage {
        next: next_link(&req, page.next_after),
        items: page.items.iter().map(TokenView::from).collect(),
    }))
}

/// Revokes a token: it fails from the next request on, on every server. A caller may
/// revoke its own token; an admin any.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", operation_id = "revoke_token",
    params(("id" = String, Path, description = "The token's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("revoke_token")?;
    let id: Uuid = uuid_path("token", &id)?;
    let who = caller.clone();
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            let current = s.get::<TokenRecord>(&id.to_string())?;
            if !current.is_some_and(|(t, _)| mine(&who, access, &t)) {
                return Err(ApiError::NotFound {
                    kind: "token",
                    id: id.to_string(),
                });
            }
            // Any version: a use noted since the read (`last_used_at`) must not turn a
            // revocation into a conflict.
            Ok((
                vec![Write::Delete {
                    kind: Kind::Token,
                    id: id.to_string(),
                    expect: Expect::Present,
                }],
                Outcome {
                    status: 204,
                    version: None,
                    body: None,
                    location: None,
                },
            ))
        },
    )
    .await
}

/// Gives a token a new secret, shown once; the old one fails from the next request on. The
/// grant, id, label and expiry stay. A caller may rotate its own token; an admin any.
#[utoipa::path(post, path = "/tokens/{id}/rotate", tag = "tokens", operation_id = "rotate_token",
    params(("id" = String, Path, description = "The token's id.")),
    responses(
        (status = 200, description = "The new secret; keep it, only its hash is stored.", body = CreatedToken),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
    ),
    security(("bearer" = [])))]
pub async fn rotate_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("rotate_token")?;
    let id: Uuid = uuid_path("token", &id)?;
    let who = caller.clone();
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            let not_found = || ApiError::NotFound {
                kind: "token",
                id: id.to_string(),
            };
            let (current, _) = s
                .get::<TokenRecord>(&id.to_string())?
                .ok_or_else(not_found)?;
            if !mine(&who, access, &current) {
                return Err(not_found());
            }
            let (token, next) = rotated(&current, Utc::now())?;
            // Any version: a use noted since the read only loses its `last_used_at`, while a
            // conditional write would refuse the rotation. (A use noted after this commit is
            // conditional on the old version and fails, so it never restores the old hash.)
            // Two rotations at once: the later commit's secret is the one that works.
            let write = store_put(&next, Expect::Present);
            let answer = created(token, next);
            Ok((
                vec![write],
                Outcome {
                    status: 200,
                    version: None,
                    body: Some(serde_json::to_value(answer).expect("tokens serialise")),
                    location: None,
                },
            ))
        },
    )
    .await
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
    req: HttpRequest,
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
        .content_type(crate::media::answer_type(&req, "application/x-ndjson"))
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
    let now = Utc::now();
    request.check(now)?;
    let lifetime = state.token_lifetime;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        &body.raw,
        default_field,
        move |_| {
            let (token, record) = new_token(&request, now, lifetime)?;
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
