//! The PostgreSQL backend against the conformance suite, concurrent writers through two
//! pools (as two server processes would be), and the portable format both ways. Each test
//! runs in a scratch schema of the database `CHANLAB_TEST_DATABASE_URL` names, and fails
//! (saying how to start one) when there is none.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::scratch::Scratch;
use super::*;
use crate::storage::conformance::{self, put};
use crate::storage::{Expect, SledStorage};

fn fresh() -> (Scratch, PostgresStorage) {
    let scratch = Scratch::create().unwrap_or_else(|e| panic!("{e}"));
    let s = PostgresStorage::connect(scratch.url(), 8).expect("connect to the scratch schema");
    (scratch, s)
}

#[test]
fn postgres_passes_the_storage_conformance_suite() {
    for (name, case) in conformance::CASES {
        let (_scratch, s) = fresh();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&s)));
        assert!(
            outcome.is_ok(),
            "PostgreSQL fails the conformance case: {name}"
        );
    }
}

#[test]
fn migrations_apply_once_and_a_second_connect_finds_them() {
    let (scratch, s) = fresh();
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    let again = PostgresStorage::connect(scratch.url(), 2).expect("reconnect");
    assert_eq!(
        again.get(Kind::Region, "r1").unwrap().map(|r| r.version),
        Some(1)
    );
    let versions = again
        .with_client(|client| async move {
            let rows = client
                .query("SELECT version FROM chanlab_migrations", &[])
                .await
                .map_err(db)?;
            Ok(rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>())
        })
        .unwrap();
    let known: Vec<i32> = migrations::MIGRATIONS.iter().map(|m| m.0).collect();
    assert_eq!(versions, known);
}

#[test]
fn an_unreachable_server_is_an_io_fault() {
    // Port 1 on loopback: nothing listens, the connection is refused.
    let e = PostgresStorage::connect("postgres://chanlab:x@127.0.0.1:1/none", 1).unwrap_err();
    assert_eq!(e.fault, Fault::Io, "{}", e.message);
    assert!(
        !e.message.contains("chanlab:x"),
        "the password leaks: {}",
        e.message
    );
}

#[test]
fn scans_page_past_the_first_page_in_id_order() {
    let (_scratch, s) = fresh();
    let ids: Vec<String> = (0..300).map(|i| format!("p{i:04}")).collect();
    for chunk in ids.chunks(50) {
        let writes: Vec<Write> = chunk
            .iter()
            .map(|id| put(Kind::Partner, id, Expect::Absent, vec![]))
            .collect();
        s.commit(&writes, None).unwrap();
    }
    for filter in [None, Some(("tag", "x"))] {
        let mut seen = Vec::new();
        s.scan(Kind::Partner, filter, Some("p0009"), &mut |r| {
            seen.push(r.id);
            true
        })
        .unwrap();
        assert_eq!(seen, ids[10..], "filter {filter:?}");
    }
}

/// Two backends on one schema: what two `chanlab serve` processes are.
fn two(s: &PostgresStorage, scratch: &Scratch) -> [Arc<PostgresStorage>; 2] {
    [
        Arc::new(s.clone()),
        Arc::new(PostgresStorage::connect(scratch.url(), 8).unwrap()),
    ]
}

#[test]
fn read_modify_writes_from_two_pools_lose_no_update() {
    let (scratch, s) = fresh();
    s.commit(&[put(Kind::Goal, "g", Expect::Absent, vec![])], None)
        .unwrap();
    let backends = two(&s, &scratch);
    let stale = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let b = backends[t % 2].clone();
            let stale = &stale;
            scope.spawn(move || {
                for _ in 0..10 {
                    loop {
                        let v = b.get(Kind::Goal, "g").unwrap().unwrap().version;
                        match b.commit(&[put(Kind::Goal, "g", Expect::Version(v), vec![])], None) {
                            Ok(_) => break,
                            Err(CommitError::Stale { .. }) => {
                                stale.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    // One create and 80 accepted updates, whatever the interleaving.
    assert_eq!(s.get(Kind::Goal, "g").unwrap().unwrap().version, 81);
}

#[test]
fn concurrent_claims_of_a_key_a_value_and_a_deleted_reference_agree() {
    let (scratch, s) = fresh();
    s.commit(&[put(Kind::Region, "r", Expect::Absent, vec![])], None)
        .unwrap();
    let backends = two(&s, &scratch);
    let (won_key, won_value, reps, deleted) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    std::thread::scope(|scope| {
        for t in 0..16usize {
            let b = backends[t % 2].clone();
            let (won_key, won_value, reps, deleted) = (&won_key, &won_value, &reps, &deleted);
            scope.spawn(move || {
                // One idempotency key from every thread: one commit, the rest replay it.
                let remember =
                    conformance::remember("k", format!("\"{t}\"").as_bytes(), conformance::T0);
                match b.commit(
                    &[put(
                        Kind::Activity,
                        &format!("a{t}"),
                        Expect::Absent,
                        vec![],
                    )],
                    Some(&remember),
                ) {
                    Ok(_) => drop(won_key.fetch_add(1, Ordering::SeqCst)),
                    Err(CommitError::Replayed(_)) => {}
                    Err(e) => panic!("{e}"),
                }
                // One unique value claimed by every thread under its own id.
                let sales = Write::Put {
                    kind: Kind::Sales,
                    id: format!("s{t}"),
                    expect: Expect::Absent,
                    data: b"{}".to_vec(),
                    indexes: vec![],
                    unique: vec![("partner_month".into(), "p/2027-01".into())],
                    refs: vec![],
                };
                match b.commit(&[sales], None) {
                    Ok(_) => drop(won_value.fetch_add(1, Ordering::SeqCst)),
                    Err(CommitError::Duplicate { .. }) => {}
                    Err(e) => panic!("{e}"),
                }
                // Reps naming the region, while one thread tries to delete it.
                if t == 7 {
                    let del = Write::Delete {
                        kind: Kind::Region,
                        id: "r".into(),
                        expect: Expect::Present,
                    };
                    match b.commit(&[del], None) {
                        Ok(_) => drop(deleted.fetch_add(1, Ordering::SeqCst)),
                        Err(CommitError::Referenced { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                } else {
                    let rep = put(
                        Kind::Rep,
                        &format!("p{t}"),
                        Expect::Absent,
                        vec![(Kind::Region, "r".into())],
                    );
                    match b.commit(&[rep], None) {
                        Ok(_) => drop(reps.fetch_add(1, Ordering::SeqCst)),
                        Err(CommitError::MissingReference { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            });
        }
    });
    assert_eq!(won_key.load(Ordering::SeqCst), 1);
    assert_eq!(won_value.load(Ordering::SeqCst), 1);
    let mut activities = 0;
    s.scan(Kind::Activity, None, None, &mut |_| {
        activities += 1;
        true
    })
    .unwrap();
    assert_eq!(activities, 1, "only the key's winner wrote");
    let mut stored_reps = 0;
    s.scan(Kind::Rep, None, None, &mut |_| {
        stored_reps += 1;
        true
    })
    .unwrap();
    assert_eq!(stored_reps, reps.load(Ordering::SeqCst));
    let region = s.get(Kind::Region, "r").unwrap();
    if deleted.load(Ordering::SeqCst) == 1 {
        assert!(region.is_none());
        // Every rep was created before the delete was tried: none, since it succeeded.
        assert_eq!(stored_reps, 0, "a rep names a deleted region");
    } else {
        assert!(region.is_some());
        assert!(
            stored_reps > 0,
            "the delete was refused for a reference that exists"
        );
    }
    let report = s.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn sample(s: &dyn Storage) {
    s.commit(&[put(Kind::Region, "r1", Expect::Absent, vec![])], None)
        .unwrap();
    s.commit(&[put(Kind::Region, "r1", Expect::Version(1), vec![])], None)
        .unwrap();
    s.commit(
        &[
            put(
                Kind::Rep,
                "p1",
                Expect::Absent,
                vec![(Kind::Region, "r1".into())],
            ),
            Write::Put {
                kind: Kind::Sales,
                id: "s1".into(),
                expect: Expect::Absent,
                data: br#"{"b":1,"a":[2,3]}"#.to_vec(),
                indexes: vec![("partner".into(), "x".into())],
                unique: vec![("partner_month".into(), "x/2027-01".into())],
                refs: vec![(Kind::Region, "r1".into()), (Kind::Rep, "p1".into())],
            },
        ],
        Some(&conformance::remember(
            "admin:k1",
            br#"{"status":201}"#,
            conformance::T0,
        )),
    )
    .unwrap();
}

#[test]
fn a_backup_moves_from_sled_to_postgres_and_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStorage::open(dir.path()).unwrap();
    sample(&sled);
    let mut from_sled = Vec::new();
    sled.export(&mut from_sled).unwrap();

    let (_scratch, pg) = fresh();
    let counts = pg.import(&mut from_sled.as_slice()).unwrap();
    assert_eq!((counts.records, counts.remembered), (3, 1));
    assert_eq!(pg.get(Kind::Region, "r1").unwrap().unwrap().version, 2);
    assert!(matches!(
        pg.commit(
            &[Write::Delete {
                kind: Kind::Rep,
                id: "p1".into(),
                expect: Expect::Present
            }],
            None
        ),
        Err(CommitError::Referenced { count: 1, .. })
    ));
    let report = pg.verify().unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let mut from_pg = Vec::new();
    pg.export(&mut from_pg).unwrap();
    assert_eq!(
        String::from_utf8(from_pg.clone()).unwrap(),
        String::from_utf8(from_sled).unwrap()
    );

    let back = tempfile::tempdir().unwrap();
    let sled2 = SledStorage::open(back.path()).unwrap();
    sled2.import(&mut from_pg.as_slice()).unwrap();
    let mut again = Vec::new();
    sled2.export(&mut again).unwrap();
    assert_eq!(again, from_pg);
    assert!(sled2.verify().unwrap().problems.is_empty());
}

#[test]
fn a_restore_is_refused_into_records_and_a_truncated_one_leaves_nothing() {
    let (_scratch, pg) = fresh();
    sample(&pg);
    let mut backup = Vec::new();
    pg.export(&mut backup).unwrap();
    let refused = pg.import(&mut backup.as_slice()).unwrap_err();
    assert!(refused.contains("already holds records"), "{refused}");

    let (_scratch2, empty) = fresh();
    let text = String::from_utf8(backup).unwrap();
    let cut: Vec<&str> = text.lines().take(3).collect();
    let e = empty.import(&mut cut.join("\n").as_bytes()).unwrap_err();
    assert!(e.contains("truncated"), "{e}");
    let mut n = 0;
    empty
        .scan(Kind::Region, None, None, &mut |_| {
            n += 1;
            true
        })
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn verify_reports_an_index_entry_and_a_count_that_disagree() {
    let (_scratch, pg) = fresh();
    sample(&pg);
    pg.with_client(|client| async move {
        client
            .batch_execute(
                "DELETE FROM index_entries WHERE kind = 'sales_record'; \
                 UPDATE records SET refcount = 5 WHERE kind = 'rep'",
            )
            .await
            .map_err(db)
    })
    .unwrap();
    let report = pg.verify().unwrap();
    assert_eq!(report.counts.records, 3);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("missing index entry sales_record / partner / x / s1")),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("wrong reference count of rep p1")),
        "{:?}",
        report.problems
    );
}
