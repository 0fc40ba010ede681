//! The run queue in PostgreSQL: entries follow the records' commits (trigger), claims are
//! exclusive under concurrency (`SKIP LOCKED`), cancellation, progress and the jobs of a
//! dead instance. Each test runs in a scratch schema, like the backend's other tests.

use std::collections::BTreeSet;
use std::sync::Arc;

use uuid::Uuid;

use super::scratch::Scratch;
use super::*;
use crate::storage::Expect;
use crate::storage::queue::{Cancel, Job, RunQueue};

fn fresh() -> (Scratch, PostgresStorage) {
    let scratch = Scratch::create().unwrap_or_else(|e| panic!("{e}"));
    let s = PostgresStorage::connect(scratch.url(), 8).expect("connect to the scratch schema");
    (scratch, s)
}

/// A job record of `kind` in `status`, as the API stores it (only `status` matters here).
fn job_record(kind: Kind, id: &str, expect: Expect, status: &str) -> Write {
    Write::Put {
        kind,
        id: id.to_owned(),
        expect,
        data: format!(r#"{{"status":"{status}"}}"#).into_bytes(),
        indexes: vec![],
        unique: vec![],
        refs: vec![],
    }
}

/// A run accepted on a shared store: its record and its input, in one commit.
fn accept_run(s: &PostgresStorage, id: &str) {
    s.commit(
        &[
            job_record(Kind::Run, id, Expect::Absent, "queued"),
            job_record(Kind::RunInput, id, Expect::Absent, "input"),
        ],
        None,
    )
    .unwrap();
}

fn run(id: &str) -> Job {
    Job {
        kind: Kind::Run,
        id: id.to_owned(),
    }
}

#[test]
fn a_job_enters_the_queue_with_its_commit_and_leaves_with_its_final_status() {
    let (_scratch, s) = fresh();
    accept_run(&s, "r1");
    // A backtest is queued by its own record; one stored already done is not.
    s.commit(
        &[job_record(Kind::Backtest, "b1", Expect::Absent, "queued")],
        None,
    )
    .unwrap();
    s.commit(
        &[job_record(Kind::Backtest, "b2", Expect::Absent, "done")],
        None,
    )
    .unwrap();
    assert_eq!(s.active().unwrap(), 2);
    let waiting = s.entry(&run("r1")).unwrap().expect("queued");
    assert_eq!(
        (waiting.owner, waiting.done, waiting.cancel),
        (None, 0, false)
    );

    // Running keeps it; any status past running takes it out.
    s.commit(
        &[job_record(Kind::Run, "r1", Expect::Present, "running")],
        None,
    )
    .unwrap();
    assert!(s.entry(&run("r1")).unwrap().is_some());
    s.commit(
        &[job_record(Kind::Run, "r1", Expect::Present, "done")],
        None,
    )
    .unwrap();
    assert_eq!(s.entry(&run("r1")).unwrap(), None);
    // Deleting a job's record takes it out too.
    s.commit(
        &[Write::Delete {
            kind: Kind::Backtest,
            id: "b1".to_owned(),
            expect: Expect::Present,
        }],
        None,
    )
    .unwrap();
    assert_eq!(s.active().unwrap(), 0);
}

#[test]
fn concurrent_claimers_on_separate_pools_take_every_job_exactly_once() {
    let (scratch, s) = fresh();
    let ids: Vec<String> = (0..60).map(|i| format!("r{i:02}")).collect();
    for id in &ids {
        accept_run(&s, id);
    }
    // Every claimer connected before any claims, and each holds a claim a moment (as a
    // job's start would), so they run into each other.
    let start = Arc::new(std::sync::Barrier::new(4));
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let pool = Arc::new(PostgresStorage::connect(scratch.url(), 2).unwrap());
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let me = Uuid::now_v7();
                pool.heartbeat(me).unwrap();
                start.wait();
                let mut taken = Vec::new();
                while let Some(job) = pool.claim(me).unwrap() {
                    taken.push(job.id);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                taken
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut busy = 0;
    for c in claimers {
        let taken = c.join().unwrap();
        busy += usize::from(!taken.is_empty());
        all.extend(taken);
    }
    let distinct: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(
        all.len(),
        ids.len(),
        "a job was claimed twice or not at all"
    );
    assert_eq!(distinct, ids.into_iter().collect::<BTreeSet<_>>());
    assert!(
        busy >= 2,
        "the claimers did not overlap: {busy} claimed anything"
    );
}

#[test]
fn claims_go_oldest_first() {
    let (_scratch, s) = fresh();
    for id in ["b", "a", "c"] {
        accept_run(&s, id);
    }
    let me = Uuid::now_v7();
    let order: Vec<String> = std::iter::from_fn(|| s.claim(me).unwrap().map(|j| j.id)).collect();
    assert_eq!(order, ["b", "a", "c"]);
}

#[test]
fn cancelling_claims_a_waiting_job_asks_a_running_one_and_finds_an_ended_one_gone() {
    let (_scratch, s) = fresh();
    let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
    accept_run(&s, "waiting");
    accept_run(&s, "running");
    s.heartbeat(a).unwrap();
    assert_eq!(s.claim(a).unwrap(), Some(run("waiting")));
    // "waiting" is a's now; "running" still waits. Cancel it from b: b gets it.
    assert_eq!(
        s.cancel(b, &run("running")).unwrap(),
        Cancel::ClaimedWaiting
    );
    assert_eq!(
        s.claim(a).unwrap(),
        None,
        "a cancelled job is not claimed again"
    );
    // a's job, cancelled from b, is asked to stop; a learns it at its next report, which
    // also stores its progress.
    assert_eq!(s.cancel(b, &run("waiting")).unwrap(), Cancel::Asked);
    let report = s.report(a, &[(run("waiting"), 7)]).unwrap();
    assert_eq!(report.cancel, vec![run("waiting")]);
    assert!(report.strays.is_empty());
    let seen = s.entry(&run("waiting")).unwrap().unwrap();
    assert_eq!(
        (seen.owner, seen.done, seen.owner_alive),
        (Some(a), 7, true)
    );
    // Progress never goes back.
    s.report(a, &[(run("waiting"), 3)]).unwrap();
    assert_eq!(s.entry(&run("waiting")).unwrap().unwrap().done, 7);
    s.commit(
        &[job_record(
            Kind::Run,
            "waiting",
            Expect::Present,
            "cancelled",
        )],
        None,
    )
    .unwrap();
    assert_eq!(s.cancel(b, &run("waiting")).unwrap(), Cancel::Gone);
}

#[test]
fn the_jobs_of_a_silent_instance_are_taken_once_and_a_job_not_reported_is_a_stray() {
    let (_scratch, s) = fresh();
    let (dead, alive) = (Uuid::now_v7(), Uuid::now_v7());
    accept_run(&s, "r1");
    accept_run(&s, "r2");
    s.heartbeat(dead).unwrap();
    s.heartbeat(alive).unwrap();
    assert_eq!(s.claim(dead).unwrap(), Some(run("r1")));
    assert_eq!(s.claim(alive).unwrap(), Some(run("r2")));
    assert_eq!(s.live_instances().unwrap(), 2);
    // Nobody's jobs are orphans while everyone answers.
    assert!(s.take_orphans(alive).unwrap().is_empty());

    s.with_client(move |client| async move {
        client
            .execute(
                "UPDATE instances SET seen_at = now() - interval '1 minute' WHERE id = $1",
                &[&dead],
            )
            .await
            .map_err(db)
    })
    .unwrap();
    assert_eq!(s.live_instances().unwrap(), 1);
    let seen = s.entry(&run("r1")).unwrap().unwrap();
    assert!(!seen.owner_alive);
    assert_eq!(s.take_orphans(alive).unwrap(), vec![run("r1")]);
    assert!(s.take_orphans(alive).unwrap().is_empty(), "taken twice");
    // `alive` now owns r1 but does not run it: its report says so.
    let report = s.report(alive, &[(run("r2"), 1)]).unwrap();
    assert_eq!(report.strays, vec![run("r1")]);
    assert!(report.cancel.is_empty());
}

#[test]
fn a_restored_backup_queues_none_of_its_jobs() {
    let (_a, s) = fresh();
    accept_run(&s, "r1");
    let mut backup = Vec::new();
    s.export(&mut backup).unwrap();
    let (_b, restored) = fresh();
    restored.import(&mut backup.as_slice()).unwrap();
    assert!(restored.get(Kind::RunInput, "r1").unwrap().is_some());
    assert_eq!(restored.active().unwrap(), 0);
    // New work on the restored database is queued as ever.
    accept_run(&restored, "r2");
    assert_eq!(restored.active().unwrap(), 1);
}

#[test]
fn a_named_lock_orders_read_modify_writes_from_two_pools_and_a_panic_releases_it() {
    let (scratch, s) = fresh();
    s.commit(&[job_record(Kind::Goal, "n", Expect::Absent, "0")], None)
        .unwrap();
    let pools = [
        Arc::new(s.clone()),
        Arc::new(PostgresStorage::connect(scratch.url(), 4).unwrap()),
    ];
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let pool = Arc::clone(&pools[w % 2]);
            std::thread::spawn(move || {
                for _ in 0..5 {
                    pool.exclusive("counter", &mut || {
                        // Read, wait, write back one more: a lost update without the lock.
                        let raw = pool.get(Kind::Goal, "n").unwrap().unwrap();
                        let text = String::from_utf8(raw.data).unwrap();
                        let n: u64 = text
                            .trim_start_matches(r#"{"status":""#)
                            .trim_end_matches(r#""}"#)
                            .parse()
                            .unwrap();
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        let next = (n + 1).to_string();
                        pool.commit(&[job_record(Kind::Goal, "n", Expect::Present, &next)], None)
                            .unwrap();
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let raw = s.get(Kind::Goal, "n").unwrap().unwrap();
    assert_eq!(raw.data, br#"{"status":"20"}"#.to_vec());

    // A holder that panics closes its session, so the lock is free again.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.exclusive("counter", &mut || panic!("work failed"))
            .unwrap();
    }));
    assert!(panicked.is_err());
    let other = Arc::clone(&pools[1]);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        other.exclusive("counter", &mut || ()).unwrap();
        tx.send(()).unwrap();
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("the lock stayed held after a panic");
}

#[test]
fn lock_keys_are_fnv1a_of_the_name() {
    // FNV-1a 64 test vectors (Fowler, Noll, Vo): the same key in every binary.
    assert_eq!(super::locks::key("") as u64, 0xcbf2_9ce4_8422_2325);
    assert_eq!(super::locks::key("a") as u64, 0xaf63_dc4c_8601_ec8c);
}
