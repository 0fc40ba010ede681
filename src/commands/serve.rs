//! `chanlab serve`: runs the records API until stopped.

use anyhow::Context;
use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::{ServeConfig, StorageConfig, serve};

use super::Outcome;

/// Where the records API listens and keeps its data.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "CHANLAB_BIND", default_value = "127.0.0.1:8080")]
    pub(crate) bind: String,
    /// Where the records are kept.
    #[command(flatten)]
    pub(crate) store: super::store::DataDir,
    /// PostgreSQL connections this server keeps at most.
    #[arg(long, env = "CHANLAB_DATABASE_POOL", default_value_t = chanlab_api::storage::postgres::DEFAULT_POOL_SIZE,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1000), usize::from))]
    pub(crate) database_pool: usize,
    /// HTTP worker threads [default: one per CPU core].
    #[arg(long, env = "CHANLAB_WORKERS")]
    pub(crate) workers: Option<usize>,
    /// Simulation runs queued or running at once; one more is answered 429.
    #[arg(long, env = "CHANLAB_MAX_RUNS", default_value_t = 2,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) max_runs: u16,
    /// Largest simulation run accepted, in partner-months (replications × partner slots ×
    /// months × specs).
    #[arg(long, env = "CHANLAB_MAX_RUN_PARTNER_MONTHS",
          default_value_t = RunLimits::default().max_partner_months)]
    pub(crate) max_run_partner_months: u64,
    /// Worker threads per simulation run; 0 uses every core.
    #[arg(long, env = "CHANLAB_RUN_THREADS", default_value_t = 0,
          value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub(crate) run_threads: u16,
}

/// Starts the server and blocks until Ctrl-C or SIGTERM. Logs go to stderr (`RUST_LOG`
/// filters them, default `info`).
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    chanlab_api::telemetry::init();
    let config = ServeConfig {
        bind: args.bind,
        storage: match args.store.database_url {
            Some(url) => StorageConfig::Postgres {
                url,
                pool_size: args.database_pool,
            },
            None => StorageConfig::Sled(args.store.data_dir),
        },
        workers: args.workers,
        runs: RunLimits {
            max_running: usize::from(args.max_runs),
            max_partner_months: args.max_run_partner_months,
            threads: usize::from(args.run_threads),
        },
    };
    serve(&config).context("running the records API")?;
    Ok(Outcome::Success)
}
