//! Constraints the server enforces are the ones the OpenAPI document declares: the text
//! rule of names and external ids, the range of every integer format, optional bodies that
//! may be `null`, and integers written with a zero fraction (JSON Schema's integers).

use chanlab_shared::{ExternalId, Name, TEXT_PATTERN};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::scenario_schema::validator;

#[test]
fn names_and_external_ids_are_checked_as_the_document_says() {
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    for component in ["Name", "ExternalId"] {
        assert_eq!(
            doc["components"]["schemas"][component]["pattern"], TEXT_PATTERN,
            "{component}"
        );
    }
    let (name, external) = (validator("Name"), validator("ExternalId"));
    let long = "x".repeat(101);
    let padded = format!("{} ", "x".repeat(100));
    for text in [
        "Nordic AB",
        "  padded  ",
        " ",
        "",
        "\u{3000}\u{a0}",
        "tab\there",
        "\tleading tab",
        "line\nbreak",
        "\u{85}next line",
        "é",
        "\u{feff}",
        "\u{7f}",
        "\u{9f}x",
        "\u{a0}x",
        long.as_str(),
        padded.as_str(),
    ] {
        let value = json!(text);
        assert_eq!(
            name.is_valid(&value),
            Name::parse(text).is_ok(),
            "Name {text:?}"
        );
        assert_eq!(
            external.is_valid(&value),
            ExternalId::parse(text).is_ok(),
            "ExternalId {text:?}"
        );
    }
}

#[test]
fn every_sized_integer_declares_its_range() {
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let mut seen = 0;
    let mut stack = vec![&doc];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(fields) => {
                let format = fields.get("format").and_then(Value::as_str);
                if let Some(bits) = format.and_then(|f| f.strip_prefix("uint")) {
                    seen += 1;
                    let high = match bits {
                        "8" => u64::from(u8::MAX),
                        "16" => u64::from(u16::MAX),
                        "32" => u64::from(u32::MAX),
                        "64" => u64::MAX,
                        other => panic!("unknown format uint{other}"),
                    };
                    let min = fields["minimum"].as_u64().expect("a minimum");
                    let max = fields["maximum"].as_u64().expect("a maximum");
                    assert!(max <= high && min <= max, "{node}");
                }
                assert!(
                    !format.is_some_and(|f| f.starts_with("u-int")),
                    "utoipa's kebab-case format left in: {node}"
                );
                stack.extend(fields.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    assert!(seen > 50, "only {seen} unsigned integers");
    // A sweep grid's steps, as the parser bounds them.
    let steps = &doc["components"]["schemas"]["Grid"]["properties"]["steps"];
    assert_eq!(steps["minimum"], 2, "{steps}");
    assert_eq!(
        steps["maximum"],
        json!(chanlab_sim::explore::sweep::MAX_AXIS_VALUES),
        "{steps}"
    );
    // A seed is a u64: the whole range, not int64's.
    assert_eq!(
        doc["components"]["schemas"]["ScenarioFile"]["properties"]["seed"]["maximum"],
        json!(u64::MAX)
    );
}

#[actix_web::test]
async fn an_optional_body_may_be_null_and_an_integer_may_carry_a_zero_fraction() {
    let app = spawn_app().await;
    let scenario = crate::runs::scenario(&app, &crate::scenarios::small_scenario(4)).await;
    let null = app
        .send(
            awc::http::Method::POST,
            &format!("/scenarios/{scenario}/runs"),
            Some(&app.admin),
            &[],
            Some(("application/json", b"null".to_vec())),
        )
        .await;
    assert_eq!(null.status, 202, "{}", null.text());
    assert_eq!(null.json()["kind"], "compare");
    let run = app
        .post(
            &format!("/scenarios/{scenario}/runs"),
            &json!({"replications": 3.0, "seed": 11.0}),
        )
        .await;
    assert_eq!(run.status, 202, "{}", run.text());
    assert_eq!(run.json()["seed"], 11);
    assert_eq!(run.json()["progress"]["total"], 3);
    let half = app
        .post(
            &format!("/scenarios/{scenario}/runs"),
            &json!({"replications": 3.5}),
        )
        .await
        .problem(422);
    assert_eq!(half["errors"][0]["field"], "replications", "{half}");
}
