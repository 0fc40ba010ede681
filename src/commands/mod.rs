//! What each subcommand does: read input, call the libraries, print. Printing goes through
//! explicit writers so a closed pipe is an error we can recognise, not a panic.

pub(crate) mod calibrate;
mod merge;
pub(crate) mod optimise;
pub(crate) mod scenario;
pub(crate) mod sensitivity;
pub(crate) mod serve;
mod simulate;
mod spec;
pub(crate) mod store;
mod sweep;
mod table;
pub(crate) mod term;
pub(crate) mod token;
pub(crate) mod train;
pub(crate) mod validate;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use chanlab_sim::bundled::Bundled;
use chanlab_sim::files::FileError;

use crate::cli::{Command, OutputFormat};

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything the user asked for was done.
    Success,
    /// The command ran but found problems in the user's input, already reported on stderr.
    InvalidInput,
    /// The command ran and a check it made failed (e.g. a validation finding), as reported;
    /// exit status 3, apart from clap's 2 for usage errors.
    ChecksFailed,
}

impl Outcome {
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::InvalidInput => ExitCode::FAILURE,
            Outcome::ChecksFailed => ExitCode::from(3),
        }
    }
}

/// Runs `command`, writing its output to standard output. Text goes through an
/// [`anstream::AutoStream`], which drops colour unless it is wanted (see [`term`]).
pub(crate) fn run(command: Command) -> anyhow::Result<Outcome> {
    let mut out = anstream::AutoStream::auto(io::stdout().lock());
    match command {
        Command::Spec(spec) => spec::run(spec, &mut out),
        Command::Openapi => {
            out.write_all(chanlab_api::openapi_json().as_bytes())
                .context("writing the OpenAPI document")?;
            Ok(Outcome::Success)
        }
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::command(), "chanlab", &mut script);
            out.write_all(&script)?;
            Ok(Outcome::Success)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(crate::cli::command()).render(&mut page)?;
            out.write_all(&page)?;
            Ok(Outcome::Success)
        }
        Command::Run(args) => simulate::run(args, simulate::View::Each, &mut out),
        Command::Compare(args) => simulate::run(args, simulate::View::Compare, &mut out),
        Command::Merge(args) => merge::run(args, &mut out),
        Command::Sensitivity(args) => sensitivity::run(args, &mut out),
        Command::Optimise(args) => optimise::run(args, &mut out),
        Command::Scenario(command) => scenario::run(command, &mut out),
        Command::Serve(args) => serve::run(args),
        Command::Token(command) => token::run(command, &mut out),
        Command::Backup(args) => store::backup(args, &mut out),
        Command::Restore(args) => store::restore(args, &mut out),
        Command::Verify(args) => store::verify(args, &mut out),
        Command::Validate(args) => validate::run(args, &mut out),
        Command::Train(command) => train::run(command, &mut out),
        Command::Records(crate::cli::RecordsCommand::Synthesize(args)) => {
            calibrate::synthesize_records(args, &mut out)
        }
        Command::Calibrate(args) => calibrate::calibrate_records(args, &mut out),
        Command::Backtest(args) => calibrate::backtest_records(args, &mut out),
    }
}

/// Prints bundled files as `name  summary` lines, or as a JSON list.
fn list_bundled(
    items: &[Bundled],
    format: OutputFormat,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match format {
        OutputFormat::Text => {
            let width = items.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for item in items {
                writeln!(out, "{:width$}  {}", item.name, item.summary)?;
            }
        }
        OutputFormat::Json => {
            let list: Vec<_> = items
                .iter()
                .map(|s| serde_json::json!({"name": s.name, "summary": s.summary}))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            writeln!(out)?;
        }
    }
    Ok(Outcome::Success)
}

/// Prints the bundled file called `name` as written, or `as_json` of it, or says which
/// names exist.
fn show_bundled(
    kind: &str,
    name: &str,
    items: &[Bundled],
    format: OutputFormat,
    as_json: &dyn Fn(&str) -> anyhow::Result<String>,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    match items.iter().find(|item| item.name == name) {
        Some(item) => {
            match format {
                OutputFormat::Text => out.write_all(item.text.as_bytes())?,
                OutputFormat::Json => out.write_all(as_json(item.text)?.as_bytes())?,
            }
            Ok(Outcome::Success)
        }
        None => {
            let known: Vec<&str> = items.iter().map(|s| s.name).collect();
            writeln!(
                io::stderr().lock(),
                "error: there is no bundled {kind} called {name:?}\n  fix: use one of: {}",
                known.join(", ")
            )?;
            Ok(Outcome::InvalidInput)
        }
    }
}

/// `error: FILE:LINE:COL: FIELD: MESSAGE` and a line saying how to fix it, ending with `hint`.
fn file_error_report(file: &str, problem: &FileError, hint: &str) -> String {
    let mut place = file.to_owned();
    if let (Some(line), Some(column)) = (problem.line, problem.column) {
        place.push_str(&format!(":{line}:{column}"));
    }
    let (field, fix) = if problem.field.is_empty() {
        (String::new(), format!("correct the syntax at {place}"))
    } else {
        (
            format!("{}: ", problem.field),
            format!("change `{}` in {file}", problem.field),
        )
    };
    format!(
        "error: {place}: {field}{}\n  fix: {fix}; {hint}",
        problem.message
    )
}

/// The path that names standard input wherever a command reads a file.
const STDIN: &str = "-";

/// Whether `path` is `-`, standard input.
fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == STDIN
}

/// The text of the file at `path`, or of standard input when `path` is `-`, so that every
/// file a command reads can come from a pipe (`chanlab spec show stretch | chanlab spec
/// check -`).
fn read_input(path: &std::path::Path) -> anyhow::Result<String> {
    if is_stdin(path) {
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin().lock(), &mut text)
            .context("cannot read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The format of `text` read from `path`: by the extension for a file; for standard input,
/// which has none, JSON when the text starts with `{` (a TOML document cannot) and TOML
/// otherwise.
fn input_format(path: &std::path::Path, text: &str) -> chanlab_sim::files::Format {
    use chanlab_sim::files::Format;
    if is_stdin(path) {
        if text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    } else {
        Format::from_path(path)
    }
}
