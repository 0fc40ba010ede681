//! `chanlab optimise`: search a spec's fields for the best values, confirm the winner, write
//! it as a spec file.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use chanlab_sim::engine::Shard;
use chanlab_sim::explore::ExploreError;
use chanlab_sim::explore::optimise::{
    self, Constraint, OptimisePart, OptimiseReport, OptimiseState, Problem, Settings, Stage, Vary,
};
use chanlab_sim::model::Kpi;
use chanlab_sim::scenario::Scenario;

use super::Outcome;
use super::merge::{Part, decode_all, refuse};
use super::simulate::{load, progress_bar, write_file};
use super::table;
use crate::cli::{MergeArgs, OutputFormat, ReportFormat};

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
    /// Write the best spec to FILE as TOML, ready for `chanlab spec check`; with --shard,
    /// the shard's part (JSON) for `chanlab merge`.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Output format of the report (a shard's part is always JSON) [default: text].
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    quiet: bool,
    /// Run only part K of N of the search's next stage (a rung, or the confirmation) and
    /// write it to --out for `chanlab merge`, which ranks the stage into a state to go on
    /// from with --state (sim/MODEL.md §13.4). Give every stage the same scenario and flags.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Go on from a search state `chanlab merge` wrote: with --shard, run part of its next
    /// stage; without, finish the search here (a complete state only prints the report and
    /// writes the spec).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

pub(crate) fn run(args: OptimiseArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if args.shard.is_some() && args.format.is_some_and(|f| f != OutputFormat::Json) {
        return refuse(
            "--shard writes a part that only JSON can carry to `chanlab merge`",
            "drop --format, or use --format json",
        );
    }
    let scenario = match load(&args.scenario)? {
        Ok(s) => s,
        Err(report) => {
            writeln!(io::stderr().lock(), "{report}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let scenario = scenario.with_overrides(None, args.seed)?;
    let prepared = match optimise::prepare(&scenario, &problem(&args, &scenario)) {
        Ok(p) => p,
        Err(e) => return refuse_flag(&e),
    };
    let state = match &args.state {
        None => prepared.start(),
        Some(path) => match read_state(path)? {
            Ok(state) => state,
            Err(refused) => return refused,
        },
    };
    if let Err(e) = prepared.check(&state) {
        return refuse_flag(&e);
    }
    let ticks = match args.shard {
        Some(shard) => prepared.shard_ticks(&state, shard),
        None => prepared.ticks_from(&state),
    };
    let bar = progress_bar(ticks, args.quiet);
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
        ControlFlow::Continue(())
    };
    if let Some(shard) = args.shard {
        let part = match prepared.run_shard(&state, shard, &tick) {
            Ok(part) => part,
            Err(e) => return refuse_flag(&e),
        };
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let mut text = serde_json::to_string(&part)?;
        text.push('\n');
        match &args.out {
            Some(path) => write_file(path, text.as_bytes())?,
            None => out.write_all(text.as_bytes())?,
        }
        return Ok(Outcome::Success);
    }
    let report = prepared.finish(state, &tick).map_err(anyhow::Error::msg)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match args.format.unwrap_or(OutputFormat::Text) {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        OutputFormat::Text => out.write_all(super::term::fit(&text(&report)).as_bytes())?,
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

/// The problem the flags describe.
fn problem(args: &OptimiseArgs, scenario: &Scenario) -> Problem {
    let mut settings = Settings::new(u64::from(scenario.file().replications));
    settings.candidates = args.candidates as usize;
    settings.replications = u64::from(args.replications);
    settings.threads = usize::from(args.threads);
    if let Some(c) = args.confirm {
        settings.confirm = u64::from(c);
    }
    Problem {
        spec: args.spec.clone(),
        vary: args.vary.clone(),
        objective: args.objective,
        constraints: args.constraint.clone(),
        settings,
    }
}

/// An error of the search's input, naming the flag, with its fix (or: change the flag).
fn refuse_flag(e: &ExploreError) -> anyhow::Result<Outcome> {
    let field = e.field.as_str();
    let fix = e
        .fix
        .clone()
        .unwrap_or_else(|| format!("change {field} (`chanlab spec show` prints a spec's fields)"));
    refuse(&format!("{field}: {}", e.message), &fix)
}

/// The search state at `path`, or a refusal naming the file and the fix.
fn read_state(path: &Path) -> anyhow::Result<Result<OptimiseState, anyhow::Result<Outcome>>> {
    let text = super::read_input(path).context("--state")?;
    Ok(serde_json::from_str(&text).map_err(|e| {
        refuse(
            &format!(
                "--state {}: not a chanlab search state ({e})",
                path.display()
            ),
            "pass the file `chanlab merge` wrote from the parts of `chanlab optimise --shard K/N`",
        )
    }))
}

/// `chanlab merge` of one stage's parts: ranks the stage and writes the state after it.
pub(crate) fn merge(
    parts: Vec<Part>,
    args: &MergeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.output;
    if o.format.is_some_and(|f| f != ReportFormat::Json) || o.chart.is_some() || o.kpi.is_some() {
        return refuse(
            "a policy search's stages merge into a state (JSON) to go on from",
            "drop --format, --chart and --kpi; the report comes from `chanlab optimise ... \
             --state FILE` once the search is complete",
        );
    }
    let read = match decode_all::<OptimisePart>(parts, Some("optimise-part")) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let state = match OptimiseState::merge(read) {
        Ok(state) => state,
        Err(e) => {
            return refuse(
                &e.message,
                e.fix
                    .as_deref()
                    .unwrap_or("pass every shard of one stage, written from the same --state"),
            );
        }
    };
    let mut text = serde_json::to_string(&state)?;
    text.push('\n');
    match &o.out {
        Some(path) => write_file(path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    let file = o
        .out
        .as_ref()
        .map_or("STATE".to_owned(), |p| p.display().to_string());
    let next = match state.stage() {
        Stage::Rung {
            index,
            of,
            candidates,
            replications: (a, b),
        } => format!(
            "rung {index} of {of} is next ({candidates} candidates on replications {a}..{b}): \
             `chanlab optimise ... --state {file} --shard K/N`, or without --shard to finish here"
        ),
        Stage::Confirm((a, b)) => format!(
            "the search has its winner; its confirmation on replications {a}..{b} is next: \
             `chanlab optimise ... --state {file} --shard K/N`"
        ),
        Stage::Complete => format!(
            "the search is complete: `chanlab optimise ... --state {file} --out BEST.toml` \
             prints the report and writes the best spec"
        ),
    };
    writeln!(io::stderr().lock(), "note: {next}")?;
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
