//! `/healthz` (the process answers), `/readyz` (the storage answers too) and `/metrics`
//! (Prometheus, when the server was started with `--metrics`).

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Health as StoreHealth;

/// Registers the health routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/healthz").route(web::get().to(healthz)))
        .service(super::resource("/readyz").route(web::get().to(readyz)))
        .service(super::resource("/metrics").route(web::get().to(metrics)));
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
            // The probe first: a read can fail on the write fault the probe is there to
            // clear (sled splits nodes on reads), and it must not keep the probe from running.
            let health = s.check_health();
            match s.list::<chanlab_shared::Region>(None, None, 1, &|_| true) {
                Ok(_) => Ok(health),
                Err(e) if e.is_write_fault() => Ok(StoreHealth::CannotWrite),
                Err(e) => Err(e),
            }
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

/// The server's metrics for Prometheus (the README's "Operating" section lists them):
/// OpenMetrics when the `Accept` header asks for it, the Prometheus text format 0.0.4
/// otherwise. Served only
/// by a server started with `chanlab serve --metrics`, and then without a token, as
/// Prometheus scrapes by default: it holds counts by route template and status, never a
/// record, an id or a token. Without `--metrics` it is 404, like an unknown path.
///
/// Per server: on a PostgreSQL store shared by several servers each reports its own
/// requests, flushes, rounds, imports and job ends (sum them across instances), and every
/// one reports the same `chanlab_jobs` gauge, read from the shared store (take one, or
/// the max, not the sum).
#[utoipa::path(get, path = "/metrics", tag = "health", operation_id = "metrics",
    responses(
        (status = 200, description = "The metrics.", content(
            (String = "text/plain"),
            (String = "application/openmetrics-text"),
        )),
        (status = 404, description = "The server was started without `--metrics`.", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 500, description = "The storage does not answer.", body = crate::problem::Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !state.serve_metrics {
        return Ok(crate::error::problem_response(
            &crate::error::problem_for_status(actix_web::http::StatusCode::NOT_FOUND),
        ));
    }
    state.store.run(count_jobs).await??;
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let metrics = state.store.metrics();
    Ok(if crate::metrics::wants_openmetrics(accept) {
        HttpResponse::Ok()
            .content_type(crate::metrics::OPENMETRICS)
            .body(metrics.openmetrics())
    } else {
        HttpResponse::Ok()
            .content_type(crate::metrics::TEXT_FORMAT)
            .body(metrics.text())
    })
}

/// Sets the `chanlab_jobs` gauge from the store's status index. Blocking; the jobs active
/// at once are few (the run limit per instance), so this reads a handful of records.
fn count_jobs(store: &crate::storage::Store) -> Result<(), ApiError> {
    use crate::records::{BacktestRecord, RunRecord, RunStatus};
    use crate::storage::Kind;
    for status in [RunStatus::Queued, RunStatus::Running] {
        let filter = Some(("status", status.as_str()));
        let runs = store.all::<RunRecord>(filter)?.len();
        store.metrics().set_jobs(Kind::Run, status, runs);
        let backtests = store.all::<BacktestRecord>(filter)?.len();
        store.metrics().set_jobs(Kind::Backtest, status, backtests);
    }
    Ok(())
}
