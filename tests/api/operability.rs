//! What an operator watches: `GET /metrics` (served with `--metrics` only, counted by route
//! template and status, linted by Prometheus's own `promtool`), and idempotency keys that
//! expire after their window and are swept.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use awc::http::Method;
use chanlab_api::startup::Settings;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with_settings};

/// A server that serves `/metrics`.
async fn metered() -> TestApp {
    spawn_app_with_settings(Settings {
        metrics: true,
        ..Settings::default()
    })
    .await
}

/// One scrape in the Prometheus text format: each sample's value by its name and labels.
struct Scrape {
    text: String,
    samples: BTreeMap<(String, BTreeMap<String, String>), f64>,
}

impl Scrape {
    /// The sample `name` with exactly `labels`; 0 when the series does not exist yet.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .get(&(name.to_owned(), labels))
            .copied()
            .unwrap_or(0.0)
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let res = app.send(Method::GET, "/metrics", None, &[], None).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = res.text();
    Scrape {
        samples: parse(&text),
        text,
    }
}

/// The samples of a text exposition: `name{k="v",...} value` lines (label values escaped
/// with `\`), comments skipped. Panics on a line that is neither.
fn parse(text: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line:?}")),
        };
        let (name, mut rest) = match series.split_once('{') {
            Some((n, r)) => (n, r.strip_suffix('}').expect("labels close")),
            None => (series, ""),
        };
        let mut labels = BTreeMap::new();
        while !rest.is_empty() {
            let (key, tail) = rest.split_once("=\"").expect("a label has a value");
            let mut val = String::new();
            let mut chars = tail.char_indices();
            let end = loop {
                match chars.next().expect("a label value closes") {
                    (_, '\\') => val.push(chars.next().expect("an escape").1),
                    (i, '"') => break i,
                    (_, c) => val.push(c),
                }
            };
            labels.insert(key.to_owned(), val);
            rest = tail[end + 1..].trim_start_matches(',');
        }
        out.insert((name.to_owned(), labels), value);
    }
    out
}

/// `promtool check metrics` (the Prometheus project's linter) on `text`: fails the test
/// with its complaints, or when it is not installed (CI installs Debian's `prometheus`).
fn promtool_accepts(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus; .ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refused the exposition ({}):\n{}{}\n---\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const REQUESTS: &str = "chanlab_http_request_duration_seconds_count";

fn request(method: &str, route: &str, status: &str) -> [(&'static str, String); 3] {
    [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_owned()),
    ]
}

fn count(s: &Scrape, labels: &[(&'static str, String); 3]) -> f64 {
    let l: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.value(REQUESTS, &l)
}

#[actix_web::test]
async fn metrics_count_requests_by_route_template_and_status_and_pass_promtool() {
    let app = metered().await;
    let region = app.region("Nordics").await;
    let before = scrape(&app).await;

    for _ in 0..2 {
        assert_eq!(app.get(&format!("/regions/{region}")).await.status, 200);
    }
    let unknown = "0190b7a4-0000-7000-8000-000000000000";
    assert_eq!(app.get(&format!("/regions/{unknown}")).await.status, 404);
    assert_eq!(app.get("/no/such/path/here").await.status, 404);
    let odd = Method::from_bytes(b"FROB").unwrap();
    app.send(odd, "/regions", Some(&app.admin), &[], None).await;
    let after = scrape(&app).await;

    let delta = |labels| count(&after, &labels) - count(&before, &labels);
    assert_eq!(delta(request("GET", "/regions/{id}", "200")), 2.0);
    assert_eq!(delta(request("GET", "/regions/{id}", "404")), 1.0);
    assert_eq!(delta(request("GET", "unmatched", "404")), 1.0);
    assert_eq!(delta(request("other", "/regions", "405")), 1.0);
    // The scrape before this one counted itself.
    assert_eq!(delta(request("GET", "/metrics", "200")), 1.0);
    // Routes are templates: no id, no raw path, no odd method makes a series of its own.
    for needle in [region.as_str(), unknown, "/no/such", "FROB"] {
        assert!(
            !after.text.contains(needle),
            "{needle} leaked into\n{}",
            after.text
        );
    }
    // Every latency bucket is cumulative and ends at the count.
    let route = [
        ("method", "GET"),
        ("route", "/regions/{id}"),
        ("status", "200"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        after.value("chanlab_http_request_duration_seconds_bucket", &route),
        count(&after, &request("GET", "/regions/{id}", "200"))
    );
    promtool_accepts(&after.text);

    // A scraper that asks for OpenMetrics gets it, ended by `# EOF`, with the same series.
    let om = app
        .send(
            Method::GET,
            "/metrics",
            None,
            &[("Accept", "application/openmetrics-text; version=1.0.0")],
            None,
        )
        .await;
    assert_eq!(om.status, 200);
    assert!(
        om.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let om = om.text();
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# TYPE chanlab_jobs_ended counter"), "{om}");
    let converted = chanlab_api::metrics::text_format(&om);
    assert!(converted.contains("# TYPE chanlab_jobs_ended_total counter"));
    promtool_accepts(&converted);
}

#[actix_web::test]
async fn metrics_are_404_like_an_unknown_path_without_the_flag() {
    let app = spawn_app_with_settings(Settings::default()).await;
    let res = app.send(Method::GET, "/metrics", None, &[], None).await;
    assert_eq!(res.problem(404)["status"], 404);
    // Not even the admin token opens it: the switch is the operator's.
    assert_eq!(app.get("/metrics").await.status, 404);
}

#[actix_web::test]
async fn metrics_count_a_run_a_training_round_an_import_and_the_flushes() {
    let app = metered().await;
    let before = scrape(&app).await;

    let scenario = crate::runs::scenario(&app, &crate::scenarios::small_scenario(4)).await;
    crate::runs::finished_run(&app, &scenario).await;

    let trainee = app.token("trainee", None, None).await;
    let session = app
        .json_as(
            &trainee,
            Method::POST,
            "/training/sessions",
            &json!({"exercise": "quarter-end-games", "seed": 2, "replications": 4}),
        )
        .await;
    assert_eq!(session.status, 201, "{}", session.text());
    let rounds = format!(
        "/training/sessions/{}/rounds",
        session.json()["id"].as_str().unwrap()
    );
    let round = || {
        app.send(
            Method::POST,
            &rounds,
            Some(&trainee),
            &[("Idempotency-Key", "round-1")],
            Some(("application/json", b"{}".to_vec())),
        )
    };
    assert_eq!(round().await.status, 200);
    // A replay plays nothing, and is not counted as played.
    assert_eq!(
        round().await.header("idempotent-replayed").as_deref(),
        Some("true")
    );

    let region = app.region("Nordics").await;
    let csv = |rows: &str| {
        app.send(
            Method::POST,
            "/partners/import",
            Some(&app.admin),
            &[],
            Some((
                "text/csv",
                format!("id,name,kind,tier,region_id,owner_rep_id,stage\n{rows}").into_bytes(),
            )),
        )
    };
    let good = format!(",Acme AB,reseller,A,{region},,\n,Nord Ltd,agent,C,{region},,\n");
    assert_eq!(csv(&good).await.status, 201);
    assert_eq!(
        csv(&format!(",Bad AB,wholesaler,A,{region},,\n"))
            .await
            .status,
        422
    );

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    let done = [("kind", "run"), ("status", "done")];
    assert_eq!(delta("chanlab_jobs_ended_total", &done), 1.0);
    for status in ["queued", "running"] {
        let active = [("kind", "run"), ("status", status)];
        assert_eq!(after.value("chanlab_jobs", &active), 0.0, "{status}");
    }
    assert_eq!(
        delta("chanlab_training_rounds_total", &[("outcome", "played")]),
        1.0
    );
    let imports = |outcome| [("collection", "partner"), ("outcome", outcome)];
    assert_eq!(
        delta("chanlab_csv_imports_total", &imports("imported")),
        1.0
    );
    assert_eq!(delta("chanlab_csv_imports_total", &imports("refused")), 1.0);
    assert_eq!(
        delta(
            "chanlab_csv_imported_rows_total",
            &[("collection", "partner")]
        ),
        2.0
    );
    // Every acknowledged write waited for a flush: at least one was timed.
    assert!(
        delta("chanlab_storage_flush_duration_seconds_count", &[]) >= 1.0,
        "{}",
        after.text
    );
    promtool_accepts(&after.text);
}

#[actix_web::test]
async fn a_training_round_refused_for_too_many_at_once_is_counted() {
    // A server that plays no round at once refuses every one, whatever else runs.
    let app = spawn_app_with_settings(Settings {
        metrics: true,
        max_training_rounds: Some(0),
        ..Settings::default()
    })
    .await;
    let trainee = app.token("trainee", None, None).await;
    let session = app
        .json_as(
            &trainee,
            Method::POST,
            "/training/sessions",
            &json!({"exercise": "quarter-end-games", "seed": 2, "replications": 4}),
        )
        .await;
    let path = format!(
        "/training/sessions/{}/rounds",
        session.json()["id"].as_str().unwrap()
    );
    let res = app.json_as(&trainee, Method::POST, &path, &json!({})).await;
    assert_eq!(res.problem(429)["status"], 429);
    let after = scrape(&app).await;
    let refused = [("outcome", "refused")];
    assert_eq!(after.value("chanlab_training_rounds_total", &refused), 1.0);
    assert_eq!(
        after.value("chanlab_training_rounds_total", &[("outcome", "played")]),
        0.0
    );
}

#[actix_web::test]
async fn an_idempotency_key_replays_within_its_window_and_not_after_then_is_swept() {
    let window = Duration::from_secs(1);
    let app = spawn_app_with_settings(Settings {
        metrics: true,
        idempotency_window: Some(window),
        ..Settings::default()
    })
    .await;
    let create = |name: &str| {
        app.send(
            Method::POST,
            "/regions",
            Some(&app.admin),
            &[("Idempotency-Key", "region-1")],
            Some((
                "application/json",
                serde_json::to_vec(&json!({"name": name, "regional_manager": "Astrid Berg"}))
                    .unwrap(),
            )),
        )
    };
    let first = create("North").await;
    assert_eq!(first.status, 201, "{}", first.text());
    let replay = create("North").await;
    assert_eq!(replay.status, 201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    assert_eq!(replay.json()["id"], first.json()["id"]);

    actix_web::rt::time::sleep(window + Duration::from_millis(300)).await;
    // The key is free again: a new request under it (here another body) is a new write.
    let fresh = create("South").await;
    assert_eq!(fresh.status, 201, "{}", fresh.text());
    assert_eq!(fresh.header("idempotent-replayed"), None);
    assert_ne!(fresh.json()["id"], first.json()["id"]);
    let regions = app.get("/regions").await.json();
    assert_eq!(regions["items"].as_array().unwrap().len(), 2);

    // The sweeper (every second for a one-second window) deletes the response once its
    // window has passed.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = scrape(&app).await;
        if s.value("chanlab_idempotency_keys_expired_total", &[]) >= 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "nothing swept:\n{}", s.text);
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    // Swept or not, an expired key never replays.
    let again = create("West").await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed"), None);
}
