//! The trail's time order: an entry's id is its time ([`entry_id`]), so a time range is
//! an id range and `GET /audit?since&until` reads only the entries inside it, however long
//! the trail (a year's trail asked for one day reads that day).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::AuditEntry;
use crate::storage::{Page, StorageError, Store};

/// An entry's id: a UUIDv7 whose time is `at`'s millisecond, so the trail's id order is
/// its time order. `seq`, the entry's place in its commit, fills the 12 bits after the
/// version so one commit's entries list in the order they were made; the other 62 bits are
/// random. Built by hand because `Uuid::now_v7` takes its time from the clock when it is
/// called, which runs ahead of `at` by however long the commit's reads took (seconds behind
/// a large import on sled), and the range read below needs the id's time to be `at`'s.
pub(crate) fn entry_id(at: DateTime<Utc>, seq: usize) -> Uuid {
    let mut bytes: [u8; 10] = rand::random();
    let seq = u16::try_from(seq.min(0xFFF)).unwrap_or(0xFFF);
    let [high, low] = seq.to_be_bytes();
    bytes[0] = high; // the version nibble takes the top four bits, which are zero here
    bytes[1] = low;
    uuid::Builder::from_unix_timestamp_millis(millis(at), &bytes).into_uuid()
}

/// The greatest id an entry of a millisecond before `at`'s can have: reading after it
/// reads every entry at or after `at` (and those of `at`'s millisecond before it, which the
/// time filter drops). `None` at the epoch's first millisecond, before which nothing is.
fn id_before(at: DateTime<Utc>) -> Option<Uuid> {
    let ms = millis(at).checked_sub(1)?;
    Some(uuid::Builder::from_unix_timestamp_millis(ms, &[0xFF; 10]).into_uuid())
}

/// `at` in whole milliseconds since 1970 (0 before it: the trail holds no such entry).
fn millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or(0)
}

/// One read of the trail: the index to read (or every entry), the cursor, the time range
/// and the filters the index does not cover.
#[derive(Debug, Clone, Default)]
pub(crate) struct Range {
    /// The index entry to read, `(index, value)`.
    pub index: Option<(&'static str, String)>,
    /// Entries after this id (the previous page's cursor).
    pub after: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Entries of this collection only.
    pub kind: Option<String>,
    /// Entries by this actor only ([`super::AuditActor::key`]).
    pub actor: Option<String>,
    /// Page size.
    pub limit: usize,
}

impl Range {
    /// The page of entries this range asks for, oldest first. It starts after the last id
    /// before `since` (or the cursor, whichever is later) and stops at the first entry of a
    /// millisecond after `until`: the entries outside the range are never read. Blocking.
    pub(crate) fn list(&self, store: &Store) -> Result<Page<AuditEntry>, StorageError> {
        let start = self.since.and_then(id_before).map(|u| u.to_string());
        let after = match (self.after.clone(), start) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let keep = |e: &AuditEntry| {
            self.since.is_none_or(|t| e.at >= t)
                && self.until.is_none_or(|t| e.at < t)
                && self.kind.as_ref().is_none_or(|k| *k == e.kind)
                && self.actor.as_ref().is_none_or(|a| e.actor.key() == *a)
        };
        // Within one millisecond ids are not in time order (their low bits are random), so
        // the read stops only at a later millisecond; `keep` drops the rest of `until`'s.
        let past = |e: &AuditEntry| self.until.is_some_and(|t| millis(e.at) > millis(t));
        store.list_until(
            self.index.as_ref().map(|(n, v)| (*n, v.as_str())),
            after.as_deref(),
            self.limit,
            &keep,
            &past,
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeDelta;

    use super::*;
    use crate::audit::{AuditAction, AuditActor};
    use crate::storage::{Expect, Kind, SledStorage, Write, store_put};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_780_000_000_000 + ms).unwrap()
    }

    fn entry(when: DateTime<Utc>, seq: usize) -> AuditEntry {
        AuditEntry {
            id: entry_id(when, seq),
            at: when,
            actor: AuditActor {
                token_id: None,
                label: "test".to_owned(),
            },
            request_id: None,
            operation: "PATCH /regions/{id}".to_owned(),
            kind: "region".to_owned(),
            record_id: Some(format!("r{seq}")),
            action: AuditAction::Updated,
            changes: Vec::new(),
            batch: None,
        }
    }

    /// A record in the trail's collection and kind index that no entry decodes from: a read
    /// that reaches it fails, so a range that answers never read it.
    fn trap(id: Uuid) -> Write {
        Write::Put {
            kind: Kind::Audit,
            id: id.to_string(),
            expect: Expect::Absent,
            data: b"{\"not\":\"an entry\"}".to_vec(),
            indexes: vec![("kind".to_owned(), "region".to_owned())],
            unique: Vec::new(),
            refs: Vec::new(),
        }
    }

    #[test]
    fn ids_sort_as_their_times_and_a_commits_entries_as_made() {
        let t = at(500);
        let same_ms = at(500) + TimeDelta::microseconds(999);
        assert!(
            entry_id(t, 0) < entry_id(t, 1),
            "seq orders one commit's entries"
        );
        assert!(entry_id(t, 4095) < entry_id(at(501), 0));
        assert!(entry_id(at(499), 4095) < entry_id(t, 0));
        let before = id_before(t).unwrap();
        assert!(
            before > entry_id(at(499), 4095),
            "no entry of an earlier ms is after it"
        );
        assert!(
            before < entry_id(same_ms, 0),
            "every entry of at's ms is after it"
        );
        let ts = entry_id(t, 7).get_timestamp().unwrap().to_unix();
        assert_eq!(ts.0 * 1000 + u64::from(ts.1 / 1_000_000), millis(t));
        assert_eq!(id_before(DateTime::UNIX_EPOCH), None);
    }

    #[test]
    fn a_time_range_reads_only_the_entries_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(SledStorage::open(dir.path()).unwrap()));
        let (since, until) = (at(10_000) + TimeDelta::microseconds(400), at(20_000));
        let mut writes: Vec<Write> = (0..50)
            .map(|i| trap(entry_id(at(i * 100), 0)))
            .chain((0..50).map(|i| trap(entry_id(at(30_000 + i * 100), 0))))
            .collect();
        // Inside the range, one entry a second; at its edges, entries of the same
        // millisecond as `since` (before it) and as `until` (at it), which it leaves out;
        // and the entry just past it, which the read decodes to know it can stop.
        let inside: Vec<AuditEntry> = (0..10)
            .map(|i| entry(since + TimeDelta::seconds(i), 1))
            .collect();
        let edges = [
            entry(at(10_000), 2),
            entry(until, 3),
            entry(until + TimeDelta::milliseconds(1), 0),
        ];
        for e in inside.iter().chain(&edges) {
            writes.push(store_put(e, Expect::Absent));
        }
        store.commit(&writes, None).unwrap();

        for index in [None, Some(("kind", "region".to_owned()))] {
            let mut range = Range {
                index,
                since: Some(since),
                until: Some(until),
                limit: 4,
                ..Range::default()
            };
            let mut read = Vec::new();
            loop {
                let page = range
                    .list(&store)
                    .expect("a read reached a trap outside the range");
                read.extend(page.items);
                match page.next_after {
                    Some(next) => range.after = Some(next),
                    None => break,
                }
            }
            assert_eq!(
                read, inside,
                "every entry inside, oldest first, over three pages"
            );
        }
        // The traps are there to be hit: a read that starts before `since` fails.
        let unbounded = Range {
            until: Some(until),
            limit: 4,
            ..Range::default()
        };
        assert!(unbounded.list(&store).is_err());
    }
}
