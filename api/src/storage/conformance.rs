//! What every [`Storage`] backend must do, as functions over `&dyn Storage`: a new backend
//! runs [`CASES`] in its tests, as the sled backend does.

use super::{CommitError, Expect, Kind, Remember, Storage, Write};

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
];

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
            Some(&Remember {
                key: "k".into(),
                response: b"r".to_vec(),
            }),
        )
        .unwrap_err();
    assert!(matches!(err, CommitError::MissingReference { .. }));
    assert_eq!(s.get(Kind::Region, "r1").unwrap(), None);
    assert!(ids(s, Kind::Region, Some(("tag", "x")), None).is_empty());
    assert_eq!(s.recall("k").unwrap(), None);
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
    let remember = Remember {
        key: "k".into(),
        response: b"first".to_vec(),
    };
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
    assert_eq!(s.recall("k").unwrap(), Some(b"first".to_vec()));
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
