use crate::helpers::{Scratch, chanlab};

#[test]
fn validate_with_the_defaults_reproduces_every_finding() {
    let run = chanlab(&["validate", "--quiet"]);
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    for id in [
        "goal-difficulty",
        "fiscal-year-end",
        "quarter-end",
        "timing-discounts",
        "ratchet",
        "bonus-design",
        "lumpy-bonus",
        "measured-gets-done",
    ] {
        assert!(
            run.stdout.contains(&format!("PASS  {id}")),
            "{id} missing or failing:\n{}",
            run.stdout
        );
    }
    assert!(run.stdout.contains("8 of 8 findings reproduced."));
    assert!(!run.stdout.contains("FAIL"));
}

#[test]
fn json_output_carries_every_check_and_honours_only_and_seed() {
    let args = [
        "validate",
        "--only",
        "ratchet",
        "--only",
        "fiscal-year-end",
        "--replications",
        "20",
        "--seed",
        "5",
        "--format",
        "json",
    ];
    let run = chanlab(&args);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stderr);
    let experiments = doc["experiments"].as_array().unwrap();
    let ids: Vec<&str> = experiments
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fiscal-year-end", "ratchet"]);
    for e in experiments {
        assert_eq!(e["replications"], 20);
        assert_eq!(e["seed"], 5);
        assert!(!e["checks"].as_array().unwrap().is_empty());
    }
    let passed = doc["passed"].as_bool().unwrap();
    assert_eq!(run.status.success(), passed);
    // The same arguments give the same document.
    assert_eq!(chanlab(&args).stdout, run.stdout);
}

#[test]
fn format_table_is_the_text_table() {
    let run = chanlab(&[
        "validate", "--only", "ratchet", "--format", "table", "--quiet",
    ]);
    assert!(run.stdout.contains("PASS  ratchet"), "{}", run.stderr);
}

#[test]
fn an_unknown_experiment_id_is_named_with_the_known_ones() {
    let run = chanlab(&["validate", "--only", "nope"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("\"nope\""), "{}", run.stderr);
    assert!(run.stderr.contains("goal-difficulty"), "{}", run.stderr);
}

#[test]
fn charts_are_written_one_per_experiment() {
    let scratch = Scratch::new("validate-charts");
    let dir = scratch.write("placeholder", "");
    let dir = std::path::Path::new(&dir).with_file_name("charts");
    let run = chanlab(&[
        "validate",
        "--quiet",
        "--only",
        "fiscal-year-end",
        "--only",
        "goal-difficulty",
        "--chart",
        dir.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", run.stderr);
    for id in ["fiscal-year-end", "goal-difficulty"] {
        let svg = std::fs::read_to_string(dir.join(format!("{id}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("PASS ·"));
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

const OWN: &str = r#"
id = "own"
title = "My own check"
finding = "f"
source = "s"
published = "p"
scenario = "mid-size"
replications = 4
[scenario_patch]
horizon_months = 6
[[arms]]
name = "a"
spec = "flat-growth"
[[checks]]
label = "sell-through is negative"
statistic = { kind = "value", arm = "a", measure = { kind = "kpi", kpi = "sell_through" } }
expect = { below = 0.0 }
"#;

#[test]
fn a_users_experiment_runs_and_a_failed_check_exits_3() {
    let scratch = Scratch::new("validate-own");
    let path = scratch.write("own.toml", OWN);
    let run = chanlab(&[
        "validate",
        "--quiet",
        "--experiment",
        &path,
        "--only",
        "own",
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", run.stderr);
    assert!(run.stdout.contains("FAIL  own"), "{}", run.stdout);
    assert!(run.stdout.contains("0 of 1 findings reproduced."));
}

#[test]
fn a_bad_experiment_file_names_the_file_and_field() {
    let scratch = Scratch::new("validate-bad");
    let path = scratch.write(
        "bad.toml",
        &OWN.replace("replications = 4", "replications = -4"),
    );
    let run = chanlab(&["validate", "--experiment", &path]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("bad.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("replications"), "{}", run.stderr);
    assert!(run.stderr.contains("fix"), "{}", run.stderr);
    let path = scratch.write(
        "bad2.toml",
        &OWN.replace("arm = \"a\", measure", "arm = \"b\", measure"),
    );
    let run = chanlab(&["validate", "--experiment", &path]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("checks[0].statistic.arm"),
        "{}",
        run.stderr
    );
}

#[test]
fn replications_out_of_range_are_refused_naming_the_flag() {
    let cases: [&[&str]; 3] = [
        &["validate", "--replications", "1"],
        &["train", "play", "stretch-goal-trap", "--replications", "1"],
        &[
            "train",
            "play",
            "stretch-goal-trap",
            "--replications",
            "5000",
        ],
    ];
    for args in cases {
        let run = chanlab(args);
        assert!(!run.status.success(), "{args:?}");
        assert!(run.stderr.contains("--replications"), "{}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
}
