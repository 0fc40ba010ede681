//! `/healthz` (the process answers) and `/readyz` (the storage answers too).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Health as StoreHealth;

/// Registers the health routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/healthz").route(web::get().to(healthz)))
        .service(super::resource("/readyz").route(web::get().to(readyz)));
}

/// A health answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// The process is up. No token needed.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "healthz",
    responses((status = 200, description = "The process answers.", body = Health)),
    security(()))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".to_owned(),
    })
}

/// The process is up, its storage answers reads, and it can write: 503 while the last
/// write failed (full disk, I/O error) and a probe write still fails, or once a damaged
/// record has been found. No token needed.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready to serve.", body = Health),
        (status = 500, description = "The storage does not answer.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The storage cannot write, or holds damaged data.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let health = state
        .store
        .run(|s| {
            s.list::<chanlab_shared::Region>(None, None, 1, &|_| true)
                .map(|_| s.check_health())
        })
        .await??;
    let detail = match health {
        StoreHealth::Ready => {
            return Ok(HttpResponse::Ok().json(Health {
                status: "ok".to_owned(),
            }));
        }
        StoreHealth::CannotWrite => {
            "the storage cannot write (a full disk or an I/O error; the server's log says which); it is ready again once a probe write succeeds"
        }
        StoreHealth::Damaged => {
            "a stored record was found damaged (the server's log names it); stop the server and restore the data directory from a backup"
        }
    };
    let mut response = crate::error::problem_response(&crate::problem::Problem::new(
        503,
        "not-ready",
        "The server is not ready",
        detail,
    ));
    response.headers_mut().insert(
        actix_web::http::header::RETRY_AFTER,
        actix_web::http::header::HeaderValue::from(crate::error::STORAGE_RETRY_AFTER_SECONDS),
    );
    Ok(response)
}
