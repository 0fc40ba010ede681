use std::cell::RefCell;

use rand::RngExt;

use super::*;
use crate::files::Format;
use crate::scenario::{self, Scenario};

/// A test objective with its optimum at (0.3, 0.7): a smooth bowl, plus noise shared by
/// every candidate in a replication (what common random numbers give) and a little of
/// each candidate's own.
fn bowl(x: &[f64], candidate: usize, replication: u64) -> f64 {
    let common: f64 = crate::seed::replication_rng(7, replication).random::<f64>() - 0.5;
    let own: f64 =
        crate::seed::replication_rng(1000 + candidate as u64, replication).random::<f64>() - 0.5;
    -((x[0] - 0.3).powi(2) + (x[1] - 0.7).powi(2)) + 2.0 * common + 0.02 * own
}

fn unit_box() -> Vec<Vary> {
    ["a", "b"]
        .iter()
        .map(|p| Vary {
            path: (*p).to_owned(),
            low: 0.0,
            high: 1.0,
        })
        .collect()
}

/// Runs the search on `objective` and `constraint` (a function of the point), recording the
/// replication ranges evaluated.
fn search(
    points: &[Vec<f64>],
    constraints: &[Constraint],
    constraint: &dyn Fn(&[f64]) -> f64,
    ranges: &RefCell<Vec<(u64, u64)>>,
) -> Search {
    let mut evaluate = |which: &[usize], range: (u64, u64)| {
        ranges.borrow_mut().push(range);
        Ok(which
            .iter()
            .map(|&i| {
                let mut objective = Moments::new();
                let mut bound = Moments::new();
                for r in range.0..range.1 {
                    objective.add(bowl(&points[i], i, r));
                    bound.add(constraint(&points[i]));
                }
                Score {
                    objective,
                    constraints: constraints.iter().map(|_| bound.clone()).collect(),
                }
            })
            .collect())
    };
    successive_halving(points.len(), true, constraints, 20, &mut evaluate).expect("search runs")
}

#[test]
fn the_search_finds_a_known_optimum_under_noise() {
    let points = latin_hypercube(&unit_box(), &[false, false], 81, 3);
    let ranges = RefCell::new(Vec::new());
    let found = search(&points, &[], &|_| 0.0, &ranges);
    let best = &points[found.winner];
    let distance = ((best[0] - 0.3).powi(2) + (best[1] - 0.7).powi(2)).sqrt();
    assert!(
        distance < 0.12,
        "winner {best:?} is {distance} from the optimum"
    );
    // Rungs keep a third and double the replications.
    let sizes: Vec<usize> = found.rungs.iter().map(|r| r.ranked.len()).collect();
    assert_eq!(sizes, vec![81, 27, 9, 3], "the best of three wins");
    assert_eq!(
        *ranges.borrow(),
        vec![(0, 20), (20, 40), (40, 80), (80, 160)],
        "each rung evaluates only new replications"
    );
    assert!(ranges.borrow().iter().all(|r| r.1 <= CONFIRM_START));
}

#[test]
fn a_constraint_keeps_the_winner_inside_its_bound() {
    let points = latin_hypercube(&unit_box(), &[false, false], 27, 5);
    let c: Constraint = "rep_attrition <= 0.5".parse().unwrap();
    let ranges = RefCell::new(Vec::new());
    // The bound is on b, whose unconstrained optimum (0.7) lies outside it.
    let found = search(&points, std::slice::from_ref(&c), &|x| x[1], &ranges);
    assert!(found.feasible);
    let best = &points[found.winner];
    assert!(best[1] <= 0.5, "{best:?}");
    assert!(
        best[1] > 0.3,
        "pushed to the bound, not away from it: {best:?}"
    );
}

#[test]
fn a_constraint_nobody_meets_is_named() {
    let points = latin_hypercube(&unit_box(), &[false, false], 9, 5);
    let c: Constraint = "rep_attrition <= -5".parse().unwrap();
    let ok: Constraint = "sell_through >= -100".parse().unwrap();
    let ranges = RefCell::new(Vec::new());
    let found = search(&points, &[ok, c.clone()], &|x| x[1], &ranges);
    assert!(!found.feasible);
    assert_eq!(found.met_by, vec![9, 0]);
    let binding = run::binding(&[c.clone(), c], &found);
    assert!(binding[0].starts_with("rep_attrition <= -5"), "{binding:?}");
}

#[test]
fn a_latin_hypercube_uses_every_slice_once_and_rounds_whole_fields() {
    let vary = vec![
        Vary {
            path: "a".into(),
            low: 0.0,
            high: 1.0,
        },
        Vary {
            path: "n".into(),
            low: 1.0,
            high: 6.0,
        },
    ];
    let points = latin_hypercube(&vary, &[false, true], 10, 1);
    let mut slices: Vec<usize> = points.iter().map(|p| (p[0] * 10.0) as usize).collect();
    slices.sort_unstable();
    assert_eq!(slices, (0..10).collect::<Vec<_>>());
    assert!(
        points
            .iter()
            .all(|p| p[1].fract() == 0.0 && (1.0..=6.0).contains(&p[1]))
    );
    assert_eq!(
        points,
        latin_hypercube(&vary, &[false, true], 10, 1),
        "seeded"
    );
}

#[test]
fn bad_vary_and_constraint_text_says_what_to_write() {
    for (text, part) in [
        ("goal_setting.strategy.uplift", "no `=`"),
        ("x=0.1-0.5", "no `..`"),
        ("x=0.5..0.1", "reversed"),
        ("x=a..0.1", "\"a\" is not a finite number"),
        ("=0..1", "field is missing"),
    ] {
        let err = text.parse::<Vary>().unwrap_err();
        assert!(err.contains(part), "{text}: {err}");
    }
    for (text, part) in [
        ("rep_attrition < 20", "no `<=` or `>=`"),
        ("rep_atrition <= 20", "use one of: sell_through"),
        ("rep_attrition <= many", "not a finite number"),
    ] {
        let err = text.parse::<Constraint>().unwrap_err();
        assert!(err.contains(part), "{text}: {err}");
    }
}

const SMALL: &str = r#"
name = "Small"
horizon_months = 6
replications = 8
seed = 9
baseline = "Flat growth"

[[channel.regions]]
name = "Only"
reps = 3
backing = 0.8
partners = { A = 2, B = 5, C = 8 }
prospects = 4

[[specs]]
bundled = "flat-growth"

[[specs]]
bundled = "stretch"
"#;

fn small() -> Scenario {
    scenario::parse(SMALL, Format::Toml, &|_| Err("no files".into())).expect("valid")
}

fn problem(vary: &str, constraints: &[&str]) -> Problem {
    Problem {
        spec: None,
        vary: vec![vary.parse().unwrap()],
        objective: Kpi::MarginAfterIncentives,
        constraints: constraints.iter().map(|c| c.parse().unwrap()).collect(),
        settings: Settings {
            candidates: 5,
            replications: 4,
            confirm: 6,
            threads: 1,
        },
    }
}

#[test]
fn the_winner_is_confirmed_on_replications_the_search_never_used() {
    let p = problem(
        "goal_setting.strategy.uplift=0.0..0.6",
        &["rep_attrition <= 100"],
    );
    let prepared = prepare(&small(), &p).unwrap();
    let ticks = std::sync::atomic::AtomicU64::new(0);
    let report = prepared
        .run(&|| {
            ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(ticks.into_inner(), prepared.ticks());
    assert_eq!(
        report.spec, "Stretch goals",
        "the first spec that is not the baseline"
    );
    assert_eq!(
        report.candidates[0],
        vec![0.3],
        "the spec as written is a candidate"
    );
    let searched = report.search.rungs.last().unwrap().replications;
    assert!(searched.1 <= CONFIRM_START);
    assert_eq!(
        report.confirmation.replications,
        (CONFIRM_START, CONFIRM_START + 6)
    );
    assert_eq!(report.confirmation.difference.n, 6);
    assert!(report.feasible && report.confirmation.constraints[0].met);
    assert_eq!(
        super::spec_value(&report.best_spec, "goal_setting.strategy.uplift"),
        Ok(report.best[0])
    );
    // The same seed gives the same search.
    assert_eq!(
        prepare(&small(), &p)
            .unwrap()
            .run(&|| std::ops::ControlFlow::Continue(()))
            .unwrap(),
        report
    );
}

#[test]
fn a_bad_field_or_spec_names_the_flag_and_the_fix() {
    let s = small();
    let err = prepare(&s, &problem("goal_setting.strategy.uplfit=0..1", &[])).unwrap_err();
    assert_eq!(err.field, "--vary");
    assert!(err.message.contains("uplift"), "{err}");
    let err = prepare(&s, &problem("goal_setting.strategy.uplift=-1..0.5", &[])).unwrap_err();
    assert!(err.message.contains("narrow the range"), "{err}");
    let mut p = problem("goal_setting.strategy.uplift=0..0.5", &[]);
    p.spec = Some("Flat growth".into());
    let err = prepare(&s, &p).unwrap_err();
    assert_eq!(err.field, "--spec");
    assert!(err.message.contains("baseline"), "{err}");
}

mod staged;
