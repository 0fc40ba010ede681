//! Builds the server: storage opened from the data directory, the app on a listener (port 0
//! in tests), every route, the middleware, `/openapi.json` and Swagger UI at `/docs`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, http::header, web};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, problem_for_status, problem_response};
use crate::openapi::ApiDoc;
use crate::simulation::RunLimits;
use crate::state::AppState;
use crate::storage::{PostgresStorage, SledStorage, Storage, Store};
use crate::{routes, telemetry};

/// Longest a client may take to send a request's head (line and headers): a slow client
/// (slowloris) is answered 408 and cut off. Bodies have their own limit,
/// [`BODY_TIMEOUT`](crate::extract::BODY_TIMEOUT).
pub const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a connection being closed may linger for the client to read the answer.
pub const DISCONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// Where the server listens and keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub bind: String,
    /// Where the records are kept.
    pub storage: StorageConfig,
    /// HTTP worker threads; `None` for one per CPU core.
    pub workers: Option<usize>,
    /// How much simulation the server accepts, and how long tokens live.
    pub settings: Settings,
}

/// What a server allows, beside where it listens and keeps its records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// How much simulation the server accepts.
    pub runs: RunLimits,
    /// How long a token made without an `expires_at` lives; `None`: until it is revoked.
    pub token_lifetime: Option<chrono::TimeDelta>,
    /// Training rounds played at once; `None`: [`crate::state::default_training_rounds`].
    pub max_training_rounds: Option<usize>,
    /// How long an `Idempotency-Key` holds its response; `None`:
    /// [`crate::storage::DEFAULT_IDEMPOTENCY_WINDOW`].
    pub idempotency_window: Option<std::time::Duration>,
    /// Whether `GET /metrics` answers (without a token); otherwise it is 404.
    pub metrics: bool,
    /// When failed webhook deliveries are retried ([`crate::webhooks::RetrySchedule`]).
    pub webhook_retries: crate::webhooks::RetrySchedule,
    /// How long the delivery log keeps a finished delivery; `None`:
    /// [`crate::webhooks::retention::DEFAULT_LOG_KEPT`].
    pub webhook_log_kept: Option<chrono::TimeDelta>,
    /// Certificates (PEM) the webhook sender trusts beside Mozilla's roots, for
    /// `https://` receivers behind a private authority ([`crate::webhooks::tls`]).
    pub webhook_ca_pem: Option<std::sync::Arc<[u8]>>,
}

impl From<RunLimits> for Settings {
    fn from(runs: RunLimits) -> Self {
        Settings {
            runs,
            token_lifetime: None,
            max_training_rounds: None,
            idempotency_window: None,
            metrics: false,
            webhook_retries: Default::default(),
            webhook_log_kept: None,
            webhook_ca_pem: None,
        }
    }
}

/// Which backend keeps the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// A sled data directory, created if missing; one process at a time.
    Sled(PathBuf),
    /// A PostgreSQL database (`postgres://...`), migrated at start; any number of
    /// processes.
    Postgres {
        /// The connection URL (may hold a password: never logged as is).
        url: String,
        /// Connections this process keeps at most.
        pool_size: usize,
    },
}

impl StorageConfig {
    /// Where, for logs and messages (a database URL without its password).
    pub fn describe(&self) -> String {
        match self {
            StorageConfig::Sled(dir) => dir.display().to_string(),
            StorageConfig::Postgres { url, .. } => crate::storage::postgres::redact(url),
        }
    }
}

/// Opens the backend `config` names.
pub fn open_backend(config: &StorageConfig) -> Result<Arc<dyn Storage>, StartupError> {
    match config {
        StorageConfig::Sled(dir) => Ok(Arc::new(open_storage(dir)?)),
        StorageConfig::Postgres { url, pool_size } => PostgresStorage::connect(url, *pool_size)
            .map(|s| Arc::new(s) as Arc<dyn Storage>)
            .map_err(|e| StartupError::Database {
                target: config.describe(),
                message: e.message,
            }),
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The address could not be bound.
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        /// The address.
        bind: String,
        /// Why.
        source: std::io::Error,
    },
    /// The data directory could not be opened (missing permissions, or another process
    /// holds it).
    #[error("cannot open the data directory {dir}: {message}")]
    Storage {
        /// The directory.
        dir: String,
        /// Why.
        message: String,
    },
    /// The database could not be reached, or its schema could not be migrated.
    #[error("cannot open the database {target}: {message}")]
    Database {
        /// The database, without its password.
        target: String,
        /// Why.
        message: String,
    },
    /// The data directory holds a damaged store: the server refuses to serve it.
    #[error(
        "the store in {dir} is damaged: {message}\n  fix: run `chanlab verify --data-dir {dir}` \
         for every problem, then restore the last backup into a new directory (`chanlab \
         restore FILE --data-dir NEW_DIR`) and serve that; keep this directory for analysis"
    )]
    Damaged {
        /// The directory.
        dir: String,
        /// What the integrity check found.
        message: String,
    },
    /// The certificates given for webhook receivers cannot be used.
    #[error("the webhook receivers' certificates: {0}")]
    WebhookRoots(String),
    /// The server failed while running.
    #[error("the server stopped with an error: {0}")]
    Io(#[from] std::io::Error),
}

/// A built server, not yet running.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Opens the sled storage in `dir` and checks it ([`SledStorage::open_checked`]).
pub fn open_storage(dir: &std::path::Path) -> Result<SledStorage, StartupError> {
    std::fs::create_dir_all(dir).map_err(|e| StartupError::Storage {
        dir: dir.display().to_string(),
        message: e.to_string(),
    })?;
    SledStorage::open_checked(dir).map_err(|e| match e.fault {
        crate::storage::Fault::Corrupt => StartupError::Damaged {
            dir: dir.display().to_string(),
            message: e.message,
        },
        _ => StartupError::Storage {
            dir: dir.display().to_string(),
            message: e.message,
        },
    })
}

impl Application {
    /// Binds `config.bind` and opens `config.storage`.
    pub fn build(config: &ServeConfig) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(&config.bind).map_err(|source| StartupError::Bind {
            bind: config.bind.clone(),
            source,
        })?;
        let storage = open_backend(&config.storage)?;
        Self::on_listener_with(listener, storage, config.workers, config.settings.clone())
    }

    /// Builds the server on an already bound listener over `backend`, with the default
    /// run limits.
    pub fn on_listener(
        listener: TcpListener,
        backend: Arc<dyn Storage>,
        workers: Option<usize>,
    ) -> Result<Self, StartupError> {
        Self::on_listener_with(listener, backend, workers, RunLimits::default())
    }

    /// Builds the server on an already bound listener over `backend`, under `settings`
    /// (simulation limits, token lifetime). Runs a previous process left queued or running are marked interrupted
    /// first, unless other processes share the store ([`Storage::shared`]): there they may
    /// be another instance's, running.
    pub fn on_listener_with(
        listener: TcpListener,
        backend: Arc<dyn Storage>,
        workers: Option<usize>,
        settings: impl Into<Settings>,
    ) -> Result<Self, StartupError> {
        let settings = settings.into();
        let port = listener.local_addr()?.port();
        let shared = backend.shared();
        let store = Store::new(backend).with_idempotency_window(
            settings
                .idempotency_window
                .unwrap_or(crate::storage::DEFAULT_IDEMPOTENCY_WINDOW),
        );
        if shared {
            tracing::info!(
                "the store is shared with other instances: runs wait in its queue, and those of an instance that stops answering are marked interrupted by the others"
            );
        } else {
            crate::simulation::recover(&store).map_err(|e| StartupError::Storage {
                dir: "(the data directory)".to_owned(),
                message: e.message,
            })?;
        }
        let mut state = AppState::with_limits(store, settings.runs);
        state.token_lifetime = settings.token_lifetime;
        if let Some(n) = settings.max_training_rounds {
            state.max_training_rounds = n;
        }
        state.serve_metrics = settings.metrics;
        let state = Arc::new(state);
        // On a shared store the jobs wait in its queue; this instance claims its share.
        crate::dispatch::start(&state)?;
        crate::sweep::start(
            &state,
            settings
                .webhook_log_kept
                .unwrap_or(crate::webhooks::retention::DEFAULT_LOG_KEPT),
        )?;
        let tls = crate::webhooks::tls::client_config(settings.webhook_ca_pem.as_deref())
            .map_err(StartupError::WebhookRoots)?;
        crate::webhooks::deliver::start(&state, settings.webhook_retries, Arc::new(tls))?;
        let state = web::Data::from(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(telemetry::log_and_problem))
                .configure(app_config(state.clone()))
        })
        .client_request_timeout(HEAD_TIMEOUT)
        .client_disconnect_timeout(DISCONNECT_TIMEOUT)
        .listen(listener)?;
        if let Some(n) = workers {
            server = server.workers(n);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until the server is stopped (Ctrl-C, SIGTERM or [`ServerHandle::stop`]).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.server.await?;
        Ok(())
    }
}

/// Everything an app needs besides the middleware: state, extractor error handlers,
/// routes, the OpenAPI document and the docs. The benchmark builds its in-process app from
/// this too.
pub fn app_config(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(state)
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::BadRequest(format!("a path parameter is invalid: {err}")).into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| query_error(&err).into()))
            .app_data(
                web::JsonConfig::default()
                    .limit(crate::extract::JSON_LIMIT)
                    .error_handler(|err, _| {
                        ApiError::BadRequest(format!("the body could not be read as JSON: {err}"))
                            .into()
                    }),
            )
            .configure(routes::configure)
            .service(web::resource("/docs").route(web::get().to(|| async {
                HttpResponse::MovedPermanently()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            })))
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", ApiDoc::openapi()))
            .default_service(web::to(|| async {
                problem_response(&problem_for_status(actix_web::http::StatusCode::NOT_FOUND))
            }));
    }
}

/// A query string a handler could not read. An unknown parameter is a 422 naming it in
/// `errors[]`, as an unknown body field is; a value that does not parse stays a 400 (the
/// query reader does not say which parameter held it).
fn query_error(err: &actix_web::error::QueryPayloadError) -> ApiError {
    let actix_web::error::QueryPayloadError::Deserialize(de) = err else {
        return ApiError::BadRequest(format!("a query parameter is invalid: {err}"));
    };
    let text = de.to_string();
    if let Some(rest) = text.strip_prefix("unknown field `")
        && let Some((name, known)) = rest.split_once('`')
    {
        let known = known.trim_start_matches(", ");
        let message = if known.is_empty() || known == "there are no fields" {
            "unknown query parameter; this operation takes none".to_owned()
        } else {
            format!("unknown query parameter, {known}")
        };
        return ApiError::Validation(vec![crate::problem::FieldError {
            field: name.to_owned(),
            message,
        }]);
    }
    ApiError::BadRequest(format!("a query parameter is invalid: {text}"))
}

/// Starts the server and blocks until it stops: what `chanlab serve` runs.
pub fn serve(config: &ServeConfig) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async {
        let app = Application::build(config)?;
        tracing::info!(
            bind = %config.bind,
            port = app.port(),
            storage = %config.storage.describe(),
            "chanlab records API listening"
        );
        app.run_until_stopped().await
    })
}
