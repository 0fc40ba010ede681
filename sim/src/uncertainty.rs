//! Parameter uncertainty of a calibrated scenario: second-order Monte Carlo.
//!
//! A scenario built from records knows its behaviour parameters, regional backing and
//! partner potentials only up to the calibration's intervals (sim/MODEL.md §12). Each
//! replication therefore draws them once from the calibration's distribution, before its
//! world, from a stream of its own (`replication_rng(seed ^ PARAMETER_STREAM, i)`): every
//! spec of that replication runs with the same draw, so comparisons stay paired, and the
//! world and shock streams are the same as without uncertainty, so a scenario without an
//! `[uncertainty]` table gives exactly the numbers it always gave.

use chanlab_shared::ValidationError;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::params::Behaviour;
use crate::seed::replication_rng;

/// Mixed into the run's seed for the parameter-draw stream, so it never coincides with the
/// world-and-shocks stream of any replication.
pub const PARAMETER_STREAM: u64 = 0x9A7A_3E7E_5D12_C0DE;

/// What the records leave uncertain about a scenario, drawn anew in every replication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    /// Parameters drawn per replication, independently.
    #[serde(default)]
    pub parameters: Vec<ParameterDraw>,
    /// Per explicit partner (in `channel.partners` order, one each), the standard deviation
    /// of the log of its potential, 0 to 3; empty when potentials are taken as known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub potential_log_sd: Vec<f64>,
}

/// One parameter's distribution: normal on a scale that keeps it in range, centred on the
/// estimate, cut to `[min, max]`, with `min ≤ estimate ≤ max` inside the parameter's valid
/// range (a backing's is 0..1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ParameterDraw {
    /// A behaviour parameter (`demand_noise`, `touches_for_half_engagement.A`) or a region's
    /// backing (`backing.<region name>`).
    pub parameter: String,
    /// The estimate (the value when the draw is 0).
    pub estimate: f64,
    /// Standard deviation on `scale`.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub sd: f64,
    /// The scale the draw is normal on.
    pub scale: Scale,
    /// Smallest value drawn.
    pub min: f64,
    /// Largest value drawn.
    pub max: f64,
}

/// The scale a parameter's draw is normal on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Log: positive parameters (noise, months, multipliers).
    Log,
    /// Logit: probabilities and shares.
    Logit,
    /// The parameter itself.
    Linear,
}

impl Scale {
    /// `x` on this scale.
    pub fn to_scale(self, x: f64) -> f64 {
        match self {
            Scale::Log => x.max(1e-12).ln(),
            Scale::Logit => {
                let p = x.clamp(1e-9, 1.0 - 1e-9);
                (p / (1.0 - p)).ln()
            }
            Scale::Linear => x,
        }
    }

    /// Back from this scale.
    pub fn from_scale(self, y: f64) -> f64 {
        match self {
            Scale::Log => y.exp(),
            Scale::Logit => 1.0 / (1.0 + (-y).exp()),
            Scale::Linear => y,
        }
    }
}

impl ParameterDraw {
    /// The value for a standard normal draw `z`.
    pub fn value(&self, z: f64) -> f64 {
        let y = self.scale.to_scale(self.estimate) + self.sd * z;
        self.scale.from_scale(y).clamp(self.min, self.max)
    }
}

/// One replication's draw: the behaviour, each region's stated backing and each explicit
/// partner's potential multiplier.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    /// The behaviour in force.
    pub behaviour: Behaviour,
    /// Per region, its stated backing.
    pub backing: Vec<f64>,
    /// Per explicit partner, the multiplier on its potential.
    pub potential_factor: Vec<f64>,
}

impl Uncertainty {
    /// Checks names, spreads and ranges against the scenario's behaviour, regions and
    /// partners; the error names the field (`uncertainty.parameters[2].parameter`).
    pub fn check(
        &self,
        behaviour: &Behaviour,
        regions: &[&str],
        partners: usize,
    ) -> Result<(), ValidationError> {
        for (i, p) in self.parameters.iter().enumerate() {
            let at = |field: &str, message: String| {
                ValidationError::new(field, message)
                    .at_index(i)
                    .within("parameters")
                    .within("uncertainty")
            };
            let known = match p.parameter.strip_prefix("backing.") {
                Some(region) => regions.contains(&region),
                None => scalar(&mut behaviour.clone(), &p.parameter).is_some(),
            };
            if !known {
                return Err(at(
                    "parameter",
                    format!(
                        "{:?} is neither a behaviour parameter (sim/MODEL.md §7.1) nor backing.<region name>",
                        p.parameter
                    ),
                ));
            }
            if !(p.sd.is_finite() && p.sd >= 0.0) {
                return Err(at(
                    "sd",
                    format!("expected a finite sd ≥ 0, found {}", p.sd),
                ));
            }
            if !(p.min.is_finite()
                && p.max.is_finite()
                && p.min <= p.estimate
                && p.estimate <= p.max)
            {
                return Err(at(
                    "estimate",
                    format!(
                        "expected min ≤ estimate ≤ max, found {} ≤ {} ≤ {}",
                        p.min, p.estimate, p.max
                    ),
                ));
            }
            let mut trial = behaviour.clone();
            for v in [p.min, p.max] {
                if let Some(slot) = scalar(&mut trial, &p.parameter) {
                    *slot = v;
                    trial.validate().map_err(|e| {
                        at(
                            "max",
                            format!("the range leaves the parameter's bounds: {e}"),
                        )
                    })?;
                } else if !(0.0..=1.0).contains(&v) {
                    return Err(at("max", "a backing lies in 0..1".to_owned()));
                }
            }
        }
        if !self.potential_log_sd.is_empty() && self.potential_log_sd.len() != partners {
            return Err(ValidationError::new(
                "potential_log_sd",
                format!(
                    "expected one value per channel.partners entry ({partners}), found {}",
                    self.potential_log_sd.len()
                ),
            )
            .within("uncertainty"));
        }
        if let Some(i) = self
            .potential_log_sd
            .iter()
            .position(|s| !(s.is_finite() && (0.0..=3.0).contains(s)))
        {
            return Err(ValidationError::new(
                "",
                format!("expected 0 to 3, found {}", self.potential_log_sd[i]),
            )
            .at_index(i)
            .within("potential_log_sd")
            .within("uncertainty"));
        }
        Ok(())
    }

    /// Replication `replication`'s draw for a run seeded `seed`. The number of random
    /// numbers taken depends only on the uncertainty's shape.
    pub fn draw(
        &self,
        seed: u64,
        replication: u64,
        behaviour: &Behaviour,
        regions: &[(&str, f64)],
        partners: usize,
    ) -> Drawn {
        let mut rng = replication_rng(seed ^ PARAMETER_STREAM, replication);
        let mut drawn = Drawn {
            behaviour: behaviour.clone(),
            backing: regions.iter().map(|r| r.1).collect(),
            potential_factor: vec![1.0; partners],
        };
        for p in &self.parameters {
            let z: f64 = StandardNormal.sample(&mut rng);
            let v = p.value(z);
            match p.parameter.strip_prefix("backing.") {
                Some(region) => {
                    if let Some(i) = regions.iter().position(|r| r.0 == region) {
                        drawn.backing[i] = v;
                    }
                }
                None => {
                    if let Some(slot) = scalar(&mut drawn.behaviour, &p.parameter) {
                        *slot = v;
                    }
                }
            }
        }
        for (factor, &sd) in drawn
            .potential_factor
            .iter_mut()
            .zip(&self.potential_log_sd)
        {
            let z: f64 = StandardNormal.sample(&mut rng);
            // Mean-one log-normal: the estimate is the expected potential.
            *factor = (sd * z - 0.5 * sd * sd).exp();
        }
        drawn
    }
}

/// The scalar behaviour parameter called `name` (a per-tier one as `name.A`, an element
/// of `effort_range` as `effort_range[0]`), for drawing and fitting parameters by name: an
/// entry of the parameter table, [`crate::params::parameters`].
pub fn scalar<'b>(b: &'b mut Behaviour, name: &str) -> Option<&'b mut f64> {
    crate::params::parameter(name).map(|p| p.value_mut(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(parameter: &str, estimate: f64, sd: f64, scale: Scale) -> ParameterDraw {
        ParameterDraw {
            parameter: parameter.to_owned(),
            estimate,
            sd,
            scale,
            min: 0.0,
            max: 1.0,
        }
    }

    #[test]
    fn every_scalar_parameter_of_the_documented_table_can_be_set_by_name() {
        let mut b = Behaviour::default();
        for p in crate::params::parameters() {
            let name = p.name();
            *scalar(&mut b, name).expect(name) = p.plausible().max;
            assert_eq!(
                p.value(&b),
                p.plausible().max,
                "{} not set by name",
                p.name()
            );
        }
        assert!(scalar(&mut b, "own_touches").is_none());
        assert!(scalar(&mut b, "own_touches.D").is_none());
    }

    #[test]
    fn a_zero_spread_draw_is_the_estimate_and_draws_repeat() {
        let u = Uncertainty {
            parameters: vec![
                draw("demand_noise", 0.3, 0.0, Scale::Log),
                draw("backing.North", 0.7, 0.4, Scale::Logit),
            ],
            potential_log_sd: vec![0.1, 0.0],
        };
        let b = Behaviour::default();
        let regions = [("North", 1.0), ("South", 0.5)];
        let a = u.draw(7, 3, &b, &regions, 2);
        assert_eq!(a.behaviour.demand_noise, 0.3);
        assert_ne!(a.backing[0], 1.0);
        assert_eq!(a.backing[1], 0.5);
        assert_eq!(a.potential_factor[1], 1.0);
        assert_ne!(a.potential_factor[0], 1.0);
        assert_eq!(a, u.draw(7, 3, &b, &regions, 2));
        assert_ne!(a, u.draw(7, 4, &b, &regions, 2));
    }

    #[test]
    fn draws_stay_in_their_range_and_centre_on_the_estimate() {
        let p = draw("churn_hazard_at_risk", 0.06, 0.5, Scale::Logit);
        let mut rng = replication_rng(1, 1);
        let values: Vec<f64> = (0..4000)
            .map(|_| p.value(StandardNormal.sample(&mut rng)))
            .collect();
        assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        assert!((median - 0.06).abs() < 0.005, "median {median}");
    }

    #[test]
    fn an_unknown_parameter_is_named() {
        let u = Uncertainty {
            parameters: vec![draw("demand_nosie", 0.3, 0.1, Scale::Log)],
            potential_log_sd: Vec::new(),
        };
        let e = u.check(&Behaviour::default(), &["North"], 0).unwrap_err();
        assert_eq!(e.field(), "uncertainty.parameters[0].parameter");
    }
}
