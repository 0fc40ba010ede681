//! What every handler shares: the store, the token settings, the runs and the CSV imports
//! in progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::TimeDelta;

use crate::error::ApiError;
use crate::simulation::{RunLimits, Runner};
use crate::storage::Store;

/// Shared application state, one per server.
#[derive(Debug)]
pub struct AppState {
    /// The records.
    pub store: Store,
    /// How long a token made without an `expires_at` lives; `None`: until it is revoked.
    pub token_lifetime: Option<TimeDelta>,
    /// Training rounds this process plays at once; one more is answered 429.
    pub max_training_rounds: usize,
    /// Simulation runs in progress, and their limits.
    pub runs: Arc<Runner>,
    /// CSV imports in progress, and how many may be.
    pub imports: Arc<ImportGate>,
    /// Whether `GET /metrics` answers (`chanlab serve --metrics`); 404 otherwise.
    pub serve_metrics: bool,
}

impl AppState {
    /// State over `store` with the default run limits and tokens that live until revoked.
    pub fn new(store: Store) -> Self {
        Self::with_limits(store, RunLimits::default())
    }

    /// State over `store` running simulations under `limits`.
    pub fn with_limits(store: Store, limits: RunLimits) -> Self {
        let runs = Arc::new(Runner::with_queue(limits, store.queue()));
        Self {
            store,
            token_lifetime: None,
            max_training_rounds: default_training_rounds(),
            runs,
            imports: Arc::new(ImportGate::new(MAX_IMPORTS)),
            serve_metrics: false,
        }
    }
}

/// CSV imports a server runs at once. Each holds its file and its parsed records (up to
/// 8 MiB of CSV, some 100 MB while it runs) and a blocking thread; one more is a 429.
pub const MAX_IMPORTS: usize = 2;

/// Seconds a client refused for too many imports is told to wait: about what an 8 MiB
/// import takes.
pub const IMPORT_RETRY_AFTER_SECONDS: u64 = 3;

/// Counts the CSV imports in progress, refusing one beyond its limit.
#[derive(Debug)]
pub struct ImportGate {
    max: usize,
    running: AtomicUsize,
}

/// One import's place in the [`ImportGate`], given back when dropped.
#[derive(Debug)]
pub struct ImportPermit(Arc<ImportGate>);

impl Drop for ImportPermit {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ImportGate {
    /// A gate letting `max` imports run at once.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            running: AtomicUsize::new(0),
        }
    }

    /// A place for one more import, or 429 with `Retry-After` when `max` are running.
    pub fn enter(self: &Arc<Self>) -> Result<ImportPermit, ApiError> {
        let entered = self
            .running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            });
        match entered {
            Ok(_) => Ok(ImportPermit(self.clone())),
            Err(n) => Err(ApiError::TooManyRequests {
                title: "Too many imports at once",
                detail: format!(
                    "{n} CSV imports are running, the most this server runs at once; retry after the Retry-After seconds"
                ),
                retry_after: IMPORT_RETRY_AFTER_SECONDS,
            }),
        }
    }
}

/// Training rounds played at once unless `chanlab serve --max-training-rounds` says: two per
/// core (a round is a short simulation, so a few more than the cores keep them busy while
/// others commit).
pub fn default_training_rounds() -> usize {
    2 * std::thread::available_parallelism().map_or(2, usize::from)
}
