//! `/backtests`: a backtest of the records as a kind of run. Accepted (202) and followed to
//! its rows, summary and chart; a holdout the records cannot give refused before anything
//! is stored; a place among the runs at once, like any run.

use std::time::{Duration, Instant};

use chanlab_api::records::BacktestRecord;
use chanlab_api::simulation::RunLimits;
use chanlab_api::startup::open_storage;
use chanlab_api::storage::Store;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, TestApp, spawn_app_with_records, spawn_app_with_records_on, synthetic,
};

/// Polls the backtest at `location` until it is no longer queued or running (120 s at
/// most); its last body.
pub(crate) async fn follow(app: &TestApp, location: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let res = app.get(location).await;
        assert_eq!(res.status, 200, "{}", res.text());
        let body = res.json();
        if !matches!(body["status"].as_str(), Some("queued" | "running")) {
            return body;
        }
        assert!(Instant::now() < deadline, "backtest stuck: {body}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A finished (done) backtest of the records `app` holds: its id.
pub(crate) async fn finished_backtest(app: &TestApp) -> String {
    let res = app
        .post(
            "/backtests",
            &json!({"holdout_months": 2, "replications": 10}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let location = res.header("location").unwrap();
    let done = follow(app, &location).await;
    assert_eq!(done["status"], "done", "{done}");
    done["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_backtest_is_accepted_then_runs_to_its_rows_summary_and_chart() {
    let app = spawn_app_with_records(&synthetic(16, 4), RunLimits::default()).await;

    let res = app
        .post(
            "/backtests",
            &json!({"holdout_months": 3, "replications": 20, "seed": 5}),
        )
        .await;

    assert_eq!(res.status, 202, "{}", res.text());
    let accepted = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(
        location,
        format!("/backtests/{}", accepted["id"].as_str().unwrap())
    );
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["holdout_months"], 3);
    assert_eq!(accepted["replications"], 20);
    assert_eq!(accepted["cut"], "2028-01");
    assert_eq!(accepted["last"], "2028-04");
    assert_eq!(accepted["currency"], "EUR");
    assert!(accepted.get("result").is_none());

    let done = follow(&app, &location).await;
    assert_eq!(done["status"], "done", "{done}");
    assert!(done["started_at"].is_string() && done["finished_at"].is_string());
    // Both forecasts (with parameter draws and at the estimates) of 20 replications.
    assert_eq!(
        done["progress"],
        serde_json::json!({"done": 40, "total": 40})
    );
    let result = &done["result"];
    assert_eq!(result["cut"], "2028-01");
    assert_eq!(result["replications"], 20);
    let rows = result["rows"].as_array().unwrap();
    // Three held-out months, each for the channel and its four regions.
    assert_eq!(rows.len(), 3 * 5, "{rows:?}");
    let channel: Vec<&Value> = rows.iter().filter(|r| r["region"].is_null()).collect();
    let months: Vec<&str> = channel
        .iter()
        .map(|r| r["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2028-02", "2028-03", "2028-04"]);
    for r in &channel {
        let (p5, p95) = (r["p5"].as_f64().unwrap(), r["p95"].as_f64().unwrap());
        assert!(p5 <= r["mean"].as_f64().unwrap() && r["mean"].as_f64().unwrap() <= p95);
        assert!(r["actual"].as_f64().unwrap() > 0.0);
    }
    let summary = result["summary"].as_array().unwrap();
    assert_eq!(summary[0]["scope"], "channel");
    assert_eq!(summary[0]["rows"], 3);
    assert!(summary[0]["mape"].as_f64().unwrap().is_finite());
    assert_eq!(result["history"].as_array().unwrap().len(), 12);
    assert!(!result["fit"]["parameters"].as_array().unwrap().is_empty());

    let chart = app.get(&format!("{location}/chart.svg")).await;
    assert_eq!(chart.status, 200, "{}", chart.text());
    assert_eq!(
        chart.header("content-type").as_deref(),
        Some("image/svg+xml")
    );
    let svg = chart.text();
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert_eq!(svg.matches("<circle").count(), 3);
    for m in ["2028-02", "2028-03", "2028-04"] {
        assert!(svg.contains(&format!(">{m}</text>")), "{m}");
    }
}

#[actix_web::test]
async fn a_holdout_the_records_cannot_give_is_422_naming_holdout_months_and_stores_nothing() {
    // Fourteen months of sales: a calibration needs twelve before the cut, so 1 or 2.
    // sled only: the test reopens the data directory afterwards.
    let app =
        spawn_app_with_records_on(Backend::Sled, &synthetic(14, 4), RunLimits::default()).await;

    for months in [0, 3, 9] {
        let res = app
            .post(
                "/backtests",
                &json!({"holdout_months": months, "replications": 20}),
            )
            .await;

        let problem = res.problem(422);
        assert_eq!(problem["errors"][0]["field"], "holdout_months", "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("expected 1 to 2 months"), "{message}");
        assert!(message.contains("14 months of sales"), "{message}");
    }
    let few = app
        .post(
            "/backtests",
            &json!({"holdout_months": 1, "replications": 2}),
        )
        .await;
    assert_eq!(few.problem(422)["errors"][0]["field"], "replications");
    let missing = app.post("/backtests", &json!({"replications": 20})).await;
    assert_eq!(missing.problem(422)["errors"][0]["field"], "holdout_months");

    let data = app.stop().await;
    // sled keeps the directory locked until the server's threads have let go of it.
    let mut storage = open_storage(data.path());
    for _ in 0..100 {
        if storage.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        storage = open_storage(data.path());
    }
    let store = Store::new(std::sync::Arc::new(storage.unwrap()));
    assert!(store.all::<BacktestRecord>(None).unwrap().is_empty());
}

#[actix_web::test]
async fn a_backtest_takes_a_place_among_the_runs_at_once() {
    let limits = RunLimits {
        max_running: 1,
        ..RunLimits::default()
    };
    let app = spawn_app_with_records(&synthetic(14, 4), limits).await;
    let scenario = crate::runs::scenario(&app, &crate::scenarios::small_scenario(4)).await;

    let first = app
        .post(
            "/backtests",
            &json!({"holdout_months": 1, "replications": 10}),
        )
        .await;
    let second = app
        .post(
            "/backtests",
            &json!({"holdout_months": 1, "replications": 10}),
        )
        .await;
    let run = app
        .post(&format!("/scenarios/{scenario}/runs"), &json!({}))
        .await;

    assert_eq!(first.status, 202, "{}", first.text());
    second.problem(429);
    assert!(second.header("retry-after").is_some());
    run.problem(429);
    let done = follow(&app, &first.header("location").unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
}

#[actix_web::test]
async fn an_unknown_backtest_is_404_and_its_chart_too() {
    let app = spawn_app_with_records(&synthetic(14, 4), RunLimits::default()).await;

    app.get("/backtests/not-an-id").await.problem(404);
    let unknown = "0193a3e0-7c3f-7000-8000-000000000000";
    app.get(&format!("/backtests/{unknown}")).await.problem(404);
    app.get(&format!("/backtests/{unknown}/chart.svg"))
        .await
        .problem(404);
}

#[actix_web::test]
async fn a_backtest_over_http_equals_the_clis_on_the_same_data_directory() {
    // sled only: the CLI opens the data directory afterwards.
    let app =
        spawn_app_with_records_on(Backend::Sled, &synthetic(14, 4), RunLimits::default()).await;
    let res = app
        .post(
            "/backtests",
            &json!({"holdout_months": 2, "replications": 10, "seed": 3}),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let location = res.header("location").unwrap();
    let done = follow(&app, &location).await;
    assert_eq!(done["status"], "done", "{done}");
    let svg = app.get(&format!("{location}/chart.svg")).await;
    assert_eq!(svg.status, 200);
    // The CLI opens the data directory itself, so the server must let go of it first.
    let dir = app.stop().await;
    let chart = dir.path().join("backtest.svg");

    let mut out = None;
    for _ in 0..100 {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
            .args([
                "backtest",
                "--holdout-months",
                "2",
                "--replications",
                "10",
                "--seed",
                "3",
                "--format",
                "json",
                "--data-dir",
            ])
            .arg(dir.path())
            .arg("--chart")
            .arg(&chart)
            .output()
            .unwrap();
        if run.status.success() {
            out = Some(run);
            break;
        }
        // sled keeps the directory locked until the server's threads have let go of it.
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = out.expect("chanlab backtest succeeds once the server is gone");
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        done["result"], cli,
        "the API's backtest differs from the CLI's"
    );
    assert_eq!(svg.body, std::fs::read(&chart).unwrap(), "the same chart");
}
