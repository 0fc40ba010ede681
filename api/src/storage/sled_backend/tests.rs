use super::recovery::{is_quiet, quiet_unwind};
use super::*;
use crate::storage::conformance;

fn fresh() -> (tempfile::TempDir, SledStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SledStorage::open(dir.path()).unwrap();
    (dir, s)
}

#[test]
fn a_flush_syncs_the_blob_sled_writes_for_a_large_value_and_its_directory() {
    // sled writes a large value to a file of its own under blobs/ and never syncs it;
    // the flush must find it. A run's result is such a value.
    let (dir, s) = fresh();
    let mut big = conformance::put(Kind::Run, "big", Expect::Absent, vec![]);
    if let Write::Put { data, .. } = &mut big {
        *data = format!("{{\"x\":\"{}\"}}", "y".repeat(4 << 20)).into_bytes();
    }
    s.commit(&[big], None).unwrap();
    s.flush().unwrap();
    let on_disk = listing(&dir.path().join("blobs")).unwrap();
    assert!(!on_disk.is_empty(), "sled wrote no blob for a 4 MiB value");
    let synced = s.durable.lock().unwrap().blobs.clone();
    assert_eq!(synced, on_disk, "every blob on disk has been fsynced");
}

#[test]
fn sled_passes_the_storage_conformance_suite() {
    for (name, case) in conformance::CASES {
        let (_dir, s) = fresh();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&s)));
        assert!(outcome.is_ok(), "sled fails the conformance case: {name}");
    }
}

#[test]
fn a_damaged_record_is_refused_at_open_naming_the_file_and_the_problem() {
    let (dir, s) = fresh();
    s.commit(
        &[conformance::put(Kind::Region, "a", Expect::Absent, vec![])],
        None,
    )
    .unwrap();
    s.tree()
        .unwrap()
        .insert(
            record_key(Kind::Region.name(), "b"),
            b"not a record".as_slice(),
        )
        .unwrap();
    s.flush().unwrap();
    drop(s);
    // sled's flusher may hold the lock a moment after the last handle is dropped.
    let err = (0..100)
        .find_map(|_| match SledStorage::open_checked(dir.path()) {
            Ok(_) => panic!("a damaged record was accepted"),
            Err(e) if e.message.contains("lock") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            }
            Err(e) => Some(e),
        })
        .expect("sled lets go of the database");
    assert_eq!(err.fault, Fault::Corrupt);
    let db = dir.path().join("db").display().to_string();
    assert!(
        err.message.contains(&db) && err.message.contains("1 problem(s)"),
        "{}",
        err.message
    );
}

#[test]
fn a_panic_is_caught_as_its_message() {
    assert_eq!(quiet_unwind(|| 7), Ok(7));
    let caught = quiet_unwind(|| -> u8 { panic!("torn segment {}", 3) });
    assert_eq!(caught, Err("torn segment 3".to_owned()));
    assert!(!is_quiet(), "quiet only inside the call");
}

#[test]
fn only_the_calling_thread_is_quiet_while_a_panic_is_caught() {
    let (inside, wait) = std::sync::mpsc::channel();
    let (release, go) = std::sync::mpsc::channel::<()>();
    let caller = std::thread::spawn(move || {
        quiet_unwind(|| {
            inside.send(is_quiet()).unwrap();
            go.recv().unwrap();
        })
    });
    assert!(wait.recv().unwrap(), "the caller is quiet inside");
    // Another thread meanwhile still has its panics reported.
    assert!(!is_quiet());
    assert!(!std::thread::spawn(is_quiet).join().unwrap());
    release.send(()).unwrap();
    assert_eq!(caller.join().unwrap(), Ok(()));
}

#[test]
fn records_survive_reopening_after_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SledStorage::open(dir.path()).unwrap();
        s.commit(
            &[conformance::put(Kind::Region, "r1", Expect::Absent, vec![])],
            None,
        )
        .unwrap();
        s.flush().unwrap();
    }
    // sled's background flusher holds the database a moment after the last handle is
    // dropped, so an immediate reopen in the same process can find it locked.
    let s = (0..100)
        .find_map(|_| {
            SledStorage::open(dir.path()).ok().or_else(|| {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            })
        })
        .expect("the database reopens once sled lets go of it");
    assert_eq!(
        s.get(Kind::Region, "r1").unwrap().map(|r| r.version),
        Some(1)
    );
}

#[test]
fn a_response_remembered_before_keys_had_a_time_is_stamped_at_open_and_then_expires() {
    // A store written by an older chanlab holds the bare response under `k\0key`.
    let dir = tempfile::tempdir().unwrap();
    let s = SledStorage::open(dir.path()).unwrap();
    s.tree()
        .unwrap()
        .insert(key(&["k", "legacy"]), br#"{"status":201}"#.as_slice())
        .unwrap();
    s.flush().unwrap();
    drop(s);
    let before_open = chrono::Utc::now().timestamp_millis();
    let s = (0..100)
        .find_map(|_| match SledStorage::open(dir.path()) {
            Ok(s) => Some(s),
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            }
        })
        .expect("the store reopens");
    // Stamped with the time of the open: still replayed within a window from then...
    assert_eq!(
        s.recall("legacy", before_open).unwrap().as_deref(),
        Some(br#"{"status":201}"#.as_slice())
    );
    // ... and found by the sweep once that window has passed.
    assert_eq!(s.forget_before(before_open, 10).unwrap(), 0);
    let later = chrono::Utc::now().timestamp_millis() + 1;
    assert_eq!(s.forget_before(later, 10).unwrap(), 1);
    assert_eq!(s.recall("legacy", 0).unwrap(), None);
}
