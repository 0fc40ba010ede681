//! Simulation runs over HTTP: started in the background, followed to the end with their
//! progress, the same result and chart as the CLI, cancelled, bounded, and never left
//! "running" by a restart.

use std::time::{Duration, Instant};

use awc::http::Method;
use chanlab_api::simulation::RunLimits;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::scenarios::small_scenario;

/// A channel big enough that a run takes a while: two regions, 140 partner slots, a year,
/// two specs (3,360 partner-months a replication).
pub(crate) fn busy_scenario(replications: u32) -> Value {
    let region = |name: &str| json!({"name": name, "reps": 4, "backing": 0.7, "partners": {"A": 5, "B": 20, "C": 35}, "prospects": 10});
    json!({
        "name": "Busy channel",
        "horizon_months": 12,
        "replications": replications,
        "seed": 2027,
        "channel": {"regions": [region("North"), region("South")]},
        "specs": [{"bundled": "flat-growth"}, {"bundled": "potential-based"}]
    })
}

/// Posts `body` as a scenario; its id.
pub(crate) async fn scenario(app: &TestApp, body: &Value) -> String {
    app.create("/scenarios", body).await
}

/// Starts a run; the answer.
async fn start(app: &TestApp, scenario: &str, body: &Value) -> crate::helpers::Answer {
    app.post(&format!("/scenarios/{scenario}/runs"), body).await
}

/// Polls the run until `until` holds for its body (60 s at most); every body seen.
async fn follow(app: &TestApp, run: &str, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let res = app.get(&format!("/runs/{run}")).await;
        assert_eq!(res.status, 200, "{}", res.text());
        let body = res.json();
        let done = until(&body);
        seen.push(body);
        if done {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "run {run} stuck: {:?}",
            seen.last()
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A finished (done) run of `scenario`: its id.
pub(crate) async fn finished_run(app: &TestApp, scenario: &str) -> String {
    let res = start(app, scenario, &json!({"replications": 4})).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();
    follow(app, &id, |r| r["status"] == "done").await;
    id
}

fn status(body: &Value) -> &str {
    body["status"].as_str().unwrap()
}

#[actix_web::test]
async fn a_run_goes_queued_running_done_and_equals_the_cli() {
    let app = spawn_app().await;
    let id = scenario(&app, &busy_scenario(100)).await;

    let res = start(&app, &id, &json!({"replications": 3000, "seed": 99})).await;

    assert_eq!(res.status, 202, "{}", res.text());
    let accepted = res.json();
    let run = accepted["id"].as_str().unwrap().to_owned();
    assert_eq!(res.header("location"), Some(format!("/runs/{run}")));
    assert_eq!(status(&accepted), "queued");
    assert_eq!(accepted["progress"], json!({"done": 0, "total": 3000}));
    assert_eq!(accepted["seed"], 99);
    assert_eq!(accepted["partner_months"], 3000 * 140 * 12 * 2);
    let seen = follow(&app, &run, |r| status(r) == "done").await;
    let running: Vec<u64> = seen
        .iter()
        .filter(|r| status(r) == "running")
        .map(|r| r["progress"]["done"].as_u64().unwrap())
        .collect();
    assert!(
        running.iter().any(|&d| d > 0 && d < 3000),
        "progress while running: {running:?}"
    );
    assert!(running.windows(2).all(|w| w[0] <= w[1]), "{running:?}");
    let done = seen.last().unwrap();
    assert_eq!(done["progress"], json!({"done": 3000, "total": 3000}));
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());

    // The CLI on the stored scenario with the same overrides writes the same document.
    let stored = app.get(&format!("/scenarios/{id}")).await.json();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("busy.json");
    std::fs::write(&file, serde_json::to_vec(&stored["scenario"]).unwrap()).unwrap();
    let chart = dir.path().join("busy.svg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .arg("run")
        .arg(&file)
        .args([
            "--replications",
            "3000",
            "--seed",
            "99",
            "--format",
            "json",
            "--quiet",
        ])
        .arg("--chart")
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        done["result"], cli,
        "the API's result differs from the CLI's"
    );
    let svg = app.get(&format!("/runs/{run}/chart.svg")).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(svg.body, std::fs::read(&chart).unwrap(), "the same chart");
    // The spec's octet-stream alternative, for clients that read only bytes.
    let bytes = app
        .send(
            Method::GET,
            &format!("/runs/{run}/chart.svg"),
            Some(&app.admin),
            &[("Accept", "application/octet-stream")],
            None,
        )
        .await;
    assert_eq!(
        bytes.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(bytes.body, svg.body);
}

#[actix_web::test]
async fn a_run_is_cancelled_then_deleted() {
    let app = spawn_app().await;
    let id = scenario(&app, &busy_scenario(200_000)).await;
    let run = start(&app, &id, &json!({})).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    follow(&app, &run, |r| {
        status(r) == "running" && r["progress"]["done"].as_u64().unwrap() > 0
    })
    .await;

    let res = app
        .send(
            Method::DELETE,
            &format!("/runs/{run}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;

    assert_eq!(res.status, 202, "{}", res.text());
    let seen = follow(&app, &run, |r| status(r) != "running").await;
    let end = seen.last().unwrap();
    assert_eq!(status(end), "cancelled");
    let done = end["progress"]["done"].as_u64().unwrap();
    assert!(done > 0 && done < 200_000, "{end}");
    assert!(end.get("result").is_none());
    app.get(&format!("/runs/{run}/chart.svg"))
        .await
        .problem(409);
    // The scenario cannot go while a run refers to it; the finished run can.
    app.send(
        Method::DELETE,
        &format!("/scenarios/{id}"),
        Some(&app.admin),
        &[],
        None,
    )
    .await
    .problem(409);
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/runs/{run}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    app.get(&format!("/runs/{run}")).await.problem(404);
    // The trail says who asked it to stop (the stop itself is the runner's, unaudited)
    // and who deleted it.
    let trail = app.get(&format!("/audit?kind=run&record_id={run}")).await;
    assert_eq!(trail.status, 200, "{}", trail.text());
    let trail = trail.json();
    let seen: Vec<(&str, &str, &str)> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["operation"].as_str().unwrap(),
                e["actor"]["label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("created", "POST /scenarios/{id}/runs", "test admin"),
            ("cancel_requested", "DELETE /runs/{id}", "test admin"),
            ("deleted", "DELETE /runs/{id}", "test admin"),
        ],
        "{trail}"
    );
    let scenario_gone = app
        .send(
            Method::DELETE,
            &format!("/scenarios/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(scenario_gone.status, 204);
}

#[actix_web::test]
async fn a_run_over_the_cap_is_refused_naming_replications() {
    let app = spawn_app_with(RunLimits {
        max_partner_months: 100_000,
        ..RunLimits::default()
    })
    .await;
    let id = scenario(&app, &small_scenario(5)).await;

    // 8 slots × 6 months × 2 specs = 96 partner-months a replication.
    let res = start(&app, &id, &json!({"replications": 5000})).await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "replications");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("at most 1041 replications"), "{message}");
    let fits = start(&app, &id, &json!({"replications": 1000})).await;
    assert_eq!(fits.status, 202, "{}", fits.text());
    let bad = start(&app, &id, &json!({"replications": 0})).await;
    assert_eq!(bad.problem(422)["errors"][0]["field"], "replications");
    let unknown = start(&app, &id, &json!({"replicas": 5})).await;
    assert_eq!(unknown.problem(422)["errors"][0]["field"], "replicas");
    start(&app, "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01", &json!({}))
        .await
        .problem(404);
}

#[actix_web::test]
async fn too_many_runs_at_once_is_429_with_retry_after() {
    let app = spawn_app_with(RunLimits {
        max_running: 1,
        ..RunLimits::default()
    })
    .await;
    let id = scenario(&app, &busy_scenario(200_000)).await;
    let first = start(&app, &id, &json!({})).await;
    assert_eq!(first.status, 202);
    let first = first.json()["id"].as_str().unwrap().to_owned();

    let second = start(&app, &id, &json!({})).await;

    second.problem(429);
    assert_eq!(second.header("retry-after").as_deref(), Some("5"));
    let still = app.get(&format!("/runs/{first}")).await.json();
    assert!(["queued", "running"].contains(&status(&still)), "{still}");
    // Once the first stops, there is room again.
    app.send(
        Method::DELETE,
        &format!("/runs/{first}"),
        Some(&app.admin),
        &[],
        None,
    )
    .await;
    follow(&app, &first, |r| status(r) == "cancelled").await;
    let mut third = start(&app, &id, &json!({"replications": 10})).await;
    for _ in 0..100 {
        if third.status != 429 {
            break;
        }
        // The thread leaves the runner just after it stores the cancelled status.
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        third = start(&app, &id, &json!({"replications": 10})).await;
    }
    assert_eq!(third.status, 202, "{}", third.text());
}

#[actix_web::test]
async fn a_run_interrupted_by_a_restart_is_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let token = crate::restart::admin_token(dir.path());
    let mut server = crate::restart::start(dir.path());
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    let call = |method: Method, address: String, path: &str, body: Option<Value>| {
        let req = client
            .request(method, format!("{address}{path}"))
            .insert_header(("Authorization", format!("Bearer {token}")));
        async move {
            let mut res = match body {
                Some(b) => req.send_json(&b).await.unwrap(),
                None => req.send().await.unwrap(),
            };
            let status = res.status().as_u16();
            let body: Value = res.json().limit(64 << 20).await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let (_, created) = call(
        Method::POST,
        server.address.clone(),
        "/scenarios",
        Some(busy_scenario(200_000)),
    )
    .await;
    let scenario = created["id"].as_str().unwrap().to_owned();
    let (status_code, run) = call(
        Method::POST,
        server.address.clone(),
        &format!("/scenarios/{scenario}/runs"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status_code, 202, "{run}");
    let run = run["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = call(
            Method::GET,
            server.address.clone(),
            &format!("/runs/{run}"),
            None,
        )
        .await;
        if status(&body) == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "never started: {body}");
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = crate::restart::start(dir.path());

    let (code, body) = call(
        Method::GET,
        server.address.clone(),
        &format!("/runs/{run}"),
        None,
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(status(&body), "interrupted", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("start the run again")
    );
    assert!(body["finished_at"].is_string());
    // Its place is free again, and it can be deleted like any finished run.
    let (code, _) = call(
        Method::POST,
        server.address.clone(),
        &format!("/scenarios/{scenario}/runs"),
        Some(json!({"replications": 5})),
    )
    .await;
    assert_eq!(code, 202);
    let (code, _) = call(
        Method::DELETE,
        server.address.clone(),
        &format!("/runs/{run}"),
        None,
    )
    .await;
    assert_eq!(code, 204);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[actix_web::test]
async fn a_viewer_reads_runs_but_cannot_start_or_cancel_them() {
    let app = spawn_app().await;
    let id = scenario(&app, &small_scenario(5)).await;
    let run = finished_run(&app, &id).await;
    let viewer = app.token("viewer", None, None).await;

    let read = app
        .send(
            Method::GET,
            &format!("/runs/{run}"),
            Some(&viewer),
            &[],
            None,
        )
        .await;

    assert_eq!(read.status, 200);
    assert_eq!(read.json()["status"], "done");
    app.json_as(
        &viewer,
        Method::POST,
        &format!("/scenarios/{id}/runs"),
        &json!({}),
    )
    .await
    .problem(403);
    app.send(
        Method::DELETE,
        &format!("/runs/{run}"),
        Some(&viewer),
        &[],
        None,
    )
    .await
    .problem(403);
}

#[actix_web::test]
async fn a_retried_run_request_with_one_idempotency_key_starts_one_run() {
    let app = spawn_app().await;
    let id = scenario(&app, &small_scenario(5)).await;
    let path = format!("/scenarios/{id}/runs");
    let send = || {
        app.send(
            Method::POST,
            &path,
            Some(&app.admin),
            &[("Idempotency-Key", "run-once")],
            Some(("application/json", b"{\"seed\": 5}".to_vec())),
        )
    };

    let first = send().await;
    let again = send().await;

    assert_eq!(first.status, 202, "{}", first.text());
    assert_eq!(again.status, 202, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.json()["id"], again.json()["id"]);
    let run = first.json()["id"].as_str().unwrap().to_owned();
    let seen = follow(&app, &run, |r| status(r) == "done").await;
    assert_eq!(seen.last().unwrap()["seed"], 5);
}
