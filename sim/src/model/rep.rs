//! A rep's monthly choices: compliance with mandated activities, time on recruiting, the
//! operative goal and commitment to it, effort, and period-end deal timing, one named
//! mechanism each (sim/MODEL.md §3.3–3.7).
//!
//! Compliance and recruiting follow simple rules driven by what is measured and whether the
//! regional manager backs the process. Effort is chosen by comparing, over a grid, expected
//! pay plus the value of a committed goal against the cost of effort and (under a ratchet)
//! the next goal's rise ([`super::effort`]); deal timing is [`super::timing`].

use super::effort::{self, EffortGrid};
use super::plan::Plan;
use super::timing::{self, Timing};
use crate::params::Behaviour;

/// Least share of the month left to selling, however much recruiting and mandated touches
/// ask for: a rep always sells some (§3.4).
pub(crate) const SELLING_TIME_FLOOR: f64 = 0.2;
/// Share of recruiting time kept in a period's last month when recruiting is unmeasured and
/// the rep is short of a revenue goal: recruiting waits (§3.4).
pub(crate) const RECRUITING_WHEN_SHORT: f64 = 0.5;
/// Least perceived standard deviation of revenue, so that a reach probability at zero
/// expected revenue is a step, not 0/0 (§3.5, §3.6).
pub(crate) const MIN_PERCEIVED_SD: f64 = 1e-9;
/// Least revenue weight divided by when converting a goal level to revenue, so that a goal
/// without a revenue part does not divide by zero (§3.5).
pub(crate) const MIN_REVENUE_WEIGHT: f64 = 1e-9;
/// Likelihood at full effort from which a goal level becomes the operative goal (§3.5).
pub(crate) const OPERATIVE_LIKELIHOOD: f64 = 0.5;
/// |z| from which the normal CDF ([`super::normal::NormalTable::cdf`]) returns exactly 1 or 0
/// without reading its table: the true Φ is 1.0 in f64 there, and below −8.5 under 1e-17,
/// far below what the effort search can tell apart ([`super::effort::STRICT_IMPROVEMENT`]).
pub(crate) const SATURATED_Z: f64 = 8.5;

/// What the rep sees of one bonus window (§3.6, §5.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WindowView {
    /// Goal-metric revenue so far in the window.
    pub(crate) done: f64,
    /// Months left in the window, this one included.
    pub(crate) months_left: u32,
    /// The window's goal: the goal accrued so far plus goal/L per month left.
    pub(crate) goal: f64,
    /// √(months left, at least 1): the horizon of the rep's uncertainty about the window,
    /// taken once here rather than at every point of the effort search.
    pub(crate) months_sqrt: f64,
}

impl WindowView {
    /// A window with `done` booked, `months_left` to go and goal `goal`.
    pub(crate) fn new(done: f64, months_left: u32, goal: f64) -> Self {
        WindowView {
            done,
            months_left,
            goal,
            months_sqrt: f64::from(months_left.max(1)).sqrt(),
        }
    }
}

/// What a rep knows when choosing this month.
pub(crate) struct Situation<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) behaviour: &'a Behaviour,
    /// The effort search's grid and its x^β, built once per simulation from `behaviour`.
    pub(crate) effort_grid: &'a EffortGrid,
    /// Expected monthly goal-metric revenue at normal attention (the rep's own estimate).
    pub(crate) revenue_at_normal: f64,
    pub(crate) skill: f64,
    pub(crate) ramp: f64,
    pub(crate) backing: f64,
    /// Mandated touches per month at full compliance, and the rep's own at normal effort.
    pub(crate) mandated_touches: f64,
    pub(crate) own_touches: f64,
    pub(crate) has_prospects: bool,
    /// The period's 100% revenue goal (0 when goals are not on revenue).
    pub(crate) goal: f64,
    /// Goal-metric revenue so far this period.
    pub(crate) achieved: f64,
    /// Months left in the period, this one included.
    pub(crate) months_left: u32,
    /// Attainment from activities and recruiting (already weighted), projected to period end.
    pub(crate) other_attainment: f64,
    /// Consecutive missed periods.
    pub(crate) misses: u32,
    /// Whether another goal period follows this one within the horizon.
    pub(crate) more_periods: bool,
    /// What the rep sees of each bonus's window, in the plan's bonus order.
    pub(crate) windows: &'a [WindowView],
}

impl Situation<'_> {
    /// Goal attainment at period end if goal-metric revenue reaches `total` (§3.6: att(T)).
    pub(crate) fn attainment(&self, total: f64) -> f64 {
        if self.goal > 0.0 {
            self.plan.goal_weights.revenue * total / self.goal + self.other_attainment
        } else {
            self.other_attainment
        }
    }

    /// The rep's probability that revenue expected to total `total`, at `r` a month over
    /// `months` months, reaches `target` (§3.5, §3.6).
    pub(crate) fn reach(&self, total: f64, r: f64, months: f64, target: f64) -> f64 {
        self.reach_over(total, r, months.sqrt(), target)
    }

    /// [`Situation::reach`] with √months already taken.
    #[inline]
    pub(crate) fn reach_over(&self, total: f64, r: f64, months_sqrt: f64, target: f64) -> f64 {
        let sd = (self.behaviour.sales_uncertainty * r * months_sqrt).max(MIN_PERCEIVED_SD);
        self.effort_grid.normal().cdf((total - target) / sd)
    }
}

/// The rep's choices for the month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Choice {
    pub(crate) effort: f64,
    pub(crate) compliance: f64,
    pub(crate) recruiting: f64,
    /// Share of the month given to selling, relative to normal.
    pub(crate) attention: f64,
    /// Goal-metric revenue pulled in from next month (≥ 0).
    pub(crate) pull_in: f64,
    /// Goal-metric revenue pushed out to next month (≥ 0).
    pub(crate) push_out: f64,
    /// Price discount granted on the pulled-in revenue, as a share of it: deals due further
    /// ahead need more (§3.7).
    pub(crate) pull_discount: f64,
    /// Expected goal-metric revenue this month at the chosen effort, before timing.
    pub(crate) expected_revenue: f64,
    /// Commitment to the operative goal, 0..1 (below ½: the rep judges it out of reach).
    pub(crate) commitment: f64,
}

/// The rep's choices for the month (sim/MODEL.md §3.3–3.7).
pub(crate) fn choose(s: &Situation<'_>) -> Choice {
    let compliance = compliance(s.plan, s.behaviour, s.backing);
    let attention = selling_attention(s, compliance);
    let goal = operative_goal(s, &attention);
    let point = effort::choose_effort(s, &attention, &goal);
    let effort = s.effort_grid.effort(point);
    let expected_revenue = attention.revenue(s.effort_grid, point);
    let Timing {
        pull_in,
        push_out,
        pull_discount,
    } = if s.months_left == 1 {
        timing::timing(s, expected_revenue, goal.level)
    } else {
        Timing::default()
    };
    Choice {
        effort,
        compliance,
        recruiting: attention.recruiting,
        attention: effort * attention.per_effort,
        pull_in,
        push_out,
        pull_discount,
        expected_revenue,
        commitment: goal.commitment,
    }
}

/// Share of mandated activities a rep carries out ("what gets measured gets done", scaled
/// by the regional manager's backing).
// MODEL.md §3.3
pub(crate) fn compliance(plan: &Plan, b: &Behaviour, backing: f64) -> f64 {
    (backing * plan.compliance_drive(b)).clamp(0.0, 1.0)
}

/// Time on recruiting and what is left for selling (§3.4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Attention {
    /// Share of the month on recruiting (s_rec).
    pub(crate) recruiting: f64,
    /// Selling attention per unit of effort (a_e): attention = effort · a_e.
    pub(crate) per_effort: f64,
    /// R0 · a_e^β, so that R(x) = R0·(x·a_e)^β is this times the grid's tabulated x^β:
    /// the month's one `powf` for revenue.
    pub(crate) revenue_scale: f64,
}

impl Attention {
    /// Expected goal-metric revenue this month at the effort of grid point `point`:
    /// R(x) = R0·(x·a_e)^β = R0·a_e^β·x^β.
    pub(crate) fn revenue(&self, grid: &EffortGrid, point: usize) -> f64 {
        self.revenue_scale * grid.response(point)
    }
}

/// Recruiting time (more when recruiting is measured, less when short of a revenue goal at
/// period end) and the selling attention the rest of the month buys, after the mandated
/// touches beyond the rep's own at compliance `compliance`.
// MODEL.md §3.4
pub(crate) fn selling_attention(s: &Situation<'_>, compliance: f64) -> Attention {
    let b = s.behaviour;
    let plan = s.plan;
    let measured_recruiting = (plan.goal_weights.recruiting + plan.assessed_recruiting).min(1.0);
    let mut recruiting = if s.has_prospects {
        b.recruiting_share
            + (b.recruiting_share_if_measured - b.recruiting_share) * measured_recruiting
    } else {
        0.0
    };
    if s.months_left == 1 && measured_recruiting == 0.0 && s.goal > 0.0 && s.achieved < s.goal {
        // Short of a revenue goal at period end, recruiting waits.
        recruiting *= RECRUITING_WHEN_SHORT;
    }
    let extra_touches = (compliance * s.mandated_touches - s.own_touches).max(0.0);
    let selling_share = (1.0 - recruiting - b.touch_time * extra_touches).max(SELLING_TIME_FLOOR);
    let normal_share = 1.0 - b.recruiting_share;
    let per_effort = s.skill * s.ramp * selling_share / normal_share;
    Attention {
        recruiting,
        per_effort,
        revenue_scale: s.revenue_at_normal * per_effort.powf(b.selling_elasticity),
    }
}

/// The goal the rep works toward and how committed it is (§3.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OperativeGoal {
    /// The operative level ℓ*, as a ratio of the 100% goal.
    pub(crate) level: f64,
    /// Its likelihood at full effort, p*.
    pub(crate) likelihood: f64,
    /// Commitment κ to it, 0..1.
    pub(crate) commitment: f64,
}

/// The highest goal level still at least [`OPERATIVE_LIKELIHOOD`] likely at full effort (else
/// the lowest), and commitment to it: a logistic in its likelihood, worn down by misses.
// MODEL.md §3.5
pub(crate) fn operative_goal(s: &Situation<'_>, attention: &Attention) -> OperativeGoal {
    let b = s.behaviour;
    let plan = s.plan;
    let w_rev = plan.goal_weights.revenue;
    let months_left = f64::from(s.months_left);
    let r_max = attention.revenue(s.effort_grid, s.effort_grid.top());
    let total_max = s.achieved + months_left * r_max;
    let level_target =
        |level: f64| (level - s.other_attainment) / w_rev.max(MIN_REVENUE_WEIGHT) * s.goal;
    let mut operative = plan.goal_levels[0];
    let mut p_operative = 0.0;
    for &level in &plan.goal_levels {
        let p = if s.goal > 0.0 && w_rev > 0.0 {
            s.reach(total_max, r_max, months_left, level_target(level))
        } else if s.other_attainment >= level {
            1.0
        } else {
            0.0
        };
        if level == plan.goal_levels[0] || p >= OPERATIVE_LIKELIHOOD {
            operative = level;
            p_operative = p;
        }
    }
    let commitment = (1.0 - b.commitment_loss_per_miss).powi(s.misses as i32)
        / (1.0 + (-(p_operative - b.commitment_midpoint) / b.commitment_spread).exp());
    OperativeGoal {
        level: operative,
        likelihood: p_operative,
        commitment,
    }
}

/// Standard normal CDF, from the process's table ([`super::normal`]; |error| < 2.5e-8).
/// The model reads the table through its [`EffortGrid`] ([`Situation::reach`]); the tests here
/// call this.
#[cfg(test)]
pub(crate) fn normal_cdf(z: f64) -> f64 {
    super::normal::table().cdf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Plan {
        Plan::compile(
            &crate::files::parse_rules(
                crate::bundled::find_spec(name).unwrap().text,
                crate::files::Format::Toml,
            )
            .unwrap(),
        )
    }

    /// A rep at the start of a quarter, 10,000 a month at normal effort, a 30,000 goal.
    fn situation<'a>(plan: &'a Plan, b: &'a Behaviour) -> Situation<'a> {
        Situation {
            has_prospects: true,
            ..crate::model::fixtures::situation(plan, b)
        }
    }

    #[test]
    fn unmeasured_compliance_is_the_unmeasured_share_of_backing() {
        let b = Behaviour::default();
        let plan = spec("flat-growth");
        assert_eq!(
            plan.assessed_activity, 0.0,
            "flat-growth measures no activities"
        );
        let c = compliance(&plan, &b, 0.5);
        assert!((c - 0.5 * b.compliance_unmeasured).abs() < 1e-12, "{c}");
        assert_eq!(compliance(&plan, &b, 100.0), 1.0, "clamped to 1");
    }

    #[test]
    fn mandated_touches_beyond_the_reps_own_take_selling_time_down_to_the_floor() {
        let b = Behaviour::default();
        let plan = spec("flat-growth");
        let mut s = situation(&plan, &b);
        s.has_prospects = false;
        let free = selling_attention(&s, 1.0);
        assert_eq!(free.recruiting, 0.0, "no prospects, no recruiting");
        assert!((free.per_effort - 1.0 / (1.0 - b.recruiting_share)).abs() < 1e-12);
        s.mandated_touches = 1.0;
        let busy = selling_attention(&s, 1.0);
        assert!(busy.per_effort < free.per_effort);
        s.mandated_touches = 1e6;
        let swamped = selling_attention(&s, 1.0);
        let floor = SELLING_TIME_FLOOR / (1.0 - b.recruiting_share);
        assert!((swamped.per_effort - floor).abs() < 1e-12);
    }

    #[test]
    fn unmeasured_recruiting_waits_when_short_at_period_end() {
        let b = Behaviour::default();
        let plan = spec("flat-growth");
        let mut s = situation(&plan, &b);
        let normal = selling_attention(&s, 0.0).recruiting;
        assert!((normal - b.recruiting_share).abs() < 1e-12);
        s.months_left = 1;
        s.achieved = 10_000.0;
        let short = selling_attention(&s, 0.0).recruiting;
        assert!((short - RECRUITING_WHEN_SHORT * normal).abs() < 1e-12);
        s.achieved = 40_000.0;
        assert_eq!(
            selling_attention(&s, 0.0).recruiting,
            normal,
            "goal made: no wait"
        );
    }

    #[test]
    fn commitment_follows_the_goals_likelihood_and_wears_down_with_misses() {
        let b = Behaviour::default();
        let plan = spec("flat-growth");
        let mut s = situation(&plan, &b);
        let easy = operative_goal(&s, &selling_attention(&s, 0.0));
        assert_eq!(easy.level, 1.0);
        // 3 months at full effort, 3 × 1.5^β × 10,000 ≈ 34,400, make 30,000 likely.
        assert!(easy.likelihood > 0.9 && easy.commitment > 0.9, "{easy:?}");
        s.goal = 100_000.0; // beyond 3 months at full effort
        let hopeless = operative_goal(&s, &selling_attention(&s, 0.0));
        assert!(
            hopeless.likelihood < 0.01 && hopeless.commitment < 0.1,
            "{hopeless:?}"
        );
        s.goal = 30_000.0;
        s.misses = 2;
        let missed = operative_goal(&s, &selling_attention(&s, 0.0));
        let worn = (1.0 - b.commitment_loss_per_miss).powi(2);
        assert!((missed.commitment - worn * easy.commitment).abs() < 1e-12);
    }

    #[test]
    fn the_operative_goal_is_the_highest_level_still_likely() {
        let b = Behaviour::default();
        let mut plan = spec("flat-growth");
        plan.goal_levels = vec![0.9, 1.0, 1.1, 1.2];
        let s = situation(&plan, &b);
        // 3 months at full effort, 3 × 1.5^β × 10,000 ≈ 34,400, more likely than not reach
        // 110% of 30,000 (33,000) but not 120% (36,000).
        assert_eq!(operative_goal(&s, &selling_attention(&s, 0.0)).level, 1.1);
    }

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        use crate::model::documented::assert_documented;
        assert_documented("rep.rs::SELLING_TIME_FLOOR", &[SELLING_TIME_FLOOR]);
        assert_documented("rep.rs::RECRUITING_WHEN_SHORT", &[RECRUITING_WHEN_SHORT]);
        assert_documented("rep.rs::MIN_PERCEIVED_SD", &[MIN_PERCEIVED_SD]);
        assert_documented("rep.rs::MIN_REVENUE_WEIGHT", &[MIN_REVENUE_WEIGHT]);
        assert_documented("rep.rs::OPERATIVE_LIKELIHOOD", &[OPERATIVE_LIKELIHOOD]);
        assert_documented("rep.rs::SATURATED_Z", &[SATURATED_Z]);
    }

    #[test]
    fn the_normal_cdf_saturates_where_it_is_already_0_or_1() {
        assert_eq!(normal_cdf(SATURATED_Z), 1.0);
        assert_eq!(normal_cdf(-SATURATED_Z), 0.0);
        // Just inside the cut-off the formula itself already gives (nearly) the same.
        let inside = SATURATED_Z - 1e-9;
        assert_eq!(normal_cdf(inside), 1.0);
        assert!(normal_cdf(-inside) < 1e-17 && normal_cdf(-inside) > 0.0);
        assert!(normal_cdf(f64::NAN).is_nan(), "NaN is not saturated");
    }

    #[test]
    fn the_normal_cdf_matches_reference_values() {
        for (z, expected) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.96, 0.024_997_895),
            (3.0, 0.998_650_102),
        ] {
            assert!(
                (normal_cdf(z) - expected).abs() < 2e-7,
                "Φ({z}) = {}",
                normal_cdf(z)
            );
        }
    }
}
