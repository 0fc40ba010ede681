//! Getting a sled store back: refused at start when damaged, reopened after a latched write
//! error (README "Storage faults").

use std::fs::File;
use std::path::Path;

use super::{Fault, REOPEN_EVERY, SledStorage, key, open_db, storage};
use crate::storage::{StorageError, VerifyReport};

impl SledStorage {
    /// What `chanlab verify` reports on a data directory: [`SledStorage::open`] and the
    /// integrity check of [`SledStorage::open_checked`], without refusing a damaged store,
    /// so every problem is listed; a file sled cannot read is one such problem. Errors only
    /// when the directory cannot be opened at all (another process holds it, I/O).
    pub fn verify_dir(dir: &Path) -> Result<VerifyReport, StorageError> {
        let db = dir.join("db");
        let unreadable = |problem: String| VerifyReport {
            problems: vec![problem],
            ..VerifyReport::default()
        };
        let store = match quiet_unwind(|| SledStorage::open(dir)) {
            Ok(opened) => opened?,
            Err(panic) => {
                return Ok(unreadable(format!(
                    "sled could not read {}: {panic}",
                    db.display()
                )));
            }
        };
        match quiet_unwind(|| store.verify()) {
            Ok(report) => report,
            Err(panic) => Ok(unreadable(format!(
                "sled failed reading {}: {panic}",
                db.display()
            ))),
        }
    }

    /// Opens the store to serve it: [`SledStorage::open`], with a panic inside sled on a
    /// damaged file turned into an error, then the whole integrity check of `chanlab
    /// verify` (every record decodes; every index entry, unique value and reference count
    /// agrees), so a damaged store is refused at start instead of answering 500 on whole
    /// collections later. Errors are [`Fault::Corrupt`] and say what was found.
    pub fn open_checked(dir: &Path) -> Result<Self, StorageError> {
        let db = dir.join("db");
        let store = match quiet_unwind(|| SledStorage::open(dir)) {
            Ok(opened) => opened?,
            Err(panic) => {
                return Err(StorageError::with_fault(
                    Fault::Corrupt,
                    format!("sled could not read {}: {panic}", db.display()),
                ));
            }
        };
        let report = match quiet_unwind(|| store.verify()) {
            Ok(report) => report?,
            Err(panic) => {
                return Err(StorageError::with_fault(
                    Fault::Corrupt,
                    format!("sled failed reading {}: {panic}", db.display()),
                ));
            }
        };
        match report.problems.first() {
            None => Ok(store),
            Some(first) => Err(StorageError::with_fault(
                Fault::Corrupt,
                format!(
                    "{} failed its integrity check: {} problem(s), the first: {first}",
                    db.display(),
                    report.problems.len()
                ),
            )),
        }
    }
}

/// Runs `f`, turning a panic into its message, without the panic hook's report on standard
/// error (the caller says what happened, with the fix). sled 0.34 panics on some damaged
/// files instead of returning an error; this is the only place that catches it.
///
/// Only this thread is quiet: the process's hook is wrapped once ([`QUIET`]) rather than
/// swapped for the call, since a swap silenced every other thread's panics meanwhile (a
/// handler's, or another test's, which then failed with no message).
pub(super) fn quiet_unwind<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static WRAP: std::sync::Once = std::sync::Once::new();
    WRAP.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                report(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(false));
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// Whether this thread's panics go unreported now (inside [`quiet_unwind`]).
#[cfg(test)]
pub(super) fn is_quiet() -> bool {
    QUIET.with(std::cell::Cell::get)
}

thread_local! {
    /// Whether this thread's panics go unreported, inside [`quiet_unwind`].
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl SledStorage {
    /// Reopens the database after a failed write. sled 0.34 latches the first I/O error of
    /// its log (a full disk) and fails every later write even once space returns; a new
    /// instance reads the log from the disk again and writes. Only tried when the directory
    /// has room for the log to grow ([`room_to_write`]; so while the cause lasts, reads
    /// keep their instance), at most once every [`REOPEN_EVERY`], with no commit in flight.
    pub(super) fn reopen(&self) -> Result<(), StorageError> {
        {
            let mut last = self.reopened.lock().expect("reopen lock");
            if last.is_some_and(|t| t.elapsed() < REOPEN_EVERY) {
                return Err(StorageError::with_fault(
                    Fault::Io,
                    "the store was reopened a moment ago",
                ));
            }
            *last = Some(std::time::Instant::now());
        }
        room_to_write(&self.dir)
            .map_err(|e| StorageError::io(&e, &format!("writing in {}", self.dir.display())))?;
        let _gate = self.gate.write().expect("commit gate");
        let mut durable = self.durable.lock().expect("durable lock");
        let mut slot = self.open.write().expect("open lock");
        drop(slot.take());
        // sled lets go of its directory once every handle of the old instance is dropped:
        // a read that holds one finishes first.
        let mut tries = 0;
        let (open, synced) = loop {
            match open_db(&self.dir, &self.closes) {
                Ok(opened) => break opened,
                Err(e) if tries < 100 && e.message.contains("lock") => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        *slot = Some(open);
        *durable = synced;
        // Opening rolled back any bulk commit left half-way: nothing is pending now.
        *self.pending.write().expect("pending lock") = None;
        tracing::warn!(dir = %self.dir.display(), "reopened the database after a write error");
        Ok(())
    }

    pub(super) fn probe_write(&self) -> Result<(), StorageError> {
        // A write that must reach the disk: on a full disk or a latched I/O error it fails.
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.tree()?
            .insert(key(&["h", "probe"]), &stamp.to_be_bytes())
            .map_err(storage)?;
        super::Storage::flush(self)
    }
}

/// Whether sled could grow its log again: 512 KiB (one sled segment) can be written and
/// synced in `dir`, and a file there may be as long as the log plus 1 MiB (a file-size
/// limit, unlike a full disk, lets small files through). The file is removed after.
fn room_to_write(dir: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let path = dir.join(".chanlab-room");
    let log = std::fs::metadata(dir.join("db"))?.len();
    let result = File::create(&path).and_then(|mut f| {
        f.write_all(&[0; 512 * 1024])?;
        f.sync_all()?;
        f.set_len(log + (1 << 20))
    });
    let _ = std::fs::remove_file(&path);
    result
}
