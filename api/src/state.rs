//! What every handler shares: the store and the token cache.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::auth::Principal;
use crate::storage::Store;

/// Shared application state, one per server.
#[derive(Debug)]
pub struct AppState {
    /// The records.
    pub store: Store,
    /// Tokens already looked up, by hash. Tokens are never edited, so a cached entry stays
    /// right for the life of the process.
    pub tokens: RwLock<HashMap<String, Principal>>,
}

impl AppState {
    /// State over `store` with an empty token cache.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            tokens: RwLock::new(HashMap::new()),
        }
    }
}
