//! `chanlab optimise`: search a spec's fields for the best values, confirm the winner, write
//! it as a spec file.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chanlab_sim::explore::optimise::{self, Constraint, OptimiseReport, Problem, Settings, Vary};
use chanlab_sim::model::Kpi;

use super::Outcome;
use super::simulate::{load, progress_bar, write_file};
use super::table;
use crate::cli::OutputFormat;

/// What to search and how hard.
#[derive(Debug, clap::Args)]
pub(crate) struct OptimiseArgs {
    /// A scenario file or the name of a bundled scenario.
    scenario: String,
    /// The KPI to make best, by name; minimised when less is better (`rep_attrition`).
    #[arg(long, value_name = "KPI", default_value = "margin_after_incentives",
          value_parser = optimise::parse_kpi)]
    objective: Kpi,
    /// A bound the winner's mean must meet, e.g. "rep_attrition <= 20" (repeatable).
    #[arg(long, value_name = "KPI<=N|KPI>=N")]
    constraint: Vec<Constraint>,
    /// A spec field and its range, e.g. goal_setting.strategy.uplift=0.05..0.5 (repeatable;
    /// whole-number fields are rounded).
    #[arg(long, value_name = "FIELD=LOW..HIGH", required = true)]
    vary: Vec<Vary>,
    /// The spec to vary, by name; the first spec that is not the baseline when omitted.
    #[arg(long, value_name = "NAME")]
    spec: Option<String>,
    /// Candidates in the first rung (a Latin hypercube over the --vary box, plus the spec as
    /// written when it lies inside).
    #[arg(long, default_value_t = 27, value_parser = clap::value_parser!(u32).range(2..=500))]
    candidates: u32,
    /// Replications of the first rung; each later rung doubles them.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    replications: u32,
    /// Fresh replications to confirm the winner on; the scenario's replications by default.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    confirm: Option<u32>,
    /// Seed, overriding the scenario's (it seeds the candidates and every replication).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads; 0 uses every core. Results are identical for any number.
    #[arg(long, default_value_t = 0, env = "CHANLAB_THREADS",
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    threads: u16,
    /// Write the best spec to FILE as TOML, ready for `chanlab spec check`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    quiet: bool,
    /// Not supported: the search is adaptive (see sim/MODEL.md §13.4).
    #[arg(long, value_name = "K/N", hide = true, value_parser = refuse_shard)]
    shard: Option<String>,
}

/// A usage error for `--shard`, which clap reports (exit 2) naming the flag.
fn refuse_shard(_: &str) -> Result<String, String> {
    Err(
        "a policy search is adaptive (each rung keeps the best third of the last), so its \
         replications cannot be split ahead of time; drop --shard and use --threads to use \
         every core of one machine"
            .to_owned(),
    )
}

pub(crate) fn run(args: OptimiseArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    debug_assert!(args.shard.is_none(), "refused by the parser");
    let scenario = match load(&args.scenario)? {
        Ok(s) => s,
        Err(report) => {
            writeln!(io::stderr().lock(), "{report}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let scenario = scenario.with_overrides(None, args.seed)?;
    let mut settings = Settings::new(u64::from(scenario.file().replications));
    settings.candidates = args.candidates as usize;
    settings.replications = u64::from(args.replications);
    settings.threads = usize::from(args.threads);
    if let Some(c) = args.confirm {
        settings.confirm = u64::from(c);
    }
    let problem = Problem {
        spec: args.spec.clone(),
        vary: args.vary.clone(),
        objective: args.objective,
        constraints: args.constraint.clone(),
        settings,
    };
    let prepared = match optimise::prepare(&scenario, &problem) {
        Ok(p) => p,
        Err(e) => {
            writeln!(
                io::stderr().lock(),
                "error: {}: {}\n  fix: change {} (`chanlab spec show` prints a spec's fields)",
                e.field,
                e.message,
                e.field
            )?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let bar = progress_bar(prepared.ticks(), args.quiet);
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
        ControlFlow::Continue(())
    };
    let report = prepared.run(&tick).map_err(anyhow::Error::msg)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match args.format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => out.write_all(text(&report).as_bytes())?,
    }
    if !report.feasible {
        writeln!(
            io::stderr().lock(),
            "error: no candidate met every constraint; bound by: {}\n  fix: loosen that bound or widen the --vary ranges{}",
            report.binding.join("; "),
            if args.out.is_some() {
                " (no spec was written)"
            } else {
                ""
            }
        )?;
        return Ok(Outcome::ChecksFailed);
    }
    if let Some(path) = &args.out {
        let mut spec = toml::to_string(&report.best_spec)?;
        spec.insert_str(
            0,
            &format!(
                "# Found by `chanlab optimise {}` (objective {}); check with `chanlab spec check`.\n",
                args.scenario,
                args.objective.name()
            ),
        );
        write_file(path, spec.as_bytes())?;
    }
    Ok(Outcome::Success)
}

fn text(r: &OptimiseReport) -> String {
    let c = &r.confirmation;
    let kpi = r.objective;
    let direction = if r.maximise { "more" } else { "less" };
    let mut out = format!(
        "Policy search on {:?} · objective {} ({direction} is better) · baseline {:?}\n",
        r.spec,
        kpi.name(),
        r.baseline
    );
    let rungs: Vec<String> = r
        .search
        .rungs
        .iter()
        .map(|g| format!("{} on {}", g.ranked.len(), g.replications.1))
        .collect();
    let _ = writeln!(
        out,
        "Successive halving over {} candidates (candidates on replications): {}",
        r.candidates.len(),
        rungs.join(", ")
    );
    let _ = writeln!(
        out,
        "\nBest values{}:",
        if r.feasible { "" } else { " (NOT feasible)" }
    );
    for (v, x) in r.vary.iter().zip(&r.best) {
        // Six significant digits: the spec file keeps the exact value.
        let shown: f64 = format!("{x:.5e}").parse().unwrap_or(*x);
        let _ = writeln!(
            out,
            "  {} = {shown}   (searched {}..{})",
            v.path, v.low, v.high
        );
    }
    let _ = writeln!(
        out,
        "\nConfirmed on {} fresh replications ({}..{}), never used by the search:",
        c.replications.1 - c.replications.0,
        c.replications.0,
        c.replications.1
    );
    let _ = writeln!(
        out,
        "  {}: {} vs {} for the baseline: {}, better in {:.0}% of replications",
        kpi.label(),
        table::fmt_value(kpi, c.objective.mean),
        table::fmt_value(kpi, c.baseline.mean),
        table::fmt_diff(kpi, &c.difference, c.baseline.mean),
        100.0 * c.probability_better
    );
    for k in &c.constraints {
        let num = |v: Option<f64>| v.map_or("n/a".to_owned(), |x| format!("{x:.3}"));
        let _ = writeln!(
            out,
            "  {}: mean {} [{}, {}], margin {} [{}, {}] {}",
            k.constraint,
            num(k.value.mean),
            num(k.value.ci95_low),
            num(k.value.ci95_high),
            num(k.margin),
            num(k.margin_low),
            num(k.margin_high),
            if k.met { "met" } else { "NOT met" }
        );
    }
    out.push_str(
        "\nDifferences are paired (same channel and shocks): mean and 95% interval, as % of the baseline for money\n\
         and counts. Margins are how far the mean is inside each bound, with its 95% interval.\n",
    );
    out
}
