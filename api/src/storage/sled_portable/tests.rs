use std::io::BufReader;

use super::*;
use crate::storage::conformance::{self, put};
use crate::storage::{Expect, Kind, Storage, Write};

fn fresh() -> (tempfile::TempDir, SledStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SledStorage::open(dir.path()).unwrap();
    (dir, s)
}

/// A store with records that index, hold unique values and reference each other, one
/// updated (version 2) and one remembered response.
fn populated() -> (tempfile::TempDir, SledStorage) {
    let (dir, s) = fresh();
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    let mut named = put(
        Kind::Partner,
        "p1",
        Expect::Absent,
        vec![(Kind::Region, "r1".into())],
    );
    if let Write::Put { unique, data, .. } = &mut named {
        unique.push(("name".into(), "Acme".into()));
        *data = br#"{"name":"Acme"}"#.to_vec();
    }
    s.commit(
        &[named],
        Some(&conformance::remember(
            "token:abc",
            br#"{"status":201}"#,
            conformance::T0,
        )),
    )
    .unwrap();
    s.commit(
        &[put(
            Kind::Partner,
            "p2",
            Expect::Absent,
            vec![(Kind::Region, "r1".into())],
        )],
        None,
    )
    .unwrap();
    s.commit(&[put(Kind::Region, "r1", Expect::Version(1), vec![])], None)
        .unwrap();
    (dir, s)
}

fn backup(s: &SledStorage) -> Vec<u8> {
    let mut out = Vec::new();
    s.export(&mut out).unwrap();
    out
}

#[test]
fn a_backup_restores_to_an_equal_store_that_verifies() {
    let (_a, original) = populated();
    let file = backup(&original);
    let (_b, restored) = fresh();
    let counts = restored.import(&mut BufReader::new(&file[..])).unwrap();
    assert_eq!(
        counts,
        Counts {
            records: 3,
            remembered: 1
        }
    );
    assert_eq!(
        backup(&restored),
        file,
        "the restored store backs up to the same bytes"
    );
    let report = restored.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.counts, counts);
    // Versions, unique values and reference counts came back with the records.
    assert_eq!(
        restored.get(Kind::Region, "r1").unwrap().unwrap().version,
        2
    );
    let dup = {
        let mut w = put(Kind::Partner, "p3", Expect::Absent, vec![]);
        if let Write::Put { unique, .. } = &mut w {
            unique.push(("name".into(), "Acme".into()));
        }
        w
    };
    assert!(
        restored.commit(&[dup], None).is_err(),
        "the unique value holds"
    );
    let delete = Write::Delete {
        kind: Kind::Region,
        id: "r1".into(),
        expect: Expect::Present,
    };
    assert!(
        restored.commit(&[delete], None).is_err(),
        "r1 is still referenced"
    );
    // The response kept its time: remembered at T0, expired for a window starting after.
    assert!(
        restored
            .recall("token:abc", conformance::T0)
            .unwrap()
            .is_some()
    );
    assert!(
        restored
            .recall("token:abc", conformance::T0 + 1)
            .unwrap()
            .is_none()
    );
}

#[test]
fn verify_finds_a_missing_index_entry_a_stray_one_and_a_wrong_count() {
    let (_d, s) = populated();
    assert!(s.verify().unwrap().problems.is_empty());
    let index = super::super::sled_backend::key(&["i", "partner", "tag", "x", "p1"]);
    s.tree().unwrap().remove(&index).unwrap();
    let stray = super::super::sled_backend::key(&["i", "partner", "tag", "x", "ghost"]);
    s.tree().unwrap().insert(&stray, &[]).unwrap();
    s.tree()
        .unwrap()
        .insert(count_key("region", "r1"), &5u64.to_be_bytes())
        .unwrap();
    let problems = s.verify().unwrap().problems;
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("missing index entry partner / tag / x / p1"))
    );
    assert!(problems.iter().any(|p| p.starts_with("stray index entry")));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("wrong reference count of region r1"))
    );
}

#[test]
fn a_truncated_or_foreign_backup_is_refused_and_restores_nothing() {
    let (_a, original) = populated();
    let file = backup(&original);
    let text = String::from_utf8(file).unwrap();
    let without_end: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    let (_b, target) = fresh();
    let err = target
        .import(&mut BufReader::new(without_end.as_bytes()))
        .unwrap_err();
    assert!(err.contains("truncated"), "{err}");
    assert!(
        target.tree().unwrap().iter().next().is_none(),
        "nothing was restored"
    );
    let err = target
        .import(&mut BufReader::new(&b"{\"hello\": 1}\n"[..]))
        .unwrap_err();
    assert!(err.starts_with("line 1:"), "{err}");
    // Into a store that holds records: refused.
    let err = original
        .import(&mut BufReader::new(text.as_bytes()))
        .unwrap_err();
    assert!(err.contains("empty"), "{err}");
}
