//! Every kind of bad input answers problem+json with a clear status, never a 500, and
//! writes nothing.

use awc::http::Method;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

async fn partner_count(app: &TestApp) -> usize {
    app.get("/partners").await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> crate::helpers::Answer {
    app.send(
        Method::POST,
        path,
        Some(&app.admin),
        &[],
        Some((content_type, body.to_vec())),
    )
    .await
}

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;

    let res = post_raw(
        &app,
        "/regions",
        "application/json",
        b"{\"name\": \"Nordics\",",
    )
    .await;

    let problem = res.problem(400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_wrong_type_names_the_field() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;

    let res = app
        .post(
            "/reps",
            &json!({"name": "Lars", "region_id": region, "hired_on": 20250301, "status": "active"}),
        )
        .await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "hired_on");
}

#[actix_web::test]
async fn an_unknown_enum_value_names_the_field_and_the_choices() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;

    let res = app
        .post(
            "/partners",
            &json!({"name": "Acme", "kind": "wholesaler", "tier": "A", "region_id": region}),
        )
        .await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "kind");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("distributor"),
        "{problem}"
    );
    assert_eq!(partner_count(&app).await, 0);
}

#[actix_web::test]
async fn an_out_of_range_number_names_the_nested_field() {
    let app = spawn_app().await;
    let mut rules = crate::helpers::rules();
    rules["incentive"]["commission_rate"] = json!(3);

    let res = app.post("/process-specs", &rules).await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "incentive.commission_rate");
}

#[actix_web::test]
async fn a_domain_rule_across_fields_names_the_field() {
    let app = spawn_app().await;
    let mut rules = crate::helpers::rules();
    rules["incentive"]["cap"] = json!(0.5);

    let res = app.post("/process-specs", &rules).await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "incentive.cap");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cap below 1.0")
    );
}

#[actix_web::test]
async fn a_missing_field_is_named() {
    let app = spawn_app().await;

    let res = app.post("/regions", &json!({"name": "Nordics"})).await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "regional_manager");
}

#[actix_web::test]
async fn an_unknown_field_is_refused() {
    let app = spawn_app().await;

    let res = app
        .post(
            "/regions",
            &json!({"name": "Nordics", "regional_manager": "A", "regoin": "x"}),
        )
        .await;

    let problem = res.problem(422);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
}

#[actix_web::test]
async fn a_reference_to_a_missing_region_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;

    let res = app
        .post(
            "/partners",
            &json!({"name": "Acme", "kind": "agent", "tier": "C", "region_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01"}),
        )
        .await;

    let problem = res.problem(422);
    assert_eq!(problem["errors"][0]["field"], "region_id");
    assert_eq!(partner_count(&app).await, 0);
}

#[actix_web::test]
async fn a_missing_owner_rep_is_reported_on_owner_rep_id() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;

    let res = app
        .post(
            "/partners",
            &json!({"name": "Acme", "kind": "agent", "tier": "C", "region_id": region, "owner_rep_id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02"}),
        )
        .await;

    assert_eq!(res.problem(422)["errors"][0]["field"], "owner_rep_id");
}

#[actix_web::test]
async fn an_unknown_or_malformed_id_is_a_404() {
    let app = spawn_app().await;

    app.get("/partners/019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03")
        .await
        .problem(404);
    app.get("/partners/not-an-id").await.problem(404);
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"name\": \"{}\", \"regional_manager\": \"A\"}}",
        "x".repeat(300 * 1024)
    );

    let res = post_raw(&app, "/regions", "application/json", big.as_bytes()).await;

    res.problem(413);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;

    let res = post_raw(&app, "/regions", "text/plain", b"name=Nordics").await;

    res.problem(415);
}

#[actix_web::test]
async fn a_bad_query_parameter_value_is_a_400() {
    let app = spawn_app().await;

    app.get("/partners?limit=9999").await.problem(400);
    app.get("/partners?stage=dormant").await.problem(400);
    app.get("/partners?limit=ten").await.problem(400);
}

#[actix_web::test]
async fn an_unknown_query_parameter_is_a_422_naming_it_like_an_unknown_body_field() {
    let app = spawn_app().await;

    // A list operation of the record resources and one declared on its own.
    for path in ["/partners?reigon_id=x", "/audit?sinse=2026-01-01T00:00:00Z"] {
        let problem = app.get(path).await.problem(422);
        let name = path.split_once('?').unwrap().1.split('=').next().unwrap();
        assert_eq!(problem["errors"][0]["field"], name, "{problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("unknown query parameter"), "{message}");
        assert!(!message.contains("deserialize"), "{message}");
        // And the OpenAPI document says so.
        let doc: serde_json::Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
        let operation = path.split_once('?').unwrap().0;
        assert!(
            doc["paths"][operation]["get"]["responses"]["422"].is_object(),
            "GET {operation} does not document its 422"
        );
    }
}

#[actix_web::test]
async fn an_unknown_path_and_a_wrong_method_answer_problems() {
    let app = spawn_app().await;

    app.get("/nowhere").await.problem(404);
    app.send(Method::PATCH, "/regions", Some(&app.admin), &[], None)
        .await
        .problem(405);
}

#[actix_web::test]
async fn no_token_or_an_unknown_token_is_a_401() {
    let app = spawn_app().await;

    let none = app.send(Method::GET, "/partners", None, &[], None).await;
    none.problem(401);
    assert!(
        none.header("www-authenticate")
            .unwrap()
            .starts_with("Bearer")
    );
    app.send(Method::GET, "/partners", Some("chl_nope"), &[], None)
        .await
        .problem(401);
    app.send(
        Method::GET,
        "/partners",
        None,
        &[("Authorization", "Basic YWRtaW46YWRtaW4=")],
        None,
    )
    .await
    .problem(401);
}

#[actix_web::test]
async fn health_readiness_the_spec_and_the_docs_need_no_token() {
    let app = spawn_app().await;

    for path in ["/healthz", "/readyz", "/openapi.json", "/docs/"] {
        let res = app.send(Method::GET, path, None, &[], None).await;
        assert_eq!(res.status, 200, "{path}");
    }
    let docs = app
        .send(Method::GET, "/docs/", None, &[], None)
        .await
        .text();
    assert!(
        !docs.contains("cdn") && !docs.contains("unpkg"),
        "the docs page loads nothing from the network"
    );
    let spec = app
        .send(Method::GET, "/openapi.json", None, &[], None)
        .await
        .json();
    assert_eq!(
        spec,
        serde_json::from_str::<serde_json::Value>(&chanlab_api::openapi_json()).unwrap()
    );
}

#[actix_web::test]
async fn absurdly_deep_json_is_refused_without_harm() {
    let app = spawn_app().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));

    let res = post_raw(&app, "/regions", "application/json", deep.as_bytes()).await;

    // Bodies are read into fixed-shape types, so nesting never recurses past them.
    res.problem(422);
    assert_eq!(app.get("/healthz").await.status, 200);
}
