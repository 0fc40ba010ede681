//! The PostgreSQL backend: the same [`Storage`] contract as sled, in tables, so that several
//! `chanlab serve` processes can share one database (behind a load balancer, or on a managed
//! server with its own backups and replicas).
//!
//! Tables (created by the migrations embedded in `postgres/migrations.rs`, applied at start):
//!
//! | table | rows |
//! |---|---|
//! | `records` | `(kind, id)` → version, data (the JSON as given), meta (what it declared), refcount |
//! | `index_entries` | `(kind, name, value, id)` |
//! | `unique_values` | `(kind, name, value)` → id of the holder |
//! | `remembered` | idempotency key → response, and when it was remembered (ms since the epoch; expiry and the sweep go by it) |
//! | `run_queue`, `instances` | the jobs waiting or running, who claimed each, and who is alive (`postgres/queue.rs`) |
//!
//! Every text column is `COLLATE "C"`, so scans are in byte order of the ids, as in sled.
//!
//! **Driver.** tokio-postgres with a deadpool pool, on a small tokio runtime of the
//! backend's own. The trait is blocking and is called from actix's blocking pool *and* from
//! code already inside a runtime (startup, the CLI, async tests); the synchronous `postgres`
//! crate (and `Handle::block_on`) panics there ("cannot start a runtime from within a
//! runtime"). So each call is spawned on the backend's runtime and its result handed back
//! over a channel, which any thread may wait on: no nested runtime anywhere.
//!
//! **Isolation.** Commits run at READ COMMITTED with explicit row locks, and every check a
//! commit makes is decided by a lock or a unique index: the record written is read
//! `FOR UPDATE` (version checks see the latest committed version, after waiting for a
//! concurrent writer); a create, a unique value and an idempotency key are claimed with
//! `INSERT .. ON CONFLICT DO NOTHING`, which waits for a concurrent claimer and then sees its
//! outcome; a reference takes the referenced row's lock as it bumps its count, and a delete
//! reads the count `FOR UPDATE`, so a delete and a new reference to the same record are
//! ordered. So concurrent commits, from any number of processes, have the outcome of some
//! serial order, without SERIALIZABLE's false conflicts on the hot rows. Deadlocks (and
//! serialization failures, should the server force a stricter level) are retried.
//!
//! **Durability.** A commit returns after PostgreSQL's `COMMIT` does; with
//! `synchronous_commit` on (forced per transaction when the server's default is off) that
//! means the commit record is flushed to the WAL, so [`Storage::flush`] has nothing left to
//! do. A server running with `fsync = off` is reported in the log at start.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::{
    CommitError, Counts, Fault, Kind, RawRecord, Remember, Storage, StorageError, Timestamp, Write,
};

mod commit;
mod locks;
mod migrations;
mod portable;
mod queue;
pub mod scratch;

/// Connections a server keeps at most: enough for the HTTP workers' blocking pool and the
/// background work; PostgreSQL's default `max_connections` is 100, shared by the instances.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// Storage in a PostgreSQL database.
#[derive(Clone)]
pub struct PostgresStorage {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// Where, for messages (no password).
    target: String,
    /// Whether commits must set `synchronous_commit` themselves (the server's is off).
    force_sync: bool,
    rt: Runtime,
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

/// The backend's runtime, shut down without blocking when the last handle goes (a runtime
/// dropped inside another runtime's thread would panic otherwise).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Runtime {
    fn new() -> Result<Self, StorageError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("chanlab-postgres")
            .enable_all()
            .build()
            .map(|rt| Self(Some(rt)))
            .map_err(|e| StorageError::new(format!("starting the PostgreSQL runtime: {e}")))
    }

    /// Starts `work` on this runtime, without waiting for it.
    fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let rt = self.0.as_ref().expect("the runtime lives until dropped");
        drop(rt.spawn(work));
    }

    /// Runs `work` on this runtime and waits for it from the calling thread, whatever that
    /// thread is (never one of this runtime's own).
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let rt = self.0.as_ref().expect("the runtime lives until dropped");
        rt.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| StorageError::new("the PostgreSQL runtime stopped"))
    }
}

/// `url` without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let host = c
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_default();
            let port = c.get_ports().first().copied().unwrap_or(5432);
            format!(
                "postgres://{}@{host}:{port}/{}",
                c.get_user().unwrap_or(""),
                c.get_dbname().unwrap_or("")
            )
        }
        Err(_) => "(an unreadable database URL)".to_owned(),
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or
    /// key=value form), with at most `pool_size` connections, and applies the migrations
    /// this binary has that the database lacks. Fails if the database cannot be reached,
    /// or is at a newer schema version than this binary knows.
    pub fn connect(url: &str, pool_size: usize) -> Result<Self, StorageError> {
        let target = redact(url);
        let config: tokio_postgres::Config = url.parse().map_err(|e| {
            StorageError::new(format!("the database URL {target} is not valid: {e}"))
        })?;
        let rt = Runtime::new()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StorageError::new(format!("building the pool for {target}: {e}")))?;
        let setup = {
            let pool = pool.clone();
            rt.run(async move {
                let mut client = pool.get().await.map_err(pool_error)?;
                migrations::apply(&mut client).await?;
                let row = client
                    .query_one(
                        "SELECT current_setting('synchronous_commit'), current_setting('fsync')",
                        &[],
                    )
                    .await
                    .map_err(db)?;
                let sync: String = row.get(0);
                let fsync: String = row.get(1);
                Ok::<_, StorageError>((sync, fsync))
            })?
        };
        let (sync, fsync) = setup.map_err(|e| StorageError {
            message: format!("{target}: {}", e.message),
            fault: e.fault,
        })?;
        if fsync == "off" {
            tracing::warn!(
                database = %target,
                "the PostgreSQL server runs with fsync = off: acknowledged writes can be lost on power loss"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                target,
                force_sync: sync == "off",
                rt,
            }),
        })
    }

    /// The database, without the password.
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// Runs `work` with a pooled connection, on the backend's runtime, and waits for it.
    fn with_client<T, F, Fut>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StorageError>> + Send + 'static,
    {
        let pool = self.inner.pool.clone();
        self.inner.rt.run(async move {
            let client = pool.get().await.map_err(pool_error)?;
            work(client).await
        })?
    }
}

/// A pool failure: the server cannot be reached or the pool is exhausted for too long.
fn pool_error(e: deadpool_postgres::PoolError) -> StorageError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => db(e),
        e => StorageError::with_fault(Fault::Io, format!("PostgreSQL connection pool: {e}")),
    }
}

/// A database error as a [`StorageError`]: connection loss and the server's resource and
/// availability errors are [`Fault::Io`] (503, retry), a full disk is [`Fault::NoSpace`]
/// (507), reported corruption is [`Fault::Corrupt`], anything else [`Fault::Other`].
pub(crate) fn db(e: tokio_postgres::Error) -> StorageError {
    let message = match e.as_db_error() {
        Some(d) => format!("PostgreSQL: {} ({})", d.message(), d.code().code()),
        None => format!("PostgreSQL: {e}"),
    };
    StorageError::with_fault(fault_of(&e), message)
}

fn fault_of(e: &tokio_postgres::Error) -> Fault {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection broke, timed out, or could not be made.
        return Fault::Io;
    };
    if *code == SqlState::DISK_FULL {
        return Fault::NoSpace;
    }
    if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        return Fault::Corrupt;
    }
    match &code.code()[..2] {
        // Connection exceptions, insufficient resources, operator intervention (shutdown,
        // cannot connect now), system I/O errors: the server may take writes again soon.
        "08" | "53" | "57" | "58" => Fault::Io,
        // A read-only transaction: connected to a standby (a failover in progress).
        _ if *code == SqlState::READ_ONLY_SQL_TRANSACTION => Fault::Io,
        _ => Fault::Other,
    }
}

/// Whether the transaction should simply run again: a deadlock or serialization failure.
fn retryable(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
        || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// How many times a commit that lost a deadlock runs again before it fails.
const COMMIT_ATTEMPTS: u32 = 50;

/// The first page of a scan is small (a list usually wants a page); later ones grow.
const FIRST_PAGE: i64 = 64;
const LARGEST_PAGE: i64 = 1024;

impl Storage for PostgresStorage {
    fn get(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
        let id = id.to_owned();
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT version, data FROM records WHERE kind = $1 AND id = $2")
                .await
                .map_err(db)?;
            let row = client
                .query_opt(&stmt, &[&kind.name(), &id])
                .await
                .map_err(db)?;
            Ok(row.map(|row| RawRecord {
                id,
                version: row.get::<_, i64>(0) as u64,
                data: row.get(1),
            }))
        })
    }

    fn scan(
        &self,
        kind: Kind,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        visit: &mut dyn FnMut(RawRecord) -> bool,
    ) -> Result<(), StorageError> {
        let filter = filter.map(|(i, v)| (i.to_owned(), v.to_owned()));
        let mut after = after.map(str::to_owned);
        let mut limit = FIRST_PAGE;
        loop {
            let (filter, from) = (filter.clone(), after.clone());
            let page = self.with_client(move |client| async move {
                let rows = match (&filter, &from) {
                    (None, None) => {
                        let sql = "SELECT id, version, data FROM records WHERE kind = $1 \
                                   ORDER BY id LIMIT $2";
                        let stmt = client.prepare_cached(sql).await.map_err(db)?;
                        client.query(&stmt, &[&kind.name(), &limit]).await
                    }
                    (None, Some(from)) => {
                        let sql = "SELECT id, version, data FROM records \
                                   WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3";
                        let stmt = client.prepare_cached(sql).await.map_err(db)?;
                        client.query(&stmt, &[&kind.name(), from, &limit]).await
                    }
                    (Some((index, value)), from) => {
                        // An empty id is never stored (ids are generated or validated), so
                        // "after nothing" is "after ''".
                        let from = from.as_deref().unwrap_or("");
                        let sql = "SELECT r.id, r.version, r.data FROM index_entries i \
                                   JOIN records r ON r.kind = i.kind AND r.id = i.id \
                                   WHERE i.kind = $1 AND i.name = $2 AND i.value = $3 \
                                   AND i.id > $4 ORDER BY i.id LIMIT $5";
                        let stmt = client.prepare_cached(sql).await.map_err(db)?;
                        client
                            .query(&stmt, &[&kind.name(), index, value, &from, &limit])
                            .await
                    }
                }
                .map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(|row| RawRecord {
                        id: row.get(0),
                        version: row.get::<_, i64>(1) as u64,
                        data: row.get(2),
                    })
                    .collect::<Vec<_>>())
            })?;
            let full = page.len() as i64 == limit;
            for record in page {
                after = Some(record.id.clone());
                if !visit(record) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
            limit = (limit * 4).min(LARGEST_PAGE);
        }
    }

    fn commit(
        &self,
        writes: &[Write],
        remember: Option<&Remember>,
    ) -> Result<Vec<u64>, CommitError> {
        let writes = writes.to_vec();
        let remember = remember.cloned();
        let force_sync = self.inner.force_sync;
        let pool = self.inner.pool.clone();
        self.inner.rt.run(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match commit::once(&mut client, &writes, remember.as_ref(), force_sync).await {
                    Ok(versions) => return Ok(versions),
                    Err(commit::Failure::Refused(e)) => return Err(e),
                    Err(commit::Failure::Again) if attempt < COMMIT_ATTEMPTS => {}
                    Err(commit::Failure::Again) => {
                        return Err(CommitError::Storage(StorageError::with_fault(
                            Fault::Io,
                            "a commit kept losing its claims to concurrent commits",
                        )));
                    }
                    Err(commit::Failure::Db(e)) if retryable(&e) && attempt < COMMIT_ATTEMPTS => {
                        // Back off a little, more each time, so the winners finish.
                        let jitter = u64::from(std::process::id() % 7) + u64::from(attempt);
                        tokio::time::sleep(Duration::from_millis(jitter.min(40))).await;
                    }
                    Err(commit::Failure::Db(e)) => return Err(CommitError::Storage(db(e))),
                }
            }
        })?
    }

    fn recall(&self, key: &str, since: Timestamp) -> Result<Option<Vec<u8>>, StorageError> {
        let key = key.to_owned();
        self.with_client(move |client| async move {
            let stmt = client
                .prepare_cached("SELECT response FROM remembered WHERE key = $1 AND at >= $2")
                .await
                .map_err(db)?;
            let row = client.query_opt(&stmt, &[&key, &since]).await.map_err(db)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn forget_before(&self, before: Timestamp, limit: usize) -> Result<u64, StorageError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_client(move |client| async move {
            // SKIP LOCKED: a key being claimed afresh right now is left to that commit
            // (its new time keeps it), and sweeps of several instances share the work.
            let stmt = client
                .prepare_cached(
                    "DELETE FROM remembered WHERE at < $1 AND key IN (SELECT key \
                     FROM remembered WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                )
                .await
                .map_err(db)?;
            client.execute(&stmt, &[&before, &limit]).await.map_err(db)
        })
    }

    fn flush(&self) -> Result<(), StorageError> {
        // Nothing to do: a commit returned only after PostgreSQL's COMMIT did, with
        // synchronous_commit on, so its WAL record is already flushed to disk.
        Ok(())
    }

    fn probe(&self) -> Result<(), StorageError> {
        // A durable write: fails while the server is unreachable, read-only or out of disk.
        let force_sync = self.inner.force_sync;
        self.with_client(move |mut client| async move {
            let tx = client.transaction().await.map_err(db)?;
            if force_sync {
                tx.batch_execute("SET LOCAL synchronous_commit TO on")
                    .await
                    .map_err(db)?;
            }
            tx.execute(
                "INSERT INTO probe (id, at) VALUES (1, now()) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
                &[],
            )
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)
        })
    }

    fn export(&self, out: &mut dyn std::io::Write) -> Result<Counts, StorageError> {
        PostgresStorage::export(self, out)
    }

    fn shared(&self) -> bool {
        true
    }

    fn exclusive(&self, name: &str, work: &mut dyn FnMut()) -> Result<(), StorageError> {
        self.lock_and_run(name, work)
    }

    fn queue(&self) -> Option<Arc<dyn super::queue::RunQueue>> {
        Some(Arc::new(self.clone()))
    }
}

#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;
