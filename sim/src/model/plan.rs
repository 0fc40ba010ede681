//! A process spec compiled into the numbers the monthly step needs.
//!
//! Turning a [`ProcessRules`] into per-tier touch requirements, measurement weights and an
//! incentive schedule once per run keeps the inner loop free of lookups in lists.

use std::ops::{Index, IndexMut};

use chanlab_shared::{
    ActivityKind, GoalStrategy, IncentivePlan, Metric, PeriodLength, ProcessRules, RevenueBasis,
    Tier,
};

/// The MODEL.md §7.3 check, where the partner- and seat-side tests look for it.
#[cfg(test)]
pub(super) use super::documented::assert_documented;

/// Weight of a visit in engagement touches: the unit the other kinds are measured in (§5.6).
pub(crate) const VISIT_TOUCH_WEIGHT: f64 = 1.0;
/// Weight of a training: worth more than a visit to a partner's selling (§5.6).
pub(crate) const TRAINING_TOUCH_WEIGHT: f64 = 1.5;
/// Weight of a business review (§5.6).
pub(crate) const REVIEW_TOUCH_WEIGHT: f64 = 1.2;
/// Commission multiplier from the cap on: revenue above the capped attainment earns nothing
/// (the cap is on attainment, not on pay; §5.1).
pub(crate) const CAPPED_MULTIPLIER: f64 = 0.0;
/// Attainment spans narrower than this are treated as a point: commission is the rate times
/// the multiplier there (§5.1, `rate·X·m(a₀)` when a₀ = a₁), avoiding a 0/0.
pub(crate) const POINT_SPAN: f64 = 1e-12;

/// Weights of revenue, partner-serving activities and recruiting in goal attainment (sum 1;
/// sim/MODEL.md §4.7–4.9).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GoalWeights {
    /// Weight on goal-metric revenue (w_rev).
    pub(crate) revenue: f64,
    /// Weight on visits, trainings and business reviews (w_act, g_act).
    pub(crate) activities: f64,
    /// Weight on recruiting actions (w_rec, g_rec).
    pub(crate) recruiting: f64,
}

impl GoalWeights {
    /// Every strategy but activity-based and scorecard goals measures revenue only.
    pub(crate) const REVENUE_ONLY: GoalWeights = GoalWeights {
        revenue: 1.0,
        activities: 0.0,
        recruiting: 0.0,
    };

    /// The weight of `metric`'s group.
    fn of_metric(&mut self, metric: Metric) -> &mut f64 {
        match metric {
            Metric::SellIn | Metric::SellThrough => &mut self.revenue,
            Metric::Visits | Metric::Trainings | Metric::BusinessReviews => &mut self.activities,
            Metric::PartnersSigned | Metric::RecruitingCalls | Metric::Negotiations => {
                &mut self.recruiting
            }
        }
    }
}

/// One value per partner tier, indexed by [`Tier`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct ByTier<T>(pub(crate) [T; 3]);

impl<T> Index<Tier> for ByTier<T> {
    type Output = T;
    fn index(&self, tier: Tier) -> &T {
        &self.0[tier_index(tier)]
    }
}

impl<T> IndexMut<Tier> for ByTier<T> {
    fn index_mut(&mut self, tier: Tier) -> &mut T {
        &mut self.0[tier_index(tier)]
    }
}

/// A commission accelerator: the multiplier from an attainment on (§5.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Accelerator {
    /// Goal attainment the multiplier starts at.
    pub(crate) from_attainment: f64,
    /// Multiplier on the commission rate from there (until the next accelerator or the cap).
    pub(crate) multiplier: f64,
}

/// C(a) = ∫₀^a m(u) du, the cumulative commission multiplier (§5.1): piecewise linear with
/// knots at the accelerator starts and the cap, so commission(X, a₀, a₁) =
/// rate·X·(C(a₁) − C(a₀))/(a₁ − a₀) costs two short scans instead of a walk over the edges
/// with a multiplier lookup per piece.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct CumulativeMultiplier {
    /// In rising order of attainment; below the first knot the multiplier is 1.
    knots: Vec<Knot>,
}

/// Where the multiplier changes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Knot {
    /// Attainment the multiplier changes at.
    at: f64,
    /// C(at).
    cumulative: f64,
    /// The multiplier from here to the next knot.
    slope: f64,
}

impl CumulativeMultiplier {
    /// The cumulative multiplier of `plan`'s accelerators and cap.
    pub(crate) fn of(plan: &Plan) -> Self {
        let mut edges: Vec<f64> = plan
            .accelerators
            .iter()
            .map(|a| a.from_attainment)
            .chain(plan.cap)
            .collect();
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        let mut knots: Vec<Knot> = Vec::with_capacity(edges.len());
        for at in edges {
            // C(a) = a below the first knot (multiplier 1 from 0).
            let cumulative = knots
                .last()
                .map_or(at, |k| k.cumulative + (at - k.at) * k.slope);
            knots.push(Knot {
                at,
                cumulative,
                slope: plan.multiplier(at),
            });
        }
        CumulativeMultiplier { knots }
    }

    /// C(`attainment`).
    #[inline]
    pub(crate) fn at(&self, attainment: f64) -> f64 {
        let mut c = attainment;
        for k in &self.knots {
            if attainment < k.at {
                break;
            }
            c = k.cumulative + (attainment - k.at) * k.slope;
        }
        c
    }
}

/// A threshold bonus (§5.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bonus {
    /// Attainment over the window that earns it.
    pub(crate) at_attainment: f64,
    /// Amount, in major currency units.
    pub(crate) amount: f64,
    /// Length of the bonus window in months.
    pub(crate) window_months: u32,
}

/// A partner rebate step (§5.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RebateStep {
    /// Attainment of the partner's sell-in target the rate applies from.
    pub(crate) at_attainment: f64,
    /// Rebate rate on the whole period's sell-in.
    pub(crate) rate: f64,
}

/// How much a touch of each activity kind counts toward engagement, relative to a visit.
pub(crate) fn touch_weight(kind: ActivityKind) -> f64 {
    match kind {
        ActivityKind::Visit => VISIT_TOUCH_WEIGHT,
        ActivityKind::Training => TRAINING_TOUCH_WEIGHT,
        ActivityKind::BusinessReview => REVIEW_TOUCH_WEIGHT,
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
    pub(crate) goal_weights: GoalWeights,
    /// Weights of activities and recruiting in the assessment.
    pub(crate) assessed_activity: f64,
    pub(crate) assessed_recruiting: f64,
    /// Share of variable pay riding on the assessment.
    pub(crate) pay_weight: f64,
    /// Mandated touches per partner per month, weighted, by tier (A, B, C).
    pub(crate) mandated_touches: ByTier<f64>,
    /// Onboarding: months, trainings, visits per month.
    pub(crate) onboarding_months: u32,
    pub(crate) onboarding_trainings: f64,
    pub(crate) onboarding_visits: f64,
    /// Incentive plan.
    pub(crate) commission_on_sell_in: bool,
    pub(crate) commission_rate: f64,
    /// Accelerators in rising order of attainment.
    pub(crate) accelerators: Vec<Accelerator>,
    pub(crate) cap: Option<f64>,
    /// ∫₀^a of the commission multiplier, precomputed from `accelerators` and `cap`.
    pub(crate) cumulative: CumulativeMultiplier,
    /// Threshold bonuses.
    pub(crate) bonuses: Vec<Bonus>,
    /// Partner program.
    pub(crate) partner_margin: f64,
    /// Rebate steps in rising order of attainment.
    pub(crate) rebates: Vec<RebateStep>,
    pub(crate) target_period_months: u32,
}

impl Plan {
    pub(crate) fn compile(rules: &ProcessRules) -> Plan {
        let period_months = months(rules.goal_setting.period);
        let goal_on_sell_in = rules.goal_setting.metric == Metric::SellIn;
        let mut mandated = ByTier([0.0; 3]);
        for cadence in rules.cadences.cadences() {
            mandated[cadence.tier] += cadence.per_month() * touch_weight(cadence.activity);
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
        let (goal, goal_levels, goal_weights) = goal_rule(&rules.goal_setting.strategy);
        let incentive: &IncentivePlan = &rules.incentive;
        let onboarding = rules.onboarding;
        let mut plan = Plan {
            goal,
            goal_levels,
            period_months,
            goal_on_sell_in,
            goal_weights,
            assessed_activity: assessed(|m| {
                matches!(
                    m,
                    Metric::Visits | Metric::Trainings | Metric::BusinessReviews
                )
            }),
            assessed_recruiting: assessed(|m| {
                matches!(
                    m,
                    Metric::PartnersSigned | Metric::RecruitingCalls | Metric::Negotiations
                )
            }),
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
                .map(|a| Accelerator {
                    from_attainment: a.from_attainment.get(),
                    multiplier: a.multiplier.get(),
                })
                .collect(),
            cap: incentive.cap().map(|c| c.get()),
            bonuses: incentive
                .threshold_bonuses()
                .iter()
                .map(|b| Bonus {
                    at_attainment: b.at_attainment.get(),
                    amount: b.amount.to_major_f64(),
                    window_months: months(b.period),
                })
                .collect(),
            partner_margin: rules.partner_program.base_margin().get(),
            rebates: rules
                .partner_program
                .rebate_tiers()
                .iter()
                .map(|r| RebateStep {
                    at_attainment: r.at_attainment.get(),
                    rate: r.rate.get(),
                })
                .collect(),
            target_period_months: months(rules.partner_program.target_period()),
            cumulative: CumulativeMultiplier::default(),
        };
        plan.cumulative = CumulativeMultiplier::of(&plan);
        plan
    }

    /// Commission multiplier at `attainment`: the highest accelerator reached, zero from the
    /// cap on.
    pub(crate) fn multiplier(&self, attainment: f64) -> f64 {
        if self.cap.is_some_and(|c| attainment >= c) {
            return CAPPED_MULTIPLIER;
        }
        self.accelerators
            .iter()
            .rev()
            .find(|a| attainment >= a.from_attainment)
            .map_or(1.0, |a| a.multiplier)
    }

    /// Commission on `revenue` earned while attainment rises linearly from `att0` to `att1`
    /// (attainment is the goal measure; when it does not move with revenue, `att0 == att1`).
    pub(crate) fn commission(&self, revenue: f64, att0: f64, att1: f64) -> f64 {
        self.commission_from(revenue, (att0, self.cumulative.at(att0)), att1)
    }

    /// [`Plan::commission`] from `att0` and C(att0), which the effort search looks up once.
    #[inline]
    pub(crate) fn commission_from(&self, revenue: f64, from: (f64, f64), att1: f64) -> f64 {
        let (att0, cumulative_at0) = from;
        if revenue <= 0.0 {
            return 0.0;
        }
        if self.goal_weights.revenue <= 0.0 {
            // Goals without a revenue part (activity-based): accelerators and the cap are
            // thresholds on revenue attainment, so they do not apply; the plain rate does.
            return self.commission_rate * revenue;
        }
        if (att1 - att0).abs() < POINT_SPAN {
            return self.commission_rate * revenue * self.multiplier(att0);
        }
        // The integral of the piecewise-constant multiplier over [att0, att1], from its
        // precomputed antiderivative: no walk over the edges per evaluation.
        let integral = self.cumulative.at(att1) - cumulative_at0;
        self.commission_rate * revenue * integral / (att1 - att0)
    }

    /// Compliance with mandated activities at full backing, before the clamp to 1
    /// (sim/MODEL.md §3.3).
    pub(crate) fn compliance_drive(&self, b: &crate::params::Behaviour) -> f64 {
        let assessed = self.assessed_activity;
        b.compliance_unmeasured
            + b.compliance_if_assessed * assessed
            + b.compliance_if_in_goals * self.goal_weights.activities
            + b.compliance_if_paid * self.pay_weight * assessed
    }

    /// Rebate rate at `attainment` of a partner's sell-in target.
    pub(crate) fn rebate_rate(&self, attainment: f64) -> f64 {
        self.rebates
            .iter()
            .rev()
            .find(|r| attainment >= r.at_attainment)
            .map_or(0.0, |r| r.rate)
    }

    /// True when the goal strategy ratchets goals from actuals.
    pub(crate) fn ratchets(&self) -> Option<(f64, f64)> {
        match self.goal {
            GoalRule::Ratchet { up, down, .. } => Some((up, down)),
            _ => None,
        }
    }
}

/// The goal rule, goal levels and attainment weights of a goal-setting strategy (§4).
fn goal_rule(strategy: &GoalStrategy) -> (GoalRule, Vec<f64>, GoalWeights) {
    match strategy {
        GoalStrategy::FlatGrowth { growth } => (
            GoalRule::FlatGrowth {
                growth: growth.get(),
            },
            vec![1.0],
            GoalWeights::REVENUE_ONLY,
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
            GoalWeights::REVENUE_ONLY,
        ),
        GoalStrategy::PotentialBased { share_of_potential } => (
            GoalRule::PotentialBased {
                share: share_of_potential.get(),
            },
            vec![1.0],
            GoalWeights::REVENUE_ONLY,
        ),
        GoalStrategy::Stretch { uplift } => (
            GoalRule::Stretch {
                uplift: uplift.get(),
            },
            vec![1.0],
            GoalWeights::REVENUE_ONLY,
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
            GoalWeights::REVENUE_ONLY,
        ),
        GoalStrategy::TieredThresholds { growth, levels } => (
            GoalRule::Tiered {
                growth: growth.get(),
            },
            levels.levels().iter().map(|l| l.get()).collect(),
            GoalWeights::REVENUE_ONLY,
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
                GoalWeights {
                    revenue: 0.0,
                    activities: touches / total,
                    recruiting: recruiting / total,
                }
            } else {
                // No targets at all: attainment is on (zero) activities.
                GoalWeights {
                    revenue: 0.0,
                    activities: 1.0,
                    recruiting: 0.0,
                }
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
            let mut w = GoalWeights {
                revenue: 0.0,
                activities: 0.0,
                recruiting: 0.0,
            };
            for mw in weights.weights() {
                *w.of_metric(mw.metric) += mw.weight.get();
            }
            (
                GoalRule::Scorecard {
                    growth: growth.get(),
                },
                vec![1.0],
                w,
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documented::{assert_documented, documented};

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        assert_documented("plan.rs::VISIT_TOUCH_WEIGHT", &[VISIT_TOUCH_WEIGHT]);
        assert_documented("plan.rs::TRAINING_TOUCH_WEIGHT", &[TRAINING_TOUCH_WEIGHT]);
        assert_documented("plan.rs::REVIEW_TOUCH_WEIGHT", &[REVIEW_TOUCH_WEIGHT]);
        assert_documented("plan.rs::CAPPED_MULTIPLIER", &[CAPPED_MULTIPLIER]);
        assert_documented("plan.rs::POINT_SPAN", &[POINT_SPAN]);
    }

    #[test]
    fn an_undocumented_constant_fails_the_check() {
        let e = documented("plan.rs::NO_SUCH_CONSTANT", &[1.0]).unwrap_err();
        assert!(e.contains("names no plan.rs::NO_SUCH_CONSTANT"), "{e}");
    }

    #[test]
    fn a_constant_whose_value_moved_fails_the_check() {
        let e = documented("rep.rs::SELLING_TIME_FLOOR", &[0.25]).unwrap_err();
        assert!(e.contains("the code as 0.25"), "{e}");
        assert!(documented("rep.rs::SELLING_TIME_FLOOR", &[0.2]).is_ok());
        // A row naming two constants gives each its own value, in order.
        assert!(documented("run.rs::FLOOR_CAP", &[0.9]).is_ok());
        assert!(documented("run.rs::FLOOR_CAP", &[0.3]).is_err());
    }

    /// The edge-by-edge integral the cumulative multiplier replaced, as a reference.
    fn walked_commission(p: &Plan, revenue: f64, att0: f64, att1: f64) -> f64 {
        let (lo, hi) = if att0 < att1 {
            (att0, att1)
        } else {
            (att1, att0)
        };
        let mut total = 0.0;
        let mut from = lo;
        let edges = p
            .accelerators
            .iter()
            .map(|a| a.from_attainment)
            .chain(p.cap);
        for edge in edges {
            if edge > from && edge < hi {
                total += (edge - from) * p.multiplier(0.5 * (from + edge));
                from = edge;
            }
        }
        total += (hi - from) * p.multiplier(0.5 * (from + hi));
        p.commission_rate * revenue / (hi - lo) * total
    }

    #[test]
    fn the_cumulative_multiplier_integrates_like_the_edge_walk() {
        let mut p = Plan::compile(
            &crate::files::parse_rules(
                crate::bundled::find_spec("flat-growth").unwrap().text,
                crate::files::Format::Toml,
            )
            .unwrap(),
        );
        assert!(
            !p.accelerators.is_empty() && p.cap.is_some(),
            "a plan with edges"
        );
        // A second accelerator, so that two edges can fall inside one span.
        p.accelerators.push(Accelerator {
            from_attainment: 1.5,
            multiplier: 2.0,
        });
        p.cumulative = CumulativeMultiplier::of(&p);
        let points = [-0.2, 0.0, 0.3, 0.99, 1.0, 1.01, 1.2, 1.5, 1.7, 2.0, 2.4];
        for &a0 in &points {
            for &a1 in &points {
                if a0 == a1 {
                    continue;
                }
                let fast = p.commission(10_000.0, a0, a1);
                let walked = walked_commission(&p, 10_000.0, a0, a1);
                assert!(
                    (fast - walked).abs() < 1e-9,
                    "{a0} → {a1}: {fast} vs {walked}"
                );
            }
        }
    }

    #[test]
    fn tiers_index_their_own_slot() {
        let mut by_tier = ByTier([1.0, 2.0, 3.0]);
        by_tier[Tier::C] += 1.0;
        assert_eq!(by_tier[Tier::A], 1.0);
        assert_eq!(by_tier[Tier::B], 2.0);
        assert_eq!(by_tier[Tier::C], 4.0);
        for (slot, tier) in Tier::ALL.into_iter().enumerate() {
            assert_eq!(tier_index(tier), slot, "Tier::ALL[slot] is the slot's tier");
        }
    }
}
