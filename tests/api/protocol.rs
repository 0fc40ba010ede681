//! HTTP semantics a generic client relies on: `Allow` on every 405, and preconditions
//! evaluated after authorisation and existence (RFC 9110 §13.2.1).

use std::collections::BTreeSet;

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[actix_web::test]
async fn every_documented_path_answers_a_method_it_lacks_with_405_and_allow() {
    let app = spawn_app().await;
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let documented: BTreeSet<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        // A syntactically valid id: a route must not need a record to say what it allows.
        let concrete = path
            .replace("{id}", "0193a5c0-0000-7000-8000-000000000000")
            .replace("{version}", "1");
        for method in METHODS.iter().map(|m| m.to_uppercase()) {
            if documented.contains(&method) {
                continue;
            }
            let answer = app
                .send(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    &concrete,
                    Some(&app.admin),
                    &[],
                    None,
                )
                .await;
            answer.problem(405);
            let allow = answer
                .header("allow")
                .unwrap_or_else(|| panic!("{method} {path}: 405 without Allow"));
            let allowed: BTreeSet<String> = allow.split(',').map(|m| m.trim().to_owned()).collect();
            assert_eq!(allowed, documented, "{method} {path}: Allow {allow:?}");
            checked += 1;
        }
    }
    // Every path lacks at least PATCH; the document has 51 paths today.
    assert!(
        checked >= 51 * 2,
        "only {checked} method/path pairs checked"
    );
}

#[actix_web::test]
async fn a_malformed_if_match_is_answered_after_authorisation_and_existence() {
    let app = spawn_app().await;
    let north = app.region("North").await;
    let south = app.region("South").await;
    let rep = app.rep(&north).await;
    let viewer = app.token("viewer", None, None).await;
    let south_manager = app.token("regional_manager", Some(&south), None).await;
    let unknown = "0193a5c0-0000-7000-8000-000000000000";
    let rep_body = json!({"name": "Lars Holm", "region_id": north, "hired_on": "2025-03-01", "status": "active"});
    let region_body = json!({"name": "Nord", "regional_manager": "B"});

    for tag in ["not-an-etag", "\"999\""] {
        let put = |token: String, path: String, body: Value| {
            let app = &app;
            async move {
                app.send(
                    Method::PUT,
                    &path,
                    Some(&token),
                    &[("If-Match", tag)],
                    Some(("application/json", serde_json::to_vec(&body).unwrap())),
                )
                .await
            }
        };
        // A role without the operation: 403, whatever the header says.
        put(
            viewer.clone(),
            format!("/regions/{north}"),
            region_body.clone(),
        )
        .await
        .problem(403);
        // A regional manager on another region's rep, not a 412: a body naming the other
        // region is the request's own 403; one naming its region meets a rep it may not
        // see, an unknown id's 404.
        put(
            south_manager.clone(),
            format!("/reps/{rep}"),
            rep_body.clone(),
        )
        .await
        .problem(403);
        let mut pulled_south = rep_body.clone();
        pulled_south["region_id"] = json!(south);
        put(south_manager.clone(), format!("/reps/{rep}"), pulled_south)
            .await
            .problem(404);
        // An unknown record: 404 on every conditional write.
        put(
            app.admin.clone(),
            format!("/regions/{unknown}"),
            region_body.clone(),
        )
        .await
        .problem(404);
        for path in [
            format!("/regions/{unknown}"),
            format!("/runs/{unknown}"),
            format!("/scenarios/{unknown}"),
        ] {
            app.send(
                Method::DELETE,
                &path,
                Some(&app.admin),
                &[("If-Match", tag)],
                None,
            )
            .await
            .problem(404);
        }
        app.send(
            Method::POST,
            &format!("/partners/{unknown}/transitions"),
            Some(&app.admin),
            &[("If-Match", tag)],
            Some(("application/json", br#"{"to": "negotiating"}"#.to_vec())),
        )
        .await
        .problem(404);
        // The record exists and the caller may write it: now the precondition decides, a
        // 400 for a header that is not If-Match's grammar, a 412 for a version not current.
        let status = if tag.starts_with('"') { 412 } else { 400 };
        let failed = put(
            app.admin.clone(),
            format!("/regions/{north}"),
            region_body.clone(),
        )
        .await
        .problem(status);
        assert!(
            failed["detail"].as_str().unwrap().contains("If-Match"),
            "{failed}"
        );
    }
    assert_eq!(
        app.get(&format!("/regions/{north}")).await.json()["name"],
        "North"
    );
}

#[actix_web::test]
async fn if_match_takes_a_list_of_strong_etags_or_a_star() {
    let app = spawn_app().await;
    let north = app.region("North").await;
    let mut version = 1;
    let body = |name: &str| {
        Some((
            "application/json",
            serde_json::to_vec(&json!({"name": name, "regional_manager": "B"})).unwrap(),
        ))
    };
    // (header, answer): a list matches when any strong tag names the current version; a
    // weak tag never does (If-Match compares strongly); tags this server never issues match
    // nothing; anything outside the grammar is a 400.
    for (tag, status) in [
        ("\"9\", \"1\"", 200),
        ("W/\"2\"", 412),
        ("\"abc\", \"\"", 412),
        ("*", 200),
        ("\"3\" ,\t\"8\"", 200),
        ("\"4\",", 400),
        ("4", 400),
        ("\"4\" \"5\"", 400),
        ("", 400),
    ] {
        let answer = app
            .send(
                Method::PUT,
                &format!("/regions/{north}"),
                Some(&app.admin),
                &[("If-Match", tag)],
                body(&format!("North {version}")),
            )
            .await;
        assert_eq!(answer.status, status, "If-Match {tag:?}: {}", answer.text());
        if status == 200 {
            version += 1;
        }
        let etag = app.get(&format!("/regions/{north}")).await;
        assert_eq!(
            etag.header("etag").as_deref(),
            Some(format!("\"{version}\"").as_str()),
            "If-Match {tag:?} wrote only when it matched"
        );
    }
}

#[actix_web::test]
async fn the_spec_declares_the_if_match_grammar_the_server_reads() {
    use chanlab_api::extract::{IF_MATCH_PATTERN, IfMatch};
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let mut declared = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "If-Match" {
                    declared += 1;
                    assert_eq!(p["in"], "header", "{method} {path}");
                    assert_eq!(p["required"], false, "{method} {path}");
                    assert_eq!(
                        p["schema"],
                        json!({"type": "string", "pattern": IF_MATCH_PATTERN, "examples": ["\"1\""]}),
                        "{method} {path}"
                    );
                    assert!(
                        op["responses"].get("400").is_some(),
                        "{method} {path} takes If-Match but documents no 400"
                    );
                }
            }
        }
    }
    // Every update, delete, transition, publish and rotation: 9 resources' PUT and DELETE
    // and the other conditional writes.
    assert!(declared >= 20, "only {declared} If-Match parameters");
    // The pattern and the parser agree.
    let pattern =
        jsonschema::validator_for(&json!({"type": "string", "pattern": IF_MATCH_PATTERN})).unwrap();
    for text in [
        "*",
        "\"1\"",
        "W/\"1\"",
        "\"1\", \"2\"",
        "\"a\"\t,\t\"b\"",
        "\"\"",
        "",
        "1",
        "\"1",
        "\"1\",",
        "*, \"1\"",
        "\"a\"b\"",
        "\"é\"",
        " \"1\"",
        "\"a,b\"",
        "\"1\",\"a,b\" , W/\",\"",
        "\"1\"\"2\"",
    ] {
        assert_eq!(
            pattern.is_valid(&json!(text)),
            IfMatch::parse(text).is_ok(),
            "{text:?}"
        );
    }
}

#[actix_web::test]
async fn the_spec_declares_the_idempotency_key_the_server_enforces() {
    use chanlab_api::extract::{IDEMPOTENCY_KEY_MAX, IDEMPOTENCY_KEY_PATTERN};
    let doc: Value = serde_json::from_str(&chanlab_api::openapi_json()).unwrap();
    let mut declared = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["name"] == "Idempotency-Key" {
                    assert_eq!(param["schema"]["maxLength"], IDEMPOTENCY_KEY_MAX);
                    assert_eq!(param["schema"]["minLength"], 1);
                    assert_eq!(param["schema"]["pattern"], IDEMPOTENCY_KEY_PATTERN);
                    declared += 1;
                }
            }
        }
    }
    assert!(declared >= 20, "{declared} Idempotency-Key parameters");

    let app = spawn_app().await;
    let post = |key: String| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/regions",
                Some(&app.admin),
                &[("Idempotency-Key", &key)],
                Some((
                    "application/json",
                    br#"{"name": "North", "regional_manager": "A"}"#.to_vec(),
                )),
            )
            .await
        }
    };
    assert_eq!(post("k".repeat(IDEMPOTENCY_KEY_MAX)).await.status, 201);
    post("k".repeat(IDEMPOTENCY_KEY_MAX + 1)).await.problem(400);
    post("a\tb".to_owned()).await.problem(400);
    assert_eq!(post("a b".to_owned()).await.status, 201);
}

#[actix_web::test]
async fn an_amount_beyond_two_to_the_53_minor_units_is_a_422_naming_the_field() {
    use crate::helpers::eur;
    let app = spawn_app().await;
    let region = app.region("North").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let sale = |minor: i64| json!({"partner_id": partner, "month": "2026-11", "sell_in": eur(minor), "sell_through": eur(1)});

    let body = app
        .post("/sales-records", &sale(1 << 53))
        .await
        .problem(422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.iter().any(|f| f.starts_with("sell_in")), "{body}");
    assert_eq!(
        app.post("/sales-records", &sale((1 << 53) - 1))
            .await
            .status,
        201
    );
}
