//! Storage: one trait ([`Storage`]) that any backend implements, the sled backend behind it,
//! and the typed layer ([`Store`]) that handlers use.
//!
//! The trait speaks bytes and names, never sled types: [`PostgresStorage`] is the second
//! implementation (several server processes on one database), and redb or fjall would be
//! one more. A write is a list of [`Write`]s committed
//! atomically together with the secondary index entries, uniqueness claims and reference
//! counts each record declares, and (optionally) the response remembered for an
//! `Idempotency-Key`. Either all of it lands or none of it does.
//!
//! Reference counts keep the records consistent both ways: a record that names another
//! (a rep's region) can only be written when the other exists, and a record that others
//! name cannot be deleted.

#[cfg(test)]
mod conformance;
pub mod portable;
pub mod postgres;
pub mod queue;
mod records;
mod sled_backend;
mod sled_portable;
mod store;

pub use portable::{Counts, VerifyReport};
pub use postgres::PostgresStorage;
pub use records::Record;
pub(crate) use records::{EXTERNAL_ID, index_key, scope_key};
pub use sled_backend::{CloseWatch, SledStorage};
pub use store::{DEFAULT_IDEMPOTENCY_WINDOW, Health, Page, Store, put as store_put};

/// Declares [`Kind`] with each collection's name once: the enum, [`Kind::ALL`] and
/// [`Kind::name`] come from the one list, so a new collection cannot be left out of either.
macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The collections records live in. Each has its own key space.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Kind {
            $($(#[$doc])* $variant,)*
        }

        impl Kind {
            /// Every collection, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),*];

            /// The collection's name, used in keys and in error messages. Stored: never
            /// change one that has shipped.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }
    };
}

kinds! {
    /// Regions.
    Region => "region",
    /// Reps.
    Rep => "rep",
    /// Partners.
    Partner => "partner",
    /// A partner's lifecycle moves, for the `partners_signed` key link.
    Transition => "transition",
    /// Contracts.
    Contract => "contract",
    /// Activities.
    Activity => "activity",
    /// Monthly sales records.
    Sales => "sales_record",
    /// Goals.
    Goal => "goal",
    /// The latest version of each process spec.
    Spec => "process_spec",
    /// Every version of every process spec, keyed `<spec id>.<version>`.
    SpecVersion => "process_spec_version",
    /// Assessments.
    Assessment => "assessment",
    /// API tokens (hashed).
    Token => "token",
    /// Stored simulation scenarios.
    Scenario => "scenario",
    /// Simulation runs (status and progress).
    Run => "run",
    /// The mergeable result of a finished run, keyed by the run's id.
    RunResult => "run_result",
    /// Training sessions: an exercise played round by round.
    TrainingSession => "training_session",
    /// Backtests of the records (status).
    Backtest => "backtest",
    /// The result of a finished backtest, keyed by the backtest's id.
    BacktestResult => "backtest_result",
    /// What a queued run computes, keyed by the run's id: kept only where several instances
    /// share the store, so that whichever claims the run can plan it ([`queue`]).
    RunInput => "run_input",
    /// The audit trail: one entry per change a caller made to a record.
    Audit => "audit_entry",
    /// Events committed with their changes, for webhook delivery.
    Outbox => "outbox_event",
    /// Webhook subscriptions (with their signing secrets).
    Webhook => "webhook",
    /// Each outbox event's delivery to each subscription that wants it.
    Delivery => "webhook_delivery",
}

impl Kind {
    /// The collection called `name` ([`Kind::name`]).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// A stored record as bytes: its id, its version (1 when created, plus one per write) and its
/// JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The record's id.
    pub id: String,
    /// Incremented on every write; the API's ETag.
    pub version: u64,
    /// The record as JSON.
    pub data: Vec<u8>,
}

/// What a write expects to find before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Nothing under this id (a create).
    Absent,
    /// A record under this id, any version (an update without `If-Match`).
    Present,
    /// A record at exactly this version (an update with `If-Match`).
    Version(u64),
}

/// One part of an atomic commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Store a record with its index entries, unique claims and references.
    Put {
        /// The collection.
        kind: Kind,
        /// The record's id.
        id: String,
        /// What must be there before.
        expect: Expect,
        /// The record as JSON.
        data: Vec<u8>,
        /// Secondary index entries `(index, value)`.
        indexes: Vec<(String, String)>,
        /// Values that must be unique within the collection `(name, value)`.
        unique: Vec<(String, String)>,
        /// Records this one names; each must exist.
        refs: Vec<(Kind, String)>,
    },
    /// Remove a record, which nothing may reference.
    Delete {
        /// The collection.
        kind: Kind,
        /// The record's id.
        id: String,
        /// What must be there before.
        expect: Expect,
    },
}

impl Write {
    /// Whether it creates a record (a put that expects none there): what a backend may
    /// write many of at once.
    pub fn is_create(&self) -> bool {
        matches!(
            self,
            Write::Put {
                expect: Expect::Absent,
                ..
            }
        )
    }
}

/// The idempotency record to store with a commit: the key (already scoped to the caller),
/// the response to replay, and when. Keys expire ([`Store::remember`] stamps both times
/// from the server's window): a response remembered before `expired_before` no longer
/// holds its key, and the commit replaces it as if the key were new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remember {
    /// The scoped key.
    pub key: String,
    /// The serialised response.
    pub response: Vec<u8>,
    /// When it is remembered: stored beside it, what expiry and the sweep go by.
    pub at: Timestamp,
    /// Responses remembered before this have expired.
    pub expired_before: Timestamp,
}

/// A point in time as the idempotency records keep it: milliseconds since the Unix epoch
/// (both backends store it as a 64-bit integer; a sled key sorts it zero-padded).
pub type Timestamp = i64;

/// The storage itself failed (I/O, corruption). Logged in full; answered without its
/// details, with the status its [`Fault`] calls for.
#[derive(Debug, thiserror::Error)]
#[error("storage failure: {message}")]
pub struct StorageError {
    /// What failed, for the log (paths and the backend's words: never sent to a client).
    pub message: String,
    /// What kind of failure, which decides the answer and whether the store is ready.
    pub fault: Fault,
}

/// What kind of storage failure, as a client and an operator need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The disk (or quota) is full: 507, until space is freed.
    NoSpace,
    /// Another I/O error writing or syncing: 503 with `Retry-After`.
    Io,
    /// A stored record or the store's files are damaged: 500; `/readyz` is 503.
    Corrupt,
    /// Anything else (a thread pool shut down, a random source failed): 500.
    Other,
}

impl StorageError {
    /// A failure of kind [`Fault::Other`].
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fault: Fault::Other,
        }
    }

    /// A failure of kind `fault`.
    pub fn with_fault(fault: Fault, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            fault,
        }
    }

    /// An I/O error, `context` saying what was being done: full disk or quota is
    /// [`Fault::NoSpace`], anything else [`Fault::Io`].
    pub fn io(e: &std::io::Error, context: &str) -> Self {
        // ENOSPC (28) and EDQUOT (122) on Linux: the two ways a write finds no room.
        let fault = match e.raw_os_error() {
            Some(28 | 122) => Fault::NoSpace,
            _ if e.kind() == std::io::ErrorKind::StorageFull => Fault::NoSpace,
            _ => Fault::Io,
        };
        Self::with_fault(fault, format!("{context}: {e}"))
    }

    /// Whether the store could not write (full or I/O): what makes it not ready.
    pub fn is_write_fault(&self) -> bool {
        matches!(self.fault, Fault::NoSpace | Fault::Io)
    }
}

/// Why a commit was refused. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// A create found a record already under its id.
    #[error("a {} with id {id} already exists", kind.name())]
    AlreadyExists {
        /// The collection.
        kind: Kind,
        /// The id.
        id: String,
    },
    /// An update or delete found no record.
    #[error("no {} with id {id}", kind.name())]
    NotFound {
        /// The collection.
        kind: Kind,
        /// The id.
        id: String,
    },
    /// `If-Match` named an older version.
    #[error("the {} {id} is at version {current}, not {expected}", kind.name())]
    Stale {
        /// The collection.
        kind: Kind,
        /// The id.
        id: String,
        /// The version the caller had.
        expected: u64,
        /// The stored version.
        current: u64,
    },
    /// A referenced record does not exist.
    #[error("no {} with id {id}", kind.name())]
    MissingReference {
        /// The collection of the missing record.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Another record already holds a unique value.
    #[error("another {} ({existing}) already has {name} {value}", kind.name())]
    Duplicate {
        /// The collection.
        kind: Kind,
        /// The unique constraint's name.
        name: String,
        /// The value.
        value: String,
        /// The id of the record holding it.
        existing: String,
    },
    /// The record is referenced by others and cannot be deleted.
    #[error("the {} {id} is referenced by {count} other record(s)", kind.name())]
    Referenced {
        /// The collection.
        kind: Kind,
        /// The id.
        id: String,
        /// How many records name it.
        count: u64,
    },
    /// The idempotency key was used by an earlier commit, whose response this is.
    #[error("the idempotency key was already used")]
    Replayed(Vec<u8>),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A storage backend. Implementations are cheap to share across threads; every method may
/// block and is called off the HTTP workers.
pub trait Storage: Send + Sync + 'static {
    /// The record `id` of `kind`, if there is one.
    fn get(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError>;

    /// Visits records of `kind` in id order, starting after `after`, either all of them or
    /// those with index entry `filter = (index, value)`, until `visit` returns `false`.
    fn scan(
        &self,
        kind: Kind,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        visit: &mut dyn FnMut(RawRecord) -> bool,
    ) -> Result<(), StorageError>;

    /// Applies every write, or none of them; with `remember`, stores the idempotent response
    /// in the same commit (and refuses with [`CommitError::Replayed`] if the key is held by
    /// a response remembered at or after [`Remember::expired_before`]; an older one is
    /// replaced).
    /// Returns the new version of each `Put`, in order.
    fn commit(
        &self,
        writes: &[Write],
        remember: Option<&Remember>,
    ) -> Result<Vec<u64>, CommitError>;

    /// The response remembered under an idempotency key at or after `since` (an older one
    /// has expired: the key is free).
    fn recall(&self, key: &str, since: Timestamp) -> Result<Option<Vec<u8>>, StorageError>;

    /// Deletes up to `limit` of the responses remembered before `before` (expired), oldest
    /// first, each in a commit of its own batch; returns how many it deleted. What keeps
    /// the idempotency records from growing without bound ([`Store::sweep_expired`]). A
    /// backend that cannot says so.
    fn forget_before(&self, before: Timestamp, limit: usize) -> Result<u64, StorageError> {
        let _ = (before, limit);
        Err(StorageError::new(
            "this storage backend cannot expire idempotency keys",
        ))
    }

    /// Makes every commit that returned before this call durable (fsync).
    fn flush(&self) -> Result<(), StorageError>;

    /// Whether the backend can write now: after a failed write, what decides that the store
    /// is ready again. The default flushes; a backend that can write a probe record should
    /// (a flush with nothing new to write can succeed on a full disk).
    fn probe(&self) -> Result<(), StorageError> {
        self.flush()
    }

    /// Whether other processes may write this store at the same time (a database server
    /// shared by several instances): then nothing this process finds in progress at start
    /// is known to be abandoned.
    fn shared(&self) -> bool {
        false
    }

    /// The queue that runs wait in while several instances share the store, and which any
    /// of them claims from; `None` where one process owns the store (its runs start on the
    /// thread of the process that accepted them).
    fn queue(&self) -> Option<std::sync::Arc<dyn queue::RunQueue>> {
        None
    }

    /// Runs `work` while no other caller of `exclusive(name)` on this store runs theirs, in
    /// any process. For a rule no commit's own checks cover: the check and the commit go
    /// inside `work`. The default is for a store one process owns, where the caller's own
    /// mutex already serialises (`routes::write::Serial`).
    fn exclusive(&self, name: &str, work: &mut dyn FnMut()) -> Result<(), StorageError> {
        let _ = name;
        work();
        Ok(())
    }

    /// Writes every record and remembered response to `out` in the portable backup format
    /// ([`portable`]), consistent (no commit half-way). A backend that cannot says so.
    fn export(&self, out: &mut dyn std::io::Write) -> Result<Counts, StorageError> {
        let _ = out;
        Err(StorageError::new(
            "this storage backend cannot write a backup",
        ))
    }
}
