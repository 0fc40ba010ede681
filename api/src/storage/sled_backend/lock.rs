//! A lock of the whole process beside sled's own, so no sled writer ever waits while a
//! flush waits for its log.
//!
//! sled 0.34 keeps one reader-writer lock for every database of the process
//! (`concurrency_control`): a flush, a read and sled's own flusher thread hold it to read, a
//! transaction or a batch to write, and a waiting writer blocks every new reader. A flush
//! waits for its log to reach the disk holding it to read; when that wait misses its
//! wake-up, sled's flusher thread normally ends it at its next round. But if a transaction
//! asks for the lock meanwhile, the flusher thread cannot take it, the flush never ends, so
//! the transaction never gets it, and every reader of every database in the process waits
//! behind it (caught in the test suite: a job's last handle of a store flushing on drop,
//! another job's commit waiting to write, the flusher threads and every request waiting to
//! read). This lock keeps the two apart: flushes, and the drop of a store's last handle
//! (sled flushes then), share it; transactions and batches take it alone, so they ask sled
//! for its write lock only once no flush is in progress. sled already makes them wait for
//! every flush, so nothing that could run at once before is serialised now. Written by
//! hand: the fix belongs in sled, whose 0.34 line is no longer maintained.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static LOCK: RwLock<()> = RwLock::new(());

/// Held around a flush (and a last handle's drop). Never taken again by a thread that holds
/// it: a waiting writer would block the second.
pub(in crate::storage) fn flushing() -> RwLockReadGuard<'static, ()> {
    // A panic while it was held leaves nothing half-changed: the lock guards no data.
    LOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// Held around a transaction or a batch.
pub(in crate::storage) fn writing() -> RwLockWriteGuard<'static, ()> {
    LOCK.write().unwrap_or_else(|e| e.into_inner())
}
