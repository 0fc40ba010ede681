//! `/webhooks`: an admin subscribes other systems to events ([`crate::webhooks`]), pauses
//! and resumes them, reads each subscription's delivery log and redelivers.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use uuid::Uuid;

use super::scenarios::uuid_path;
use super::{Cursor, Outcome, check_if_match, default_field, etag, next_link, write};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey, IfMatch};
use crate::state::AppState;
use crate::storage::{Expect, Kind, Write, store_put};
use crate::webhooks::{
    CreatedWebhook, DEFAULT_PREVIOUS_HOURS, Delivery, MAX_PREVIOUS_HOURS, RotateSecretRequest,
    Webhook, WebhookRequest, WebhookView, new_secret,
};

super::page_type!(WebhookPage, WebhookView, "A page of webhook subscriptions.");
super::page_type!(
    DeliveryPage,
    Delivery,
    "A page of a subscription's deliveries."
);

/// Registers the webhook routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/webhooks")
            .route(web::post().to(create_webhook))
            .route(web::get().to(list_webhooks)),
    )
    .service(
        super::resource("/webhooks/{id}")
            .route(web::get().to(get_webhook))
            .route(web::put().to(update_webhook))
            .route(web::delete().to(delete_webhook)),
    )
    .service(
        super::resource("/webhooks/{id}/rotate-secret")
            .route(web::post().to(rotate_webhook_secret)),
    )
    .service(
        super::resource("/webhooks/{id}/deliveries").route(web::get().to(list_webhook_deliveries)),
    )
    .service(
        super::resource("/webhooks/{id}/deliveries/{delivery_id}/redeliver")
            .route(web::post().to(redeliver_webhook_delivery)),
    );
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::NotFound {
        kind: "webhook",
        id: id.to_string(),
    }
}

/// The writes and answer of replacing subscription `id` with what `change` makes of it
/// (the record and the 200 answer's body), after `If-Match` is checked: update and rotate.
fn replace(
    s: &crate::storage::Store,
    id: Uuid,
    if_match: &IfMatch,
    change: impl FnOnce(Webhook) -> (Webhook, serde_json::Result<serde_json::Value>),
) -> Result<(Vec<Write>, Outcome), ApiError> {
    let (current, version) = s
        .get::<Webhook>(&id.to_string())?
        .ok_or_else(|| not_found(id))?;
    check_if_match(if_match, version, "webhook", &id.to_string())?;
    let (next, body) = change(current);
    let body = body.expect("webhooks serialise");
    Ok((
        vec![store_put(&next, Expect::Version(version))],
        answer(200, version + 1, body, None),
    ))
}

fn answer(status: u16, version: u64, body: serde_json::Value, location: Option<String>) -> Outcome {
    Outcome {
        status,
        version: Some(version),
        body: Some(body),
        location,
    }
}

/// Subscribes `url` to `events`. Answers 201 with the signing secret, shown only here:
/// every delivery carries `Chanlab-Webhook-Signature: v1=<hex HMAC-SHA256(secret,
/// "{timestamp}.{body}")>` (README, "Webhooks").
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = WebhookRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and subscribes nothing new.")),
    responses(
        (status = 201, description = "Subscribed; keep the secret, it is not shown again.", body = CreatedWebhook,
            headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<WebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_webhook")?;
    let events = body.value.checked()?;
    let now = Utc::now();
    let hook = Webhook {
        id: Uuid::now_v7(),
        url: body.value.url.clone(),
        events,
        description: body.value.description.clone(),
        paused: body.value.paused,
        secret: new_secret()?,
        previous_secret: None,
        previous_until: None,
        created_at: now,
        updated_at: now,
    };
    let location = format!("/webhooks/{}", hook.id);
    let shown = CreatedWebhook {
        webhook: WebhookView::from(&hook),
        secret: hook.secret.clone(),
    };
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |_| {
            let body = serde_json::to_value(&shown).expect("webhooks serialise");
            Ok((
                vec![store_put(&hook, Expect::Absent)],
                answer(201, 1, body, Some(location)),
            ))
        },
    )
    .await
}

/// Lists subscriptions, oldest first, never their secrets.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    params(Cursor),
    responses(
        (status = 200, description = "A page of subscriptions.", body = WebhookPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_webhooks")?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| s.list::<Webhook>(None, after.as_deref(), limit, &|_| true))
        .await??;
    Ok(HttpResponse::Ok().json(WebhookPage {
        next: next_link(&req, page.next_after),
        items: page.items.iter().map(WebhookView::from).collect(),
    }))
}

/// The subscription `id` and its version, or 404.
async fn stored(state: &AppState, id: Uuid) -> Result<(Webhook, u64), ApiError> {
    state
        .store
        .run(move |s| s.get::<Webhook>(&id.to_string()))
        .await??
        .ok_or_else(|| not_found(id))
}

/// One subscription, without its secret.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = String, Path, description = "The subscription's id.")),
    responses(
        (status = 200, description = "The subscription.", body = WebhookView, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_webhook")?;
    let id = uuid_path("webhook", &id)?;
    let (hook, version) = stored(&state, id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(WebhookView::from(&hook)))
}

/// Replaces a subscription's URL, events, description and `paused` (its secret stays):
/// `paused: true` holds its deliveries, `paused: false` resumes them, the held ones first.
#[utoipa::path(put, path = "/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    request_body = WebhookRequest,
    params(("id" = String, Path, description = "The subscription's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the subscription changed since."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result.")),
    responses(
        (status = 200, description = "Replaced.", body = WebhookView, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    idem: IdempotencyKey,
    body: Body<WebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("update_webhook")?;
    let id = uuid_path("webhook", &id)?;
    let events = body.value.checked()?;
    let request = body.value.clone();
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |s| {
            replace(s, id, &if_match, |current| {
                let next = Webhook {
                    url: request.url,
                    events,
                    description: request.description,
                    paused: request.paused,
                    updated_at: Utc::now(),
                    ..current
                };
                let body = serde_json::to_value(WebhookView::from(&next));
                (next, body)
            })
        },
    )
    .await
}

/// Deletes a subscription and its delivery log; pending deliveries are not sent.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = String, Path, description = "The subscription's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the subscription changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_webhook")?;
    let id = uuid_path("webhook", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            let (mut writes, outcome) =
                super::delete_record::<Webhook>(s, &id.to_string(), &if_match, "webhook", |_| {
                    Ok(())
                })?;
            // Its delivery log goes with it (one the deliverer claims meanwhile is dropped
            // by the deliverer, which finds no subscription).
            let log = s.all::<Delivery>(Some(("webhook", &id.to_string())))?;
            writes.extend(log.into_iter().map(|d| Write::Delete {
                kind: Kind::Delivery,
                id: d.id,
                expect: Expect::Present,
            }));
            Ok((writes, outcome))
        },
    )
    .await
}

/// A subscription's deliveries, oldest event first: status, attempts, the receiver's last
/// status code or error, and when the next attempt is due.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = String, Path, description = "The subscription's id."), Cursor),
    responses(
        (status = 200, description = "A page of deliveries.", body = DeliveryPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_webhook_deliveries")?;
    let id = uuid_path("webhook", &id)?;
    stored(&state, id).await?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| {
            let hook = id.to_string();
            s.list::<Delivery>(Some(("webhook", &hook)), after.as_deref(), limit, &|_| true)
        })
        .await??;
    Ok(HttpResponse::Ok().json(DeliveryPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Sends a delivery again at once, whatever became of it, with a fresh retry window.
#[utoipa::path(post, path = "/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    operation_id = "redeliver_webhook_delivery",
    params(("id" = String, Path, description = "The subscription's id."),
        ("delivery_id" = String, Path, description = "The delivery's id.")),
    responses(
        (status = 202, description = "Due again; the delivery log shows the attempt.", body = Delivery),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn redeliver_webhook_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("redeliver_webhook_delivery")?;
    let (hook, delivery_id) = path.into_inner();
    let hook = uuid_path("webhook", &hook)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            let missing = || ApiError::NotFound {
                kind: "webhook_delivery",
                id: delivery_id.clone(),
            };
            let (current, version) = s.get::<Delivery>(&delivery_id)?.ok_or_else(missing)?;
            if current.webhook_id != hook {
                return Err(missing());
            }
            let next = current.redelivered(Utc::now());
            let body = serde_json::to_value(&next).expect("deliveries serialise");
            // Any version: the deliverer may be recording an attempt; the redelivery wins.
            Ok((
                vec![store_put(&next, Expect::Present)],
                answer(202, version + 1, body, None),
            ))
        },
    )
    .await
}

/// Replaces a subscription's signing secret. Answers 200 with the new secret, shown only
/// here. The replaced one goes on signing beside it for `keep_previous_hours` (default
/// 24): each delivery then carries both signatures (`v1=<new>,v1=<old>`), so a receiver
/// switches to the new secret without missing one; 0 stops the old one at once.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    request_body = RotateSecretRequest,
    params(("id" = String, Path, description = "The subscription's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the subscription changed since."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first new secret and rotates nothing more.")),
    responses(
        (status = 200, description = "Rotated; keep the new secret, it is not shown again.", body = CreatedWebhook, headers(("ETag" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
    idem: IdempotencyKey,
    body: Body<RotateSecretRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("rotate_webhook_secret")?;
    let id = uuid_path("webhook", &id)?;
    let hours = body
        .value
        .keep_previous_hours
        .unwrap_or(DEFAULT_PREVIOUS_HOURS);
    if hours > MAX_PREVIOUS_HOURS {
        return Err(ApiError::field(
            "keep_previous_hours",
            format!("expected 0 to {MAX_PREVIOUS_HOURS} hours, found {hours}"),
        ));
    }
    let secret = new_secret()?;
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |s| {
            replace(s, id, &if_match, |current| {
                let now = Utc::now();
                let keep = hours > 0;
                let next = Webhook {
                    previous_secret: keep.then(|| current.secret.clone()),
                    previous_until: keep.then(|| now + chrono::TimeDelta::hours(i64::from(hours))),
                    secret: secret.clone(),
                    updated_at: now,
                    ..current
                };
                let shown = CreatedWebhook {
                    webhook: WebhookView::from(&next),
                    secret,
                };
                (next, serde_json::to_value(&shown))
            })
        },
    )
    .await
}
