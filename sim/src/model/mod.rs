//! The behavioural model of a sales channel (no I/O, no clock, no global RNG).
//!
//! [`simulate_replication`] draws one replication's world (reps, partners, prospects,
//! regional managers' backing, the market path) and then runs every spec on a copy of it,
//! each starting from the same point of the random stream: common random numbers, so that
//! a difference between two specs is the specs' doing and not the luck of the draw.

mod calendar;
#[cfg(test)]
mod documented;
mod effort;
#[cfg(test)]
mod fixtures;
mod ledger;
mod normal;
mod observe;
mod outcome;
mod partner;
mod periods;
mod plan;
mod rep;
mod run;
mod seat;
mod state;
mod timing;
mod world;

pub use observe::{Observer, PartnerMonth, PeriodSettled, SeatEvent, SeatStart, SlotStart};
pub use outcome::{
    ATTAINMENT_BINS, Detail, Kpi, MonthDetail, Outcome, RegionOutcome, SeatOutcome, Unit,
};

use crate::scenario::Scenario;
use crate::seed::replication_rng;
use crate::uncertainty::Drawn;
pub(crate) use plan::touch_weight;
pub(crate) use run::floor_at_margin;

/// The specs of a scenario compiled for simulation; build once per run.
#[derive(Debug, Clone)]
pub struct CompiledSpecs {
    plans: Vec<plan::Plan>,
}

impl CompiledSpecs {
    /// Compiles every spec of `scenario`.
    pub fn new(scenario: &Scenario) -> Self {
        Self {
            plans: scenario.specs().iter().map(plan::Plan::compile).collect(),
        }
    }
}

/// What a spec asks of reps, as the model reads it: the calibration inverts these
/// (sim/MODEL.md §3.3, §3.4, §5.6, §12).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpecDemands {
    /// Compliance with mandated activities at full backing, before the clamp to 1 (§3.3).
    pub compliance_drive: f64,
    /// Mandated weighted touches a month per tier A, B, C (§5.6).
    pub mandated_touches: [f64; 3],
    /// Share of a rep's time on recruiting when the seat has prospects (§3.4).
    pub recruiting_share: f64,
    /// Goal period, months.
    pub period_months: u32,
    /// Partner target period, months.
    pub target_period_months: u32,
    /// Whether the spec pays partners rebates for reaching sell-in targets.
    pub has_rebates: bool,
}

impl SpecDemands {
    /// The demands of `rules` under behaviour `b`.
    pub fn of(rules: &chanlab_shared::ProcessRules, b: &crate::params::Behaviour) -> Self {
        let plan = plan::Plan::compile(rules);
        let measured = (plan.goal_weights.recruiting + plan.assessed_recruiting).min(1.0);
        Self {
            compliance_drive: plan.compliance_drive(b),
            mandated_touches: plan.mandated_touches.0,
            recruiting_share: b.recruiting_share
                + (b.recruiting_share_if_measured - b.recruiting_share) * measured,
            period_months: plan.period_months.max(1),
            target_period_months: plan.target_period_months.max(1),
            has_rebates: !plan.rebates.is_empty(),
        }
    }
}

/// Simulates replication `replication` of `scenario` for every spec, in spec order.
///
/// The result depends only on the scenario, its seed and `replication`.
pub fn simulate_replication(
    scenario: &Scenario,
    specs: &CompiledSpecs,
    replication: u64,
) -> Vec<Outcome> {
    replicate(scenario, specs, replication, true)
}

/// [`simulate_replication`] with a calibrated scenario's parameters at their estimates:
/// the same worlds and shocks without the parameter draw.
pub fn simulate_replication_at_estimates(
    scenario: &Scenario,
    specs: &CompiledSpecs,
    replication: u64,
) -> Vec<Outcome> {
    replicate(scenario, specs, replication, false)
}

fn replicate(
    scenario: &Scenario,
    specs: &CompiledSpecs,
    replication: u64,
    draw: bool,
) -> Vec<Outcome> {
    let drawn = parameters(scenario, replication, draw);
    let mut rng = replication_rng(scenario.file().seed, replication);
    let world = world::World::draw(scenario, &drawn.as_world_draw(), &mut rng);
    specs
        .plans
        .iter()
        .map(|plan| {
            let mut shocks = rng.clone();
            run::simulate(
                &world,
                &[plan],
                usize::MAX,
                &drawn.behaviour,
                &mut shocks,
                &mut (),
            )
        })
        .collect()
}

/// Simulates replication `replication` of spec `spec` (an index into the scenario's specs)
/// and tells `observer` what happens, month by month. With `draw_parameters` false a
/// calibrated scenario runs at its estimates (no parameter uncertainty); otherwise it sees
/// exactly the world, draw and shocks [`simulate_replication`] gives that spec.
pub fn simulate_observed<O: Observer>(
    scenario: &Scenario,
    specs: &CompiledSpecs,
    spec: usize,
    replication: u64,
    draw_parameters: bool,
    observer: &mut O,
) -> Outcome {
    let drawn = parameters(scenario, replication, draw_parameters);
    let mut rng = replication_rng(scenario.file().seed, replication);
    let world = world::World::draw(scenario, &drawn.as_world_draw(), &mut rng);
    run::simulate(
        &world,
        &[&specs.plans[spec]],
        usize::MAX,
        &drawn.behaviour,
        &mut rng,
        observer,
    )
}

/// Replication `replication`'s parameters: the scenario's, or its calibration's draw.
fn parameters(scenario: &Scenario, replication: u64, draw: bool) -> Drawn {
    let file = scenario.file();
    let regions: Vec<(&str, f64)> = file
        .channel
        .regions
        .iter()
        .map(|r| (r.name.as_str(), r.backing.get()))
        .collect();
    let partners = file.channel.partners.len();
    match (&file.uncertainty, draw) {
        (Some(u), true) => u.draw(
            file.seed,
            replication,
            scenario.behaviour(),
            &regions,
            partners,
        ),
        _ => Drawn {
            behaviour: scenario.behaviour().clone(),
            backing: regions.iter().map(|r| r.1).collect(),
            potential_factor: vec![1.0; partners],
        },
    }
}

impl Drawn {
    fn as_world_draw(&self) -> world::Draw<'_> {
        world::Draw {
            behaviour: &self.behaviour,
            backing: &self.backing,
            potential_factor: &self.potential_factor,
        }
    }
}

/// Process specs in force one after another, each for a round of `round_months` months (a
/// training session: the trainee re-decides every round); the last stays in force after its
/// round.
#[derive(Debug, Clone)]
pub struct Schedule {
    plans: Vec<plan::Plan>,
    /// Per round, its plan in `plans`: a round whose rules equal the last round's shares its
    /// plan, so bonus windows run on across it; a changed plan starts new windows.
    rounds: Vec<usize>,
    round_months: usize,
}

impl Schedule {
    /// A schedule of `rules`, one per round.
    ///
    /// # Panics
    /// If `rules` is empty or `round_months` is 0: a schedule needs a plan and a round.
    pub fn new(rules: &[chanlab_shared::ProcessRules], round_months: usize) -> Self {
        assert!(
            !rules.is_empty() && round_months > 0,
            "a schedule needs a plan and a round"
        );
        let mut plans = Vec::new();
        let mut rounds = Vec::with_capacity(rules.len());
        for (k, r) in rules.iter().enumerate() {
            if k == 0 || *r != rules[k - 1] {
                plans.push(plan::Plan::compile(r));
            }
            rounds.push(plans.len() - 1);
        }
        Self {
            plans,
            rounds,
            round_months,
        }
    }
}

/// Simulates replication `replication` of `scenario`'s world under `schedule` (the scenario's
/// own specs are ignored). Replication *i* sees the same world and shocks as replication *i*
/// of any other schedule or spec on the same scenario and seed, so policies compare paired.
pub fn simulate_schedule(scenario: &Scenario, schedule: &Schedule, replication: u64) -> Outcome {
    let drawn = parameters(scenario, replication, true);
    let mut rng = replication_rng(scenario.file().seed, replication);
    let world = world::World::draw(scenario, &drawn.as_world_draw(), &mut rng);
    let plans: Vec<&plan::Plan> = schedule
        .rounds
        .iter()
        .map(|&i| &schedule.plans[i])
        .collect();
    run::simulate(
        &world,
        &plans,
        schedule.round_months,
        &drawn.behaviour,
        &mut rng,
        &mut (),
    )
}

#[cfg(test)]
mod tests;
