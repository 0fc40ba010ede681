//! Property tests: random valid scenarios run without panicking and keep the model's
//! invariants; random bytes and mutated files fed to the scenario and spec parsers give
//! errors, never panics. `fuzz/` has a cargo-fuzz target for the same parser (not in CI).

use chanlab_sim::bundled;
use chanlab_sim::engine::{self, RunOptions, RunReport};
use chanlab_sim::files::{self, Format};
use chanlab_sim::model::Kpi;
use chanlab_sim::scenario::{self, Scenario};
use proptest::prelude::*;

/// A generated scenario file: its TOML text and what the invariants need to know.
#[derive(Debug, Clone)]
struct Generated {
    text: String,
    reps: u64,
    slots: u64,
    horizon: u32,
    replications: u32,
    specs: usize,
}

fn potential() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.01),
        Just(1e12),
        0.01f64..100.0,
        100.0f64..1e6,
        1e6f64..1e12,
    ]
}

fn region() -> impl Strategy<Value = (u32, f64, [u32; 3], u32)> {
    (
        1u32..6,
        0.0f64..=1.0,
        [0u32..12, 0u32..20, 0u32..30],
        0u32..12,
    )
}

fn explicit_partner() -> impl Strategy<Value = (usize, usize, f64, Option<f64>, usize, u32)> {
    (
        0usize..3,
        0usize..3,
        prop_oneof![Just(0.0), potential()],
        proptest::option::of(0.0f64..=1.0),
        0usize..7,
        0u32..6,
    )
}

/// Random scenarios inside every documented limit: 1 to 3 regions, up to a few hundred
/// partner slots, tiers with extreme potentials, explicit partners in any lifecycle stage,
/// 1 to 4 of the bundled specs, horizons from 1 month to 5 years.
fn scenario_text() -> impl Strategy<Value = Generated> {
    let specs: Vec<&'static str> = bundled::specs().iter().map(|s| s.name).collect();
    (
        proptest::collection::vec(region(), 1..=3),
        [
            (potential(), 0.0f64..=3.0),
            (potential(), 0.0f64..=3.0),
            (potential(), 0.0f64..=3.0),
        ],
        (0.0f64..=1.0, 0.0f64..=1.0),
        proptest::collection::vec(explicit_partner(), 0..6),
        proptest::sample::subsequence(specs, 1..=4).prop_shuffle(),
        1u32..=60,
        1u32..=4,
        any::<u64>(),
        (1970u16..2100, 1u8..=12),
    )
        .prop_filter_map(
            "the channel needs a partner or a prospect",
            |(regions, tiers, (share_a, share_b), partners, specs, horizon, replications, seed, (year, month))| {
                let mut t = String::new();
                t += "name = \"Generated\"\n";
                t += &format!("start = \"{year:04}-{month:02}\"\n");
                t += &format!(
                    "horizon_months = {horizon}\nreplications = {replications}\nseed = {seed}\n\n"
                );
                let mut slots = 0u64;
                let mut reps = 0u64;
                for (i, (n_reps, backing, [a, b, c], prospects)) in regions.iter().enumerate() {
                    t += &format!(
                        "[[channel.regions]]\nname = \"R{i}\"\nreps = {n_reps}\nbacking = {backing:?}\n\
                         partners = {{ A = {a}, B = {b}, C = {c} }}\nprospects = {prospects}\n\n"
                    );
                    slots += u64::from(a + b + c + prospects);
                    reps += u64::from(*n_reps);
                }
                // Recruit shares that sum to 1.
                let a = share_a;
                let b = (1.0 - a) * share_b;
                let shares = [a, b, 1.0 - a - b];
                for (k, tier) in ["A", "B", "C"].iter().enumerate() {
                    let (p, spread) = tiers[k];
                    t += &format!(
                        "[channel.tiers.{tier}]\npotential = {p:?}\npotential_spread = {spread:?}\n\
                         share_of_recruits = {:?}\n\n",
                        shares[k]
                    );
                }
                let stages = [
                    "prospect", "negotiating", "contracted", "active", "at_risk", "churned", "lost",
                ];
                for (region, tier, p, engagement, stage, owner) in &partners {
                    let region = region % regions.len();
                    t += &format!(
                        "[[channel.partners]]\nregion = \"R{region}\"\ntier = \"{}\"\npotential = {p:?}\n\
                         stage = \"{}\"\n",
                        ["A", "B", "C"][*tier],
                        stages[*stage]
                    );
                    if let Some(e) = engagement {
                        t += &format!("engagement = {e:?}\n");
                    }
                    if *owner < regions[region].0 {
                        t += &format!("owner = {owner}\n");
                    }
                    t += "\n";
                    slots += 1;
                }
                for name in &specs {
                    t += &format!("[[specs]]\nbundled = \"{name}\"\n\n");
                }
                (slots > 0).then_some(Generated {
                    text: t,
                    reps,
                    slots,
                    horizon,
                    replications,
                    specs: specs.len(),
                })
            },
        )
}

fn no_files(_: &str) -> Result<String, String> {
    Err("no files here".to_owned())
}

fn run(scenario: &Scenario, threads: usize) -> RunReport {
    engine::run(
        scenario,
        &RunOptions {
            threads,
            shard: None,
        },
        &|| {},
    )
    .expect("a valid scenario runs")
    .report()
}

/// KPIs that count or sum something and can never be negative.
const NON_NEGATIVE: [Kpi; 11] = [
    Kpi::SellThrough,
    Kpi::SellIn,
    Kpi::IncentiveCost,
    Kpi::DiscountCost,
    Kpi::RebateCost,
    Kpi::PartnersActiveAtEnd,
    Kpi::PartnersSigned,
    Kpi::PartnersChurned,
    Kpi::RepAttrition,
    Kpi::ChannelInventoryAtEnd,
    Kpi::PeriodEndSpike,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_scenarios_run_and_keep_the_models_invariants(g in scenario_text()) {
        let scenario = scenario::parse(&g.text, Format::Toml, &no_files)
            .unwrap_or_else(|e| panic!("a generated scenario is valid: {e}\n{}", g.text));
        prop_assert_eq!(scenario.partner_slots(), g.slots);

        let report = run(&scenario, 1);

        prop_assert_eq!(report.replications, u64::from(g.replications));
        prop_assert_eq!(report.specs.len(), g.specs);
        prop_assert_eq!(report.specs.iter().filter(|s| s.baseline).count(), 1);
        for spec in &report.specs {
            prop_assert_eq!(spec.kpis.len(), Kpi::ALL.len());
            prop_assert_eq!(spec.monthly_sell_through.len(), g.horizon as usize);
            prop_assert_eq!(spec.vs_baseline.is_empty(), spec.baseline);
            for k in &spec.kpis {
                let s = &k.summary;
                prop_assert_eq!(s.non_finite, 0, "{:?} of {} had non-finite values", k.kpi, spec.name);
                prop_assert_eq!(s.n, u64::from(g.replications), "{:?}", k.kpi);
                let (min, max, mean) = (s.min.unwrap(), s.max.unwrap(), s.mean.unwrap());
                let slack = 1e-9 * max.abs().max(1.0);
                prop_assert!(min - slack <= mean && mean <= max + slack, "{:?}: {} {} {}", k.kpi, min, mean, max);
                if NON_NEGATIVE.contains(&k.kpi) {
                    prop_assert!(min >= 0.0, "{:?} of {} went negative: {}", k.kpi, spec.name, min);
                }
                match k.kpi {
                    Kpi::RepsAtGoal | Kpi::ProcessCompliance => {
                        prop_assert!((0.0..=1.0).contains(&min) && max <= 1.0, "{:?}: {}..{}", k.kpi, min, max);
                    }
                    Kpi::PartnersActiveAtEnd | Kpi::PartnersSigned | Kpi::PartnersChurned => {
                        prop_assert!(max <= g.slots as f64, "{:?} {} > {} slots", k.kpi, max, g.slots);
                    }
                    Kpi::RepAttrition => {
                        // A vacated seat is refilled and can be vacated again, at most once a month.
                        prop_assert!(max <= (g.reps * u64::from(g.horizon)) as f64, "{}", max);
                    }
                    _ => {}
                }
            }
            for month in &spec.monthly_sell_through {
                prop_assert_eq!(month.non_finite, 0);
                prop_assert!(month.min.unwrap() >= 0.0);
            }
            for c in &spec.vs_baseline {
                prop_assert!((0.0..=1.0).contains(&c.probability_better), "{:?}", c);
                prop_assert_eq!(c.difference.non_finite, 0);
            }
        }
        // The same numbers on two threads as on one.
        prop_assert_eq!(
            serde_json::to_string(&run(&scenario, 2)).unwrap(),
            serde_json::to_string(&report).unwrap()
        );
    }

    #[test]
    fn random_bytes_are_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        for format in [Format::Toml, Format::Json] {
            if let Err(e) = scenario::parse(&text, format, &no_files) {
                prop_assert!(!e.to_string().is_empty());
            }
            if let Err(e) = files::parse_rules(&text, format) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn mutated_bundled_files_are_an_error_or_a_valid_scenario(
        which in 0usize..16,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..64, mutation()), 1..6),
    ) {
        let scenarios = bundled::scenarios();
        let specs = bundled::specs();
        let all: Vec<&str> = scenarios.iter().chain(specs).map(|b| b.text).collect();
        let mut text = all[which % all.len()].to_owned();
        for (at, len, insert) in &edits {
            let start = floor_char_boundary(&text, at.index(text.len() + 1));
            let end = floor_char_boundary(&text, (start + len).min(text.len()));
            text.replace_range(start..end, insert);
        }
        match scenario::parse(&text, Format::Toml, &no_files) {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            // Still valid: it must run too (one replication, kept small).
            Ok(s) if s.partner_slots() * u64::from(s.file().horizon_months) <= 50_000 => {
                let s = s.with_overrides(Some(1), None).unwrap();
                let report = run(&s, 1);
                prop_assert_eq!(report.replications, 1);
            }
            Ok(_) => {}
        }
        if let Err(e) = files::parse_rules(&text, Format::Toml) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// What a mutation puts in place of the bytes it removes: nothing, TOML punctuation,
/// numbers at the edges of every range, or random text.
fn mutation() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "=",
            "[",
            "]",
            "[[",
            "]]",
            "{",
            "}",
            "\"",
            "'",
            ",",
            "\n",
            "#",
            ".",
            "-",
            "0",
            "-1",
            "1e308",
            "-1e308",
            "1e-320",
            "nan",
            "inf",
            "-inf",
            "4294967296",
            "18446744073709551616",
            "9223372036854775807",
            "0.0",
            "1.0000001",
            "true",
            "\"\"",
            "\"A\"",
            "\"Z\"",
            "[]",
            "{}",
            "\u{0}",
            "\u{feff}",
            "é",
            "2026-13",
            "0000-01",
            "9999-12",
            "\n[[specs]]\n",
            "\nbundled = \"stretch\"\n",
            "\n[[channel.regions]]\nname = \"X\"\nreps = 0\n",
            "\nhorizon_months = 240\n",
        ])
        .prop_map(str::to_owned),
        "[ -~]{0,12}",
        any::<String>(),
    ]
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
