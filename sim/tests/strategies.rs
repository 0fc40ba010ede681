//! Every goal strategy runs, and the mechanisms show up in the KPIs the way they should.

use std::collections::BTreeMap;

use chanlab_sim::bundled;
use chanlab_sim::engine::{self, RunOptions, RunResult};
use chanlab_sim::files::Format;
use chanlab_sim::model::Kpi;
use chanlab_sim::scenario;

/// The flat-growth spec with its strategy line and name replaced.
fn spec_with(name: &str, strategy: &str) -> String {
    bundled::find_spec("flat-growth")
        .unwrap()
        .text
        .replace(
            "strategy = { kind = \"flat_growth\", growth = 0.08 }",
            &format!("strategy = {strategy}"),
        )
        .replace("name = \"Flat growth\"", &format!("name = \"{name}\""))
}

const STRATEGIES: [(&str, &str); 8] = [
    ("Flat", "{ kind = \"flat_growth\", growth = 0.08 }"),
    (
        "Ratchet",
        "{ kind = \"ratchet\", growth = 0.05, up_weight = 0.8, down_weight = 0.3 }",
    ),
    (
        "Potential",
        "{ kind = \"potential_based\", share_of_potential = 0.7 }",
    ),
    ("Stretch", "{ kind = \"stretch\", uplift = 0.3 }"),
    (
        "Participative",
        "{ kind = \"participative\", weight_on_proposal = 0.9, share_of_potential = 0.7 }",
    ),
    (
        "Tiered",
        "{ kind = \"tiered_thresholds\", growth = 0.08, levels = [0.9, 1.0, 1.2] }",
    ),
    (
        "Activity",
        "{ kind = \"activity_based\", targets = [{ activity = \"visit\", per_period = 40 }] }",
    ),
    (
        "Scorecard",
        "{ kind = \"balanced_scorecard\", growth = 0.08, weights = [{ metric = \"sell_through\", weight = 0.6 }, { metric = \"visits\", weight = 0.4 }] }",
    ),
];

fn scenario_text(backing: f64, specs: &[&str]) -> String {
    let mut text = format!(
        r#"
name = "Strategy test channel"
horizon_months = 24
replications = 24
seed = 5

[[channel.regions]]
name = "One"
reps = 6
backing = {backing}
partners = {{ A = 4, B = 15, C = 30 }}
prospects = 20
"#
    );
    for name in specs {
        text.push_str(&format!("\n[[specs]]\nfile = \"{name}.toml\"\n"));
    }
    text
}

fn run_with(backing: f64, specs: &[(&str, String)]) -> RunResult {
    let files: BTreeMap<String, String> = specs
        .iter()
        .map(|(n, t)| (format!("{n}.toml"), t.clone()))
        .collect();
    let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
    let resolve = |path: &str| files.get(path).cloned().ok_or_else(|| format!("no {path}"));
    let scenario =
        scenario::parse(&scenario_text(backing, &names), Format::Toml, &resolve).expect("valid");
    engine::run(
        &scenario,
        &RunOptions {
            threads: 2,
            shard: None,
        },
        &|| {},
    )
    .expect("runs")
}

fn mean(result: &RunResult, spec: usize, kpi: Kpi) -> f64 {
    result.specs[spec].kpis[kpi.index()]
        .moments()
        .mean()
        .unwrap()
}

#[test]
fn every_goal_strategy_runs_and_reports_finite_kpis() {
    let specs: Vec<(&str, String)> = STRATEGIES
        .iter()
        .map(|(n, s)| (*n, spec_with(n, s)))
        .collect();
    let result = run_with(0.9, &specs);
    assert_eq!(result.specs.len(), 8);
    for (i, spec) in result.specs.iter().enumerate() {
        for kpi in Kpi::ALL {
            let m = mean(&result, i, kpi);
            assert!(m.is_finite(), "{} {}: {m}", spec.name, kpi.name());
            let dropped = result.specs[i].kpis[kpi.index()].moments().non_finite();
            assert_eq!(
                dropped,
                0,
                "{} {}: {dropped} non-finite values",
                spec.name,
                kpi.name()
            );
        }
        assert!(mean(&result, i, Kpi::SellThrough) > 0.0, "{}", spec.name);
    }
    let at_goal: Vec<f64> = (0..8).map(|i| mean(&result, i, Kpi::RepsAtGoal)).collect();
    let distinct = at_goal
        .iter()
        .map(|v| (v * 1e6) as i64)
        .collect::<std::collections::BTreeSet<_>>();
    assert!(
        distinct.len() >= 6,
        "strategies should set different goals: {at_goal:?}"
    );
}

#[test]
fn sandbagged_proposals_make_participative_goals_easier_to_reach() {
    // Mechanism 5: reps who propose their own goal understate it.
    let specs = vec![
        ("Potential", spec_with("Potential", STRATEGIES[2].1)),
        ("Participative", spec_with("Participative", STRATEGIES[4].1)),
    ];
    let result = run_with(0.9, &specs);
    assert!(mean(&result, 1, Kpi::RepsAtGoal) > mean(&result, 0, Kpi::RepsAtGoal));
}

#[test]
fn goals_on_activities_get_mandated_activities_done() {
    // Mechanism 6: what gets measured gets done.
    let specs = vec![
        ("Flat", spec_with("Flat", STRATEGIES[0].1)),
        ("Activity", spec_with("Activity", STRATEGIES[6].1)),
    ];
    let result = run_with(0.9, &specs);
    let (flat, activity) = (
        mean(&result, 0, Kpi::ProcessCompliance),
        mean(&result, 1, Kpi::ProcessCompliance),
    );
    assert!(
        activity > flat + 0.05,
        "activity-based {activity} vs flat {flat}"
    );
}

#[test]
fn regional_managers_who_do_not_back_the_process_undo_compliance() {
    // Mechanism 6, dual authority: the same spec, weaker backing, fewer mandated visits.
    let specs = vec![("Activity", spec_with("Activity", STRATEGIES[6].1))];
    let backed = run_with(1.0, &specs);
    let unbacked = run_with(0.2, &specs);
    assert!(
        mean(&unbacked, 0, Kpi::ProcessCompliance) < mean(&backed, 0, Kpi::ProcessCompliance) - 0.1
    );
}

#[test]
fn rebate_steps_make_partners_load_stock() {
    // Mechanism 7: sell-in targets with rebates make partners load inventory.
    let with = spec_with("Rebates", STRATEGIES[0].1);
    let without = with.replace(
        "rebate_tiers = [\n  { at_attainment = 1.0, rate = 0.02 },\n  { at_attainment = 1.2, rate = 0.03 },\n]",
        "rebate_tiers = []",
    );
    assert_ne!(with, without, "the rebate table was found and removed");
    let result = run_with(
        0.9,
        &[
            ("Rebates", with),
            (
                "NoRebates",
                without.replace("name = \"Rebates\"", "name = \"NoRebates\""),
            ),
        ],
    );
    assert_eq!(mean(&result, 1, Kpi::RebateCost), 0.0);
    assert!(
        mean(&result, 0, Kpi::ChannelInventoryAtEnd) > mean(&result, 1, Kpi::ChannelInventoryAtEnd)
    );
}

#[test]
fn a_scorecard_that_rewards_signing_partners_grows_the_channel() {
    // Mechanism 8: recruiting effort follows what is measured; prospects become partners.
    let text = bundled::find_scenario("recruiting-vs-farming")
        .unwrap()
        .text;
    let scenario = scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned()))
        .unwrap()
        .with_overrides(Some(16), None)
        .unwrap();
    let result = engine::run(
        &scenario,
        &RunOptions {
            threads: 2,
            shard: None,
        },
        &|| {},
    )
    .unwrap();
    assert!(mean(&result, 1, Kpi::PartnersSigned) > mean(&result, 0, Kpi::PartnersSigned) * 1.5);
}

#[test]
fn seats_that_start_without_partners_get_goals_from_their_first_sales() {
    // A region of prospects only: its reps have no opening baseline. They must not count as
    // missing a zero goal forever (which would also drive them out through attrition).
    let text = r#"
name = "All prospects"
horizon_months = 24
replications = 16
seed = 3

[[channel.regions]]
name = "New territory"
reps = 4
prospects = 200

[[specs]]
bundled = "flat-growth"
"#;
    let scenario = scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned())).unwrap();
    let result = engine::run(
        &scenario,
        &RunOptions {
            threads: 2,
            shard: None,
        },
        &|| {},
    )
    .unwrap();
    assert!(mean(&result, 0, Kpi::PartnersSigned) > 0.0);
    assert!(
        mean(&result, 0, Kpi::RepsAtGoal) > 0.05,
        "{}",
        mean(&result, 0, Kpi::RepsAtGoal)
    );
}

#[test]
fn yearly_monthly_and_sell_in_goals_all_run() {
    let yearly = spec_with("Yearly", STRATEGIES[0].1)
        .replace("period = \"quarter\"\nmetric", "period = \"year\"\nmetric");
    let monthly = spec_with("Monthly", STRATEGIES[0].1)
        .replace("period = \"quarter\"\nmetric", "period = \"month\"\nmetric");
    let sell_in = spec_with("SellIn", STRATEGIES[0].1)
        .replace("metric = \"sell_through\"", "metric = \"sell_in\"")
        .replace("basis = \"sell_through\"", "basis = \"sell_in\"");
    assert!(
        yearly.contains("period = \"year\"")
            && monthly.contains("period = \"month\"")
            && sell_in.contains("basis = \"sell_in\"")
    );
    let result = run_with(
        0.9,
        &[
            ("Yearly", yearly),
            ("Monthly", monthly),
            ("SellIn", sell_in),
        ],
    );
    for i in 0..3 {
        for kpi in Kpi::ALL {
            assert!(
                mean(&result, i, kpi).is_finite(),
                "{} {}",
                result.specs[i].name,
                kpi.name()
            );
        }
    }
}
