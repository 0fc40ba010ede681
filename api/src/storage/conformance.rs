//! What every [`Storage`] backend must do, as functions over `&dyn Storage`: a new backend
//! runs [`CASES`] in its tests, as the sled backend does.

use super::{CommitError, Expect, Kind, Remember, Storage, Timestamp, Write};

/// A put of an empty record with one index entry `tag = x`.
pub(crate) fn put(kind: Kind, id: &str, expect: Expect, refs: Vec<(Kind, String)>) -> Write {
    Write::Put {
        kind,
        id: id.to_owned(),
        expect,
        data: b"{}".to_vec(),
        indexes: vec![("tag".to_owned(), "x".to_owned())],
        unique: vec![],
        refs,
    }
}

/// A day, in the milliseconds the idempotency records keep time in.
const DAY: Timestamp = 24 * HOUR;
const HOUR: Timestamp = 3_600_000;
/// Some fixed "now" for the cases: the backends take time from the caller, never a clock.
pub(crate) const T0: Timestamp = 1_800_000_000_000;

/// `response` remembered under `key` at `at`, with a window of a day.
pub(crate) fn remember(key: &str, response: &[u8], at: Timestamp) -> Remember {
    Remember {
        key: key.into(),
        response: response.to_vec(),
        at,
        expired_before: at - DAY,
    }
}

/// How many remembered responses the store holds, as its backup counts them.
fn remembered(s: &dyn Storage) -> u64 {
    s.export(&mut Vec::new()).unwrap().remembered
}

fn ids(
    s: &dyn Storage,
    kind: Kind,
    filter: Option<(&str, &str)>,
    after: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    s.scan(kind, filter, after, &mut |r| {
        out.push(r.id);
        true
    })
    .unwrap();
    out
}

/// One case: a check run on a fresh, empty backend.
pub(crate) type Case = fn(&dyn Storage);

/// Every case, named.
pub(crate) const CASES: &[(&str, Case)] = &[
    (
        "a referenced record cannot be deleted",
        referenced_records_stay,
    ),
    (
        "a failed commit writes nothing",
        failed_commit_writes_nothing,
    ),
    ("index entries follow updates", index_entries_follow_updates),
    (
        "versions count writes and guard updates",
        versions_guard_updates,
    ),
    ("unique values are unique", unique_values_are_unique),
    (
        "an idempotency key is used once",
        idempotency_keys_are_used_once,
    ),
    (
        "scans are in id order from a cursor",
        scans_follow_the_cursor,
    ),
    (
        "an idempotency key expires after its window, and the sweep deletes it",
        idempotency_keys_expire,
    ),
    (
        "a commit of thousands of creates lands whole, with its references counted",
        large_commits_land_whole,
    ),
    (
        "a commit of thousands of creates that fails on its last write leaves nothing",
        large_commits_fail_whole,
    ),
    (
        "a commit of thousands of creates checks each write's id and references in order",
        large_commits_check_each_write,
    ),
];

/// More writes than any backend's chunk (sled applies a commit this large in chunks).
const LARGE: usize = 2_600;

/// `n` partners `p0000`... referencing region `r1`, each with a unique external id.
fn many_partners(n: usize) -> Vec<Write> {
    (0..n)
        .map(|i| Write::Put {
            kind: Kind::Partner,
            id: format!("p{i:04}"),
            expect: Expect::Absent,
            data: format!("{{\"n\":{i}}}").into_bytes(),
            indexes: vec![("tag".to_owned(), "x".to_owned())],
            unique: vec![("external_id".to_owned(), format!("E{i}"))],
            refs: vec![(Kind::Region, "r1".to_owned())],
        })
        .collect()
}

fn large_commits_land_whole(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    let versions = s
        .commit(&many_partners(LARGE), Some(&remember("k", b"done", T0)))
        .unwrap();
    assert_eq!(versions, vec![1; LARGE]);
    let listed = ids(s, Kind::Partner, Some(("tag", "x")), None);
    assert_eq!(listed.len(), LARGE);
    assert_eq!(
        s.get(Kind::Partner, "p2599").unwrap().map(|r| r.data),
        Some(b"{\"n\":2599}".to_vec())
    );
    assert_eq!(s.recall("k", 0).unwrap(), Some(b"done".to_vec()));
    // Every partner counts as a reference to the region.
    let err = s
        .commit(
            &[Write::Delete {
                kind: Kind::Region,
                id: "r1".into(),
                expect: Expect::Present,
            }],
            None,
        )
        .unwrap_err();
    assert!(
        matches!(err, CommitError::Referenced { count, .. } if count == LARGE as u64),
        "{err:?}"
    );
}

fn large_commits_fail_whole(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    let mut writes = many_partners(LARGE);
    // The last write claims the first's external id: found only after every chunk before
    // it has been applied.
    if let Some(Write::Put { unique, .. }) = writes.last_mut() {
        unique[0].1 = "E0".to_owned();
    }
    let err = s
        .commit(&writes, Some(&remember("k", b"done", T0)))
        .unwrap_err();
    assert!(matches!(err, CommitError::Duplicate { .. }), "{err:?}");
    assert!(ids(s, Kind::Partner, None, None).is_empty());
    assert_eq!(s.get(Kind::Partner, "p0000").unwrap(), None);
    assert_eq!(s.recall("k", 0).unwrap(), None);
    // No reference was left counted: the region deletes.
    s.commit(
        &[Write::Delete {
            kind: Kind::Region,
            id: "r1".into(),
            expect: Expect::Present,
        }],
        None,
    )
    .unwrap();
    // And the same writes, fixed, then land: no unique value was left claimed.
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    assert_eq!(s.commit(&many_partners(LARGE), None).unwrap().len(), LARGE);
}

fn referenced_records_stay(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    s.commit(
        &[put(
            Kind::Rep,
            "p1",
            Expect::Absent,
            vec![(Kind::Region, "r1".into())],
        )],
        None,
    )
    .unwrap();
    let del = Write::Delete {
        kind: Kind::Region,
        id: "r1".into(),
        expect: Expect::Present,
    };
    assert!(matches!(
        s.commit(std::slice::from_ref(&del), None),
        Err(CommitError::Referenced { count: 1, .. })
    ));
    s.commit(
        &[Write::Delete {
            kind: Kind::Rep,
            id: "p1".into(),
            expect: Expect::Present,
        }],
        None,
    )
    .unwrap();
    s.commit(&[del], None).unwrap();
    assert_eq!(s.get(Kind::Region, "r1").unwrap(), None);
}

fn failed_commit_writes_nothing(s: &dyn Storage) {
    let err = s
        .commit(
            &[
                put(Kind::Region, "r1", Expect::Absent, vec![]),
                put(
                    Kind::Rep,
                    "p1",
                    Expect::Absent,
                    vec![(Kind::Region, "nope".into())],
                ),
            ],
            Some(&remember("k", b"r", T0)),
        )
        .unwrap_err();
    assert!(matches!(err, CommitError::MissingReference { .. }));
    assert_eq!(s.get(Kind::Region, "r1").unwrap(), None);
    assert!(ids(s, Kind::Region, Some(("tag", "x")), None).is_empty());
    assert_eq!(s.recall("k", 0).unwrap(), None);
}

fn index_entries_follow_updates(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    let moved = Write::Put {
        kind: Kind::Region,
        id: "r1".into(),
        expect: Expect::Version(1),
        data: b"{}".to_vec(),
        indexes: vec![("tag".into(), "y".into())],
        unique: vec![],
        refs: vec![],
    };
    assert_eq!(s.commit(&[moved], None).unwrap(), vec![2]);
    assert!(ids(s, Kind::Region, Some(("tag", "x")), None).is_empty());
    assert_eq!(ids(s, Kind::Region, Some(("tag", "y")), None), ["r1"]);
}

fn versions_guard_updates(s: &dyn Storage) {
    assert_eq!(
        s.commit(&[put(Kind::Goal, "g", Expect::Absent, vec![])], None)
            .unwrap(),
        vec![1]
    );
    assert!(matches!(
        s.commit(&[put(Kind::Goal, "g", Expect::Absent, vec![])], None),
        Err(CommitError::AlreadyExists { .. })
    ));
    assert_eq!(
        s.commit(&[put(Kind::Goal, "g", Expect::Version(1), vec![])], None)
            .unwrap(),
        vec![2]
    );
    assert!(matches!(
        s.commit(&[put(Kind::Goal, "g", Expect::Version(1), vec![])], None),
        Err(CommitError::Stale {
            expected: 1,
            current: 2,
            ..
        })
    ));
    assert!(matches!(
        s.commit(&[put(Kind::Goal, "nope", Expect::Present, vec![])], None),
        Err(CommitError::NotFound { .. })
    ));
}

fn unique_values_are_unique(s: &dyn Storage) {
    let sales = |id: &str| Write::Put {
        kind: Kind::Sales,
        id: id.into(),
        expect: Expect::Absent,
        data: b"{}".to_vec(),
        indexes: vec![],
        unique: vec![("partner_month".into(), "p/2026-11".into())],
        refs: vec![],
    };
    s.commit(&[sales("a")], None).unwrap();
    assert!(matches!(
        s.commit(&[sales("b")], None),
        Err(CommitError::Duplicate { .. })
    ));
    s.commit(
        &[Write::Delete {
            kind: Kind::Sales,
            id: "a".into(),
            expect: Expect::Present,
        }],
        None,
    )
    .unwrap();
    s.commit(&[sales("b")], None).unwrap();
}

fn idempotency_keys_are_used_once(s: &dyn Storage) {
    let remember = remember("k", b"first", T0);
    s.commit(
        &[put(Kind::Region, "r1", Expect::Absent, vec![])],
        Some(&remember),
    )
    .unwrap();
    let again = s.commit(
        &[put(Kind::Region, "r2", Expect::Absent, vec![])],
        Some(&remember),
    );
    assert!(matches!(again, Err(CommitError::Replayed(r)) if r == b"first"));
    assert_eq!(s.get(Kind::Region, "r2").unwrap(), None);
    assert_eq!(s.recall("k", T0 - DAY).unwrap(), Some(b"first".to_vec()));
}

/// Responses are JSON (a backup, which counts them here, holds them as JSON).
fn idempotency_keys_expire(s: &dyn Storage) {
    let region = |id: &str| put(Kind::Region, id, Expect::Absent, vec![]);
    s.commit(&[region("r1")], Some(&remember("k", br#""first""#, T0)))
        .unwrap();
    // Within the window (a day): replayed, and the second write is not made.
    let within = s.commit(
        &[region("r2")],
        Some(&remember("k", br#""second""#, T0 + 23 * HOUR)),
    );
    assert!(matches!(within, Err(CommitError::Replayed(r)) if r == br#""first""#));
    assert_eq!(s.get(Kind::Region, "r2").unwrap(), None);
    assert_eq!(s.recall("k", T0).unwrap(), Some(br#""first""#.to_vec()));
    // Past it: recall finds nothing, and a commit under the key is a new one...
    assert_eq!(s.recall("k", T0 + 1).unwrap(), None);
    let after = T0 + DAY + HOUR;
    // ... but only as a whole: a refused commit leaves the expired response in place.
    let refused = s.commit(
        &[put(
            Kind::Rep,
            "p",
            Expect::Absent,
            vec![(Kind::Region, "nope".into())],
        )],
        Some(&remember("k", br#""refused""#, after)),
    );
    assert!(matches!(refused, Err(CommitError::MissingReference { .. })));
    assert_eq!(s.recall("k", 0).unwrap(), Some(br#""first""#.to_vec()));
    s.commit(&[region("r3")], Some(&remember("k", br#""third""#, after)))
        .unwrap();
    assert!(s.get(Kind::Region, "r3").unwrap().is_some());
    assert_eq!(
        s.recall("k", after - DAY).unwrap(),
        Some(br#""third""#.to_vec())
    );

    // The sweep deletes what is older than its cutoff, oldest first, `limit` at a time.
    for (i, at) in [T0, T0 + HOUR, T0 + 2 * HOUR].into_iter().enumerate() {
        s.commit(&[], Some(&remember(&format!("old{i}"), br#""old""#, at)))
            .unwrap();
    }
    assert_eq!(remembered(s), 4);
    // "k" was remembered at T0 too, then replaced at `after`: its old time is gone.
    assert_eq!(s.forget_before(T0 + 2 * HOUR, 1).unwrap(), 1);
    assert_eq!(s.recall("old0", 0).unwrap(), None);
    assert_eq!(s.recall("old1", 0).unwrap(), Some(br#""old""#.to_vec()));
    assert_eq!(s.forget_before(T0 + 2 * HOUR, 1000).unwrap(), 1);
    assert_eq!(remembered(s), 2);
    assert_eq!(s.recall("old2", 0).unwrap(), Some(br#""old""#.to_vec()));
    assert_eq!(s.forget_before(after, 1000).unwrap(), 1);
    assert_eq!(s.recall("k", 0).unwrap(), Some(br#""third""#.to_vec()));
    assert_eq!(s.forget_before(after + 1, 1000).unwrap(), 1);
    assert_eq!(remembered(s), 0);
    assert_eq!(s.forget_before(after + DAY, 1000).unwrap(), 0);
    // The records written under the keys stay.
    for id in ["r1", "r3"] {
        assert!(s.get(Kind::Region, id).unwrap().is_some(), "{id}");
    }
}

fn scans_follow_the_cursor(s: &dyn Storage) {
    for id in ["c", "a", "b", "d"] {
        s.commit(&[put(Kind::Partner, id, Expect::Absent, vec![])], None)
            .unwrap();
    }
    s.commit(&[put(Kind::Rep, "other", Expect::Absent, vec![])], None)
        .unwrap();
    assert_eq!(ids(s, Kind::Partner, None, None), ["a", "b", "c", "d"]);
    assert_eq!(ids(s, Kind::Partner, None, Some("b")), ["c", "d"]);
    assert_eq!(
        ids(s, Kind::Partner, Some(("tag", "x")), Some("a")),
        ["b", "c", "d"]
    );
}

fn large_commits_check_each_write(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    // A reference to a record a later write of the commit creates is missing, as in a
    // commit of one write at a time; one to an earlier write's record is found.
    let mut writes = many_partners(LARGE);
    if let Some(Write::Put { refs, .. }) = writes.get_mut(2_000) {
        refs.push((Kind::Partner, "p1999".into()));
    }
    if let Some(Write::Put { refs, .. }) = writes.get_mut(2_001) {
        refs.push((Kind::Partner, "p2100".into()));
    }
    let err = s.commit(&writes, None).unwrap_err();
    assert!(
        matches!(&err, CommitError::MissingReference { id, .. } if id == "p2100"),
        "{err:?}"
    );
    assert!(ids(s, Kind::Partner, None, None).is_empty());

    // An id already stored is refused, and nothing of the rest is written.
    s.commit(&many_partners(LARGE)[5..6], None).unwrap();
    let err = s.commit(&many_partners(LARGE), None).unwrap_err();
    assert!(
        matches!(&err, CommitError::AlreadyExists { id, .. } if id == "p0005"),
        "{err:?}"
    );
    assert_eq!(ids(s, Kind::Partner, None, None), ["p0005"]);
}
