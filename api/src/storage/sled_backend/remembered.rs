//! The idempotency records of a sled store: each response under `k\0key` with the time it
//! was remembered before it, and an index entry `e\0when\0key` per response so the sweep
//! reads the expired ones in time order without decoding the rest.

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::{SledStorage, TxResult, abort, key, storage};
use crate::storage::{CommitError, Fault, Remember, StorageError, Timestamp};

/// `at` as the sweep's index sorts it.
fn when(at: Timestamp) -> String {
    format!("{:020}", at.max(0))
}

/// The value of a remembered response: its time, then the response.
fn remembered_value(at: Timestamp, response: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + response.len());
    v.extend_from_slice(&at.max(0).to_be_bytes());
    v.extend_from_slice(response);
    v
}

/// The time and response of a remembered value.
pub(in crate::storage) fn remembered(value: &[u8]) -> Result<(Timestamp, &[u8]), StorageError> {
    let at = value
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_be_bytes)
        .ok_or_else(|| {
            StorageError::with_fault(Fault::Corrupt, "a remembered response is damaged")
        })?;
    Ok((at, &value[8..]))
}

/// The time and key of an `e\0when\0key` index entry.
fn split_expiry_key(index: &[u8]) -> Option<(Timestamp, &str)> {
    let text = std::str::from_utf8(index).ok()?;
    let (when, k) = text.strip_prefix("e\0")?.split_once('\0')?;
    Some((when.parse().ok()?, k))
}

/// Stores `r` in a batch: its value and its index entry.
pub(in crate::storage) fn remember_raw(
    batch: &mut sled::Batch,
    k: &str,
    at: Timestamp,
    response: &[u8],
) {
    batch.insert(key(&["k", k]), remembered_value(at, response));
    batch.insert(key(&["e", &when(at), k]), &[]);
}

/// Claims `r`'s key in a commit: refused with the remembered response while it holds the
/// key, replaced (with its index entry) once it has expired.
pub(super) fn claim(tx: &TransactionalTree, r: &Remember) -> TxResult<()> {
    let kkey = key(&["k", &r.key]);
    if let Some(previous) = tx.get(&kkey)? {
        let (at, response) =
            remembered(&previous).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
        if at >= r.expired_before {
            return abort(CommitError::Replayed(response.to_vec()));
        }
        tx.remove(key(&["e", &when(at), &r.key]))?;
    }
    tx.insert(kkey, remembered_value(r.at, &r.response))?;
    tx.insert(key(&["e", &when(r.at), &r.key]), &[])?;
    Ok(())
}

/// Gives the responses remembered before they carried a time (a store written by an
/// older chanlab: the bare JSON response, which starts with `{`, where a stamped value
/// starts with the zero high byte of its time) the time of this open, so they expire one
/// window from now and the sweep finds them. Once per store; flushed with the next commit.
pub(super) fn stamp_unstamped(tree: &sled::Tree) -> Result<(), StorageError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut batch = sled::Batch::default();
    let mut any = false;
    for item in tree.scan_prefix(b"k\0") {
        let (k, value) = item.map_err(storage)?;
        if value.first() == Some(&b'{') {
            let name = String::from_utf8_lossy(&k[2..]).into_owned();
            remember_raw(&mut batch, &name, now, &value);
            any = true;
        }
    }
    if any {
        tree.apply_batch(batch).map_err(storage)?;
    }
    Ok(())
}

/// Deletes up to `limit` responses remembered before `before` ([`crate::storage::Storage::forget_before`]).
pub(super) fn forget_before(
    s: &SledStorage,
    before: Timestamp,
    limit: usize,
) -> Result<u64, StorageError> {
    let _gate = s.gate.read().expect("commit gate");
    let tree = s.tree()?;
    let end = key(&["e", &when(before)]);
    let mut expired = Vec::new();
    for item in tree.range(b"e\0".to_vec()..end).take(limit) {
        let (index, _) = item.map_err(storage)?;
        expired.push(index);
    }
    let forgotten = tree.transaction(|tx| {
        let mut n = 0;
        for index in &expired {
            // The index entry names the key and the time it was remembered at; the
            // key may have been claimed afresh since the scan (a new time, a new
            // entry), and then only the stale index entry goes.
            let Some((at, k)) = split_expiry_key(index) else {
                tx.remove(index.as_ref())?;
                continue;
            };
            let kkey = key(&["k", k]);
            if let Some(value) = tx.get(&kkey)?
                && remembered(&value).is_ok_and(|(stored, _)| stored == at)
            {
                tx.remove(kkey)?;
                n += 1;
            }
            tx.remove(index.as_ref())?;
        }
        Ok::<_, ConflictableTransactionError<CommitError>>(n)
    });
    forgotten.map_err(|e| match e {
        TransactionError::Abort(e) => StorageError::new(e.to_string()),
        TransactionError::Storage(e) => storage(e),
    })
}
