//! Scenarios calibrated from records (sim/MODEL.md §12): the channel is the records', each
//! estimate follows the documented method, and the scenario runs.

use chanlab_shared::{Activity, Partner, ProcessSpec, Region, Rep, SalesRecord};
use chanlab_sim::engine::{self, RunOptions};
use chanlab_sim::from_records::{
    self, EngagementMethod, Options, PotentialMethod, Records, TierMethod,
};
use serde_json::{Value, json};

const REGION_A: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01";
const REGION_B: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a02";
const REGION_C: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03";
const REP_1: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5b01";
const REP_2: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5b02";
const REP_GONE: &str = "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5b03";

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid record")
}

fn partner(n: u32, region: &str, rep: Option<&str>, tier: &str, stage: &str) -> Partner {
    from(
        json!({"id": format!("019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f{n:04}"), "name": format!("P{n}"),
        "kind": "reseller", "tier": tier, "region_id": region, "owner_rep_id": rep, "stage": stage}),
    )
}

fn sale(n: u32, partner: &Partner, month: &str, amount: i64) -> SalesRecord {
    from(
        json!({"id": format!("019ac9b2-3c4d-7e5f-8a6b-1c2d3e5f{n:04}"), "partner_id": partner.id,
        "month": month, "sell_in": {"amount_minor": amount, "currency": "EUR"},
        "sell_through": {"amount_minor": amount, "currency": "EUR"}}),
    )
}

fn spec() -> ProcessSpec {
    let rules = chanlab_sim::files::parse_rules(
        chanlab_sim::bundled::find_spec("potential-based")
            .unwrap()
            .text,
        chanlab_sim::files::Format::Toml,
    )
    .unwrap();
    from(
        json!({"id": "019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5c01", "version": 2, "status": "published",
        "published_on": "2026-10-01", "rules": rules}),
    )
}

struct World {
    regions: Vec<Region>,
    reps: Vec<Rep>,
    partners: Vec<Partner>,
    sales: Vec<SalesRecord>,
    activities: Vec<Activity>,
    spec: ProcessSpec,
}

impl World {
    fn records(&self) -> Records<'_> {
        Records {
            regions: &self.regions,
            reps: &self.reps,
            partners: &self.partners,
            sales: &self.sales,
            activities: &self.activities,
            baseline: &self.spec,
            stage_changes: &[],
            goals: &[],
            assessments: &[],
        }
    }
}

/// Regions A (two reps, one who left), B (one rep) and C (partners, no rep); partners of
/// every tier with 12, 2 and 0 months of sales; rep 1 logs visits.
fn world() -> World {
    let region = |id: &str, name: &str| -> Region {
        from(json!({"id": id, "name": name, "regional_manager": "M"}))
    };
    let rep = |id: &str, region: &str, status: &str| -> Rep {
        from(
            json!({"id": id, "name": "R", "region_id": region, "hired_on": "2024-01-01", "status": status}),
        )
    };
    let partners = vec![
        partner(1, REGION_A, Some(REP_1), "A", "active"),
        partner(2, REGION_A, Some(REP_1), "B", "active"),
        partner(3, REGION_A, Some(REP_GONE), "C", "active"),
        partner(4, REGION_B, Some(REP_2), "B", "at_risk"),
        partner(5, REGION_C, None, "C", "active"),
        partner(6, REGION_A, Some(REP_1), "C", "prospect"),
    ];
    let mut sales = Vec::new();
    for m in 1..=12 {
        let month = format!("2026-{m:02}");
        sales.push(sale(
            m,
            &partners[0],
            &month,
            1_000_000 + 20_000 * i64::from(m),
        ));
        sales.push(sale(100 + m, &partners[3], &month, 500_000));
    }
    sales.push(sale(200, &partners[1], "2026-11", 300_000));
    sales.push(sale(201, &partners[1], "2026-12", 300_000));
    let activities = [
        "2026-08-03",
        "2026-09-03",
        "2026-10-03",
        "2026-11-03",
        "2026-12-03",
    ]
    .iter()
    .enumerate()
    .map(|(i, d)| -> Activity {
        from(
            json!({"id": format!("019ac9b2-3c4d-7e5f-8a6b-1c2d3e6f{i:04}"), "rep_id": REP_1,
                "partner_id": partners[0].id, "date": d, "kind": "visit", "outcome": "completed"}),
        )
    })
    .collect();
    World {
        regions: vec![
            region(REGION_A, "North"),
            region(REGION_B, "North"),
            region(REGION_C, "East"),
        ],
        reps: vec![
            rep(REP_1, REGION_A, "active"),
            rep(REP_GONE, REGION_A, "departed"),
            rep(REP_2, REGION_B, "active"),
        ],
        partners,
        sales,
        activities,
        spec: spec(),
    }
}

#[test]
fn the_channel_is_the_records_and_each_estimate_follows_the_method() {
    let w = world();

    let built = from_records::build(w.records(), &Options::default()).unwrap();

    let file = built.scenario.file();
    let r = &built.report;
    assert_eq!(file.channel.partners.len(), 6);
    let regions: Vec<(&str, u32)> = file
        .channel
        .regions
        .iter()
        .map(|r| (r.name.as_str(), r.reps))
        .collect();
    assert_eq!(regions, [("North", 1), ("North (2)", 1), ("East", 1)]);
    assert!(r.notes.iter().any(|n| n.contains("no rep: one seat added")));
    assert_eq!(file.start.to_string(), "2027-01");
    assert_eq!(r.as_of.unwrap().to_string(), "2026-12");
    assert_eq!(
        file.specs[0].inline.as_ref().unwrap().name.as_str(),
        "Potential-based goals"
    );

    let long = &r.partners[0];
    assert_eq!(long.potential_method, PotentialMethod::History);
    assert_eq!(long.months_of_history, 12);
    assert_eq!(long.credibility, Some(0.8));
    assert!(long.trend_per_month.unwrap() > 0.0);
    assert!(long.level.unwrap() > long.mean_sell_through.unwrap());
    assert_eq!(long.engagement_method, EngagementMethod::ActivityLog);
    assert!((long.touches_per_month.unwrap() - 5.0 / 6.0).abs() < 1e-3);
    // level / engagement, shrunk 80/20 towards the tier mean (its own: the only A).
    let own = long.level.unwrap() / long.engagement.unwrap();
    assert!((long.potential - own).abs() / own < 1e-3, "{long:?}");

    let short = &r.partners[1];
    assert_eq!(short.potential_method, PotentialMethod::ShortHistory);
    assert_eq!(short.credibility, Some(0.4));
    assert_eq!(short.trend_per_month, None);
    // Its owner logs, but never touched it: the neglected target, raised to the active band.
    assert_eq!(short.engagement, Some(0.35));
    assert!(short.engagement_clamped);

    let left = &r.partners[2];
    assert_eq!(left.owner, None, "its owner left: round-robin");
    assert_eq!(left.potential_method, PotentialMethod::TierMean);
    assert_eq!(left.engagement_method, EngagementMethod::Default);
    let tier_c = r
        .tiers
        .iter()
        .find(|t| t.tier == chanlab_shared::Tier::C)
        .unwrap();
    assert_eq!(tier_c.method, TierMethod::ScaledDefault);
    assert_eq!(left.potential, tier_c.mean_potential);

    let at_risk = &r.partners[3];
    assert!(
        at_risk.engagement.unwrap() <= 0.45,
        "at risk stays in its band"
    );
    assert_eq!(
        r.partners[5].engagement_method,
        EngagementMethod::NotSelling
    );
    assert_eq!(file.channel.partners[5].engagement, None);

    let run = engine::run(
        &built.scenario.with_overrides(Some(3), None).unwrap(),
        &RunOptions {
            threads: 1,
            shard: None,
        },
        &|| {},
    );
    assert!(run.is_ok());
}

#[test]
fn with_no_sales_every_estimate_is_a_default() {
    let mut w = world();
    w.sales.clear();

    let built = from_records::build(w.records(), &Options::default()).unwrap();

    assert_eq!(built.report.as_of, None);
    assert!(
        built
            .report
            .tiers
            .iter()
            .all(|t| t.method == TierMethod::Default)
    );
    assert!(
        built
            .report
            .partners
            .iter()
            .all(|p| p.potential_method == PotentialMethod::TierMean
                && p.engagement_method != EngagementMethod::ActivityLog)
    );
}

#[test]
fn bad_options_name_the_option() {
    let w = world();
    let err = |options: Options| from_records::build(w.records(), &options).unwrap_err();

    let unknown = err(Options {
        compare: vec!["stretch".into(), "nope".into()],
        ..Options::default()
    });
    assert!(unknown.to_string().starts_with("compare[1]: "), "{unknown}");
    let same = err(Options {
        compare: vec!["potential-based".into()],
        ..Options::default()
    });
    assert!(same.to_string().contains("baseline"), "{same}");
    let horizon = err(Options {
        horizon_months: 0,
        ..Options::default()
    });
    assert!(
        horizon.to_string().starts_with("horizon_months: "),
        "{horizon}"
    );
}
