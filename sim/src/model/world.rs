//! The world of one replication: the channel's people and the market, drawn once and shared
//! by every spec compared in that replication (common random numbers).

use chanlab_shared::{LifecycleStage, Tier};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::params::Behaviour;
use crate::scenario::Scenario;
use crate::seed::ReplicationRng;

/// Standard deviation of the log noise in "last year's actual" that growth goals start from
/// (sim/MODEL.md §2.1).
pub(super) const BASELINE_NOISE_SD: f64 = 0.08;
/// Spread of partners' opening engagement around `initial_engagement`, and its clamp
/// (sim/MODEL.md §2.1): no partner opens fully disengaged.
pub(super) const INITIAL_ENGAGEMENT_SD: f64 = 0.15;
pub(super) const INITIAL_ENGAGEMENT_RANGE: [f64; 2] = [0.05, 1.0];
/// Opening tenure is exponential with mean 12 / annual attrition, the attrition floored here
/// so a channel that never loses reps still has finite tenures, and capped (sim/MODEL.md §2.1).
pub(super) const MIN_ATTRITION_FOR_TENURE: f64 = 0.01;
pub(super) const MAX_TENURE_MONTHS: f64 = 240.0;

/// A regional manager.
#[derive(Debug, Clone)]
pub(crate) struct RegionDraw {
    /// How strongly they back the channel manager's process, 0..1.
    pub(crate) backing: f64,
    /// The backing the scenario states, before the draw's spread.
    pub(crate) stated_backing: f64,
}

/// A rep's seat at the start.
#[derive(Debug, Clone)]
pub(crate) struct RepDraw {
    pub(crate) region: u32,
    /// Multiplier on selling attention (log-normal around 1).
    pub(crate) skill: f64,
    /// Months in the job.
    pub(crate) tenure: f64,
    /// The rep's multiplicative error about their own territory.
    pub(crate) knowledge: f64,
    /// The manager's multiplicative error estimating the territory's potential.
    pub(crate) estimate: f64,
    /// Noise in last year's actual that flat-growth style goals start from.
    pub(crate) baseline_noise: f64,
    /// The rep's partners are `partners[first..end]`.
    pub(crate) first: usize,
    pub(crate) end: usize,
}

/// A partner (or prospect) slot at the start.
#[derive(Debug, Clone)]
pub(crate) struct PartnerDraw {
    pub(crate) tier: Tier,
    /// Monthly sell-through at full engagement and normal attention, major units.
    pub(crate) potential: f64,
    pub(crate) engagement: f64,
    pub(crate) stage: LifecycleStage,
    /// 0..1: how readily the partner loads stock to reach a rebate step.
    pub(crate) responsiveness: f64,
    /// Sell-through pulled in before the start and still owed.
    pub(crate) owed: f64,
    /// Whether what it owes at the start comes from the warm-up (a generated partner, so
    /// each spec's own period-end timing sets it, sim/MODEL.md §9.2) rather than from `owed`
    /// (a partner the file lists, whose `owed` a scenario from records sets).
    pub(crate) warm_up: bool,
}

/// Everything drawn once per replication.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) regions: Vec<RegionDraw>,
    pub(crate) reps: Vec<RepDraw>,
    pub(crate) partners: Vec<PartnerDraw>,
    /// Monthly market multiplier, mean 1.
    pub(crate) market: Vec<f64>,
    /// Months from the scenario's period anchor to its first month (periods start where
    /// `(t + months_from_anchor) mod P = 0`).
    pub(crate) months_from_anchor: i64,
}

/// What one replication's parameter draw changes in its world (a calibrated scenario's
/// parameter uncertainty, sim/MODEL.md §12): the behaviour in force, each region's stated
/// backing and each explicit partner's potential.
#[derive(Debug, Clone)]
pub(crate) struct Draw<'a> {
    pub(crate) behaviour: &'a Behaviour,
    /// Per region, the stated backing (the scenario's unless drawn).
    pub(crate) backing: &'a [f64],
    /// Per explicit partner, a multiplier on its potential (1 unless drawn).
    pub(crate) potential_factor: &'a [f64],
}

impl World {
    /// Draws the world from the replication's generator. The number of draws depends only
    /// on the scenario, never on the draws themselves.
    pub(crate) fn draw(scenario: &Scenario, draw: &Draw<'_>, rng: &mut ReplicationRng) -> World {
        let file = scenario.file();
        let b = draw.behaviour;
        let regions: Vec<RegionDraw> = draw
            .backing
            .iter()
            .map(|&stated| RegionDraw {
                backing: (stated + b.backing_spread * normal(rng)).clamp(0.0, 1.0),
                stated_backing: stated,
            })
            .collect();

        // Partner slots grouped by region, then dealt round-robin to the region's reps.
        let mut by_rep: Vec<Vec<PartnerDraw>> = Vec::new();
        let mut reps = Vec::new();
        let mean_tenure = 12.0 / b.annual_attrition.max(MIN_ATTRITION_FOR_TENURE);
        for (region_index, region) in file.channel.regions.iter().enumerate() {
            let first_rep = reps.len();
            for _ in 0..region.reps {
                let z_skill = normal(rng);
                let u_tenure: f64 = rng.random();
                let z_know: f64 = rng.sample(StandardNormal);
                let z_est: f64 = rng.sample(StandardNormal);
                let z_base: f64 = rng.sample(StandardNormal);
                reps.push(RepDraw {
                    region: region_index as u32,
                    skill: lognormal_unit_mean(b.skill_spread, z_skill),
                    tenure: (-(1.0 - u_tenure).ln() * mean_tenure).min(MAX_TENURE_MONTHS),
                    knowledge: lognormal_unit_mean(b.rep_knowledge_error, z_know),
                    estimate: lognormal_unit_mean(b.estimate_error, z_est),
                    baseline_noise: lognormal_unit_mean(BASELINE_NOISE_SD, z_base),
                    first: 0,
                    end: 0,
                });
                by_rep.push(Vec::new());
            }
            let n_reps = region.reps as usize;
            if n_reps == 0 {
                continue;
            }
            let mut k = 0usize;
            for tier in Tier::ALL {
                for _ in 0..region.partners.get(tier) {
                    let p = draw_partner(scenario, b, rng, tier, LifecycleStage::Active, None);
                    by_rep[first_rep + k % n_reps].push(p);
                    k += 1;
                }
            }
            for (index, (file_index, explicit)) in file
                .channel
                .partners
                .iter()
                .enumerate()
                .filter(|(_, p)| p.region == region.name.as_str())
                .enumerate()
            {
                let mut p = draw_partner(
                    scenario,
                    b,
                    rng,
                    explicit.tier,
                    explicit.stage,
                    explicit.engagement.map(|e| e.get()),
                );
                p.potential = explicit.potential * draw.potential_factor[file_index];
                p.owed = explicit.owed * draw.potential_factor[file_index];
                p.warm_up = false;
                let owner = explicit.owner.map_or(index % n_reps, |o| o as usize);
                by_rep[first_rep + owner].push(p);
            }
            for j in 0..region.prospects {
                let u: f64 = rng.random();
                let tier = recruit_tier(scenario, u);
                let p = draw_partner(scenario, b, rng, tier, LifecycleStage::Prospect, Some(0.0));
                by_rep[first_rep + j as usize % n_reps].push(p);
            }
        }
        let mut partners = Vec::new();
        for (rep, slots) in reps.iter_mut().zip(by_rep) {
            rep.first = partners.len();
            partners.extend(slots);
            rep.end = partners.len();
        }
        let market = (0..file.horizon_months)
            .map(|_| lognormal_unit_mean(b.market_volatility, rng.sample(StandardNormal)))
            .collect();
        World {
            regions,
            reps,
            partners,
            market,
            months_from_anchor: file
                .period_anchor
                .map_or(0, |anchor| i64::from(anchor.months_until(file.start))),
        }
    }
}

fn draw_partner(
    scenario: &Scenario,
    b: &Behaviour,
    rng: &mut ReplicationRng,
    tier: Tier,
    stage: LifecycleStage,
    engagement: Option<f64>,
) -> PartnerDraw {
    let plan = scenario.file().channel.tiers.get(tier);
    let z_pot: f64 = rng.sample(StandardNormal);
    let z_eng: f64 = rng.sample(StandardNormal);
    let u_resp: f64 = rng.random();
    PartnerDraw {
        tier,
        potential: plan.potential * lognormal_unit_mean(plan.potential_spread, z_pot),
        engagement: engagement.unwrap_or_else(|| {
            let [lo, hi] = INITIAL_ENGAGEMENT_RANGE;
            (b.initial_engagement + INITIAL_ENGAGEMENT_SD * z_eng).clamp(lo, hi)
        }),
        stage,
        responsiveness: u_resp,
        owed: 0.0,
        warm_up: true,
    }
}

fn recruit_tier(scenario: &Scenario, u: f64) -> Tier {
    let tiers = &scenario.file().channel.tiers;
    let a = tiers.a.share_of_recruits;
    let b = tiers.b.share_of_recruits;
    if u < a {
        Tier::A
    } else if u < a + b {
        Tier::B
    } else {
        Tier::C
    }
}

fn normal(rng: &mut ReplicationRng) -> f64 {
    rng.sample(StandardNormal)
}

/// exp(σz − σ²/2): a log-normal multiplier with mean 1.
pub(crate) fn lognormal_unit_mean(sigma: f64, z: f64) -> f64 {
    (sigma * z - 0.5 * sigma * sigma).exp()
}
