//! Named locks across the instances sharing the database ([`Storage::exclusive`]): a
//! session-level advisory lock on a connection of its own, held while the caller's check
//! and commit run on others. Reads after taking it see every commit made before the last
//! holder released it (READ COMMITTED), so the holders' checks and commits are ordered.

use super::super::StorageError;
use super::{PostgresStorage, db, pool_error};

/// The advisory lock key of `name`: FNV-1a, so that every binary computes the same key
/// without asking the server (PostgreSQL's `hashtext` is not promised stable across
/// versions).
pub(super) fn key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// The connection holding a lock. Dropped without [`Held::release`] (the work panicked),
/// it closes the connection rather than return it to the pool still holding the lock; a
/// closed session's advisory locks are released by the server.
struct Held(Option<deadpool_postgres::Object>);

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

impl PostgresStorage {
    pub(super) fn lock_and_run(
        &self,
        name: &str,
        work: &mut dyn FnMut(),
    ) -> Result<(), StorageError> {
        let key = key(name);
        let pool = self.inner.pool.clone();
        let client = self.inner.rt.run(async move {
            let client = pool.get().await.map_err(pool_error)?;
            client
                .execute("SELECT pg_advisory_lock($1)", &[&key])
                .await
                .map_err(db)?;
            Ok::<_, StorageError>(client)
        })??;
        let mut held = Held(Some(client));
        work();
        let client = held.0.take().expect("held until released");
        self.inner.rt.run(async move {
            match client
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .await
            {
                Ok(_) => drop(client),
                // Unsure whether it was released: close the session, which releases it.
                Err(_) => drop(deadpool_postgres::Object::take(client)),
            }
        })
    }
}
