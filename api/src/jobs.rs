//! Background work: simulation runs and backtests, each on a thread of its own, under
//! [`RunLimits`] (their size, and how many go at once).
//!
//! Every kind of job has the same life, written once here ([`run_job`]): its record is
//! stored queued when it is accepted, running when it starts, and done, cancelled or
//! failed (with its result beside it, in the same commit) when it stops, each time
//! flushed. Progress between those is kept in memory ([`Live`]) and read by the status
//! endpoints. What differs between kinds is only what the job computes.
//!
//! Where several instances share the store, a job accepted by one is not started by it:
//! it waits in the store's queue ([`crate::storage::queue`]) for whichever instance has room
//! to claim it ([`crate::dispatch`]), and the status endpoints of every instance read its
//! progress and ask for its cancellation through the queue ([`Runner::held`],
//! [`Runner::cancel`]).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;
use crate::records::{Progress, RunStatus};
use crate::storage::queue::{Cancel, Job, RunQueue};
use crate::storage::{Expect, Kind, Record, Store, store_put};

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
#[derive(Debug)]
pub(crate) struct Live {
    kind: Kind,
    done: AtomicU64,
    cancel: AtomicBool,
}

/// The runs in progress here and the limits they run under.
pub struct Runner {
    limits: RunLimits,
    live: Mutex<HashMap<Uuid, Arc<Live>>>,
    /// The queue of the store this instance shares with others, if it does.
    shared: Option<Shared>,
}

/// What an instance on a shared store needs to take part in its queue.
struct Shared {
    queue: Arc<dyn RunQueue>,
    /// This process's id among the instances (new at every start).
    instance: Uuid,
    /// Set when this instance accepted a job, so the dispatcher claims without waiting for
    /// its next beat.
    wake: (Mutex<bool>, Condvar),
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("limits", &self.limits)
            .field("shared", &self.shared.as_ref().map(|s| s.instance))
            .finish_non_exhaustive()
    }
}

/// How a job this instance accepted will start.
#[derive(Debug)]
pub enum Admission<'a> {
    /// On a thread of this process, in the place reserved for it.
    Here(Reservation<'a>),
    /// From the shared store's queue, on whichever instance claims it: the job's commit
    /// must include what that instance needs to plan it.
    Queued,
}

/// Where a job the records show queued or running actually is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Running (or reserved) in this process, with units done.
    Here(u64),
    /// In the shared queue: waiting, or run by a live instance, with units done.
    Elsewhere(u64),
    /// Claimed by an instance that has stopped answering.
    Abandoned,
    /// Nowhere: the request that accepted it ended before it could start.
    Nowhere,
}

/// What asking to cancel a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelling {
    /// Asked to stop; it stops after the units in flight.
    Asked,
    /// It was waiting in the shared queue and is now this instance's to store cancelled.
    Claimed,
    /// Not in progress anywhere.
    NotRunning,
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

impl Default for Runner {
    fn default() -> Self {
        Self::new(RunLimits::default())
    }
}

impl Runner {
    /// A runner under `limits`, for a store this process owns.
    pub fn new(limits: RunLimits) -> Self {
        Self {
            limits,
            live: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// A runner under `limits` for a store shared through `queue`.
    pub fn with_queue(limits: RunLimits, queue: Option<Arc<dyn RunQueue>>) -> Self {
        Self {
            shared: queue.map(|queue| Shared {
                queue,
                instance: Uuid::now_v7(),
                wake: (Mutex::new(false), Condvar::new()),
            }),
            ..Self::new(limits)
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> RunLimits {
        self.limits
    }

    /// Reserves a place for job `id` of `kind`, or 429 when [`RunLimits::max_running`] are
    /// running here.
    pub fn reserve(&self, kind: Kind, id: Uuid) -> Result<Reservation<'_>, ApiError> {
        let mut live = self.live.lock().expect("runner lock");
        if live.len() >= self.limits.max_running {
            return Err(too_many(live.len(), "this server runs"));
        }
        let live_job = Live {
            kind,
            done: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
        };
        live.insert(id, Arc::new(live_job));
        Ok(Reservation {
            runner: self,
            id,
            started: false,
        })
    }

    /// Admits job `id` of `kind` this instance accepted: a place reserved here, or, on a
    /// shared store, a check that the queue is not already as long as the instances alive
    /// run at once (429 otherwise). That check and the commit after it are not one
    /// transaction, so racing requests can overfill the queue a little; they wait in it.
    pub fn admit(&self, kind: Kind, id: Uuid) -> Result<Admission<'_>, ApiError> {
        let Some(shared) = &self.shared else {
            return Ok(Admission::Here(self.reserve(kind, id)?));
        };
        let active = shared.queue.active()?;
        let instances = shared.queue.live_instances()?.max(1);
        let room = (self.limits.max_running as u64).saturating_mul(instances);
        if active >= room {
            return Err(too_many(
                usize::try_from(active).unwrap_or(usize::MAX),
                "the servers sharing this database run",
            ));
        }
        Ok(Admission::Queued)
    }

    /// Units done so far by job `id`, if it is in progress in this process.
    pub fn progress(&self, id: Uuid) -> Option<u64> {
        let live = self.live.lock().expect("runner lock");
        live.get(&id).map(|l| l.done.load(Ordering::Relaxed))
    }

    /// Where job `id` of `kind`, active in the records, is: asked before its record is
    /// read, since a job that has left has saved its final status already.
    pub fn held(&self, kind: Kind, id: Uuid) -> Result<Held, ApiError> {
        if let Some(done) = self.progress(id) {
            return Ok(Held::Here(done));
        }
        let Some(shared) = &self.shared else {
            return Ok(Held::Nowhere);
        };
        let job = Job {
            kind,
            id: id.to_string(),
        };
        Ok(match shared.queue.entry(&job)? {
            None => Held::Nowhere,
            Some(e) if e.owner.is_none() || e.owner_alive => Held::Elsewhere(e.done),
            Some(_) => Held::Abandoned,
        })
    }

    /// Asks job `id` of `kind` to stop after the units in flight, wherever it runs.
    pub fn cancel(&self, kind: Kind, id: Uuid) -> Result<Cancelling, ApiError> {
        if self.cancel_here(id) {
            return Ok(Cancelling::Asked);
        }
        let Some(shared) = &self.shared else {
            return Ok(Cancelling::NotRunning);
        };
        let job = Job {
            kind,
            id: id.to_string(),
        };
        Ok(match shared.queue.cancel(shared.instance, &job)? {
            Cancel::ClaimedWaiting => Cancelling::Claimed,
            Cancel::Asked => Cancelling::Asked,
            Cancel::Gone => Cancelling::NotRunning,
        })
    }

    /// Asks job `id` to stop if it runs in this process; false if it does not.
    pub(crate) fn cancel_here(&self, id: Uuid) -> bool {
        let live = self.live.lock().expect("runner lock");
        match live.get(&id) {
            Some(l) => {
                l.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// Whether this instance shares its store (and takes its jobs from the queue).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// The shared queue and this instance's id in it, if the store is shared.
    pub(crate) fn queue(&self) -> Option<(&dyn RunQueue, Uuid)> {
        self.shared.as_ref().map(|s| (s.queue.as_ref(), s.instance))
    }

    /// Places free for jobs in this process.
    pub(crate) fn room(&self) -> usize {
        let live = self.live.lock().expect("runner lock");
        self.limits.max_running.saturating_sub(live.len())
    }

    /// The jobs in progress here with their units done, as the queue names them.
    pub(crate) fn running(&self) -> Vec<(Job, u64)> {
        let live = self.live.lock().expect("runner lock");
        live.iter()
            .map(|(id, l)| {
                let job = Job {
                    kind: l.kind,
                    id: id.to_string(),
                };
                (job, l.done())
            })
            .collect()
    }

    /// Tells the dispatcher a job was queued here (no-op for a store this process owns).
    pub fn wake(&self) {
        if let Some(s) = &self.shared {
            *s.wake.0.lock().expect("wake lock") = true;
            s.wake.1.notify_all();
        }
    }

    /// Waits up to `timeout` for [`Runner::wake`]; true if woken.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let Some(s) = &self.shared else {
            std::thread::sleep(timeout);
            return false;
        };
        let guard = s.wake.0.lock().expect("wake lock");
        let (mut woken, _) = s
            .wake
            .1
            .wait_timeout_while(guard, timeout, |w| !*w)
            .expect("wake lock");
        std::mem::take(&mut *woken)
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

/// 429: `count` jobs are in progress, the most `who` at once.
fn too_many(count: usize, who: &str) -> ApiError {
    ApiError::TooManyRequests {
        title: "Too many runs at once",
        detail: format!(
            "{count} runs are queued or running, the most {who} at once; retry when one finishes, or cancel one with DELETE /runs/{{id}}"
        ),
        retry_after: RETRY_AFTER_SECONDS,
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
    // The system's own write (no actor, no audit entry); a finished job makes its event.
    crate::audit::commit(store, None, &writes, None, Vec::new())
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
        match save::<R, O>(store, &record, None) {
            Ok(()) => store.metrics().job_ended(R::KIND, RunStatus::Cancelled),
            Err(e) => log("cannot store a cancelled job", &e),
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
        if save::<R, O>(store, &record, None).is_err() {
            return;
        }
    }
    store.metrics().job_ended(R::KIND, *record.life().status);
}

/// Marks job `id` interrupted, saying `why`, if its record still shows it queued or
/// running, and flushes. Returns the record and version as they are now.
pub(crate) fn interrupt<R: JobRecord>(
    store: &Store,
    id: &str,
    why: &str,
) -> Result<Option<(R, u64)>, ApiError> {
    let Some((mut record, version)) = store.get::<R>(id)? else {
        return Ok(None);
    };
    {
        let life = record.life();
        if !life.status.is_active() {
            return Ok(Some((record, version)));
        }
        *life.status = RunStatus::Interrupted;
        *life.finished_at = Some(Utc::now());
        *life.error = Some(why.to_owned());
    }
    let writes = [store_put(&record, Expect::Version(version))];
    match crate::audit::commit(store, None, &writes, None, Vec::new()) {
        Ok(versions) => {
            store.flush_blocking()?;
            store.metrics().job_ended(R::KIND, RunStatus::Interrupted);
            let now = versions.first().copied().unwrap_or(version + 1);
            Ok(Some((record, now)))
        }
        // Changed since the read: its owner stored how it ended, or another instance
        // marked it first. Either way it is what it is now.
        Err(crate::storage::CommitError::Stale { .. }) => Ok(store.get::<R>(id)?),
        Err(e) => Err(ApiError::Internal(format!(
            "cannot mark a {} interrupted: {e}",
            R::NOUN
        ))),
    }
}
