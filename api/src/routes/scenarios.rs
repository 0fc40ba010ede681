//! `/scenarios`: simulated copies of the channel, posted in the scenario file's schema or
//! built from the records, and the runs started on them.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chanlab_shared::{Month, Name, ProcessSpecId};
use chanlab_sim::calibrate;
use chanlab_sim::files::Format;
use chanlab_sim::from_records::{DEFAULT_CREDIBILITY_MONTHS, Options};
use chanlab_sim::scenario::{self, Scenario};
use chrono::Utc;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Cursor, Outcome, create_record, default_field, delete_record, next_link, page_type};
use super::{resource, write};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::experiments::{self, OptimiseRequest, RunKind, SensitivityRequest};
use crate::extract::{Body, IdempotencyKey, IfMatch, JSON_LIMIT, parse_json, read_limited};
use crate::records::{Progress, RunInput, RunRecord, RunStatus, ScenarioRecord, ScenarioSource};
use crate::simulation::Admission;
use crate::state::AppState;
use crate::storage::{Expect, Kind, store_put};

/// Registers the scenario routes. `from-records` comes before `{id}`, which would
/// otherwise take it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/scenarios")
            .route(web::get().to(list_scenarios))
            .route(web::post().to(create_scenario)),
    )
    .service(resource("/scenarios/from-records").route(web::post().to(scenario_from_records)))
    .service(
        resource("/scenarios/{id}")
            .route(web::get().to(get_scenario))
            .route(web::delete().to(delete_scenario)),
    )
    .service(resource("/scenarios/{id}/runs").route(web::post().to(create_run)));
}

page_type!(ScenarioPage, ScenarioRecord, "A page of scenarios.");

/// A JSON body that may be left out: an empty body, or JSON `null`, reads as `T::default()`
/// (the document declares such a body as `T` or `null`, not required).
#[derive(Debug)]
pub struct OptionalBody<T> {
    /// The parsed value.
    pub value: T,
    /// The bytes as received.
    pub raw: web::Bytes,
}

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_limited(req, payload, JSON_LIMIT);
        Box::pin(async move {
            let raw = read.await?;
            let value = if raw.iter().all(u8::is_ascii_whitespace) {
                T::default()
            } else {
                parse_json::<Option<T>>(&raw)?.unwrap_or_default()
            };
            Ok(OptionalBody { value, raw })
        })
    }
}

/// What `POST /scenarios/from-records` may choose; every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"horizon_months": 12, "replications": 200, "seed": 7, "compare": ["stretch"], "calibrate": true}))]
pub struct FromRecordsRequest {
    /// The scenario's name (default `From records as of <month>`).
    #[serde(default)]
    pub name: Option<Name>,
    /// Last month of history to use (default: the latest month with a sales record).
    #[serde(default)]
    pub as_of: Option<Month>,
    /// First simulated month (default: the month after `as_of`).
    #[serde(default)]
    pub start: Option<Month>,
    /// Months to simulate, 1 to 240 (default 12).
    #[serde(default)]
    pub horizon_months: Option<u32>,
    /// Replications (default 1000).
    #[serde(default)]
    pub replications: Option<u32>,
    /// Seed (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The baseline's spec (default: the most recently published one).
    #[serde(default)]
    pub process_spec_id: Option<ProcessSpecId>,
    /// Bundled specs to compare with the baseline (`chanlab spec list`).
    #[serde(default)]
    pub compare: Vec<String>,
    /// Credibility constant k in months: a partner with n months of history has weight
    /// n/(n+k) on its own estimate (default 3).
    #[serde(default)]
    pub credibility_months: Option<f64>,
    /// Also fit the behaviour parameters the records identify (sim/MODEL.md §12.2–12.4):
    /// the scenario then carries their uncertainty, drawn afresh in each replication, and
    /// the answer's `fit` says how each was fitted and whether the records identify it.
    /// Needs at least 12 months of sales before `as_of` (409 otherwise). Default false.
    #[serde(default)]
    pub calibrate: bool,
}

impl FromRecordsRequest {
    /// The simulator's options.
    pub fn options(&self) -> Options {
        let d = Options::default();
        Options {
            name: self.name.clone(),
            as_of: self.as_of,
            start: self.start,
            horizon_months: self.horizon_months.unwrap_or(d.horizon_months),
            replications: self.replications.unwrap_or(d.replications),
            seed: self.seed.unwrap_or(d.seed),
            compare: self.compare.clone(),
            credibility_months: self
                .credibility_months
                .unwrap_or(DEFAULT_CREDIBILITY_MONTHS),
            ..d
        }
    }
}

/// Overrides for one run; both optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"replications": 200, "seed": 7}))]
pub struct RunRequest {
    /// What to compute: `compare` (the default, or `sweep` for a scenario with a
    /// `[[sweep]]`), `sweep`, `sensitivity` or `optimise`.
    #[serde(default)]
    pub kind: Option<RunKind>,
    /// Replications, instead of the scenario's (per point for a sweep or a sensitivity
    /// study; the confirmation's for a policy search).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub replications: Option<u32>,
    /// Seed, instead of the scenario's.
    #[serde(default)]
    pub seed: Option<u64>,
    /// A sensitivity study's options (with `"kind": "sensitivity"`).
    #[serde(default)]
    pub sensitivity: Option<SensitivityRequest>,
    /// A policy search's options (with `"kind": "optimise"`; required then).
    #[serde(default)]
    pub optimise: Option<OptimiseRequest>,
}

fn no_files(path: &str) -> Result<String, String> {
    Err(format!(
        "a scenario sent to the API cannot refer to the file {path:?}; inline the spec (`inline`) or name a bundled one (`bundled`)"
    ))
}

/// The stored scenario `id`, validated again. Point read.
fn load(state: &AppState, id: Uuid) -> Result<(ScenarioRecord, Scenario), ApiError> {
    let (record, _) = state
        .store
        .get::<ScenarioRecord>(&id.to_string())?
        .ok_or_else(|| ApiError::NotFound {
            kind: "scenario",
            id: id.to_string(),
        })?;
    let scenario = scenario::resolve(record.scenario.clone(), &no_files).map_err(|e| {
        ApiError::Internal(format!("stored scenario {id} no longer validates: {e}"))
    })?;
    Ok((record, scenario))
}

pub(super) fn record_of(scenario: &Scenario, source: ScenarioSource) -> ScenarioRecord {
    ScenarioRecord {
        id: Uuid::now_v7(),
        created_at: Utc::now(),
        source,
        partner_slots: scenario.partner_slots(),
        scenario: scenario.file().clone(),
        calibration: None,
        fit: None,
    }
}

/// Stores a scenario.
///
/// The body is a scenario in the scenario file's schema (`chanlab scenario init` prints
/// one, commented) as JSON, checked by the same parser as `chanlab run`: specs are inline or
/// bundled (not files), unknown keys are errors, and a rejection names the field
/// (`specs[1].inline.incentive.cap`). The stored scenario is self-contained: every spec
/// inline and every behaviour parameter in force.
#[utoipa::path(post, path = "/scenarios", tag = "simulation", operation_id = "create_scenario",
    request_body(content = chanlab_sim::scenario::ScenarioFile, description = "A scenario file as JSON. Its specs are inline or bundled: a spec `file` is refused (422).",
        example = json!({"name": "Two regions", "horizon_months": 12, "replications": 200, "seed": 7,
            "channel": {"regions": [{"name": "North", "reps": 2, "partners": {"A": 2, "B": 6, "C": 10}, "prospects": 5}]},
            "specs": [{"bundled": "flat-growth"}, {"bundled": "stretch"}]})),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Stored.", body = ScenarioRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 415, response = super::responses::UnsupportedMediaType),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn create_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: Body<IgnoredAny>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_scenario")?;
    let text = std::str::from_utf8(&body.raw)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_owned()))?;
    let scenario = scenario::parse(text, Format::Json, &no_files).map_err(|e| {
        let field = if e.field.is_empty() {
            "scenario".to_owned()
        } else {
            e.field.clone()
        };
        ApiError::field(field, e.message)
    })?;
    let record = record_of(&scenario, ScenarioSource::Posted);
    let location = format!("/scenarios/{}", record.id);
    create_record(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        record,
        location,
    )
    .await
}

/// Builds and stores a scenario from the records.
///
/// The real regions, reps and partners (tier, region, stage, owner rep), each partner's
/// potential and starting engagement estimated from its sales history and the activity log
/// (method in sim/MODEL.md §12), and the published process spec as the baseline, plus any
/// bundled specs named in `compare`. The answer's `calibration` says, per partner, which
/// method was used, on how many months of history, and what it gave. With `calibrate`,
/// the behaviour parameters the records identify are fitted too (the baseline is then the
/// spec in force at `as_of`), the scenario carries their uncertainty, and the answer's
/// `fit` reports each parameter and moment; records shorter than a calibration needs are
/// a 409 saying how many months are missing.
#[utoipa::path(post, path = "/scenarios/from-records", tag = "simulation", operation_id = "scenario_from_records",
    request_body(content = Option<FromRecordsRequest>, description = "Optional; every field has a default."),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first result and creates nothing new.")),
    responses(
        (status = 201, description = "Built and stored.", body = ScenarioRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 409, response = super::responses::Conflict),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 422, response = super::responses::Unprocessable),
    ),
    security(("bearer" = [])))]
pub async fn scenario_from_records(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    body: OptionalBody<FromRecordsRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("scenario_from_records")?;
    let request = body.value;
    write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        default_field,
        move |store| {
            let records = crate::simulation::load_records(store)?;
            let (calibrated, fit) = if request.calibrate {
                let options = calibrate::Options {
                    scenario: request.options(),
                    ..calibrate::Options::default()
                };
                let c = crate::simulation::fit(&records, request.process_spec_id, &options)?;
                (c.calibrated, Some(c.fit))
            } else {
                let plain = crate::simulation::calibrate(
                    &records,
                    request.process_spec_id,
                    &request.options(),
                )?;
                (plain, None)
            };
            let mut record = record_of(&calibrated.scenario, ScenarioSource::FromRecords);
            record.calibration = Some(calibrated.report);
            record.fit = fit;
            let location = format!("/scenarios/{}", record.id);
            Ok((
                vec![store_put(&record, Expect::Absent)],
                super::created(&record, location),
            ))
        },
    )
    .await
}

/// Lists scenarios, oldest first.
#[utoipa::path(get, path = "/scenarios", tag = "simulation", operation_id = "list_scenarios",
    params(Cursor),
    responses(
        (status = 200, description = "A page of scenarios.", body = ScenarioPage),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
    ),
    security(("bearer" = [])))]
pub async fn list_scenarios(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<Cursor>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("list_scenarios")?;
    let limit = query.limit()?;
    let after = query.after.clone();
    let page = state
        .store
        .run(move |s| s.list::<ScenarioRecord>(None, after.as_deref(), limit, &|_| true))
        .await??;
    Ok(HttpResponse::Ok().json(ScenarioPage {
        next: next_link(&req, page.next_after),
        items: page.items,
    }))
}

/// Reads a scenario.
#[utoipa::path(get, path = "/scenarios/{id}", tag = "simulation", operation_id = "get_scenario",
    params(("id" = String, Path, description = "The scenario's id.")),
    responses(
        (status = 200, description = "The scenario.", body = ScenarioRecord, headers(("ETag" = String))),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
    ),
    security(("bearer" = [])))]
pub async fn get_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = caller.allow("get_scenario")?;
    let id: Uuid = uuid_path("scenario", &id)?;
    super::read_one::<ScenarioRecord>(&state.store, access, "scenario", &id.to_string(), |_| true)
}

/// Deletes a scenario. A scenario with runs is kept (409) until its runs are deleted.
#[utoipa::path(delete, path = "/scenarios/{id}", tag = "simulation", operation_id = "delete_scenario",
    params(("id" = String, Path, description = "The scenario's id."),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if the scenario changed since.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 409, response = super::responses::Conflict),
        (status = 412, response = super::responses::PreconditionFailed),
    ),
    security(("bearer" = [])))]
pub async fn delete_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    caller.allow("delete_scenario")?;
    let id: Uuid = uuid_path("scenario", &id)?;
    write(
        &state,
        &caller,
        IdempotencyKey(None),
        &req,
        b"",
        default_field,
        move |s| {
            delete_record::<ScenarioRecord>(s, &id.to_string(), &if_match, "scenario", |_| Ok(()))
        },
    )
    .await
}

/// An id in a path: a UUID, or 404.
pub(crate) fn uuid_path(kind: &'static str, text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound {
        kind,
        id: text.to_owned(),
    })
}

/// Starts a run of a scenario in the background.
///
/// Answers 202 with the run (queued) and its `Location`; `GET /runs/{id}` follows it. A run
/// is a comparison, a sweep of the scenario's `[[sweep]]`, a sensitivity study or a policy
/// search (`kind`, sim/MODEL.md §13); a bad option is a 422 naming it (`optimise.vary[0]`).
/// The run's size, replications × partner slots × months × specs over every point it
/// simulates, must be within the server's cap (422 on `replications` otherwise, saying how
/// many fit), and only so many runs go at once (429 with `Retry-After` beyond).
#[utoipa::path(post, path = "/scenarios/{id}/runs", tag = "simulation", operation_id = "create_run",
    params(("id" = String, Path, description = "The scenario's id."),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = r"^[!-~]([ -~]*[!-~])?$", description = "Retrying with the same key returns the first run and starts nothing new.")),
    request_body(content = Option<RunRequest>, description = "Optional overrides."),
    responses(
        (status = 202, description = "Accepted: queued.", body = RunRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 400, response = super::responses::BadRequest),
        (status = 401, response = super::responses::Unauthorized),
        (status = 403, response = super::responses::Forbidden),
        (status = 404, response = super::responses::NotFound),
        (status = 413, response = super::responses::PayloadTooLarge),
        (status = 422, response = super::responses::Unprocessable),
        (status = 429, response = super::responses::TooManyRequests),
    ),
    security(("bearer" = [])))]
pub async fn create_run(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    idem: IdempotencyKey,
    id: web::Path<String>,
    body: OptionalBody<RunRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.allow("create_run")?;
    let scenario_id: Uuid = uuid_path("scenario", &id)?;
    let (_, scenario) = load(&state, scenario_id)?;
    let kind = body
        .value
        .kind
        .unwrap_or(if scenario.file().sweep.is_empty() {
            RunKind::Compare
        } else {
            RunKind::Sweep
        });
    // As `chanlab sensitivity`: per parameter set, the scenario's replications up to the
    // study's default unless asked for more.
    let replications = body.value.replications.or_else(|| {
        (kind == RunKind::Sensitivity).then(|| {
            scenario
                .file()
                .replications
                .min(chanlab_sim::explore::sensitivity::DEFAULT_REPLICATIONS)
        })
    });
    let scenario = scenario
        .with_overrides(replications, body.value.seed)
        .map_err(|e| ApiError::field(e.field(), e.message()))?;
    let limits = state.runs.limits();
    let seed = scenario.file().seed;
    let replications = scenario.file().replications;
    // Kept for an instance that claims the run from a shared store's queue.
    let planned_file = scenario.file().clone();
    let planned = experiments::plan(
        kind,
        scenario,
        body.value.sensitivity.as_ref(),
        body.value.optimise.as_ref(),
        limits.threads,
    )?;
    let size = planned.size();
    if size.partner_months > limits.max_partner_months {
        let fit = u128::from(limits.max_partner_months) * u128::from(replications)
            / u128::from(size.partner_months.max(1));
        return Err(ApiError::field(
            "replications",
            format!(
                "this {} is {} partner-months (partner slots × months × specs × replications, over every point it simulates), over this server's cap of {}; at most {}{fit} replications fit",
                kind.as_str(),
                size.partner_months,
                limits.max_partner_months,
                // A search's size is not proportional to its confirmation's replications.
                if kind == RunKind::Optimise {
                    "about "
                } else {
                    ""
                },
            ),
        ));
    }
    let record = RunRecord {
        id: Uuid::now_v7(),
        scenario_id,
        kind,
        status: RunStatus::Queued,
        progress: Progress {
            done: 0,
            total: size.ticks,
        },
        seed,
        partner_months: size.partner_months,
        created_at: Utc::now(),
        started_at: None,
        finished_at: None,
        error: None,
    };
    let admission = state.runs.admit(Kind::Run, record.id)?;
    let input = matches!(admission, Admission::Queued).then(|| RunInput {
        run_id: record.id,
        scenario: planned_file,
        sensitivity: body.value.sensitivity.clone(),
        optimise: body.value.optimise.clone(),
    });
    let location = format!("/runs/{}", record.id);
    let stored = record.clone();
    let response = write(
        &state,
        &caller,
        idem,
        &req,
        &body.raw,
        |kind| match kind {
            Kind::Scenario => "id".to_owned(),
            other => default_field(other),
        },
        move |_| {
            let outcome = Outcome {
                status: 202,
                version: Some(1),
                body: Some(serde_json::to_value(&stored).expect("runs serialise")),
                location: Some(location),
            };
            let mut writes = vec![store_put(&stored, Expect::Absent)];
            writes.extend(input.iter().map(|i| store_put(i, Expect::Absent)));
            Ok((writes, outcome))
        },
    )
    .await?;
    if response.headers().contains_key("idempotent-replayed") {
        // The first request started the run; this one starts nothing.
        return Ok(response);
    }
    match admission {
        Admission::Here(reservation) => {
            state
                .runs
                .start(reservation, state.store.clone(), planned, record)?;
        }
        Admission::Queued => state.runs.wake(),
    }
    Ok(response)
}
