//! Memory stays flat in replications (issue 17): `chanlab compare` keeps streaming
//! summaries, not one record per replication, so 10,000 replications peak within 20% of
//! the memory 100 do.
//!
//! The peak is the child's own: `getrusage(RUSAGE_CHILDREN)` after the child is reaped
//! gives the largest `ru_maxrss` of the waited-for children, as the kernel counted it, with
//! no sampling to race the child's exit (polling `/proc/<pid>/status` VmHWM can miss the
//! last growth and reads nothing once the child is a zombie) and no outside tool
//! (`/usr/bin/time` is not on every machine). `std` has no safe `getrusage` and the
//! workspace forbids `unsafe`, hence `nix` (already in Cargo.lock, through `zip`). This
//! file is its own test binary with one test, so no other child of this process counts.

use std::process::{Command, Stdio};

use nix::sys::resource::{UsageWho, getrusage};

/// A small channel (12 partner slots, 2 seats, 12 months, 2 specs), so 10,000 replications
/// take about a second of CPU even in a test build (the engine is built at opt-level 3
/// there) while exercising every summary a bundled scenario does (two specs: the
/// comparison's paired differences too). Measured with the release binary under
/// `/usr/bin/time`: 10.1 MB at 100 replications, 11.0 MB at 10,000.
const SCENARIO: &str = r#"
name = "Memory probe"
start = "2027-01"
horizon_months = 12
replications = 100
seed = 17
currency = "EUR"
baseline = "Flat growth"

[[channel.regions]]
name = "Only"
reps = 2
partners = { A = 1, B = 3, C = 6 }
prospects = 2

[[specs]]
bundled = "flat-growth"

[[specs]]
bundled = "stretch"
"#;

/// Peak resident memory over all reaped children so far, in KiB (Linux reports
/// `ru_maxrss` in kilobytes).
fn children_peak_kib() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage(RUSAGE_CHILDREN)")
        .max_rss()
}

/// Runs `chanlab compare` on the probe scenario with `replications`, waits for it, and
/// returns the children's peak so far with what it printed.
fn compare(scenario: &std::path::Path, replications: u32) -> (i64, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .arg("compare")
        .arg(scenario)
        .args(["--replications", &replications.to_string()])
        // Fixed threads: each worker keeps its own summaries, so the thread count (not the
        // replications) would otherwise set part of the peak on a machine with more cores.
        .args(["--threads", "2", "--quiet", "--format", "json"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the chanlab binary runs");
    assert!(output.status.success(), "chanlab compare failed");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (children_peak_kib(), stdout)
}

#[test]
fn peak_memory_of_ten_thousand_replications_is_within_a_fifth_of_a_hundred() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = dir.path().join("probe.toml");
    std::fs::write(&scenario, SCENARIO).expect("write the scenario");

    // The small run first: RUSAGE_CHILDREN keeps the largest child so far, so after the
    // second run it reads max(small, large) ≥ the large run's own peak, and the ratio
    // below can only overstate the growth, never hide it.
    let (small, small_out) = compare(&scenario, 100);
    let (large, large_out) = compare(&scenario, 10_000);
    // The runs really were 100 and 10,000 replications: the JSON result lists the
    // replication ranges it holds (`[[0, n]]` for a whole run).
    for (out, n) in [(&small_out, 100), (&large_out, 10_000)] {
        let json: serde_json::Value = serde_json::from_str(out).expect("a JSON result");
        let ranges = json["replications"].as_array().expect("replication ranges");
        let held: u64 = ranges
            .iter()
            .map(|r| r[1].as_u64().expect("end") - r[0].as_u64().expect("start"))
            .sum();
        assert_eq!(held, n, "replications in the result: {ranges:?}");
    }
    assert!(small > 0, "a peak was recorded: {small} KiB");
    let ratio = large as f64 / small as f64;
    assert!(
        ratio <= 1.2,
        "peak memory grew {ratio:.3}× from 100 to 10,000 replications ({small} KiB → {large} KiB)"
    );
}
