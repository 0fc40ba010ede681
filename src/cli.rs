//! Command-line arguments, as clap parses them. Each subcommand's arguments are turned into
//! the library's own types in `commands`, never passed further as raw strings.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// `chanlab --version`: the package version, the commit and the build date (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("CHANLAB_COMMIT"),
    " ",
    env!("CHANLAB_BUILD_DATE"),
    ")"
);

/// The exit codes, for `chanlab --help` (the README has the same list).
const EXIT_CODES: &str = "\
Exit status:
  0  success (also when standard output is closed early, e.g. by `| head`)
  1  invalid input (a file, a name or a value the command could not use) or another failure
  2  usage error: an unknown option, a missing or malformed argument, a value out of range
  3  a check ran and failed: a validation finding not reproduced (`validate`), a problem in
     the data directory (`verify`), no feasible candidate (`optimise`)

Colour: on a terminal; off under NO_COLOR (any non-empty value) or in a pipe; --color
always/never overrides both. Tables fit the terminal's width; --width N sets it.";

/// Keep a sales channel's records and try goal-setting strategies and process specs on a
/// simulated copy of it before rolling them out.
#[derive(Debug, Parser)]
#[command(name = "chanlab", version = VERSION, about, long_about = None,
          propagate_version = true, after_help = EXIT_CODES)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The whole command-line definition, for the completion scripts and the man page.
pub(crate) fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// Options every command takes: how text output looks on a terminal.
#[derive(Debug, clap::Args)]
pub(crate) struct GlobalArgs {
    /// Colour PASS/FAIL and significance marks: auto (on a terminal, unless NO_COLOR is
    /// set), always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub(crate) color: ColorWhen,
    /// Fit text tables and notes into N columns, stacking a table's columns when they do not
    /// fit [default: the terminal's width on a terminal, unlimited otherwise].
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(20..))]
    pub(crate) width: Option<u16>,
}

/// When to colour text output (cargo's `--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set to a non-empty value.
    Auto,
    /// Always, even in a pipe or under NO_COLOR.
    Always,
    /// Never.
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Process specs: list and show the bundled examples, check your own files.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Print the API's OpenAPI 3.1 document (as committed in openapi/openapi.json).
    Openapi,
    /// Print a shell completion script, generated from these very definitions.
    ///
    /// Example: chanlab completions bash > ~/.local/share/bash-completion/completions/chanlab
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print chanlab's man page (roff), generated from these very definitions.
    ///
    /// Example: chanlab man > chanlab.1 && man ./chanlab.1
    Man,
    /// Simulate a scenario and summarise each process spec on its own.
    Run(SimulateArgs),
    /// Simulate a scenario and compare every process spec with the baseline, side by side; a
    /// scenario with a `[[sweep]]` runs at every point of its grid (sim/MODEL.md §13.2).
    Compare(SimulateArgs),
    /// Which behaviour parameters move each spec's difference from the baseline over their
    /// plausible ranges, and in what share of plausible worlds each spec stays best (Morris
    /// elementary effects, sim/MODEL.md §13.3).
    ///
    /// Example: chanlab sensitivity mid-size --chart tornado.svg
    Sensitivity(crate::commands::sensitivity::SensitivityArgs),
    /// Search a spec's fields for the values that make a KPI best within bounds on others,
    /// and confirm the winner on fresh replications (sim/MODEL.md §13.4). Exits with 3 when
    /// no candidate meets every constraint.
    ///
    /// Example: chanlab optimise mid-size --vary goal_setting.strategy.uplift=0.05..0.5
    Optimise(crate::commands::optimise::OptimiseArgs),
    /// Combine shard results (`--shard k/n` runs) into the result of the whole run.
    Merge(MergeArgs),
    /// Scenarios: list and show the bundled ones, or write a commented template.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Run the records REST API (OpenAPI at /openapi.json, Swagger UI at /docs).
    Serve(crate::commands::serve::ServeArgs),
    /// Write every record of a data directory to a backup file (JSON lines, portable
    /// between backends). With the server running, use `GET /admin/backup` instead.
    ///
    /// Example: chanlab backup --data-dir ./chanlab-data --out backup.jsonl
    Backup(crate::commands::store::BackupArgs),
    /// Restore a backup file into a new or empty data directory.
    ///
    /// Example: chanlab restore backup.jsonl --data-dir ./restored
    Restore(crate::commands::store::RestoreArgs),
    /// Check every record decodes and every index and reference count agrees (exit 3 on a
    /// problem, like a failed validation finding).
    Verify(crate::commands::store::VerifyArgs),
    /// Bearer tokens for the records API.
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
    /// Check the simulator reproduces published findings on sales incentives (exit 3 on a
    /// FAIL).
    Validate(crate::commands::validate::ValidateArgs),
    /// The training sandbox: play an exercise on a simulated channel, round by round.
    #[command(subcommand)]
    Train(crate::commands::train::TrainCommand),
    /// Records of a simulated channel, with the truth that produced them.
    #[command(subcommand)]
    Records(RecordsCommand),
    /// Fit the behaviour parameters a data directory's records identify, and say which they
    /// do not (sim/MODEL.md §12).
    Calibrate(crate::commands::calibrate::CalibrateArgs),
    /// Calibrate on the records up to K months before the last, forecast the K months and
    /// set the forecast beside what was recorded.
    Backtest(crate::commands::calibrate::BacktestArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum RecordsCommand {
    /// Simulate a channel and write its history as records: regions, reps with hires and
    /// departures, partners with dated stage changes, sales, activities, goals, assessments
    /// and the published spec, with the true parameters beside them.
    ///
    /// Example: chanlab records synthesize mid-size --months 24 --data-dir ./demo-data
    Synthesize(crate::commands::calibrate::SynthesizeArgs),
}

/// What to simulate and how to report it.
#[derive(Debug, clap::Args)]
pub(crate) struct SimulateArgs {
    /// A scenario file (TOML, or JSON when it ends in .json) or the name of a bundled
    /// scenario (`chanlab scenario list`).
    pub(crate) scenario: String,
    /// Replications, overriding the scenario's (1 to 1,000,000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(chanlab_sim::scenario::MAX_REPLICATIONS)))]
    pub(crate) replications: Option<u32>,
    /// Seed, overriding the scenario's.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Worker threads; 0 uses every core. Results are identical for any number.
    #[arg(long, default_value_t = 0, env = "CHANLAB_THREADS",
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub(crate) threads: u16,
    /// Run only part K of N of the replications (e.g. 2/8) and write a partial result to
    /// merge later with `chanlab merge`; implies `--format json`.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<chanlab_sim::engine::Shard>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// Where and how results are written.
#[derive(Debug, clap::Args)]
pub(crate) struct OutputArgs {
    /// Output format: a table for people, JSON (complete and mergeable) or CSV.
    #[arg(long, value_enum)]
    pub(crate) format: Option<ReportFormat>,
    /// Write the result to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<std::path::PathBuf>,
    /// Also draw the comparison as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) chart: Option<std::path::PathBuf>,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// The KPI a sweep's chart or a sensitivity study's chart draws, and the one a
    /// sensitivity table details, by name (`sell_through`, `rep_attrition`, ...)
    /// [default: margin_after_incentives in charts, six headline KPIs in the table].
    #[arg(long, value_name = "KPI", value_parser = chanlab_sim::explore::optimise::parse_kpi)]
    pub(crate) kpi: Option<chanlab_sim::model::Kpi>,
}

/// The parts to merge.
#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// Partial results written with `--shard K/N` by `chanlab run`/`compare` (`--format
    /// json`), `compare` on a sweep, `sensitivity`, or `optimise` (one stage's parts, merged
    /// into the state the next stage goes on from): all parts of one kind.
    #[arg(required = true)]
    pub(crate) parts: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScenarioCommand {
    /// List the scenarios bundled with chanlab.
    List {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print a bundled scenario as TOML, to copy and edit (`--format json`: the parsed
    /// scenario, the API's `POST /scenarios` body).
    Show {
        /// Name of the bundled scenario, as shown by `chanlab scenario list`.
        name: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print a fully commented scenario to start from: chanlab scenario init > my.toml
    Init,
    /// Build a scenario from a data directory's records: the real channel, each partner's
    /// potential and engagement estimated from its history, the published spec as baseline.
    ///
    /// Example: chanlab scenario from-records --data-dir ./chanlab-data --out channel.toml
    FromRecords(crate::commands::scenario::FromRecordsArgs),
}

/// Formats of a simulation result (and of a backtest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// A table for a terminal (`table` is accepted too).
    #[value(alias = "table")]
    Text,
    /// The complete result: scenario, seed, version, parameters, mergeable state and figures.
    Json,
    /// One row per spec and KPI.
    Csv,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SpecCommand {
    /// List the process specs bundled with chanlab.
    List {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print a bundled process spec as commented TOML, to copy and edit (`--format json`:
    /// the spec in the API's JSON form).
    ///
    /// Example: chanlab spec show potential-based > my-spec.toml
    Show {
        /// Name of the bundled spec, as shown by `chanlab spec list`.
        name: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Check process spec files (TOML, or JSON when the name ends in .json) and summarise
    /// them. Exits with status 1 if any file is invalid, naming the file, line and field.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// `--format json` prints each valid spec in the API's JSON form (an array when
        /// several files are given).
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `--format text|json`, declared once for every command that prints data (simulation
/// results, which also have CSV, take [`OutputArgs`] instead).
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct FormatArg {
    /// Output format: text for people, or json for programs.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people reading a terminal (`table` is accepted too).
    #[value(alias = "table")]
    Text,
    /// For programs.
    Json,
}
