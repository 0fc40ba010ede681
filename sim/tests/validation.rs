//! The behavioural validation suite (`chanlab validate`): every bundled finding must be
//! reproduced at the experiments' own replication counts and seeds, which are the defaults a
//! user runs. If one fails, fix the model, not the check (sim/MODEL.md §10).

use chanlab_sim::validate::{self, RunOptions};

#[test]
fn every_published_finding_is_reproduced_with_the_defaults() {
    let mut failed = Vec::new();
    for experiment in validate::bundled() {
        let report = validate::run(&experiment, &RunOptions::default(), &|| {})
            .unwrap_or_else(|e| panic!("{}: {e}", experiment.file.id));
        for check in &report.checks {
            assert_eq!(check.non_finite, 0, "{}: {}", report.id, check.label);
            if !check.passed {
                failed.push(format!(
                    "{}: {} = {:?} [{:?}, {:?}] {}",
                    report.id,
                    check.label,
                    check.mean,
                    check.ci95_low,
                    check.ci95_high,
                    check.detail
                ));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "findings not reproduced:\n{}",
        failed.join("\n")
    );
}

#[test]
fn a_validation_run_is_reproducible_and_independent_of_threads() {
    let experiment = validate::bundled()
        .into_iter()
        .find(|e| e.file.id == "fiscal-year-end")
        .expect("bundled");
    let options = |threads| RunOptions {
        replications: Some(12),
        seed: Some(7),
        threads,
    };
    let one = validate::run(&experiment, &options(1), &|| {}).unwrap();
    let two = validate::run(&experiment, &options(2), &|| {}).unwrap();
    assert_eq!(one, two);
    assert_eq!(one.replications, 12);
    assert_eq!(one.seed, 7);
    let other_seed = validate::run(
        &experiment,
        &RunOptions {
            seed: Some(8),
            ..options(2)
        },
        &|| {},
    )
    .unwrap();
    assert_ne!(one.checks[0].mean, other_seed.checks[0].mean);
}

#[test]
fn progress_is_reported_once_per_replication() {
    let experiment = validate::bundled()
        .into_iter()
        .find(|e| e.file.id == "ratchet")
        .expect("bundled");
    let ticks = std::sync::atomic::AtomicU64::new(0);
    let options = RunOptions {
        replications: Some(9),
        ..RunOptions::default()
    };
    validate::run(&experiment, &options, &|| {
        ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(ticks.into_inner(), 9);
}

#[test]
fn a_check_that_cannot_hold_fails() {
    // The suite must be able to say FAIL: sell-through below zero is impossible.
    let text = r#"
id = "impossible"
title = "t"
finding = "f"
source = "s"
published = "p"
scenario = "mid-size"
replications = 5
[scenario_patch]
horizon_months = 6
[[arms]]
name = "a"
spec = "flat-growth"
[[checks]]
label = "negative sales"
statistic = { kind = "value", arm = "a", measure = { kind = "kpi", kpi = "sell_through" } }
expect = { below = 0.0 }
"#;
    let experiment = validate::load(text).unwrap();
    let report = validate::run(&experiment, &RunOptions::default(), &|| {}).unwrap();
    assert!(!report.passed);
    assert!(report.checks[0].mean.unwrap() > 0.0);
}

#[test]
fn a_bad_experiment_names_the_field() {
    let text = r#"
id = "bad"
title = "t"
finding = "f"
source = "s"
published = "p"
scenario = "mid-size"
replications = 5
[[arms]]
name = "a"
spec = "flat-growth"
patch = { incentive = { cap = -1.0 } }
[[checks]]
label = "x"
statistic = { kind = "value", arm = "a", measure = { kind = "kpi", kpi = "sell_through" } }
expect = { above = 0.0 }
"#;
    let err = validate::load(text).unwrap_err().to_string();
    assert!(err.contains("arms[0]") && err.contains("cap"), "{err}");
    let err = validate::load(&text.replace("kind = \"kpi\", kpi", "kind = \"kpi\", kip"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checks[0].statistic") && err.contains("kip"),
        "{err}"
    );
}
