//! The floor `benches/import.sh` compares a CSV import with: the same records committed
//! straight to a fresh sled store (one commit, as the import's), with no HTTP, CSV, checks
//! or audit. Prints the commit's seconds and the process's memory growth.
//!
//!   cargo bench --bench import_floor -- 100000
//!
//! The records have the shape a partners import stores (stamped JSON, the region, tier and
//! stage index entries, the reference to the region). The commit runs on a thread of its
//! own, as the import's runs on the blocking pool.

use chanlab_api::storage::{Expect, Kind, SledStorage, Storage, Write};

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn partner(i: usize, region: &str) -> Write {
    let id = uuid::Uuid::now_v7().to_string();
    let stamp = r#"{"token_id":"0190aaaa-0000-7000-8000-000000000001","label":"admin","at":"2026-12-03T00:00:00Z"}"#;
    let data = format!(
        r#"{{"id":"{id}","name":"Partner {i:07} Handels AB","kind":"reseller","tier":"B","region_id":"{region}","stage":"active","created_by":{stamp},"updated_by":{stamp}}}"#
    );
    Write::Put {
        kind: Kind::Partner,
        id,
        expect: Expect::Absent,
        data: data.into_bytes(),
        indexes: vec![
            ("region".into(), region.into()),
            ("tier".into(), "B".into()),
            ("stage".into(), "active".into()),
        ],
        unique: vec![],
        refs: vec![(Kind::Region, region.into())],
    }
}

fn main() {
    // `cargo bench` passes `--bench`; the row count is the one number given.
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStorage::open(dir.path()).expect("a fresh store");
    let region = uuid::Uuid::now_v7().to_string();
    let put_region = Write::Put {
        kind: Kind::Region,
        id: region.clone(),
        expect: Expect::Absent,
        data: b"{}".to_vec(),
        indexes: vec![],
        unique: vec![],
        refs: vec![],
    };
    store.commit(&[put_region], None).expect("the region");
    let writes: Vec<Write> = (0..rows).map(|i| partner(i, &region)).collect();
    let before = rss_kb("VmRSS:");
    let start = std::time::Instant::now();
    let s = store.clone();
    std::thread::spawn(move || {
        s.commit(&writes, None).expect("the commit");
        s.flush().expect("the flush");
    })
    .join()
    .expect("the commit thread");
    let secs = start.elapsed().as_secs_f64();
    let growth = rss_kb("VmHWM:").saturating_sub(before) / 1024;
    let line = format!(
        "storage floor: {rows} records committed in {secs:.2}s, memory growth {growth} MiB"
    );
    std::io::Write::write_all(
        &mut std::io::stdout().lock(),
        format!("{line}\n").as_bytes(),
    )
    .expect("stdout");
}
