//! Cursor pagination and every list filter.

use serde_json::{Value, json};

use crate::helpers::{TestApp, eur, spawn_app};

/// Follows `next` links from `path`, returning every id in order and the number of pages.
async fn all_pages(app: &TestApp, path: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        let body = page.json();
        ids.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        next = body["next"].as_str().map(str::to_owned);
    }
    (ids, pages)
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn pages_follow_next_links_and_cover_every_record_once_in_order() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let mut created = Vec::new();
    for _ in 0..7 {
        created.push(app.partner(&region, None, "B", "prospect").await);
    }

    let (seen, pages) = all_pages(&app, "/partners?limit=3").await;

    assert_eq!(seen, created);
    assert_eq!(pages, 3);
}

#[actix_web::test]
async fn the_next_link_keeps_the_filters() {
    let app = spawn_app().await;
    let nordics = app.region("Nordics").await;
    let iberia = app.region("Iberia").await;
    let mut wanted = Vec::new();
    for _ in 0..3 {
        wanted.push(app.partner(&nordics, None, "A", "prospect").await);
        app.partner(&iberia, None, "A", "prospect").await;
    }

    let (seen, pages) = all_pages(&app, &format!("/partners?region_id={nordics}&limit=2")).await;

    assert_eq!((seen, pages), (wanted, 2));
}

#[actix_web::test]
async fn partners_filter_by_region_tier_stage_and_owner() {
    let app = spawn_app().await;
    let nordics = app.region("Nordics").await;
    let iberia = app.region("Iberia").await;
    let rep = app.rep(&nordics).await;
    let a = app.partner(&nordics, Some(&rep), "A", "active").await;
    let b = app.partner(&nordics, None, "B", "prospect").await;
    let c = app.partner(&iberia, None, "A", "at_risk").await;

    assert_eq!(
        ids(&app
            .get(&format!("/partners?region_id={nordics}"))
            .await
            .json()),
        [a.clone(), b.clone()]
    );
    assert_eq!(
        ids(&app.get("/partners?tier=A").await.json()),
        [a.clone(), c.clone()]
    );
    assert_eq!(ids(&app.get("/partners?stage=at_risk").await.json()), [c]);
    assert_eq!(
        ids(&app
            .get(&format!("/partners?owner_rep_id={rep}"))
            .await
            .json()),
        [a]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/partners?region_id={nordics}&tier=B"))
            .await
            .json()),
        [b]
    );
}

#[actix_web::test]
async fn reps_filter_by_region_and_status() {
    let app = spawn_app().await;
    let nordics = app.region("Nordics").await;
    let iberia = app.region("Iberia").await;
    let r1 = app.rep(&nordics).await;
    let r2 = app.rep(&iberia).await;
    app.put(&format!("/reps/{r2}"), &json!({"name": "Ana", "region_id": iberia, "hired_on": "2024-01-01", "status": "departed"}))
        .await;

    assert_eq!(
        ids(&app.get(&format!("/reps?region_id={nordics}")).await.json()),
        [r1]
    );
    assert_eq!(ids(&app.get("/reps?status=departed").await.json()), [r2]);
}

#[actix_web::test]
async fn activities_filter_by_rep_partner_kind_and_dates() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep1 = app.rep(&region).await;
    let rep2 = app.rep(&region).await;
    let p1 = app.partner(&region, Some(&rep1), "A", "active").await;
    let p2 = app.partner(&region, Some(&rep2), "B", "active").await;
    let log = |rep: &str, partner: &str, date: &str, kind: &str| json!({"rep_id": rep, "partner_id": partner, "date": date, "kind": kind, "outcome": "completed"});
    let a1 = app
        .create("/activities", &log(&rep1, &p1, "2026-10-03", "visit"))
        .await;
    let a2 = app
        .create("/activities", &log(&rep1, &p2, "2026-11-05", "training"))
        .await;
    let a3 = app
        .create("/activities", &log(&rep2, &p2, "2026-11-20", "visit"))
        .await;

    assert_eq!(
        ids(&app.get(&format!("/activities?rep_id={rep1}")).await.json()),
        [a1.clone(), a2.clone()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/activities?partner_id={p2}"))
            .await
            .json()),
        [a2.clone(), a3.clone()]
    );
    assert_eq!(
        ids(&app.get("/activities?kind=visit").await.json()),
        [a1.clone(), a3.clone()]
    );
    assert_eq!(
        ids(&app
            .get("/activities?from=2026-11-01&to=2026-11-10")
            .await
            .json()),
        [a2]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/activities?rep_id={rep2}&from=2026-11-01"))
            .await
            .json()),
        [a3]
    );
}

#[actix_web::test]
async fn sales_filter_by_partner_and_month_range() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let p1 = app.partner(&region, None, "A", "active").await;
    let p2 = app.partner(&region, None, "A", "active").await;
    let mut p1_ids = Vec::new();
    for month in ["2026-09", "2026-10", "2026-11"] {
        p1_ids.push(
            app.create("/sales-records", &json!({"partner_id": p1, "month": month, "sell_in": eur(100), "sell_through": eur(90)}))
                .await,
        );
    }
    app.create(
        "/sales-records",
        &json!({"partner_id": p2, "month": "2026-10", "sell_in": eur(5), "sell_through": eur(5)}),
    )
    .await;

    assert_eq!(
        ids(&app
            .get(&format!("/sales-records?partner_id={p1}"))
            .await
            .json()),
        p1_ids
    );
    assert_eq!(
        ids(&app
            .get(&format!(
                "/sales-records?partner_id={p1}&from=2026-10&to=2026-10"
            ))
            .await
            .json()),
        [p1_ids[1].clone()]
    );
    assert_eq!(
        ids(&app
            .get("/sales-records?from=2026-10&to=2026-10")
            .await
            .json())
        .len(),
        2
    );
}

#[actix_web::test]
async fn goals_filter_by_scope_and_period() {
    let app = spawn_app().await;
    let region = app.region("Nordics").await;
    let rep = app.rep(&region).await;
    let goal = |scope: Value, period: &str| json!({"scope": scope, "period": period, "metric": "visits", "target": {"count": 10}, "strategy": "manual"});
    let g1 = app
        .create(
            "/goals",
            &goal(json!({"kind": "rep", "id": rep}), "2026-Q4"),
        )
        .await;
    let g2 = app
        .create(
            "/goals",
            &goal(json!({"kind": "rep", "id": rep}), "2027-Q1"),
        )
        .await;
    let g3 = app
        .create(
            "/goals",
            &goal(json!({"kind": "region", "id": region}), "2026-Q4"),
        )
        .await;

    assert_eq!(
        ids(&app.get(&format!("/goals?rep_id={rep}")).await.json()),
        [g1.clone(), g2]
    );
    assert_eq!(
        ids(&app.get("/goals?period=2026-Q4").await.json()),
        [g1.clone(), g3.clone()]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/goals?region_id={region}&period=2026-Q4"))
            .await
            .json()),
        [g3]
    );
    assert_eq!(
        ids(&app
            .get(&format!("/goals?rep_id={rep}&period=2026-Q4"))
            .await
            .json()),
        [g1]
    );
    // Filters combine as on every list: a goal has one scope, so two scopes match none.
    let both = app
        .get(&format!("/goals?rep_id={rep}&region_id={region}"))
        .await;
    assert_eq!(both.status, 200, "{}", both.text());
    assert_eq!(ids(&both.json()), Vec::<String>::new());
}
