//! `chanlab serve`: runs the records API until stopped.

use anyhow::Context;
use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::{ServeConfig, Settings, StorageConfig, serve};
use chanlab_api::telemetry::LogFormat;

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
    /// Days a token made by `POST /tokens` without an `expires_at` lives [default: until it
    /// is revoked].
    #[arg(long, env = "CHANLAB_TOKEN_LIFETIME_DAYS",
          value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub(crate) token_lifetime_days: Option<u16>,
    /// Training rounds played at once; one more is answered 429 [default: two per core].
    #[arg(long, env = "CHANLAB_MAX_TRAINING_ROUNDS",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) max_training_rounds: Option<u16>,
    /// Hours an `Idempotency-Key` holds its response: a retry within them gets the first
    /// answer, after them the key is free again and the remembered response is swept.
    #[arg(long, env = "CHANLAB_IDEMPOTENCY_WINDOW_HOURS",
          default_value_t = (chanlab_api::storage::DEFAULT_IDEMPOTENCY_WINDOW.as_secs() / 3600) as u16,
          value_parser = clap::value_parser!(u16).range(1..=8760))]
    pub(crate) idempotency_window_hours: u16,
    /// Serve `GET /metrics` (Prometheus; no token) on the API's address; without it the
    /// path is 404.
    #[arg(long, env = "CHANLAB_METRICS")]
    pub(crate) metrics: bool,
    /// How the log lines on stderr are written: text, or json (one object per line).
    #[arg(long, env = "CHANLAB_LOG_FORMAT", value_enum, default_value = "text")]
    pub(crate) log_format: LogFormatArg,
    /// Days the webhook delivery log keeps a delivered or failed delivery (`GET
    /// /webhooks/{id}/deliveries`); older ones are swept.
    #[arg(long, env = "CHANLAB_WEBHOOK_LOG_DAYS",
          default_value_t = chanlab_api::webhooks::retention::DEFAULT_LOG_KEPT.num_days() as u16,
          value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub(crate) webhook_log_days: u16,
    /// A PEM file of certificate authorities to trust for `https://` webhook receivers,
    /// beside Mozilla's roots (for receivers behind a private authority).
    #[arg(long, env = "CHANLAB_WEBHOOK_CA_FILE", value_name = "PEM")]
    pub(crate) webhook_ca_file: Option<std::path::PathBuf>,
    /// The first retry delay of a failed webhook delivery, in milliseconds (the schedule
    /// doubles from it); for tests, which cannot wait the default 30 s.
    #[arg(long, hide = true, default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub(crate) webhook_retry_base_ms: u64,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum LogFormatArg {
    /// `key=value` lines for people.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Starts the server and blocks until Ctrl-C or SIGTERM. Logs go to stderr (`RUST_LOG`
/// filters them, default `info`).
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    chanlab_api::telemetry::init(match args.log_format {
        LogFormatArg::Text => LogFormat::Text,
        LogFormatArg::Json => LogFormat::Json,
    });
    // Read here, parsed once by the server at start; its error is named after the file.
    let ca_file = args.webhook_ca_file.clone();
    let ca_fix = |path: &std::path::Path, why: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "--webhook-ca-file {}: {why}\n  fix: give a readable PEM file of CA certificates (-----BEGIN CERTIFICATE----- blocks)",
            path.display()
        )
    };
    let webhook_ca_pem = match &ca_file {
        None => None,
        Some(path) => Some(std::sync::Arc::from(
            std::fs::read(path).map_err(|e| ca_fix(path, &e))?,
        )),
    };
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
        settings: Settings {
            runs: RunLimits {
                max_running: usize::from(args.max_runs),
                max_partner_months: args.max_run_partner_months,
                threads: usize::from(args.run_threads),
            },
            token_lifetime: args
                .token_lifetime_days
                .map(|d| chrono::TimeDelta::days(i64::from(d))),
            max_training_rounds: args.max_training_rounds.map(usize::from),
            idempotency_window: Some(std::time::Duration::from_secs(
                u64::from(args.idempotency_window_hours) * 3600,
            )),
            metrics: args.metrics,
            webhook_retries: chanlab_api::webhooks::RetrySchedule {
                base: std::time::Duration::from_millis(args.webhook_retry_base_ms),
            },
            webhook_log_kept: Some(chrono::TimeDelta::days(i64::from(args.webhook_log_days))),
            webhook_ca_pem,
        },
    };
    match (serve(&config), &ca_file) {
        (Err(chanlab_api::startup::StartupError::WebhookRoots(why)), Some(path)) => {
            return Err(ca_fix(path, &why));
        }
        (result, _) => result.context("running the records API")?,
    }
    Ok(Outcome::Success)
}
