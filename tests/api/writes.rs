//! Optimistic concurrency (ETag / If-Match) and idempotent retries.

use awc::http::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_stale_if_match_is_refused_and_the_record_is_unchanged() {
    let app = spawn_app().await;
    let id = app.region("Nordics").await;
    let etag = app
        .get(&format!("/regions/{id}"))
        .await
        .header("etag")
        .unwrap();
    let first = app
        .send(
            Method::PUT,
            &format!("/regions/{id}"),
            Some(&app.admin),
            &[("If-Match", &etag)],
            Some((
                "application/json",
                br#"{"name": "Norden", "regional_manager": "A"}"#.to_vec(),
            )),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());

    let second = app
        .send(
            Method::PUT,
            &format!("/regions/{id}"),
            Some(&app.admin),
            &[("If-Match", &etag)],
            Some((
                "application/json",
                br#"{"name": "Nordic", "regional_manager": "B"}"#.to_vec(),
            )),
        )
        .await;

    second.problem(412);
    assert_eq!(
        app.get(&format!("/regions/{id}")).await.json()["name"],
        "Norden"
    );
}

#[actix_web::test]
async fn a_stale_if_match_also_guards_deletes_and_transitions() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;

    let moved = app
        .send(
            Method::POST,
            &format!("/partners/{partner}/transitions"),
            Some(&app.admin),
            &[("If-Match", "\"7\"")],
            Some(("application/json", br#"{"to": "negotiating"}"#.to_vec())),
        )
        .await;
    let deleted = app
        .send(
            Method::DELETE,
            &format!("/regions/{region}"),
            Some(&app.admin),
            &[("If-Match", "\"9\"")],
            None,
        )
        .await;

    moved.problem(412);
    deleted.problem(412);
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "prospect"
    );
}

#[actix_web::test]
async fn a_retried_create_with_the_same_key_creates_nothing_new() {
    let app = spawn_app().await;
    let body = br#"{"name": "Nordics", "regional_manager": "Astrid"}"#.to_vec();
    let send = || {
        app.send(
            Method::POST,
            "/regions",
            Some(&app.admin),
            &[("Idempotency-Key", "create-nordics-1")],
            Some(("application/json", body.clone())),
        )
    };

    let first = send().await;
    let retry = send().await;

    assert_eq!((first.status, retry.status), (201, 201));
    assert_eq!(first.json(), retry.json());
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        app.get("/regions").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn reusing_a_key_for_a_different_body_is_refused() {
    let app = spawn_app().await;
    let post = |body: &'static [u8]| {
        app.send(
            Method::POST,
            "/regions",
            Some(&app.admin),
            &[("Idempotency-Key", "k1")],
            Some(("application/json", body.to_vec())),
        )
    };
    assert_eq!(
        post(br#"{"name": "Nordics", "regional_manager": "A"}"#)
            .await
            .status,
        201
    );

    let res = post(br#"{"name": "Iberia", "regional_manager": "B"}"#).await;

    assert_eq!(res.problem(422)["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(
        app.get("/regions").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn concurrent_writers_are_all_acknowledged_and_all_stored() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let body = json!({"rep_id": rep, "partner_id": partner, "date": "2026-11-12", "kind": "visit", "outcome": "completed"});

    let posts = (0..40).map(|_| app.post("/activities", &body));
    let answers = futures_util::future::join_all(posts).await;

    assert!(answers.iter().all(|a| a.status == 201));
    let listed = app.get("/activities?limit=500").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 40);
}

#[actix_web::test]
async fn a_retried_transition_with_the_same_key_moves_the_partner_once() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let path = format!("/partners/{partner}/transitions");
    let send = || {
        app.send(
            Method::POST,
            &path,
            Some(&app.admin),
            &[("Idempotency-Key", "sign-acme")],
            Some(("application/json", br#"{"to": "negotiating"}"#.to_vec())),
        )
    };

    let first = send().await;
    let retry = send().await;

    assert_eq!((first.status, retry.status), (200, 200), "{}", retry.text());
    assert_eq!(retry.json()["stage"], "negotiating");
    let fresh = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "negotiating"}),
        )
        .await;
    assert_eq!(fresh.problem(409)["allowed"], json!(["contracted", "lost"]));
}
