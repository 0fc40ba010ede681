//! The typed layer over a [`Storage`] backend: records in and out as domain values, blocking
//! calls moved off the HTTP workers, and group-committed durability.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::records::Record;
use super::{
    CommitError, Expect, Kind, RawRecord, Remember, Storage, StorageError, Timestamp, Write,
};
use crate::metrics::Metrics;

/// One page of a list: the records (with their versions) and the cursor for the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records on this page, in id order.
    pub items: Vec<T>,
    /// The id to pass as `after` for the next page; `None` on the last page.
    pub next_after: Option<String>,
}

/// Handle on the records, shared by every handler.
///
/// Reads and commits are blocking calls: run them through [`Store::run`]. A commit is
/// acknowledged only after [`Store::durable`] has flushed it; concurrent writers share one
/// flush (group commit), so throughput grows with the number of clients instead of being
/// capped at one fsync per request.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Storage>,
    flusher: Arc<Flusher>,
    health: Arc<AtomicU8>,
    metrics: Arc<Metrics>,
    /// How long an idempotency key holds its response, in milliseconds.
    window_ms: Timestamp,
}

/// How long an `Idempotency-Key` holds its response unless `chanlab serve
/// --idempotency-window-hours` says: a day, as Stripe keeps them.
pub const DEFAULT_IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Expired responses a sweep deletes per backend call (one commit each), so a sweep after
/// a long pause never holds one huge transaction.
const SWEEP_BATCH: usize = 1000;

/// Whether the store can serve: what `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Reads and writes work (as far as the last write showed).
    Ready,
    /// The last write failed (full disk, I/O error); a probe write decides when it can
    /// write again.
    CannotWrite,
    /// A stored record or file was found damaged: not ready until an operator has run
    /// restored the data directory.
    Damaged,
}

impl Health {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Health::CannotWrite,
            2 => Health::Damaged,
            _ => Health::Ready,
        }
    }
}

struct Flusher {
    state: Mutex<FlushState>,
    done: watch::Sender<u64>,
}

struct FlushState {
    /// Tickets handed out so far; a ticket is taken after a commit returns.
    requested: u64,
    /// Whether some caller is flushing right now.
    running: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `backend`.
    pub fn new(backend: Arc<dyn Storage>) -> Self {
        Self {
            backend,
            flusher: Arc::new(Flusher {
                state: Mutex::new(FlushState {
                    requested: 0,
                    running: false,
                }),
                done: watch::Sender::new(0),
            }),
            health: Arc::new(AtomicU8::new(0)),
            metrics: Arc::new(Metrics::new()),
            window_ms: window_ms(DEFAULT_IDEMPOTENCY_WINDOW),
        }
    }

    /// This store with idempotency keys that hold their response for `window`.
    pub fn with_idempotency_window(mut self, window: Duration) -> Self {
        self.window_ms = window_ms(window);
        self
    }

    /// How long an idempotency key holds its response.
    pub fn idempotency_window(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.window_ms).unwrap_or(0))
    }

    /// The server's metrics, which every part of it records into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The idempotency record of a commit: `response` remembered under `key` now, the
    /// responses older than the window expired.
    pub fn remember(&self, key: String, response: Vec<u8>) -> Remember {
        let at = now_ms();
        Remember {
            key,
            response,
            at,
            expired_before: at.saturating_sub(self.window_ms),
        }
    }

    /// Deletes every remembered response older than the window, a batch per commit;
    /// returns how many. Blocking. What the server's sweeper runs ([`crate::sweep`]).
    pub fn sweep_expired(&self) -> Result<u64, StorageError> {
        let before = now_ms().saturating_sub(self.window_ms);
        let mut total = 0;
        loop {
            let n = self.backend.forget_before(before, SWEEP_BATCH);
            self.note(&n);
            let n = n?;
            total += n;
            self.metrics.keys_expired(n);
            if n < SWEEP_BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Records what a storage call's failure says about the store's health.
    fn note<T>(&self, result: &Result<T, StorageError>) {
        if let Err(e) = result {
            self.note_fault(e.fault);
        }
    }

    fn note_fault(&self, fault: super::Fault) {
        let seen = match fault {
            super::Fault::NoSpace | super::Fault::Io => Health::CannotWrite,
            super::Fault::Corrupt => Health::Damaged,
            super::Fault::Other => return,
        };
        // Damaged is never downgraded to CannotWrite.
        self.health.fetch_max(seen as u8, Ordering::Relaxed);
    }

    /// The store's health as the last calls showed it.
    pub fn health(&self) -> Health {
        Health::from_u8(self.health.load(Ordering::Relaxed))
    }

    /// Whether the store is ready, checked: when the last write failed, a probe write (the
    /// backend's [`Storage::probe`]) decides, and its success makes the store ready again.
    /// Blocking.
    pub fn check_health(&self) -> Health {
        if self.health() == Health::CannotWrite {
            let probe = self.backend.probe();
            if probe.is_ok() {
                let _ = self.health.compare_exchange(
                    Health::CannotWrite as u8,
                    Health::Ready as u8,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            } else {
                self.note(&probe);
            }
        }
        self.health()
    }

    /// Runs blocking storage work on actix's blocking thread pool.
    pub async fn run<R, F>(&self, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&Store) -> R + Send + 'static,
        R: Send + 'static,
    {
        let store = self.clone();
        actix_web::web::block(move || work(&store))
            .await
            .map_err(|_| StorageError::new("the blocking thread pool is shut down".to_owned()))
    }

    /// The record `id`, with its version. Blocking.
    pub fn get<T: Record>(&self, id: &str) -> Result<Option<(T, u64)>, StorageError> {
        let raw = self.backend.get(T::KIND, id);
        self.note(&raw);
        match raw? {
            Some(raw) => {
                let record = decode(&raw);
                self.note(&record);
                Ok(Some((record?, raw.version)))
            }
            None => Ok(None),
        }
    }

    /// The record `id` of `kind` as stored, for code that handles every collection alike
    /// (the audit trail). Blocking.
    pub fn get_kind(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
        let raw = self.backend.get(kind, id);
        self.note(&raw);
        raw
    }

    /// The record `id` as stored (its JSON and version), without decoding it.
    pub fn get_raw<T: Record>(&self, id: &str) -> Result<Option<RawRecord>, StorageError> {
        self.backend.get(T::KIND, id)
    }

    /// Up to `limit` records after `after` (by id) that carry index entry `filter` and pass
    /// `keep`. Blocking.
    pub fn list<T: Record>(
        &self,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        limit: usize,
        keep: &dyn Fn(&T) -> bool,
    ) -> Result<Page<T>, StorageError> {
        self.list_until(filter, after, limit, keep, &|_| false)
    }

    /// [`list`](Self::list) that stops reading at the first record `past` says is beyond
    /// the range asked for, for collections whose id order is a field's order (the audit
    /// trail's ids are its times): a bounded range reads only the records inside it.
    /// Blocking.
    pub fn list_until<T: Record>(
        &self,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        limit: usize,
        keep: &dyn Fn(&T) -> bool,
        past: &dyn Fn(&T) -> bool,
    ) -> Result<Page<T>, StorageError> {
        let mut items = Vec::new();
        let mut more = false;
        let mut last = None;
        let mut failure = None;
        self.backend
            .scan(T::KIND, filter, after, &mut |raw: RawRecord| {
                match decode::<T>(&raw) {
                    Ok(item) if past(&item) => return false,
                    Ok(item) if keep(&item) => {
                        if items.len() == limit {
                            more = true;
                            return false;
                        }
                        last = Some(raw.id);
                        items.push(item);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        failure = Some(e);
                        return false;
                    }
                }
                true
            })?;
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(Page {
            items,
            next_after: if more { last } else { None },
        })
    }

    /// Every record with index entry `filter` (or every record of the kind). Blocking.
    pub fn all<T: Record>(&self, filter: Option<(&str, &str)>) -> Result<Vec<T>, StorageError> {
        Ok(self.list(filter, None, usize::MAX, &|_| true)?.items)
    }

    /// Applies the writes atomically. Blocking; not yet durable (see [`Store::durable`]).
    pub fn commit(
        &self,
        writes: &[Write],
        remember: Option<&Remember>,
    ) -> Result<Vec<u64>, CommitError> {
        let result = self.backend.commit(writes, remember);
        if let Err(CommitError::Storage(e)) = &result {
            self.note_fault(e.fault);
        }
        result
    }

    /// Runs `work` exclusively under `name` across every process sharing the store
    /// ([`Storage::exclusive`]). Blocking.
    pub fn exclusive<T>(&self, name: &str, work: impl FnOnce() -> T) -> Result<T, StorageError> {
        let mut work = Some(work);
        let mut out = None;
        self.backend.exclusive(name, &mut || {
            if let Some(w) = work.take() {
                out = Some(w());
            }
        })?;
        out.ok_or_else(|| StorageError::new(format!("the lock {name} ran nothing")))
    }

    /// Whether other processes may write this store too ([`Storage::shared`]): then its
    /// reads are database round trips, which belong off the HTTP workers.
    pub fn shared(&self) -> bool {
        self.backend.shared()
    }

    /// The backend's run queue, where several instances share it.
    pub fn queue(&self) -> Option<Arc<dyn super::queue::RunQueue>> {
        self.backend.queue()
    }

    /// Flushes every commit to disk on the calling thread: for the CLI, which has no
    /// server. Blocking.
    pub fn flush_blocking(&self) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.backend.flush();
        self.metrics.flushed(started.elapsed().as_secs_f64());
        self.note(&result);
        result
    }

    /// The whole store in the portable backup format, consistent. Blocking.
    pub fn export(&self, out: &mut dyn std::io::Write) -> Result<super::Counts, StorageError> {
        self.backend.export(out)
    }

    /// The response remembered under a scoped idempotency key within the window (an
    /// older one has expired: the key is free again). Blocking.
    pub fn recall(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.backend
            .recall(key, now_ms().saturating_sub(self.window_ms))
    }

    /// Waits until every commit that returned before this call is on disk.
    ///
    /// The first caller to find no flush running starts one on the blocking pool and covers
    /// every ticket handed out so far; callers arriving meanwhile wait for the next flush
    /// rather than starting their own.
    pub async fn durable(&self) -> Result<(), StorageError> {
        let ticket = {
            let mut s = self.flusher.state.lock().expect("flush state lock");
            s.requested += 1;
            s.requested
        };
        let mut done = self.flusher.done.subscribe();
        loop {
            if *done.borrow_and_update() >= ticket {
                return Ok(());
            }
            let lead = {
                let mut s = self.flusher.state.lock().expect("flush state lock");
                if s.running {
                    None
                } else {
                    s.running = true;
                    Some(s.requested)
                }
            };
            let Some(upto) = lead else {
                if done.changed().await.is_err() {
                    return Err(StorageError::new("the flusher is gone".to_owned()));
                }
                continue;
            };
            // Gives the lead back however this ends: a request whose client goes away is
            // dropped at the `await` below, and without the guard `running` would stay set
            // and every later write would wait for a flush nobody makes.
            let _lead = Lead(&self.flusher);
            let backend = self.backend.clone();
            let metrics = self.metrics.clone();
            let result = actix_web::web::block(move || {
                let started = Instant::now();
                let flushed = backend.flush();
                metrics.flushed(started.elapsed().as_secs_f64());
                flushed
            })
            .await;
            if let Ok(r) = &result {
                self.note(r);
            }
            match result {
                Ok(Ok(())) => {
                    self.flusher.done.send_modify(|d| *d = (*d).max(upto));
                    return Ok(());
                }
                Ok(Err(e)) => {
                    // Wake the waiters so one of them retries; this caller reports failure.
                    self.flusher.done.send_modify(|_| {});
                    return Err(e);
                }
                Err(_) => {
                    self.flusher.done.send_modify(|_| {});
                    return Err(StorageError::new(
                        "the blocking thread pool is shut down".to_owned(),
                    ));
                }
            }
        }
    }
}

/// The lead of a flush, given back when dropped: `running` cleared and the waiters woken,
/// so one of them flushes if its write is not covered yet.
struct Lead<'a>(&'a Flusher);

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        // A poisoned lock guards nothing that a panic could have left half-changed.
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        s.running = false;
        drop(s);
        self.0.done.send_modify(|_| {});
    }
}

/// Now, as the idempotency records keep time.
fn now_ms() -> Timestamp {
    chrono::Utc::now().timestamp_millis()
}

fn window_ms(window: Duration) -> Timestamp {
    Timestamp::try_from(window.as_millis()).unwrap_or(Timestamp::MAX)
}

/// A `Put` of `record` with everything it declares.
pub fn put<T: Record>(record: &T, expect: Expect) -> Write {
    Write::Put {
        kind: T::KIND,
        id: record.key(),
        expect,
        data: serde_json::to_vec(record).expect("records serialise to JSON"),
        indexes: record.indexes(),
        unique: record.unique(),
        refs: record.refs(),
    }
}

fn decode<T: Record>(raw: &RawRecord) -> Result<T, StorageError> {
    serde_json::from_slice(&raw.data).map_err(|e| {
        StorageError::with_fault(
            super::Fault::Corrupt,
            format!("stored {} {} no longer parses: {e}", T::KIND.name(), raw.id),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::storage::{Kind, SledStorage};

    /// A backend that counts flushes and makes each one as slow as a real fsync.
    struct CountingFlushes {
        inner: SledStorage,
        flushes: AtomicUsize,
    }

    impl Storage for CountingFlushes {
        fn get(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
            self.inner.get(kind, id)
        }
        fn scan(
            &self,
            kind: Kind,
            filter: Option<(&str, &str)>,
            after: Option<&str>,
            visit: &mut dyn FnMut(RawRecord) -> bool,
        ) -> Result<(), StorageError> {
            self.inner.scan(kind, filter, after, visit)
        }
        fn commit(
            &self,
            writes: &[Write],
            remember: Option<&Remember>,
        ) -> Result<Vec<u64>, CommitError> {
            self.inner.commit(writes, remember)
        }
        fn recall(&self, key: &str, since: Timestamp) -> Result<Option<Vec<u8>>, StorageError> {
            self.inner.recall(key, since)
        }
        fn flush(&self) -> Result<(), StorageError> {
            self.flushes.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(20));
            self.inner.flush()
        }
    }

    #[actix_web::test]
    async fn a_flush_whose_leader_is_dropped_leaves_the_next_write_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(CountingFlushes {
            inner: SledStorage::open(dir.path()).unwrap(),
            flushes: AtomicUsize::new(0),
        });
        let store = Store::new(backend.clone());
        // The leader is dropped while its flush runs (a client that went away)...
        let leader = store.clone();
        let dropped = actix_web::rt::time::timeout(Duration::from_millis(5), async move {
            leader.durable().await
        })
        .await;
        assert!(
            dropped.is_err(),
            "the flush takes 20 ms, longer than the 5 ms allowed"
        );
        // ...and the next write still gets a flush of its own, at once rather than never.
        let next = actix_web::rt::time::timeout(Duration::from_secs(10), store.durable()).await;
        assert!(
            matches!(next, Ok(Ok(()))),
            "the next write waited for a lead never given back"
        );
        assert!(backend.flushes.load(Ordering::SeqCst) >= 1);
    }

    #[actix_web::test]
    async fn concurrent_writers_share_flushes_and_each_waits_for_one() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(CountingFlushes {
            inner: SledStorage::open(dir.path()).unwrap(),
            flushes: AtomicUsize::new(0),
        });
        let store = Store::new(backend.clone());
        let writers: Vec<_> = (0..32)
            .map(|i| {
                let store = store.clone();
                actix_web::rt::spawn(async move {
                    let write = Write::Put {
                        kind: Kind::Region,
                        id: format!("r{i:02}"),
                        expect: Expect::Absent,
                        data: b"{}".to_vec(),
                        indexes: Vec::new(),
                        unique: Vec::new(),
                        refs: Vec::new(),
                    };
                    store
                        .run(move |s| s.commit(&[write], None))
                        .await
                        .unwrap()
                        .unwrap();
                    let before = Instant::now();
                    store.durable().await.unwrap();
                    before.elapsed()
                })
            })
            .collect();
        for w in writers {
            let waited = w.await.unwrap();
            assert!(
                waited >= Duration::from_millis(15),
                "answered before a flush: {waited:?}"
            );
        }

        let flushes = backend.flushes.load(Ordering::SeqCst);
        assert!(
            (1..=16).contains(&flushes),
            "32 writers took {flushes} flushes"
        );
    }
}
