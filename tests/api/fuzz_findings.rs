//! What the API fuzzer (`.ci/schemathesis.sh`) found, one regression test each: the server
//! answers the way the OpenAPI document says, for the requests that showed it did not.

use serde_json::{Value, json};

use crate::helpers::{eur, spawn_app};

/// The statuses the OpenAPI document lists for `method path`.
fn documented(method: &str, path: &str) -> Vec<u16> {
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not in the document"))
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

#[actix_web::test]
async fn moving_a_sales_record_onto_a_taken_month_is_a_documented_409() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let body = |month: &str| json!({"partner_id": partner, "month": month, "sell_in": eur(100), "sell_through": eur(80)});
    let october = app.create("/sales-records", &body("2026-10")).await;
    app.create("/sales-records", &body("2026-11")).await;

    let res = app
        .put(&format!("/sales-records/{october}"), &body("2026-11"))
        .await;

    res.problem(409);
    assert!(
        documented("put", "/sales-records/{id}").contains(&409),
        "PUT /sales-records/{{id}} answers 409 but does not document it"
    );
    assert_eq!(
        app.get(&format!("/sales-records/{october}")).await.json()["month"],
        "2026-10"
    );
}
