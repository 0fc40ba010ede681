//! The run queue of a store several instances share: jobs (runs and backtests) wait in it
//! from the commit that accepts them until the commit that stores how they ended, and any
//! instance with room claims the oldest waiting one.
//!
//! Where one process owns the store (sled) there is no queue: a job starts on a thread of
//! the process that accepted it, and a job found active at start was abandoned. With several
//! processes neither holds, so the queue also carries what the others need to know of a job
//! another instance runs: who claimed it, whether that instance is alive (it says so every
//! [`HEARTBEAT`]; silent for [`STALE_AFTER`] means dead), how far it has got, and whether a
//! client asked to cancel it. Entries follow the records by the database's own rules (a
//! trigger in the same transaction as the record's commit), so a job is never active in the
//! records without its entry, or the other way round.

use std::time::Duration;

use uuid::Uuid;

use super::{Kind, StorageError};

/// How often an instance says it is alive, reports progress and picks up cancellations.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// Silence after which an instance is taken for dead and its jobs are marked interrupted.
/// Twenty heartbeats: a busy machine or a slow database must not kill a live instance's job.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// A job in the queue: a run or a backtest, by its record's collection and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Job {
    /// [`Kind::Run`] or [`Kind::Backtest`].
    pub kind: Kind,
    /// The record's id.
    pub id: String,
}

/// A job's entry as another instance sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The instance that claimed it, if one has.
    pub owner: Option<Uuid>,
    /// Whether that instance was heard from within [`STALE_AFTER`].
    pub owner_alive: bool,
    /// Units of work done, as its owner last reported.
    pub done: u64,
    /// Whether a client asked to cancel it.
    pub cancel: bool,
}

/// What asking to cancel a job found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// It was waiting: the asking instance has claimed it and must store it cancelled.
    ClaimedWaiting,
    /// Another instance runs it; it has been asked to stop.
    Asked,
    /// It is not in the queue (it ended).
    Gone,
}

/// What an instance learns when it reports on the jobs it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Jobs of this instance a client asked to cancel.
    pub cancel: Vec<Job>,
    /// Jobs the queue says this instance owns that it did not report: they ended without
    /// their final commit (it failed) and must be marked interrupted.
    pub strays: Vec<Job>,
}

/// The queue's operations. Every method blocks; each is one short transaction.
pub trait RunQueue: Send + Sync + 'static {
    /// Says `instance` is alive (registering it the first time).
    fn heartbeat(&self, instance: Uuid) -> Result<(), StorageError>;

    /// Instances heard from within [`STALE_AFTER`].
    fn live_instances(&self) -> Result<u64, StorageError>;

    /// Jobs in the queue (waiting or claimed), across every instance.
    fn active(&self) -> Result<u64, StorageError>;

    /// Claims the oldest waiting job for `instance`, skipping any another instance is
    /// claiming at the same moment (`FOR UPDATE SKIP LOCKED`).
    fn claim(&self, instance: Uuid) -> Result<Option<Job>, StorageError>;

    /// Stores the progress of the jobs `instance` runs, `(job, units done)`, and says
    /// which of them to cancel and which it owns without running.
    fn report(&self, instance: Uuid, running: &[(Job, u64)]) -> Result<Report, StorageError>;

    /// The entry of `job`, if it is in the queue.
    fn entry(&self, job: &Job) -> Result<Option<Entry>, StorageError>;

    /// Asks to cancel `job` on behalf of `instance`.
    fn cancel(&self, instance: Uuid, job: &Job) -> Result<Cancel, StorageError>;

    /// Claims for `instance` every job whose owner is dead; the caller marks them
    /// interrupted (their commit then takes them out of the queue).
    fn take_orphans(&self, instance: Uuid) -> Result<Vec<Job>, StorageError>;
}
