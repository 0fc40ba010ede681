//! Sweeps, sensitivity studies and policy searches over HTTP: kinds of run under
//! `POST /scenarios/{id}/runs`, followed with their progress to the same result the library
//! (and so the CLI) computes, with their charts, cancelled like any run, under the size cap,
//! and with a bad option refused as a 422 naming it before anything is stored.

use std::time::{Duration, Instant};

use awc::http::Method;
use chanlab_api::simulation::RunLimits;
use chanlab_sim::engine::RunOptions;
use chanlab_sim::explore::sensitivity::{self, ParameterChoice, SensitivityOptions};
use chanlab_sim::explore::sweep;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::scenarios::small_scenario;

/// Starts a run of `scenario` with `body`; the answer.
async fn start(app: &TestApp, scenario: &str, body: &Value) -> crate::helpers::Answer {
    app.post(&format!("/scenarios/{scenario}/runs"), body).await
}

/// Polls run `id` until it is no longer queued or running (120 s at most); its last body.
async fn finish(app: &TestApp, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let body = app.get(&format!("/runs/{id}")).await.json();
        if !matches!(body["status"].as_str(), Some("queued" | "running")) {
            return body;
        }
        assert!(Instant::now() < deadline, "run stuck: {body}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts and finishes a run; its final body, which must be done.
pub(crate) async fn done(app: &TestApp, scenario: &str, body: &Value) -> Value {
    let res = start(app, scenario, body).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let run = finish(app, &id).await;
    assert_eq!(run["status"], "done", "{run}");
    run
}

/// The scenario as the library parses it.
fn parsed(body: &Value) -> chanlab_sim::scenario::Scenario {
    chanlab_sim::scenario::parse(&body.to_string(), chanlab_sim::files::Format::Json, &|_| {
        Err("no files".into())
    })
    .expect("valid scenario")
}

fn swept() -> Value {
    let mut s = small_scenario(6);
    s["sweep"] = json!([{"spec": "Stretch goals", "path": "goal_setting.strategy.uplift", "values": [0.1, 0.3, 0.5]}]);
    s
}

#[actix_web::test]
async fn a_sweep_runs_as_a_kind_of_run_to_the_libraries_result_and_chart() {
    let app = spawn_app().await;
    let body = swept();
    let scenario = app.create("/scenarios", &body).await;
    // A scenario with a sweep is a sweep unless told otherwise.
    let run = done(&app, &scenario, &json!({})).await;
    assert_eq!(run["kind"], "sweep");
    assert_eq!(run["progress"]["done"], run["progress"]["total"]);
    let library = sweep::run_sweep(
        &parsed(&body),
        &RunOptions {
            threads: 1,
            shard: None,
        },
        &|| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    let mut result = run["result"].clone();
    // The server stores the result and reads it back.
    let stored: sweep::SweepResult =
        serde_json::from_str(&serde_json::to_string(&library).unwrap()).unwrap();
    assert_eq!(stored, library);
    // Through text like the answer: serde_json's default float parsing may land one ulp off.
    let mut expected: Value =
        serde_json::from_str(&serde_json::to_string(&stored.document()).unwrap()).unwrap();
    // The stored scenario has its specs inline; the library's too. Everything must agree.
    result.as_object_mut().unwrap().remove("chanlab_version");
    expected.as_object_mut().unwrap().remove("chanlab_version");
    fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
                let (p, q) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                first_difference(p, q, format!("{at}.{k}"))
            }),
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, format!("{at}[{i}]"))),
            _ if a == b => None,
            _ => Some(format!("{at}: {a} vs {b}")),
        }
    }
    assert_eq!(first_difference(&result, &expected, "$".into()), None);
    assert_eq!(result, expected);
    let chart = app
        .get(&format!("/runs/{}/chart.svg", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(chart.status, 200);
    assert!(chart.text().starts_with("<svg") || chart.text().starts_with("<?xml"));
    // The same chart `chanlab compare --chart` draws: the swept spec, on margin.
    let report = stored.report();
    let expected_chart = chanlab_sim::explore::sweep_chart::sweep_svg(
        &report,
        chanlab_sim::model::Kpi::MarginAfterIncentives,
        stored.charted_spec(&report),
        stored.scenario.name.as_str(),
        stored.scenario.currency.code(),
    );
    assert_eq!(chart.text(), expected_chart);
}

#[actix_web::test]
async fn a_sensitivity_study_runs_over_http_and_equals_the_library() {
    let app = spawn_app().await;
    let body = small_scenario(4);
    let scenario = app.create("/scenarios", &body).await;
    let request = json!({"kind": "sensitivity", "sensitivity": {"parameters": ["commitment_midpoint", "demand_noise"], "samples": 2}});
    let run = done(&app, &scenario, &request).await;
    assert_eq!(run["kind"], "sensitivity");
    assert_eq!(run["result"]["kind"], "sensitivity");
    let options = SensitivityOptions {
        parameters: ParameterChoice::List(vec![
            "commitment_midpoint".into(),
            "demand_noise".into(),
        ]),
        samples: 2,
        ..SensitivityOptions::default()
    };
    let library = sensitivity::run_sensitivity(
        &parsed(&body),
        &options,
        &RunOptions {
            threads: 1,
            shard: None,
        },
        &|| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    assert_eq!(
        run["result"]["state"],
        serde_json::to_value(&library).unwrap()["state"],
        "the same design and numbers as the library's"
    );
    assert_eq!(run["progress"]["done"], run["progress"]["total"]);
    let chart = app
        .get(&format!("/runs/{}/chart.svg", run["id"].as_str().unwrap()))
        .await;
    assert_eq!(chart.status, 200);
}

#[actix_web::test]
async fn a_policy_search_runs_over_http_and_reports_its_confirmed_winner() {
    let app = spawn_app().await;
    let scenario = app.create("/scenarios", &small_scenario(8)).await;
    let request = json!({"kind": "optimise", "optimise": {
        "objective": "margin_after_incentives",
        "vary": ["goal_setting.strategy.uplift=0.05..0.6"],
        "constraints": ["rep_attrition <= 50"],
        "candidates": 4}});
    let run = done(&app, &scenario, &request).await;
    assert_eq!(run["kind"], "optimise");
    let confirmation = &run["result"]["confirmation"];
    assert!(confirmation["difference"]["mean"].is_number(), "{run}");
    let best = run["result"]["best"][0].as_f64().unwrap();
    assert!((0.05..=0.6).contains(&best), "{best}");
    // A search has no chart.
    let chart = app
        .get(&format!("/runs/{}/chart.svg", run["id"].as_str().unwrap()))
        .await;
    chart.problem(409);
}

#[actix_web::test]
async fn bad_experiment_options_are_422s_naming_the_field_and_store_nothing() {
    let app = spawn_app().await;
    let plain = app.create("/scenarios", &small_scenario(4)).await;
    let with_sweep = app.create("/scenarios", &swept()).await;
    let cases = [
        (
            &plain,
            json!({"kind": "optimise", "optimise": {"objective": "margin_after_incentives", "vary": ["goal_setting.strategy.uplift"]}}),
            "optimise.vary[0]",
        ),
        (
            &plain,
            json!({"kind": "optimise", "optimise": {"objective": "happiness", "vary": ["goal_setting.strategy.uplift=0.1..0.2"]}}),
            "optimise.objective",
        ),
        (
            &plain,
            json!({"kind": "optimise", "optimise": {"objective": "margin_after_incentives", "vary": ["goal_setting.strategy.uplift=0.1..0.2"], "constraints": ["rep_attrition < 3"]}}),
            "optimise.constraints[0]",
        ),
        (&plain, json!({"kind": "optimise"}), "optimise"),
        (
            &plain,
            json!({"kind": "sensitivity", "sensitivity": {"parameters": ["no_such_parameter"]}}),
            "sensitivity.parameters",
        ),
        (
            &plain,
            json!({"sensitivity": {"samples": 2}}),
            "sensitivity",
        ),
        (&plain, json!({"kind": "sweep"}), "kind"),
        (&with_sweep, json!({"kind": "compare"}), "kind"),
    ];
    for (scenario, body, field) in cases {
        let res = start(&app, scenario, &body).await;
        let problem = res.problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    // A scenario with runs cannot be deleted (409): these go, so no run was stored.
    for scenario in [&plain, &with_sweep] {
        let deleted = app
            .send(
                Method::DELETE,
                &format!("/scenarios/{scenario}"),
                Some(&app.admin),
                &[],
                None,
            )
            .await;
        assert_eq!(deleted.status, 204, "{}", deleted.text());
    }
}

#[actix_web::test]
async fn a_sensitivity_study_over_the_cap_is_refused_and_one_can_be_cancelled() {
    let limits = RunLimits {
        max_partner_months: 20_000,
        ..RunLimits::default()
    };
    let app = spawn_app_with(limits).await;
    let scenario = app.create("/scenarios", &small_scenario(4)).await;
    let big = json!({"kind": "sensitivity", "sensitivity": {"samples": 50}});
    let res = start(&app, &scenario, &big).await;
    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "replications");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("sensitivity"),
        "{problem}"
    );

    let app = spawn_app().await;
    let scenario = app.create("/scenarios", &small_scenario(200)).await;
    let res = start(
        &app,
        &scenario,
        &json!({"kind": "sensitivity", "sensitivity": {"samples": 20}}),
    )
    .await;
    assert_eq!(res.status, 202, "{}", res.text());
    let id = res.json()["id"].as_str().unwrap().to_owned();
    let cancel = app
        .send(
            Method::DELETE,
            &format!("/runs/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(cancel.status, 202, "{}", cancel.text());
    let run = finish(&app, &id).await;
    assert_eq!(run["status"], "cancelled", "{run}");
    let done = run["progress"]["done"].as_u64().unwrap();
    assert!(done < run["progress"]["total"].as_u64().unwrap(), "{run}");
}
