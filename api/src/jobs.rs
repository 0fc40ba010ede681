//! Background work: simulation runs and backtests, each on a thread of its own, under
//! [`RunLimits`] (their size, and how many go at once).
//!
//! Every kind of job has the same life, written once here ([`run_job`]): its record is
//! stored queued when it is accepted, running when it starts, and done, cancelled or
//! failed (with its result beside it, in the same commit) when it stops, each time
//! flushed. Progress between those is kept in memory ([`Live`]) and read by the status
//! endpoints. What differs between kinds is only what the job computes.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;
use crate::records::{Progress, RunStatus};
use crate::storage::{Expect, Record, Store, store_put};

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
pub(crate) struct Live {
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

    /// Runs `job` on a thread of its own, which leaves the runner however it ends.
    pub(crate) fn spawn(
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

impl Live {
    /// Counts one finished unit of work (a replication) and says whether to go on.
    pub(crate) fn tick(&self) -> ControlFlow<()> {
        self.done.fetch_add(1, Ordering::Relaxed);
        if self.cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Whether the job has been asked to stop.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Units of work finished so far.
    pub(crate) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

/// The record of a job: the fields every kind's life changes.
pub(crate) trait JobRecord: Record + Clone {
    /// What the logs call it (`run`, `backtest`).
    const NOUN: &'static str;
    /// The job's id.
    fn id(&self) -> Uuid;
    /// Its status, start and stop times and error, to change.
    fn life(&mut self) -> Life<'_>;
}

/// The parts of a job's record its life changes.
pub(crate) struct Life<'a> {
    pub(crate) status: &'a mut RunStatus,
    pub(crate) started_at: &'a mut Option<DateTime<Utc>>,
    pub(crate) finished_at: &'a mut Option<DateTime<Utc>>,
    pub(crate) error: &'a mut Option<String>,
    /// Units done out of the total, for the kinds that count them in the record.
    pub(crate) progress: Option<&'a mut Progress>,
}

/// How a job stopped short of a result.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// Cancelled after `done` units.
    Cancelled {
        /// Units finished.
        done: u64,
    },
    /// Failed, with a message for the client (no internals).
    Failed(String),
}

/// Writes a job's record, with its output when it has one, in one commit, and flushes.
fn save<R: JobRecord, O: Record>(
    store: &Store,
    record: &R,
    output: Option<&O>,
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

/// The life of a job on its own thread: marked running, `compute`d (a panic is a failure,
/// logged), then stored with the output `finish` makes of the result, or as cancelled or
/// failed. `finish` also sets the record's final fields (units done).
pub(crate) fn run_job<R: JobRecord, T, O: Record>(
    store: &Store,
    mut record: R,
    live: &Live,
    compute: impl FnOnce() -> Result<T, Stopped>,
    finish: impl FnOnce(&mut R, T) -> O,
) {
    let (noun, id) = (R::NOUN, record.id());
    let log = |what: &str, e: &ApiError| {
        tracing::error!(job = noun, id = %id, error = %e, "{what}");
    };
    if live.cancelled() {
        let life = record.life();
        *life.status = RunStatus::Cancelled;
        *life.finished_at = Some(Utc::now());
        if let Err(e) = save::<R, O>(store, &record, None) {
            log("cannot store a cancelled job", &e);
        }
        return;
    }
    {
        let life = record.life();
        *life.status = RunStatus::Running;
        *life.started_at = Some(Utc::now());
    }
    if let Err(e) = save::<R, O>(store, &record, None) {
        log("cannot store a started job", &e);
        return;
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(compute));
    {
        let life = record.life();
        *life.finished_at = Some(Utc::now());
        if let Some(p) = life.progress {
            p.done = live.done();
        }
    }
    let output = match outcome {
        Ok(Ok(result)) => {
            *record.life().status = RunStatus::Done;
            Some(finish(&mut record, result))
        }
        Ok(Err(stopped)) => {
            let life = record.life();
            match stopped {
                Stopped::Cancelled { done } => {
                    *life.status = RunStatus::Cancelled;
                    if let Some(p) = life.progress {
                        p.done = done;
                    }
                }
                Stopped::Failed(message) => {
                    *life.status = RunStatus::Failed;
                    *life.error = Some(message);
                }
            }
            None
        }
        Err(_) => {
            tracing::error!(job = noun, id = %id, "the job panicked");
            let life = record.life();
            *life.status = RunStatus::Failed;
            *life.error = Some(format!("the {noun} failed; it has been logged"));
            None
        }
    };
    if let Err(e) = save(store, &record, output.as_ref()) {
        log("cannot store a finished job", &e);
        let life = record.life();
        *life.status = RunStatus::Failed;
        *life.error = Some("the result could not be stored; it has been logged".to_owned());
        let _ = save::<R, O>(store, &record, None);
    }
}
