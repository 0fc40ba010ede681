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

/// Where `value` breaks the object rules of `schema` in `doc` (`required` and a closed
/// `additionalProperties: false`), following `$ref`, `allOf` (every member validates the
/// whole value, as JSON Schema says: the rule schemathesis's ST108 caught), `properties`
/// and `items`. Only these rules: the ones a flattened view can break.
fn object_rule_breaks(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.trim_start_matches("#/components/schemas/");
        return object_rule_breaks(doc, &doc["components"]["schemas"][name], value, at);
    }
    let mut breaks = Vec::new();
    for member in schema["allOf"].as_array().into_iter().flatten() {
        breaks.extend(object_rule_breaks(doc, member, value, at));
    }
    if let (Some(object), Some(items)) = (value.as_array(), schema.get("items")) {
        for (i, item) in object.iter().enumerate() {
            breaks.extend(object_rule_breaks(doc, items, item, &format!("{at}[{i}]")));
        }
    }
    let Some(object) = value.as_object() else {
        return breaks;
    };
    let properties = schema["properties"].as_object();
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        if !object.contains_key(required) {
            breaks.push(format!("{at}: `{required}` is required"));
        }
    }
    for (key, field) in object {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => breaks.extend(object_rule_breaks(
                doc,
                property,
                field,
                &format!("{at}.{key}"),
            )),
            None if schema["additionalProperties"] == false => {
                breaks.push(format!("{at}: `{key}` is not allowed"))
            }
            None => {}
        }
    }
    breaks
}

/// The schema of the JSON a `status` answer to `method path` carries.
fn answer_schema(doc: &Value, method: &str, path: &str, status: &str) -> Value {
    doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
}

#[actix_web::test]
async fn a_finished_run_and_backtest_validate_against_their_documented_schemas() {
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let app = crate::helpers::spawn_app_with_records(
        &crate::helpers::synthetic(16, 4),
        chanlab_api::simulation::RunLimits::default(),
    )
    .await;
    let scenario = crate::runs::scenario(&app, &crate::scenarios::small_scenario(4)).await;
    let run = crate::runs::finished_run(&app, &scenario).await;
    let backtest = crate::backtests::finished_backtest(&app).await;

    for (path, id) in [("/runs/{id}", &run), ("/backtests/{id}", &backtest)] {
        let body = app.get(&path.replace("{id}", id)).await.json();
        assert!(body["result"].is_object(), "{path}: no result in {body}");
        let schema = answer_schema(&doc, "get", path, "200");
        assert!(schema.is_object(), "GET {path} documents no 200 schema");
        let breaks = object_rule_breaks(&doc, &schema, &body, "$");
        assert!(
            breaks.is_empty(),
            "GET {path} answers outside its schema: {breaks:?}"
        );
    }
}
