//! `-` names standard input wherever a command reads a file, so the quickstart runs from
//! the binary alone: `chanlab spec show stretch | chanlab spec check -`.

use crate::helpers::{chanlab, chanlab_with_stdin};

#[test]
fn spec_check_reads_a_toml_spec_from_standard_input() {
    // Arrange
    let shown = chanlab(&["spec", "show", "stretch"]);
    assert!(shown.status.success());

    // Act
    let check = chanlab_with_stdin(&["spec", "check", "-"], &shown.stdout);

    // Assert
    assert!(check.status.success(), "{}", check.stderr);
    assert!(
        check.stdout.starts_with("ok: -: \"Stretch goals\""),
        "{}",
        check.stdout
    );
}

#[test]
fn spec_check_reads_a_json_spec_from_standard_input() {
    let json = chanlab(&["spec", "show", "ratchet", "--format", "json"]);
    assert!(json.status.success());

    let check = chanlab_with_stdin(&["spec", "check", "-", "--format", "json"], &json.stdout);

    assert!(check.status.success(), "{}", check.stderr);
    let a: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_bad_spec_on_standard_input_is_reported_against_the_dash() {
    let shown = chanlab(&["spec", "show", "potential-based"]);
    let bad = shown
        .stdout
        .replacen("commission_rate = 0.03", "commission_rate = 3", 1);

    let check = chanlab_with_stdin(&["spec", "check", "-"], &bad);

    assert_eq!(check.status.code(), Some(1));
    assert!(
        check
            .stderr
            .starts_with("error: -:56:19: incentive.commission_rate:"),
        "{}",
        check.stderr
    );
}

#[test]
fn a_scenario_on_standard_input_runs_as_the_bundled_one_does() {
    let shown = chanlab(&["scenario", "show", "dual-authority"]);
    assert!(shown.status.success());
    let args = |scenario| ["run", scenario, "--replications", "4", "--format", "json"];

    let piped = chanlab_with_stdin(&args("-"), &shown.stdout);
    let named = chanlab(&args("dual-authority"));

    assert!(piped.status.success(), "{}", piped.stderr);
    assert!(named.status.success(), "{}", named.stderr);
    assert_eq!(piped.stdout, named.stdout);
}

#[test]
fn validate_runs_a_shown_experiment_from_standard_input() {
    // Arrange: a bundled experiment printed by the binary, as a template.
    let shown = chanlab(&["validate", "--show", "ratchet"]);
    assert!(shown.status.success(), "{}", shown.stderr);
    assert!(
        shown.stdout.contains("id = \"ratchet\""),
        "{}",
        shown.stdout
    );

    // Act
    let run = chanlab_with_stdin(
        &[
            "validate",
            "--experiment",
            "-",
            "--only",
            "ratchet",
            "--replications",
            "4",
            "--format",
            "json",
        ],
        &shown.stdout,
    );

    // Assert: the bundled experiment and the piped copy both ran.
    assert!(run.status.code() != Some(1), "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["experiments"].as_array().map(Vec::len), Some(2));
}

#[test]
fn validate_show_names_the_experiments_for_an_unknown_id() {
    let run = chanlab(&["validate", "--show", "no-such-finding"]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("fix: use one of: goal-difficulty,"),
        "{}",
        run.stderr
    );
}
