use crate::helpers::{Scratch, chanlab};

fn small_args<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, "dual-authority", "--replications", "12", "--quiet"];
    args.extend_from_slice(extra);
    args
}

#[test]
fn compare_prints_a_table_with_every_spec_and_kpi() {
    let run = chanlab(&small_args("compare", &[]));
    assert!(run.status.success(), "{}", run.stderr);
    for text in [
        "Mandate only (baseline)",
        "Mandate + assessment",
        "Sell-through revenue",
        "Process compliance",
        "Period-end spike",
        "12 replications",
    ] {
        assert!(run.stdout.contains(text), "{text} missing:\n{}", run.stdout);
    }
    assert!(
        run.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        run.stderr
    );
}

#[test]
fn run_prints_each_specs_distribution() {
    let run = chanlab(&small_args("run", &[]));
    assert!(run.status.success(), "{}", run.stderr);
    assert!(run.stdout.contains("95% interval"), "{}", run.stdout);
    assert!(run.stdout.contains("median"), "{}", run.stdout);
}

#[test]
fn json_output_is_complete_and_identical_for_any_thread_count() {
    let one = chanlab(&small_args(
        "compare",
        &["--format", "json", "--threads", "1"],
    ));
    let two = chanlab(&small_args(
        "compare",
        &["--format", "json", "--threads", "2"],
    ));
    assert!(one.status.success(), "{}", one.stderr);
    assert_eq!(one.stdout, two.stdout);
    let doc: serde_json::Value = serde_json::from_str(&one.stdout).expect("JSON");
    assert_eq!(doc["chanlab_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["scenario"]["seed"], 11);
    assert_eq!(doc["report"]["replications"], 12);
    assert_eq!(doc["report"]["specs"].as_array().unwrap().len(), 3);
}

#[test]
fn a_seed_override_changes_the_numbers_and_is_recorded() {
    let a = chanlab(&small_args("run", &["--format", "json"]));
    let b = chanlab(&small_args("run", &["--format", "json", "--seed", "99"]));
    assert_ne!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_str(&b.stdout).unwrap();
    assert_eq!(doc["scenario"]["seed"], 99);
}

#[test]
fn csv_output_has_a_row_per_spec_and_kpi() {
    let run = chanlab(&small_args("compare", &["--format", "csv"]));
    assert!(run.status.success(), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("spec,baseline,kpi,unit,n,non_finite,mean"));
    assert_eq!(lines.len(), 1 + 3 * 14);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Mandate + assessment,false,process_compliance,share,12,"))
    );
}

#[test]
fn shards_merged_on_the_command_line_equal_the_full_run() {
    let scratch = Scratch::new("shards");
    let mut parts = Vec::new();
    for k in ["1/3", "2/3", "3/3"] {
        let out = scratch.write(&format!("part{}.json", &k[..1]), "");
        let run = chanlab(&small_args("compare", &["--shard", k, "--out", &out]));
        assert!(run.status.success(), "{}", run.stderr);
        parts.push(out);
    }
    let full = chanlab(&small_args("compare", &["--format", "json"]));
    let mut merge_args = vec!["merge"];
    merge_args.extend(parts.iter().map(String::as_str));
    merge_args.extend(["--format", "json"]);

    let merged = chanlab(&merge_args);

    assert!(merged.status.success(), "{}", merged.stderr);
    assert_eq!(merged.stdout, full.stdout);
}

#[test]
fn merging_an_incomplete_set_says_so() {
    let scratch = Scratch::new("partial");
    let out = scratch.write("part.json", "");
    chanlab(&small_args("compare", &["--shard", "1/2", "--out", &out]));
    let merged = chanlab(&["merge", &out]);
    assert!(merged.status.success(), "{}", merged.stderr);
    assert!(
        merged.stderr.contains("cover 6 of 12 replications"),
        "{}",
        merged.stderr
    );
    assert!(merged.stdout.contains("(partial)"), "{}", merged.stdout);
}

#[test]
fn merging_something_that_is_not_a_result_is_a_clear_error() {
    let scratch = Scratch::new("not-result");
    let junk = scratch.write("junk.json", "{\"hello\": 1}");
    let run = chanlab(&["merge", &junk]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("not a chanlab result"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_shard_and_replication_arguments_are_rejected() {
    let shard = chanlab(&small_args("run", &["--shard", "4/3"]));
    assert_eq!(shard.status.code(), Some(2));
    assert!(shard.stderr.contains("--shard"), "{}", shard.stderr);
    let text_shard = chanlab(&small_args("run", &["--shard", "1/3", "--format", "text"]));
    assert_eq!(text_shard.status.code(), Some(1));
    assert!(
        text_shard.stderr.contains("only JSON"),
        "{}",
        text_shard.stderr
    );
    let threads = chanlab(&small_args("run", &["--threads", "100000"]));
    assert_eq!(threads.status.code(), Some(2));
    assert!(threads.stderr.contains("--threads"), "{}", threads.stderr);
    // A value out of range is a usage error, like a malformed shard (clap's value parser).
    let reps = chanlab(&["run", "dual-authority", "--replications", "0", "--quiet"]);
    assert_eq!(reps.status.code(), Some(2));
    assert!(reps.stderr.contains("--replications"), "{}", reps.stderr);
}

#[test]
fn the_chart_is_written_as_svg() {
    let scratch = Scratch::new("chart");
    let path = scratch.write("chart.svg", "");
    let run = chanlab(&small_args("compare", &["--chart", &path]));
    assert!(run.status.success(), "{}", run.stderr);
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..40.min(svg.len())]
    );
    assert!(svg.contains("Mandate + paid assessment"));
}

#[test]
fn a_failed_write_leaves_no_file_behind() {
    let scratch = Scratch::new("failed-write");
    let out = scratch.write("result.txt", "");
    std::fs::remove_file(&out).unwrap();
    let run = chanlab(&small_args(
        "compare",
        &["--out", &out, "--chart", "/nonexistent-dir/c.svg"],
    ));
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("cannot write /nonexistent-dir/c.svg"),
        "{}",
        run.stderr
    );
    assert!(
        !std::path::Path::new(&out).exists(),
        "the result was written although the chart failed"
    );
}
