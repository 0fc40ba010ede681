use std::ops::ControlFlow;

use rand::RngExt;

use super::run::{Shape, accumulate};
use super::*;
use crate::engine::{RunOptions, Shard};
use crate::files::Format;
use crate::scenario::{self, Scenario};
use crate::seed::replication_rng;

fn go() -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// The bundled mid-size scenario with few replications: cheap enough for unit tests.
fn mid_size(replications: u32) -> Scenario {
    let text = crate::bundled::find_scenario("mid-size")
        .expect("bundled")
        .text;
    let no_files = |p: &str| Err(format!("no files: {p}"));
    scenario::parse(text, Format::Toml, &no_files)
        .expect("valid")
        .with_overrides(Some(replications), None)
        .expect("in range")
}

fn options(names: &[&str], samples: u32) -> SensitivityOptions {
    SensitivityOptions {
        parameters: ParameterChoice::List(names.iter().map(|s| s.to_string()).collect()),
        samples,
        levels: DEFAULT_LEVELS,
    }
}

fn run(
    scenario: &Scenario,
    o: &SensitivityOptions,
    threads: usize,
    shard: Option<Shard>,
) -> SensitivityResult {
    run_sensitivity(scenario, o, &RunOptions { threads, shard }, &go).expect("runs")
}

fn json(r: &SensitivityResult) -> String {
    serde_json::to_string(&r.document()).expect("serialises")
}

fn effect<'r>(report: &'r SensitivityReport, spec: &str, kpi: Kpi, p: &str) -> &'r ParameterEffect {
    report
        .comparisons
        .iter()
        .find(|c| c.spec == spec && c.kpi == kpi)
        .and_then(|c| c.effects.iter().find(|e| e.parameter == p))
        .expect("present")
}

const PARAMS: [&str; 3] = ["ratchet_foresight", "sandbagging", "commitment_midpoint"];

#[test]
fn one_and_two_threads_give_identical_results() {
    let s = mid_size(6);
    let o = options(&PARAMS, 2);
    assert_eq!(json(&run(&s, &o, 1, None)), json(&run(&s, &o, 2, None)));
}

#[test]
fn shards_merge_into_exactly_the_whole_study() {
    let s = mid_size(6);
    let o = options(&PARAMS, 2);
    let whole = run(&s, &o, 2, None);
    let parts: Vec<SensitivityResult> = (1..=3)
        .map(|k| run(&s, &o, 1, Some(Shard::new(k, 3).expect("valid"))))
        .rev()
        .collect();
    let merged = SensitivityResult::merge(parts.clone()).expect("merges");
    assert!(merged.is_complete());
    assert_eq!(json(&whole), json(&merged));
    // A shard merged twice, or parts of different studies, are refused.
    let twice = SensitivityResult::merge(vec![parts[0].clone(), parts[0].clone()]);
    assert!(twice.unwrap_err().message.contains("appear in two parts"));
    let other = run(
        &s,
        &options(&PARAMS[..2], 2),
        1,
        Some(Shard::new(1, 3).expect("valid")),
    );
    let mixed = SensitivityResult::merge(vec![parts[1].clone(), other]);
    assert!(mixed.unwrap_err().message.contains("different studies"));
}

#[test]
fn a_parameter_the_model_ignores_gets_zero_and_a_driving_one_more_than_its_noise() {
    // ratchet_foresight enters the model only through a ratchet goal (model/effort.rs), so
    // it cannot move Potential-based − Flat growth; it drives Ratchet − Flat growth.
    // sandbagging enters only participative goal setting, which no mid-size spec uses.
    let report = run(&mid_size(16), &options(&PARAMS, 4), 2, None).report();
    for kpi in [Kpi::SellThrough, Kpi::MarginAfterIncentives] {
        let inert = effect(&report, "Potential-based goals", kpi, "ratchet_foresight");
        assert_eq!(
            (inert.mu_star, inert.above_noise),
            (0.0, Some(false)),
            "{kpi:?}"
        );
        let none = effect(&report, "Ratchet", kpi, "sandbagging");
        assert_eq!(none.mu_star, 0.0, "{kpi:?}");
    }
    let driving = effect(&report, "Ratchet", Kpi::SellThrough, "ratchet_foresight");
    let floor = driving.noise_floor.expect("16 replications");
    assert!(driving.mu_star > 2.0 * floor && floor > 0.0, "{driving:?}");
}

/// A synthetic study: k parameters on [0, 1], one compared spec, one KPI column, with the
/// difference at a point given by `f(x, replication)`. Tests the estimator and the analysis
/// apart from the simulator.
fn synthetic(
    k: usize,
    samples: u32,
    reps: u64,
    f: &(dyn Fn(&[f64], u64, u64) -> f64 + Sync),
) -> SensitivityResult {
    let levels = DEFAULT_LEVELS;
    let trajectories: Vec<Trajectory> = (0..samples)
        .map(|t| Trajectory::draw(&mut replication_rng(99, u64::from(t)), k, levels))
        .collect();
    let points: Vec<Vec<Vec<u32>>> = trajectories.iter().map(|t| t.points(levels)).collect();
    let width = (specs_len() - 1) * Kpi::COUNT;
    let respond = |t: usize, j: usize, rep: u64| -> Vec<f64> {
        let x: Vec<f64> = points[t][j]
            .iter()
            .map(|&l| f64::from(l) / f64::from(levels - 1))
            .collect();
        // Point-specific noise too, so the floor is not trivially zero.
        let salt = (t * 1000 + j) as u64;
        vec![f(&x, rep, salt); width]
    };
    let shape = Shape {
        trajectories: trajectories.len(),
        k,
        width,
    };
    let state = accumulate(shape, (0, reps), 2, &respond, &go).expect("runs");
    let scenario = mid_size(reps as u32);
    SensitivityResult {
        kind: Kind::Sensitivity,
        chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
        scenario: scenario.file().clone(),
        parameters: (0..k)
            .map(|i| VariedParameter {
                name: format!("x{i}"),
                min: 0.0,
                max: 1.0,
                scenario_value: 0.5,
            })
            .collect(),
        skipped: Vec::new(),
        levels,
        trajectories,
        replications: vec![(0, reps)],
        baseline: 0,
        specs: scenario
            .specs()
            .iter()
            .map(|s| s.name.as_str().to_owned())
            .collect(),
        state,
    }
}

fn specs_len() -> usize {
    mid_size(1).specs().len()
}

fn noise(rep: u64, salt: u64) -> f64 {
    replication_rng(rep, salt).random::<f64>() - 0.5
}

#[test]
fn the_estimator_finds_the_driver_and_calls_the_inert_parameter_noise() {
    // d = 5·x0 + x2² + shared noise (common random numbers) + 0.05·point noise; x1 inert.
    let f = |x: &[f64], rep: u64, salt: u64| {
        5.0 * x[0] + x[2] * x[2] + 3.0 * noise(rep, 0) + 0.05 * noise(rep, salt + 1)
    };
    let result = synthetic(3, 20, 32, &f);
    result.check().expect("well formed");
    let report = result.report();
    let c = &report.comparisons[0];
    let by = |p: &str| {
        c.effects
            .iter()
            .find(|e| e.parameter == p)
            .expect("present")
    };
    let (x0, x1, x2) = (by("x0"), by("x1"), by("x2"));
    // The linear driver's effect is its slope over the range, exactly up to noise.
    assert!(
        (x0.mu_star - 5.0).abs() < 0.05 && (x0.mu - 5.0).abs() < 0.05,
        "{x0:?}"
    );
    assert!(x0.sigma.expect("20 trajectories") < 0.1, "{x0:?}");
    assert_eq!(x0.above_noise, Some(true));
    // The inert parameter's μ* is within its noise floor, which is small: the shared noise
    // cancels in the paired steps.
    assert_eq!(x1.above_noise, Some(false), "{x1:?}");
    assert!(x1.noise_floor.expect("floor") < 0.1, "{x1:?}");
    // The quadratic one: effects differ with the level, so σ > 0.
    assert!(x2.mu_star > 0.3 && x2.sigma.expect("σ") > 0.1, "{x2:?}");
    assert_eq!(c.effects[0].parameter, "x0");
}

#[test]
fn robustness_share_and_split_rule_recover_a_known_threshold() {
    // The spec beats the baseline unless x1 is at its top level (x1 > 5/6 of the range).
    let f = |x: &[f64], _: u64, _: u64| if x[1] > 0.9 { -1.0 } else { 1.0 } + 0.1 * x[0];
    let report = synthetic(3, 30, 2, &f).report();
    let c = report
        .comparisons
        .iter()
        .find(|c| c.kpi == Kpi::SellThrough)
        .expect("present");
    let r = c.robustness.as_ref().expect("sell-through has a direction");
    assert!((0.6..0.9).contains(&r.share_better), "{r:?}");
    let rule = r.rule.as_ref().expect("a rule");
    assert_eq!(
        (rule.parameter.as_str(), rule.above, rule.outcome.as_str()),
        ("x1", true, "loses")
    );
    assert!((rule.threshold - 5.0 / 6.0).abs() < 1e-12, "{rule:?}");
    assert_eq!((rule.precision, rule.recall, rule.stated), (1.0, 1.0, true));
    assert!(
        r.sentence.contains("it loses when x1 > 0.833"),
        "{}",
        r.sentence
    );
    // Lower-is-better KPIs read the same difference the other way round.
    let cost = report
        .comparisons
        .iter()
        .find(|c| c.kpi == Kpi::IncentiveCost)
        .expect("present");
    let share = cost.robustness.as_ref().expect("a direction").share_better;
    assert!((share + r.share_better - 1.0).abs() < 1e-12);
    // The best share per KPI counts the compared spec where it beats the baseline.
    let best = report
        .best
        .iter()
        .find(|b| b.kpi == Kpi::SellThrough)
        .expect("present");
    assert!(best.shares.iter().map(|s| s.1).sum::<f64>() > 0.999);
}

#[test]
fn a_split_that_explains_little_is_not_stated() {
    let f = |x: &[f64], rep: u64, salt: u64| 0.3 + noise(rep ^ 77, salt) + 0.0 * x[0];
    let report = synthetic(3, 10, 1, &f).report();
    let r = report.comparisons[0]
        .robustness
        .as_ref()
        .expect("a direction");
    assert!(!r.rule.as_ref().expect("a best split").stated);
    assert!(
        r.sentence.contains("no single-parameter threshold"),
        "{}",
        r.sentence
    );
}

#[test]
fn bad_parameter_lists_and_samples_name_the_flag_and_the_fix() {
    let s = mid_size(2);
    let err = |o: SensitivityOptions| {
        run_sensitivity(
            &s,
            &o,
            &RunOptions {
                threads: 1,
                shard: None,
            },
            &go,
        )
        .unwrap_err()
    };
    let e = err(options(&["commitment_midpont"], 2));
    assert_eq!(e.field, "--parameters");
    assert!(
        e.message.contains("chanlab scenario init") && e.message.contains("fix"),
        "{e}"
    );
    assert_eq!(err(options(&["goal_value", ""], 2)).field, "--parameters");
    assert!(
        err(options(&["goal_value", "goal_value"], 2))
            .message
            .contains("twice")
    );
    let e = err(options(&["goal_value"], 1));
    assert_eq!(e.field, "--samples");
    assert!(e.message.contains("--samples 10"), "{e}");
    let e = run_sensitivity(
        &s,
        &options(&["goal_value"], 2),
        &RunOptions {
            threads: 1,
            shard: Some(Shard::new(1, 3).expect("valid")),
        },
        &go,
    )
    .unwrap_err();
    assert_eq!(e.field, "--shard");
}

#[test]
fn all_means_every_parameter_the_scenario_does_not_draw_and_per_tier_entries_count() {
    let (chosen, skipped) =
        super::run::choose(&mid_size(2), &ParameterChoice::All).expect("chosen");
    assert_eq!(chosen.len(), crate::params::parameters().len());
    assert!(skipped.is_empty());
    assert!(chosen.iter().any(|p| p.name() == "own_touches.B"));
    let listed = ParameterChoice::List(vec!["own_touches".into()]);
    let (chosen, _) = super::run::choose(&mid_size(2), &listed).expect("chosen");
    assert_eq!(chosen.len(), 3);
}

#[test]
fn cross_field_rules_redraw_trajectories_and_every_point_is_valid() {
    // at_risk_below and recovered_above overlap on their plausible ranges.
    let o = options(&["at_risk_below", "recovered_above"], 12);
    let result = run(&mid_size(1), &o, 1, None);
    assert!(result.trajectories.iter().any(|t| t.redrawn > 0));
    for t in &result.trajectories {
        for p in t.points(result.levels) {
            let (a, r) = (
                result.parameters[0].value(p[0], 4),
                result.parameters[1].value(p[1], 4),
            );
            assert!(r >= a, "{a} {r}");
        }
    }
}

#[test]
fn a_study_stops_when_asked() {
    let s = mid_size(4);
    let stop = || ControlFlow::Break(());
    let e = run_sensitivity(
        &s,
        &options(&["goal_value"], 2),
        &RunOptions {
            threads: 1,
            shard: None,
        },
        &stop,
    )
    .unwrap_err();
    assert_eq!(e.field, "cancelled");
}
