//! What `GET /metrics` exposes to Prometheus: one [`Metrics`] per server, held by its
//! [`Store`](crate::storage::Store) so that every part of the server that does something
//! worth counting reaches it (`store.metrics()`), the HTTP middleware, the job threads and
//! the flusher alike.
//!
//! Per server, not global: a process may run several servers (the test suite runs dozens
//! at once), and each must count only its own requests.
//!
//! | metric | type | labels | recorded by |
//! |---|---|---|---|
//! | `chanlab_http_request_duration_seconds` | histogram (its `_count`: requests) | `method`, `route` (the matched template, `unmatched` for none), `status` | [`crate::telemetry::log_and_problem`] |
//! | `chanlab_jobs` | gauge | `kind` (`run`, `backtest`), `status` (`queued`, `running`) | read from the store at each scrape |
//! | `chanlab_jobs_ended_total` | counter | `kind`, `status` (`done`, `failed`, `cancelled`, `interrupted`) | the process that stores the end (`jobs.rs`, `dispatch.rs`, `routes/runs.rs`) |
//! | `chanlab_training_rounds_total` | counter | `outcome` (`played`, `refused`) | `POST /training-sessions/{id}/rounds` |
//! | `chanlab_storage_flush_duration_seconds` | histogram | | [`Store::durable`](crate::storage::Store::durable), [`Store::flush_blocking`](crate::storage::Store::flush_blocking) |
//! | `chanlab_csv_imports_total` | counter | `collection`, `outcome` (`imported`, `refused`, `busy`) | the CSV import routes |
//! | `chanlab_csv_imported_rows_total` | counter | `collection` | the CSV import routes |
//! | `chanlab_idempotency_keys_expired_total` | counter | | the sweep ([`crate::sweep`]) |
//! | `chanlab_webhook_deliveries_total` | counter | `outcome` (`delivered`, `failed`, `abandoned`) | [`Metrics::webhook_delivery`] |
//!
//! Labels are bounded: routes are templates (`/partners/{id}`), never raw paths; methods
//! outside the standard ones are `other`.
//!
//! The registry encodes OpenMetrics ([`prometheus_client`]); a scraper that does not ask
//! for it (`Accept: application/openmetrics-text`) gets the Prometheus text format 0.0.4,
//! which is what `promtool check metrics` lints ([`text_format`]).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::records::RunStatus;
use crate::storage::Kind;

/// The content type of the OpenMetrics exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the Prometheus text exposition (format 0.0.4).
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How one attempt to deliver a webhook ended, for [`Metrics::webhook_delivery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// The attempt failed (an error status, a timeout, no connection); it will be retried.
    Failed,
    /// The attempt failed and no retry is left: the event is given up on.
    Abandoned,
}

impl WebhookOutcome {
    const fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Delivered => "delivered",
            WebhookOutcome::Failed => "failed",
            WebhookOutcome::Abandoned => "abandoned",
        }
    }
}

/// How a CSV import ended, for [`Metrics::csv_import`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Every row was imported.
    Imported,
    /// Refused (a bad row, a bad file, the caller's scope): nothing imported.
    Refused,
    /// Refused with 429: as many imports as the server runs at once were running.
    Busy,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ImportLabels {
    collection: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CollectionLabels {
    collection: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies: 0.5 ms to about 16 s, doubling.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Flush latencies: 50 µs (PostgreSQL's no-op flush, sled on a fast disk) to about 3 s.
fn flush_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.00005, 2.0, 16))
}

/// How a job can end.
const ENDS: [RunStatus; 4] = [
    RunStatus::Done,
    RunStatus::Failed,
    RunStatus::Cancelled,
    RunStatus::Interrupted,
];

/// The route label of a request that matched none.
pub const UNMATCHED: &str = "unmatched";

/// A server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: HistogramFamily<RequestLabels>,
    jobs: Family<JobLabels, Gauge>,
    jobs_ended: Family<JobLabels, Counter>,
    training_rounds: Family<OutcomeLabels, Counter>,
    flush: Histogram,
    imports: Family<ImportLabels, Counter>,
    imported_rows: Family<CollectionLabels, Counter>,
    keys_expired: Counter,
    webhooks: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under the `chanlab` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("chanlab");
        let requests = HistogramFamily::<RequestLabels>::new_with_constructor(
            request_histogram as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer, by method, matched route template and status; its _count is the number of requests",
            Unit::Seconds,
            requests.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Runs and backtests queued or running in the store, read at the scrape (on a store shared by several servers every one reports the same numbers)",
            jobs.clone(),
        );
        let jobs_ended = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs_ended",
            "Runs and backtests whose end this server stored, by how they ended",
            jobs_ended.clone(),
        );
        let training_rounds = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "training_rounds",
            "Training rounds played, and refused with 429 because as many as the server plays at once were being played",
            training_rounds.clone(),
        );
        let flush = flush_histogram();
        registry.register_with_unit(
            "storage_flush_duration",
            "Time to make the store's commits durable, one observation per flush (concurrent writers share one)",
            Unit::Seconds,
            flush.clone(),
        );
        let imports = Family::<ImportLabels, Counter>::default();
        registry.register(
            "csv_imports",
            "CSV imports answered, by collection and outcome",
            imports.clone(),
        );
        let imported_rows = Family::<CollectionLabels, Counter>::default();
        registry.register(
            "csv_imported_rows",
            "Rows stored by CSV imports, by collection",
            imported_rows.clone(),
        );
        let keys_expired = Counter::default();
        registry.register(
            "idempotency_keys_expired",
            "Remembered idempotent responses deleted by the sweep once their window passed",
            keys_expired.clone(),
        );
        let webhooks = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            webhooks.clone(),
        );
        // Every series whose labels are known up front starts at zero, so a dashboard's
        // rate() sees the first increase instead of a series appearing.
        for kind in [Kind::Run, Kind::Backtest] {
            for status in ENDS {
                drop(jobs_ended.get_or_create(&JobLabels {
                    kind: kind.name(),
                    status: status.as_str(),
                }));
            }
        }
        for outcome in ["played", "refused"] {
            drop(training_rounds.get_or_create(&OutcomeLabels { outcome }));
        }
        for outcome in [
            WebhookOutcome::Delivered,
            WebhookOutcome::Failed,
            WebhookOutcome::Abandoned,
        ] {
            drop(webhooks.get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            }));
        }
        Self {
            registry,
            requests,
            jobs,
            jobs_ended,
            training_rounds,
            flush,
            imports,
            imported_rows,
            keys_expired,
            webhooks,
        }
    }

    /// Counts a request answered with `status` after `seconds`; `route` is the matched
    /// template (`None`: [`UNMATCHED`]).
    pub fn request(
        &self,
        method: &actix_web::http::Method,
        route: Option<String>,
        status: u16,
        seconds: f64,
    ) {
        let labels = RequestLabels {
            method: method_label(method),
            route: route.unwrap_or_else(|| UNMATCHED.to_owned()),
            status,
        };
        self.requests.get_or_create(&labels).observe(seconds);
    }

    /// Sets how many jobs of `kind` the store holds at `status` (queued or running).
    pub fn set_jobs(&self, kind: Kind, status: RunStatus, n: usize) {
        let labels = JobLabels {
            kind: kind.name(),
            status: status.as_str(),
        };
        self.jobs
            .get_or_create(&labels)
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Counts a job of `kind` stored as ended with `status`.
    pub fn job_ended(&self, kind: Kind, status: RunStatus) {
        let labels = JobLabels {
            kind: kind.name(),
            status: status.as_str(),
        };
        self.jobs_ended.get_or_create(&labels).inc();
    }

    /// Counts a training round played (`true`) or refused with 429 (`false`).
    pub fn training_round(&self, played: bool) {
        let outcome = if played { "played" } else { "refused" };
        self.training_rounds
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Records one flush that took `seconds`.
    pub fn flushed(&self, seconds: f64) {
        self.flush.observe(seconds);
    }

    /// Counts a CSV import of `collection` that ended with `outcome`, having stored `rows`.
    pub fn csv_import(&self, collection: &'static str, outcome: ImportOutcome, rows: u64) {
        let outcome = match outcome {
            ImportOutcome::Imported => "imported",
            ImportOutcome::Refused => "refused",
            ImportOutcome::Busy => "busy",
        };
        self.imports
            .get_or_create(&ImportLabels {
                collection,
                outcome,
            })
            .inc();
        if rows > 0 {
            self.imported_rows
                .get_or_create(&CollectionLabels { collection })
                .inc_by(rows);
        }
    }

    /// Counts `n` remembered responses deleted by the sweep.
    pub fn keys_expired(&self, n: u64) {
        self.keys_expired.inc_by(n);
    }

    /// Counts one webhook delivery attempt that ended with `outcome`: what the webhook
    /// sender calls after each attempt (`store.metrics().webhook_delivery(..)`).
    pub fn webhook_delivery(&self, outcome: WebhookOutcome) {
        self.webhooks
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
    }

    /// The exposition in OpenMetrics.
    pub fn openmetrics(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// The exposition in the Prometheus text format 0.0.4.
    pub fn text(&self) -> String {
        text_format(&self.openmetrics())
    }
}

/// The method as a label: the standard ones by name, any other `other` (a client can send
/// any token as a method, and each would be a new series).
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// An OpenMetrics exposition of counters, gauges and histograms (what [`Metrics`]
/// registers) in the Prometheus text format 0.0.4. The two differ there in three
/// things only: a counter's family is named with its `_total` suffix, there are no
/// `# UNIT` lines, and no `# EOF`. Samples are the same lines.
pub fn text_format(openmetrics: &str) -> String {
    let lines: Vec<&str> = openmetrics.lines().collect();
    let counters: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in lines {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|tag| {
            let rest = line.strip_prefix(tag)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{tag}{name}_total {tail}"))
        });
        match renamed {
            Some(l) => out.push_str(&l),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Whether an `Accept` header asks for OpenMetrics.
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_names_counters_with_total_and_drops_units_and_eof() {
        let om = "# HELP chanlab_things Things.\n# TYPE chanlab_things counter\n\
                  chanlab_things_total 3\n# HELP chanlab_wait_seconds Waits.\n\
                  # TYPE chanlab_wait_seconds histogram\n# UNIT chanlab_wait_seconds seconds\n\
                  chanlab_wait_seconds_count 1\n# EOF\n";
        let text = text_format(om);
        assert_eq!(
            text,
            "# HELP chanlab_things_total Things.\n# TYPE chanlab_things_total counter\n\
             chanlab_things_total 3\n# HELP chanlab_wait_seconds Waits.\n\
             # TYPE chanlab_wait_seconds histogram\nchanlab_wait_seconds_count 1\n"
        );
    }

    #[test]
    fn requests_are_labelled_by_template_and_unknown_methods_fold() {
        let m = Metrics::new();
        let get = actix_web::http::Method::GET;
        m.request(&get, Some("/partners/{id}".to_owned()), 200, 0.01);
        m.request(&get, Some("/partners/{id}".to_owned()), 200, 0.02);
        m.request(&get, None, 404, 0.001);
        let odd = actix_web::http::Method::from_bytes(b"FROB").unwrap();
        m.request(&odd, None, 404, 0.001);
        let text = m.text();
        assert!(
            text.contains(
                "chanlab_http_request_duration_seconds_count{method=\"GET\",route=\"/partners/{id}\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("route=\"unmatched\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(text.contains("method=\"other\""), "{text}");
        assert!(!text.contains("FROB"), "{text}");
    }
}
