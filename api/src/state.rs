//! What every handler shares: the store and the token cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::auth::Principal;
use crate::simulation::{RunLimits, Runner};
use crate::storage::Store;

/// Shared application state, one per server.
#[derive(Debug)]
pub struct AppState {
    /// The records.
    pub store: Store,
    /// Tokens already looked up, by hash. Tokens are never edited, so a cached entry stays
    /// right for the life of the process.
    pub tokens: RwLock<HashMap<String, Principal>>,
    /// Simulation runs in progress, and their limits.
    pub runs: Arc<Runner>,
}

impl AppState {
    /// State over `store` with an empty token cache and the default run limits.
    pub fn new(store: Store) -> Self {
        Self::with_limits(store, RunLimits::default())
    }

    /// State over `store` running simulations under `limits`.
    pub fn with_limits(store: Store, limits: RunLimits) -> Self {
        let runs = Arc::new(Runner::with_queue(limits, store.queue()));
        Self {
            store,
            tokens: RwLock::new(HashMap::new()),
            runs,
        }
    }
}
