//! `/scenarios`: posted scenarios checked by the simulator's own parser, and scenarios
//! calibrated from the records (`POST /scenarios/from-records`, and the same from the CLI).

use std::collections::BTreeMap;

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, eur, rules, spawn_app, spawn_sled_app};

/// A small channel that runs in milliseconds: one region, two reps, six partners, two
/// bundled specs.
pub(crate) fn small_scenario(replications: u32) -> Value {
    json!({
        "name": "Small channel",
        "horizon_months": 6,
        "replications": replications,
        "seed": 11,
        "channel": {"regions": [{"name": "North", "reps": 2, "partners": {"A": 1, "B": 2, "C": 3}, "prospects": 2}]},
        "specs": [{"bundled": "flat-growth"}, {"bundled": "stretch"}]
    })
}

/// The records of a small channel: what from-records is checked against.
pub(crate) struct Seeded {
    pub(crate) partners: Vec<(String, &'static str, &'static str)>,
    pub(crate) twelve_months: String,
    pub(crate) three_months: String,
    pub(crate) no_history: String,
}

/// Two regions, three reps, nine partners (A 2, B 3, C 4; one prospect), a published spec,
/// sales for some partners (12 months, 3 months, none) and a few logged visits.
pub(crate) async fn seed(app: &TestApp) -> Seeded {
    let north = app.region("North").await;
    let south = app.region("South").await;
    let rep_n1 = app.rep(&north).await;
    let rep_n2 = app.rep(&north).await;
    let rep_s = app.rep(&south).await;
    let mut partners = Vec::new();
    for (region, rep, tier, stage) in [
        (&north, &rep_n1, "A", "active"),
        (&north, &rep_n2, "A", "active"),
        (&north, &rep_n1, "B", "active"),
        (&north, &rep_n2, "B", "at_risk"),
        (&south, &rep_s, "B", "active"),
        (&south, &rep_s, "C", "active"),
        (&south, &rep_s, "C", "active"),
        (&south, &rep_s, "C", "active"),
        (&north, &rep_n1, "C", "prospect"),
    ] {
        let id = app.partner(region, Some(rep), tier, stage).await;
        partners.push((id, tier, stage));
    }
    // Partner 0 (A): twelve months, growing. Partner 2 (B): three months. Partner 5 (C):
    // twelve flat months. The others: none.
    for m in 1..=12 {
        let month = format!("2026-{m:02}");
        let a = 2_000_000 + 50_000 * m;
        app.create(
            "/sales-records",
            &json!({"partner_id": partners[0].0, "month": month, "sell_in": eur(a), "sell_through": eur(a)}),
        )
        .await;
        app.create(
            "/sales-records",
            &json!({"partner_id": partners[5].0, "month": month, "sell_in": eur(200_000), "sell_through": eur(200_000)}),
        )
        .await;
    }
    for m in 10..=12 {
        app.create(
            "/sales-records",
            &json!({"partner_id": partners[2].0, "month": format!("2026-{m:02}"), "sell_in": eur(900_000), "sell_through": eur(900_000)}),
        )
        .await;
    }
    for day in ["2026-09-03", "2026-10-05", "2026-11-04", "2026-12-02"] {
        app.create(
            "/activities",
            &json!({"rep_id": rep_n1, "partner_id": partners[0].0, "date": day, "kind": "visit", "outcome": "completed"}),
        )
        .await;
    }
    let spec = app.create("/process-specs", &rules()).await;
    let published = app
        .post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    Seeded {
        twelve_months: partners[0].0.clone(),
        three_months: partners[2].0.clone(),
        no_history: partners[1].0.clone(),
        partners,
    }
}

fn tier_mix<'a>(tiers: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut mix = BTreeMap::new();
    for t in tiers {
        *mix.entry(t.to_owned()).or_default() += 1;
    }
    mix
}

#[actix_web::test]
async fn from_records_gives_the_records_partners_tiers_and_estimates() {
    let app = spawn_app().await;
    let seeded = seed(&app).await;

    let res = app
        .post(
            "/scenarios/from-records",
            &json!({"horizon_months": 6, "replications": 20, "seed": 3, "compare": ["stretch"]}),
        )
        .await;

    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    let location = res.header("location").unwrap();
    assert_eq!(
        location,
        format!("/scenarios/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(body["source"], "from_records");
    let scenario = &body["scenario"];
    let partners = scenario["channel"]["partners"].as_array().unwrap();
    assert_eq!(partners.len(), seeded.partners.len());
    assert_eq!(body["partner_slots"], seeded.partners.len());
    assert_eq!(
        tier_mix(partners.iter().map(|p| p["tier"].as_str().unwrap())),
        tier_mix(seeded.partners.iter().map(|p| p.1)),
    );
    assert_eq!(
        tier_mix(partners.iter().map(|p| p["stage"].as_str().unwrap())),
        tier_mix(seeded.partners.iter().map(|p| p.2)),
    );
    let regions: Vec<(&str, u64)> = scenario["channel"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["reps"].as_u64().unwrap()))
        .collect();
    assert_eq!(regions, [("North", 2), ("South", 1)]);
    assert_eq!(scenario["start"], "2027-01");
    assert_eq!(scenario["specs"].as_array().unwrap().len(), 2);
    assert_eq!(
        scenario["specs"][0]["inline"]["name"], "FY27 potential-based",
        "the published spec is the baseline"
    );

    let calibration = &body["calibration"];
    assert_eq!(calibration["as_of"], "2026-12");
    let report = |id: &str| {
        calibration["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["partner_id"] == id)
            .unwrap()
            .clone()
    };
    let long = report(&seeded.twelve_months);
    assert_eq!(long["potential_method"], "history");
    assert_eq!(long["months_of_history"], 12);
    assert_eq!(long["engagement_method"], "activity_log");
    assert!(long["trend_per_month"].as_f64().unwrap() > 0.0, "{long}");
    assert!(long["level"].as_f64().unwrap() > long["mean_sell_through"].as_f64().unwrap());
    let short = report(&seeded.three_months);
    assert_eq!(short["potential_method"], "short_history");
    assert_eq!(short["months_of_history"], 3);
    assert_eq!(short["credibility"], 0.5, "3 months against k = 3");
    let none = report(&seeded.no_history);
    assert_eq!(none["potential_method"], "tier_mean");
    let tier_a = calibration["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "A")
        .unwrap();
    assert_eq!(none["potential"], tier_a["mean_potential"]);
    // Shrinkage: the estimate lies between the partner's own figure and its tier's mean.
    let tier_b = calibration["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == "B")
        .unwrap();
    let (own, mean, used) = (
        short["own_potential"].as_f64().unwrap(),
        tier_b["mean_potential"].as_f64().unwrap(),
        short["potential"].as_f64().unwrap(),
    );
    assert!(used >= own.min(mean) - 0.01 && used <= own.max(mean) + 0.01);

    let stored = app.get(&location).await;
    assert_eq!(stored.status, 200);
    assert!(stored.header("etag").is_some());
    assert_eq!(stored.json(), body);
}

#[actix_web::test]
async fn from_records_needs_a_published_spec_and_known_compared_specs() {
    let app = spawn_app().await;
    let region = app.region("North").await;
    let rep = app.rep(&region).await;
    app.partner(&region, Some(&rep), "A", "active").await;

    let none = app.post("/scenarios/from-records", &json!({})).await;
    assert!(
        none.problem(409)["detail"]
            .as_str()
            .unwrap()
            .contains("no process spec is published")
    );

    let spec = app.create("/process-specs", &rules()).await;
    app.post(&format!("/process-specs/{spec}/publish"), &json!({}))
        .await;
    let unknown = app
        .post("/scenarios/from-records", &json!({"compare": ["nope"]}))
        .await;
    assert_eq!(unknown.problem(422)["errors"][0]["field"], "compare[0]");
    let horizon = app
        .post("/scenarios/from-records", &json!({"horizon_months": 0}))
        .await;
    assert_eq!(horizon.problem(422)["errors"][0]["field"], "horizon_months");
    // No body at all takes every default.
    let bare = app
        .send(
            Method::POST,
            "/scenarios/from-records",
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(bare.status, 201, "{}", bare.text());
    assert_eq!(
        bare.json()["calibration"]["partners"][0]["potential_method"],
        "tier_mean"
    );
}

#[actix_web::test]
async fn a_posted_scenario_is_stored_listed_read_and_deleted() {
    let app = spawn_app().await;

    let res = app.post("/scenarios", &small_scenario(5)).await;

    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["source"], "posted");
    assert_eq!(body["partner_slots"], 8);
    // Stored self-contained: bundled specs inline, every behaviour parameter in force.
    assert!(body["scenario"]["specs"][1]["inline"]["name"].is_string());
    assert!(body["scenario"]["behaviour"]["selling_elasticity"].is_number());
    let listed = app.get("/scenarios").await.json();
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let read = app.get(&format!("/scenarios/{id}")).await;
    assert_eq!(read.json(), body);
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));

    let stale = app
        .send(
            Method::DELETE,
            &format!("/scenarios/{id}"),
            Some(&app.admin),
            &[("If-Match", "\"7\"")],
            None,
        )
        .await;
    stale.problem(412);
    let gone = app
        .send(
            Method::DELETE,
            &format!("/scenarios/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    app.get(&format!("/scenarios/{id}")).await.problem(404);
}

#[actix_web::test]
async fn a_bad_scenario_is_a_problem_naming_the_field_and_stores_nothing() {
    let app = spawn_app().await;
    let mut cases = Vec::new();
    let mut typo = small_scenario(5);
    typo["channel"]["regions"][0]["repz"] = json!(2);
    cases.push((typo, "channel.regions[0]"));
    let mut spread = small_scenario(5);
    spread["channel"]["tiers"] =
        json!({"A": {"potential": 40000, "potential_spread": 9, "share_of_recruits": 0.05}});
    cases.push((spread, "channel.tiers.A.potential_spread"));
    let mut rate = small_scenario(5);
    rate["specs"][1] = json!({"inline": {"name": "x", "goal_setting": {"strategy": {"kind": "flat_growth", "growth": 0.05}, "period": "quarter", "metric": "sell_through"},
        "cadences": [], "onboarding": {"months": 1, "trainings": 0, "visits_per_month": 0},
        "assessment": {"key_links": [{"metric": "sell_through", "weight": 1.0}], "every": "quarter"},
        "incentive": {"basis": "sell_through", "commission_rate": 3},
        "partner_program": {"base_margin": 0.06, "target_period": "quarter"}}});
    cases.push((rate, "specs[1].inline.incentive.commission_rate"));
    let mut horizon = small_scenario(5);
    horizon["horizon_months"] = json!(0);
    cases.push((horizon, "horizon_months"));
    let mut file = small_scenario(5);
    file["specs"][0] = json!({"file": "/etc/passwd"});
    cases.push((file, "specs[0].file"));
    let mut bundled = small_scenario(5);
    bundled["specs"][0] = json!({"bundled": "nope"});
    cases.push((bundled, "specs[0].bundled"));

    for (body, field) in cases {
        let res = app.post("/scenarios", &body).await;
        let problem = res.problem(422);
        assert!(
            problem["errors"][0]["field"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{field}: {problem}"
        );
    }
    let malformed = app
        .send(
            Method::POST,
            "/scenarios",
            Some(&app.admin),
            &[],
            Some(("application/json", b"{\"name\": ".to_vec())),
        )
        .await;
    malformed.problem(400);
    assert_eq!(app.get("/scenarios").await.json()["items"], json!([]));
}

#[actix_web::test]
async fn the_cli_builds_the_same_scenario_from_a_data_directory() {
    // sled only: the CLI opens the data directory afterwards.
    let app = spawn_sled_app().await;
    seed(&app).await;
    let api = app
        .post(
            "/scenarios/from-records",
            &json!({"horizon_months": 6, "replications": 20, "seed": 3}),
        )
        .await
        .json();
    // The CLI opens the data directory itself, so the server must let go of it first.
    let dir = app.stop().await;

    let mut out = None;
    for _ in 0..100 {
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_chanlab"))
            .args([
                "scenario",
                "from-records",
                "--format",
                "json",
                "--horizon-months",
                "6",
                "--replications",
                "20",
                "--seed",
                "3",
                "--data-dir",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        if run.status.success() {
            out = Some(run);
            break;
        }
        // sled keeps the directory locked until the server's threads have let go of it.
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = out.expect("chanlab scenario from-records succeeds once the server is gone");
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, api["scenario"]);
}

#[actix_web::test]
async fn from_records_with_calibrate_fits_the_parameters_and_the_scenario_runs() {
    let app = crate::helpers::spawn_app_with_records(
        &crate::helpers::synthetic(16, 4),
        chanlab_api::simulation::RunLimits::default(),
    )
    .await;

    let res = app
        .post(
            "/scenarios/from-records",
            &json!({"calibrate": true, "horizon_months": 6, "replications": 20, "seed": 3}),
        )
        .await;

    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    let fit = &body["fit"];
    assert_eq!(fit["months"], 16, "{fit}");
    let parameters = fit["parameters"].as_array().unwrap();
    assert!(parameters.iter().all(|p| p["identified"].is_boolean()));
    assert!(parameters.iter().any(|p| p["identified"] == true), "{fit}");
    assert!(
        parameters
            .iter()
            .filter(|p| p["identified"] == false)
            .all(|p| p["interval"].is_null() && !p["note"].as_str().unwrap().is_empty())
    );
    assert!(!fit["moments"].as_array().unwrap().is_empty());
    assert!(
        body["scenario"]["uncertainty"].is_object(),
        "the scenario carries its parameter uncertainty"
    );
    assert!(body["calibration"]["partners"].is_array());
    // Stored as answered, and it runs like any other scenario.
    let location = res.header("location").unwrap();
    let stored = app.get(&location).await.json();
    assert_eq!(stored, body);
    let id = body["id"].as_str().unwrap();
    crate::runs::finished_run(&app, id).await;
}

#[actix_web::test]
async fn from_records_with_calibrate_on_too_short_a_history_is_409_saying_what_is_missing() {
    let app = spawn_app().await;
    seed(&app).await;
    let before = app.get("/scenarios").await.json();

    let res = app
        .post(
            "/scenarios/from-records",
            &json!({"calibrate": true, "as_of": "2026-06", "replications": 20}),
        )
        .await;

    let problem = res.problem(409);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("at least 12 months"), "{detail}");
    assert!(detail.contains("the records hold 6"), "{detail}");
    assert!(detail.contains("add 6 more"), "{detail}");
    assert_eq!(app.get("/scenarios").await.json(), before, "nothing stored");
    // The same request without calibrate builds the plain scenario.
    let plain = app
        .post(
            "/scenarios/from-records",
            &json!({"as_of": "2026-06", "replications": 20}),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.text());
    assert!(plain.json().get("fit").is_none());
}
