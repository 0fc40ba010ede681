//! Simulation runs in the background, and the records a scenario is calibrated from.
//!
//! A run is accepted only when it fits [`RunLimits`] (its size, and how many run at once).
//! Each run gets its own thread (and the engine's own rayon pool on it), so the HTTP workers
//! never simulate. The run record is written when it is accepted, when it starts and when it
//! stops, each time flushed; progress between those is kept in memory and shown by
//! `GET /runs/{id}`. A run found queued or running when the server starts is marked
//! interrupted ([`recover`]): nothing survives a restart, but nothing stays "running" for
//! ever either. A backtest of the records is a kind of run: it takes a place among the runs
//! at once and runs on a thread of its own the same way.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chanlab_shared::{
    Activity, Assessment, Goal, Month, Partner, ProcessSpec, ProcessSpecId, Region, Rep,
    SalesRecord, SpecStatus, StageChange,
};
use chanlab_sim::backtest;
use chanlab_sim::calibrate::{self, CalibrateError, Calibration};
use chanlab_sim::engine::{self, EngineError, RunOptions};
use chanlab_sim::from_records::{self, Calibrated, FromRecordsError, Options, Records};
use chanlab_sim::scenario::Scenario;
use chrono::Utc;
use uuid::Uuid;

use crate::error::ApiError;
use crate::records::{
    BacktestOutput, BacktestRecord, RunOutput, RunRecord, RunStatus, SpecVersion,
};
use crate::storage::{Expect, StorageError, Store, store_put};

/// How much simulation the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Runs queued or running at once; one more is refused with 429.
    pub max_running: usize,
    /// Largest run, in partner-months: replications × partner slots × months × specs.
    pub max_partner_months: u64,
    /// Worker threads per run; 0 uses every core.
    pub threads: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            max_running: 2,
            // About 40 s on two cores at the engine's measured 26 M partner-months/s.
            max_partner_months: 1_000_000_000,
            threads: 0,
        }
    }
}

/// Seconds a client refused for too many runs is told to wait.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// A run in progress: its counters, shared with its thread.
#[derive(Debug, Default)]
struct Live {
    done: AtomicU64,
    cancel: AtomicBool,
}

/// The runs in progress and the limits they run under.
#[derive(Debug, Default)]
pub struct Runner {
    limits: RunLimits,
    live: Mutex<HashMap<Uuid, Arc<Live>>>,
}

/// A reserved place among the runs at once; released when dropped unless started.
#[derive(Debug)]
pub struct Reservation<'a> {
    runner: &'a Runner,
    id: Uuid,
    started: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.started {
            self.runner
                .live
                .lock()
                .expect("runner lock")
                .remove(&self.id);
        }
    }
}

impl Runner {
    /// A runner under `limits`.
    pub fn new(limits: RunLimits) -> Self {
        Self {
            limits,
            live: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> RunLimits {
        self.limits
    }

    /// Reserves a place for run `id`, or 429 when [`RunLimits::max_running`] are running.
    pub fn reserve(&self, id: Uuid) -> Result<Reservation<'_>, ApiError> {
        let mut live = self.live.lock().expect("runner lock");
        if live.len() >= self.limits.max_running {
            return Err(ApiError::TooManyRequests {
                detail: format!(
                    "{} runs are queued or running, the most this server runs at once; retry when one finishes, or cancel one with DELETE /runs/{{id}}",
                    live.len()
                ),
                retry_after: RETRY_AFTER_SECONDS,
            });
        }
        live.insert(id, Arc::new(Live::default()));
        Ok(Reservation {
            runner: self,
            id,
            started: false,
        })
    }

    /// Replications done so far by run `id`, if it is in progress.
    pub fn progress(&self, id: Uuid) -> Option<u64> {
        let live = self.live.lock().expect("runner lock");
        live.get(&id).map(|l| l.done.load(Ordering::Relaxed))
    }

    /// Asks run `id` to stop after the replications in flight; false if it is not in
    /// progress.
    pub fn cancel(&self, id: Uuid) -> bool {
        let live = self.live.lock().expect("runner lock");
        match live.get(&id) {
            Some(l) => {
                l.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Starts the reserved run on its own thread. `record` is stored (queued) already.
    pub fn start(
        self: &Arc<Self>,
        reservation: Reservation<'_>,
        store: Store,
        scenario: Scenario,
        record: RunRecord,
    ) -> Result<(), ApiError> {
        let id = record.id;
        self.spawn(
            reservation,
            format!("chanlab-run-{id}"),
            move |live, threads| {
                execute(&store, &scenario, record, live, threads);
            },
        )
    }

    /// Starts the reserved backtest on its own thread, on `records` as they were loaded when
    /// it was accepted. `record` is stored (queued) already. A backtest takes a place among
    /// the runs at once like any run.
    pub fn start_backtest(
        self: &Arc<Self>,
        reservation: Reservation<'_>,
        store: Store,
        records: LoadedRecords,
        record: BacktestRecord,
    ) -> Result<(), ApiError> {
        let id = record.id;
        self.spawn(
            reservation,
            format!("chanlab-backtest-{id}"),
            move |live, threads| execute_backtest(&store, &records, record, live, threads),
        )
    }

    /// Runs `job` on a thread of its own, which leaves the runner however it ends.
    fn spawn(
        self: &Arc<Self>,
        mut reservation: Reservation<'_>,
        name: String,
        job: impl FnOnce(&Live, usize) + Send + 'static,
    ) -> Result<(), ApiError> {
        let live = self
            .live
            .lock()
            .expect("runner lock")
            .get(&reservation.id)
            .cloned()
            .ok_or_else(|| ApiError::Internal("a reserved run vanished".to_owned()))?;
        let runner = Arc::clone(self);
        let id = reservation.id;
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            // Leave the runner however the thread ends, so a place is never lost.
            let threads = runner.limits.threads;
            let _leave = Leave { runner, id };
            job(&live, threads);
        });
        match spawned {
            Ok(_) => {
                reservation.started = true;
                Ok(())
            }
            Err(e) => Err(ApiError::Internal(format!(
                "cannot start a run thread: {e}"
            ))),
        }
    }
}

/// Removes a run from the runner when its thread ends, even by a panic.
struct Leave {
    runner: Arc<Runner>,
    id: Uuid,
}

impl Drop for Leave {
    fn drop(&mut self) {
        if let Ok(mut live) = self.runner.live.lock() {
            live.remove(&self.id);
        }
    }
}

/// Writes a run record and flushes it (on the run's own thread).
fn save(store: &Store, record: &RunRecord, output: Option<&RunOutput>) -> Result<(), ApiError> {
    let mut writes = Vec::new();
    if let Some(out) = output {
        writes.push(store_put(out, Expect::Absent));
    }
    writes.push(store_put(record, Expect::Present));
    store
        .commit(&writes, None)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    store.flush_blocking()?;
    Ok(())
}

fn execute(store: &Store, scenario: &Scenario, mut record: RunRecord, live: &Live, threads: usize) {
    let log = |what: &str, e: &ApiError| {
        tracing::error!(run = %record.id, error = %e, "{what}");
    };
    if live.cancel.load(Ordering::Relaxed) {
        record.status = RunStatus::Cancelled;
        record.finished_at = Some(Utc::now());
        if let Err(e) = save(store, &record, None) {
            log("cannot store a cancelled run", &e);
        }
        return;
    }
    record.status = RunStatus::Running;
    record.started_at = Some(Utc::now());
    if let Err(e) = save(store, &record, None) {
        log("cannot store a started run", &e);
        return;
    }
    let options = RunOptions {
        threads,
        shard: None,
    };
    let tick = || {
        live.done.fetch_add(1, Ordering::Relaxed);
        if live.cancel.load(Ordering::Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        engine::run_cancellable(scenario, &options, &tick)
    }));
    record.finished_at = Some(Utc::now());
    record.progress.done = live.done.load(Ordering::Relaxed);
    let output = match outcome {
        Ok(Ok(result)) => {
            record.status = RunStatus::Done;
            record.progress.done = result.replications_done();
            Some(RunOutput {
                run_id: record.id,
                result,
            })
        }
        Ok(Err(EngineError::Cancelled { done })) => {
            record.status = RunStatus::Cancelled;
            record.progress.done = done;
            None
        }
        Ok(Err(e)) => {
            record.status = RunStatus::Failed;
            record.error = Some(e.to_string());
            None
        }
        Err(_) => {
            tracing::error!(run = %record.id, "the simulation panicked");
            record.status = RunStatus::Failed;
            record.error = Some("the simulation failed; it has been logged".to_owned());
            None
        }
    };
    if let Err(e) = save(store, &record, output.as_ref()) {
        log("cannot store a finished run", &e);
        record.status = RunStatus::Failed;
        record.error = Some("the result could not be stored; it has been logged".to_owned());
        let _ = save(store, &record, None);
    }
}

/// Writes a backtest record, with its result when it has one, and flushes (on the
/// backtest's own thread).
fn save_backtest(
    store: &Store,
    record: &BacktestRecord,
    output: Option<&BacktestOutput>,
) -> Result<(), ApiError> {
    let mut writes = Vec::new();
    if let Some(out) = output {
        writes.push(store_put(out, Expect::Absent));
    }
    writes.push(store_put(record, Expect::Present));
    store
        .commit(&writes, None)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    store.flush_blocking()?;
    Ok(())
}

fn execute_backtest(
    store: &Store,
    records: &LoadedRecords,
    mut record: BacktestRecord,
    live: &Live,
    threads: usize,
) {
    let log = |what: &str, e: &ApiError| {
        tracing::error!(backtest = %record.id, error = %e, "{what}");
    };
    record.status = RunStatus::Running;
    record.started_at = Some(Utc::now());
    if let Err(e) = save_backtest(store, &record, None) {
        log("cannot store a started backtest", &e);
        return;
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let Some(baseline) = records
            .published
            .iter()
            .find(|s| s.id == record.process_spec_id)
        else {
            return Err("its baseline spec is no longer among the records loaded".to_owned());
        };
        let options = backtest_options(record.holdout_months, record.replications, record.seed);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| format!("cannot start {threads} worker threads: {e}"))?;
        let progress = || {
            live.done.fetch_add(1, Ordering::Relaxed);
        };
        pool.install(|| {
            backtest::backtest_with_progress(records.view(baseline), &options, &progress)
        })
        .map_err(|e| e.to_string())
    }));
    record.finished_at = Some(Utc::now());
    let output = match outcome {
        Ok(Ok(result)) => {
            record.status = RunStatus::Done;
            Some(BacktestOutput {
                backtest_id: record.id,
                result,
            })
        }
        Ok(Err(e)) => {
            record.status = RunStatus::Failed;
            record.error = Some(e);
            None
        }
        Err(_) => {
            tracing::error!(backtest = %record.id, "the backtest panicked");
            record.status = RunStatus::Failed;
            record.error = Some("the backtest failed; it has been logged".to_owned());
            None
        }
    };
    if let Err(e) = save_backtest(store, &record, output.as_ref()) {
        log("cannot store a finished backtest", &e);
        record.status = RunStatus::Failed;
        record.error = Some("the result could not be stored; it has been logged".to_owned());
        let _ = save_backtest(store, &record, None);
    }
}

/// Marks every run and backtest left queued or running by a previous process as
/// interrupted, and flushes. Blocking; called once when the server starts, before it
/// answers. Returns how many were marked.
pub fn recover(store: &Store) -> Result<usize, StorageError> {
    let mut stale = Vec::new();
    let mut backtests = Vec::new();
    for status in [RunStatus::Queued, RunStatus::Running] {
        stale.extend(store.all::<RunRecord>(Some(("status", status.as_str())))?);
        backtests.extend(store.all::<BacktestRecord>(Some(("status", status.as_str())))?);
    }
    let why = "the server stopped while this run was in progress; start the run again";
    for mut run in stale.iter().cloned() {
        run.status = RunStatus::Interrupted;
        run.finished_at = Some(Utc::now());
        run.error = Some(why.to_owned());
        store
            .commit(&[store_put(&run, Expect::Present)], None)
            .map_err(|e| StorageError(e.to_string()))?;
    }
    for mut b in backtests.iter().cloned() {
        b.status = RunStatus::Interrupted;
        b.finished_at = Some(Utc::now());
        b.error = Some(
            "the server stopped while this backtest was in progress; post it again".to_owned(),
        );
        store
            .commit(&[store_put(&b, Expect::Present)], None)
            .map_err(|e| StorageError(e.to_string()))?;
    }
    let count = stale.len() + backtests.len();
    if count > 0 {
        store.flush_blocking()?;
        tracing::warn!(
            runs = stale.len(),
            backtests = backtests.len(),
            "runs interrupted by a restart"
        );
    }
    Ok(count)
}

/// Everything a scenario is calibrated from, loaded from the store.
#[derive(Debug, Clone)]
pub struct LoadedRecords {
    /// Regions.
    pub regions: Vec<Region>,
    /// Reps.
    pub reps: Vec<Rep>,
    /// Partners.
    pub partners: Vec<Partner>,
    /// Sales records.
    pub sales: Vec<SalesRecord>,
    /// Activities.
    pub activities: Vec<Activity>,
    /// Published process spec versions.
    pub published: Vec<ProcessSpec>,
    /// Partners' dated stage changes.
    pub stage_changes: Vec<StageChange>,
    /// Goals.
    pub goals: Vec<Goal>,
    /// Assessments.
    pub assessments: Vec<Assessment>,
}

/// Loads every record [`from_records::build`] reads. Blocking.
pub fn load_records(store: &Store) -> Result<LoadedRecords, StorageError> {
    Ok(LoadedRecords {
        regions: store.all(None)?,
        reps: store.all(None)?,
        partners: store.all(None)?,
        sales: store.all(None)?,
        activities: store.all(None)?,
        published: store
            .all::<SpecVersion>(Some(("status", "Published")))?
            .into_iter()
            .map(|v| v.0)
            .filter(|s| s.status == SpecStatus::Published)
            .collect(),
        stage_changes: store.all(None)?,
        goals: store.all(None)?,
        assessments: store.all(None)?,
    })
}

impl LoadedRecords {
    /// The records as the simulator reads them, under `baseline`.
    pub fn view<'a>(&'a self, baseline: &'a ProcessSpec) -> Records<'a> {
        Records {
            regions: &self.regions,
            reps: &self.reps,
            partners: &self.partners,
            sales: &self.sales,
            activities: &self.activities,
            baseline,
            stage_changes: &self.stage_changes,
            goals: &self.goals,
            assessments: &self.assessments,
        }
    }
}

/// The published spec in force at the end of `month` (the latest published on or before
/// it), or the latest one: the baseline of a calibration as of that month and of a backtest
/// cut there. `None` when no spec is published.
pub fn spec_in_force(records: &LoadedRecords, month: Option<Month>) -> Option<&ProcessSpec> {
    let end = month.and_then(|m| m.plus(1)).map(|m| m.first_day());
    records
        .published
        .iter()
        .filter(|s| match (end, s.published_on) {
            (Some(end), Some(on)) => on < end,
            _ => true,
        })
        .max_by_key(|s| (s.published_on, s.id))
        .or_else(|| {
            records
                .published
                .iter()
                .max_by_key(|s| (s.published_on, s.id))
        })
}

/// The 409 when no spec is published.
fn nothing_published() -> ApiError {
    ApiError::Conflict {
        detail: "no process spec is published: publish the spec in force (POST /process-specs/{id}/publish), which becomes the baseline".to_owned(),
        allowed: Vec::new(),
    }
}

/// The baseline: the published version of `spec` when given (422 on `process_spec_id`
/// otherwise), else the spec in force at the end of `month` ([`spec_in_force`]; 409 when
/// none is published).
pub fn baseline(
    records: &LoadedRecords,
    spec: Option<ProcessSpecId>,
    month: Option<Month>,
) -> Result<&ProcessSpec, ApiError> {
    match spec {
        Some(id) => records
            .published
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                ApiError::field(
                    "process_spec_id",
                    format!("the process spec {id} has no published version"),
                )
            }),
        None => spec_in_force(records, month).ok_or_else(nothing_published),
    }
}

fn from_records_error(e: FromRecordsError) -> ApiError {
    match e {
        FromRecordsError::Option { field, message } => ApiError::field(field, message),
        FromRecordsError::Records(detail) => ApiError::Conflict {
            detail,
            allowed: Vec::new(),
        },
    }
}

/// Builds a scenario from loaded records: the baseline is the published version of
/// `spec` when given, else the most recently published spec.
pub fn calibrate(
    records: &LoadedRecords,
    spec: Option<ProcessSpecId>,
    options: &Options,
) -> Result<Calibrated, ApiError> {
    let baseline = baseline(records, spec, None)?;
    from_records::build(records.view(baseline), options).map_err(from_records_error)
}

/// Builds a scenario from loaded records and fits the behaviour parameters they identify
/// (sim/MODEL.md §12.2–12.4): the baseline is the published version of `spec` when given,
/// else the spec in force at the as-of month. Records too short to calibrate from are a
/// 409 saying what is missing.
pub fn fit(
    records: &LoadedRecords,
    spec: Option<ProcessSpecId>,
    options: &calibrate::Options,
) -> Result<Calibration, ApiError> {
    let baseline = baseline(records, spec, options.scenario.as_of)?;
    calibrate::calibrate(records.view(baseline), options).map_err(|e| match e {
        CalibrateError::Records(e) => from_records_error(e),
        CalibrateError::TooShort(detail) => ApiError::Conflict {
            detail,
            allowed: Vec::new(),
        },
    })
}

/// A backtest's options, from what `chanlab backtest` and `POST /backtests` are given: the
/// calibration's defaults, the forecast's replications and seed.
pub fn backtest_options(holdout_months: u32, replications: u32, seed: u64) -> backtest::Options {
    backtest::Options {
        holdout_months,
        calibration: calibrate::Options {
            scenario: Options {
                replications,
                seed,
                ..Options::default()
            },
            ..calibrate::Options::default()
        },
    }
}
