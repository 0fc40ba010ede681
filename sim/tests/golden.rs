//! The golden test: every bundled scenario, exercise and validation experiment, a
//! synthesized records set and a calibrated scenario, simulated at fixed seeds, reduced to a
//! digest of every number the model produces (every KPI, the attainment histogram, the
//! monthly paths and every detail output), compared with `sim/tests/golden.json`.
//!
//! A structural change to the model (a mechanism moved into its own function, a struct
//! instead of a tuple) must leave every digest as it is. A change that is meant to move the
//! last bits (a tabulated power instead of `powf`) re-records the file in a commit of its own:
//!
//! ```text
//! CHANLAB_GOLDEN=record cargo test -p chanlab-sim --test golden
//! ```
//!
//! Recording refuses unless the change is rounding: every KPI mean within a millionth of a
//! Monte Carlo standard error of the recorded one (rounding moves are around 1e-11), the
//! same cases as before. Anything
//! else is a change of the model that needs its own review: `CHANLAB_GOLDEN=record-any`
//! records anyway. Either way the test prints the largest moves, which the commit message
//! quotes.
//!
//! The digests are exact bits of `powf`, `exp` and `ln` as the platform's maths library
//! computes them: the file is recorded on Linux with glibc, the platform CI runs on.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;

use chanlab_sim::bundled;
use chanlab_sim::calibrate::{Options, calibrate};
use chanlab_sim::files::Format;
use chanlab_sim::model::{
    CompiledSpecs, Kpi, Outcome, Schedule, simulate_replication, simulate_schedule,
};
use chanlab_sim::scenario::{self, Scenario};
use chanlab_sim::synthesize::synthesize;
use chanlab_sim::training;
use chanlab_sim::validate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Replications per case: enough for a standard error that means something, few enough to
/// keep the test at a few seconds.
const REPLICATIONS: u64 = 24;

/// The largest KPI move, in standard errors, a re-recording accepts as rounding.
const ROUNDING: f64 = 1e-6;

/// One digested case: a spec, arm or policy on its scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Case {
    /// Hex FNV-1a of the `Debug` text of every outcome, replication order (`Debug` prints
    /// each `f64` in its shortest round-trip form, so equal text is equal bits).
    digest: String,
    /// Per KPI: mean and standard error of the mean over the replications.
    kpis: BTreeMap<String, [f64; 2]>,
}

type Golden = BTreeMap<String, Case>;

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden.json")
}

fn fnv1a(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn digest_of<T: Debug>(items: &[T]) -> String {
    fnv1a(&format!("{items:?}"))
}

fn case(outcomes: &[Outcome]) -> Case {
    let n = outcomes.len() as f64;
    let kpis = Kpi::ALL
        .iter()
        .map(|&k| {
            let mean = outcomes.iter().map(|o| o.get(k)).sum::<f64>() / n;
            let var = outcomes
                .iter()
                .map(|o| (o.get(k) - mean).powi(2))
                .sum::<f64>()
                / (n - 1.0);
            (k.name().to_owned(), [mean, (var / n).sqrt()])
        })
        .collect();
    Case {
        digest: digest_of(outcomes),
        kpis,
    }
}

fn bundled_scenario(name: &str) -> Scenario {
    let text = bundled::find_scenario(name).expect("bundled").text;
    scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned())).expect("valid")
}

/// Every spec of `scenario`, replications 0..REPLICATIONS, one case per spec.
fn scenario_cases(prefix: &str, scenario: &Scenario, out: &mut Golden) {
    let specs = CompiledSpecs::new(scenario);
    let per_rep: Vec<Vec<Outcome>> = (0..REPLICATIONS)
        .into_par_iter()
        .map(|r| simulate_replication(scenario, &specs, r))
        .collect();
    for (s, spec) in scenario.specs().iter().enumerate() {
        let outcomes: Vec<Outcome> = per_rep.iter().map(|o| o[s].clone()).collect();
        out.insert(format!("{prefix} / {}", spec.name), case(&outcomes));
    }
}

fn compute() -> Golden {
    let mut out = Golden::new();
    for b in bundled::scenarios() {
        scenario_cases(
            &format!("scenario {}", b.name),
            &bundled_scenario(b.name),
            &mut out,
        );
    }
    // Exercises: the first fixed policy for two rounds, then the last for the rest, so the
    // schedule's change of plan (new bonus windows) is covered.
    for e in training::bundled() {
        let policies = e.fixed_policies();
        let (first, last) = (&policies[0], &policies[policies.len() - 1]);
        let rules: Vec<_> = (0..e.file.rounds)
            .map(|k| e.rules(if k < 2 { first } else { last }).expect("rules"))
            .collect();
        let schedule = Schedule::new(&rules, e.file.round_months as usize);
        let outcomes: Vec<Outcome> = (0..REPLICATIONS)
            .into_par_iter()
            .map(|r| simulate_schedule(e.scenario(), &schedule, r))
            .collect();
        out.insert(format!("exercise {}", e.file.id), case(&outcomes));
    }
    for x in validate::bundled() {
        for arm in &x.arms {
            let scenario = arm.scenario();
            let specs = CompiledSpecs::new(scenario);
            let outcomes: Vec<Outcome> = (0..REPLICATIONS)
                .into_par_iter()
                .map(|r| simulate_replication(scenario, &specs, r).remove(0))
                .collect();
            out.insert(
                format!("experiment {} / {}", x.file.id, arm.name),
                case(&outcomes),
            );
        }
    }
    // Synthesized records go through the observer; calibrating them runs the simulated
    // moments, and the calibrated scenario draws its parameters per replication.
    let records = synthesize(&bundled_scenario("mid-size"), 24, 7).expect("records");
    out.insert(
        "records mid-size 24 months".into(),
        Case {
            digest: digest_of(std::slice::from_ref(&records)),
            kpis: BTreeMap::new(),
        },
    );
    let calibration = calibrate(records.records(), &Options::default()).expect("calibrates");
    out.insert(
        "calibration mid-size 24 months".into(),
        Case {
            digest: digest_of(std::slice::from_ref(&calibration.fit)),
            kpis: BTreeMap::new(),
        },
    );
    scenario_cases(
        "calibrated mid-size",
        &calibration.calibrated.scenario,
        &mut out,
    );
    out
}

/// The KPI moves between `old` and `new` in units of the old standard error, largest first.
fn moves(old: &Golden, new: &Golden) -> Vec<(f64, String)> {
    let mut moves = Vec::new();
    for (name, case) in new {
        let Some(before) = old.get(name) else {
            continue;
        };
        for (kpi, [mean, _]) in &case.kpis {
            let Some([old_mean, se]) = before.kpis.get(kpi) else {
                continue;
            };
            let delta = (mean - old_mean).abs();
            let sigmas = if delta == 0.0 {
                0.0
            } else if *se > 0.0 {
                delta / se
            } else {
                f64::INFINITY
            };
            moves.push((
                sigmas,
                format!("{name} {kpi}: {old_mean} → {mean} ({sigmas:.1e} SE)"),
            ));
        }
    }
    moves.sort_by(|a, b| b.0.total_cmp(&a.0));
    moves
}

#[test]
fn every_bundled_case_reproduces_its_recorded_digest() {
    let new = compute();
    let path = golden_path();
    let old: Option<Golden> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let mode = std::env::var("CHANLAB_GOLDEN").unwrap_or_default();
    if mode == "record-any" && old.is_none() {
        return record(&path, &new, "");
    }
    let old = old.expect("sim/tests/golden.json parses (record-any writes a new one)");
    let moved = moves(&old, &new);
    let report = moved
        .iter()
        .take(12)
        .map(|m| m.1.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if mode == "record" || mode == "record-any" {
        let worst = moved.first().map_or(0.0, |m| m.0);
        // The digest-only cases (records, a fit report) move with any rounding change; what
        // they summarise reaches the calibrated scenario's KPIs, which the threshold covers.
        let same_cases = old.keys().eq(new.keys());
        assert!(
            mode == "record-any" || (worst <= ROUNDING && same_cases),
            "not a rounding change (largest KPI move {worst:.2e} SE, same cases: {same_cases}): \
             review it as a change of the model and record with CHANLAB_GOLDEN=record-any\n\
             {report}"
        );
        return record(&path, &new, &report);
    }
    let changed: Vec<&String> = new
        .iter()
        .filter(|(name, case)| old.get(*name).map(|c| &c.digest) != Some(&case.digest))
        .map(|(name, _)| name)
        .collect();
    let gone: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "{} of {} cases changed ({changed:?}), {} gone ({gone:?}). If the change is meant to \
         move numbers, re-record in its own commit with CHANLAB_GOLDEN=record and quote the \
         moves; largest KPI moves:\n{report}",
        changed.len(),
        new.len(),
        gone.len()
    );
}

/// Writes `new` as the golden file and prints the moves, the evidence the re-recording
/// commit quotes.
fn record(path: &std::path::Path, new: &Golden, report: &str) {
    let text = serde_json::to_string_pretty(new).expect("serializes") + "\n";
    std::fs::write(path, text).expect("writes the golden file");
    #[allow(clippy::print_stdout)]
    {
        println!("recorded {} cases; largest moves:\n{report}", new.len());
    }
}

#[test]
fn the_digest_sees_a_change_in_the_last_bit() {
    let scenario = bundled_scenario("mid-size");
    let specs = CompiledSpecs::new(&scenario);
    let outcome = simulate_replication(&scenario, &specs, 0).remove(0);
    let mut nudged = outcome.clone();
    let last = nudged.monthly_sell_in.len() - 1;
    nudged.monthly_sell_in[last] = f64::from_bits(nudged.monthly_sell_in[last].to_bits() + 1);
    assert_ne!(
        digest_of(std::slice::from_ref(&outcome)),
        digest_of(std::slice::from_ref(&nudged))
    );
    let mut seat = outcome.clone();
    seat.detail.seats[0].post_goal_revenue += 1e-9;
    assert_ne!(
        digest_of(std::slice::from_ref(&outcome)),
        digest_of(std::slice::from_ref(&seat))
    );
}
