//! Backup, restore and verification of a sled store, in the portable format of
//! [`super::portable`]. Kept apart from `sled_backend.rs`, which is the request path.
//!
//! A backup is consistent: it holds the store's commit gate for writing, so no commit runs
//! while the records are read (commits wait, reads do not). A restore writes into an empty
//! store only, in one pass, and checks the trailer's counts before it flushes. Verification
//! decodes every record and recomputes every index entry, unique value and reference count
//! from the records' declarations, and compares them with what is stored.

use std::collections::BTreeMap;
use std::io::{BufRead, Write as IoWrite};

use super::portable::{Counts, Entry, EntryMeta, FORMAT, Line, VerifyReport};
use super::sled_backend::{Meta, SledStorage, count_key, decode, storage};
use super::{Fault, StorageError};

impl SledStorage {
    /// Writes every record and remembered response to `out` as JSON lines, while no commit
    /// runs. Returns the counts written.
    pub fn export(&self, out: &mut dyn IoWrite) -> Result<Counts, StorageError> {
        let _quiet = self.gate.write().expect("commit gate");
        let io = |e: std::io::Error| StorageError::io(&e, "writing the backup");
        let line = |out: &mut dyn IoWrite, l: &Line| -> Result<(), StorageError> {
            serde_json::to_writer(&mut *out, l).map_err(|e| StorageError::new(e.to_string()))?;
            out.write_all(b"\n").map_err(io)
        };
        line(
            out,
            &Line::Header {
                chanlab_backup: FORMAT,
                chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            },
        )?;
        let mut counts = Counts::default();
        for item in self.tree()?.scan_prefix(b"r\0") {
            let (key, value) = item.map_err(storage)?;
            let (kind, id) = split_record_key(&key)?;
            let (version, meta, data) = decode(&value)?;
            let data = serde_json::from_slice(data).map_err(|e| {
                StorageError::with_fault(Fault::Corrupt, format!("{kind} {id}: {e}"))
            })?;
            line(
                out,
                &Line::Record(Entry {
                    kind,
                    id,
                    version,
                    meta: EntryMeta {
                        indexes: meta.indexes,
                        unique: meta.unique,
                        refs: meta.refs,
                    },
                    data,
                }),
            )?;
            counts.records += 1;
        }
        for item in self.tree()?.scan_prefix(b"k\0") {
            let (key, value) = item.map_err(storage)?;
            let remembered = String::from_utf8_lossy(&key[2..]).into_owned();
            let (at, response) = super::sled_backend::remembered(&value)?;
            let response = serde_json::from_slice(response).map_err(|e| {
                StorageError::with_fault(Fault::Corrupt, format!("remembered {remembered}: {e}"))
            })?;
            line(
                out,
                &Line::Remembered {
                    remembered,
                    response,
                    at: Some(at),
                },
            )?;
            counts.remembered += 1;
        }
        line(out, &Line::End { end: counts })?;
        out.flush().map_err(io)?;
        Ok(counts)
    }

    /// Restores a backup read from `input` into this store, which must be empty; flushed
    /// before it returns. A damaged or truncated backup is refused naming its line, and
    /// leaves the store empty.
    pub fn import(&self, input: &mut dyn BufRead) -> Result<Counts, String> {
        let tree = self.tree().map_err(|e| e.message)?;
        if tree.iter().next().is_some() {
            return Err(
                "the data directory already holds records; restore into an empty one".into(),
            );
        }
        let mut batch = sled::Batch::default();
        let mut counts = Counts::default();
        let mut ended = None;
        let mut refs: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (n, text) in input.lines().enumerate() {
            let at = n + 1;
            let text = text.map_err(|e| format!("line {at}: cannot read: {e}"))?;
            let line: Line = serde_json::from_str(&text)
                .map_err(|e| format!("line {at}: not a chanlab backup line ({e})"))?;
            match (at, line, ended) {
                (_, _, Some(_)) => return Err(format!("line {at}: lines after the end")),
                (1, Line::Header { chanlab_backup, .. }, _) if chanlab_backup == FORMAT => {}
                (1, _, _) => {
                    return Err(format!(
                        "line 1: not a chanlab backup header (format {FORMAT} expected)"
                    ));
                }
                (_, Line::Record(e), _) => {
                    let meta = Meta {
                        indexes: e.meta.indexes,
                        unique: e.meta.unique,
                        refs: e.meta.refs,
                    };
                    let data = serde_json::to_vec(&e.data).map_err(|e| e.to_string())?;
                    super::sled_backend::put_raw(
                        &mut batch, &e.kind, &e.id, e.version, &meta, &data,
                    );
                    for (rk, rid) in dedup(&meta.refs) {
                        *refs.entry((rk, rid)).or_default() += 1;
                    }
                    counts.records += 1;
                }
                (
                    _,
                    Line::Remembered {
                        remembered,
                        response,
                        at: when,
                    },
                    _,
                ) => {
                    let bytes = serde_json::to_vec(&response).map_err(|e| e.to_string())?;
                    let when = when.unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
                    super::sled_backend::remember_raw(&mut batch, &remembered, when, &bytes);
                    counts.remembered += 1;
                }
                (_, Line::End { end }, _) => ended = Some(end),
                (_, Line::Header { .. }, _) => return Err(format!("line {at}: a second header")),
            }
        }
        match ended {
            Some(end) if end == counts => {}
            Some(end) => {
                return Err(format!(
                    "the backup says it holds {} records and {} responses but has {} and {}",
                    end.records, end.remembered, counts.records, counts.remembered
                ));
            }
            None => return Err("the backup has no end line: it is truncated".into()),
        }
        for ((kind, id), n) in refs {
            batch.insert(count_key(&kind, &id), &n.to_be_bytes());
        }
        tree.apply_batch(batch).map_err(|e| e.to_string())?;
        super::Storage::flush(self).map_err(|e| e.to_string())?;
        Ok(counts)
    }

    /// Checks every record decodes and every index entry, unique value and reference count
    /// agrees with the records' declarations, reporting each disagreement.
    pub fn verify(&self) -> Result<VerifyReport, StorageError> {
        let mut report = VerifyReport::default();
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for item in self.tree()?.scan_prefix(b"r\0") {
            let (key, value) = item.map_err(storage)?;
            report.counts.records += 1;
            let (kind, id) = match split_record_key(&key) {
                Ok(k) => k,
                Err(e) => {
                    report.problems.push(e.message);
                    continue;
                }
            };
            let (_, meta, data) = match decode(&value) {
                Ok(d) => d,
                Err(_) => {
                    report
                        .problems
                        .push(format!("{kind} {id}: its header is damaged"));
                    continue;
                }
            };
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(data) {
                report
                    .problems
                    .push(format!("{kind} {id}: its JSON is damaged ({e})"));
            }
            for (index, v) in &meta.indexes {
                let k = super::sled_backend::key(&["i", &kind, index, v, &id]);
                expected.insert(k, Vec::new());
            }
            for (name, v) in &meta.unique {
                let k = super::sled_backend::key(&["u", &kind, name, v]);
                expected.insert(k, id.as_bytes().to_vec());
            }
            for (rk, rid) in dedup(&meta.refs) {
                *counts.entry(count_key(&rk, &rid)).or_default() += 1;
            }
        }
        for (k, n) in counts {
            expected.insert(k, n.to_be_bytes().to_vec());
        }
        let mut stored: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for prefix in [b"i\0", b"u\0", b"c\0"] {
            for item in self.tree()?.scan_prefix(prefix) {
                let (k, v) = item.map_err(storage)?;
                stored.insert(k.to_vec(), v.to_vec());
            }
        }
        for (k, v) in &expected {
            match stored.get(k) {
                None => report.problems.push(format!("missing {}", describe(k))),
                Some(s) if s != v => report.problems.push(format!("wrong {}", describe(k))),
                Some(_) => {}
            }
        }
        for k in stored.keys().filter(|k| !expected.contains_key(*k)) {
            report.problems.push(format!("stray {}", describe(k)));
        }
        report.counts.remembered = self.tree()?.scan_prefix(b"k\0").count() as u64;
        Ok(report)
    }
}

/// The `(kind, id)` of a record key `r\0kind\0id`.
fn split_record_key(key: &[u8]) -> Result<(String, String), StorageError> {
    let text = String::from_utf8_lossy(key);
    let mut parts = text.splitn(3, '\0');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("r"), Some(kind), Some(id)) => Ok((kind.to_owned(), id.to_owned())),
        _ => Err(StorageError::with_fault(
            Fault::Corrupt,
            format!("a record key is damaged: {text:?}"),
        )),
    }
}

/// References counted once per record, as commits count them.
fn dedup(refs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in refs {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// An index, unique or count key in words.
fn describe(key: &[u8]) -> String {
    let text = String::from_utf8_lossy(key);
    let parts: Vec<&str> = text.split('\0').collect();
    match parts.first() {
        Some(&"i") => format!("index entry {}", parts[1..].join(" / ")),
        Some(&"u") => format!("unique value {}", parts[1..].join(" / ")),
        Some(&"c") => format!("reference count of {}", parts[1..].join(" ")),
        _ => format!("entry {text:?}"),
    }
}

#[cfg(test)]
mod tests;
