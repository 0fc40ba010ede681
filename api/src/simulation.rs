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

use std::sync::Arc;

use chanlab_shared::{
    Activity, Assessment, Goal, Month, Partner, ProcessSpec, ProcessSpecId, Region, Rep,
    SalesRecord, SpecStatus, StageChange,
};
use chanlab_sim::backtest;
use chanlab_sim::calibrate::{self, CalibrateError, Calibration};
use chanlab_sim::from_records::{self, Calibrated, FromRecordsError, Options, Records};
use uuid::Uuid;

use crate::error::ApiError;
use crate::experiments::{Finished, Planned};
use crate::jobs::{JobRecord, Life, Live, Stopped, interrupt, run_job};
use crate::records::{
    BacktestOutput, BacktestRecord, RunOutput, RunRecord, RunStatus, SpecVersion,
};
use crate::storage::{StorageError, Store};

pub use crate::jobs::{
    Admission, Cancelling, Held, RETRY_AFTER_SECONDS, Reservation, RunLimits, Runner,
};

impl Runner {
    /// Starts the reserved run on its own thread. `record` is stored (queued) already.
    pub fn start(
        self: &Arc<Self>,
        reservation: Reservation<'_>,
        store: Store,
        planned: Planned,
        record: RunRecord,
    ) -> Result<(), ApiError> {
        let id = record.id;
        self.spawn(
            reservation,
            format!("chanlab-run-{id}"),
            move |live, threads| {
                run_job(
                    &store,
                    record,
                    live,
                    || planned.compute(live, threads),
                    |record, result| {
                        if let (Finished::Compare(r), Some(p)) = (&result, record.life().progress) {
                            p.done = r.replications_done();
                        }
                        RunOutput { run_id: id, result }
                    },
                )
            },
        )
    }

    /// Starts the reserved backtest on its own thread, on `records` as they were loaded when
    /// it was accepted, or, for one claimed from a shared store's queue (`None`), as they
    /// are when it starts. `record` is stored (queued) already. A backtest takes a place
    /// among the runs at once like any run.
    pub fn start_backtest(
        self: &Arc<Self>,
        reservation: Reservation<'_>,
        store: Store,
        records: Option<LoadedRecords>,
        record: BacktestRecord,
    ) -> Result<(), ApiError> {
        let id = record.id;
        let (spec, holdout, replications, seed) = (
            record.process_spec_id,
            record.holdout_months,
            record.replications,
            record.seed,
        );
        self.spawn(
            reservation,
            format!("chanlab-backtest-{id}"),
            move |live, threads| {
                let options = backtest_options(holdout, replications, seed);
                let loader = store.clone();
                let compute = move || {
                    let records = match records {
                        Some(r) => r,
                        None => load_records(&loader).map_err(|e| {
                            tracing::error!(error = %e, "cannot load the records for a backtest");
                            Stopped::Failed(
                                "the records could not be read; it has been logged".to_owned(),
                            )
                        })?,
                    };
                    run_backtest(&records, spec, &options, live, threads)
                };
                run_job(&store, record, live, compute, |_, result| BacktestOutput {
                    backtest_id: id,
                    result,
                })
            },
        )
    }
}

/// A backtest's computation on the engine's pool of `threads`.
fn run_backtest(
    records: &LoadedRecords,
    spec: ProcessSpecId,
    options: &backtest::Options,
    live: &Live,
    threads: usize,
) -> Result<backtest::Backtest, Stopped> {
    let baseline = records
        .published
        .iter()
        .find(|s| s.id == spec)
        .ok_or_else(|| {
            Stopped::Failed("its baseline spec is no longer among the records loaded".to_owned())
        })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Stopped::Failed(format!("cannot start {threads} worker threads: {e}")))?;
    let progress = || {
        // A backtest cannot stop half-way; its replications are counted all the same.
        let _ = live.tick();
    };
    pool.install(|| backtest::backtest_with_progress(records.view(baseline), options, &progress))
        .map_err(|e| Stopped::Failed(e.to_string()))
}

impl JobRecord for RunRecord {
    const NOUN: &'static str = "run";
    fn id(&self) -> Uuid {
        self.id
    }
    fn life(&mut self) -> Life<'_> {
        Life {
            status: &mut self.status,
            started_at: &mut self.started_at,
            finished_at: &mut self.finished_at,
            error: &mut self.error,
            progress: Some(&mut self.progress),
        }
    }
}

impl JobRecord for BacktestRecord {
    const NOUN: &'static str = "backtest";
    fn id(&self) -> Uuid {
        self.id
    }
    fn life(&mut self) -> Life<'_> {
        Life {
            status: &mut self.status,
            started_at: &mut self.started_at,
            finished_at: &mut self.finished_at,
            error: &mut self.error,
            progress: None,
        }
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
    let failed = |e: ApiError| StorageError::new(e.to_string());
    for run in &stale {
        let why = "the server stopped while this run was in progress; start the run again";
        interrupt::<RunRecord>(store, &run.id.to_string(), why).map_err(failed)?;
    }
    for b in &backtests {
        let why = "the server stopped while this backtest was in progress; post it again";
        interrupt::<BacktestRecord>(store, &b.id.to_string(), why).map_err(failed)?;
    }
    let count = stale.len() + backtests.len();
    if count > 0 {
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
            .all::<SpecVersion>(Some((
                "status",
                crate::storage::index_key::spec_status(SpecStatus::Published),
            )))?
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
