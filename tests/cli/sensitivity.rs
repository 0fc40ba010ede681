use crate::helpers::{Scratch, chanlab};

/// A small study: two parameters, two trajectories, four replications per point.
fn small<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "sensitivity",
        "mid-size",
        "--parameters",
        "goal_value,sandbagging",
        "--samples",
        "2",
        "--replications",
        "4",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    args
}

/// Exit 1, and stderr names `flag` and says how to fix it.
fn refused(args: &[&str], flag: &str) -> String {
    let run = chanlab(args);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains(flag) && run.stderr.contains("fix"),
        "{flag}: {}",
        run.stderr
    );
    run.stderr
}

#[test]
fn sensitivity_prints_the_robustness_sentence_and_the_parameters_by_importance() {
    let run = chanlab(&small(&[]));
    assert!(run.status.success(), "{}", run.stderr);
    for text in [
        "Sensitivity of the decision",
        "2 parameters over their plausible ranges",
        "6 parameter sets, 4 replications each",
        "plausible parameter sets",
        "goal_value",
        "noise floor",
        "Margin after incentives: Ratchet − Flat growth",
    ] {
        assert!(run.stdout.contains(text), "{text} missing:\n{}", run.stdout);
    }
    // sandbagging enters only participative goal setting, which no mid-size spec uses.
    assert!(run.stdout.contains("no effect"), "{}", run.stdout);
}

#[test]
fn sensitivity_shards_merge_into_the_whole_study_bit_for_bit() {
    let dir = Scratch::new("sensitivity-shards");
    let whole = chanlab(&small(&["--format", "json", "--threads", "2"]));
    assert!(whole.status.success(), "{}", whole.stderr);
    let mut parts = Vec::new();
    for k in ["1/2", "2/2"] {
        let part = chanlab(&small(&["--shard", k, "--threads", "1"]));
        assert!(part.status.success(), "{}", part.stderr);
        assert!(part.stdout.contains("\"kind\": \"sensitivity\""));
        parts.push(dir.write(&format!("part-{}.json", &k[..1]), &part.stdout));
    }
    let merged = chanlab(&["merge", &parts[1], &parts[0], "--format", "json"]);
    assert!(merged.status.success(), "{}", merged.stderr);
    assert_eq!(merged.stdout, whole.stdout);
    let csv = chanlab(&["merge", &parts[0], &parts[1], "--format", "csv"]);
    assert!(
        csv.stdout
            .starts_with("spec,baseline,kpi,parameter,rank,mu_star")
    );
    // A part merged twice is refused, naming the problem.
    let twice = chanlab(&["merge", &parts[0], &parts[0]]);
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        twice.stderr.contains("appear in two parts"),
        "{}",
        twice.stderr
    );
}

#[test]
fn sensitivity_draws_a_tornado_chart() {
    let dir = Scratch::new("sensitivity-chart");
    let path = dir.write("tornado.svg", "");
    let run = chanlab(&small(&["--chart", &path, "--kpi", "sell_through"]));
    assert!(run.status.success(), "{}", run.stderr);
    let svg = std::fs::read_to_string(&path).expect("chart written");
    assert!(svg.starts_with("<?xml") && svg.contains("goal_value") && svg.ends_with("</svg>\n"));
}

#[test]
fn bad_parameter_lists_name_the_flag_and_the_fix() {
    let stderr = refused(
        &[
            "sensitivity",
            "mid-size",
            "--parameters",
            "commitment_midpont",
        ],
        "--parameters",
    );
    assert!(stderr.contains("chanlab scenario init"), "{stderr}");
    refused(
        &[
            "sensitivity",
            "mid-size",
            "--parameters",
            "goal_value,,sandbagging",
        ],
        "--parameters",
    );
    refused(
        &[
            "sensitivity",
            "mid-size",
            "--parameters",
            "goal_value,goal_value",
        ],
        "--parameters",
    );
}

#[test]
fn bad_samples_kpi_and_shard_formats_name_the_flag_and_the_fix() {
    for samples in ["0", "1", "1001"] {
        refused(
            &["sensitivity", "mid-size", "--samples", samples],
            "--samples",
        );
    }
    // A flag value that does not parse is a usage error, as everywhere in the CLI (exit 2).
    let run = chanlab(&["sensitivity", "mid-size", "--kpi", "margin"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("--kpi") && run.stderr.contains("margin_after_incentives"),
        "{}",
        run.stderr
    );
    refused(
        &[
            "sensitivity",
            "mid-size",
            "--shard",
            "1/2",
            "--format",
            "text",
        ],
        "--shard",
    );
    refused(
        &[
            "sensitivity",
            "mid-size",
            "--replications",
            "4",
            "--shard",
            "1/5",
        ],
        "--shard",
    );
}
