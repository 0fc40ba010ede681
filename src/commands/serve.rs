//! `chanlab serve`: runs the records API until stopped.

use std::path::PathBuf;

use anyhow::Context;
use chanlab_api::startup::{ServeConfig, serve};

use super::Outcome;

/// Where the records API listens and keeps its data.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "CHANLAB_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: String,
    /// The data directory (sled); created if missing. Only one process may open it.
    #[arg(long, env = "CHANLAB_DATA_DIR", default_value = "./chanlab-data")]
    pub(crate) data_dir: PathBuf,
    /// HTTP worker threads [default: one per CPU core].
    #[arg(long, env = "CHANLAB_WORKERS")]
    pub(crate) workers: Option<usize>,
}

/// Starts the server and blocks until Ctrl-C or SIGTERM. Logs go to stderr (`RUST_LOG`
/// filters them, default `info`).
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    chanlab_api::telemetry::init();
    let config = ServeConfig {
        bind: args.bind,
        data_dir: args.data_dir,
        workers: args.workers,
    };
    serve(&config).context("running the records API")?;
    Ok(Outcome::Success)
}
