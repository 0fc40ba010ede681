//! `chanlab sensitivity`: which behaviour parameters move each spec's difference from the
//! baseline, and in what share of plausible worlds each spec stays best (sim/MODEL.md
//! §13.3). Its shards merge with `chanlab merge`, which hands sensitivity parts here.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};

use chanlab_sim::engine::{RunOptions, Shard};
use chanlab_sim::explore::sensitivity::{
    self, DEFAULT_REPLICATIONS, DEFAULT_SAMPLES, ParameterChoice, SensitivityOptions,
    SensitivityResult,
};
use chanlab_sim::explore::sensitivity_chart::tornado_svg;
use chanlab_sim::model::{Kpi, Unit};

use super::Outcome;
use super::merge::{Part, decode_all};
use super::simulate::{load, progress_bar, write_file};
use super::table::fmt_value;
use crate::cli::{MergeArgs, OutputArgs, ReportFormat};

/// The KPIs the text report shows when `--kpi` is not given (JSON and CSV have all).
const TEXT_KPIS: [Kpi; 6] = [
    Kpi::SellThrough,
    Kpi::MarginAfterIncentives,
    Kpi::RepsAtGoal,
    Kpi::PartnersActiveAtEnd,
    Kpi::RepAttrition,
    Kpi::PeriodEndSpike,
];

/// Which behaviour parameters move the decision, over their plausible ranges.
#[derive(Debug, clap::Args)]
pub(crate) struct SensitivityArgs {
    /// A scenario file or the name of a bundled scenario (`chanlab scenario list`).
    pub(crate) scenario: String,
    /// `all` (every parameter the scenario does not draw from a calibration), or a comma
    /// list of names as in `chanlab scenario init` (`commitment_midpoint,own_touches.B`).
    #[arg(long, value_name = "all|LIST", default_value = "all")]
    pub(crate) parameters: String,
    /// Morris trajectories r; the study simulates r × (parameters + 1) parameter sets.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SAMPLES)]
    pub(crate) samples: u32,
    /// Replications per parameter set [default: the scenario's, at most 64].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(chanlab_sim::scenario::MAX_REPLICATIONS)))]
    pub(crate) replications: Option<u32>,
    /// Seed, overriding the scenario's (it also seeds the design).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads; 0 uses every core. Results are identical for any number.
    #[arg(long, default_value_t = 0, env = "CHANLAB_THREADS",
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub(crate) threads: u16,
    /// Run only part K of N of the replications at every point and write a partial result
    /// to merge later with `chanlab merge`; implies `--format json`.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<Shard>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

fn fail(message: &str) -> anyhow::Result<Outcome> {
    writeln!(io::stderr().lock(), "error: {message}")?;
    Ok(Outcome::InvalidInput)
}

pub(crate) fn run(args: SensitivityArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if args.shard.is_some()
        && matches!(
            args.output.format,
            Some(ReportFormat::Text | ReportFormat::Csv)
        )
    {
        return fail(
            "--shard writes a partial result that only JSON can carry to `chanlab merge`\n  \
             fix: drop --format, or use --format json",
        );
    }
    let kpi = args.output.kpi;
    let scenario = match load(&args.scenario)? {
        Ok(s) => s,
        Err(report) => {
            writeln!(io::stderr().lock(), "{report}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let replications = args
        .replications
        .unwrap_or_else(|| scenario.file().replications.min(DEFAULT_REPLICATIONS));
    let scenario = match scenario.with_overrides(Some(replications), args.seed) {
        Ok(s) => s,
        Err(e) => return fail(&format!("--replications: {}", e.message())),
    };
    let parameters = match args.parameters.trim() {
        "all" => ParameterChoice::All,
        list => ParameterChoice::List(list.split(',').map(str::to_owned).collect()),
    };
    let options = SensitivityOptions {
        parameters,
        samples: args.samples,
        ..SensitivityOptions::default()
    };
    let run = RunOptions {
        threads: usize::from(args.threads),
        shard: args.shard,
    };
    let todo = match sensitivity::simulations(&scenario, &options, &run) {
        Ok(n) => n,
        Err(e) => return fail(&e.to_string()),
    };
    let bar = progress_bar(todo, args.output.quiet);
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
        ControlFlow::Continue(())
    };
    let result = match sensitivity::run_sensitivity(&scenario, &options, &run, &tick) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let format = args.output.format.unwrap_or(if args.shard.is_some() {
        ReportFormat::Json
    } else {
        ReportFormat::Text
    });
    write_result(&result, kpi, format, &args.output, out)?;
    Ok(Outcome::Success)
}

/// `chanlab merge` of sensitivity shards.
pub(crate) fn merge(
    parts: Vec<Part>,
    args: &MergeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let read = match decode_all::<SensitivityResult>(parts, Some("sensitivity")) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let parts = read;
    let merged = match SensitivityResult::merge(parts) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string()),
    };
    if !merged.is_complete() {
        writeln!(
            io::stderr().lock(),
            "note: the parts cover {} of {} replications per point; the result is partial",
            merged.replications_done(),
            merged.scenario.replications
        )?;
    }
    let format = args.output.format.unwrap_or(ReportFormat::Text);
    write_result(&merged, None, format, &args.output, out)?;
    Ok(Outcome::Success)
}

fn write_result(
    result: &SensitivityResult,
    kpi: Option<Kpi>,
    format: ReportFormat,
    output: &OutputArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let document = result.document();
    let text = match format {
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&document)?;
            text.push('\n');
            text
        }
        ReportFormat::Csv => csv(&document.report),
        ReportFormat::Text => super::term::fit(&text_report(result, &document.report, kpi)),
    };
    // Render everything before writing anything, so a failure leaves no partial set.
    if let Some(path) = &output.chart {
        let svg = tornado_svg(
            &document.report,
            kpi.unwrap_or(Kpi::MarginAfterIncentives),
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

fn text_report(
    result: &SensitivityResult,
    report: &sensitivity::SensitivityReport,
    only: Option<Kpi>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Sensitivity of the decision: {}",
        result.scenario.name.as_str()
    );
    let _ = writeln!(
        s,
        "{} parameters over their plausible ranges (sim/MODEL.md §7.1, §13.3): {} trajectories, \
         {} parameter sets, {} replications each; paired against {}.",
        result.parameters.len(),
        result.trajectories.len(),
        report.points,
        report.replications_per_point,
        result.specs[result.baseline]
    );
    if report.trajectories_redrawn > 0 {
        let _ = writeln!(
            s,
            "{} trajectories were redrawn because a point broke a cross-field rule.",
            report.trajectories_redrawn
        );
    }
    for skipped in &result.skipped {
        let _ = writeln!(s, "Not varied: {}: {}.", skipped.name, skipped.reason);
    }
    let kpis: Vec<Kpi> = only.map_or_else(|| TEXT_KPIS.to_vec(), |k| vec![k]);
    let top = if only.is_some() { 15 } else { 5 };
    let _ = writeln!(
        s,
        "\nShare of plausible parameter sets in which each spec is best:"
    );
    let mut rows = vec![
        std::iter::once(String::new())
            .chain(result.specs.iter().cloned())
            .collect::<Vec<_>>(),
    ];
    for best in report.best.iter().filter(|b| kpis.contains(&b.kpi)) {
        let mut row = vec![best.kpi.label().to_owned()];
        row.extend(
            best.shares
                .iter()
                .map(|(_, x)| format!("{:.0}%", x * 100.0)),
        );
        rows.push(row);
    }
    s.push_str(&layout(&rows));
    for c in report.comparisons.iter().filter(|c| kpis.contains(&c.kpi)) {
        let _ = writeln!(
            s,
            "\n{}: {} − {} (mean over the sets {})",
            c.kpi.label(),
            c.spec,
            c.baseline,
            signed(c.kpi, c.mean_difference)
        );
        if let Some(r) = &c.robustness {
            let _ = writeln!(s, "  {}", r.sentence);
        }
        let mut rows = vec![
            ["parameter", "μ*", "μ", "σ", "noise floor", ""]
                .map(str::to_owned)
                .to_vec(),
        ];
        for e in c.effects.iter().take(top) {
            rows.push(vec![
                e.parameter.clone(),
                unsigned(c.kpi, Some(e.mu_star)),
                signed(c.kpi, Some(e.mu)),
                unsigned(c.kpi, e.sigma),
                unsigned(c.kpi, e.noise_floor),
                match e.above_noise {
                    _ if e.mu_star == 0.0 => "no effect".to_owned(),
                    Some(false) => "within noise".to_owned(),
                    _ => String::new(),
                },
            ]);
        }
        for line in layout(&rows).lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    let _ = writeln!(
        s,
        "\nμ*: mean absolute change of the difference when the parameter moves across its whole \
         plausible range; μ: the same with sign; σ: spread of the changes (interactions, \
         non-linearity). Below the noise floor an effect cannot be told from Monte Carlo noise."
    );
    s
}

/// A change of a KPI with its sign (`fmt_value` shows levels, which are never negative):
/// money compact, shares in percentage points, counts with one decimal.
fn signed(kpi: Kpi, v: Option<f64>) -> String {
    let Some(x) = v else {
        return "n/a".to_owned();
    };
    let sign = if x > 0.0 { "+" } else { "" };
    format!("{sign}{}", amount(kpi, x))
}

/// The size of a change (μ*, σ, a noise floor), in the units of [`signed`].
fn unsigned(kpi: Kpi, v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |x| amount(kpi, x))
}

fn amount(kpi: Kpi, x: f64) -> String {
    match kpi.unit() {
        Unit::Money => fmt_value(kpi, Some(x)),
        Unit::Share => format!("{:.1}pp", 100.0 * x),
        Unit::Count => format!("{x:.1}"),
        Unit::Ratio => format!("{x:.3}"),
    }
}

/// Columns left-aligned, two spaces apart.
fn layout(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One row per compared spec, KPI and parameter, with the comparison's robustness share.
fn csv(report: &sensitivity::SensitivityReport) -> String {
    let mut s = String::from(
        "spec,baseline,kpi,parameter,rank,mu_star,mu,sigma,noise_floor,above_noise,share_better\n",
    );
    let opt = |v: Option<f64>| v.map_or_else(String::new, |x| x.to_string());
    for c in &report.comparisons {
        let share = opt(c.robustness.as_ref().map(|r| r.share_better));
        for (rank, e) in c.effects.iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{},{share}",
                csv_field(&c.spec),
                csv_field(&c.baseline),
                c.kpi.name(),
                e.parameter,
                rank + 1,
                e.mu_star,
                e.mu,
                opt(e.sigma),
                opt(e.noise_floor),
                e.above_noise.map_or_else(String::new, |b| b.to_string()),
            );
        }
    }
    s
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
