//! The sled backend: every record, index entry, reference count and idempotency record in
//! one sled tree, so that one sled transaction covers a whole commit.
//!
//! Key layout (`\0` separates parts, so no value can forge another key):
//!
//! | key | value |
//! |---|---|
//! | `r\0kind\0id` | version (u64 BE), meta length (u32 BE), meta JSON, record JSON |
//! | `i\0kind\0index\0value\0id` | empty |
//! | `u\0kind\0name\0value` | id of the record holding the value |
//! | `c\0kind\0id` | how many records reference this one (u64 BE) |
//! | `k\0key` | when it was remembered (ms since the epoch, i64 BE), the idempotent response |
//! | `e\0when\0key` | empty: the remembered responses by time (`when` zero-padded to 20 digits), for the sweep |
//!
//! sled acknowledges a transaction before it reaches the disk; [`Storage::flush`] is what
//! makes it durable, and the [`Store`](super::Store) calls it before any write is answered.
//!
//! sled's own flush is not enough on power loss: sled 0.34.7 ends a flush with
//! `sync_file_range` on the log (`pagecache/iobuf.rs`), which flushes neither the drive's
//! cache nor the file's size, runs a real `fsync` only on a background thread about every
//! 500 ms, and never syncs the blob files it writes for large values nor the directories it
//! creates them in. So [`SledStorage::flush`] follows sled's flush with `fsync` of the log,
//! of every blob written since and of `blobs/` when it gained one ([`Durable`]). sled syncs
//! its snapshot files and the database directory itself when it writes a snapshot.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{
    CommitError, Expect, Fault, Kind, RawRecord, Remember, Storage, StorageError, Timestamp, Write,
};

/// Storage in a sled database directory.
#[derive(Debug, Clone)]
pub struct SledStorage {
    dir: PathBuf,
    /// The open database, replaced when the store is reopened after a latched I/O error
    /// ([`Storage::probe`]); `None` while a reopen has not succeeded yet.
    open: Arc<RwLock<Option<Open>>>,
    /// When the last reopen was tried: at most one every [`REOPEN_EVERY`].
    reopened: Arc<Mutex<Option<std::time::Instant>>>,
    durable: Arc<Mutex<Durable>>,
    /// Commits hold it for reading; a backup holds it for writing, so it sees no commit
    /// half-way and commits never wait for each other on it.
    pub(super) gate: Arc<RwLock<()>>,
    /// The open instances of the directory.
    closes: Arc<CloseWatch>,
    /// The records of a bulk commit in progress, which reads skip ([`bulk`]).
    pending: Arc<RwLock<bulk::Pending>>,
}

/// An open sled database and its records tree (both handles to one sled instance), shared:
/// the last clone to go tells the store's [`CloseWatch`]. Dereferences to the records tree.
#[derive(Debug, Clone)]
pub(super) struct Open(Arc<Handles>);

#[derive(Debug)]
struct Handles {
    /// Both `Some` until dropped.
    db: Option<sled::Db>,
    tree: Option<sled::Tree>,
    /// Told when they are dropped.
    closes: Arc<CloseWatch>,
}

/// How many open instances a store's directory has: a handle that outlives the store (a
/// job's, finishing) still writes to its files, so whoever removes the directory waits
/// for none ([`SledStorage::close_watch`]).
#[derive(Debug, Default)]
pub struct CloseWatch {
    open: Mutex<usize>,
    changed: std::sync::Condvar,
}

impl CloseWatch {
    /// Waits until no instance of the store is open, at most `timeout`; whether none is.
    pub fn wait_closed(&self, timeout: std::time::Duration) -> bool {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let (open, _) = self
            .changed
            .wait_timeout_while(open, timeout, |n| *n > 0)
            .unwrap_or_else(|e| e.into_inner());
        *open == 0
    }

    fn opened(&self) {
        *self.open.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn closed(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        *open = open.saturating_sub(1);
        self.changed.notify_all();
    }
}

impl Open {
    fn new(db: sled::Db, tree: sled::Tree, closes: Arc<CloseWatch>) -> Self {
        closes.opened();
        Self(Arc::new(Handles {
            db: Some(db),
            tree: Some(tree),
            closes,
        }))
    }

    fn db(&self) -> &sled::Db {
        self.0.db.as_ref().expect("an open database")
    }
}

impl std::ops::Deref for Open {
    type Target = sled::Tree;
    fn deref(&self) -> &sled::Tree {
        self.0.tree.as_ref().expect("an open tree")
    }
}

impl Drop for Handles {
    fn drop(&mut self) {
        // sled flushes as its last handle goes: the directory is still in use until then.
        drop(self.tree.take());
        drop(self.db.take());
        self.closes.closed();
    }
}

/// How often a store whose writes fail may be reopened.
const REOPEN_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What has been fsynced in a sled directory, so each flush syncs what sled left unsynced:
/// the log always, and the blob files (and their directory entries) new since the last one.
#[derive(Debug)]
struct Durable {
    dir: PathBuf,
    /// sled's log, the file every commit is appended to.
    log: File,
    /// The entries of `blobs/` as last synced.
    blobs: BTreeSet<OsString>,
    /// Whether `blobs/`'s own entry in the database directory is synced (sled makes the
    /// directory on first use).
    blob_dir_synced: bool,
}

impl Durable {
    fn open(dir: &Path) -> std::io::Result<Self> {
        let mut d = Self {
            dir: dir.to_owned(),
            log: File::open(dir.join("db"))?,
            blobs: BTreeSet::new(),
            blob_dir_synced: false,
        };
        // The files sled created before we looked (a new database's) are durable once the
        // directory's entries are.
        File::open(dir)?.sync_all()?;
        d.sync()?;
        Ok(d)
    }

    /// fsync of the log, of each new blob, and of the directories that gained an entry (a
    /// created file is durable only once its directory entry is).
    fn sync(&mut self) -> std::io::Result<()> {
        self.log.sync_all()?;
        let blob_dir = self.dir.join("blobs");
        let blobs = listing(&blob_dir)?;
        let new_blobs: Vec<&OsString> = blobs.difference(&self.blobs).collect();
        for name in &new_blobs {
            match File::open(blob_dir.join(name)) {
                Ok(f) => f.sync_all()?,
                // sled may have collected it meanwhile: nothing left to make durable.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if !new_blobs.is_empty() && blob_dir.is_dir() {
            File::open(&blob_dir)?.sync_all()?;
            if !self.blob_dir_synced {
                File::open(&self.dir)?.sync_all()?;
                self.blob_dir_synced = true;
            }
        }
        self.blobs = blobs;
        Ok(())
    }
}

/// The names in `dir`; none when it does not exist (sled makes `blobs/` on first use).
fn listing(dir: &Path) -> std::io::Result<BTreeSet<OsString>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.map(|e| e.file_name())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Meta {
    #[serde(default)]
    pub(super) indexes: Vec<(String, String)>,
    #[serde(default)]
    pub(super) unique: Vec<(String, String)>,
    #[serde(default)]
    pub(super) refs: Vec<(String, String)>,
}

impl SledStorage {
    /// Opens (creating if needed) the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        let closes = Arc::new(CloseWatch::default());
        let (open, durable) = open_db(dir, &closes)?;
        stamp_unstamped(&open)?;
        let store = Self {
            dir: dir.to_owned(),
            open: Arc::new(RwLock::new(Some(open))),
            reopened: Arc::new(Mutex::new(None)),
            durable: Arc::new(Mutex::new(durable)),
            gate: Arc::new(RwLock::new(())),
            closes,
            pending: Arc::new(RwLock::new(None)),
        };
        Ok(store)
    }

    /// The records of the bulk commit in progress, if one is.
    fn pending(&self) -> bulk::Pending {
        self.pending.read().expect("pending lock").clone()
    }

    /// What tells when no instance of this store's directory is open any more: wait for it
    /// before removing the directory.
    pub fn close_watch(&self) -> Arc<CloseWatch> {
        self.closes.clone()
    }

    /// The records tree of the open database (keep it no longer than the work at hand: a
    /// reopen waits for every handle to go).
    pub(super) fn tree(&self) -> Result<Open, StorageError> {
        self.current()
    }

    fn current(&self) -> Result<Open, StorageError> {
        self.open.read().expect("open lock").clone().ok_or_else(|| {
            StorageError::with_fault(
                Fault::Io,
                "the database is closed for reopening after a write error",
            )
        })
    }
}

/// Opens sled in `dir` and syncs what it created.
fn open_db(dir: &Path, closes: &Arc<CloseWatch>) -> Result<(Open, Durable), StorageError> {
    let db = sled::Config::new().path(dir).open().map_err(|e| match &e {
        // sled words a held lock as `could not acquire lock on "..": Os { code: 11, .. }`.
        // The message keeps the word "lock": the retries on a reopen look for it.
        sled::Error::Io(io) if io.to_string().starts_with("could not acquire lock") => {
            StorageError::new(format!(
                "another chanlab process is using the data directory {} and holds its lock \
                 (a running `chanlab serve`, or another command on it); stop it and try \
                 again, or, with the server running, use its API instead",
                dir.display()
            ))
        }
        sled::Error::Io(io) => StorageError::io(io, &format!("opening {}", dir.display())),
        _ => StorageError::new(format!("opening {}: {e}", dir.display())),
    })?;
    let tree = db.open_tree("records").map_err(storage)?;
    bulk::recover(&tree)?;
    let open = Open::new(db, tree, closes.clone());
    open.db().flush().map_err(storage)?;
    let durable = Durable::open(dir)
        .map_err(|e| StorageError::io(&e, &format!("syncing {}", dir.display())))?;
    Ok((open, durable))
}

pub(super) fn storage(e: sled::Error) -> StorageError {
    match &e {
        sled::Error::Io(io) => StorageError::io(io, "sled"),
        sled::Error::Corruption { .. } => StorageError::with_fault(Fault::Corrupt, e.to_string()),
        _ => StorageError::new(e.to_string()),
    }
}

pub(super) fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

fn record_key(kind: &str, id: &str) -> Vec<u8> {
    key(&["r", kind, id])
}

fn index_key(kind: &str, index: &str, value: &str, id: &str) -> Vec<u8> {
    key(&["i", kind, index, value, id])
}

fn unique_key(kind: &str, name: &str, value: &str) -> Vec<u8> {
    key(&["u", kind, name, value])
}

pub(super) fn count_key(kind: &str, id: &str) -> Vec<u8> {
    key(&["c", kind, id])
}

pub(super) fn encode(version: u64, meta: &Meta, data: &[u8]) -> Vec<u8> {
    let meta = serde_json::to_vec(meta).expect("index metadata is plain strings");
    let mut out = Vec::with_capacity(12 + meta.len() + data.len());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_be_bytes());
    out.extend_from_slice(&meta);
    out.extend_from_slice(data);
    out
}

/// Adds a record as a restore writes it (its version kept) with its index entries and
/// unique values; reference counts are the caller's, summed over every record.
pub(super) fn put_raw(
    batch: &mut sled::Batch,
    kind: &str,
    id: &str,
    version: u64,
    meta: &Meta,
    data: &[u8],
) {
    batch.insert(record_key(kind, id), encode(version, meta, data));
    for (index, value) in &meta.indexes {
        batch.insert(index_key(kind, index, value, id), &[]);
    }
    for (name, value) in &meta.unique {
        batch.insert(unique_key(kind, name, value), id.as_bytes());
    }
}

pub(super) fn decode(bytes: &[u8]) -> Result<(u64, Meta, &[u8]), StorageError> {
    let corrupt =
        || StorageError::with_fault(Fault::Corrupt, "a stored record has a damaged header");
    let version = u64::from_be_bytes(
        bytes
            .get(..8)
            .ok_or_else(corrupt)?
            .try_into()
            .map_err(|_| corrupt())?,
    );
    let len = u32::from_be_bytes(
        bytes
            .get(8..12)
            .ok_or_else(corrupt)?
            .try_into()
            .map_err(|_| corrupt())?,
    ) as usize;
    let meta_bytes = bytes.get(12..12 + len).ok_or_else(corrupt)?;
    let meta = serde_json::from_slice(meta_bytes).map_err(|_| corrupt())?;
    Ok((version, meta, &bytes[12 + len..]))
}

fn read_count(
    tx: &TransactionalTree,
    k: &[u8],
) -> Result<u64, ConflictableTransactionError<CommitError>> {
    Ok(tx
        .get(k)?
        .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
        .unwrap_or(0))
}

fn adjust_count(
    tx: &TransactionalTree,
    kind: &str,
    id: &str,
    delta: i64,
) -> Result<(), ConflictableTransactionError<CommitError>> {
    let k = count_key(kind, id);
    let n = read_count(tx, &k)?.saturating_add_signed(delta);
    if n == 0 {
        tx.remove(k)?;
    } else {
        tx.insert(k, &n.to_be_bytes())?;
    }
    Ok(())
}

type TxResult<T> = Result<T, ConflictableTransactionError<CommitError>>;

fn abort<T>(e: CommitError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

fn check_expect(kind: Kind, id: &str, expect: Expect, found: Option<u64>) -> TxResult<()> {
    let (kind, id) = (kind, id.to_owned());
    match (expect, found) {
        (Expect::Absent, Some(_)) => abort(CommitError::AlreadyExists { kind, id }),
        (Expect::Present | Expect::Version(_), None) => abort(CommitError::NotFound { kind, id }),
        (Expect::Version(expected), Some(current)) if expected != current => {
            abort(CommitError::Stale {
                kind,
                id,
                expected,
                current,
            })
        }
        _ => Ok(()),
    }
}

fn put(tx: &TransactionalTree, w: &Write) -> TxResult<u64> {
    let Write::Put {
        kind,
        id,
        expect,
        data,
        indexes,
        unique,
        refs,
    } = w
    else {
        unreachable!("put is only called with Write::Put")
    };
    let k = kind.name();
    let rkey = record_key(k, id);
    let old = tx.get(&rkey)?;
    let (old_version, old_meta) = match &old {
        Some(bytes) => {
            let (v, m, _) =
                decode(bytes).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
            (Some(v), m)
        }
        None => (None, Meta::default()),
    };
    check_expect(*kind, id, *expect, old_version)?;
    for (index, value) in &old_meta.indexes {
        tx.remove(index_key(k, index, value, id))?;
    }
    for (name, value) in &old_meta.unique {
        tx.remove(unique_key(k, name, value))?;
    }
    for (name, value) in unique {
        let ukey = unique_key(k, name, value);
        if let Some(holder) = tx.get(&ukey)?
            && holder.as_ref() != id.as_bytes()
        {
            return abort(CommitError::Duplicate {
                kind: *kind,
                name: name.clone(),
                value: value.clone(),
                existing: String::from_utf8_lossy(&holder).into_owned(),
            });
        }
        tx.insert(ukey, id.as_bytes())?;
    }
    for (index, value) in indexes {
        tx.insert(index_key(k, index, value, id), &[])?;
    }
    let new_refs: Vec<(String, String)> = refs
        .iter()
        .map(|(rk, rid)| (rk.name().to_owned(), rid.clone()))
        .collect();
    for (i, (rk, rid)) in new_refs.iter().enumerate() {
        if old_meta.refs.contains(&(rk.clone(), rid.clone()))
            || new_refs[..i].contains(&(rk.clone(), rid.clone()))
        {
            continue;
        }
        if tx.get(record_key(rk, rid))?.is_none() {
            return abort(CommitError::MissingReference {
                kind: refs[i].0,
                id: rid.clone(),
            });
        }
        adjust_count(tx, rk, rid, 1)?;
    }
    for (i, r) in old_meta.refs.iter().enumerate() {
        if !new_refs.contains(r) && !old_meta.refs[..i].contains(r) {
            adjust_count(tx, &r.0, &r.1, -1)?;
        }
    }
    let version = old_version.unwrap_or(0) + 1;
    let meta = Meta {
        indexes: indexes.clone(),
        unique: unique.clone(),
        refs: new_refs,
    };
    tx.insert(rkey, encode(version, &meta, data))?;
    Ok(version)
}

fn delete(tx: &TransactionalTree, kind: Kind, id: &str, expect: Expect) -> TxResult<()> {
    let k = kind.name();
    let rkey = record_key(k, id);
    let Some(old) = tx.get(&rkey)? else {
        return abort(CommitError::NotFound {
            kind,
            id: id.to_owned(),
        });
    };
    let (version, meta, _) =
        decode(&old).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
    check_expect(kind, id, expect, Some(version))?;
    let count = read_count(tx, &count_key(k, id))?;
    if count > 0 {
        return abort(CommitError::Referenced {
            kind,
            id: id.to_owned(),
            count,
        });
    }
    for (index, value) in &meta.indexes {
        tx.remove(index_key(k, index, value, id))?;
    }
    for (name, value) in &meta.unique {
        tx.remove(unique_key(k, name, value))?;
    }
    for (i, r) in meta.refs.iter().enumerate() {
        if !meta.refs[..i].contains(r) {
            adjust_count(tx, &r.0, &r.1, -1)?;
        }
    }
    tx.remove(rkey)?;
    Ok(())
}

/// Runs `f` as one sled transaction on `tree`, its abort or sled's error as a commit error.
fn transact<T>(
    tree: &sled::Tree,
    f: impl Fn(&TransactionalTree) -> TxResult<T>,
) -> Result<T, CommitError> {
    tree.transaction(f).map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => CommitError::Storage(storage(e)),
    })
}

/// The record `kind`/`id` in `tree`.
fn get_in(tree: &sled::Tree, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
    let Some(bytes) = tree.get(record_key(kind.name(), id)).map_err(storage)? else {
        return Ok(None);
    };
    let (version, _, data) = decode(&bytes)?;
    Ok(Some(RawRecord {
        id: id.to_owned(),
        version,
        data: data.to_vec(),
    }))
}

impl Storage for SledStorage {
    fn get(&self, kind: Kind, id: &str) -> Result<Option<RawRecord>, StorageError> {
        if let Some(pending) = self.pending()
            && pending.contains(&record_key(kind.name(), id))
        {
            return Ok(None);
        }
        get_in(&*self.tree()?, kind, id)
    }

    fn scan(
        &self,
        kind: Kind,
        filter: Option<(&str, &str)>,
        after: Option<&str>,
        visit: &mut dyn FnMut(RawRecord) -> bool,
    ) -> Result<(), StorageError> {
        let k = kind.name();
        let mut prefix = match filter {
            Some((index, value)) => key(&["i", k, index, value]),
            None => key(&["r", k]),
        };
        prefix.push(0);
        let start = match after {
            Some(after) => {
                let mut s = prefix.clone();
                s.extend_from_slice(after.as_bytes());
                Bound::Excluded(s)
            }
            None => Bound::Included(prefix.clone()),
        };
        let tree = self.tree()?;
        let pending = self.pending();
        for item in tree.range::<Vec<u8>, _>((start, Bound::Unbounded)) {
            let (key, value) = item.map_err(storage)?;
            if !key.starts_with(&prefix) {
                break;
            }
            let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            if pending
                .as_ref()
                .is_some_and(|p| p.contains(&record_key(k, &id)))
            {
                continue;
            }
            let record = if filter.is_some() {
                match get_in(&tree, kind, &id)? {
                    Some(r) => r,
                    None => continue,
                }
            } else {
                let (version, _, data) = decode(&value)?;
                RawRecord {
                    id,
                    version,
                    data: data.to_vec(),
                }
            };
            if !visit(record) {
                break;
            }
        }
        Ok(())
    }

    fn commit(
        &self,
        writes: &[Write],
        remember: Option<&Remember>,
    ) -> Result<Vec<u64>, CommitError> {
        if bulk::eligible(writes) {
            return bulk::commit(self, writes, remember);
        }
        let _gate = self.gate.read().expect("commit gate");
        let tree = self.tree().map_err(CommitError::Storage)?;
        transact(&tree, |tx| {
            if let Some(r) = remember {
                claim(tx, r)?;
            }
            let mut versions = Vec::new();
            for w in writes {
                match w {
                    Write::Put { .. } => versions.push(put(tx, w)?),
                    Write::Delete { kind, id, expect } => delete(tx, *kind, id, *expect)?,
                }
            }
            Ok(versions)
        })
    }

    fn recall(&self, k: &str, since: Timestamp) -> Result<Option<Vec<u8>>, StorageError> {
        let Some(value) = self.tree()?.get(key(&["k", k])).map_err(storage)? else {
            return Ok(None);
        };
        let (at, response) = remembered(&value)?;
        Ok((at >= since).then(|| response.to_vec()))
    }

    fn forget_before(&self, before: Timestamp, limit: usize) -> Result<u64, StorageError> {
        remembered::forget_before(self, before, limit)
    }

    fn export(&self, out: &mut dyn std::io::Write) -> Result<super::Counts, StorageError> {
        SledStorage::export(self, out)
    }

    fn probe(&self) -> Result<(), StorageError> {
        match self.probe_write() {
            Err(e) if e.is_write_fault() => {
                self.reopen().map_err(|why| {
                    tracing::info!(reason = %why, "not reopening the database yet");
                    e
                })?;
                self.probe_write()
            }
            done => done,
        }
    }

    fn flush(&self) -> Result<(), StorageError> {
        // One flush at a time: the `Store` already makes concurrent writers share one
        // (group commit); this lock only keeps the CLI and background threads ordered.
        let mut durable = self.durable.lock().expect("durable lock");
        self.current()?.db().flush().map_err(storage)?;
        durable
            .sync()
            .map_err(|e| StorageError::io(&e, &format!("syncing {}", durable.dir.display())))
    }
}

mod bulk;
mod recovery;
mod remembered;

use remembered::{claim, stamp_unstamped};
pub(super) use remembered::{remember_raw, remembered};

#[cfg(test)]
mod tests;
