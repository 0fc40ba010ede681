//! Rotating a subscription's signing secret: the new one is shown once, the replaced one
//! signs beside it for the overlap (two `v1=` signatures) so a receiver switches without
//! missing a delivery, `keep_previous_hours: 0` stops it at once, and neither secret enters
//! the audit trail or a listing.

use chanlab_api::webhooks::signature;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::webhooks::{Received, Receiver, subscribe};

/// The `v1=` signatures a delivery carries, in order.
fn signatures(r: &Received) -> Vec<String> {
    r.header("Chanlab-Webhook-Signature")
        .split(',')
        .map(str::to_owned)
        .collect()
}

/// The signature of `r` by `secret`, as a receiver computes it.
fn signed_by(r: &Received, secret: &str) -> String {
    let timestamp: i64 = r.header("Chanlab-Webhook-Timestamp").parse().unwrap();
    signature(secret, timestamp, &r.body)
}

async fn a_goal(app: &TestApp, rep: &str) {
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q4", "metric": "visits",
            "target": {"count": 6}, "strategy": "manual"}),
    )
    .await;
}

async fn rotate(app: &TestApp, id: &str, body: &Value) -> Value {
    let res = app
        .post(&format!("/webhooks/{id}/rotate-secret"), body)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver.url, &["goal.created"], false).await;
    let id = hook["id"].as_str().unwrap();
    let first = hook["secret"].as_str().unwrap().to_owned();
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;

    let rotated = rotate(&app, id, &json!({})).await;
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert!(second.starts_with("whsec_"), "{rotated}");
    let until =
        chrono::DateTime::parse_from_rfc3339(rotated["previous_secret_until"].as_str().unwrap())
            .unwrap();
    let hours = (until.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!(
        (23 * 60..=24 * 60).contains(&hours),
        "24 h by default: {rotated}"
    );

    a_goal(&app, &rep).await;
    let got = receiver
        .until("a delivery in the overlap", |g| g.len() == 1)
        .await;
    assert_eq!(
        signatures(&got[0]),
        [signed_by(&got[0], &second), signed_by(&got[0], &first)],
        "the new secret's signature first, then the old one's"
    );

    // A leaked secret: stopped at once.
    let third = rotate(&app, id, &json!({"keep_previous_hours": 0})).await;
    assert!(third.get("previous_secret_until").is_none(), "{third}");
    let third = third["secret"].as_str().unwrap().to_owned();
    a_goal(&app, &rep).await;
    let got = receiver
        .until("a delivery after it", |g| g.len() == 2)
        .await;
    assert_eq!(signatures(&got[1]), [signed_by(&got[1], &third)]);

    // No secret is shown again, nor kept in the trail.
    let shown = app.get(&format!("/webhooks/{id}")).await.text();
    let trail = app
        .get(&format!("/audit?kind=webhook&record_id={id}"))
        .await
        .text();
    for secret in [&first, &second, &third] {
        assert!(!shown.contains(secret.as_str()), "{shown}");
        assert!(!trail.contains(secret.as_str()), "{trail}");
    }
    assert!(
        trail.contains("POST /webhooks/{id}/rotate-secret"),
        "{trail}"
    );
}

#[actix_web::test]
async fn an_overlap_past_a_week_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]);
    let hook = subscribe(&app, &receiver.url, &["goal.created"], false).await;
    let id = hook["id"].as_str().unwrap();
    let res = app
        .post(
            &format!("/webhooks/{id}/rotate-secret"),
            &json!({"keep_previous_hours": 169}),
        )
        .await;
    let problem = res.problem(422);
    assert!(
        problem.to_string().contains("keep_previous_hours"),
        "{problem}"
    );
    let unknown = app
        .post(
            "/webhooks/0193a3e0-7c3f-7000-8000-000000000000/rotate-secret",
            &json!({}),
        )
        .await;
    unknown.problem(404);
}
