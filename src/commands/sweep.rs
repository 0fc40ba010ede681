//! `chanlab compare` on a scenario with a `[[sweep]]`: run every point, print the surface.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};

use chanlab_sim::engine::RunOptions;
use chanlab_sim::explore::sweep::{Sweep, SweepReport, SweepResult};
use chanlab_sim::explore::sweep_chart;
use chanlab_sim::model::Kpi;
use chanlab_sim::scenario::Scenario;

use super::Outcome;
use super::simulate::{progress_bar, write_file};
use super::table;
use crate::cli::{OutputArgs, ReportFormat, SimulateArgs};

/// The KPIs a sweep's table shows (JSON and CSV carry every KPI).
const SHOWN: [Kpi; 4] = [
    Kpi::SellThrough,
    Kpi::MarginAfterIncentives,
    Kpi::RepsAtGoal,
    Kpi::RepAttrition,
];

/// Runs the sweep of `scenario` as `args` ask and writes its surface.
pub(crate) fn run(
    args: &SimulateArgs,
    scenario: &Scenario,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let plan = match Sweep::new(scenario) {
        Ok(plan) => plan,
        Err(e) => {
            writeln!(
                io::stderr().lock(),
                "error: {}: {}: {}\n  fix: change `{}` in {}",
                args.scenario,
                e.field,
                e.message,
                e.field,
                args.scenario
            )?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let options = RunOptions {
        threads: usize::from(args.threads),
        shard: args.shard,
    };
    let bar = progress_bar(plan.ticks(&options), args.output.quiet);
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
        ControlFlow::Continue(())
    };
    let result = plan.run(&options, &tick).map_err(anyhow::Error::msg)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let format = args.output.format.unwrap_or(if args.shard.is_some() {
        ReportFormat::Json
    } else {
        ReportFormat::Text
    });
    write(&result, format, &args.output, out)?;
    Ok(Outcome::Success)
}

/// Writes a sweep result (run or merged) in `format`, and its chart when asked.
pub(crate) fn write(
    result: &SweepResult,
    format: ReportFormat,
    output: &OutputArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let report = result.report();
    let text = match format {
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&result.document())?;
            text.push('\n');
            text
        }
        ReportFormat::Csv => csv(&report),
        ReportFormat::Text => super::term::fit(&text(result, &report)),
    };
    if let Some(path) = &output.chart {
        let svg = sweep_chart::sweep_svg(
            &report,
            output.kpi.unwrap_or(Kpi::MarginAfterIncentives),
            result.charted_spec(&report),
            result.scenario.name.as_str(),
            result.scenario.currency.code(),
        );
        write_file(path, svg.as_bytes())?;
    }
    match &output.out {
        Some(path) => write_file(path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}

/// Per spec compared with the baseline, one row per point: the headline KPIs' means and
/// paired differences with their 95% intervals.
fn text(result: &SweepResult, report: &SweepReport) -> String {
    let sc = &result.scenario;
    let partial = if result.is_complete() {
        ""
    } else {
        " (partial)"
    };
    let mut out = format!(
        "{}\nSweep of {} · {} points · {} replications{partial} at every point · seed {} · amounts in {}\n",
        sc.name,
        report.axes.join(" × "),
        report.points.len(),
        report.replications,
        sc.seed,
        sc.currency
    );
    let specs = report.points.first().map_or(0, |p| p.specs.len());
    for j in (0..specs).filter(|&j| !report.points[0].specs[j].baseline) {
        let _ = writeln!(
            out,
            "\n{} vs {} (baseline)",
            report.points[0].specs[j].name, report.baseline
        );
        let mut rows = vec![
            report
                .axes
                .iter()
                .cloned()
                .chain(SHOWN.iter().map(|k| k.label().to_owned()))
                .collect::<Vec<_>>(),
        ];
        for point in &report.points {
            let base = &point.specs.iter().find(|s| s.baseline);
            let mut row: Vec<String> = point.at.iter().map(|v| format!("{v}")).collect();
            for kpi in SHOWN {
                let f = &point.specs[j].kpis[kpi.index()];
                let base_mean = base.and_then(|b| b.kpis[kpi.index()].mean);
                let d = chanlab_sim::stats::SummaryReport {
                    n: report.replications,
                    non_finite: 0,
                    mean: f.difference,
                    std_error: None,
                    ci95_low: f.difference_low,
                    ci95_high: f.difference_high,
                    p5: None,
                    p50: None,
                    p95: None,
                    min: None,
                    max: None,
                };
                row.push(format!(
                    "{}  {}",
                    table::fmt_value(kpi, f.mean),
                    table::fmt_diff(kpi, &d, base_mean)
                ));
            }
            rows.push(row);
        }
        out.push_str(&table::layout(&rows));
    }
    out.push_str(
        "\nEach cell: the mean, then the paired difference from the baseline at the same point and its 95% interval\n\
         (as % of the baseline for money and counts, in points for shares). Every point runs on the same replications.\n",
    );
    out
}

/// One row per point × spec × KPI.
fn csv(report: &SweepReport) -> String {
    let mut out = String::new();
    for axis in &report.axes {
        out.push_str(&table::csv_field(axis));
        out.push(',');
    }
    out.push_str(
        "spec,baseline,kpi,unit,mean,ci95_low,ci95_high,diff_mean,diff_ci95_low,diff_ci95_high,probability_better\n",
    );
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    for point in &report.points {
        for spec in &point.specs {
            for k in &spec.kpis {
                for v in &point.at {
                    let _ = write!(out, "{v},");
                }
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    table::csv_field(&spec.name),
                    spec.baseline,
                    k.kpi.name(),
                    table::unit_name(k.kpi.unit()),
                    num(k.mean),
                    num(k.ci95_low),
                    num(k.ci95_high),
                    num(k.difference),
                    num(k.difference_low),
                    num(k.difference_high),
                    num(k.probability_better),
                );
            }
        }
    }
    out
}
