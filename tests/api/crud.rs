//! Create, read, update and delete for each resource.

use awc::http::Method;
use serde_json::json;

use crate::helpers::{eur, rules, spawn_app, usd};

#[actix_web::test]
async fn a_region_can_be_created_read_renamed_and_deleted() {
    let app = spawn_app().await;
    let id = app.region("Nordics").await;

    let read = app.get(&format!("/regions/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json()["name"], "Nordics");
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));

    let renamed = app
        .put(
            &format!("/regions/{id}"),
            &json!({"name": "Norden", "regional_manager": "Astrid Berg"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_eq!(renamed.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        app.get(&format!("/regions/{id}")).await.json()["name"],
        "Norden"
    );

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/regions/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    app.get(&format!("/regions/{id}")).await.problem(404);
}

#[actix_web::test]
async fn a_region_with_reps_cannot_be_deleted() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    app.rep(&region).await;

    let res = app
        .send(
            Method::DELETE,
            &format!("/regions/{region}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;

    let problem = res.problem(409);
    assert!(
        problem["detail"].as_str().unwrap().contains("referenced"),
        "{problem}"
    );
    assert_eq!(app.get(&format!("/regions/{region}")).await.status, 200);
}

#[actix_web::test]
async fn a_rep_can_be_created_read_and_updated() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;

    let updated = app
        .put(
            &format!("/reps/{rep}"),
            &json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": "on_leave"}),
        )
        .await;

    assert_eq!(updated.status, 200, "{}", updated.text());
    let read = app.get(&format!("/reps/{rep}")).await.json();
    assert_eq!(read["status"], "on_leave");
    assert_eq!(read["region_id"], region.as_str());
}

#[actix_web::test]
async fn a_departed_rep_keeps_the_day_it_left_and_a_date_that_disagrees_names_left_on() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = |status: &str, left_on: Option<&str>| {
        let mut body = json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": status});
        if let Some(d) = left_on {
            body["left_on"] = json!(d);
        }
        body
    };

    let created = app
        .post("/reps", &rep("departed", Some("2025-09-30")))
        .await;
    let active_with_a_date = app.post("/reps", &rep("active", Some("2025-09-30"))).await;
    let left_before_hired = app
        .post("/reps", &rep("departed", Some("2025-02-28")))
        .await;

    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["left_on"], "2025-09-30");
    for refused in [active_with_a_date, left_before_hired] {
        assert_eq!(refused.problem(422)["errors"][0]["field"], "left_on");
    }
    assert_eq!(
        app.get("/reps").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a refused rep is not stored"
    );
}

#[actix_web::test]
async fn a_rep_updated_to_departed_without_a_leaving_date_is_accepted_and_a_bad_date_is_not() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let departed = json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": "departed"});
    let mut too_early = departed.clone();
    too_early["left_on"] = json!("2024-12-31");

    let unknown_day = app.put(&format!("/reps/{rep}"), &departed).await;
    let refused = app.put(&format!("/reps/{rep}"), &too_early).await;

    assert_eq!(unknown_day.status, 200, "{}", unknown_day.text());
    assert!(unknown_day.json().get("left_on").is_none());
    let problem = refused.problem(422);
    assert_eq!(problem["errors"][0]["field"], "left_on");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("hired_on"),
        "{problem}"
    );
    let read = app.get(&format!("/reps/{rep}")).await.json();
    assert_eq!(read["status"], "departed");
    assert!(read.get("left_on").is_none(), "{read}");
}

#[actix_web::test]
async fn a_partner_can_be_created_read_and_updated_but_keeps_its_stage() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "B", "prospect").await;

    let updated = app
        .put(
            &format!("/partners/{partner}"),
            &json!({"name": "Nordic Distribution", "kind": "reseller", "tier": "A", "region_id": region}),
        )
        .await;

    assert_eq!(updated.status, 200, "{}", updated.text());
    let read = app.get(&format!("/partners/{partner}")).await.json();
    assert_eq!(
        (read["tier"].as_str(), read["stage"].as_str()),
        (Some("A"), Some("prospect"))
    );
}

#[actix_web::test]
async fn a_contract_can_be_created_updated_and_deleted() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "contracted").await;
    let body = json!({"partner_id": partner, "start": "2026-01-01", "term_months": 24, "margin": 0.06,
        "rebate_tiers": [{"threshold": eur(10_000_000), "rate": 0.01}], "sell_in_target": eur(12_000_000), "target_period": "quarter"});
    let id = app.create("/contracts", &body).await;

    let mut changed = body.clone();
    changed["margin"] = json!(0.08);
    assert_eq!(
        app.put(&format!("/contracts/{id}"), &changed).await.status,
        200
    );
    assert_eq!(
        app.get(&format!("/contracts/{id}")).await.json()["margin"],
        0.08
    );

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/contracts/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    app.get(&format!("/contracts/{id}")).await.problem(404);
}

#[actix_web::test]
async fn an_activity_can_be_logged_corrected_and_deleted() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let body = json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed"});
    let id = app.create("/activities", &body).await;

    let mut changed = body.clone();
    changed["outcome"] = json!("no_show");
    assert_eq!(
        app.put(&format!("/activities/{id}"), &changed).await.status,
        200
    );
    assert_eq!(
        app.get(&format!("/activities/{id}")).await.json()["outcome"],
        "no_show"
    );

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/activities/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
}

#[actix_web::test]
async fn a_partner_has_one_sales_record_per_month() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let body = json!({"partner_id": partner, "month": "2026-11", "sell_in": eur(420_000), "sell_through": eur(390_000)});
    let id = app.create("/sales-records", &body).await;

    let second = app.post("/sales-records", &body).await;

    second.problem(409);
    let mut changed = body.clone();
    changed["sell_through"] = eur(400_000);
    assert_eq!(
        app.put(&format!("/sales-records/{id}"), &changed)
            .await
            .status,
        200
    );
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/sales-records/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.post("/sales-records", &body).await.status,
        201,
        "the month is free again"
    );
}

#[actix_web::test]
async fn a_sales_record_in_another_currency_than_the_partners_others_is_a_409_naming_sell_in() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let other = app.partner(&region, None, "B", "active").await;
    let body = |partner: &str, month: &str, money: serde_json::Value| json!({"partner_id": partner, "month": month, "sell_in": money, "sell_through": money});
    app.create("/sales-records", &body(&partner, "2026-10", eur(1_000)))
        .await;

    let in_usd = app
        .post("/sales-records", &body(&partner, "2026-11", usd(1_000)))
        .await;
    let other_partner_in_usd = app
        .post("/sales-records", &body(&other, "2026-11", usd(1_000)))
        .await;

    let problem = in_usd.problem(409);
    assert_eq!(problem["errors"][0]["field"], "sell_in");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("EUR") && message.contains("USD"),
        "{message}"
    );
    assert_eq!(
        other_partner_in_usd.status,
        201,
        "{}",
        other_partner_in_usd.text()
    );
    let listed = app
        .get(&format!("/sales-records?partner_id={partner}"))
        .await
        .json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[actix_web::test]
async fn a_sales_record_changes_currency_only_when_the_partner_has_no_other_records() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let body = |month: &str, money: serde_json::Value| json!({"partner_id": partner, "month": month, "sell_in": money, "sell_through": money});
    let october = app
        .create("/sales-records", &body("2026-10", eur(1_000)))
        .await;

    let alone = app
        .put(
            &format!("/sales-records/{october}"),
            &body("2026-10", usd(1_000)),
        )
        .await;
    let november = app
        .create("/sales-records", &body("2026-11", usd(2_000)))
        .await;
    let back_to_eur = app
        .put(
            &format!("/sales-records/{november}"),
            &body("2026-11", eur(2_000)),
        )
        .await;

    assert_eq!(alone.status, 200, "{}", alone.text());
    assert_eq!(back_to_eur.problem(409)["errors"][0]["field"], "sell_in");
    assert_eq!(
        app.get(&format!("/sales-records/{november}")).await.json()["sell_in"],
        usd(2_000)
    );
}

#[actix_web::test]
async fn a_goal_can_be_set_changed_and_removed() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let body = json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 24}, "strategy": "manual"});
    let id = app.create("/goals", &body).await;

    let mut changed = body.clone();
    changed["target"] = json!({"count": 30});
    assert_eq!(app.put(&format!("/goals/{id}"), &changed).await.status, 200);
    assert_eq!(
        app.get(&format!("/goals/{id}")).await.json()["target"]["count"],
        30
    );

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/goals/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
}

#[actix_web::test]
async fn a_published_spec_is_never_changed_and_a_change_makes_a_new_version() {
    let app = spawn_app().await;
    let id = app.create("/process-specs", &rules()).await;
    let published = app
        .post(&format!("/process-specs/{id}/publish"), &json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    assert_eq!(published.json()["status"], "published");

    let mut changed = rules();
    changed["name"] = json!("FY27 v2");
    let v2 = app.put(&format!("/process-specs/{id}"), &changed).await;

    assert_eq!(v2.status, 200, "{}", v2.text());
    assert_eq!(
        (v2.json()["version"].as_u64(), v2.json()["status"].as_str()),
        (Some(2), Some("draft"))
    );
    let v1 = app
        .get(&format!("/process-specs/{id}/versions/1"))
        .await
        .json();
    assert_eq!(
        (v1["name"].as_str(), v1["rules"]["name"].as_str()),
        (None, Some("FY27 potential-based"))
    );
    assert_eq!(v1["status"], "published");

    assert_eq!(
        app.post(&format!("/process-specs/{id}/publish"), &json!({}))
            .await
            .status,
        200
    );
    let versions = app
        .get(&format!("/process-specs/{id}/versions"))
        .await
        .json();
    let statuses: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["retired", "published"]);
    app.post(&format!("/process-specs/{id}/publish"), &json!({}))
        .await
        .problem(409);
}

#[actix_web::test]
async fn an_assessment_can_be_recorded_against_a_spec_version() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let spec = app.create("/process-specs", &rules()).await;
    let body = json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "process_spec_id": spec, "spec_version": 1,
        "results": [{"metric": "visits", "weight": 1.0, "target": {"count": 24}, "actual": {"count": 20}}]});
    let id = app.create("/assessments", &body).await;

    let mut wrong_version = body.clone();
    wrong_version["spec_version"] = json!(7);
    let refused = app.post("/assessments", &wrong_version).await.problem(422);
    assert_eq!(refused["errors"][0]["field"], "spec_version");

    let listed = app
        .get(&format!("/assessments?rep_id={rep}&period=2026-Q4"))
        .await
        .json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/assessments/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
}
