//! CSV import (all or nothing, with row-numbered errors) and export.

use awc::http::Method;

use crate::helpers::{TestApp, spawn_app};

/// The `field` of each entry of a problem's `errors`.
fn fields(problem: &serde_json::Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

async fn import(app: &TestApp, path: &str, csv: String) -> crate::helpers::Answer {
    app.send(
        Method::POST,
        path,
        Some(&app.admin),
        &[],
        Some(("text/csv", csv.into_bytes())),
    )
    .await
}

#[actix_web::test]
async fn a_good_partner_file_is_imported_whole() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let csv = format!(
        "id,name,kind,tier,region_id,owner_rep_id,stage\n,Acme AB,reseller,A,{region},{rep},active\n,\"Nord, Ltd\",agent,C,{region},,\n"
    );

    let res = import(&app, "/partners/import", csv).await;

    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["imported"], 2);
    let partners = app.get("/partners").await.json();
    assert_eq!(partners["items"][1]["name"], "Nord, Ltd");
    assert_eq!(partners["items"][1]["stage"], "prospect");
}

#[actix_web::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_each_row() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let csv = format!(
        "id,name,kind,tier,region_id,owner_rep_id,stage\n,Good AB,reseller,A,{region},,\n,Bad AB,wholesaler,A,{region},,\n,,agent,D,{region},,\n"
    );

    let res = import(&app, "/partners/import", csv).await;

    let problem = res.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["rows[3].kind", "rows[4].name", "rows[4].tier"]);
    assert_eq!(
        app.get("/partners").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn a_row_naming_a_missing_region_imports_nothing() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let csv = format!(
        "id,name,kind,tier,region_id,owner_rep_id,stage\n,Good AB,reseller,A,{region},,\n,Lost AB,reseller,A,019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01,,\n"
    );

    let res = import(&app, "/partners/import", csv).await;

    assert_eq!(res.problem(422)["errors"][0]["field"], "rows[3].region_id");
    assert_eq!(
        app.get("/partners").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn a_partner_export_reimports_into_an_empty_server() {
    let source = spawn_app().await;
    let region = source.region("Nordics").await;
    source.partner(&region, None, "A", "active").await;
    source.partner(&region, None, "C", "prospect").await;
    let export = source.get("/partners/export.csv").await;
    assert_eq!(
        export.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let regions_csv = source.get("/partners").await;
    assert_eq!(regions_csv.status, 200);

    let target = spawn_app().await;
    let same_region = target
        .post(
            "/regions",
            &serde_json::json!({"name": "Nordics", "regional_manager": "A"}),
        )
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let csv = export.text().replace(&region, &same_region);
    let res = import(&target, "/partners/import", csv).await;

    assert_eq!(res.status, 201, "{}", res.text());
    let exported_again = target.get("/partners/export.csv").await.text();
    assert_eq!(exported_again, export.text().replace(&region, &same_region));
}

#[actix_web::test]
async fn reps_import_and_export() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    // A file from before `left_on` existed.
    let csv = format!(
        "id,name,region_id,hired_on,status\n,Lars Holm,{region},2025-03-01,active\n,Ana Ruiz,{region},2024-06-15,on_leave\n"
    );

    let res = import(&app, "/reps/import", csv).await;

    assert_eq!(res.status, 201, "{}", res.text());
    let export = app.get("/reps/export.csv").await.text();
    assert!(
        export.starts_with("id,external_id,name,region_id,region_name,hired_on,status,left_on\n")
    );
    assert!(
        export.contains(&format!("Ana Ruiz,{region},Nordics,2024-06-15,on_leave,\n")),
        "{export}"
    );
}

#[actix_web::test]
async fn a_rep_file_with_leaving_dates_round_trips_through_the_export() {
    let source = spawn_app().await;
    let region = source.region("Nordics").await;
    let csv = format!(
        "id,name,region_id,hired_on,status,left_on\n,Lars Holm,{region},2025-03-01,departed,2025-10-31\n,Ana Ruiz,{region},2024-06-15,departed,\n"
    );
    assert_eq!(import(&source, "/reps/import", csv).await.status, 201);
    let export = source.get("/reps/export.csv").await.text();
    assert!(
        export.contains(&format!(
            "Lars Holm,{region},Nordics,2025-03-01,departed,2025-10-31\n"
        )),
        "{export}"
    );

    let target = spawn_app().await;
    let same_region = target.region("Nordics").await;
    let res = import(
        &target,
        "/reps/import",
        export.replace(&region, &same_region),
    )
    .await;

    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        target.get("/reps/export.csv").await.text(),
        export.replace(&region, &same_region)
    );
}

#[actix_web::test]
async fn a_rep_file_with_leaving_dates_that_disagree_imports_nothing_and_names_the_rows() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let csv = format!(
        "id,name,region_id,hired_on,status,left_on\n,Lars Holm,{region},2025-03-01,departed,2025-10-31\n,Ana Ruiz,{region},2024-06-15,active,2025-01-31\n,Eva Lind,{region},2024-06-15,departed,2024-06-14\n,Ola Berg,{region},2024-06-15,departed,31/01/2025\n"
    );

    let problem = import(&app, "/reps/import", csv).await.problem(422);

    assert_eq!(
        fields(&problem),
        ["rows[3].left_on", "rows[4].left_on", "rows[5].left_on"]
    );
    assert_eq!(
        app.get("/reps").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[actix_web::test]
async fn sales_import_checks_amounts_and_one_record_per_month() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let bad = format!(
        "id,partner_id,month,currency,sell_in,sell_through\n,{partner},2026-10,EUR,1250.50,1200\n,{partner},2026-10,EUR,10,10\n,{partner},2026-13,EUR,1.234,5\n"
    );
    let problem = import(&app, "/sales-records/import", bad)
        .await
        .problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["rows[3].month", "rows[4].month", "rows[4].sell_in"]
    );

    let good = format!(
        "id,partner_id,month,currency,sell_in,sell_through\n,{partner},2026-10,EUR,1250.50,1200\n"
    );
    assert_eq!(
        import(&app, "/sales-records/import", good).await.status,
        201
    );

    let export = app.get("/sales-records/export.csv").await.text();
    assert!(
        export.contains(&format!(
            "{partner},Nordic Distribution AB,2026-10,EUR,1250.50,1200.00"
        )),
        "{export}"
    );
}

#[actix_web::test]
async fn a_sales_row_in_another_currency_than_the_partners_records_imports_nothing() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let fresh = app.partner(&region, None, "B", "active").await;
    let stored = format!(
        "id,partner_id,month,currency,sell_in,sell_through\n,{partner},2026-09,EUR,10,10\n"
    );
    assert_eq!(
        import(&app, "/sales-records/import", stored).await.status,
        201
    );
    let csv = format!(
        "id,partner_id,month,currency,sell_in,sell_through\n,{fresh},2026-10,EUR,10,10\n,{partner},2026-10,USD,10,10\n"
    );

    let problem = import(&app, "/sales-records/import", csv)
        .await
        .problem(409);

    assert_eq!(fields(&problem), ["rows[3].sell_in"]);
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("EUR") && message.contains("USD"),
        "{message}"
    );
    let listed = app.get("/sales-records").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
}

#[actix_web::test]
async fn two_sales_rows_of_one_partner_in_two_currencies_import_nothing() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "active").await;
    let other = app.partner(&region, None, "B", "active").await;
    let csv = format!(
        "id,partner_id,month,currency,sell_in,sell_through\n,{partner},2026-10,EUR,10,10\n,{other},2026-10,USD,10,10\n,{partner},2026-11,USD,10,10\n,{partner},2026-12,EUR,10,10\n"
    );

    let problem = import(&app, "/sales-records/import", csv)
        .await
        .problem(409);

    assert_eq!(fields(&problem), ["rows[4].sell_in"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{problem}"
    );
    let listed = app.get("/sales-records").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "{listed}");
}

#[actix_web::test]
async fn a_stage_history_file_is_applied_per_partner_in_date_order() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let acme = app.partner(&region, None, "A", "prospect").await;
    let nord = app.partner(&region, None, "B", "active").await;
    // Out of date order in the file; `from` given on some rows only.
    let csv = format!(
        "partner_id,to,on,from\n{acme},contracted,2025-03-01,negotiating\n{nord},at_risk,2025-02-01,\n{acme},negotiating,2025-01-15,prospect\n{acme},active,2025-03-01,\n{nord},churned,2025-04-30,at_risk\n"
    );

    let res = import(&app, "/partners/transitions/import", csv).await;

    assert_eq!(res.status, 201, "{}", res.text());
    let report = res.json();
    assert_eq!(report["imported"], 5);
    let history = app
        .get(&format!("/partners/{acme}/transitions"))
        .await
        .json();
    let steps: Vec<(&str, &str, &str)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap(),
                m["to"].as_str().unwrap(),
                m["on"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("prospect", "negotiating", "2025-01-15"),
            ("negotiating", "contracted", "2025-03-01"),
            ("contracted", "active", "2025-03-01"),
        ]
    );
    // The report lists the stage changes in file order: line 2 is acme's move to contracted.
    assert_eq!(report["ids"][0], history["items"][1]["id"]);
    assert_eq!(
        app.get(&format!("/partners/{acme}")).await.json()["stage"],
        "active"
    );
    assert_eq!(
        app.get(&format!("/partners/{nord}")).await.json()["stage"],
        "churned"
    );
}

#[actix_web::test]
async fn a_stage_history_file_without_the_from_column_imports() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "negotiating").await;

    let res = import(
        &app,
        "/partners/transitions/import",
        format!("partner_id,to,on\n{partner},lost,2025-05-05\n"),
    )
    .await;

    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "lost"
    );
}

#[actix_web::test]
async fn a_stage_history_file_with_a_move_the_records_refuse_moves_nothing_and_names_each_row() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let acme = app.partner(&region, None, "A", "prospect").await;
    let nord = app.partner(&region, None, "B", "negotiating").await;
    let recorded = app
        .post(
            &format!("/partners/{nord}/transitions"),
            &serde_json::json!({"to": "contracted", "on": "2025-06-01"}),
        )
        .await;
    assert_eq!(recorded.status, 200, "{}", recorded.text());
    let csv = format!(
        "partner_id,to,on,from\n{acme},negotiating,2025-01-15,\n{acme},active,2025-02-01,\n{acme},lost,2025-03-01,prospect\n{nord},active,2025-05-31,\n"
    );

    let problem = import(&app, "/partners/transitions/import", csv)
        .await
        .problem(409);

    // Line 3 is illegal from negotiating; line 4 goes on from `active` as the file says, so
    // its `from` and its move are wrong; line 5 is dated before nord's recorded move.
    assert_eq!(
        fields(&problem),
        ["rows[3].to", "rows[4].from", "rows[4].to", "rows[5].on"]
    );
    assert_eq!(
        app.get(&format!("/partners/{acme}")).await.json()["stage"],
        "prospect"
    );
    assert_eq!(
        app.get(&format!("/partners/{acme}/transitions"))
            .await
            .json()["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.get(&format!("/partners/{nord}")).await.json()["stage"],
        "contracted"
    );
}

#[actix_web::test]
async fn a_stage_history_row_dated_after_today_or_naming_no_partner_is_a_422() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let future = format!(
        "partner_id,to,on\n{partner},negotiating,2999-01-01\n{partner},contracted,2025-13-01\n"
    );
    let missing = "partner_id,to,on\n019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01,negotiating,2025-01-01\n";

    let future = import(&app, "/partners/transitions/import", future)
        .await
        .problem(422);
    let missing = import(&app, "/partners/transitions/import", missing.to_owned())
        .await
        .problem(422);

    assert_eq!(fields(&future), ["rows[2].on", "rows[3].on"]);
    assert_eq!(fields(&missing), ["rows[2].partner_id"]);
    assert_eq!(
        app.get(&format!("/partners/{partner}")).await.json()["stage"],
        "prospect"
    );
}

#[actix_web::test]
async fn a_retried_stage_history_import_with_the_same_key_moves_once() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let partner = app.partner(&region, None, "A", "prospect").await;
    let send = || {
        app.send(
            Method::POST,
            "/partners/transitions/import",
            Some(&app.admin),
            &[("Idempotency-Key", "history-2025")],
            Some((
                "text/csv",
                format!("partner_id,to,on\n{partner},negotiating,2025-01-15\n").into_bytes(),
            )),
        )
    };

    let first = send().await;
    let retry = send().await;

    assert_eq!((first.status, retry.status), (201, 201), "{}", retry.text());
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.json(), retry.json());
    let history = app
        .get(&format!("/partners/{partner}/transitions"))
        .await
        .json();
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
}

/// Client generators send a file as `application/octet-stream` (the spec's alternative for
/// every CSV body), and may ask for the export the same way; the bytes are the same.
#[actix_web::test]
async fn a_file_sent_and_fetched_as_octet_stream_is_the_same_csv() {
    let app = spawn_app().await;
    let csv = "id,name,regional_manager\n,Nordics,Astrid Berg\n";

    let res = app
        .send(
            Method::POST,
            "/regions/import",
            Some(&app.admin),
            &[],
            Some(("application/octet-stream", csv.as_bytes().to_vec())),
        )
        .await;

    assert_eq!(res.status, 201, "{}", res.text());
    let plain = app.get("/regions/export.csv").await;
    assert_eq!(
        plain.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(plain.text().contains("Nordics"), "{}", plain.text());
    let binary = app
        .send(
            Method::GET,
            "/regions/export.csv",
            Some(&app.admin),
            &[("Accept", "application/octet-stream")],
            None,
        )
        .await;
    assert_eq!(
        binary.header("content-type").as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(binary.body, plain.body);
}

#[actix_web::test]
async fn an_import_must_be_sent_as_csv() {
    let app = spawn_app().await;

    let res = app
        .send(
            Method::POST,
            "/partners/import",
            Some(&app.admin),
            &[],
            Some(("application/json", b"{}".to_vec())),
        )
        .await;

    res.problem(415);
}
