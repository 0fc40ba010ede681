//! A process spec compiled into the numbers the monthly step needs.
//!
//! Turning a [`ProcessRules`] into per-tier touch requirements, measurement weights and an
//! incentive schedule once per run keeps the inner loop free of lookups in lists.

use chanlab_shared::{
    ActivityKind, GoalStrategy, IncentivePlan, Metric, PeriodLength, ProcessRules, RevenueBasis,
    Tier,
};

/// How much a touch of each activity kind counts toward engagement, relative to a visit.
pub(crate) fn touch_weight(kind: ActivityKind) -> f64 {
    match kind {
        ActivityKind::Visit => 1.0,
        ActivityKind::Training => 1.5,
        ActivityKind::BusinessReview => 1.2,
        // Recruiting calls and negotiations are with prospects, not partners being served.
        ActivityKind::RecruitingCall | ActivityKind::Negotiation => 0.0,
    }
}

/// The goal the strategy sets and how attainment is measured.
#[derive(Debug, Clone)]
pub(crate) enum GoalRule {
    /// Baseline × (1 + growth)^(years since start + 1), fixed within each year.
    FlatGrowth { growth: f64 },
    /// Last goal moved toward last actual, then grown.
    Ratchet { growth: f64, up: f64, down: f64 },
    /// Share of the manager's estimate of potential.
    PotentialBased { share: f64 },
    /// Expected level × (1 + uplift).
    Stretch { uplift: f64 },
    /// Blend of the rep's (sandbagged) proposal and the manager's potential estimate.
    Participative { weight_on_proposal: f64, share: f64 },
    /// Flat growth with several goal levels.
    Tiered { growth: f64 },
    /// Activity targets only.
    ActivityBased {
        touches_per_period: f64,
        recruiting_per_period: f64,
    },
    /// Weighted revenue, activity and recruiting goals.
    Scorecard { growth: f64 },
}

/// A process spec in the form the simulation uses.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) goal: GoalRule,
    /// Goal levels as ratios of the 100% goal; `[1.0]` except for tiered thresholds.
    pub(crate) goal_levels: Vec<f64>,
    /// Goal period length in months.
    pub(crate) period_months: u32,
    /// Whether the revenue goal is on sell-in (else sell-through).
    pub(crate) goal_on_sell_in: bool,
    /// Weights of revenue, activities and recruiting in goal attainment (sum 1).
    pub(crate) goal_weights: [f64; 3],
    /// Weights of activities and recruiting in the assessment.
    pub(crate) assessed_activity: f64,
    pub(crate) assessed_recruiting: f64,
    /// Share of variable pay riding on the assessment.
    pub(crate) pay_weight: f64,
    /// Mandated touches per partner per month, weighted, by tier (A, B, C).
    pub(crate) mandated_touches: [f64; 3],
    /// Onboarding: months, trainings, visits per month.
    pub(crate) onboarding_months: u32,
    pub(crate) onboarding_trainings: f64,
    pub(crate) onboarding_visits: f64,
    /// Incentive plan.
    pub(crate) commission_on_sell_in: bool,
    pub(crate) commission_rate: f64,
    /// (from_attainment, multiplier), rising.
    pub(crate) accelerators: Vec<(f64, f64)>,
    pub(crate) cap: Option<f64>,
    /// (attainment, amount in major units, window months).
    pub(crate) bonuses: Vec<(f64, f64, u32)>,
    /// Partner program.
    pub(crate) partner_margin: f64,
    /// (attainment of sell-in target, rate), rising.
    pub(crate) rebates: Vec<(f64, f64)>,
    pub(crate) target_period_months: u32,
}

impl Plan {
    pub(crate) fn compile(rules: &ProcessRules) -> Plan {
        let period_months = months(rules.goal_setting.period);
        let goal_on_sell_in = rules.goal_setting.metric == Metric::SellIn;
        let mut mandated = [0.0; 3];
        for cadence in rules.cadences.cadences() {
            let slot = tier_index(cadence.tier);
            mandated[slot] += cadence.per_month() * touch_weight(cadence.activity);
        }
        let assessed = |pred: fn(Metric) -> bool| -> f64 {
            rules
                .assessment
                .key_links
                .weights()
                .iter()
                .filter(|w| pred(w.metric))
                .map(|w| w.weight.get())
                .sum()
        };
        let (goal, goal_levels, goal_weights) = match &rules.goal_setting.strategy {
            GoalStrategy::FlatGrowth { growth } => (
                GoalRule::FlatGrowth {
                    growth: growth.get(),
                },
                vec![1.0],
                revenue_only(),
            ),
            GoalStrategy::Ratchet {
                growth,
                up_weight,
                down_weight,
            } => (
                GoalRule::Ratchet {
                    growth: growth.get(),
                    up: up_weight.get(),
                    down: down_weight.get(),
                },
                vec![1.0],
                revenue_only(),
            ),
            GoalStrategy::PotentialBased { share_of_potential } => (
                GoalRule::PotentialBased {
                    share: share_of_potential.get(),
                },
                vec![1.0],
                revenue_only(),
            ),
            GoalStrategy::Stretch { uplift } => (
                GoalRule::Stretch {
                    uplift: uplift.get(),
                },
                vec![1.0],
                revenue_only(),
            ),
            GoalStrategy::Participative {
                weight_on_proposal,
                share_of_potential,
            } => (
                GoalRule::Participative {
                    weight_on_proposal: weight_on_proposal.get(),
                    share: share_of_potential.get(),
                },
                vec![1.0],
                revenue_only(),
            ),
            GoalStrategy::TieredThresholds { growth, levels } => (
                GoalRule::Tiered {
                    growth: growth.get(),
                },
                levels.levels().iter().map(|l| l.get()).collect(),
                revenue_only(),
            ),
            GoalStrategy::ActivityBased { targets } => {
                let mut touches = 0.0;
                let mut recruiting = 0.0;
                for t in targets.targets() {
                    let n = f64::from(t.per_period.get());
                    match t.activity {
                        ActivityKind::RecruitingCall | ActivityKind::Negotiation => recruiting += n,
                        kind => touches += n * touch_weight(kind),
                    }
                }
                let total = touches + recruiting;
                let weights = if total > 0.0 {
                    [0.0, touches / total, recruiting / total]
                } else {
                    [0.0, 1.0, 0.0]
                };
                (
                    GoalRule::ActivityBased {
                        touches_per_period: touches,
                        recruiting_per_period: recruiting,
                    },
                    vec![1.0],
                    weights,
                )
            }
            GoalStrategy::BalancedScorecard { growth, weights } => {
                let mut w = [0.0; 3];
                for mw in weights.weights() {
                    w[metric_group(mw.metric)] += mw.weight.get();
                }
                (
                    GoalRule::Scorecard {
                        growth: growth.get(),
                    },
                    vec![1.0],
                    w,
                )
            }
        };
        let incentive: &IncentivePlan = &rules.incentive;
        let onboarding = rules.onboarding;
        Plan {
            goal,
            goal_levels,
            period_months,
            goal_on_sell_in,
            goal_weights,
            assessed_activity: assessed(|m| metric_group(m) == 1),
            assessed_recruiting: assessed(|m| metric_group(m) == 2),
            pay_weight: rules.assessment.pay_weight.get(),
            mandated_touches: mandated,
            onboarding_months: onboarding.months.get(),
            onboarding_trainings: f64::from(onboarding.trainings),
            onboarding_visits: f64::from(onboarding.visits_per_month),
            commission_on_sell_in: incentive.basis() == RevenueBasis::SellIn,
            commission_rate: incentive.commission_rate().get(),
            accelerators: incentive
                .accelerators()
                .iter()
                .map(|a| (a.from_attainment.get(), a.multiplier.get()))
                .collect(),
            cap: incentive.cap().map(|c| c.get()),
            bonuses: incentive
                .threshold_bonuses()
                .iter()
                .map(|b| {
                    (
                        b.at_attainment.get(),
                        b.amount.to_major_f64(),
                        months(b.period),
                    )
                })
                .collect(),
            partner_margin: rules.partner_program.base_margin().get(),
            rebates: rules
                .partner_program
                .rebate_tiers()
                .iter()
                .map(|r| (r.at_attainment.get(), r.rate.get()))
                .collect(),
            target_period_months: months(rules.partner_program.target_period()),
        }
    }

    /// Commission multiplier at `attainment`: the highest accelerator reached, zero from the
    /// cap on.
    pub(crate) fn multiplier(&self, attainment: f64) -> f64 {
        if self.cap.is_some_and(|c| attainment >= c) {
            return 0.0;
        }
        self.accelerators
            .iter()
            .rev()
            .find(|(from, _)| attainment >= *from)
            .map_or(1.0, |(_, m)| *m)
    }

    /// Commission on `revenue` earned while attainment rises linearly from `att0` to `att1`
    /// (attainment is the goal measure; when it does not move with revenue, `att0 == att1`).
    pub(crate) fn commission(&self, revenue: f64, att0: f64, att1: f64) -> f64 {
        if revenue <= 0.0 {
            return 0.0;
        }
        if self.goal_weights[0] <= 0.0 {
            // Goals without a revenue part (activity-based): accelerators and the cap are
            // thresholds on revenue attainment, so they do not apply; the plain rate does.
            return self.commission_rate * revenue;
        }
        if (att1 - att0).abs() < 1e-12 {
            return self.commission_rate * revenue * self.multiplier(att0);
        }
        // Integrate the piecewise-constant multiplier over attainment; the edges (accelerator
        // starts, then the cap) are already in rising order, so no sorting or allocation.
        let (lo, hi) = if att0 < att1 {
            (att0, att1)
        } else {
            (att1, att0)
        };
        let per_att = revenue / (hi - lo);
        let mut total = 0.0;
        let mut from = lo;
        let edges = self.accelerators.iter().map(|(a, _)| *a).chain(self.cap);
        for edge in edges {
            if edge > from && edge < hi {
                total += (edge - from) * self.multiplier(0.5 * (from + edge));
                from = edge;
            }
        }
        total += (hi - from) * self.multiplier(0.5 * (from + hi));
        self.commission_rate * per_att * total
    }

    /// Rebate rate at `attainment` of a partner's sell-in target.
    /// Compliance with mandated activities at full backing, before the clamp to 1
    /// (sim/MODEL.md §3.3).
    pub(crate) fn compliance_drive(&self, b: &crate::params::Behaviour) -> f64 {
        let assessed = self.assessed_activity;
        b.compliance_unmeasured
            + b.compliance_if_assessed * assessed
            + b.compliance_if_in_goals * self.goal_weights[1]
            + b.compliance_if_paid * self.pay_weight * assessed
    }

    pub(crate) fn rebate_rate(&self, attainment: f64) -> f64 {
        self.rebates
            .iter()
            .rev()
            .find(|(at, _)| attainment >= *at)
            .map_or(0.0, |(_, r)| *r)
    }

    /// True when the goal strategy ratchets goals from actuals.
    pub(crate) fn ratchets(&self) -> Option<(f64, f64)> {
        match self.goal {
            GoalRule::Ratchet { up, down, .. } => Some((up, down)),
            _ => None,
        }
    }
}

fn revenue_only() -> [f64; 3] {
    [1.0, 0.0, 0.0]
}

/// 0 revenue, 1 partner-serving activities, 2 recruiting.
fn metric_group(metric: Metric) -> usize {
    match metric {
        Metric::SellIn | Metric::SellThrough => 0,
        Metric::Visits | Metric::Trainings | Metric::BusinessReviews => 1,
        Metric::PartnersSigned | Metric::RecruitingCalls | Metric::Negotiations => 2,
    }
}

pub(crate) fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::A => 0,
        Tier::B => 1,
        Tier::C => 2,
    }
}

pub(crate) fn months(length: PeriodLength) -> u32 {
    length.months() as u32
}
