//! `chanlab records synthesize`, `chanlab calibrate` and `chanlab backtest` over the real
//! binary: synthesized records go into a data directory, the calibration reads them back,
//! and bad input exits 1 naming the flag and writes nothing.

use crate::helpers::{Scratch, chanlab};

#[test]
fn synthesized_records_calibrate_and_backtest_from_a_data_directory() {
    let scratch = Scratch::new("calibrate-tour");
    let dir = scratch.write("unused", "");
    let data = std::path::Path::new(&dir).with_file_name("data");
    let data = data.to_str().unwrap();

    let made = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "18",
        "--seed",
        "4",
        "--data-dir",
        data,
    ]);
    assert!(made.status.success(), "{}", made.stderr);
    assert!(made.stdout.contains("4 regions"), "{}", made.stdout);
    assert!(std::path::Path::new(data).join("truth.json").is_file());

    let scenario = std::path::Path::new(&dir).with_file_name("calibrated.json");
    let chart = std::path::Path::new(&dir).with_file_name("fit.svg");
    let fit = chanlab(&[
        "calibrate",
        "--data-dir",
        data,
        "--format",
        "json",
        "--scenario-out",
        scenario.to_str().unwrap(),
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert!(fit.status.success(), "{}", fit.stderr);
    let report: serde_json::Value = serde_json::from_str(&fit.stdout).unwrap();
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("profile.last"),
        "the moments chart"
    );
    assert_eq!(report["months"], 18);
    let parameters = report["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["identified"] == true));
    assert!(
        parameters
            .iter()
            .any(|p| p["identified"] == false && p["note"].as_str().is_some_and(|n| !n.is_empty()))
    );
    // The calibrated scenario runs like any other, parameter draws included.
    let run = chanlab(&[
        "run",
        scenario.to_str().unwrap(),
        "--replications",
        "20",
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(run.status.success(), "{}", run.stderr);

    let chart = std::path::Path::new(&dir).with_file_name("backtest.svg");
    let table = chanlab(&[
        "backtest",
        "--data-dir",
        data,
        "--holdout-months",
        "3",
        "--replications",
        "50",
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert!(table.status.success(), "{}", table.stderr);
    assert!(
        table.stdout.contains("channel: mean bias"),
        "{}",
        table.stdout
    );
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert_eq!(svg.matches("<circle").count(), 3, "one per held-out month");
    let csv = chanlab(&[
        "backtest",
        "--data-dir",
        data,
        "--holdout-months",
        "3",
        "--replications",
        "50",
        "--format",
        "csv",
    ]);
    assert!(csv.status.success(), "{}", csv.stderr);
    assert_eq!(csv.stdout.lines().count(), 1 + 3 * 5, "{}", csv.stdout);

    // A second synthesis into the same directory is refused: records would mix.
    let again = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "18",
        "--data-dir",
        data,
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", again.stderr);
    assert!(
        again.stderr.contains("already holds records"),
        "{}",
        again.stderr
    );
}

#[test]
fn synthesized_records_can_be_written_as_files_in_the_import_columns() {
    let scratch = Scratch::new("synthesize-out");
    let dir = scratch.write("unused", "");
    let out = std::path::Path::new(&dir).with_file_name("files");
    let made = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "6",
        "--seed",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(made.status.success(), "{}", made.stderr);
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let partners = read("partners.csv");
    assert!(
        partners.starts_with("id,name,kind,tier,region_id,owner_rep_id,stage\n"),
        "{partners}"
    );
    assert_eq!(partners.lines().count(), 1 + 480);
    assert!(read("reps.csv").starts_with("id,name,region_id,hired_on,status,left_on\n"));
    assert!(read("sales.csv").starts_with("id,partner_id,month,currency,sell_in,sell_through\n"));
    assert!(read("stage_changes.csv").starts_with("partner_id,from,to,on\n"));
    let truth: serde_json::Value = serde_json::from_str(&read("truth.json")).unwrap();
    assert_eq!(truth["months"], 6);
    for name in [
        "regions.csv",
        "activities.csv",
        "goals.json",
        "assessments.json",
        "spec.json",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
}

#[test]
fn bad_input_to_calibrate_and_backtest_exits_1_naming_what_to_fix() {
    let scratch = Scratch::new("calibrate-bad");
    let dir = scratch.write("unused", "");
    let data = std::path::Path::new(&dir).with_file_name("data");
    let data = data.to_str().unwrap();
    let missing = std::path::Path::new(&dir).with_file_name("nowhere");

    let none = chanlab(&["calibrate", "--data-dir", missing.to_str().unwrap()]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        none.stderr.contains("--data-dir: no data directory"),
        "{}",
        none.stderr
    );
    assert!(!missing.exists(), "nothing is created");

    let made = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "14",
        "--data-dir",
        data,
    ]);
    assert!(made.status.success(), "{}", made.stderr);
    let long = chanlab(&["backtest", "--data-dir", data, "--holdout-months", "9"]);
    assert_eq!(long.status.code(), Some(1));
    assert!(
        long.stderr
            .contains("--holdout-months: expected 1 to 2 months"),
        "{}",
        long.stderr
    );

    let short = chanlab(&["calibrate", "--data-dir", data, "--as-of", "2027-08"]);
    assert_eq!(short.status.code(), Some(1));
    assert!(
        short.stderr.contains("at least 12 months"),
        "{}",
        short.stderr
    );
    assert!(
        short.stderr.contains("the records hold 8"),
        "{}",
        short.stderr
    );
}

#[test]
fn bad_input_to_synthesize_exits_1_naming_the_flag_or_field_and_writes_nothing() {
    let scratch = Scratch::new("synthesize-bad");
    let misspelt = scratch.write("misspelt.toml", "demand_nosie = 0.3\n");
    let out_of_range = scratch.write("range.toml", "demand_noise = 7\n");
    let out = std::path::Path::new(&misspelt).with_file_name("out");
    let out = out.to_str().unwrap();

    let zero = chanlab(&[
        "records",
        "synthesize",
        "mid-size",
        "--months",
        "0",
        "--out",
        out,
    ]);
    assert_eq!(zero.status.code(), Some(1));
    assert!(
        zero.stderr
            .contains("--months: expected 1 to 240 months, found 0"),
        "{}",
        zero.stderr
    );

    // Six months of the bundled channel with the behaviour in `file`.
    let with_behaviour = |file: &str| {
        chanlab(&[
            "records",
            "synthesize",
            "mid-size",
            "--months",
            "6",
            "--behaviour",
            file,
            "--out",
            out,
        ])
    };
    let named = with_behaviour(&misspelt);
    assert_eq!(named.status.code(), Some(1));
    assert!(
        named
            .stderr
            .contains("misspelt.toml: unknown field `demand_nosie`"),
        "{}",
        named.stderr
    );
    assert!(named.stderr.contains("fix:"), "{}", named.stderr);

    let range = with_behaviour(&out_of_range);
    assert_eq!(range.status.code(), Some(1));
    assert!(
        range
            .stderr
            .contains("behaviour.demand_noise: expected a number between 0 and 2, found 7"),
        "{}",
        range.stderr
    );
    assert!(!std::path::Path::new(out).exists(), "nothing is written");
}
