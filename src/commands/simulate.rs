//! `chanlab run`, `compare` and `merge`: load a scenario, run the engine, write the result.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use chanlab_sim::engine::{self, RunOptions, RunResult};
use chanlab_sim::explore::sweep::SweepResult;
use chanlab_sim::files::{FileError, Format};
use chanlab_sim::scenario::{self, Scenario};
use chanlab_sim::{bundled, chart};
use indicatif::{ProgressBar, ProgressStyle};

use super::Outcome;
use super::merge::{Part, decode_all};
use super::table;
use crate::cli::{MergeArgs, OutputArgs, ReportFormat, SimulateArgs};

/// Which table a text report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// Each spec's distribution on its own.
    Each,
    /// Specs side by side with paired differences from the baseline.
    Compare,
}

pub(crate) fn run(args: SimulateArgs, view: View, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let shard = args.shard;
    if shard.is_some()
        && matches!(
            args.output.format,
            Some(ReportFormat::Text | ReportFormat::Csv)
        )
    {
        writeln!(
            io::stderr().lock(),
            "error: --shard writes a partial result that only JSON can carry to `chanlab merge`\n  fix: drop --format, or use --format json"
        )?;
        return Ok(Outcome::InvalidInput);
    }
    let scenario = match load(&args.scenario)? {
        Ok(s) => s,
        Err(report) => {
            writeln!(io::stderr().lock(), "{report}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let scenario = match scenario.with_overrides(args.replications, args.seed) {
        Ok(s) => s,
        Err(e) => {
            writeln!(
                io::stderr().lock(),
                "error: --replications: {}",
                e.message()
            )?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if !scenario.file().sweep.is_empty() {
        if view == View::Each {
            writeln!(
                io::stderr().lock(),
                "error: {0}: sweep: the scenario sweeps {1} axis(es), and `chanlab run` runs a scenario once\n  fix: run the sweep with `chanlab compare {0}`, or remove the [[sweep]] tables to run it once",
                args.scenario,
                scenario.file().sweep.len()
            )?;
            return Ok(Outcome::InvalidInput);
        }
        return super::sweep::run(&args, &scenario, out);
    }
    let total = u64::from(scenario.file().replications);
    let todo = shard.map_or(total, |s| {
        let (a, b) = s.range(total);
        b - a
    });
    let bar = progress_bar(todo, args.output.quiet);
    let done = AtomicU64::new(0);
    let tick = || {
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
    };
    let options = RunOptions {
        threads: usize::from(args.threads),
        shard,
    };
    let result = engine::run(&scenario, &options, &tick)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let format = args.output.format.unwrap_or(if shard.is_some() {
        ReportFormat::Json
    } else {
        ReportFormat::Text
    });
    write_result(&result, view, format, &args.output, out)?;
    Ok(Outcome::Success)
}

/// `chanlab merge` of a plain run's shards ([`super::merge`] read them).
pub(crate) fn merge(
    parts: Vec<Part>,
    args: &MergeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let read = match decode_all::<RunResult>(parts, None) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let parts = read;
    let merged = match RunResult::merge(parts) {
        Ok(m) => m,
        Err(e) => {
            writeln!(io::stderr().lock(), "error: {e}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if !merged.is_complete() {
        writeln!(
            io::stderr().lock(),
            "note: the parts cover {} of {} replications; the result is partial",
            merged.replications_done(),
            merged.scenario.replications
        )?;
    }
    let format = args.output.format.unwrap_or(ReportFormat::Text);
    write_result(&merged, View::Compare, format, &args.output, out)?;
    Ok(Outcome::Success)
}

fn write_result(
    result: &RunResult,
    view: View,
    format: ReportFormat,
    output: &OutputArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let report = result.report();
    let text = match format {
        ReportFormat::Json => {
            // The same document `GET /runs/{id}` answers (`RunResult::document`).
            let mut text = serde_json::to_string_pretty(&engine::ResultDocument {
                result,
                report: report.clone(),
            })?;
            text.push('\n');
            text
        }
        ReportFormat::Csv => table::csv(&report),
        ReportFormat::Text => match view {
            View::Each => table::each(result, &report),
            View::Compare => table::compare(result, &report),
        },
    };
    // Render everything before writing anything, so a failure leaves no partial set.
    let svg = output
        .chart
        .as_ref()
        .map(|_| chart::comparison_svg(&report, &chart::ChartContext::of(&result.scenario)));
    if let (Some(path), Some(svg)) = (&output.chart, &svg) {
        write_file(path, svg.as_bytes())?;
    }
    match &output.out {
        Some(path) => write_file(path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    let dropped: u64 = report
        .specs
        .iter()
        .flat_map(|s| &s.kpis)
        .map(|k| k.summary.non_finite)
        .sum();
    if dropped > 0 {
        writeln!(
            io::stderr().lock(),
            "warning: {dropped} KPI values were not finite and were left out of the statistics; please report this with the scenario"
        )?;
    }
    Ok(())
}

/// `chanlab merge` of a sweep's shards.
pub(crate) fn merge_sweeps(
    parts: Vec<Part>,
    args: &MergeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let read = match decode_all::<SweepResult>(parts, Some("sweep")) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let merged = match SweepResult::merge(read) {
        Ok(m) => m,
        Err(e) => {
            writeln!(io::stderr().lock(), "error: {e}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if !merged.is_complete() {
        writeln!(
            io::stderr().lock(),
            "note: the parts cover {} of {} replications at every point; the result is partial",
            merged.replications_done(),
            merged.scenario.replications
        )?;
    }
    let format = args.output.format.unwrap_or(ReportFormat::Text);
    super::sweep::write(&merged, format, &args.output, out)?;
    Ok(Outcome::Success)
}

/// Writes through a temporary file beside `path` and a rename, so a failed write never
/// leaves half a file, and two runs writing to one folder never share a temporary file.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    // A file never gets colour, whatever --color says (text is rendered with escapes in).
    let stripped;
    let bytes = if bytes.contains(&0x1b) {
        stripped = anstream::adapter::strip_bytes(bytes).into_vec();
        &stripped[..]
    } else {
        bytes
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.partial", std::process::id()));
    let written = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// A scenario from a path, or a bundled one by name. `Ok(Err(report))` is bad input,
/// already worded for the user.
pub(super) fn load(arg: &str) -> anyhow::Result<Result<Scenario, String>> {
    let path = PathBuf::from(arg);
    // `-` is standard input; its spec files are found from the current directory.
    if super::is_stdin(&path) || path.exists() {
        let text = super::read_input(&path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |spec: &str| -> Result<String, String> {
            let spec_path = dir.join(spec);
            fs::read_to_string(&spec_path)
                .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))
        };
        return Ok(
            scenario::parse(&text, super::input_format(&path, &text), &resolve)
                .map_err(|e| report(arg, &e)),
        );
    }
    if let Some(bundled) = bundled::find_scenario(arg) {
        let no_files = |p: &str| Err(format!("bundled scenarios cannot refer to {p}"));
        return Ok(
            scenario::parse(bundled.text, Format::Toml, &no_files).map_err(|e| report(arg, &e))
        );
    }
    if arg.ends_with(".toml") || arg.ends_with(".json") || arg.contains('/') {
        bail!("cannot read {arg}: no such file");
    }
    let known: Vec<&str> = bundled::scenarios().iter().map(|s| s.name).collect();
    Ok(Err(format!(
        "error: {arg:?} is neither a scenario file nor a bundled scenario\n  fix: give a path, or one of: {}",
        known.join(", ")
    )))
}

fn report(file: &str, e: &FileError) -> String {
    super::file_error_report(
        file,
        e,
        "`chanlab scenario init` prints a complete, commented scenario to compare with",
    )
}

pub(super) fn progress_bar(len: u64, quiet: bool) -> Option<ProgressBar> {
    if quiet || !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg}{pos}/{len} replications [{bar:30}] {eta} left",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}
