//! Object-level rules, inside what a role may call: a rep writes only for the partners it
//! owns, a regional manager only in its region, a partner's owner rep works in the
//! partner's region, and a record outside the caller's scope answers exactly as an unknown
//! one does (no existence oracle). Every refusal is checked to have written nothing. The
//! role × endpoint matrix (`access.rs`) probes the same for every "own" cell that addresses
//! a record by path.

use awc::http::Method;
use chanlab_api::storage::{Expect, Store, store_put};
use chanlab_shared::{
    LifecycleStage, Name, Partner, PartnerId, PartnerKind, Region, RegionId, Rep, RepId, RepStatus,
    SalesRecord, Tier,
};
use serde_json::{Value, json};

use crate::access::{activity_body, everything};
use crate::helpers::{Answer, TestApp, eur, rules, spawn_app, spawn_app_prepared};

/// Ok when `hidden` (the answer about `hidden_id`, a record outside the caller's scope) is
/// the answer `unknown` got for `unknown_id` (which no record has): the same `status`, the
/// same media type and the same body once the id is swapped and the request ids dropped.
pub(crate) fn same_as_unknown(
    status: u16,
    hidden: &Answer,
    hidden_id: &str,
    unknown: &Answer,
    unknown_id: &str,
) -> Result<(), String> {
    let body = |a: &Answer, id: &str| -> Result<String, String> {
        let mut value: Value = serde_json::from_slice(&a.body)
            .map_err(|e| format!("{} is not JSON ({e}): {}", a.status, a.text()))?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove("request_id");
        }
        Ok(value.to_string().replace(id, "<id>"))
    };
    if hidden.status != status || unknown.status != status {
        return Err(format!(
            "expected {status} for both; outside the scope {} {}, unknown {} {}",
            hidden.status,
            hidden.text(),
            unknown.status,
            unknown.text()
        ));
    }
    if hidden.header("content-type") != unknown.header("content-type") {
        return Err(format!(
            "media types differ: {:?} and {:?}",
            hidden.header("content-type"),
            unknown.header("content-type")
        ));
    }
    let (h, u) = (body(hidden, hidden_id)?, body(unknown, unknown_id)?);
    if h != u {
        return Err(format!("bodies differ:\n  outside: {h}\n  unknown: {u}"));
    }
    Ok(())
}

/// An id of no record.
fn unknown_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `body` with `id` in place of `from` wherever it appears.
fn swapped(body: &Value, from: &str, id: &str) -> Value {
    serde_json::from_str(&body.to_string().replace(from, id)).unwrap()
}

fn csv(text: String) -> Option<(&'static str, Vec<u8>)> {
    Some(("text/csv", text.into_bytes()))
}

/// Asserts that `token`'s `method path body` naming `outside` answers as the same request
/// naming an unknown id does, with `status`; returns the outside answer.
async fn refused_like_unknown(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    outside: &str,
    status: u16,
) -> Answer {
    let unknown = unknown_id();
    let send = async |id: &str| {
        let body = body.as_ref().map(|b| {
            (
                "application/json",
                swapped(b, outside, id).to_string().into_bytes(),
            )
        });
        app.send(
            method.clone(),
            &path.replace(outside, id),
            Some(token),
            &[],
            body,
        )
        .await
    };
    let hidden = send(outside).await;
    let none = send(&unknown).await;
    if let Err(why) = same_as_unknown(status, &hidden, outside, &none, &unknown) {
        panic!("{method} {path}: {why}");
    }
    hidden
}

#[actix_web::test]
async fn a_rep_logs_activities_only_with_partners_it_owns() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let far_region = app.region("Iberia").await;
    let me = app.rep(&region).await;
    let colleague = app.rep(&region).await;
    let stranger = app.rep(&far_region).await;
    let mine = app.partner(&region, Some(&me), "A", "active").await;
    let theirs = app.partner(&region, Some(&colleague), "A", "active").await;
    let far = app
        .partner(&far_region, Some(&stranger), "A", "active")
        .await;
    let rep = app.token("rep", None, Some(&me)).await;
    let own = app
        .json_as(
            &rep,
            Method::POST,
            "/activities",
            &activity_body(&me, &mine),
        )
        .await;
    assert_eq!(own.status, 201, "{}", own.text());
    let own = own.json()["id"].as_str().unwrap().to_owned();
    let before = everything(&app).await;

    for partner in [&theirs, &far] {
        let body = activity_body(&me, partner);
        let refused = refused_like_unknown(
            &app,
            &rep,
            Method::POST,
            "/activities",
            Some(body.clone()),
            partner,
            422,
        )
        .await;
        assert_eq!(refused.json()["errors"][0]["field"], "partner_id");
        // Moving its own activity to another rep's partner is refused the same way.
        let path = format!("/activities/{own}");
        let moved =
            refused_like_unknown(&app, &rep, Method::PUT, &path, Some(body), partner, 422).await;
        assert_eq!(moved.json()["errors"][0]["field"], "partner_id");
        // An import's cell naming it is a cell naming nothing.
        let file = |p: &str| {
            csv(format!(
                "rep_id,partner_id,date,kind,outcome\n{me},{p},2026-11-02,visit,completed\n"
            ))
        };
        let unknown = unknown_id();
        let hidden = app
            .send(
                Method::POST,
                "/activities/import",
                Some(&rep),
                &[],
                file(partner),
            )
            .await;
        let none = app
            .send(
                Method::POST,
                "/activities/import",
                Some(&rep),
                &[],
                file(&unknown),
            )
            .await;
        same_as_unknown(422, &hidden, partner, &none, &unknown).unwrap();
        assert_eq!(hidden.json()["errors"][0]["field"], "rows[2].partner_id");
        // Goals are not a rep's to set at all: the role's 403, for any partner.
        let goal = json!({"scope": {"kind": "partner", "id": partner}, "period": "2026-Q4", "metric": "visits", "target": {"count": 6}, "strategy": "manual"});
        app.json_as(&rep, Method::POST, "/goals", &goal)
            .await
            .problem(403);
    }
    assert_eq!(
        everything(&app).await,
        before,
        "a refused write wrote nothing"
    );

    // Its own partner it names as before; by name, only its own partners are in view, so
    // the name every partner here shares names just its own.
    let by_name = app
        .send(
            Method::POST,
            "/activities/import",
            Some(&rep),
            &[],
            csv("rep_id,partner_id,date,kind,outcome\nLars Holm,Nordic Distribution AB,2026-11-03,training,completed\n".to_owned()),
        )
        .await;
    assert_eq!(by_name.status, 201, "{}", by_name.text());
    let logged = app
        .get(&format!("/activities?rep_id={me}&kind=training"))
        .await
        .json();
    assert_eq!(logged["items"][0]["partner_id"], mine.as_str(), "{logged}");
}

#[actix_web::test]
async fn a_regional_manager_writes_only_in_its_region() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let far_region = app.region("Iberia").await;
    let stranger = app.rep(&far_region).await;
    let rm = app.token("regional_manager", Some(&region), None).await;
    let before = everything(&app).await;
    let rep_in = |r: &str| json!({"name": "Lars Holm", "region_id": r, "hired_on": "2025-03-01", "status": "on_leave"});

    // Another region's rep pulled into the manager's region: an unknown rep.
    let path = format!("/reps/{stranger}");
    refused_like_unknown(
        &app,
        &rm,
        Method::PUT,
        &path,
        Some(rep_in(&region)),
        &stranger,
        404,
    )
    .await;
    // Edited where it is, the body itself names another region: the request's 403, the
    // same whether the rep exists or not.
    refused_like_unknown(
        &app,
        &rm,
        Method::PUT,
        &path,
        Some(rep_in(&far_region)),
        &stranger,
        403,
    )
    .await;
    // A rep created in another region: the request itself names the other region (403,
    // whether that region exists or not).
    app.json_as(&rm, Method::POST, "/reps", &rep_in(&far_region))
        .await
        .problem(403);
    app.json_as(&rm, Method::POST, "/reps", &rep_in(&unknown_id()))
        .await
        .problem(403);
    // An import naming another region names a region it cannot see: unknown.
    let file = |r: &str| {
        csv(format!(
            "name,region_id,hired_on,status\nLars,{r},2025-03-01,active\n"
        ))
    };
    let unknown = unknown_id();
    let hidden = app
        .send(
            Method::POST,
            "/reps/import",
            Some(&rm),
            &[],
            file(&far_region),
        )
        .await;
    let none = app
        .send(Method::POST, "/reps/import", Some(&rm), &[], file(&unknown))
        .await;
    same_as_unknown(422, &hidden, &far_region, &none, &unknown).unwrap();
    assert_eq!(hidden.json()["errors"][0]["field"], "rows[2].region_id");
    // Activities are the reps' to write.
    app.json_as(
        &rm,
        Method::POST,
        "/activities",
        &activity_body(&stranger, &unknown),
    )
    .await
    .problem(403);
    assert_eq!(
        everything(&app).await,
        before,
        "a refused write wrote nothing"
    );
}

#[actix_web::test]
async fn a_spec_a_regional_manager_may_not_read_is_an_unknown_one() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rm = app.token("regional_manager", Some(&region), None).await;
    let draft = app.create("/process-specs", &rules()).await;
    let published = app.create("/process-specs", &rules()).await;
    let publish = app
        .post(&format!("/process-specs/{published}/publish"), &json!({}))
        .await;
    assert_eq!(publish.status, 200, "{}", publish.text());
    // A second version, still a draft.
    assert_eq!(
        app.put(&format!("/process-specs/{published}"), &rules())
            .await
            .status,
        200
    );

    for path in [
        format!("/process-specs/{draft}"),
        format!("/process-specs/{draft}/versions"),
        format!("/process-specs/{draft}/versions/1"),
        format!("/process-specs/{draft}/compliance?period=2026-11"),
    ] {
        refused_like_unknown(&app, &rm, Method::GET, &path, None, &draft, 404).await;
    }
    // The published spec's draft version reads as a version it does not have.
    let hidden = app
        .send(
            Method::GET,
            &format!("/process-specs/{published}/versions/2"),
            Some(&rm),
            &[],
            None,
        )
        .await;
    let none = app
        .send(
            Method::GET,
            &format!("/process-specs/{published}/versions/9"),
            Some(&rm),
            &[],
            None,
        )
        .await;
    same_as_unknown(
        404,
        &hidden,
        &format!("{published} version 2"),
        &none,
        &format!("{published} version 9"),
    )
    .unwrap();
    let versions = app
        .send(
            Method::GET,
            &format!("/process-specs/{published}/versions"),
            Some(&rm),
            &[],
            None,
        )
        .await
        .json();
    let listed: Vec<&Value> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["status"])
        .collect();
    assert_eq!(listed, [&json!("published")], "{versions}");
}

#[actix_web::test]
async fn a_partners_owner_rep_works_in_the_partners_region() {
    let app = spawn_app().await;
    let north = app.region("Nordics").await;
    let south = app.region("Iberia").await;
    let lars = app.rep(&north).await;
    let ana = app.rep(&south).await;
    let partner = app.partner(&north, Some(&lars), "A", "active").await;
    let body = |region: &str, owner: Option<&str>| json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": region, "owner_rep_id": owner});
    let before = everything(&app).await;

    let created = app.post("/partners", &body(&north, Some(&ana))).await;
    assert_eq!(created.problem(409)["errors"][0]["field"], "owner_rep_id");
    let path = format!("/partners/{partner}");
    // The region moved away from its owner: the problem names the field that moved.
    let moved = app.put(&path, &body(&south, Some(&lars))).await;
    assert_eq!(moved.problem(409)["errors"][0]["field"], "region_id");
    let reassigned = app.put(&path, &body(&north, Some(&ana))).await;
    assert_eq!(
        reassigned.problem(409)["errors"][0]["field"],
        "owner_rep_id"
    );
    // A rep who owns partners in its region stays there.
    let rep_path = format!("/reps/{lars}");
    let rep_body = json!({"name": "Lars Holm", "region_id": south, "hired_on": "2025-03-01", "status": "active"});
    let rep_moved = app.put(&rep_path, &rep_body).await;
    assert_eq!(rep_moved.problem(409)["errors"][0]["field"], "region_id");
    // An import: the good row goes in only with the bad one, so neither does.
    let file = format!(
        "name,kind,tier,region_id,owner_rep_id\nGood AB,agent,A,{north},{lars}\nBad AB,agent,A,{north},{ana}\n"
    );
    let imported = app
        .send(
            Method::POST,
            "/partners/import",
            Some(&app.admin),
            &[],
            csv(file),
        )
        .await;
    let problem = imported.problem(409);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "rows[3].owner_rep_id");
    assert_eq!(
        everything(&app).await,
        before,
        "a refused write wrote nothing"
    );

    // Partner and owner moved together, and a rep moved once its partners are reassigned.
    assert_eq!(app.put(&path, &body(&south, Some(&ana))).await.status, 200);
    assert_eq!(app.put(&rep_path, &rep_body).await.status, 200);
    assert_eq!(app.get(&rep_path).await.json()["region_id"], south.as_str());
}

/// Two regions, a rep of the first owning a partner in each (the second stored before the
/// owner-region rule), each partner with sales in 2026-11: (region, rep, partner at home,
/// partner away).
fn stored_before_the_rule(store: &Store) -> (RegionId, RepId, PartnerId, PartnerId) {
    let region = |name: &str| Region {
        created_by: None,
        updated_by: None,
        id: RegionId::new(),
        name: Name::parse(name).unwrap(),
        regional_manager: Name::parse("Astrid Berg").unwrap(),
        external_id: None,
    };
    let (home, away) = (region("Nordics"), region("Iberia"));
    let rep = Rep {
        created_by: None,
        updated_by: None,
        id: RepId::new(),
        name: Name::parse("Lars Holm").unwrap(),
        region_id: home.id,
        hired_on: "2025-03-01".parse().unwrap(),
        status: RepStatus::Active,
        left_on: None,
        external_id: None,
    };
    let partner = |region: RegionId| {
        let name = Name::parse("Nordic Distribution AB").unwrap();
        Partner::new(
            PartnerId::new(),
            name,
            PartnerKind::Distributor,
            Tier::A,
            region,
            Some(rep.id),
            LifecycleStage::Active,
        )
    };
    let (near, far) = (partner(home.id), partner(away.id));
    let sales = |p: &Partner, minor: i64| -> SalesRecord {
        serde_json::from_value(json!({"id": uuid::Uuid::now_v7(), "partner_id": p.id, "month": "2026-11", "sell_in": eur(minor), "sell_through": eur(minor)}))
            .unwrap()
    };
    let writes = vec![
        store_put(&home, Expect::Absent),
        store_put(&away, Expect::Absent),
        store_put(&rep, Expect::Absent),
        store_put(&near, Expect::Absent),
        store_put(&far, Expect::Absent),
        store_put(&sales(&near, 10_000), Expect::Absent),
        store_put(&sales(&far, 100_000), Expect::Absent),
    ];
    store.commit(&writes, None).expect("records stored");
    (home.id, rep.id, near.id, far.id)
}

#[actix_web::test]
async fn a_reps_scorecard_counts_only_its_partners_in_its_region() {
    let ids = std::sync::Mutex::new(None);
    let app = spawn_app_prepared(|store| {
        *ids.lock().unwrap() = Some(stored_before_the_rule(store));
    })
    .await;
    let (home, rep, near, far) = ids.into_inner().unwrap().unwrap();
    let spec = app.create("/process-specs", &rules()).await;
    let publish = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(publish.status, 200, "{}", publish.text());
    let rm = app
        .token("regional_manager", Some(&home.to_string()), None)
        .await;

    let card = app
        .send(
            Method::GET,
            &format!("/reps/{rep}/scorecard?period=2026-11"),
            Some(&rm),
            &[],
            None,
        )
        .await;
    assert_eq!(card.status, 200, "{}", card.text());
    let card = card.json();
    assert_eq!(card["partners"], 1, "{card}");
    assert_eq!(card["sales"][0]["sell_in"], eur(10_000), "{card}");
    // The partner away is its region's manager's, not this one's.
    let far = far.to_string();
    let path = format!("/partners/{far}/scorecard?period=2026-11");
    refused_like_unknown(&app, &rm, Method::GET, &path, None, &far, 404).await;
    let near_card = app
        .send(
            Method::GET,
            &format!("/partners/{near}/scorecard?period=2026-11"),
            Some(&rm),
            &[],
            None,
        )
        .await;
    assert_eq!(near_card.status, 200, "{}", near_card.text());
    // The compliance report's row for the rep counts the same partners.
    let report = app
        .send(
            Method::GET,
            &format!("/process-specs/{spec}/compliance?period=2026-11"),
            Some(&rm),
            &[],
            None,
        )
        .await
        .json();
    let row = &report["reps"][0];
    assert_eq!(row["rep_id"], rep.to_string().as_str(), "{report}");
    assert_eq!(row["partners"], 1, "{report}");
}
