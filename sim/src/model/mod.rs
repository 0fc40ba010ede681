//! The behavioural model of a sales channel (no I/O, no clock, no global RNG).
//!
//! [`simulate_replication`] draws one replication's world (reps, partners, prospects,
//! regional managers' backing, the market path) and then runs every spec on a copy of it,
//! each starting from the same point of the random stream: common random numbers, so that
//! a difference between two specs is the specs' doing and not the luck of the draw.

mod outcome;
mod periods;
mod plan;
mod rep;
mod run;
mod state;
mod world;

pub use outcome::{
    ATTAINMENT_BINS, Detail, Kpi, MonthDetail, Outcome, RegionOutcome, SeatOutcome, Unit,
};

use crate::scenario::Scenario;
use crate::seed::replication_rng;

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

/// Simulates replication `replication` of `scenario` for every spec, in spec order.
///
/// The result depends only on the scenario, its seed and `replication`.
pub fn simulate_replication(
    scenario: &Scenario,
    specs: &CompiledSpecs,
    replication: u64,
) -> Vec<Outcome> {
    let mut rng = replication_rng(scenario.file().seed, replication);
    let world = world::World::draw(scenario, &mut rng);
    specs
        .plans
        .iter()
        .map(|plan| {
            let mut shocks = rng.clone();
            run::simulate(&world, &[plan], usize::MAX, scenario.behaviour(), &mut shocks)
        })
        .collect()
}

#[cfg(test)]
mod tests;
