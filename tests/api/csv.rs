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
    assert!(export.starts_with("id,name,region_id,hired_on,status,left_on\n"));
    assert!(
        export.contains(&format!("Ana Ruiz,{region},2024-06-15,on_leave,\n")),
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
            "Lars Holm,{region},2025-03-01,departed,2025-10-31\n"
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
        export.contains(&format!("{partner},2026-10,EUR,1250.50,1200.00")),
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
