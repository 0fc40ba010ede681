//! The dispatcher of an instance on a shared store: one thread that, every
//! [`HEARTBEAT`] (or at once when this instance queued a job), says the instance is alive,
//! reports the progress of the jobs it runs and picks up their cancellations, marks
//! interrupted the jobs of instances that stopped answering, and claims waiting jobs while
//! it has room ([`crate::storage::queue`]).
//!
//! It plans a claimed run from the records alone (the run and its [`RunInput`]), so any
//! instance runs any run the same way, and it does no heavy work itself: a backtest loads
//! its records on its own thread. It ends when the server's state is dropped.

use std::sync::{Arc, Weak};

use chanlab_sim::scenario;
use uuid::Uuid;

use crate::error::ApiError;
use crate::experiments;
use crate::jobs::{JobRecord, interrupt};
use crate::records::{BacktestRecord, RunInput, RunRecord};
use crate::state::AppState;
use crate::storage::queue::{HEARTBEAT, Job};
use crate::storage::{Expect, Kind, store_put};

/// Beats between two looks for the jobs of instances that stopped answering.
const ORPHAN_EVERY: u32 = 4;

/// What a job of an instance that stopped answering is marked with.
const ABANDONED: &str =
    "the server running it stopped answering while it was in progress; start it again";

/// What a job that ended here without its final commit is marked with.
const LOST: &str = "its result could not be stored; it has been logged; start it again";

/// Starts the dispatcher of `state` if its store is shared; it stops when `state` goes.
///
/// The instance says it is alive once before it starts (and before the server answers):
/// the others' admission counts the instances alive, so one that answered before its
/// first beat would be left out of the queue's room for up to a beat.
pub(crate) fn start(state: &Arc<AppState>) -> std::io::Result<()> {
    if !state.runs.is_shared() {
        return Ok(());
    }
    if let Some((queue, instance)) = state.runs.queue()
        && let Err(e) = queue.heartbeat(instance)
    {
        tracing::warn!(error = %e, "the run queue could not be told this instance is alive; trying again");
    }
    let weak = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("chanlab-dispatch".to_owned())
        .spawn(move || run(&weak))
        .map(drop)
}

fn run(weak: &Weak<AppState>) {
    let mut beat = 0u32;
    loop {
        let Some(state) = weak.upgrade() else { return };
        if let Err(e) = tick(&state, beat.is_multiple_of(ORPHAN_EVERY)) {
            tracing::warn!(error = %e, "the run queue could not be served; trying again");
        }
        let runs = Arc::clone(&state.runs);
        drop(state);
        runs.wait(HEARTBEAT);
        beat = beat.wrapping_add(1);
    }
}

/// One beat. Claims last, so that a job claimed here is in the runner before the next
/// report (which would otherwise take it for one that ended without its commit).
pub(crate) fn tick(state: &AppState, orphans: bool) -> Result<(), ApiError> {
    let Some((queue, instance)) = state.runs.queue() else {
        return Ok(());
    };
    queue.heartbeat(instance)?;
    let report = queue.report(instance, &state.runs.running())?;
    for job in &report.cancel {
        if let Ok(id) = Uuid::parse_str(&job.id) {
            state.runs.cancel_here(id);
        }
    }
    for job in &report.strays {
        tracing::error!(kind = job.kind.name(), id = %job.id, "a job ended without its final commit");
        mark(state, job, LOST)?;
    }
    if orphans {
        for job in queue.take_orphans(instance)? {
            tracing::warn!(kind = job.kind.name(), id = %job.id, "a job of a stopped instance is marked interrupted");
            mark(state, &job, ABANDONED)?;
        }
    }
    while state.runs.room() > 0 {
        let Some(job) = queue.claim(instance)? else {
            break;
        };
        if let Err(e) = begin(state, &job) {
            tracing::error!(kind = job.kind.name(), id = %job.id, error = %e, "a claimed job could not start");
            fail(
                state,
                &job,
                "it could not start; it has been logged; start it again",
            )?;
        }
    }
    Ok(())
}

/// Marks `job` interrupted, whatever its kind.
fn mark(state: &AppState, job: &Job, why: &str) -> Result<(), ApiError> {
    match job.kind {
        Kind::Run => interrupt::<RunRecord>(&state.store, &job.id, why).map(drop),
        _ => interrupt::<BacktestRecord>(&state.store, &job.id, why).map(drop),
    }
}

/// Stores `job` failed with `why`, if it is still active.
fn fail(state: &AppState, job: &Job, why: &str) -> Result<(), ApiError> {
    fn failed<R: JobRecord>(state: &AppState, id: &str, why: &str) -> Result<(), ApiError> {
        let Some((mut record, version)) = state.store.get::<R>(id)? else {
            return Ok(());
        };
        let life = record.life();
        if !life.status.is_active() {
            return Ok(());
        }
        *life.status = crate::records::RunStatus::Failed;
        *life.finished_at = Some(chrono::Utc::now());
        *life.error = Some(why.to_owned());
        let writes = [store_put(&record, Expect::Version(version))];
        crate::audit::commit(&state.store, None, &writes, None, Vec::new())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        state.store.flush_blocking()?;
        state
            .store
            .metrics()
            .job_ended(R::KIND, crate::records::RunStatus::Failed);
        Ok(())
    }
    match job.kind {
        Kind::Run => failed::<RunRecord>(state, &job.id, why),
        _ => failed::<BacktestRecord>(state, &job.id, why),
    }
}

/// Starts a job just claimed, on a thread of this process. A job whose record already
/// ended (it cannot be in the queue then, but a hand-edited database might say so) is
/// left alone; the next report takes its entry for a stray and marks nothing.
fn begin(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let id = Uuid::parse_str(&job.id)
        .map_err(|_| ApiError::Internal(format!("the run queue names a bad id {:?}", job.id)))?;
    match job.kind {
        Kind::Run => {
            let Some((record, _)) = state.store.get::<RunRecord>(&job.id)? else {
                return Ok(());
            };
            let (input, _) = state
                .store
                .get::<RunInput>(&job.id)?
                .ok_or_else(|| ApiError::Internal(format!("run {id} has no stored input")))?;
            let scenario = scenario::resolve(input.scenario, &|path: &str| {
                Err(format!("a stored scenario names no files ({path})"))
            })
            .map_err(|e| ApiError::Internal(format!("run {id}'s scenario: {e}")))?;
            let threads = state.runs.limits().threads;
            let planned = experiments::plan(
                record.kind,
                scenario,
                input.sensitivity.as_ref(),
                input.optimise.as_ref(),
                threads,
            )?;
            let reservation = state.runs.reserve(Kind::Run, id)?;
            state
                .runs
                .start(reservation, state.store.clone(), planned, record)
        }
        _ => {
            let Some((record, _)) = state.store.get::<BacktestRecord>(&job.id)? else {
                return Ok(());
            };
            let reservation = state.runs.reserve(Kind::Backtest, id)?;
            state
                .runs
                .start_backtest(reservation, state.store.clone(), None, record)
        }
    }
}
