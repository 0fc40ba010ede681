//! `/backtests`: a backtest of the records as a kind of run. Calibrate on the records up to
//! some months before their last, forecast the months held out, and set the forecast beside
//! what was recorded (sim/MODEL.md §12.5); `chanlab backtest` does the same on a data
//! directory.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chanlab_sim::backtest::{self, BacktestError};
use chanlab_sim::backtest_chart;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::scenarios::uuid_path;
use super::{Outcome, default_field, etag, write};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Body, IdempotencyKey};
use crate::jobs::interrupt;
use crate::records::{BacktestOutput, BacktestRecord, RunStatus};
use crate::simulation::{Admission, Held};
use crate::state::AppState;
use crate::storage::{Expect, Kind, store_put};

/// Replications a backtest may ask for (the CLI's `--replications` range).
const REPLICATIONS: std::ops::RangeInclusive<u32> = 10..=100_000;
/// Replications when the request names none.
const DEFAULT_REPLICATIONS: u32 = 500;

/// Registers the backtest routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(super::resource("/backtests").route(web::post().to(create_backtest)))
        .service(super::resource("/backtests/{id}").route(web::get().to(get_backtest)))
        .service(
            super::resource("/backtests/{id}/chart.svg").route(web::get().to(get_backtest_chart)),
        );
}

/// What to backtest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"holdout_months": 3, "replications": 200, "seed": 7}))]
pub struct BacktestRequest {
    /// Months held out at the end of the records: at least 1, and at most the months of
    /// sales less the 12 a calibration needs before the cut.
    pub holdout_months: u32,
    /// Replications of the forecast, 10 to 100000 (default 500).
    #[serde(default)]
    pub replications: Option<u32>,
    /// Seed of the forecast (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A backtest as `GET /backtests/{id}` answers it: the record and, once it is done, the
/// result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BacktestView {
    /// The backtest.
    #[serde(flatten)]
    pub backtest: BacktestRecord,
    /// Forecast replications finished out of the total (twice `replications`: with
    /// parameter draws and at the estimates); 0 while the calibration runs.
    pub progress: crate::records::Progress,
    /// Once done: the same JSON `chanlab backtest --format json` writes: per held-out month
    /// the channel's and each region's actual, mean forecast, P5/P25/P50/P75/P95, bias and
    /// whether the actual lies in each band (`rows`); bias, error and coverage over the
    /// channel and over the regions (`summary`); the recorded months before the cut
    /// (`history`); the within-period profile recorded and simulated (`profile`); and the
    /// calibration behind the forecast (`fit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<chanlab_sim::backtest::Backtest>)]
    pub result: Option<serde_json::Value>,
}

/// Starts a backtest of the records in the background.
///
/// The records are read and `holdout_months` checked before anything is stored: a holdout
/// the records cannot give is a 422 naming `holdout_months` with the range they allow, and
/// no spec published at the cut is a 409. Answers 202 with the backtest (queued) and its
/// `Location`; `GET /backtests/{id}` follows it. A backtest takes a place among the runs at
/// once (429 with `Retry-After` beyond), and the forecast's size, replications × partners
/// × months × 2 (with and without parameter uncertainty), must be within the server's cap
/// (422 on `replications` otherwise).
#[utoipa::path(post, path = "/backtests", tag = "simulation", operation_id = "create_backtest",
    request_body(content = BacktestRequest, description = "How many months to hold out, and the forecast's replications and seed."),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first backtest and starts nothing new.")),
    responses(
        (status = 202, description = "Accepted: queued.", body = BacktestRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 409, response = super::responses::Conflict),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
        (status = 429, response = super::responses::TooManyRequests),
    ),
    security(("bearer" = [])))]
pub async fn create_backtest(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<BacktestRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_backtest")?;
    let request = body.value.clone();
    let replications = request.replications.unwrap_or(DEFAULT_REPLICATIONS);
    if !REPLICATIONS.contains(&replications) {
        return Err(ApiError::field(
            "replications",
            format!(
                "expected {} to {} replications, found {replications}",
                REPLICATIONS.start(),
                REPLICATIONS.end()
            ),
        ));
    }
    let records = state.store.run(crate::simulation::load_records).await??;
    let holdout = match backtest::holdout(&records.sales, request.holdout_months) {
        Ok(h) => h,
        Err(BacktestError::Holdout(message)) => {
            return Err(ApiError::field("holdout_months", message));
        }
        Err(e) => return Err(ApiError::Internal(e.to_string())),
    };
    let baseline = crate::simulation::baseline(&records, None, Some(holdout.cut))?.id;
    let limits = state.runs.limits();
    let per_replication = (records.partners.len() as u64)
        .saturating_mul(u64::from(request.holdout_months + 12))
        .saturating_mul(2)
        .max(1);
    if per_replication.saturating_mul(u64::from(replications)) > limits.max_partner_months {
        return Err(ApiError::field(
            "replications",
            format!(
                "this forecast is {} partner-months ({replications} replications × {} partners × {} months × 2), over this server's cap of {}; at most {} replications fit",
                per_replication.saturating_mul(u64::from(replications)),
                records.partners.len(),
                request.holdout_months + 12,
                limits.max_partner_months,
                limits.max_partner_months / per_replication
            ),
        ));
    }
    let record = BacktestRecord {
        id: Uuid::now_v7(),
        status: RunStatus::Queued,
        holdout_months: request.holdout_months,
        replications,
        seed: request.seed.unwrap_or(0),
        cut: holdout.cut,
        last: holdout.last,
        currency: holdout.currency,
        process_spec_id: baseline,
        created_at: Utc::now(),
        started_at: None,
        finished_at: None,
        error: None,
    };
    let admission = state.runs.admit(Kind::Backtest, record.id)?;
    let location = format!("/backtests/{}", record.id);
    let stored = record.clone();
    let response = write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |_| {
            let outcome = Outcome {
                status: 202,
                version: Some(1),
                body: Some(serde_json::to_value(&stored).expect("backtests serialise")),
                location: Some(location),
            };
            Ok((vec![store_put(&stored, Expect::Absent)], outcome))
        },
    )
    .await?;
    if response.headers().contains_key("idempotent-replayed") {
        // The first request started the backtest; this one starts nothing.
        return Ok(response);
    }
    match admission {
        Admission::Here(reservation) => {
            state
                .runs
                .start_backtest(reservation, state.store.clone(), Some(records), record)?;
        }
        // The stored record queues it (a trigger in the same commit); whichever instance
        // claims it reads the records as they are then.
        Admission::Queued => state.runs.wake(),
    }
    Ok(response)
}

/// The backtest `id`; one stored as queued or running that no instance runs is marked
/// interrupted. Point read.
fn load(state: &AppState, id: Uuid) -> Result<(BacktestRecord, u64), ApiError> {
    // Asked before the read: a backtest the runner does not hold has either saved its final
    // status already (the thread saves, then leaves) or never started.
    let held = state.runs.held(Kind::Backtest, id)?;
    let (record, version) = state
        .store
        .get::<BacktestRecord>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "backtest",
            id: id.to_string(),
        })?;
    let why = match held {
        _ if !record.status.is_active() => return Ok((record, version)),
        Held::Here(_) | Held::Elsewhere(_) => return Ok((record, version)),
        // Its client went away, or no thread could be started: marked, durably, so it is
        // never "queued" for ever.
        Held::Nowhere => {
            "the request that started this backtest ended before it could start; post it again"
        }
        Held::Abandoned => {
            "the server running this backtest stopped answering while it was in progress; post it again"
        }
    };
    interrupt::<BacktestRecord>(&state.store, &id.to_string(), why)?.ok_or_else(|| {
        ApiError::NotFound {
            kind: "backtest",
            id: id.to_string(),
        }
    })
}

fn output(state: &AppState, record: &BacktestRecord) -> Result<BacktestOutput, ApiError> {
    state
        .store
        .get::<BacktestOutput>(&record.id.to_string())?
        .map(|(o, _)| o)
        .ok_or_else(|| {
            ApiError::Internal(format!("backtest {} is done but has no result", record.id))
        })
}

/// Reads a backtest: its status and, once done, the result.
#[utoipa::path(get, path = "/backtests/{id}", tag = "simulation", operation_id = "get_backtest",
    params(("id" = String, Path, description = "The backtest's id.")),
    responses(
        (status = 200, description = "The backtest.", body = BacktestView, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_backtest(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_backtest")?;
    let id = uuid_path("backtest", &id)?;
    let (backtest, version) = load(&state, id)?;
    let result = if backtest.status == RunStatus::Done {
        let out = output(&state, &backtest)?;
        Some(
            serde_json::to_value(&out.result)
                .map_err(|e| ApiError::Internal(format!("a backtest does not serialise: {e}")))?,
        )
    } else {
        None
    };
    let total = 2 * u64::from(backtest.replications);
    let done = if backtest.status == RunStatus::Done {
        total
    } else {
        match state.runs.held(Kind::Backtest, id)? {
            Held::Here(done) | Held::Elsewhere(done) => done.min(total),
            Held::Abandoned | Held::Nowhere => 0,
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(BacktestView {
            backtest,
            progress: crate::records::Progress { done, total },
            result,
        }))
}

/// The backtest's chart: the same SVG as `chanlab backtest --chart` (the forecast fan of
/// the held-out months, the recorded months before the cut and the held-out actuals as
/// points). 409 until the backtest is done.
#[utoipa::path(get, path = "/backtests/{id}/chart.svg", tag = "simulation", operation_id = "get_backtest_chart",
    params(("id" = String, Path, description = "The backtest's id.")),
    responses(
        (status = 200, description = "The chart.", body = String, content_type = "image/svg+xml"),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
    ),
    security(("bearer" = [])))]
pub async fn get_backtest_chart(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_backtest_chart")?;
    let id = uuid_path("backtest", &id)?;
    let (backtest, _) = load(&state, id)?;
    if backtest.status != RunStatus::Done {
        return Err(ApiError::Conflict {
            detail: format!(
                "the backtest is {}; its chart exists once it is done",
                backtest.status.as_str()
            ),
            allowed: Vec::new(),
        });
    }
    let result = output(&state, &backtest)?.result;
    let svg = backtest_chart::svg(&result, backtest.currency.code());
    Ok(HttpResponse::Ok()
        .content_type(crate::media::answer_type(&req, "image/svg+xml"))
        .body(svg))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chanlab_shared::{Currency, Month, ProcessSpecId};

    use super::*;
    use crate::storage::{SledStorage, Store};

    fn queued() -> BacktestRecord {
        BacktestRecord {
            id: Uuid::now_v7(),
            status: RunStatus::Queued,
            holdout_months: 2,
            replications: 10,
            seed: 0,
            cut: Month::new(2027, 12).unwrap(),
            last: Month::new(2028, 2).unwrap(),
            currency: Currency::EUR,
            process_spec_id: ProcessSpecId::new(),
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            error: None,
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(SledStorage::open(dir.path()).unwrap()));
        (dir, store)
    }

    #[test]
    fn a_queued_backtest_no_thread_holds_is_marked_interrupted_when_read() {
        let (_dir, store) = store();
        let state = AppState::new(store.clone());
        let b = queued();
        store
            .commit(&[store_put(&b, Expect::Absent)], None)
            .unwrap();

        let (seen, version) = load(&state, b.id).unwrap();

        assert_eq!(seen.status, RunStatus::Interrupted);
        assert!(seen.error.as_deref().unwrap().contains("post it again"));
        let (stored, stored_version) = store
            .get::<BacktestRecord>(&b.id.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, RunStatus::Interrupted);
        assert_eq!(version, stored_version);
    }

    #[test]
    fn a_queued_backtest_the_runner_holds_stays_queued() {
        let (_dir, store) = store();
        let state = AppState::new(store.clone());
        let b = queued();
        let _reserved = state.runs.reserve(Kind::Backtest, b.id).unwrap();
        store
            .commit(&[store_put(&b, Expect::Absent)], None)
            .unwrap();

        assert_eq!(load(&state, b.id).unwrap().0.status, RunStatus::Queued);
    }

    #[test]
    fn a_restart_marks_backtests_left_queued_or_running_interrupted() {
        let (_dir, store) = store();
        let mut running = queued();
        running.status = RunStatus::Running;
        let mut done = queued();
        done.status = RunStatus::Done;
        let writes: Vec<_> = [queued(), running, done.clone()]
            .iter()
            .map(|b| store_put(b, Expect::Absent))
            .collect();
        store.commit(&writes, None).unwrap();

        assert_eq!(crate::simulation::recover(&store).unwrap(), 2);

        let all = store.all::<BacktestRecord>(None).unwrap();
        let interrupted = all
            .iter()
            .filter(|b| b.status == RunStatus::Interrupted)
            .count();
        assert_eq!(interrupted, 2);
        assert!(all.contains(&done), "a finished backtest is left alone");
    }
}
