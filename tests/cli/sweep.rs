use crate::helpers::{Scratch, chanlab};

pub(crate) const SMALL: &str = r#"
name = "Small sweep"
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

const TWO_AXES: &str = r#"
[[sweep]]
parameter = "commitment_midpoint"
values = [0.3, 0.5]

[[sweep]]
spec = "Stretch goals"
path = "goal_setting.strategy.uplift"
grid = { from = 0.1, to = 0.5, steps = 3 }
"#;

const ONE_AXIS: &str = r#"
[[sweep]]
spec = "Stretch goals"
path = "goal_setting.strategy.uplift"
values = [0.1, 0.3, 0.5]
"#;

pub(crate) fn scenario(dir: &Scratch, sweep: &str) -> String {
    dir.write("sweep.toml", &format!("{SMALL}{sweep}"))
}

#[test]
fn compare_on_a_sweep_prints_the_surface_as_a_table_json_and_csv() {
    let dir = Scratch::new("sweep-formats");
    let file = scenario(&dir, TWO_AXES);
    let run = chanlab(&["compare", &file, "--quiet"]);
    assert!(run.status.success(), "{}", run.stderr);
    for text in [
        "Sweep of commitment_midpoint × goal_setting.strategy.uplift",
        "6 points",
        "Stretch goals vs Flat growth (baseline)",
        "Margin after incentives",
    ] {
        assert!(run.stdout.contains(text), "{text} missing:\n{}", run.stdout);
    }
    let json = chanlab(&["compare", &file, "--quiet", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(doc["kind"], "sweep");
    assert_eq!(doc["report"]["points"].as_array().unwrap().len(), 6);
    let csv = chanlab(&["compare", &file, "--quiet", "--format", "csv"]);
    // 6 points × 2 specs × 14 KPIs, and a header.
    assert_eq!(csv.stdout.lines().count(), 1 + 6 * 2 * 14, "{}", csv.stdout);
    assert!(csv.stdout.starts_with("commitment_midpoint,"));
}

#[test]
fn sweep_shards_merge_into_exactly_the_whole_sweep() {
    let dir = Scratch::new("sweep-shards");
    let file = scenario(&dir, TWO_AXES);
    let whole = chanlab(&[
        "compare",
        &file,
        "--quiet",
        "--format",
        "json",
        "--threads",
        "1",
    ]);
    assert!(whole.status.success(), "{}", whole.stderr);
    let two = chanlab(&[
        "compare",
        &file,
        "--quiet",
        "--format",
        "json",
        "--threads",
        "2",
    ]);
    assert_eq!(whole.stdout, two.stdout, "identical on 1 and 2 threads");
    let mut parts = Vec::new();
    for k in ["1/3", "2/3", "3/3"] {
        let out = dir.write(&format!("part{}.json", &k[..1]), "");
        let run = chanlab(&["compare", &file, "--quiet", "--shard", k, "--out", &out]);
        assert!(run.status.success(), "{}", run.stderr);
        parts.push(out);
    }
    let mut args = vec!["merge", "--format", "json"];
    args.extend(parts.iter().map(String::as_str));
    let merged = chanlab(&args);
    assert!(merged.status.success(), "{}", merged.stderr);
    assert_eq!(merged.stdout, whole.stdout);
    // A sweep part and a plain run part do not mix.
    let plain = dir.write("plain.json", "");
    let run = chanlab(&[
        "run",
        "dual-authority",
        "--replications",
        "4",
        "--quiet",
        "--shard",
        "1/2",
        "--out",
        &plain,
    ]);
    assert!(run.status.success(), "{}", run.stderr);
    let mixed = chanlab(&["merge", &parts[0], &plain]);
    assert_eq!(mixed.status.code(), Some(1));
    assert!(
        mixed.stderr.contains("plain.json is part of a run")
            && mixed.stderr.contains("of a sweep")
            && mixed.stderr.contains("merge the shards of one run, sweep"),
        "{}",
        mixed.stderr
    );
}

#[test]
fn a_sweep_chart_is_a_band_chart_for_one_axis_and_a_heat_map_for_two() {
    let dir = Scratch::new("sweep-chart");
    for (sweep, mark) in [(ONE_AXIS, "<polygon"), (TWO_AXES, "<rect x=")] {
        let file = scenario(&dir, sweep);
        let svg = dir.write("chart.svg", "");
        let run = chanlab(&[
            "compare",
            &file,
            "--quiet",
            "--chart",
            &svg,
            "--kpi",
            "sell_through",
        ]);
        assert!(run.status.success(), "{}", run.stderr);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<?xml") && text.contains(mark), "{text}");
        assert!(
            text.contains("Sell-through revenue"),
            "the chosen KPI is drawn"
        );
    }
    let file = scenario(&dir, ONE_AXIS);
    let run = chanlab(&["compare", &file, "--quiet", "--kpi", "sell_thru"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        run.stderr.contains("--kpi") && run.stderr.contains("sell_through"),
        "{}",
        run.stderr
    );
}

#[test]
fn run_on_a_sweep_names_the_command_that_runs_it() {
    let dir = Scratch::new("sweep-run");
    let file = scenario(&dir, ONE_AXIS);
    let run = chanlab(&["run", &file, "--quiet"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("chanlab compare"), "{}", run.stderr);
}

#[test]
fn a_bad_sweep_axis_names_the_field_and_the_fix() {
    let dir = Scratch::new("sweep-bad");
    let file = scenario(&dir, &ONE_AXIS.replace("uplift", "uplfit"));
    let run = chanlab(&["compare", &file, "--quiet"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("sweep[0].path"), "{}", run.stderr);
    assert!(run.stderr.contains("fix:"), "{}", run.stderr);
    let file = scenario(&dir, &ONE_AXIS.replace("0.1, 0.3, 0.5", "0.1, -2"));
    let run = chanlab(&["compare", &file, "--quiet"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(run.stderr.contains("sweep[0].values"), "{}", run.stderr);
}
