//! Resource-layer conformance: one test body ([`conforms`]) run for every record resource.
//! Each resource must create, read, list by `external_id`, update under `If-Match` (412 for
//! a stale one), refuse a second record with the same external id (409) and a bad field
//! (422 naming it), and, where it has a delete, delete under `If-Match` and then answer 404.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eur, rules, spawn_app};

/// A resource as the suite drives it.
struct Case {
    /// The collection's path.
    path: &'static str,
    /// A valid body (without `external_id`, which the suite adds).
    body: Value,
    /// `body` with one field changed, for the update: `(field, new value)`.
    change: (&'static str, Value),
    /// A body with one bad field, and the field the 422 must name.
    bad: (Value, &'static str),
    /// Whether the resource has a delete (reps and partners are never deleted).
    deletes: bool,
}

/// `body` with `field` set to `value`.
fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

/// The ETag of an answer.
fn etag(res: &crate::helpers::Answer) -> String {
    res.header("etag").expect("an ETag")
}

/// The one test body, for `case`.
async fn conforms(app: &TestApp, case: Case) {
    let path = case.path;
    let code = format!("EXT{}", path.replace(['/', '-'], ""));
    let body = with(case.body.clone(), "external_id", json!(code));

    // Create, then read.
    let created = app.post(path, &body).await;
    assert_eq!(created.status, 201, "POST {path}: {}", created.text());
    let record = created.json();
    let id = record["id"].as_str().expect("an id").to_owned();
    assert_eq!(record["external_id"], code, "{path}");
    assert_eq!(
        created.header("location").as_deref(),
        Some(format!("{path}/{id}").as_str())
    );
    let read = app.get(&format!("{path}/{id}")).await;
    assert_eq!(read.status, 200, "GET {path}/{id}: {}", read.text());
    assert_eq!(read.json(), record, "{path}");
    let version = etag(&read);

    // List with a filter: the external id finds exactly this record, another finds none.
    let listed = app.get(&format!("{path}?external_id={code}")).await;
    assert_eq!(listed.status, 200, "{path}: {}", listed.text());
    assert_eq!(listed.json()["items"], json!([record]), "{path}");
    let none = app.get(&format!("{path}?external_id=NO-SUCH-CODE")).await;
    assert_eq!(none.json()["items"], json!([]), "{path}");

    // A second record with the same external id is a conflict, and nothing is written.
    let twin = app.post(path, &body).await;
    twin.problem(409);
    let all = app.get(path).await.json();
    let holders = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["external_id"] == code)
        .count();
    assert_eq!(holders, 1, "{path}: {all}");

    // A bad field is a 422 naming it.
    let bad = app.post(path, &case.bad.0).await;
    let problem = bad.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&case.bad.1), "{path}: {fields:?}");

    // Update under If-Match; the old ETag is then stale.
    let (field, value) = case.change;
    let changed = with(body.clone(), field, value.clone());
    let updated = app
        .send(
            Method::PUT,
            &format!("{path}/{id}"),
            Some(&app.admin),
            &[("If-Match", &version)],
            Some(("application/json", serde_json::to_vec(&changed).unwrap())),
        )
        .await;
    assert_eq!(updated.status, 200, "PUT {path}/{id}: {}", updated.text());
    assert_eq!(updated.json()[field], value, "{path}");
    assert_ne!(etag(&updated), version, "{path}");
    let stale = app
        .send(
            Method::PUT,
            &format!("{path}/{id}"),
            Some(&app.admin),
            &[("If-Match", &version)],
            Some(("application/json", serde_json::to_vec(&changed).unwrap())),
        )
        .await;
    stale.problem(412);
    assert_eq!(
        app.get(&format!("{path}/{id}")).await.json()[field],
        value,
        "{path}"
    );

    // Delete under If-Match, then 404.
    let current = etag(&app.get(&format!("{path}/{id}")).await);
    let deleted = app
        .send(
            Method::DELETE,
            &format!("{path}/{id}"),
            Some(&app.admin),
            &[("If-Match", &current)],
            None,
        )
        .await;
    if case.deletes {
        assert_eq!(
            deleted.status,
            204,
            "DELETE {path}/{id}: {}",
            deleted.text()
        );
        app.get(&format!("{path}/{id}")).await.problem(404);
        // The external id is free again.
        assert_eq!(app.post(path, &body).await.status, 201, "{path}");
    } else {
        assert_eq!(deleted.status, 405, "{path}: {}", deleted.text());
        assert_eq!(app.get(&format!("{path}/{id}")).await.status, 200);
    }
}

/// The records the cases refer to.
struct Refs {
    region: String,
    rep: String,
    partner: String,
    spec: String,
}

async fn refs(app: &TestApp) -> Refs {
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let spec = app.create("/process-specs", &rules()).await;
    let published = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    Refs {
        region,
        rep,
        partner,
        spec,
    }
}

/// Runs [`conforms`] for the case `make` builds, on a fresh server.
async fn run(make: impl FnOnce(&Refs) -> Case) {
    let app = spawn_app().await;
    let r = refs(&app).await;
    conforms(&app, make(&r)).await;
}

#[actix_web::test]
async fn regions_conform() {
    run(|_| Case {
        path: "/regions",
        body: json!({"name": "South", "regional_manager": "Karin Lund"}),
        change: ("regional_manager", json!("Eva Berg")),
        bad: (
            json!({"name": "", "regional_manager": "Karin Lund"}),
            "name",
        ),
        deletes: true,
    })
    .await;
}

#[actix_web::test]
async fn reps_conform() {
    run(|r| {
        let body = json!({"name": "Eva Berg", "region_id": r.region, "hired_on": "2025-01-02", "status": "active"});
        Case {
            path: "/reps",
            change: ("status", json!("on_leave")),
            bad: (with(body.clone(), "hired_on", json!("yesterday")), "hired_on"),
            body,
            deletes: false,
        }
    })
    .await;
}

#[actix_web::test]
async fn partners_conform() {
    run(|r| {
        let body = json!({"name": "Acme AB", "kind": "reseller", "tier": "B", "region_id": r.region, "owner_rep_id": r.rep});
        Case {
            path: "/partners",
            change: ("tier", json!("A")),
            bad: (with(body.clone(), "tier", json!("Z")), "tier"),
            body,
            deletes: false,
        }
    })
    .await;
}

#[actix_web::test]
async fn contracts_conform() {
    run(|r| {
        let body = json!({"partner_id": r.partner, "start": "2026-01-01", "term_months": 24, "margin": 0.06,
            "rebate_tiers": [], "sell_in_target": eur(12_000_000), "target_period": "quarter"});
        Case {
            path: "/contracts",
            change: ("term_months", json!(36)),
            bad: (with(body.clone(), "margin", json!(1.5)), "margin"),
            body,
            deletes: true,
        }
    })
    .await;
}

#[actix_web::test]
async fn activities_conform() {
    run(|r| {
        let body = json!({"rep_id": r.rep, "partner_id": r.partner, "date": "2026-03-04", "kind": "visit", "outcome": "completed"});
        Case {
            path: "/activities",
            change: ("outcome", json!("no_show")),
            bad: (with(body.clone(), "kind", json!("party")), "kind"),
            body,
            deletes: true,
        }
    })
    .await;
}

#[actix_web::test]
async fn sales_records_conform() {
    run(|r| {
        let body = json!({"partner_id": r.partner, "month": "2026-03", "sell_in": eur(1000), "sell_through": eur(900)});
        Case {
            path: "/sales-records",
            change: ("sell_in", eur(2000)),
            bad: (with(body.clone(), "sell_in", eur(-5)), "sell_in"),
            body,
            deletes: true,
        }
    })
    .await;
}

#[actix_web::test]
async fn goals_conform() {
    run(|r| {
        let body = json!({"scope": {"kind": "rep", "id": r.rep}, "period": "2026-Q4", "metric": "visits", "target": {"count": 24}, "strategy": "manual"});
        Case {
            path: "/goals",
            change: ("target", json!({"count": 30})),
            bad: (with(body.clone(), "period", json!("2026-Q5")), "period"),
            body,
            deletes: true,
        }
    })
    .await;
}

#[actix_web::test]
async fn assessments_conform() {
    run(|r| {
        let body = json!({"scope": {"kind": "region", "id": r.region}, "period": "2026-Q4", "process_spec_id": r.spec, "spec_version": 1,
            "results": [{"metric": "visits", "weight": 1.0, "target": {"count": 6}, "actual": {"count": 5}}]});
        Case {
            path: "/assessments",
            change: ("period", json!("2027-Q1")),
            bad: (with(body.clone(), "spec_version", json!(0)), "spec_version"),
            body,
            deletes: true,
        }
    })
    .await;
}
