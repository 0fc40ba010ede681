//! The audit trail: every write path leaves an entry naming the actor, the operation, the
//! record and each field before and after; a refused write leaves none; admins filter it.

use awc::http::Method;
use serde_json::{Value, json};

use crate::csv_kinds::import;
use crate::helpers::{TestApp, spawn_app};

/// Every audit entry matching `query`, across pages.
async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut next = Some(format!("/audit?limit=2&{query}"));
    while let Some(path) = next {
        let res = app.get(&path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let page = res.json();
        entries.extend(page["items"].as_array().unwrap().iter().cloned());
        next = page["next"].as_str().map(str::to_owned);
    }
    entries
}

/// The entries about one record, oldest first.
async fn of_record(app: &TestApp, kind: &str, id: &str) -> Vec<Value> {
    audit(app, &format!("kind={kind}&record_id={id}")).await
}

fn change<'a>(entry: &'a Value, field: &str) -> &'a Value {
    entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no change of {field} in {entry}"))
}

#[actix_web::test]
async fn a_records_create_update_and_delete_are_audited_with_actor_request_and_fields() {
    let app = spawn_app().await;
    let res = app
        .send(
            Method::POST,
            "/regions",
            Some(&app.admin),
            &[("X-Request-Id", "audit-test-1")],
            Some((
                "application/json",
                serde_json::to_vec(&json!({"name": "Norden", "regional_manager": "Astrid"}))
                    .unwrap(),
            )),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let made = res.json();
    let region = made["id"].as_str().unwrap().to_owned();
    assert_eq!(made["created_by"], made["updated_by"], "{made}");
    let res = app
        .put(
            &format!("/regions/{region}"),
            &json!({"name": "Norden", "regional_manager": "Bjørn"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let changed = res.json();
    let stored = app.get(&format!("/regions/{region}")).await.json();
    assert_eq!(stored, changed, "the answer is the record as stored");
    assert_eq!(
        stored["created_by"], made["created_by"],
        "kept across an update"
    );
    assert!(
        stored["updated_by"]["at"].as_str().unwrap() > made["updated_by"]["at"].as_str().unwrap(),
        "{stored}"
    );
    let res = app
        .send(
            Method::DELETE,
            &format!("/regions/{region}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(res.status, 204, "{}", res.text());

    let entries = of_record(&app, "region", &region).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "updated", "deleted"]);
    let created = &entries[0];
    assert_eq!(created["request_id"], "audit-test-1");
    assert_eq!(created["operation"], "POST /regions");
    assert_eq!(change(created, "name")["after"], "Norden");
    // The admin's token is the test's only one before any other is made.
    let tokens = app.get("/tokens").await.json();
    let admin = &tokens["items"][0];
    assert_eq!(created["actor"]["token_id"], admin["id"]);
    assert_eq!(created["actor"]["label"], admin["label"]);
    assert_eq!(made["created_by"]["token_id"], admin["id"]);
    assert_eq!(made["created_by"]["label"], admin["label"]);
    let updated = &entries[1];
    assert_eq!(updated["operation"], "PUT /regions/{id}");
    let manager = change(updated, "regional_manager");
    assert_eq!(manager["before"], "Astrid");
    assert_eq!(manager["after"], "Bjørn");
    assert!(
        updated["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["field"] != "name"),
        "an unchanged field is not listed: {updated}"
    );
    assert_eq!(change(&entries[2], "regional_manager")["before"], "Bjørn");
    assert!(
        change(&entries[2], "regional_manager")
            .get("after")
            .is_none()
    );
}

#[actix_web::test]
async fn transitions_imports_and_tokens_are_audited_and_secrets_never_shown() {
    let app = spawn_app().await;
    let region = app.region("Norden").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let res = app
        .post(
            &format!("/partners/{partner}/transitions"),
            &json!({"to": "negotiating", "on": "2026-01-05"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let entries = of_record(&app, "partner", &partner).await;
    assert_eq!(entries.len(), 2, "created, then moved: {entries:?}");
    assert_eq!(entries[1]["operation"], "POST /partners/{id}/transitions");
    let stage = change(&entries[1], "stage");
    assert_eq!(
        (&stage["before"], &stage["after"]),
        (&json!("prospect"), &json!("negotiating"))
    );

    let res = import(
        &app,
        "/regions/import",
        "name,regional_manager\nSüd,Clara\nOst,Dana\n",
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let imported: Vec<Value> = audit(&app, "kind=region")
        .await
        .into_iter()
        .filter(|e| e["operation"] == "POST /regions/import")
        .collect();
    assert_eq!(imported.len(), 2, "one entry per imported row");

    let res = app
        .post("/tokens", &json!({"role": "viewer", "label": "bi"}))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let token = res.json();
    let id = token["id"].as_str().unwrap();
    let res = app
        .send(
            Method::POST,
            &format!("/tokens/{id}/rotate"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let entries = of_record(&app, "token", id).await;
    assert_eq!(entries.len(), 2, "made and rotated: {entries:?}");
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(token["token"].as_str().unwrap()));
    assert!(
        entries
            .iter()
            .flat_map(|e| e["changes"].as_array().unwrap())
            .all(|c| c["field"] != "hash"),
        "a token's hash stays out of the trail"
    );
    assert!(change(&entries[1], "rotated_at")["after"].is_string());
}

#[actix_web::test]
async fn a_refused_write_leaves_no_entry_and_reading_writes_none() {
    let app = spawn_app().await;
    let before = audit(&app, "").await.len();
    let res = app
        .post("/regions", &json!({"name": "", "regional_manager": "A"}))
        .await;
    assert_eq!(res.status, 422, "{}", res.text());
    let res = app.get("/regions").await;
    assert_eq!(res.status, 200);
    assert_eq!(audit(&app, "").await.len(), before);
}

#[actix_web::test]
async fn a_client_cannot_set_who_made_a_record() {
    let app = spawn_app().await;
    let forged = json!({"token_id": null, "label": "someone else", "at": "2020-01-01T00:00:00Z"});
    let res = app
        .post(
            "/regions",
            &json!({"name": "Norden", "regional_manager": "A", "created_by": forged}),
        )
        .await;
    assert_eq!(
        res.problem(422)["errors"][0]["field"],
        "created_by",
        "{}",
        res.text()
    );
    let region = app.region("Norden").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let stored = app.get(&format!("/partners/{partner}")).await.json();
    let mut body = stored.clone();
    for f in ["id", "created_by", "updated_by", "stage"] {
        body.as_object_mut().unwrap().remove(f);
    }
    body["updated_by"] = forged.clone();
    let res = app.put(&format!("/partners/{partner}"), &body).await;
    assert_eq!(
        res.problem(422)["errors"][0]["field"],
        "updated_by",
        "{}",
        res.text()
    );
}

#[actix_web::test]
async fn the_trail_filters_by_actor_and_time_and_only_admins_read_it() {
    let app = spawn_app().await;
    let res = app
        .post(
            "/tokens",
            &json!({"role": "admin", "label": "second admin"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let other = res.json()["token"].as_str().unwrap().to_owned();
    let cm = app.token("channel_manager", None, None).await;
    let res = app
        .json_as(
            &other,
            Method::POST,
            "/regions",
            &json!({"name": "Norden", "regional_manager": "A"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let mid = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    app.region("Süd").await;

    let all = audit(&app, "kind=region").await;
    assert_eq!(all.len(), 2);
    let cm_id = all[0]["actor"]["token_id"].as_str().unwrap().to_owned();
    assert_eq!(all[0]["actor"]["label"], "second admin");
    let by_cm = audit(&app, &format!("actor={cm_id}")).await;
    assert_eq!(by_cm.len(), 1);
    assert_eq!(change(&by_cm[0], "name")["after"], "Norden");
    let since = audit(&app, &format!("kind=region&since={}", urlencode(&mid))).await;
    assert_eq!(since.len(), 1);
    assert_eq!(change(&since[0], "name")["after"], "Süd");
    let until = audit(&app, &format!("kind=region&until={}", urlencode(&mid))).await;
    assert_eq!(until.len(), 1);
    assert_eq!(change(&until[0], "name")["after"], "Norden");

    for bad in [
        "since=yesterday",
        "kind=nonsense",
        "record_id=x",
        "actor=someone",
    ] {
        let res = app.get(&format!("/audit?{bad}")).await;
        let name = bad.split('=').next().unwrap();
        assert!(
            res.problem(400)["detail"].as_str().unwrap().contains(name),
            "{bad}: {}",
            res.text()
        );
    }
    let res = app.send(Method::GET, "/audit", Some(&cm), &[], None).await;
    assert_eq!(res.status, 403, "{}", res.text());
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[actix_web::test]
async fn a_token_made_on_the_command_line_is_audited_as_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
        .args([
            "token",
            "create",
            "--role",
            "viewer",
            "--label",
            "bi",
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("CHANLAB_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = crate::restart::admin_token(&data);
    let mut server = crate::restart::start(&data);
    let client = awc::Client::default();
    let mut res = client
        .get(format!("{}/audit?actor=command%20line", server.address))
        .insert_header(("Authorization", format!("Bearer {admin}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let page: Value = res.json().await.unwrap();
    let ops: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert!(
        ops.iter().filter(|o| **o == "chanlab token create").count() >= 2,
        "the viewer's and the admin's tokens: {ops:?}"
    );
    assert!(page["items"][0]["actor"].get("token_id").is_none());
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[actix_web::test]
async fn an_import_of_many_records_is_one_batch_entry_found_by_each_record() {
    let app = spawn_app().await;
    let mut file = "name,regional_manager\n".to_owned();
    for i in 0..150 {
        file.push_str(&format!("Region {i},Astrid\n"));
    }
    let res = import(&app, "/regions/import", file).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let entries = audit(&app, "kind=region").await;
    assert_eq!(entries.len(), 1, "one batch, not 150 entries");
    let batch = &entries[0];
    assert_eq!(batch["action"], "batch");
    assert_eq!(batch["operation"], "POST /regions/import");
    assert_eq!(batch["batch"]["created"], 150);
    assert_eq!(batch["batch"]["record_ids"].as_array().unwrap().len(), 100);

    let regions = app.get("/regions?limit=500").await.json();
    let last = regions["items"][149]["id"].as_str().unwrap().to_owned();
    let found = of_record(&app, "region", &last).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], batch["id"]);
    assert_eq!(found[0]["batch"]["record_ids"], json!([last]));
    assert_eq!(
        regions["items"][149]["created_by"]["at"], batch["at"],
        "each record's stamp is the batch's"
    );
}

#[actix_web::test]
async fn a_larger_import_is_batches_of_at_most_a_thousand_and_lands_whole() {
    // 2,500 regions: more than a batch entry holds, and (on sled) a commit applied in chunks.
    let app = spawn_app().await;
    let mut file = "name,regional_manager\n".to_owned();
    for i in 0..2_500 {
        file.push_str(&format!("Region {i:04},Astrid\n"));
    }
    let res = import(&app, "/regions/import", file).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["imported"], 2_500);
    let entries = audit(&app, "kind=region").await;
    let mut created: Vec<u64> = entries
        .iter()
        .map(|e| e["batch"]["created"].as_u64().unwrap())
        .collect();
    created.sort_unstable();
    assert_eq!(created, [500, 1_000, 1_000]);
    assert!(
        entries
            .iter()
            .all(|e| e["operation"] == "POST /regions/import")
    );

    let mut listed = 0;
    let mut next = Some("/regions?limit=500".to_owned());
    let mut last = String::new();
    while let Some(page) = next {
        let body = app.get(&page).await.json();
        let items = body["items"].as_array().unwrap();
        listed += items.len();
        if let Some(l) = items.last() {
            last = l["id"].as_str().unwrap().to_owned();
        }
        next = body["next"].as_str().map(str::to_owned);
    }
    assert_eq!(listed, 2_500, "every row landed");
    let found = of_record(&app, "region", &last).await;
    assert_eq!(found.len(), 1, "the record is in exactly one batch");
    assert_eq!(found[0]["batch"]["record_ids"], json!([last]));
}

#[actix_web::test]
async fn every_stamped_kind_reads_back_who_made_and_last_changed_it() {
    use crate::access::{activity_body, assessment_body, contract_body, goal_body, sales_body};
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let partner = app.partner(&region, Some(&rep), "A", "active").await;
    let spec = app.create("/process-specs", &crate::helpers::rules()).await;
    let published = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    let made = [
        ("region", "/regions", region.clone()),
        ("rep", "/reps", rep.clone()),
        ("partner", "/partners", partner.clone()),
        (
            "contract",
            "/contracts",
            app.create("/contracts", &contract_body(&partner)).await,
        ),
        (
            "activity",
            "/activities",
            app.create("/activities", &activity_body(&rep, &partner))
                .await,
        ),
        (
            "sales_record",
            "/sales-records",
            app.create("/sales-records", &sales_body(&partner, "2026-11"))
                .await,
        ),
        (
            "goal",
            "/goals",
            app.create("/goals", &goal_body(&rep)).await,
        ),
        ("process_spec", "/process-specs", spec.clone()),
        (
            "assessment",
            "/assessments",
            app.create("/assessments", &assessment_body(&rep, &spec))
                .await,
        ),
    ];
    // Every stamped collection has its case here: a new one fails until it does.
    let mut stamped: Vec<&str> = chanlab_api::audit::STAMPED
        .iter()
        .map(|k| k.name())
        .collect();
    let mut covered: Vec<&str> = made.iter().map(|(kind, _, _)| *kind).collect();
    stamped.sort_unstable();
    covered.sort_unstable();
    assert_eq!(covered, stamped);
    for (kind, path, id) in &made {
        let record = app.get(&format!("{path}/{id}")).await;
        assert_eq!(record.status, 200, "{kind}: {}", record.text());
        let record = record.json();
        for stamp in ["created_by", "updated_by"] {
            assert_eq!(
                record[stamp]["label"], "test admin",
                "{kind} {stamp}: {record}"
            );
            assert!(record[stamp]["at"].is_string(), "{kind} {stamp}: {record}");
        }
    }
}
