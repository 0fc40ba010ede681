//! Every figure a client reads is a named, typed field: a finished run of each kind and a
//! finished backtest, fetched over HTTP, validate against the generated OpenAPI document's
//! `RunView` and `BacktestView` (every `$ref` resolved in the whole document), and the same
//! answer with a report figure misspelt, missing or of the wrong type does not. So does a
//! delivery of each webhook event against `Delivery`.

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with_records, synthetic};
use crate::scenarios::small_scenario;

/// Where the generated document is registered for `$ref`s into it.
const DOCUMENT: &str = "urn:chanlab:openapi";

/// A validator of the generated document's component schema `name`.
fn validator(name: &str) -> Validator {
    let document: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .add(DOCUMENT, document)
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(&registry)
        .build(&json!({"$ref": format!("{DOCUMENT}#/components/schemas/{name}")}))
        .unwrap_or_else(|e| panic!("{name} is not a usable schema: {e}"))
}

/// Asserts `instance` is valid, listing every error if not.
fn assert_valid(validator: &Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what} is invalid: {errors:#?}");
}

/// Asserts `instance` with `change` applied at the JSON pointer `at` is invalid.
fn assert_invalid_after(
    validator: &Validator,
    what: &str,
    instance: &Value,
    at: &str,
    change: Change,
) {
    let mut broken = instance.clone();
    let (parent, field) = at.rsplit_once('/').unwrap();
    let object = broken
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{what} has no object at {parent}"));
    let value = object
        .remove(field)
        .unwrap_or_else(|| panic!("{what} has no {at}"));
    match change {
        Change::Misspell => {
            object.insert(format!("{field}_"), value);
        }
        Change::Remove => {}
        Change::Retype => {
            object.insert(field.to_owned(), json!("not a figure"));
        }
    }
    assert!(
        !validator.is_valid(&broken),
        "{what} with {at} {change:?} still validates"
    );
}

/// How to break a figure.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Renamed (a trailing `_`), so the field the schema names is missing.
    Misspell,
    /// Left out.
    Remove,
    /// A string where a number belongs.
    Retype,
}

/// Starts a run of `scenario` with `body` and follows it to done; its final answer.
async fn finished(app: &TestApp, scenario: &Value, body: &Value) -> Value {
    let id = app.create("/scenarios", scenario).await;
    crate::experiments::done(app, &id, body).await
}

fn swept() -> Value {
    let mut s = small_scenario(3);
    s["sweep"] = json!([{"spec": "Stretch goals", "path": "goal_setting.strategy.uplift", "values": [0.1, 0.4]}]);
    s
}

#[actix_web::test]
async fn a_finished_run_of_each_kind_validates_against_run_view() {
    let app = spawn_app().await;
    let runs = validator("RunView");
    let compare = finished(&app, &small_scenario(3), &json!({})).await;
    let sweep = finished(&app, &swept(), &json!({})).await;
    let sensitivity = finished(
        &app,
        &small_scenario(2),
        &json!({"kind": "sensitivity", "sensitivity": {"parameters": ["commitment_midpoint", "demand_noise"], "samples": 2}}),
    )
    .await;
    let optimise = finished(
        &app,
        &small_scenario(4),
        &json!({"kind": "optimise", "optimise": {
            "objective": "margin_after_incentives",
            "vary": ["goal_setting.strategy.uplift=0.05..0.6"],
            "constraints": ["rep_attrition <= 50"],
            "candidates": 3}}),
    )
    .await;
    for (kind, document, run) in [
        ("compare", "CompareDocument", &compare),
        ("sweep", "SweepDocument", &sweep),
        ("sensitivity", "SensitivityDocument", &sensitivity),
        ("optimise", "OptimiseDocument", &optimise),
    ] {
        assert_eq!(run["kind"], kind);
        assert_valid(&runs, kind, run);
        // `result` is a `oneOf`, so the run is valid against its own kind's document alone.
        assert_valid(&validator(document), kind, &run["result"]);
    }
    assert!(
        compare["result"].get("kind").is_none(),
        "a comparison carries no kind"
    );

    for (what, run, at, change) in [
        (
            "compare",
            &compare,
            "/result/report/specs/1/vs_baseline/0/probability_better",
            Change::Misspell,
        ),
        (
            "compare",
            &compare,
            "/result/report/specs/0/kpis/2/summary/p95",
            Change::Remove,
        ),
        (
            "compare",
            &compare,
            "/result/report/specs/0/monthly_sell_through/0/mean",
            Change::Retype,
        ),
        (
            "sweep",
            &sweep,
            "/result/report/points/1/specs/1/kpis/0/difference",
            Change::Remove,
        ),
        (
            "sweep",
            &sweep,
            "/result/report/points/0/specs/0/kpis/0/ci95_low",
            Change::Misspell,
        ),
        (
            "sensitivity",
            &sensitivity,
            "/result/report/comparisons/0/effects/0/mu_star",
            Change::Retype,
        ),
        (
            "sensitivity",
            &sensitivity,
            "/result/report/comparisons/0/robustness/share_better",
            Change::Misspell,
        ),
        (
            "optimise",
            &optimise,
            "/result/confirmation/difference/ci95_low",
            Change::Remove,
        ),
        (
            "optimise",
            &optimise,
            "/result/confirmation/probability_better",
            Change::Misspell,
        ),
        (
            "optimise",
            &optimise,
            "/result/search/winner",
            Change::Retype,
        ),
    ] {
        assert_invalid_after(&runs, what, run, at, change);
    }
}

#[actix_web::test]
async fn a_finished_backtest_validates_against_backtest_view() {
    let app = spawn_app_with_records(&synthetic(14, 3), Default::default()).await;
    let id = crate::backtests::finished_backtest(&app).await;
    let backtest = app.get(&format!("/backtests/{id}")).await.json();
    let backtests = validator("BacktestView");
    assert_valid(&backtests, "backtest", &backtest);
    for (at, change) in [
        ("/result/rows/0/p95", Change::Misspell),
        ("/result/rows/1/bias", Change::Remove),
        ("/result/summary/0/mape", Change::Retype),
        ("/result/replications", Change::Retype),
    ] {
        assert_invalid_after(&backtests, "backtest", &backtest, at, change);
    }
}

#[actix_web::test]
async fn a_delivery_of_each_event_validates_against_delivery() {
    let app = spawn_app().await;
    // Paused: the deliveries wait in the log, which is what this reads.
    let hook =
        crate::webhooks::subscribe(&app, "http://127.0.0.1:9/hooks", crate::webhooks::ALL, true)
            .await;
    crate::webhooks::cause_every_event(&app).await;

    let log = every_delivery(&app, hook["id"].as_str().unwrap()).await;
    let deliveries = validator("Delivery");
    for delivery in &log {
        assert_valid(&deliveries, delivery["type"].as_str().unwrap(), delivery);
    }
    let run = log.iter().find(|d| d["type"] == "run.finished").unwrap();
    assert_invalid_after(
        &deliveries,
        "run.finished",
        run,
        "/data/status",
        Change::Retype,
    );
    let import = log.iter().find(|d| d["type"] == "import.finished").unwrap();
    assert_invalid_after(
        &deliveries,
        "import.finished",
        import,
        "/data/count",
        Change::Misspell,
    );
}

/// The delivery log of subscription `webhook` once it holds one delivery of each event
/// (the outbox is read after the commit): 30 s at most.
async fn every_delivery(app: &TestApp, webhook: &str) -> Vec<Value> {
    let mut all = crate::webhooks::ALL.to_vec();
    all.sort_unstable();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let log = crate::webhooks::deliveries(app, webhook).await;
        let mut types: Vec<&str> = log.iter().map(|d| d["type"].as_str().unwrap()).collect();
        types.sort_unstable();
        if types == all {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries {types:?}, wanted {all:?}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
