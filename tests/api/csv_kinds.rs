//! CSV for every record kind: round trips (export, edit a cell, import into another server
//! = the same records plus the edit), references by id, external id and name, ambiguous
//! and unknown references, `;` and tab files and byte order marks, formula cells.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, eur, rules, spawn_app};

/// POSTs `csv` to `path` as admin.
pub(crate) async fn import(app: &TestApp, path: &str, csv: impl Into<Vec<u8>>) -> Answer {
    app.send(
        Method::POST,
        path,
        Some(&app.admin),
        &[],
        Some(("text/csv", csv.into())),
    )
    .await
}

/// The export at `path`, which must answer 200 as CSV.
async fn export(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status, 200, "{path}: {}", res.text());
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    res.text()
}

/// `(field, message)` of each entry of a 422's `errors`.
fn errors(res: &Answer) -> Vec<(String, String)> {
    res.problem(422)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One record of each kind, with external ids, and a partner with a stage history.
struct World {
    region: String,
    rep: String,
    partner: String,
    spec: String,
}

async fn world(app: &TestApp) -> World {
    let region = app
        .create(
            "/regions",
            &json!({"name": "Nordics", "regional_manager": "Astrid Berg", "external_id": "R-NORD"}),
        )
        .await;
    let rep = app
        .create(
            "/reps",
            &json!({"name": "Lars Holm", "region_id": region, "hired_on": "2025-03-01", "status": "active", "external_id": "REP-1"}),
        )
        .await;
    let partner = app
        .create(
            "/partners",
            &json!({"name": "Acme AB", "kind": "reseller", "tier": "B", "region_id": region, "owner_rep_id": rep, "external_id": "P-1"}),
        )
        .await;
    app.create(
        "/contracts",
        &json!({"partner_id": partner, "start": "2026-01-01", "term_months": 24, "margin": 0.06,
                "rebate_tiers": [{"threshold": eur(10_000_000), "rate": 0.01}, {"threshold": eur(20_000_000), "rate": 0.02}],
                "sell_in_target": eur(12_000_000), "target_period": "quarter", "external_id": "C-1"}),
    )
    .await;
    app.create(
        "/activities",
        &json!({"rep_id": rep, "partner_id": partner, "date": "2026-03-04", "kind": "visit", "outcome": "completed", "notes": "Agreed a webinar", "external_id": "A-1"}),
    )
    .await;
    app.create(
        "/sales-records",
        &json!({"partner_id": partner, "month": "2026-03", "sell_in": eur(125_050), "sell_through": eur(120_000), "external_id": "S-1"}),
    )
    .await;
    app.create(
        "/goals",
        &json!({"scope": {"kind": "partner", "id": partner}, "period": "2026-Q2", "metric": "sell_in",
                "target": {"amount": eur(5_000_000)}, "strategy": "manual", "external_id": "G-1"}),
    )
    .await;
    app.create(
        "/goals",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q2", "metric": "visits",
                "target": {"count": 24}, "strategy": "manual"}),
    )
    .await;
    let spec = published_spec(app).await;
    app.create(
        "/assessments",
        &json!({"scope": {"kind": "rep", "id": rep}, "period": "2026-Q2", "process_spec_id": spec, "spec_version": 1,
                "results": [{"metric": "sell_through", "weight": 0.6, "target": {"amount": eur(10_000_000)}, "actual": {"amount": eur(9_250_050)}},
                            {"metric": "visits", "weight": 0.4, "target": {"count": 24}, "actual": {"count": 20}}],
                "external_id": "AS-1"}),
    )
    .await;
    for (to, on) in [("negotiating", "2026-01-10"), ("contracted", "2026-02-01")] {
        let res = app
            .post(
                &format!("/partners/{partner}/transitions"),
                &json!({"to": to, "on": on}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    World {
        region,
        rep,
        partner,
        spec,
    }
}

/// A process spec, published (version 1), for assessments to refer to.
async fn published_spec(app: &TestApp) -> String {
    let spec = app.create("/process-specs", &rules()).await;
    let res = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    spec
}

/// Exports `kind` from `from`, applies `edit` (which must change the file), imports the
/// result into `to` and checks that `to` exports exactly the edited file.
async fn round_trip(from: &TestApp, to: &TestApp, kind: &str, edit: (&str, &str)) -> String {
    let original = export(from, &format!("/{kind}/export.csv")).await;
    assert!(original.contains(edit.0), "{kind}: {original}");
    let edited = original.replacen(edit.0, edit.1, 1);
    let res = import(to, &format!("/{kind}/import"), edited.clone()).await;
    assert_eq!(res.status, 201, "{kind}: {}", res.text());
    assert_eq!(res.json()["imported"], original.lines().count() - 1);
    assert_eq!(export(to, &format!("/{kind}/export.csv")).await, edited);
    edited
}

#[actix_web::test]
async fn every_kind_round_trips_through_its_export_with_an_edited_cell() {
    let a = spawn_app().await;
    let w = world(&a).await;
    let b = spawn_app().await;

    // In reference order, so each file's references exist in `b` under the same ids.
    round_trip(&a, &b, "regions", ("Astrid Berg", "Karin Lund")).await;
    // (Not the name: the other kinds' exports write it beside the rep's id.)
    round_trip(&a, &b, "reps", ("2025-03-01", "2025-03-02")).await;
    // The partner goes in at the stage its history starts from; the history import below
    // moves it on.
    let partners = export(&a, "/partners/export.csv").await;
    assert!(partners.contains(",contracted\n"), "{partners}");
    let partners = partners
        .replace(",B,", ",A,")
        .replace(",contracted\n", ",prospect\n");
    let res = import(&b, "/partners/import", partners.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    round_trip(&a, &b, "contracts", (",0.06,", ",0.07,")).await;
    round_trip(
        &a,
        &b,
        "activities",
        ("Agreed a webinar", "Agreed two webinars"),
    )
    .await;
    round_trip(&a, &b, "sales-records", ("1250.50", "1300.00")).await;
    round_trip(&a, &b, "goals", (",visits,24,", ",visits,30,")).await;
    // An assessment names a spec version, which CSV does not carry: `b` publishes its own
    // spec and the file is pointed at it before the edit.
    let b_spec = published_spec(&b).await;
    let assessments = export(&a, "/assessments/export.csv").await;
    assert!(
        assessments.contains(",EUR,sell_through:0.6:100000.00:92500.50 visits:0.4:24:20\n"),
        "{assessments}"
    );
    let edited =
        assessments
            .replace(&w.spec, &b_spec)
            .replacen("visits:0.4:24:20", "visits:0.4:24:22", 1);
    let res = import(&b, "/assessments/import", edited.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["imported"], 1);
    assert_eq!(export(&b, "/assessments/export.csv").await, edited);

    let history = export(&a, "/partners/transitions/export.csv").await;
    assert_eq!(
        history,
        format!(
            "partner_id,partner_name,from,to,on\n{p},Acme AB,prospect,negotiating,2026-01-10\n{p},Acme AB,negotiating,contracted,2026-02-01\n",
            p = w.partner
        )
    );
    let res = import(&b, "/partners/transitions/import", history.clone()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        export(&b, "/partners/transitions/export.csv").await,
        history
    );
    // The partner is where the history took it, with the edited tier: what `a` holds but
    // for the edit.
    assert_eq!(
        export(&b, "/partners/export.csv").await,
        partners.replace(",prospect\n", ",contracted\n")
    );

    // The edits are in the records themselves, not only in their exports.
    let region = b.get(&format!("/regions/{}", w.region)).await.json();
    assert_eq!(region["regional_manager"], "Karin Lund");
    assert_eq!(region["external_id"], "R-NORD");
    let rep = b.get(&format!("/reps/{}", w.rep)).await.json();
    assert_eq!(rep["hired_on"], "2025-03-02");
    let partner = b.get(&format!("/partners/{}", w.partner)).await.json();
    assert_eq!(
        (partner["tier"].clone(), partner["stage"].clone()),
        (json!("A"), json!("contracted"))
    );
    let contracts = b.get("/contracts?external_id=C-1").await.json();
    assert_eq!(contracts["items"][0]["margin"], 0.07);
    assert_eq!(contracts["items"][0]["rebate_tiers"][1]["rate"], 0.02);
    let sales = b.get("/sales-records?external_id=S-1").await.json();
    assert_eq!(sales["items"][0]["sell_in"], eur(130_000));
    let goals = b.get("/goals?external_id=G-1").await.json();
    assert_eq!(
        goals["items"][0]["target"],
        json!({"amount": eur(5_000_000)})
    );
    let visits = b.get(&format!("/goals?rep_id={}", w.rep)).await.json();
    assert_eq!(visits["items"][0]["target"], json!({"count": 30}));
    let activities = b.get("/activities?external_id=A-1").await.json();
    assert_eq!(activities["items"][0]["notes"], "Agreed two webinars");
    let assessment = &b.get("/assessments?external_id=AS-1").await.json()["items"][0];
    assert_eq!(assessment["process_spec_id"], b_spec.as_str());
    assert_eq!(
        assessment["results"][0]["actual"],
        json!({"amount": eur(9_250_050)})
    );
    assert_eq!(assessment["results"][1]["actual"], json!({"count": 22}));
    assert_eq!(assessment["scope"], json!({"kind": "rep", "id": w.rep}));
}

#[actix_web::test]
async fn a_bad_assessment_results_cell_is_a_422_on_the_cell_and_nothing_is_imported() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let head = "scope,scope_id,period,process_spec_id,spec_version,currency,results\n";
    let good = format!(
        "rep,Lars Holm,2026-Q3,{},1,EUR,sell_in:1:100.00:90.00\n",
        w.spec
    );
    for (results, message) in [
        ("visits:1:12", "metric:weight:target:actual"),
        ("visits:0.5:12:10", "weights must sum to 1"),
        ("visits:0.5:12:10 visits:0.5:12:10", "listed twice"),
        ("sell_in:1:100.001:90", "at most 2 decimals"),
        ("calls:1:12:10", "calls"),
    ] {
        let file = format!(
            "{head}{good}rep,Lars Holm,2026-Q3,{},1,EUR,{results}\n",
            w.spec
        );
        let res = import(&app, "/assessments/import", file).await;
        let errors = errors(&res);
        assert_eq!(errors.len(), 1, "{results}: {errors:?}");
        assert_eq!(errors[0].0, "rows[3].results", "{results}");
        assert!(errors[0].1.contains(message), "{results}: {}", errors[0].1);
    }
    // A money key link with no currency says where the currency goes.
    let file = format!(
        "{head}rep,Lars Holm,2026-Q3,{},1,,sell_in:1:100.00:90.00\n",
        w.spec
    );
    let errors = errors(&import(&app, "/assessments/import", file).await);
    assert_eq!(errors[0].0, "rows[2].results");
    assert!(errors[0].1.contains("currency column"), "{errors:?}");
    // Only the world's assessment is stored.
    let all = app.get("/assessments").await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    // The good row alone imports, its rep matched by name.
    let res = import(&app, "/assessments/import", format!("{head}{good}")).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["matched"][0]["by"], "name");
}

#[actix_web::test]
async fn exports_carry_the_referenced_names_beside_the_ids() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let partners = export(&app, "/partners/export.csv").await;
    assert!(
        partners.contains(&format!(
            ",P-1,Acme AB,reseller,B,{},Nordics,{},Lars Holm,contracted\n",
            w.region, w.rep
        )),
        "{partners}"
    );
    let activities = export(&app, "/activities/export.csv").await;
    assert!(
        activities.contains(&format!(",{},Lars Holm,{},Acme AB,", w.rep, w.partner)),
        "{activities}"
    );
    let sales = export(&app, "/sales-records/export.csv").await;
    assert!(
        sales.contains(&format!(
            ",S-1,{},Acme AB,2026-03,EUR,1250.50,1200.00\n",
            w.partner
        )),
        "{sales}"
    );
}

#[actix_web::test]
async fn a_reference_matches_an_id_an_external_id_or_a_name_and_the_report_says_which() {
    let app = spawn_app().await;
    let w = world(&app).await;
    // A second Lars Holm in another region does not make the name ambiguous in Nordics.
    let south = app.region("South").await;
    app.create(
        "/reps",
        &json!({"name": "Lars Holm", "region_id": south, "hired_on": "2025-03-01", "status": "active"}),
    )
    .await;
    let csv = format!(
        "name,kind,tier,region_id,owner_rep_id\nBy id,agent,C,{},{}\nBy code,agent,C,R-NORD,REP-1\nBy name,agent,C,Nordics,Lars Holm\n",
        w.region, w.rep
    );

    let res = import(&app, "/partners/import", csv).await;

    assert_eq!(res.status, 201, "{}", res.text());
    let report = res.json();
    assert_eq!(
        report["matched"],
        json!([
            {"field": "rows[3].region_id", "by": "external_id", "id": w.region},
            {"field": "rows[3].owner_rep_id", "by": "external_id", "id": w.rep},
            {"field": "rows[4].region_id", "by": "name", "id": w.region},
            {"field": "rows[4].owner_rep_id", "by": "name", "id": w.rep},
        ])
    );
    for id in report["ids"].as_array().unwrap() {
        let p = app
            .get(&format!("/partners/{}", id.as_str().unwrap()))
            .await
            .json();
        assert_eq!(
            (p["region_id"].as_str(), p["owner_rep_id"].as_str()),
            (Some(w.region.as_str()), Some(w.rep.as_str()))
        );
    }
    // The other kinds resolve their references the same way.
    let sales = "partner_id,month,currency,sell_in,sell_through\nAcme AB,2026-04,EUR,10.00,9.00\nP-1,2026-05,EUR,10.00,9.00\n";
    let res = import(&app, "/sales-records/import", sales).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["matched"][0]["by"], "name");
    assert_eq!(res.json()["matched"][1]["by"], "external_id");
}

#[actix_web::test]
async fn an_ambiguous_or_unknown_reference_is_a_422_naming_the_row_the_column_and_the_candidates() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let twin = app
        .create(
            "/reps",
            &json!({"name": "Lars Holm", "region_id": w.region, "hired_on": "2025-04-01", "status": "active"}),
        )
        .await;
    let csv = "name,kind,tier,region_id,owner_rep_id\nTwins,agent,C,Nordics,Lars Holm\nNowhere,agent,C,Atlantis,\n";

    let res = import(&app, "/partners/import", csv).await;

    let errors = errors(&res);
    let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["rows[2].owner_rep_id", "rows[3].region_id"]);
    assert!(
        errors[0].1.contains(&w.rep) && errors[0].1.contains(&twin),
        "{}",
        errors[0].1
    );
    assert!(
        errors[0].1.contains("2 reps are called \"Lars Holm\""),
        "{}",
        errors[0].1
    );
    assert!(errors[1].1.contains("\"Atlantis\""), "{}", errors[1].1);
    // Nothing was imported.
    assert_eq!(
        app.get("/partners").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn semicolon_and_tab_files_and_byte_order_marks_are_read() {
    let app = spawn_app().await;
    let semicolons = "\u{feff}name;regional_manager;external_id\n\"Nord; Ost\";Astrid Berg;R-1\nSouth;Karin Lund;\n";
    let res = import(&app, "/regions/import", semicolons).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let region = res.json()["ids"][0].as_str().unwrap().to_owned();
    let stored = app.get(&format!("/regions/{region}")).await.json();
    assert_eq!(
        (stored["name"].clone(), stored["external_id"].clone()),
        (json!("Nord; Ost"), json!("R-1"))
    );

    let tabs = "\u{feff}name\tregion_id\thired_on\tstatus\nEva Berg\tR-1\t2025-01-02\tactive\n";
    let res = import(&app, "/reps/import", tabs).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let reps = app.get(&format!("/reps?region_id={region}")).await.json();
    assert_eq!(reps["items"][0]["name"], "Eva Berg");

    // The header's first column is read without the mark: a missing column is named as
    // such, not as an unknown column with the mark in front.
    let res = import(&app, "/regions/import", "\u{feff}name\nNorth\n").await;
    let fields: Vec<String> = errors(&res).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["rows[1].regional_manager"]);
}

#[actix_web::test]
async fn a_formula_cell_is_exported_neutralised_and_imports_back_as_written() {
    let app = spawn_app().await;
    let planted = "=HYPERLINK(\"https://evil.example\",\"Open\")";
    let region = app.region("Nordics").await;
    app.create(
        "/reps",
        &json!({"name": planted, "region_id": region, "hired_on": "2025-03-01", "status": "active"}),
    )
    .await;
    app.create(
        "/reps",
        &json!({"name": "@sum", "region_id": region, "hired_on": "2025-03-01", "status": "active", "external_id": "-7"}),
    )
    .await;

    let text = export(&app, "/reps/export.csv").await;

    assert!(
        text.contains(",\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"Open\"\")\","),
        "{text}"
    );
    assert!(text.contains(",'-7,'@sum,"), "{text}");
    for line in text.lines() {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell} in {text}");
        }
    }
    // The `'` is read back off: the file imports as the records it came from.
    let other = spawn_app().await;
    let same = other.region("Nordics").await;
    let res = import(&other, "/reps/import", text.replace(&region, &same)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let names: Vec<Value> = other.get("/reps").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, [json!(planted), json!("@sum")]);
}

#[actix_web::test]
async fn an_external_id_twice_in_a_file_or_already_stored_is_a_422_on_its_row() {
    let app = spawn_app().await;
    world(&app).await;
    let csv = "name,regional_manager,external_id\nA,M,X-1\nB,M,X-1\nC,M,R-NORD\n";

    let res = import(&app, "/regions/import", csv).await;

    let fields: Vec<String> = errors(&res).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["rows[3].external_id", "rows[4].external_id"]);
    assert_eq!(
        app.get("/regions").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
