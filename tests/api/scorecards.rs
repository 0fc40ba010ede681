//! Scorecards and compliance computed from the records.

use serde_json::json;

use crate::helpers::{eur, rules, spawn_app};

#[actix_web::test]
async fn a_rep_scorecard_counts_cadences_goals_and_sales() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let spec = app.create("/process-specs", &rules()).await;
    app.post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    for (date, outcome) in [
        ("2026-11-03", "completed"),
        ("2026-11-17", "completed"),
        ("2026-11-24", "cancelled"),
    ] {
        app.create(
            "/activities",
            &json!({"rep_id": rep, "partner_id": partner, "date": date, "kind": "visit", "outcome": outcome}),
        )
        .await;
    }
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-11", "metric": "visits", "target": {"count": 4}, "strategy": "manual"}),
    )
    .await;
    app.create(
        "/sales-records",
        &json!({"partner_id": partner, "month": "2026-11", "sell_in": eur(500_000), "sell_through": eur(300_000)}),
    )
    .await;

    let card = app
        .get(&format!("/reps/{rep}/scorecard?period=2026-11"))
        .await;

    assert_eq!(card.status, 200, "{}", card.text());
    let card = card.json();
    assert_eq!(card["process_spec_id"], spec.as_str());
    assert_eq!(card["cadences"][0]["required"], 2.0);
    assert_eq!(card["cadences"][0]["done"], 2);
    assert_eq!(card["compliance"], 1.0);
    assert_eq!(card["goals"][0]["actual"], json!({"count": 2}));
    assert_eq!(card["goals"][0]["attainment"], 0.5);
    assert_eq!(card["sales"][0]["inventory_change"], eur(200_000));
}

#[actix_web::test]
async fn a_partner_scorecard_reports_its_stage_and_sales() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "B", "at_risk").await;
    app.create(
        "/sales-records",
        &json!({"partner_id": partner, "month": "2026-10", "sell_in": eur(100), "sell_through": eur(150)}),
    )
    .await;

    let card = app
        .get(&format!("/partners/{partner}/scorecard?period=2026-Q4"))
        .await
        .json();

    assert_eq!(card["stage"], "at_risk");
    assert_eq!(card["sales"][0]["inventory_change"], eur(-50));
    assert_eq!(card["process_spec_id"], serde_json::Value::Null);
    app.get(&format!("/partners/{partner}/scorecard?period=2026-Q5"))
        .await
        .problem(400);
}

/// 2^53 - 1: the largest amount in minor units a JSON client reads exactly.
const MAX_SAFE_MINOR: i64 = (1 << 53) - 1;

#[actix_web::test]
async fn a_total_money_cannot_hold_is_a_422_naming_the_figure_never_a_saturated_one() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    // Each amount is accepted (at the bound); their total is one minor unit beyond it.
    for (month, sell_in) in [("2026-10", MAX_SAFE_MINOR), ("2026-11", 1)] {
        app.create(
            "/sales-records",
            &json!({"partner_id": partner, "month": month, "sell_in": eur(sell_in), "sell_through": eur(0)}),
        )
        .await;
    }
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "sell_in", "target": {"amount": eur(100)}, "strategy": "manual"}),
    )
    .await;

    // The rep's card computes its goals first, so names the goal's actual; the partner's
    // has no goal.
    for (path, field) in [
        (
            format!("/partners/{partner}/scorecard?period=2026-Q4"),
            "sales[0].sell_in",
        ),
        (
            format!("/reps/{rep}/scorecard?period=2026-Q4"),
            "goals[0].actual",
        ),
    ] {
        let problem = app.get(&path).await.problem(422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field], "{path}: {problem}");
        assert!(problem.to_string().contains("shorter period"), "{problem}");
    }
    // One month alone is at the bound and given exactly.
    let card = app
        .get(&format!("/partners/{partner}/scorecard?period=2026-10"))
        .await;
    assert_eq!(card.status, 200, "{}", card.text());
    assert_eq!(card.json()["sales"][0]["sell_in"], eur(MAX_SAFE_MINOR));
    // One amount beyond the bound is refused on input, naming it.
    let res = app
        .post(
            "/sales-records",
            &json!({"partner_id": partner, "month": "2026-12", "sell_in": eur(MAX_SAFE_MINOR + 1), "sell_through": eur(0)}),
        )
        .await;
    let problem = res.problem(422);
    assert!(problem.to_string().contains("sell_in"), "{problem}");
}

#[actix_web::test]
async fn compliance_is_reported_per_region_and_per_rep() {
    let app = spawn_app().await;
    let nordics = app.region("Nordics").await;
    let iberia = app.region("Iberia").await;
    let diligent = app.rep(&nordics).await;
    let idle = app.rep(&iberia).await;
    let spec = app.create("/process-specs", &rules()).await;
    app.post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    let p1 = app.partner(&nordics, Some(&diligent), "A", "active").await;
    app.partner(&iberia, Some(&idle), "A", "active").await;
    for date in ["2026-11-03", "2026-11-17"] {
        app.create(
            "/activities",
            &json!({"rep_id": diligent, "partner_id": p1, "date": date, "kind": "visit", "outcome": "completed"}),
        )
        .await;
    }

    let report = app
        .get(&format!("/process-specs/{spec}/compliance?period=2026-11"))
        .await
        .json();

    let rate_of = |rep: &str| {
        report["reps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rep_id"] == rep)
            .unwrap()["compliance"]
            .as_f64()
            .unwrap()
    };
    assert_eq!((rate_of(&diligent), rate_of(&idle)), (1.0, 0.0));
    assert_eq!(report["regions"].as_array().unwrap().len(), 2);
}
