//! `chanlab validate`: run the validation experiments and print one row per finding.

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use chanlab_sim::validate::{
    self, CheckReport, Display, Expect, Experiment, ExperimentReport, RunOptions, ValidateError,
};
use serde::Serialize;

use super::simulate::{progress_bar, write_file};
use super::{Outcome, term};
use crate::cli::OutputFormat;

/// Which experiments to run and how to report them.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Replications per arm for every experiment, overriding each experiment's own.
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    replications: Option<u32>,
    /// Seed for every experiment, overriding each scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Run only the experiment with this id (repeat for several).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// Also run an experiment of your own from this TOML file, `-` for standard input
    /// (repeatable; format in sim/MODEL.md §10.2; `--show ID` prints a bundled one to start
    /// from).
    #[arg(long, value_name = "FILE")]
    experiment: Vec<PathBuf>,
    /// List the experiments and exit.
    #[arg(long)]
    list: bool,
    /// Print the bundled experiment ID's TOML file and exit.
    #[arg(long, value_name = "ID", conflicts_with_all = ["list", "only", "experiment"])]
    show: Option<String>,
    #[command(flatten)]
    format: crate::cli::FormatArg,
    /// Write one SVG chart per experiment into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    chart: Option<PathBuf>,
    /// Worker threads; 0 uses every core. Results are identical for any number.
    #[arg(long, default_value_t = 0, env = "CHANLAB_THREADS",
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    threads: u16,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    quiet: bool,
}

#[derive(Serialize)]
struct Document<'a> {
    chanlab_version: &'static str,
    passed: bool,
    experiments: &'a [ExperimentReport],
}

pub(crate) fn run(args: ValidateArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    if let Some(id) = &args.show {
        return match validate::bundled_text(id) {
            Some(text) => {
                out.write_all(text.as_bytes())?;
                Ok(Outcome::Success)
            }
            None => {
                let known: Vec<String> =
                    validate::bundled().into_iter().map(|e| e.file.id).collect();
                writeln!(
                    io::stderr().lock(),
                    "error: --show: no bundled experiment is called {id:?}\n  fix: use one of: {}",
                    known.join(", ")
                )?;
                Ok(Outcome::InvalidInput)
            }
        };
    }
    let mut experiments = validate::bundled();
    for path in &args.experiment {
        let text = super::read_input(path)?;
        match validate::load(&text) {
            Ok(e) => experiments.push(e),
            Err(e) => {
                writeln!(
                    io::stderr().lock(),
                    "{}",
                    error_report(&path.display().to_string(), &e)
                )?;
                return Ok(Outcome::InvalidInput);
            }
        }
    }
    if !args.only.is_empty() {
        let unknown: Vec<&String> = args
            .only
            .iter()
            .filter(|id| !experiments.iter().any(|e| &e.file.id == *id))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = experiments.iter().map(|e| e.file.id.as_str()).collect();
            writeln!(
                io::stderr().lock(),
                "error: --only: no experiment is called {}\n  fix: use one of: {}",
                unknown
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                known.join(", ")
            )?;
            return Ok(Outcome::InvalidInput);
        }
        experiments.retain(|e| args.only.contains(&e.file.id));
    }
    if args.list {
        match args.format.format {
            OutputFormat::Text => {
                for e in &experiments {
                    writeln!(out, "{:<20}{}", e.file.id, e.file.title)?;
                }
            }
            OutputFormat::Json => {
                let list: Vec<_> = experiments
                    .iter()
                    .map(|e| serde_json::json!({"id": e.file.id, "title": e.file.title}))
                    .collect();
                serde_json::to_writer_pretty(&mut *out, &list)?;
                writeln!(out)?;
            }
        }
        return Ok(Outcome::Success);
    }
    let options = RunOptions {
        replications: args.replications,
        seed: args.seed,
        threads: usize::from(args.threads),
    };
    let total: u64 = experiments
        .iter()
        .map(|e| u64::from(options.replications.unwrap_or(e.file.replications)))
        .sum();
    let bar = progress_bar(total, args.quiet);
    let done = AtomicU64::new(0);
    let mut reports = Vec::with_capacity(experiments.len());
    for experiment in &experiments {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} ", experiment.file.id));
        }
        let tick = || {
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(bar) = &bar {
                bar.set_position(n);
            }
        };
        reports.push(validate::run(experiment, &options, &tick)?);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let passed = reports.iter().all(|r| r.passed);
    // Render everything before writing anything, so a failure leaves no partial set.
    let charts: Vec<(PathBuf, String)> = match &args.chart {
        Some(dir) => reports
            .iter()
            .zip(&experiments)
            .map(|(r, e)| {
                let currency = e.arms[0].scenario().file().currency.to_string();
                (
                    dir.join(format!("{}.svg", r.id)),
                    validate::experiment_svg(r, &currency),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    let text = match args.format.format {
        OutputFormat::Json => {
            let doc = Document {
                chanlab_version: env!("CARGO_PKG_VERSION"),
                passed,
                experiments: &reports,
            };
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        OutputFormat::Text => super::term::fit(&table(&reports, &experiments)),
    };
    if let Some(dir) = &args.chart {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (path, svg) in &charts {
            write_file(path, svg.as_bytes())?;
        }
    }
    out.write_all(text.as_bytes())
        .context("writing the validation table")?;
    Ok(if passed {
        Outcome::Success
    } else {
        Outcome::ChecksFailed
    })
}

fn error_report(file: &str, e: &ValidateError) -> String {
    match e {
        ValidateError::File(problem) => super::file_error_report(
            file,
            problem,
            "the bundled experiments in sim/validation/ show the format",
        ),
        other => format!(
            "error: {file}: {other}\n  fix: the bundled experiments in sim/validation/ show the format"
        ),
    }
}

fn expectation(expect: &Expect, unit: Display) -> String {
    match expect {
        Expect::Above(x) => format!("interval > {}", unit.format(*x)),
        Expect::Below(x) => format!("interval < {}", unit.format(*x)),
        Expect::Between([a, b]) => format!("mean in {} .. {}", unit.format(*a), unit.format(*b)),
        Expect::RisesThenFalls => "peak inside, beats both ends".into(),
    }
}

fn estimate(c: &CheckReport) -> String {
    if c.expect == Expect::RisesThenFalls {
        return c.detail.clone();
    }
    match (c.mean, c.ci95_low, c.ci95_high) {
        (Some(m), Some(lo), Some(hi)) => format!(
            "{}  [{}, {}]",
            c.unit.format(m),
            c.unit.format(lo),
            c.unit.format(hi)
        ),
        (Some(m), ..) => c.unit.format(m),
        _ => "n/a".into(),
    }
}

/// One block per finding: verdict, id and title; source and published effect; then one line
/// per check with the simulated estimate, its interval and what the check needs.
fn table(reports: &[ExperimentReport], experiments: &[Experiment]) -> String {
    let mut s = String::new();
    let passed = reports.iter().filter(|r| r.passed).count();
    for (r, e) in reports.iter().zip(experiments) {
        s.push_str(&format!(
            "{}  {:<20} {}\n",
            if r.passed {
                term::paint(term::GOOD, "PASS")
            } else {
                term::paint(term::BAD, "FAIL")
            },
            r.id,
            r.title
        ));
        s.push_str(&format!(
            "      published: {} ({})\n",
            r.published, r.source
        ));
        for c in &r.checks {
            s.push_str(&format!(
                "      {} {:<58} {:<34} needs {}\n",
                if c.passed {
                    term::paint(term::GOOD, "✓")
                } else {
                    term::paint(term::BAD, "✗")
                },
                c.label,
                estimate(c),
                expectation(&c.expect, c.unit)
            ));
            if !c.detail.is_empty() && c.expect != Expect::RisesThenFalls {
                s.push_str(&format!("        ({})\n", c.detail));
            }
        }
        s.push_str(&format!(
            "      {} replications per arm × {} arms, scenario {}, seed {}\n\n",
            r.replications,
            e.arms.len(),
            e.file.scenario,
            r.seed
        ));
    }
    s.push_str(&format!(
        "{passed} of {} findings reproduced.\n",
        reports.len()
    ));
    s
}
