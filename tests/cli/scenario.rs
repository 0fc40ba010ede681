use crate::helpers::{Scratch, chanlab};

#[test]
fn scenario_list_names_the_bundled_scenarios() {
    let run = chanlab(&["scenario", "list"]);
    assert!(run.status.success(), "{}", run.stderr);
    for name in ["mid-size", "recruiting-vs-farming", "dual-authority"] {
        assert!(run.stdout.contains(name), "{name} missing:\n{}", run.stdout);
    }
    let json = chanlab(&["scenario", "list", "--format", "json"]);
    let list: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(list.len(), 3);
}

#[test]
fn the_init_template_documents_every_behaviour_parameter_and_runs() {
    let scratch = Scratch::new("init");
    let init = chanlab(&["scenario", "init"]);
    assert!(init.status.success());
    for param in [
        "selling_elasticity",
        "ratchet_foresight",
        "compliance_if_assessed",
        "vacancy_months",
    ] {
        assert!(
            init.stdout.contains(&format!("# {param} = ")),
            "{param} not in the template"
        );
    }
    let file = scratch.write("my.toml", &init.stdout);

    let run = chanlab(&["compare", &file, "--replications", "4", "--quiet"]);

    assert!(run.status.success(), "{}", run.stderr);
    assert!(
        run.stdout.contains("Flat growth (baseline)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_scenario_names_file_field_expected_and_found() {
    let scratch = Scratch::new("bad-scenario");
    let text = chanlab(&["scenario", "show", "mid-size"])
        .stdout
        .replace("horizon_months = 36", "horizon_months = 0");
    let file = scratch.write("bad.toml", &text);

    let run = chanlab(&["run", &file, "--quiet"]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains(&format!(
            "error: {file}: horizon_months: expected 1 to 240 months, found 0"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("fix: change `horizon_months`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_invalid_inline_spec_is_reported_at_its_path_in_the_specs_list() {
    let scratch = Scratch::new("bad-inline");
    let text = chanlab(&["scenario", "show", "dual-authority"])
        .stdout
        .replacen("cap = 2.0", "cap = 0.5", 2);
    let file = scratch.write("bad.toml", &text);

    let run = chanlab(&["compare", &file, "--quiet"]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("specs[0].inline.incentive.cap"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("found 0.5"), "{}", run.stderr);
}

#[test]
fn an_unknown_key_in_a_scenario_is_an_error() {
    let scratch = Scratch::new("unknown-key");
    let text = chanlab(&["scenario", "show", "mid-size"])
        .stdout
        .replace("seed = 2027", "sead = 2027");
    let file = scratch.write("typo.toml", &text);

    let run = chanlab(&["run", &file, "--quiet"]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("unknown field `sead`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_spec_file_referenced_by_a_scenario_is_read_relative_to_it() {
    let scratch = Scratch::new("spec-ref");
    let spec = chanlab(&["spec", "show", "stretch"])
        .stdout
        .replace("name = \"Stretch goals\"", "name = \"My stretch\"");
    scratch.write("mine.toml", &spec);
    let scenario = chanlab(&["scenario", "show", "mid-size"])
        .stdout
        .replace("bundled = \"stretch\"", "file = \"mine.toml\"");
    let file = scratch.write("scenario.toml", &scenario);

    let run = chanlab(&["compare", &file, "--replications", "3", "--quiet"]);

    assert!(run.status.success(), "{}", run.stderr);
    assert!(run.stdout.contains("My stretch"), "{}", run.stdout);
}

#[test]
fn a_missing_spec_file_is_reported_at_its_entry() {
    let scratch = Scratch::new("spec-missing");
    let scenario = chanlab(&["scenario", "show", "mid-size"])
        .stdout
        .replace("bundled = \"stretch\"", "file = \"nowhere.toml\"");
    let file = scratch.write("scenario.toml", &scenario);

    let run = chanlab(&["compare", &file, "--quiet"]);

    assert_eq!(run.status.code(), Some(1));
    assert!(
        run.stderr.contains("specs[1].file: cannot read"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_scenario_name_lists_the_bundled_ones() {
    let run = chanlab(&["compare", "galaxy-brain", "--quiet"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("mid-size"), "{}", run.stderr);
}
