//! The store as JSON lines, the same for every backend: what `chanlab backup` writes,
//! `chanlab restore` reads, and what moves records from one backend to another.
//!
//! The first line is a header (`{"chanlab_backup": 1, ...}`); then one line per record
//! (`{"kind", "id", "version", "meta", "data"}`, `data` the record's JSON exactly as
//! stored, `version` its ETag, `meta` the index entries, unique values and references it
//! declared), then one per remembered idempotent response (`{"remembered", "response"}`),
//! then a trailer with the counts (`{"end": {"records": n, "remembered": m}}`), so a
//! truncated file is refused rather than restored in part.

use serde::{Deserialize, Serialize};

/// The format's version, in the header.
pub const FORMAT: u32 = 1;

/// One line of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Line {
    /// The first line.
    Header {
        /// [`FORMAT`].
        chanlab_backup: u32,
        /// The chanlab version that wrote it.
        chanlab_version: String,
    },
    /// A record.
    Record(Entry),
    /// A remembered idempotent response.
    Remembered {
        /// The scoped idempotency key.
        remembered: String,
        /// The response as stored (JSON).
        response: serde_json::Value,
        /// When it was remembered (ms since the epoch), which its expiry goes by. Absent
        /// in a backup of a chanlab before keys expired: restored as remembered at the
        /// restore.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<super::Timestamp>,
    },
    /// The last line.
    End {
        /// How many of each came before.
        end: Counts,
    },
}

/// A stored record with everything its backend keeps about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The collection's name ([`super::Kind::name`]).
    pub kind: String,
    /// The record's id.
    pub id: String,
    /// Its version (the ETag).
    pub version: u64,
    /// Index entries, unique values and references it declared.
    pub meta: EntryMeta,
    /// The record's JSON.
    pub data: serde_json::Value,
}

/// What a record declared when it was written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EntryMeta {
    /// `(index, value)` entries.
    #[serde(default)]
    pub indexes: Vec<(String, String)>,
    /// `(name, value)` unique values.
    #[serde(default)]
    pub unique: Vec<(String, String)>,
    /// `(kind, id)` of the records it references.
    #[serde(default)]
    pub refs: Vec<(String, String)>,
}

/// How many records and remembered responses a backup holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Records.
    pub records: u64,
    /// Remembered responses.
    pub remembered: u64,
}

/// What `verify` found: counts, and every problem in words (empty when the store is sound).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct VerifyReport {
    /// Records and remembered responses read.
    pub counts: Counts,
    /// Each problem: which record or entry, and what is wrong.
    pub problems: Vec<String>,
}
