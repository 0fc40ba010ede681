use super::*;
use crate::engine::Shard;
use crate::files::Format;
use crate::model::Kpi;

const SMALL: &str = r#"
name = "Small sweep"
horizon_months = 6
replications = 6
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

const UPLIFT: &str = r#"
[[sweep]]
spec = "Stretch goals"
path = "goal_setting.strategy.uplift"
"#;

const MIDPOINT: &str = r#"
[[sweep]]
parameter = "commitment_midpoint"
values = [0.3, 0.5]
"#;

fn parse(text: &str) -> Result<Scenario, crate::files::FileError> {
    scenario::parse(text, Format::Toml, &|_| Err("no files".into()))
}

fn scenario(extra: &str) -> Scenario {
    parse(&format!("{SMALL}{extra}")).expect("valid")
}

fn one_thread() -> RunOptions {
    RunOptions {
        threads: 1,
        shard: None,
    }
}

fn sweep(s: &Scenario, options: &RunOptions) -> SweepResult {
    run_sweep(s, options, &|| ControlFlow::Continue(())).expect("sweep runs")
}

fn plain(s: &Scenario) -> RunResult {
    engine::run(s, &one_thread(), &|| {}).expect("runs")
}

/// The state of spec `j` at point `p` equals spec `j` of `alone` (KPIs, paired differences,
/// wins): what makes a sweep point the plain comparison at that point.
fn assert_point_is(result: &SweepResult, p: usize, alone: &RunResult) {
    for (j, cell) in result.cells[p].iter().enumerate() {
        let got = &result.runs[cell.run].specs[cell.spec];
        let want = &alone.specs[j];
        assert_eq!(got.kpis, want.kpis, "point {p}, spec {j}");
        assert_eq!(got.difference, want.difference, "point {p}, spec {j}");
        assert_eq!(got.wins, want.wins, "point {p}, spec {j}");
    }
}

#[test]
fn a_spec_field_point_equals_the_plain_compare_of_that_spec() {
    let s = scenario(&format!("{UPLIFT}values = [0.1, 0.45]\n"));
    let result = sweep(&s, &one_thread());
    assert_eq!(result.runs.len(), 1, "both variants ride in one run");
    let factor = Factor::spec_field(&s, "Stretch goals", "goal_setting.strategy.uplift").unwrap();
    for (p, value) in [0.1, 0.45].into_iter().enumerate() {
        let mut file = s.file().clone();
        file.sweep.clear();
        let base = scenario::resolve(file, &|_| Err("no files".into())).unwrap();
        let alone = plain(&at_point(&base, &[(factor.clone(), value)]).unwrap());
        assert_point_is(&result, p, &alone);
    }
}

#[test]
fn more_variants_than_one_run_holds_are_split_and_still_exact() {
    // 2 specs leave room for 10 variants per run: 11 values need two runs.
    let values: Vec<String> = (0..11)
        .map(|i| format!("{}", 0.05 * f64::from(i)))
        .collect();
    let s = scenario(&format!("{UPLIFT}values = [{}]\n", values.join(", ")));
    let result = sweep(&s, &one_thread());
    assert_eq!(result.runs.len(), 2);
    let factor = Factor::spec_field(&s, "Stretch goals", "goal_setting.strategy.uplift").unwrap();
    let mut file = s.file().clone();
    file.sweep.clear();
    let base = scenario::resolve(file, &|_| Err("no files".into())).unwrap();
    for p in [0, 9, 10] {
        let alone = plain(&at_point(&base, &[(factor.clone(), 0.05 * p as f64)]).unwrap());
        assert_point_is(&result, p, &alone);
    }
}

#[test]
fn a_behaviour_point_equals_running_the_scenario_with_that_parameter_set() {
    let s = scenario(MIDPOINT);
    let result = sweep(&s, &one_thread());
    let factor = Factor::behaviour("commitment_midpoint").unwrap();
    let mut file = s.file().clone();
    file.sweep.clear();
    let base = scenario::resolve(file, &|_| Err("no files".into())).unwrap();
    for (p, value) in [0.3, 0.5].into_iter().enumerate() {
        let alone = plain(&at_point(&base, &[(factor.clone(), value)]).unwrap());
        assert_point_is(&result, p, &alone);
    }
    assert_ne!(
        result.runs[0].specs[0].kpis, result.runs[1].specs[0].kpis,
        "the parameter changes the outcome"
    );
}

#[test]
fn a_mixed_sweep_is_identical_on_one_and_two_threads_and_across_shards() {
    let s = scenario(&format!(
        "{MIDPOINT}{UPLIFT}grid = {{ from = 0.1, to = 0.5, steps = 3 }}\n"
    ));
    let one = sweep(&s, &one_thread());
    assert_eq!(one.points.len(), 6);
    assert_eq!(one.points[1], vec![0.3, 0.3], "the last axis runs fastest");
    let two = sweep(
        &s,
        &RunOptions {
            threads: 2,
            shard: None,
        },
    );
    let json = |r: &SweepResult| serde_json::to_string(&r.document()).unwrap();
    assert_eq!(json(&one), json(&two));
    let parts: Vec<SweepResult> = (1..=2)
        .map(|k| {
            sweep(
                &s,
                &RunOptions {
                    threads: 2,
                    shard: Some(Shard::new(k, 2).unwrap()),
                },
            )
        })
        .collect();
    assert!(!parts[0].is_complete());
    let merged = SweepResult::merge(parts.clone()).unwrap();
    assert!(merged.is_complete());
    assert_eq!(json(&merged), json(&one));
    // Through JSON, as `chanlab merge` reads the parts.
    let reread: Vec<SweepResult> = parts
        .iter()
        .map(|p| serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap())
        .collect();
    assert_eq!(json(&SweepResult::merge(reread).unwrap()), json(&one));
    let err = SweepResult::merge(vec![merged.clone(), merged]).unwrap_err();
    assert!(err.message.contains("two parts"), "{err}");
}

#[test]
fn the_report_has_every_point_spec_and_kpi_with_paired_intervals() {
    let s = scenario(&format!("{UPLIFT}values = [0.1, 0.45]\n"));
    let report = sweep(&s, &one_thread()).report();
    assert_eq!(report.axes, vec!["goal_setting.strategy.uplift"]);
    assert_eq!(report.points.len(), 2);
    assert_eq!(report.replications, 6);
    let point = &report.points[1];
    assert_eq!(point.at, vec![0.45]);
    assert_eq!(point.specs[1].name, "Stretch goals");
    assert!(point.specs[0].baseline);
    assert!(point.specs[0].kpis[0].difference.is_none());
    let margin = &point.specs[1].kpis[Kpi::MarginAfterIncentives.index()];
    let (lo, d, hi) = (
        margin.difference_low.unwrap(),
        margin.difference.unwrap(),
        margin.difference_high.unwrap(),
    );
    assert!(lo <= d && d <= hi);
}

#[test]
fn progress_ticks_once_per_replication_per_run_and_can_cancel() {
    let s = scenario(MIDPOINT);
    let plan = Sweep::new(&s).unwrap();
    let ticks = std::sync::atomic::AtomicU64::new(0);
    plan.run(&one_thread(), &|| {
        ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(ticks.into_inner(), plan.ticks(&one_thread()));
    assert_eq!(plan.ticks(&one_thread()), 12);
    assert!(plan.run(&one_thread(), &|| ControlFlow::Break(())).is_err());
}

#[test]
fn bad_axes_name_the_field_and_the_fix() {
    let cases = [
        (
            "[[sweep]]\nspec = \"Stretch goals\"\npath = \"goal_setting.strategy.uplfit\"\nvalues = [0.1]\n",
            "sweep[0].path",
            "uplift",
        ),
        (
            "[[sweep]]\nspec = \"Flat growth\"\npath = \"goal_setting.strategy.growth\"\nvalues = [0.1]\n",
            "sweep[0].spec",
            "copy it",
        ),
        (
            "[[sweep]]\nparameter = \"commitment_midpoint\"\nspec = \"Stretch goals\"\nvalues = [0.1]\n",
            "sweep[0]",
            "either `spec` and `path`",
        ),
        (
            "[[sweep]]\nparameter = \"commitment_midpoint\"\n",
            "sweep[0]",
            "`values = [..]`",
        ),
        (
            "[[sweep]]\nparameter = \"commitment_midpoint\"\ngrid = { from = 0.2, to = 0.6, steps = 1 }\n",
            "sweep[0]",
            "grid.steps",
        ),
        (
            "[[sweep]]\nparameter = \"commitment_midpoint\"\nvalues = [0.2, 0.2]\n",
            "sweep[0]",
            "twice",
        ),
        (
            "[[sweep]]\nparameter = \"comitment_midpoint\"\nvalues = [0.2]\n",
            "sweep[0].parameter",
            "scenario init",
        ),
        (
            "[[sweep]]\nparameter = \"commitment_midpoint\"\nvalues = [0.2, 7]\n",
            "sweep[0].values",
            "found 7",
        ),
    ];
    for (axis, field, fix) in cases {
        let err = parse(&format!("{SMALL}{axis}")).unwrap_err();
        assert_eq!(err.field, field, "{axis}: {err}");
        assert!(err.message.contains(fix), "{axis}: {err}");
    }
    // A value the field cannot take is found when the sweep is planned.
    let s = scenario(&format!("{UPLIFT}values = [0.1, -4]\n"));
    let err = Sweep::new(&s).unwrap_err();
    assert_eq!(err.field, "sweep[0].values", "{err}");
    assert!(err.message.contains("uplift = -4"), "{err}");
}

#[test]
fn a_scenario_without_a_sweep_serialises_as_before() {
    let s = parse(SMALL).unwrap();
    assert!(!s.file().to_toml().unwrap().contains("[[sweep]]"));
    assert!(
        !serde_json::to_string(s.file())
            .unwrap()
            .contains("\"sweep\"")
    );
}

#[test]
fn one_and_two_axis_sweep_charts_keep_their_text_on_the_canvas_and_render() {
    use crate::chart::check::{assert_renders, assert_text_fits};
    use crate::explore::sweep_chart::sweep_svg;
    let uplift = format!("{UPLIFT}values = [0.1, 0.3, 0.45]\n");
    let one = sweep(&scenario(&uplift), &one_thread());
    let two = sweep(&scenario(&format!("{uplift}{MIDPOINT}")), &one_thread());
    for result in [one, two] {
        let report = result.report();
        let svg = sweep_svg(
            &report,
            Kpi::MarginAfterIncentives,
            result.charted_spec(&report),
            "A sweep of stretch uplift, with a title long enough to need more than one line of the chart",
            "EUR",
        );
        assert_text_fits(&svg);
        assert_renders(&svg);
    }
}
