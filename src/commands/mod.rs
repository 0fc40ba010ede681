//! What each subcommand does: read input, call the libraries, print. Printing goes through
//! explicit writers so a closed pipe is an error we can recognise, not a panic.

mod scenario;
pub(crate) mod serve;
mod simulate;
mod spec;
mod table;
pub(crate) mod token;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::Command;

/// How a command that ran to completion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything the user asked for was done.
    Success,
    /// The command ran but found problems in the user's input, already reported on stderr.
    InvalidInput,
}

impl Outcome {
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::InvalidInput => ExitCode::FAILURE,
        }
    }
}

pub(crate) fn run(command: Command) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match command {
        Command::Spec(spec) => spec::run(spec, &mut out),
        Command::Openapi => {
            out.write_all(chanlab_api::openapi_json().as_bytes())
                .context("writing the OpenAPI document")?;
            Ok(Outcome::Success)
        }
        Command::Run(args) => simulate::run(args, simulate::View::Each, &mut out),
        Command::Compare(args) => simulate::run(args, simulate::View::Compare, &mut out),
        Command::Merge(args) => simulate::merge(args, &mut out),
        Command::Scenario(command) => scenario::run(command, &mut out),
        Command::Serve(args) => serve::run(args),
        Command::Token(command) => token::run(command, &mut out),
    }
}
