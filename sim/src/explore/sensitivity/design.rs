//! The Morris design: trajectories through a grid on the plausible ranges, each moving one
//! parameter at a time (sim/MODEL.md §13.3).

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::params::ParameterInfo;
use crate::seed::replication_rng;

/// Mixed into the scenario's seed for the design's own stream, so the design never shares
/// a stream with any replication's world, shocks or parameter draws.
pub const DESIGN_STREAM: u64 = 0x5E45_1717_D3A1_6E55;

/// One varied parameter and the range it is varied over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariedParameter {
    /// The parameter's name in sim/MODEL.md §7.1 (`commitment_midpoint`, `own_touches.B`).
    pub name: String,
    /// Lowest value of its plausible range: grid level 0.
    pub min: f64,
    /// Highest value of its plausible range: the top grid level.
    pub max: f64,
    /// Its value in the scenario (shown beside the effects; the design does not use it).
    pub scenario_value: f64,
}

impl VariedParameter {
    /// The parameter's plausible range, with its value in `scenario`.
    pub fn of(p: &ParameterInfo, scenario_value: f64) -> Self {
        Self {
            name: p.name().to_owned(),
            min: p.plausible().min,
            max: p.plausible().max,
            scenario_value,
        }
    }

    /// The value at grid level `level` of `levels`.
    pub fn value(&self, level: u32, levels: u32) -> f64 {
        let x = f64::from(level) / f64::from(levels - 1);
        if level + 1 == levels {
            // Exactly the top of the range, not min + (max − min)·1 with its rounding.
            self.max
        } else {
            self.min + x * (self.max - self.min)
        }
    }
}

/// One Morris trajectory: a base point on the grid and the order in which each parameter
/// moves once, by half the grid (Δ = p / (2(p − 1)) of the range), up if it can, else down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trajectory {
    /// Grid level (0 ..= levels − 1) of each varied parameter at the first point.
    pub base: Vec<u32>,
    /// The parameter (index into the varied list) that moves at step 1, 2, …
    pub order: Vec<usize>,
    /// Trajectories drawn and thrown away before this one because one of their points broke
    /// a cross-field rule of the behaviour parameters (`recovered_above ≥ at_risk_below`).
    pub redrawn: u32,
}

impl Trajectory {
    /// Draws a trajectory for `k` parameters on `levels` levels from `rng`: uniform base
    /// levels and a uniformly random order.
    pub(crate) fn draw(rng: &mut crate::seed::ReplicationRng, k: usize, levels: u32) -> Self {
        let base = (0..k).map(|_| rng.random_range(0..levels)).collect();
        let mut order: Vec<usize> = (0..k).collect();
        // Fisher–Yates, written out so the order depends only on the generator's stream.
        for i in (1..k).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        Self {
            base,
            order,
            redrawn: 0,
        }
    }

    /// The grid levels at each of the k + 1 points.
    pub fn points(&self, levels: u32) -> Vec<Vec<u32>> {
        let jump = levels / 2;
        let mut at = self.base.clone();
        let mut out = Vec::with_capacity(self.order.len() + 1);
        out.push(at.clone());
        for &i in &self.order {
            at[i] = if at[i] + jump < levels {
                at[i] + jump
            } else {
                at[i] - jump
            };
            out.push(at.clone());
        }
        out
    }

    /// Per step (1 ..= k, at index step − 1): +1 if its parameter moves up, −1 if down.
    pub fn directions(&self, levels: u32) -> Vec<f64> {
        let points = self.points(levels);
        self.order
            .iter()
            .enumerate()
            .map(|(s, &i)| {
                if points[s + 1][i] > points[s][i] {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    }
}

/// The step Δ on the unit scale: half the grid, p / (2(p − 1)).
pub fn delta(levels: u32) -> f64 {
    f64::from(levels / 2) / f64::from(levels - 1)
}

/// The generator of trajectory `index`: its own stream of the design, so adding
/// trajectories (`--samples`) keeps the earlier ones.
pub(crate) fn trajectory_rng(seed: u64, index: u64) -> crate::seed::ReplicationRng {
    replication_rng(seed ^ DESIGN_STREAM, index)
}
