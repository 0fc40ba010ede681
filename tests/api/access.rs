//! The role × endpoint matrix: for every operation in the OpenAPI document and every role,
//! a real request, expecting 403 where the policy says no and success where it says yes
//! (or "own", with a record inside the token's scope); every "own" cell again with a record
//! outside the scope, expecting an unknown id's 404. Plus the scope edges (more in
//! `object_scope.rs`).

use awc::http::Method;
use chanlab_api::auth::{Access, POLICY, RoleName, access, policy_table_markdown};
use chanlab_api::operations;
use serde_json::{Value, json};

use chanlab_api::simulation::RunLimits;

use crate::helpers::{TestApp, eur, rules, spawn_app, spawn_app_with_records, synthetic};
use crate::scenarios::small_scenario;

/// Records every operation can address, all inside one region and owned by one rep.
struct World {
    region: String,
    spare_region: String,
    rep: String,
    partner: String,
    prospect: String,
    contract: String,
    spare_contract: String,
    activity: String,
    spare_activity: String,
    sales: String,
    spare_sales: String,
    goal: String,
    spare_goal: String,
    spec: String,
    draft_spec: String,
    assessment: String,
    spare_assessment: String,
    scenario: String,
    spare_scenario: String,
    run: String,
    spare_run: String,
    /// A finished backtest, when the server holds records long enough for one.
    backtest: String,
    /// A training session of the token under test when its role may start one, else the
    /// admin's.
    session: String,
    /// The token the token operations address: the one under test ("own" is the caller's
    /// own token), or a spare viewer's for the admin and the anonymous checks.
    token: String,
    /// A webhook subscription to goals, and a spare one to delete.
    webhook: String,
    spare_webhook: String,
    /// A delivery of the first's (to a receiver that is down).
    delivery: String,
}

pub(crate) fn contract_body(partner: &str) -> Value {
    json!({"partner_id": partner, "start": "2026-01-01", "term_months": 12, "margin": 0.05, "sell_in_target": eur(1_000), "target_period": "quarter"})
}

pub(crate) fn activity_body(rep: &str, partner: &str) -> Value {
    json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed"})
}

pub(crate) fn sales_body(partner: &str, month: &str) -> Value {
    json!({"partner_id": partner, "month": month, "sell_in": eur(100), "sell_through": eur(80)})
}

pub(crate) fn goal_body(rep: &str) -> Value {
    json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"})
}

pub(crate) fn assessment_body(rep: &str, spec: &str) -> Value {
    json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "process_spec_id": spec, "spec_version": 1,
        "results": [{"metric": "visits", "weight": 1.0, "target": {"count": 6}, "actual": {"count": 5}}]})
}

async fn world(app: &TestApp) -> World {
    let region = app.region("Nordics").await;
    let spare_region = app.region("Spare").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let prospect = app.partner(&region, Some(&rep), "B", "prospect").await;
    let spec = app.create("/process-specs", &rules()).await;
    assert_eq!(
        app.post(&format!("/process-specs/{spec}/publish"), &json!({}))
            .await
            .status,
        200
    );
    let scenario = crate::runs::scenario(app, &small_scenario(4)).await;
    // Subscribed before the goals below are created, so their events reach it.
    let webhook = app.create("/webhooks", &webhook_body()).await;
    let spare_webhook = app.create("/webhooks", &webhook_body()).await;
    let spare_token = app
        .post("/tokens", &json!({"role": "viewer", "label": "spare"}))
        .await;
    assert_eq!(spare_token.status, 201, "{}", spare_token.text());
    let mut w = World {
        webhook,
        spare_webhook,
        delivery: String::new(),
        token: spare_token.json()["id"].as_str().unwrap().to_owned(),
        session: training_session(app, &app.admin).await,
        spare_scenario: crate::runs::scenario(app, &small_scenario(4)).await,
        run: crate::runs::finished_run(app, &scenario).await,
        spare_run: crate::runs::finished_run(app, &scenario).await,
        // No records long enough to backtest: an id no backtest has (the role matrix, which
        // needs one, backtests synthesized records).
        backtest: "0193a3e0-7c3f-7000-8000-000000000000".to_owned(),
        scenario,
        contract: app.create("/contracts", &contract_body(&partner)).await,
        spare_contract: app.create("/contracts", &contract_body(&partner)).await,
        activity: app
            .create("/activities", &activity_body(&rep, &partner))
            .await,
        spare_activity: app
            .create("/activities", &activity_body(&rep, &partner))
            .await,
        sales: app
            .create("/sales-records", &sales_body(&partner, "2026-11"))
            .await,
        spare_sales: app
            .create("/sales-records", &sales_body(&partner, "2026-09"))
            .await,
        goal: app.create("/goals", &goal_body(&rep)).await,
        spare_goal: app.create("/goals", &goal_body(&rep)).await,
        draft_spec: app.create("/process-specs", &rules()).await,
        assessment: app
            .create("/assessments", &assessment_body(&rep, &spec))
            .await,
        spare_assessment: app
            .create("/assessments", &assessment_body(&rep, &spec))
            .await,
        region,
        spare_region,
        rep,
        partner,
        prospect,
        spec,
    };
    w.delivery = crate::webhooks::first_delivery(app, &w.webhook).await;
    w
}

fn webhook_body() -> Value {
    // Nothing listens on the discard port: deliveries stay pending.
    json!({"url": "http://127.0.0.1:9/hooks", "events": ["goal.created"]})
}

/// The training exercise the matrix plays.
const EXERCISE: &str = "unmeasured-process";

/// A training session started by `token`, with few replications so a round is quick.
async fn training_session(app: &TestApp, token: &str) -> String {
    let res = app
        .json_as(
            token,
            Method::POST,
            "/training/sessions",
            &json!({"exercise": EXERCISE, "replications": 4}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()["id"].as_str().unwrap().to_owned()
}

/// A valid request for `op`, addressing records of `w`: (method, path, body, content type).
fn request(op: &str, w: &World) -> (Method, String, Option<(&'static str, Vec<u8>)>) {
    let j = |v: Value| Some(("application/json", serde_json::to_vec(&v).unwrap()));
    let csv = |t: String| Some(("text/csv", t.into_bytes()));
    let region_body = json!({"name": "Norden", "regional_manager": "Astrid"});
    let rep_body = json!({"name": "Lars", "region_id": w.region, "hired_on": "2025-03-01", "status": "active"});
    let partner_body = json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": w.region, "owner_rep_id": w.rep});
    match op {
        "create_token" => (
            Method::POST,
            "/tokens".into(),
            j(json!({"role": "viewer", "label": "bi"})),
        ),
        "list_tokens" => (Method::GET, "/tokens".into(), None),
        "rotate_token" => (Method::POST, format!("/tokens/{}/rotate", w.token), None),
        "revoke_token" => (Method::DELETE, format!("/tokens/{}", w.token), None),
        "get_backup" => (Method::GET, "/admin/backup".into(), None),
        "list_audit" => (Method::GET, "/audit".into(), None),
        "create_webhook" => (Method::POST, "/webhooks".into(), j(webhook_body())),
        "list_webhooks" => (Method::GET, "/webhooks".into(), None),
        "get_webhook" => (Method::GET, format!("/webhooks/{}", w.webhook), None),
        "update_webhook" => (
            Method::PUT,
            format!("/webhooks/{}", w.webhook),
            j(
                json!({"url": "http://127.0.0.1:9/other", "events": ["goal.created", "run.finished"]}),
            ),
        ),
        "delete_webhook" => (
            Method::DELETE,
            format!("/webhooks/{}", w.spare_webhook),
            None,
        ),
        "list_webhook_deliveries" => (
            Method::GET,
            format!("/webhooks/{}/deliveries", w.webhook),
            None,
        ),
        "redeliver_webhook_delivery" => (
            Method::POST,
            format!(
                "/webhooks/{}/deliveries/{}/redeliver",
                w.webhook, w.delivery
            ),
            None,
        ),
        "rotate_webhook_secret" => (
            Method::POST,
            format!("/webhooks/{}/rotate-secret", w.webhook),
            j(json!({"keep_previous_hours": 1})),
        ),
        "create_region" => (Method::POST, "/regions".into(), j(region_body)),
        "list_regions" => (Method::GET, "/regions".into(), None),
        "get_region" => (Method::GET, format!("/regions/{}", w.region), None),
        "update_region" => (
            Method::PUT,
            format!("/regions/{}", w.region),
            j(region_body),
        ),
        "delete_region" => (Method::DELETE, format!("/regions/{}", w.spare_region), None),
        "import_regions" => (
            Method::POST,
            "/regions/import".into(),
            csv("name,regional_manager\nImported,Astrid\n".to_owned()),
        ),
        "export_regions" => (Method::GET, "/regions/export.csv".into(), None),
        "import_contracts" => (
            Method::POST,
            "/contracts/import".into(),
            csv(format!(
                "partner_id,start,term_months,margin,currency,sell_in_target,target_period\n{},2026-01-01,12,0.05,EUR,1000.00,quarter\n",
                w.partner
            )),
        ),
        "export_contracts" => (Method::GET, "/contracts/export.csv".into(), None),
        "import_activities" => (
            Method::POST,
            "/activities/import".into(),
            csv(format!(
                "rep_id,partner_id,date,kind,outcome\n{},{},2026-11-02,visit,completed\n",
                w.rep, w.partner
            )),
        ),
        "export_activities" => (Method::GET, "/activities/export.csv".into(), None),
        "import_goals" => (
            Method::POST,
            "/goals/import".into(),
            csv(format!(
                "scope,scope_id,period,metric,target,strategy\nrep,{},2026-Q3,visits,12,manual\n",
                w.rep
            )),
        ),
        "export_goals" => (Method::GET, "/goals/export.csv".into(), None),
        "import_assessments" => (
            Method::POST,
            "/assessments/import".into(),
            csv(format!(
                "scope,scope_id,period,process_spec_id,spec_version,results\nrep,{},2026-Q3,{},1,visits:1:12:10\n",
                w.rep, w.spec
            )),
        ),
        "export_assessments" => (Method::GET, "/assessments/export.csv".into(), None),
        "export_partner_transitions" => {
            (Method::GET, "/partners/transitions/export.csv".into(), None)
        }
        "create_rep" => (Method::POST, "/reps".into(), j(rep_body)),
        "list_reps" => (Method::GET, "/reps".into(), None),
        "get_rep" => (Method::GET, format!("/reps/{}", w.rep), None),
        "update_rep" => (Method::PUT, format!("/reps/{}", w.rep), j(rep_body)),
        "import_reps" => (
            Method::POST,
            "/reps/import".into(),
            csv(format!(
                "id,name,region_id,hired_on,status\n,Ana,{},2024-01-01,active\n",
                w.region
            )),
        ),
        "export_reps" => (Method::GET, "/reps/export.csv".into(), None),
        "rep_scorecard" => (
            Method::GET,
            format!("/reps/{}/scorecard?period=2026-11", w.rep),
            None,
        ),
        "create_partner" => (Method::POST, "/partners".into(), j(partner_body)),
        "list_partners" => (Method::GET, "/partners".into(), None),
        "get_partner" => (Method::GET, format!("/partners/{}", w.partner), None),
        "update_partner" => (
            Method::PUT,
            format!("/partners/{}", w.partner),
            j(partner_body),
        ),
        "transition_partner" => (
            Method::POST,
            format!("/partners/{}/transitions", w.prospect),
            j(json!({"to": "negotiating"})),
        ),
        "list_partner_transitions" => (
            Method::GET,
            format!("/partners/{}/transitions", w.partner),
            None,
        ),
        "import_partner_transitions" => (
            Method::POST,
            "/partners/transitions/import".into(),
            csv(format!(
                "partner_id,to,on\n{},at_risk,2025-11-20\n",
                w.partner
            )),
        ),
        "import_partners" => (
            Method::POST,
            "/partners/import".into(),
            csv(format!(
                "id,name,kind,tier,region_id,owner_rep_id,stage\n,Imp AB,agent,C,{},,\n",
                w.region
            )),
        ),
        "export_partners" => (Method::GET, "/partners/export.csv".into(), None),
        "partner_scorecard" => (
            Method::GET,
            format!("/partners/{}/scorecard?period=2026-Q4", w.partner),
            None,
        ),
        "create_contract" => (
            Method::POST,
            "/contracts".into(),
            j(contract_body(&w.partner)),
        ),
        "list_contracts" => (Method::GET, "/contracts".into(), None),
        "get_contract" => (Method::GET, format!("/contracts/{}", w.contract), None),
        "update_contract" => (
            Method::PUT,
            format!("/contracts/{}", w.contract),
            j(contract_body(&w.partner)),
        ),
        "delete_contract" => (
            Method::DELETE,
            format!("/contracts/{}", w.spare_contract),
            None,
        ),
        "create_activity" => (
            Method::POST,
            "/activities".into(),
            j(activity_body(&w.rep, &w.partner)),
        ),
        "list_activities" => (Method::GET, "/activities".into(), None),
        "get_activity" => (Method::GET, format!("/activities/{}", w.activity), None),
        "update_activity" => (
            Method::PUT,
            format!("/activities/{}", w.activity),
            j(activity_body(&w.rep, &w.partner)),
        ),
        "delete_activity" => (
            Method::DELETE,
            format!("/activities/{}", w.spare_activity),
            None,
        ),
        "create_sales_record" => (
            Method::POST,
            "/sales-records".into(),
            j(sales_body(&w.partner, "2026-12")),
        ),
        "list_sales_records" => (Method::GET, "/sales-records".into(), None),
        "get_sales_record" => (Method::GET, format!("/sales-records/{}", w.sales), None),
        "update_sales_record" => (
            Method::PUT,
            format!("/sales-records/{}", w.sales),
            j(sales_body(&w.partner, "2026-11")),
        ),
        "delete_sales_record" => (
            Method::DELETE,
            format!("/sales-records/{}", w.spare_sales),
            None,
        ),
        "import_sales_records" => (
            Method::POST,
            "/sales-records/import".into(),
            csv(format!(
                "id,partner_id,month,currency,sell_in,sell_through\n,{},2026-08,EUR,10,9\n",
                w.partner
            )),
        ),
        "export_sales_records" => (Method::GET, "/sales-records/export.csv".into(), None),
        "create_goal" => (Method::POST, "/goals".into(), j(goal_body(&w.rep))),
        "list_goals" => (Method::GET, "/goals".into(), None),
        "get_goal" => (Method::GET, format!("/goals/{}", w.goal), None),
        "update_goal" => (
            Method::PUT,
            format!("/goals/{}", w.goal),
            j(goal_body(&w.rep)),
        ),
        "delete_goal" => (Method::DELETE, format!("/goals/{}", w.spare_goal), None),
        "create_process_spec" => (Method::POST, "/process-specs".into(), j(rules())),
        "list_process_specs" => (Method::GET, "/process-specs".into(), None),
        "get_process_spec" => (Method::GET, format!("/process-specs/{}", w.spec), None),
        "update_process_spec" => (
            Method::PUT,
            format!("/process-specs/{}", w.spec),
            j(rules()),
        ),
        "publish_process_spec" => (
            Method::POST,
            format!("/process-specs/{}/publish", w.draft_spec),
            None,
        ),
        "list_process_spec_versions" => (
            Method::GET,
            format!("/process-specs/{}/versions", w.spec),
            None,
        ),
        "get_process_spec_version" => (
            Method::GET,
            format!("/process-specs/{}/versions/1", w.spec),
            None,
        ),
        "process_spec_compliance" => (
            Method::GET,
            format!("/process-specs/{}/compliance?period=2026-11", w.spec),
            None,
        ),
        "create_assessment" => (
            Method::POST,
            "/assessments".into(),
            j(assessment_body(&w.rep, &w.spec)),
        ),
        "list_assessments" => (Method::GET, "/assessments".into(), None),
        "get_assessment" => (Method::GET, format!("/assessments/{}", w.assessment), None),
        "update_assessment" => (
            Method::PUT,
            format!("/assessments/{}", w.assessment),
            j(assessment_body(&w.rep, &w.spec)),
        ),
        "delete_assessment" => (
            Method::DELETE,
            format!("/assessments/{}", w.spare_assessment),
            None,
        ),
        "create_scenario" => (Method::POST, "/scenarios".into(), j(small_scenario(4))),
        "scenario_from_records" => (
            Method::POST,
            "/scenarios/from-records".into(),
            j(json!({"horizon_months": 3, "replications": 4})),
        ),
        "list_scenarios" => (Method::GET, "/scenarios".into(), None),
        "get_scenario" => (Method::GET, format!("/scenarios/{}", w.scenario), None),
        "delete_scenario" => (
            Method::DELETE,
            format!("/scenarios/{}", w.spare_scenario),
            None,
        ),
        "create_run" => (
            Method::POST,
            format!("/scenarios/{}/runs", w.scenario),
            j(json!({"replications": 4})),
        ),
        "create_backtest" => (
            Method::POST,
            "/backtests".into(),
            j(json!({"holdout_months": 1, "replications": 10})),
        ),
        "get_backtest" => (Method::GET, format!("/backtests/{}", w.backtest), None),
        "get_backtest_chart" => (
            Method::GET,
            format!("/backtests/{}/chart.svg", w.backtest),
            None,
        ),
        "get_run" => (Method::GET, format!("/runs/{}", w.run), None),
        "get_run_chart" => (Method::GET, format!("/runs/{}/chart.svg", w.run), None),
        "delete_run" => (Method::DELETE, format!("/runs/{}", w.spare_run), None),
        "list_exercises" => (Method::GET, "/exercises".into(), None),
        "get_exercise" => (Method::GET, format!("/exercises/{EXERCISE}"), None),
        "exercise_leaderboard" => (
            Method::GET,
            format!("/exercises/{EXERCISE}/leaderboard"),
            None,
        ),
        "create_training_session" => (
            Method::POST,
            "/training/sessions".into(),
            j(json!({"exercise": EXERCISE, "replications": 4})),
        ),
        "list_training_sessions" => (Method::GET, "/training/sessions".into(), None),
        "get_training_session" => (
            Method::GET,
            format!("/training/sessions/{}", w.session),
            None,
        ),
        "play_training_round" => (
            Method::POST,
            format!("/training/sessions/{}/rounds", w.session),
            j(json!({"decisions": {"assessment": "yes"}})),
        ),
        "healthz" => (Method::GET, "/healthz".into(), None),
        "readyz" => (Method::GET, "/readyz".into(), None),
        "metrics" => (Method::GET, "/metrics".into(), None),
        other => panic!("no request for operation {other}: add one here and a row to POLICY"),
    }
}

#[test]
fn every_operation_has_a_policy_row_and_every_row_an_operation() {
    let ops: Vec<String> = operations().into_iter().map(|(_, _, id)| id).collect();
    let public = ["healthz", "metrics", "readyz"];
    for op in &ops {
        assert!(
            public.contains(&op.as_str()) || POLICY.iter().any(|(p, _)| p == op),
            "{op} has no row in auth::POLICY"
        );
    }
    for (p, _) in POLICY.iter() {
        assert!(
            ops.iter().any(|o| o == p),
            "POLICY row {p} is not an operation"
        );
    }
}

#[test]
fn the_readme_role_table_is_the_policy() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = policy_table_markdown(&operations());
    assert!(
        readme.contains(&table),
        "README.md's role table is out of date; replace it with:\n{table}"
    );
}

async fn check_every_cell_for(role: RoleName) {
    // Records long enough to backtest, backtested before the world's own records join them
    // (room for the runs and backtests the matrix starts besides).
    let limits = RunLimits {
        max_running: 4,
        ..RunLimits::default()
    };
    let app = spawn_app_with_records(&synthetic(14, 4), limits).await;
    let backtest = crate::backtests::finished_backtest(&app).await;
    let mut w = world(&app).await;
    w.backtest = backtest;
    let mut token = match role {
        RoleName::Admin => app.admin.clone(),
        RoleName::RegionalManager => app.token("regional_manager", Some(&w.region), None).await,
        RoleName::Rep => app.token("rep", None, Some(&w.rep)).await,
        other => app.token(other.as_str(), None, None).await,
    };
    if role != RoleName::Admin {
        // "Own" tokens are the caller's: its list holds just that one.
        let own = app
            .send(Method::GET, "/tokens", Some(&token), &[], None)
            .await;
        w.token = own.json()["items"][0]["id"].as_str().unwrap().to_owned();
    }
    // "own" training sessions are the ones the token started.
    if !matches!(access("create_training_session", role), Some(Access::No)) {
        w.session = training_session(&app, &token).await;
    }
    let mut failures = if role == RoleName::Admin {
        Vec::new()
    } else {
        outside_the_scope(&app, role, &token, &w).await
    };
    // The token under test is rotated, then revoked, last: each changes what it can call.
    let mut ops = operations();
    ops.sort_by_key(|(_, _, op)| match op.as_str() {
        "rotate_token" => 1,
        "revoke_token" => 2,
        _ => 0,
    });
    for (method, template, op) in ops {
        let (m, path, body) = request(&op, &w);
        assert_eq!(
            m.as_str(),
            method,
            "{op}: the request uses the documented method"
        );
        assert_eq!(
            template.split('/').count(),
            path.split('?').next().unwrap().split('/').count(),
            "{op}: {path} fits {template}"
        );
        let answer = app.send(m, &path, Some(&token), &[], body).await;
        let expected_ok = !matches!(access(&op, role), Some(Access::No));
        let ok = (200..300).contains(&answer.status);
        if op == "rotate_token" && ok && role != RoleName::Admin {
            token = answer.json()["token"].as_str().unwrap().to_owned();
        }
        if expected_ok != ok || (!expected_ok && answer.status != 403) {
            failures.push(format!(
                "{} {op} {method} {path}: {} {}",
                role.as_str(),
                answer.status,
                answer.text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "cells that disagree with the policy:\n{}",
        failures.join("\n")
    );
}

/// The "own" cells again, each addressing by path a record outside the token's scope (in
/// another region, of another rep, another token's): every answer must be the 404 an
/// unknown id gets, byte for byte but for the id and the request id, and nothing may be
/// written. Returns the cells that disagree.
async fn outside_the_scope(app: &TestApp, role: RoleName, token: &str, w: &World) -> Vec<String> {
    let region = app.region("Elsewhere").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let prospect = app.partner(&region, Some(&rep), "B", "prospect").await;
    let activity = app
        .create("/activities", &activity_body(&rep, &partner))
        .await;
    let other_token = app
        .post("/tokens", &json!({"role": "viewer", "label": "another's"}))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // (the world's record, one like it outside the scope, an id no record has)
    let mut swaps: Vec<(String, String, String)> = [
        (&w.region, region),
        (&w.rep, rep),
        (&w.partner, partner),
        (&w.prospect, prospect),
        (&w.activity, activity.clone()),
        (&w.spare_activity, activity),
        (&w.token, other_token),
    ]
    .into_iter()
    .map(|(own, outside)| (own.clone(), outside, uuid::Uuid::now_v7().to_string()))
    .collect();
    // A trainer reads every session (and is refused, 403, only the playing of another's).
    if access("get_training_session", role) != Some(Access::Yes) {
        let session = training_session(app, &app.admin).await;
        swaps.push((w.session.clone(), session, uuid::Uuid::now_v7().to_string()));
    }
    let before = everything(app).await;
    let mut failures = Vec::new();
    let mut probed = 0;
    for (_, _, op) in operations() {
        if access(&op, role) != Some(Access::Own) {
            continue;
        }
        let (method, path, body) = request(&op, w);
        let (route, query) = path
            .split_once('?')
            .map_or((path.as_str(), ""), |(r, q)| (r, q));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        for (own, outside, unknown) in &swaps {
            if !route.split('/').any(|segment| segment == own) {
                continue;
            }
            let at = |id: &str| format!("{}{query}", route.replace(own.as_str(), id));
            let hidden = app
                .send(method.clone(), &at(outside), Some(token), &[], body.clone())
                .await;
            let none = app
                .send(method.clone(), &at(unknown), Some(token), &[], body.clone())
                .await;
            probed += 1;
            if let Err(why) =
                crate::object_scope::same_as_unknown(404, &hidden, outside, &none, unknown)
            {
                failures.push(format!("{} {op} outside its scope: {why}", role.as_str()));
            }
        }
    }
    assert!(
        probed > 0,
        "{}: no own cell addresses a record",
        role.as_str()
    );
    if everything(app).await != before {
        failures.push(format!(
            "{}: a request outside the scope wrote something",
            role.as_str()
        ));
    }
    failures
}

#[actix_web::test]
async fn every_cell_for_admin() {
    check_every_cell_for(RoleName::Admin).await;
}

#[actix_web::test]
async fn every_cell_for_channel_manager() {
    check_every_cell_for(RoleName::ChannelManager).await;
}

#[actix_web::test]
async fn every_cell_for_regional_manager() {
    check_every_cell_for(RoleName::RegionalManager).await;
}

#[actix_web::test]
async fn every_cell_for_rep() {
    check_every_cell_for(RoleName::Rep).await;
}

#[actix_web::test]
async fn every_cell_for_viewer() {
    check_every_cell_for(RoleName::Viewer).await;
}

#[actix_web::test]
async fn every_cell_for_trainee() {
    check_every_cell_for(RoleName::Trainee).await;
}

#[actix_web::test]
async fn a_regional_manager_is_limited_to_its_region() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let other_region = app.region("Iberia").await;
    let other_rep = app.rep(&other_region).await;
    let other_partner = app
        .partner(&other_region, Some(&other_rep), "A", "active")
        .await;
    let rm = app.token("regional_manager", Some(&w.region), None).await;

    app.send(
        Method::GET,
        &format!("/partners/{other_partner}"),
        Some(&rm),
        &[],
        None,
    )
    .await
    .problem(404);
    app.send(
        Method::GET,
        &format!("/partners?region_id={other_region}"),
        Some(&rm),
        &[],
        None,
    )
    .await
    .problem(403);
    app.send(
        Method::GET,
        &format!("/reps/{other_rep}/scorecard?period=2026-11"),
        Some(&rm),
        &[],
        None,
    )
    .await
    .problem(404);
    let move_out = json!({"name": "Lars", "region_id": other_region, "hired_on": "2025-03-01", "status": "active"});
    app.json_as(&rm, Method::PUT, &format!("/reps/{}", w.rep), &move_out)
        .await
        .problem(403);
    app.json_as(&rm, Method::POST, "/reps", &move_out)
        .await
        .problem(403);
    let listed = app
        .send(Method::GET, "/partners", Some(&rm), &[], None)
        .await
        .json();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["region_id"] == w.region.as_str())
    );
    let draft = app
        .send(
            Method::GET,
            &format!("/process-specs/{}/versions/1", w.draft_spec),
            Some(&rm),
            &[],
            None,
        )
        .await;
    draft.problem(404);
}

#[actix_web::test]
async fn a_rep_sees_and_logs_only_its_own() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let colleague = app.rep(&w.region).await;
    let theirs = app
        .partner(&w.region, Some(&colleague), "A", "active")
        .await;
    let rep = app.token("rep", None, Some(&w.rep)).await;

    app.send(
        Method::GET,
        &format!("/partners/{theirs}"),
        Some(&rep),
        &[],
        None,
    )
    .await
    .problem(404);
    app.json_as(
        &rep,
        Method::POST,
        "/activities",
        &activity_body(&colleague, &theirs),
    )
    .await
    .problem(403);
    app.send(
        Method::GET,
        &format!("/reps/{colleague}/scorecard?period=2026-11"),
        Some(&rep),
        &[],
        None,
    )
    .await
    .problem(404);
    let mine = app
        .send(Method::GET, "/partners", Some(&rep), &[], None)
        .await
        .json();
    let owners: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["owner_rep_id"].as_str().unwrap())
        .collect();
    assert!(
        !owners.is_empty() && owners.iter().all(|o| *o == w.rep),
        "{owners:?}"
    );
}

#[actix_web::test]
async fn a_channel_manager_cannot_create_or_move_reps() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let cm = app.token("channel_manager", None, None).await;
    let body = json!({"name": "Lars", "region_id": w.region, "hired_on": "2025-03-01", "status": "active"});

    app.json_as(&cm, Method::POST, "/reps", &body)
        .await
        .problem(403);
    app.json_as(&cm, Method::PUT, &format!("/reps/{}", w.rep), &body)
        .await
        .problem(403);
    assert_eq!(
        app.json_as(
            &cm,
            Method::POST,
            "/partners",
            &json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": w.region})
        )
        .await
        .status,
        201
    );
}

#[actix_web::test]
async fn a_token_is_refused_a_scope_its_role_does_not_take() {
    let app = spawn_app().await;
    let w = world(&app).await;

    let res = app
        .post(
            "/tokens",
            &json!({"role": "viewer", "region_id": w.region, "label": "x"}),
        )
        .await;

    assert_eq!(res.problem(422)["errors"][0]["field"], "region_id");
    let missing = app
        .post("/tokens", &json!({"role": "rep", "label": "x"}))
        .await;
    assert_eq!(missing.problem(422)["errors"][0]["field"], "rep_id");
}

/// Every collection's listing as admin: what a refused request must leave unchanged.
pub(crate) async fn everything(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    for list in [
        "/regions",
        "/reps",
        "/partners",
        "/contracts",
        "/activities",
        "/sales-records",
        "/goals",
        "/process-specs",
        "/assessments",
        "/scenarios",
        "/training/sessions",
    ] {
        all.push(app.get(&format!("{list}?limit=500")).await.json());
    }
    all
}

#[actix_web::test]
async fn no_operation_answers_without_a_valid_token_except_the_public_ones() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let public: Vec<String> = operations()
        .into_iter()
        .filter(|(method, path, _)| {
            // Public: no requirement at all, or one that an anonymous caller meets (`{}`).
            let security = &doc["paths"][path][method.to_lowercase()]["security"];
            security.is_null()
                || security
                    .as_array()
                    .is_some_and(|s| s.is_empty() || s.iter().any(|r| r == &json!({})))
        })
        .map(|(_, _, op)| op)
        .collect();
    assert_eq!(
        public,
        ["healthz", "metrics", "readyz"],
        "the operations the document marks public"
    );
    // Well formed (`chl_` and 64 hex digits), but never issued.
    let unknown = format!("chl_{}", "0".repeat(64));
    let credentials: [Option<String>; 5] = [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some(format!("Bearer {unknown}")),
        Some(format!("Basic {}", app.admin)),
    ];
    let before = everything(&app).await;

    let mut failures = Vec::new();
    let mut refused = 0;
    for (_, _, op) in operations() {
        for credential in &credentials {
            let (method, path, body) = request(&op, &w);
            let headers: Vec<(&str, &str)> = credential
                .iter()
                .map(|c| ("Authorization", c.as_str()))
                .collect();
            let answer = app.send(method, &path, None, &headers, body).await;
            let fine = if public.contains(&op) {
                (200..300).contains(&answer.status)
            } else {
                answer.status == 401
                    && answer.header("content-type").as_deref() == Some("application/problem+json")
                    && answer
                        .header("www-authenticate")
                        .is_some_and(|h| h.starts_with("Bearer"))
            };
            if !fine {
                failures.push(format!(
                    "{op} {path} with {credential:?}: {} {}",
                    answer.status,
                    answer.text()
                ));
            }
            refused += usize::from(answer.status == 401);
        }
    }

    assert!(
        failures.is_empty(),
        "answers without a valid token:\n{}",
        failures.join("\n")
    );
    assert_eq!(
        refused,
        (operations().len() - public.len()) * credentials.len()
    );
    assert_eq!(
        everything(&app).await,
        before,
        "a refused request writes nothing"
    );
}
