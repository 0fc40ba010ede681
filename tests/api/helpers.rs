//! A real server per test: its own temporary data directory (or, with
//! `CHANLAB_TEST_BACKEND=postgres`, its own schema in the database `CHANLAB_TEST_DATABASE_URL`
//! names), port 0, an admin token.
//!
//! The suite runs on sled by default and a second time on PostgreSQL in CI. Tests that are
//! about sled itself start their server with [`spawn_sled_app`] or [`spawn_app_over`] and
//! stay on sled either way: those that reopen the data directory with the CLI afterwards
//! (backtests, scenarios), sled fault injection (storage_faults) and the sled-wrapping
//! concurrency case; durability.rs (strace of sled's fsyncs) and restart.rs start
//! `chanlab serve --data-dir` processes of their own. crash.rs follows the suite's backend;
//! instances.rs and database_cli.rs are PostgreSQL's on either run.

use std::net::TcpListener;
use std::sync::Arc;

use awc::http::Method;
use chanlab_api::auth::{RoleName, TokenRequest, create_token_blocking};
use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::{Application, Settings, open_storage};
use chanlab_api::storage::postgres::scratch::Scratch;
use chanlab_api::storage::{PostgresStorage, SledStorage, Storage, Store};
use chanlab_api::synthetic::write_synthetic;
use chanlab_shared::Name;
use chanlab_sim::synthesize::{SyntheticRecords, synthesize};
use serde_json::{Value, json};

/// A running server and a client for it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) admin: String,
    pub(crate) client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    /// The data directory (`None` once [`TestApp::stop`] handed it back).
    data: Option<tempfile::TempDir>,
    /// When a sled store's last instance has closed: the directory goes only then.
    closes: Option<Arc<chanlab_api::storage::CloseWatch>>,
    /// The PostgreSQL schema, dropped after the server.
    _schema: Option<Scratch>,
}

impl Drop for TestApp {
    /// Removes the data directory once no instance of the store is open: a job the test
    /// started may outlive it, and sled waits for good for a write into a directory
    /// removed under it (which held every other sled store of the process up behind it).
    fn drop(&mut self) {
        let Some(data) = self.data.take() else { return };
        match self.closes.take() {
            None => drop(data),
            Some(closes) => {
                std::thread::spawn(move || {
                    closes.wait_closed(std::time::Duration::from_secs(300));
                    drop(data);
                });
            }
        }
    }
}

/// Which backend the suite's servers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A sled data directory (the default).
    Sled,
    /// A fresh schema in PostgreSQL.
    Postgres,
}

/// The backend `CHANLAB_TEST_BACKEND` names (`sled`, the default, or `postgres`).
pub(crate) fn backend() -> Backend {
    match std::env::var("CHANLAB_TEST_BACKEND").as_deref() {
        Err(_) | Ok("") | Ok("sled") => Backend::Sled,
        Ok("postgres") => Backend::Postgres,
        Ok(other) => panic!("CHANLAB_TEST_BACKEND={other}: expected sled or postgres"),
    }
}

/// A fresh PostgreSQL schema and a backend on it; fails the test, saying how to start a
/// server, when `CHANLAB_TEST_DATABASE_URL` is unset.
pub(crate) fn postgres() -> (Scratch, PostgresStorage) {
    let scratch = Scratch::create().unwrap_or_else(|e| panic!("{e}"));
    let storage = PostgresStorage::connect(scratch.url(), 16).expect("connect to PostgreSQL");
    (scratch, storage)
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: awc::http::header::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// Asserts an RFC 9457 problem with `status`, and returns its body.
    pub(crate) fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().unwrap().starts_with("https://"));
        assert!(body["title"].is_string());
        body
    }
}

/// Starts a server on a fresh data directory.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(RunLimits::default()).await
}

/// Starts a server on a fresh data directory, running simulations under `limits`.
pub(crate) async fn spawn_app_with(limits: RunLimits) -> TestApp {
    spawn_app_on(backend(), served(limits), |_| {}).await
}

/// The settings of the suite's servers: `limits`, and `/metrics` served (as `chanlab
/// serve --metrics` does), so the access matrix reaches every documented operation.
fn served(limits: RunLimits) -> Settings {
    Settings {
        metrics: true,
        ..limits.into()
    }
}

/// Starts a server on a fresh sled data directory whatever the suite's backend: for a test
/// that opens the directory itself after [`TestApp::stop`].
pub(crate) async fn spawn_sled_app() -> TestApp {
    spawn_app_on(Backend::Sled, served(RunLimits::default()), |_| {}).await
}

/// Starts a server on `backend`, fresh, after `prepare` has written to it.
pub(crate) async fn spawn_app_on(
    backend: Backend,
    limits: impl Into<Settings>,
    prepare: impl FnOnce(&Arc<dyn Storage>),
) -> TestApp {
    match backend {
        Backend::Sled => {
            spawn_app_over(limits, |sled| {
                let storage: Arc<dyn Storage> = sled;
                prepare(&storage);
                storage
            })
            .await
        }
        Backend::Postgres => {
            let (schema, pg) = postgres();
            let storage: Arc<dyn Storage> = Arc::new(pg);
            prepare(&storage);
            let data = tempfile::tempdir().expect("temp dir");
            start(storage, limits, data, Some(schema))
        }
    }
}

/// Starts a server on a fresh store of the suite's backend under `settings`.
pub(crate) async fn spawn_app_with_settings(settings: Settings) -> TestApp {
    spawn_app_on(backend(), settings, |_| {}).await
}

/// Starts a server on a fresh data directory that holds `records` (synthesized, written the
/// way `chanlab records synthesize --data-dir` writes them) before it starts, running
/// simulations under `limits`.
pub(crate) async fn spawn_app_with_records(
    records: &SyntheticRecords,
    limits: RunLimits,
) -> TestApp {
    spawn_app_with_records_on(backend(), records, limits).await
}

/// [`spawn_app_with_records`] on `backend` whatever the suite's: [`Backend::Sled`] for a
/// test that opens the data directory itself after [`TestApp::stop`].
pub(crate) async fn spawn_app_with_records_on(
    backend: Backend,
    records: &SyntheticRecords,
    limits: RunLimits,
) -> TestApp {
    spawn_app_on(backend, served(limits), |storage| {
        write_synthetic(&Store::new(storage.clone()), records).expect("synthetic records");
    })
    .await
}

/// Starts a server on a fresh store (the suite's backend) after `prepare` has written to it
/// directly, past the API's checks: for records stored before a rule existed.
pub(crate) async fn spawn_app_prepared(prepare: impl FnOnce(&Store)) -> TestApp {
    spawn_app_on(backend(), RunLimits::default(), |storage| {
        prepare(&Store::new(storage.clone()))
    })
    .await
}

/// Synthesized records of the bundled mid-size channel (four regions, 32 reps, 360
/// partners): `months` of history from 2027-01, the same for the same seed.
pub(crate) fn synthetic(months: u32, seed: u64) -> SyntheticRecords {
    let text = chanlab_sim::bundled::find_scenario("mid-size")
        .expect("bundled")
        .text;
    let scenario = chanlab_sim::scenario::parse(text, chanlab_sim::files::Format::Toml, &|_| {
        Err("no files".to_owned())
    })
    .expect("the bundled scenario parses");
    synthesize(&scenario, months, seed).expect("synthesized")
}

/// Starts a server over `wrap` of the sled storage on a fresh data directory: for a
/// backend that slows or breaks some calls.
pub(crate) async fn spawn_app_over(
    limits: impl Into<Settings>,
    wrap: impl FnOnce(Arc<SledStorage>) -> Arc<dyn Storage>,
) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let sled = Arc::new(open_storage(data.path()).expect("open storage"));
    let closes = sled.close_watch();
    let storage = wrap(sled);
    let mut app = start(storage, limits, data, None);
    app.closes = Some(closes);
    app
}

/// Makes an admin token in `storage` and starts a server on it.
fn start(
    storage: Arc<dyn Storage>,
    limits: impl Into<Settings>,
    data: tempfile::TempDir,
    schema: Option<Scratch>,
) -> TestApp {
    let admin = create_token_blocking(
        &Store::new(storage.clone()),
        &TokenRequest {
            role: RoleName::Admin,
            region_id: None,
            rep_id: None,
            label: Name::parse("test admin").unwrap(),
            expires_at: None,
        },
        None,
    )
    .expect("admin token")
    .token;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let app = Application::on_listener_with(listener, storage, Some(2), limits).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        admin,
        // Long enough for a request that waits out another test's 8 MiB import: sled's
        // one commit of it holds sled's write lock for every store of the process (tens
        // of seconds in a debug build under load). A hang is still caught: by CI's guard.
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(120))
            .finish(),
        handle,
        data: Some(data),
        closes: None,
        _schema: schema,
    }
}

impl TestApp {
    /// Stops the server and hands back its data directory, for a command that opens it
    /// (a server from [`spawn_sled_app`]).
    pub(crate) async fn stop(mut self) -> tempfile::TempDir {
        assert!(
            self._schema.is_none(),
            "stop() hands back a sled data directory: start this test with spawn_sled_app"
        );
        self.handle.stop(true).await;
        self.data.take().expect("the data directory")
    }

    /// Sends a request with `token` (if any), `headers` and a body of `content_type`.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut res = match body {
            Some((ct, bytes)) => req
                .insert_header(("Content-Type", ct))
                .send_body(bytes)
                .await
                .expect("request"),
            None => req.send().await.expect("request"),
        };
        let body = res
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        Answer {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body,
        }
    }

    /// GET as admin.
    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, Some(&self.admin), &[], None)
            .await
    }

    /// A JSON request as `token`.
    pub(crate) async fn json_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Answer {
        self.send(
            method,
            path,
            Some(token),
            &[],
            Some(("application/json", serde_json::to_vec(body).unwrap())),
        )
        .await
    }

    /// POST JSON as admin.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> Answer {
        self.json_as(&self.admin.clone(), Method::POST, path, body)
            .await
    }

    /// PUT JSON as admin.
    pub(crate) async fn put(&self, path: &str, body: &Value) -> Answer {
        self.json_as(&self.admin.clone(), Method::PUT, path, body)
            .await
    }

    /// POST, expect 201, return the body's id.
    pub(crate) async fn create(&self, path: &str, body: &Value) -> String {
        let res = self.post(path, body).await;
        assert_eq!(res.status, 201, "POST {path}: {}", res.text());
        res.json()["id"].as_str().unwrap().to_owned()
    }

    /// A token of `role` with its scope, made through the API.
    pub(crate) async fn token(
        &self,
        role: &str,
        region: Option<&str>,
        rep: Option<&str>,
    ) -> String {
        let mut body = json!({"role": role, "label": format!("{role} for tests")});
        if let Some(r) = region {
            body["region_id"] = json!(r);
        }
        if let Some(r) = rep {
            body["rep_id"] = json!(r);
        }
        let res = self.post("/tokens", &body).await;
        assert_eq!(res.status, 201, "{}", res.text());
        res.json()["token"].as_str().unwrap().to_owned()
    }

    /// A region.
    pub(crate) async fn region(&self, name: &str) -> String {
        self.create(
            "/regions",
            &json!({"name": name, "regional_manager": "Astrid Berg"}),
        )
        .await
    }

    /// A rep in `region`.
    pub(crate) async fn rep(&self, region: &str) -> String {
        self.create(
            "/reps",
            &json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": "active"}),
        )
        .await
    }

    /// A partner in `region`, owned by `rep`, in `stage` with `tier`.
    pub(crate) async fn partner(
        &self,
        region: &str,
        rep: Option<&str>,
        tier: &str,
        stage: &str,
    ) -> String {
        let mut body = json!({"name": "Nordic Distribution AB", "kind": "distributor", "tier": tier, "region_id": region, "stage": stage});
        if let Some(r) = rep {
            body["owner_rep_id"] = json!(r);
        }
        self.create("/partners", &body).await
    }
}

/// Rules for a process spec: tier-A partners visited twice a month.
pub(crate) fn rules() -> Value {
    json!({
        "name": "FY27 potential-based",
        "goal_setting": {"strategy": {"kind": "flat_growth", "growth": 0.05}, "period": "quarter", "metric": "sell_through"},
        "cadences": [{"tier": "A", "activity": "visit", "count": 2, "every_months": 1}],
        "onboarding": {"months": 3, "trainings": 2, "visits_per_month": 2},
        "assessment": {"key_links": [{"metric": "visits", "weight": 1.0}], "every": "quarter"},
        "incentive": {"basis": "sell_through", "commission_rate": 0.03},
        "partner_program": {"base_margin": 0.06, "target_period": "quarter"}
    })
}

/// An amount in EUR minor units.
pub(crate) fn eur(minor: i64) -> Value {
    json!({"amount_minor": minor, "currency": "EUR"})
}

/// An amount in USD minor units.
pub(crate) fn usd(minor: i64) -> Value {
    json!({"amount_minor": minor, "currency": "USD"})
}
