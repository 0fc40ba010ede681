use crate::helpers::{Scratch, chanlab};

#[test]
fn version_and_help_describe_the_tool() {
    let version = chanlab(&["--version"]);
    assert!(version.status.success());
    // The commit and build date follow (tests/cli/conventions.rs checks them).
    assert!(
        version
            .stdout
            .starts_with(&format!("chanlab {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        version.stdout
    );

    let help = chanlab(&["--help"]);
    assert!(help.status.success());
    for command in ["spec", "openapi"] {
        assert!(
            help.stdout.contains(command),
            "--help does not mention {command}"
        );
    }
}

#[test]
fn an_unknown_subcommand_is_a_usage_error() {
    let run = chanlab(&["simulate-everything"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        run.stderr.contains("unrecognized subcommand"),
        "{}",
        run.stderr
    );
}

#[test]
fn spec_list_names_every_bundled_spec() {
    let run = chanlab(&["spec", "list"]);
    assert!(run.status.success());
    for name in ["flat-growth", "ratchet", "potential-based", "stretch"] {
        assert!(
            run.stdout.contains(name),
            "{name} not listed:\n{}",
            run.stdout
        );
    }
    let json = chanlab(&["spec", "list", "--format", "json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("JSON list");
    assert_eq!(list.len(), run.stdout.lines().count());
}

#[test]
fn a_shown_spec_checks_clean_when_saved_to_a_file() {
    let scratch = Scratch::new("show");
    let shown = chanlab(&["spec", "show", "ratchet"]);
    assert!(shown.status.success());
    let file = scratch.write("ratchet.toml", &shown.stdout);

    let check = chanlab(&["spec", "check", &file]);

    assert!(check.status.success(), "{}", check.stderr);
    assert!(
        check
            .stdout
            .starts_with(&format!("ok: {file}: \"Ratchet\"")),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("ratchet (up 80%, down 30%, +5%/yr)"),
        "{}",
        check.stdout
    );
}

#[test]
fn showing_an_unknown_spec_lists_the_known_ones() {
    let run = chanlab(&["spec", "show", "moonshot"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("no bundled spec called \"moonshot\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("potential-based"), "{}", run.stderr);
}

#[test]
fn an_invalid_spec_file_is_reported_with_file_line_field_and_fix() {
    let scratch = Scratch::new("invalid");
    let good = chanlab(&["spec", "show", "potential-based"]).stdout;
    let bad = good.replace("commission_rate = 0.03", "commission_rate = 3");
    let file = scratch.write("bad.toml", &bad);
    let line = bad
        .lines()
        .position(|l| l.starts_with("commission_rate"))
        .unwrap()
        + 1;

    let run = chanlab(&["spec", "check", &file]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout.is_empty(),
        "nothing is reported as ok: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!("error: {file}:{line}:")),
        "file and line missing: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("incentive.commission_rate: expected a fraction"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("found 3"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("fix: change `incentive.commission_rate`"),
        "{}",
        run.stderr
    );
}

#[test]
fn checking_several_files_reports_each_and_fails_if_any_is_bad() {
    let scratch = Scratch::new("several");
    let good = scratch.write("good.toml", &chanlab(&["spec", "show", "stretch"]).stdout);
    let bad = scratch.write("bad.json", "{\"name\": \"x\", \"colour\": 1}");

    let run = chanlab(&["spec", "check", &good, &bad]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stdout.contains(&format!("ok: {good}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("unknown field `colour`"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_can_print_the_spec_as_api_json() {
    let scratch = Scratch::new("json");
    let file = scratch.write("s.toml", &chanlab(&["spec", "show", "flat-growth"]).stdout);

    let run = chanlab(&["spec", "check", &file, "--format", "json"]);

    assert!(run.status.success(), "{}", run.stderr);
    let rules: chanlab_shared::ProcessRules =
        serde_json::from_str(&run.stdout).expect("ProcessRules JSON");
    assert_eq!(rules.name.as_str(), "Flat growth");
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let run = chanlab(&["spec", "check", "no/such/spec.toml"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("cannot read no/such/spec.toml"),
        "{}",
        run.stderr
    );
}
