//! Commits too large for one sled transaction: a CSV import of many thousands of records.
//!
//! Why not one transaction: sled 0.34 applies a transaction (and a `Batch`) under one
//! pinned epoch guard, so every leaf version an insert replaces stays in memory until the
//! whole commit ends. Measured on 100,000 partner rows (`bash benches/import.sh`): 13–15 s
//! and 3.1 GB of growth for the one transaction. In a standalone experiment with this key
//! layout (100,000 records of 4 keys each), one transaction took 5.7 s and 2.6 GB, one
//! `Batch` 6.3 s and 2.5 GB, transactions of 500 writes 3.3 s and 190 MB, the same as
//! plain inserts (3.3 s, 180 MB).
//!
//! So a large commit of creates is applied in chunks, each its own small transaction
//! running the same checks as any commit ([`put`]), and stays all or nothing by three
//! rules:
//!
//! - **Exclusive.** It holds the commit gate for writing: no other commit (nor a backup)
//!   runs meanwhile, so nothing can come to depend on a record that may yet be rolled back.
//!   Reads go on.
//! - **Invisible until done.** Its records are [`Pending`]: `get` and `scan` skip them
//!   until the last chunk, which also removes the journal and stores the remembered
//!   response, has committed.
//! - **Journaled.** Before the first chunk, with every record it names checked absent,
//!   the list of records it creates is written under [`JOURNAL`] and made durable. A failed chunk (a conflict, a replayed idempotency key,
//!   an I/O error) rolls back the chunks before it at once; a crash does so when the store
//!   is next opened ([`recover`]), since the journal goes only with the last chunk. sled's
//!   log is replayed in order, so a chunk that survives a crash has its journal before it.

use std::collections::HashSet;
use std::sync::Arc;

use super::{
    CommitError, Expect, Kind, Remember, SledStorage, StorageError, Write, claim, delete, put,
    record_key, storage, transact,
};

/// Commits of at least this many writes, every one a create, are applied in chunks.
pub(super) const BULK_FROM: usize = 2_000;

/// Keys a chunk writes, about: small enough that a chunk's epoch garbage stays small,
/// large enough that the per-transaction cost is spread (chunks of 500 records of 4 keys
/// were as fast as plain inserts). Counted in keys, not writes: an audit batch entry is
/// one write of a thousand index keys.
const CHUNK_KEYS: usize = 2_000;

/// Records per chunk when undoing (each a few keys).
const CHUNK: usize = 500;

/// The key of the journal of the bulk commit in progress (at most one: the gate is held).
pub(super) const JOURNAL: &[u8] = b"j\0bulk";

/// The record keys of a bulk commit not yet committed, which reads skip.
pub(super) type Pending = Option<Arc<HashSet<Vec<u8>>>>;

/// Whether `writes` go through [`commit`]: many, and every one a create.
pub(super) fn eligible(writes: &[Write]) -> bool {
    writes.len() >= BULK_FROM && writes.iter().all(Write::is_create)
}

/// Applies `writes` (all creates, see [`eligible`]) in chunks, all or none.
pub(super) fn commit(
    s: &SledStorage,
    writes: &[Write],
    remember: Option<&Remember>,
) -> Result<Vec<u64>, CommitError> {
    let _gate = s.gate.write().expect("commit gate");
    let tree = s.tree()?;
    let created: Vec<(&str, &str)> = writes.iter().map(created).collect();
    // Every record it names is absent now (and no one else writes until it ends), so a
    // rollback deletes only records this commit made.
    for (w, (kind, id)) in writes.iter().zip(&created) {
        if tree.contains_key(record_key(kind, id)).map_err(storage)? {
            let Write::Put { kind, .. } = w else {
                unreachable!("a bulk commit only creates")
            };
            return Err(CommitError::AlreadyExists {
                kind: *kind,
                id: (*id).to_owned(),
            });
        }
    }
    let journal = serde_json::to_vec(&created).expect("names serialise");
    tree.insert(JOURNAL, journal).map_err(storage)?;
    // Durable before any record it names: the journal is large enough to be a sled blob,
    // which only this flush syncs.
    super::Storage::flush(s)?;
    let keys = created.iter().map(|(k, id)| record_key(k, id)).collect();
    *s.pending.write().expect("pending lock") = Some(Arc::new(keys));
    let applied = apply(&tree, writes, remember);
    if applied.is_err() {
        // Should the rollback itself fail, the records stay pending (hidden) and the
        // journal stays: the next open, a reopen after the I/O error, finishes it.
        undo(&tree, &created)?;
    }
    *s.pending.write().expect("pending lock") = None;
    applied
}

fn created(w: &Write) -> (&str, &str) {
    match w {
        Write::Put { kind, id, .. } => (kind.name(), id.as_str()),
        Write::Delete { .. } => unreachable!("a bulk commit only creates"),
    }
}

/// Every chunk in order; the last also stores `remember` and removes the journal.
fn apply(
    tree: &sled::Tree,
    writes: &[Write],
    remember: Option<&Remember>,
) -> Result<Vec<u64>, CommitError> {
    let mut versions = Vec::with_capacity(writes.len());
    let chunks = chunks(writes);
    for (i, chunk) in chunks.iter().enumerate() {
        let last = i + 1 == chunks.len();
        let done = transact(tree, |tx| {
            let mut v = Vec::with_capacity(chunk.len());
            for w in *chunk {
                v.push(put(tx, w)?);
            }
            if last {
                if let Some(r) = remember {
                    claim(tx, r)?;
                }
                tx.remove(JOURNAL)?;
            }
            Ok(v)
        })?;
        versions.extend(done);
    }
    Ok(versions)
}

/// `writes` cut into runs of about [`CHUNK_KEYS`] keys each (a write larger than that is
/// a run of its own).
fn chunks(writes: &[Write]) -> Vec<&[Write]> {
    let keys = |w: &Write| match w {
        Write::Put {
            indexes,
            unique,
            refs,
            ..
        } => 1 + indexes.len() + unique.len() + refs.len(),
        Write::Delete { .. } => 1,
    };
    let mut out = Vec::new();
    let (mut start, mut weight) = (0, 0);
    for (i, w) in writes.iter().enumerate() {
        if weight > 0 && weight + keys(w) > CHUNK_KEYS {
            out.push(&writes[start..i]);
            (start, weight) = (i, 0);
        }
        weight += keys(w);
    }
    out.push(&writes[start..]);
    out
}

/// Deletes every record of `created` that is stored, newest first (so one that references
/// another of them goes first), and the journal.
fn undo(tree: &sled::Tree, created: &[(&str, &str)]) -> Result<(), StorageError> {
    let reversed: Vec<&(&str, &str)> = created.iter().rev().collect();
    for chunk in reversed.chunks(CHUNK) {
        let undone = transact(tree, |tx| {
            for (kind, id) in chunk {
                let Some(kind) = Kind::from_name(kind) else {
                    continue;
                };
                if tx.get(record_key(kind.name(), id))?.is_some() {
                    delete(tx, kind, id, Expect::Present)?;
                }
            }
            Ok(())
        });
        undone.map_err(|e| match e {
            CommitError::Storage(e) => e,
            other => StorageError::new(format!("rolling back a bulk commit: {other}")),
        })?;
    }
    tree.remove(JOURNAL).map_err(storage)?;
    Ok(())
}

/// Rolls back the bulk commit a crash interrupted, if any; how many records it named.
/// Called on every open, before anything reads the store.
pub(super) fn recover(tree: &sled::Tree) -> Result<usize, StorageError> {
    let Some(journal) = tree.get(JOURNAL).map_err(storage)? else {
        return Ok(0);
    };
    let created: Vec<(String, String)> = serde_json::from_slice(&journal).map_err(|e| {
        StorageError::with_fault(
            super::Fault::Corrupt,
            format!(
                "the journal of an interrupted import is damaged ({e}): restore the store \
                 from a backup (`chanlab restore FILE --data-dir NEW`)"
            ),
        )
    })?;
    let names: Vec<(&str, &str)> = created
        .iter()
        .map(|(k, id)| (k.as_str(), id.as_str()))
        .collect();
    undo(tree, &names)?;
    tracing::warn!(
        records = names.len(),
        "rolled back an import a crash interrupted"
    );
    Ok(names.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Storage, conformance};

    fn partners(n: usize) -> Vec<Write> {
        (0..n)
            .map(|i| {
                conformance::put(
                    Kind::Partner,
                    &format!("p{i:04}"),
                    Expect::Absent,
                    vec![(Kind::Region, "r1".into())],
                )
            })
            .collect()
    }

    fn partner_ids(s: &SledStorage, filter: Option<(&str, &str)>) -> Vec<String> {
        let mut out = Vec::new();
        s.scan(Kind::Partner, filter, None, &mut |r| {
            out.push(r.id);
            true
        })
        .unwrap();
        out
    }

    /// Opens `dir` again once sled's flusher has let go of the previous instance's lock.
    fn reopen(dir: &std::path::Path) -> SledStorage {
        for _ in 0..100 {
            match SledStorage::open_checked(dir) {
                Ok(s) => return s,
                Err(e) if e.message.contains("lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("reopening: {}", e.message),
            }
        }
        panic!("the store stayed locked")
    }

    #[test]
    fn an_import_a_crash_interrupted_is_rolled_back_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStorage::open(dir.path()).unwrap();
        let region = conformance::put(Kind::Region, "r1", Expect::Absent, vec![]);
        s.commit(&[region], None).unwrap();
        let writes = partners(BULK_FROM);
        // What `commit` has done when a crash comes after two of its chunks: the journal,
        // flushed, then the chunks, flushed too (the worst case: they all reached the disk).
        let tree = s.tree().unwrap();
        let created: Vec<(&str, &str)> = writes.iter().map(created).collect();
        tree.insert(JOURNAL, serde_json::to_vec(&created).unwrap())
            .unwrap();
        for chunk in chunks(&writes[..2 * CHUNK]) {
            transact(&tree, |tx| {
                for w in chunk {
                    put(tx, w)?;
                }
                Ok(())
            })
            .unwrap();
        }
        s.flush().unwrap();
        assert!(s.get(Kind::Partner, "p0000").unwrap().is_some());
        drop(tree);
        drop(s);

        // `open_checked` also runs the integrity check: indexes and counts agree again.
        let s = reopen(dir.path());
        assert!(partner_ids(&s, None).is_empty());
        assert!(partner_ids(&s, Some(("tag", "x"))).is_empty());
        assert_eq!(s.tree().unwrap().get(JOURNAL).unwrap(), None);
        // The region's reference count went with them: it deletes.
        let delete = Write::Delete {
            kind: Kind::Region,
            id: "r1".into(),
            expect: Expect::Present,
        };
        s.commit(&[delete], None).unwrap();
    }

    #[test]
    fn a_damaged_journal_refuses_the_store_at_open_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStorage::open(dir.path()).unwrap();
        s.tree()
            .unwrap()
            .insert(JOURNAL, b"not a journal".as_slice())
            .unwrap();
        s.flush().unwrap();
        drop(s);
        let err = (0..100)
            .find_map(|_| match SledStorage::open(dir.path()) {
                Ok(_) => panic!("a damaged journal was accepted"),
                Err(e) if e.message.contains("lock") => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                }
                Err(e) => Some(e),
            })
            .expect("the store stayed locked");
        assert_eq!(err.fault, super::super::Fault::Corrupt);
        assert!(
            err.message
                .contains("journal of an interrupted import is damaged")
                && err.message.contains("chanlab restore"),
            "{}",
            err.message
        );
    }

    #[test]
    fn reads_skip_the_records_of_a_bulk_commit_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStorage::open(dir.path()).unwrap();
        let region = conformance::put(Kind::Region, "r1", Expect::Absent, vec![]);
        s.commit(&[region], None).unwrap();
        s.commit(&partners(2), None).unwrap();
        let pending = [record_key(Kind::Partner.name(), "p0000")];
        *s.pending.write().unwrap() = Some(Arc::new(pending.into_iter().collect()));
        assert_eq!(s.get(Kind::Partner, "p0000").unwrap(), None);
        assert!(s.get(Kind::Partner, "p0001").unwrap().is_some());
        assert_eq!(partner_ids(&s, None), ["p0001"]);
        assert_eq!(partner_ids(&s, Some(("tag", "x"))), ["p0001"]);
        *s.pending.write().unwrap() = None;
        assert_eq!(partner_ids(&s, None), ["p0000", "p0001"]);
    }

    #[test]
    fn chunks_are_cut_by_keys_and_cover_every_write_once() {
        let mut writes = partners(1_000);
        // An audit batch entry's worth of index keys in one write.
        if let Some(Write::Put { indexes, .. }) = writes.get_mut(10) {
            *indexes = vec![("record".into(), "x".into()); 3 * CHUNK_KEYS];
        }
        let cut = chunks(&writes);
        assert_eq!(cut.iter().map(|c| c.len()).sum::<usize>(), 1_000);
        let big = cut
            .iter()
            .position(|c| c.len() == 1)
            .expect("the big write alone");
        assert_eq!(cut[big][0], writes[10]);
        for c in cut.iter().filter(|c| c.len() > 1) {
            // Each partner is a record, one index key and one reference: 3 keys.
            assert!(c.len() * 3 <= CHUNK_KEYS, "{} writes", c.len());
        }
        assert_eq!(chunks(&writes[..1]).len(), 1);
    }

    #[test]
    fn only_many_creates_take_the_bulk_path() {
        let mut writes = partners(BULK_FROM);
        assert!(eligible(&writes));
        assert!(!eligible(&writes[1..]));
        writes.push(Write::Delete {
            kind: Kind::Region,
            id: "r1".into(),
            expect: Expect::Present,
        });
        assert!(!eligible(&writes));
    }
}
