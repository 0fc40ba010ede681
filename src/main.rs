//! The `chanlab` binary: parses the command line and hands each subcommand to the library
//! code that does the work. Nothing here knows the domain; see ARCHITECTURE.md.
//!
//! Exit codes (also in `chanlab --help` and the README): 0 success, 1 invalid input or a
//! failure, 2 a usage error (clap's own code), 3 a check that ran and failed. A closed
//! standard output (`chanlab spec list | head -1`) ends the command quietly with 0, as
//! ripgrep does.

mod cli;
mod commands;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    commands::term::init(args.global.color, args.global.width);
    match commands::run(args.command) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Best effort: if stderr is gone there is no one left to tell.
            let _ = writeln!(io::stderr().lock(), "error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `chanlab spec list | head -1` closes our stdout early; that is not an error. The I/O
/// error can arrive bare, or inside the error of the serialiser that was writing.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        let kind = if let Some(io) = e.downcast_ref::<io::Error>() {
            Some(io.kind())
        } else if let Some(json) = e.downcast_ref::<serde_json::Error>() {
            json.io_error_kind()
        } else if let Some(csv) = e.downcast_ref::<csv::Error>() {
            match csv.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            }
        } else {
            None
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}
