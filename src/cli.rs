//! Command-line arguments, as clap parses them. Each subcommand's arguments are turned into
//! the library's own types in `commands`, never passed further as raw strings.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Keep a sales channel's records and try goal-setting strategies and process specs on a
/// simulated copy of it before rolling them out.
#[derive(Debug, Parser)]
#[command(name = "chanlab", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Process specs: list and show the bundled examples, check your own files.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Print the API's OpenAPI 3.1 document (as committed in openapi/openapi.json).
    Openapi,
    /// Run the records REST API (OpenAPI at /openapi.json, Swagger UI at /docs).
    Serve(crate::commands::serve::ServeArgs),
    /// Bearer tokens for the records API.
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum SpecCommand {
    /// List the process specs bundled with chanlab.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Print a bundled process spec as commented TOML, to copy and edit.
    ///
    /// Example: chanlab spec show potential-based > my-spec.toml
    Show {
        /// Name of the bundled spec, as shown by `chanlab spec list`.
        name: String,
    },
    /// Check process spec files (TOML, or JSON when the name ends in .json) and summarise
    /// them. Exits with status 1 if any file is invalid, naming the file, line and field.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format: `json` prints each valid spec in the API's JSON form (an array
        /// when several files are given).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// For people reading a terminal.
    Text,
    /// For programs.
    Json,
}
