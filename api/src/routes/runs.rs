//! `/runs`: the status, progress, result and chart of a simulation run, and cancelling it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::scenarios::uuid_path;
use super::{Outcome, check_if_match, default_field, etag, write};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{IdempotencyKey, IfMatch};
use crate::jobs::interrupt;
use crate::records::{RunInput, RunOutput, RunRecord};
use crate::simulation::{Cancelling, Held};
use crate::state::AppState;
use crate::storage::{Expect, Kind, Write};

/// Registers the run routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        super::resource("/runs/{id}")
            .route(web::get().to(get_run))
            .route(web::delete().to(delete_run)),
    )
    .service(super::resource("/runs/{id}/chart.svg").route(web::get().to(get_run_chart)));
}

/// A run as `GET /runs/{id}` answers it: the run record with live progress and, once it is
/// done, the result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunView {
    /// The run.
    #[serde(flatten)]
    pub run: RunRecord,
    /// Once done: the document of the run's kind, the same JSON the CLI writes for this
    /// scenario and seed (`chanlab run`, `compare`, `sensitivity` or `optimise` with
    /// `--format json`): the self-contained scenario, the chanlab version, the mergeable
    /// state and the `report` with every figure; for a policy search, its report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::experiments::RunDocument<'static>>)]
    pub result: Option<serde_json::Value>,
}

/// The run `id` with its live progress, wherever it runs. Point read.
fn load(state: &AppState, id: uuid::Uuid) -> Result<(RunRecord, u64), ApiError> {
    // Asked before the read: a run no instance holds has either saved its final status
    // already (the thread saves, then leaves) or never started.
    let held = state.runs.held(Kind::Run, id)?;
    let (mut run, version) = state
        .store
        .get::<RunRecord>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "run",
            id: id.to_string(),
        })?;
    if !run.status.is_active() {
        return Ok((run, version));
    }
    let why = match held {
        Held::Here(done) | Held::Elsewhere(done) => {
            run.progress.done = run.progress.done.max(done);
            return Ok((run, version));
        }
        // The request that started it ended between storing it and starting it (its client
        // went away, or no thread could be started): marked interrupted, durably, so it is
        // never "queued" for ever.
        Held::Nowhere => {
            "the request that started this run ended before the run could start; start it again"
        }
        Held::Abandoned => {
            "the server running this run stopped answering while it was in progress; start it again"
        }
    };
    interrupt::<RunRecord>(&state.store, &id.to_string(), why)?.ok_or_else(|| ApiError::NotFound {
        kind: "run",
        id: id.to_string(),
    })
}

/// A run that was waiting in the shared queue, claimed by this instance to cancel it:
/// stored cancelled (which takes it out of the queue), answered as it is now.
fn cancel_waiting(
    state: &AppState,
    actor: &crate::audit::Actor,
    mut run: RunRecord,
) -> Result<HttpResponse, ApiError> {
    run.status = crate::records::RunStatus::Cancelled;
    run.finished_at = Some(chrono::Utc::now());
    let writes = [crate::storage::store_put(&run, Expect::Present)];
    let versions = crate::audit::commit(&state.store, Some(actor), &writes, None, Vec::new())
        .map_err(|e| ApiError::Internal(format!("cannot store a cancelled run: {e}")))?;
    state.store.flush_blocking()?;
    state
        .store
        .metrics()
        .job_ended(crate::storage::Kind::Run, run.status);
    let version = versions.first().copied().unwrap_or_default();
    Ok(HttpResponse::Accepted()
        .insert_header((header::ETAG, etag(version)))
        .json(RunView { run, result: None }))
}

fn output(state: &AppState, run: &RunRecord) -> Result<RunOutput, ApiError> {
    state
        .store
        .get::<RunOutput>(&run.id.to_string())?
        .map(|(o, _)| o)
        .ok_or_else(|| ApiError::Internal(format!("run {} is done but has no result", run.id)))
}

/// Reads a run: status, progress and, once done, the result.
#[utoipa::path(get, path = "/runs/{id}", tag = "simulation", operation_id = "get_run",
    params(("id" = String, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "The run.", body = RunView, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_run(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_run")?;
    let id = uuid_path("run", &id)?;
    let (run, version) = load(&state, id)?;
    let result = if run.status == crate::records::RunStatus::Done {
        let out = output(&state, &run)?;
        Some(
            serde_json::to_value(out.result.document())
                .map_err(|e| ApiError::Internal(format!("a result does not serialise: {e}")))?,
        )
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(RunView { run, result }))
}

/// The run's chart: the same SVG as the CLI's `--chart` (for a comparison the monthly
/// sell-through fan chart and KPI intervals per spec; for a sweep the KPI surface; for a
/// sensitivity study the tornado). 409 until the run is done, and for a policy search,
/// which has none.
#[utoipa::path(get, path = "/runs/{id}/chart.svg", tag = "simulation", operation_id = "get_run_chart",
    params(("id" = String, Path, description = "The run's id.")),
    responses(
        (status = 200, description = "The chart.", body = String, content_type = "image/svg+xml"),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
    ),
    security(("bearer" = [])))]
pub async fn get_run_chart(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("get_run_chart")?;
    let id = uuid_path("run", &id)?;
    let (run, _) = load(&state, id)?;
    if run.status != crate::records::RunStatus::Done {
        return Err(ApiError::Conflict {
            detail: format!(
                "the run is {}; its chart exists once it is done",
                run.status.as_str()
            ),
            allowed: Vec::new(),
        });
    }
    let result = output(&state, &run)?.result;
    let svg = result.chart().ok_or_else(|| ApiError::Conflict {
        detail: format!(
            "a {} has no chart; its result is in GET /runs/{{id}}",
            result.kind().as_str()
        ),
        allowed: Vec::new(),
    })?;
    Ok(HttpResponse::Ok()
        .content_type(crate::media::answer_type(&req, "image/svg+xml"))
        .body(svg))
}

/// Cancels a queued or running run (202: it stops after the replications in flight and
/// becomes `cancelled`), or deletes a finished one with its result (204).
#[utoipa::path(delete, path = "/runs/{id}", tag = "simulation", operation_id = "delete_run",
    params(("id" = String, Path, description = "The run's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the run changed since.")),
    responses(
        (status = 202, description = "Cancelling: the run as it is now.", body = RunView, headers(("ETag" = String))),
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_run(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_run")?;
    let id = uuid_path("run", &id)?;
    let (run, version) = load(&state, id)?;
    check_if_match(&if_match, version, "run", &id.to_string())?;
    if run.status.is_active() {
        let actor = crate::audit::Actor::of_request(&caller, &req);
        match state.runs.cancel(Kind::Run, id)? {
            Cancelling::Asked => {
                crate::audit::cancel_requested(&state.store, &actor, Kind::Run, &id.to_string())?;
                return Ok(HttpResponse::Accepted()
                    .insert_header((header::ETAG, etag(version)))
                    .json(RunView { run, result: None }));
            }
            Cancelling::Claimed => return cancel_waiting(&state, &actor, run),
            Cancelling::NotRunning => {}
        }
    }
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            let (current, version) =
                s.get::<RunRecord>(&id.to_string())?
                    .ok_or_else(|| ApiError::NotFound {
                        kind: "run",
                        id: id.to_string(),
                    })?;
            check_if_match(&if_match, version, "run", &id.to_string())?;
            let mut writes = vec![Write::Delete {
                kind: Kind::Run,
                id: id.to_string(),
                expect: Expect::Version(version),
            }];
            if s.get_raw::<RunOutput>(&current.id.to_string())?.is_some() {
                writes.push(Write::Delete {
                    kind: Kind::RunResult,
                    id: id.to_string(),
                    expect: Expect::Present,
                });
            }
            // The input a shared store's queue kept for it goes with it.
            if s.get_raw::<RunInput>(&current.id.to_string())?.is_some() {
                writes.push(Write::Delete {
                    kind: Kind::RunInput,
                    id: id.to_string(),
                    expect: Expect::Present,
                });
            }
            Ok((
                writes,
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::records::{Progress, RunStatus, ScenarioSource};
    use crate::storage::{SledStorage, Store, store_put};

    /// A stored scenario (runs refer to one).
    fn scenario(store: &Store) -> uuid::Uuid {
        let text = chanlab_sim::bundled::find_scenario("dual-authority")
            .unwrap()
            .text;
        let scenario =
            chanlab_sim::scenario::parse(text, chanlab_sim::files::Format::Toml, &|_| {
                Err(String::new())
            })
            .unwrap();
        let record = super::super::scenarios::record_of(&scenario, ScenarioSource::Posted);
        store
            .commit(&[store_put(&record, Expect::Absent)], None)
            .unwrap();
        record.id
    }

    #[test]
    fn a_queued_run_no_thread_holds_is_marked_interrupted_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(SledStorage::open(dir.path()).unwrap()));
        let state = AppState::new(store.clone());
        let run = RunRecord {
            id: uuid::Uuid::now_v7(),
            scenario_id: scenario(&store),
            status: RunStatus::Queued,
            progress: Progress { done: 0, total: 10 },
            seed: 1,
            kind: crate::experiments::RunKind::Compare,
            partner_months: 100,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            error: None,
        };
        store
            .commit(&[store_put(&run, Expect::Absent)], None)
            .unwrap();

        let (seen, _) = load(&state, run.id).unwrap();

        assert_eq!(seen.status, RunStatus::Interrupted);
        assert!(seen.error.as_deref().unwrap().contains("start it again"));
        let (stored, _) = store
            .get::<RunRecord>(&run.id.to_string())
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, RunStatus::Interrupted);
    }

    #[test]
    fn a_queued_run_the_runner_holds_stays_queued() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(SledStorage::open(dir.path()).unwrap()));
        let state = AppState::new(store.clone());
        let id = uuid::Uuid::now_v7();
        let _reserved = state.runs.reserve(Kind::Run, id).unwrap();
        let run = RunRecord {
            id,
            scenario_id: scenario(&store),
            status: RunStatus::Queued,
            progress: Progress { done: 0, total: 10 },
            seed: 1,
            kind: crate::experiments::RunKind::Compare,
            partner_months: 100,
            created_at: chrono::Utc::now(),
            started_at: None,
            finished_at: None,
            error: None,
        };
        store
            .commit(&[store_put(&run, Expect::Absent)], None)
            .unwrap();
        assert_eq!(load(&state, id).unwrap().0.status, RunStatus::Queued);
    }
}
