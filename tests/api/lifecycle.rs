//! Partners move through their lifecycle only along the graph, and keep their history.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Moves `partner` to `to` on `on`, expecting success.
async fn move_on(app: &TestApp, partner: &str, to: &str, on: &str) {
    let res = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": to, "on": on}),
        )
        .await;
    assert_eq!(res.status, 200, "{to} on {on}: {}", res.text());
}

/// The `(from, to, on)` of each stage change on a page.
fn moves(page: &Value) -> Vec<(String, String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = |k: &str| m[k].as_str().unwrap().to_owned();
            (text("from"), text("to"), text("on"))
        })
        .collect()
}

#[actix_web::test]
async fn a_partner_moves_from_prospect_to_active_step_by_step() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;

    for stage in ["negotiating", "contracted", "active", "at_risk", "active"] {
        let res = app
            .post(
                &format!("/partners/{partner}/transitions"),
                &json!({"to": stage, "on": "2025-11-02"}),
            )
            .await;
        assert_eq!(res.status, 200, "{stage}: {}", res.text());
        assert_eq!(res.json()["stage"], stage);
    }
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "active"
    );
}

#[actix_web::test]
async fn an_illegal_move_is_a_409_listing_the_allowed_stages() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "negotiating").await;

    let res = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "active"}),
        )
        .await;

    let problem = res.problem(409);
    assert_eq!(problem["allowed"], json!(["contracted", "lost"]));
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("cannot move from negotiating to active")
    );
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "negotiating"
    );
}

#[actix_web::test]
async fn a_lost_partner_can_be_reopened_as_a_prospect() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "C", "negotiating").await;

    let lost = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "lost"}),
        )
        .await;
    let reopened = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "prospect"}),
        )
        .await;

    assert_eq!((lost.status, reopened.status), (200, 200));
    assert_eq!(reopened.json()["stage"], "prospect");
}

#[actix_web::test]
async fn an_update_cannot_change_the_stage() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;

    let res = app
        .put(
            &format!("/partners/{partner}"),
            &json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": region, "stage": "active"}),
        )
        .await;

    let problem = res.problem(409);
    assert!(problem["detail"].as_str().unwrap().contains("transitions"));
    assert_eq!(problem["allowed"], json!(["negotiating"]));
}

#[actix_web::test]
async fn a_partners_stage_history_lists_its_moves_oldest_first_a_page_at_a_time() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let other = app.partner(&region, None, "B", "prospect").await;
    move_on(&app, &partner, "negotiating", "2025-01-06").await;
    move_on(&app, &other, "negotiating", "2025-01-07").await;
    move_on(&app, &partner, "contracted", "2025-02-10").await;
    move_on(&app, &partner, "active", "2025-02-10").await;

    let first = app
        .get(&format!("/partners/{partner}/transitions?limit=2"))
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    let next = first["next"].as_str().expect("a next link").to_owned();
    let second = app.get(&next).await.json();

    assert_eq!(
        moves(&first),
        [
            ("prospect".into(), "negotiating".into(), "2025-01-06".into()),
            (
                "negotiating".into(),
                "contracted".into(),
                "2025-02-10".into()
            ),
        ]
    );
    assert_eq!(
        moves(&second),
        [("contracted".into(), "active".into(), "2025-02-10".into())]
    );
    assert!(second["next"].is_null());
    // Any text is a position in the history's order: a bare date starts the page there.
    let from_february = app
        .get(&format!("/partners/{partner}/transitions?after=2025-02"))
        .await
        .json();
    assert_eq!(
        moves(&from_february),
        [
            (
                "negotiating".into(),
                "contracted".into(),
                "2025-02-10".into()
            ),
            ("contracted".into(), "active".into(), "2025-02-10".into())
        ]
    );
    assert!(
        first["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["partner_id"] == partner.as_str())
    );
}

#[actix_web::test]
async fn a_partner_without_moves_has_an_empty_history_and_an_unknown_partner_none() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;

    let empty = app.get(&format!("/partners/{partner}/transitions")).await;
    let unknown = app
        .get("/partners/019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01/transitions")
        .await;
    let bad_cursor = app
        .get(&format!("/partners/{partner}/transitions?after=nope"))
        .await;

    assert_eq!(empty.status, 200, "{}", empty.text());
    assert_eq!(empty.json(), json!({"items": [], "next": null}));
    unknown.problem(404);
    // A cursor is a position, as on every list: "nope" sorts after every dated move.
    assert_eq!(bad_cursor.status, 200, "{}", bad_cursor.text());
    assert_eq!(bad_cursor.json(), json!({"items": [], "next": null}));
}

#[actix_web::test]
async fn a_caller_who_may_not_read_the_partner_may_not_read_its_history() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let mine = app.rep(&region).await;
    let colleague = app.rep(&region).await;
    let theirs = app
        .partner(&region, Some(&colleague), "A", "prospect")
        .await;
    let own = app.partner(&region, Some(&mine), "A", "prospect").await;
    move_on(&app, &theirs, "negotiating", "2025-01-06").await;
    let rep = app.token("rep", None, Some(&mine)).await;
    let read = async |path: String| app.send(Method::GET, &path, Some(&rep), &[], None).await;

    let partner = read(format!("/partners/{theirs}")).await;
    let history = read(format!("/partners/{theirs}/transitions")).await;
    let own_history = read(format!("/partners/{own}/transitions")).await;

    // Another rep's partner is, to this rep, a partner that does not exist.
    partner.problem(404);
    history.problem(404);
    assert_eq!(own_history.status, 200, "{}", own_history.text());
}

#[actix_web::test]
async fn a_move_dated_after_today_is_a_422_naming_on_and_moves_nothing() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;

    let res = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "negotiating", "on": "2999-01-01"}),
        )
        .await;

    assert_eq!(res.problem(422)["errors"][0]["field"], "on");
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "prospect"
    );
}

#[actix_web::test]
async fn a_move_dated_before_the_latest_recorded_move_is_a_409_naming_on() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    move_on(&app, &partner, "negotiating", "2025-03-01").await;

    let res = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "contracted", "on": "2025-02-28"}),
        )
        .await;

    let problem = res.problem(409);
    assert_eq!(problem["errors"][0]["field"], "on");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2025-03-01"),
        "{problem}"
    );
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "negotiating"
    );
    let history = app.get(&format!("/partners/{partner}/transitions")).await;
    assert_eq!(history.json()["items"].as_array().unwrap().len(), 1);
}
