//! Partners move through their lifecycle only along the graph.

use serde_json::json;

use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_partner_moves_from_prospect_to_active_step_by_step() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;

    for stage in ["negotiating", "contracted", "active", "at_risk", "active"] {
        let res = app
            .post(
                &format!("/partners/{partner}/transitions"),
                &json!({"to": stage, "on": "2026-11-02"}),
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
