//! Effort (sim/MODEL.md §3.6): the constant effort for the rest of the period that maximises
//! expected pay, bonuses and the value of progress toward a committed goal, less the cost of
//! effort and (under a ratchet) the next goal's rise.

use super::normal::{self, NormalTable};
use super::rep::{Attention, OperativeGoal, Situation};
use crate::params::Behaviour;

/// Effort levels tried on the coarse grid, from the lowest to the highest in
/// `Behaviour::effort_range` (§3.6): fine enough that the refinement around the best point
/// lands within a fortieth of the range.
pub(crate) const GRID: usize = 11;
/// The refinements tried around the coarse grid's best point, in grid steps, in order (§3.6).
pub(crate) const REFINEMENTS: [f64; 4] = [-0.5, 0.5, -0.25, 0.25];
/// A candidate effort replaces the best so far only if its utility is higher by more than
/// this, so ties (and rounding noise) go to the lower effort (§3.6).
pub(crate) const STRICT_IMPROVEMENT: f64 = 1e-9;
/// Grid steps are split in this many: the finest refinement is a quarter step, so every
/// effort the search tries lies on lo + j·step/4, and x^β can be tabulated there once.
pub(crate) const SUBSTEPS: usize = 4;
/// Points of the tabulated grid, lo + j·step/SUBSTEPS for j = 0..POINTS.
const POINTS: usize = (GRID - 1) * SUBSTEPS + 1;

/// The efforts the search can try and their x^β (§3.6), built once per simulation from
/// `effort_range` and `selling_elasticity`: R(x) = R0·a_e^β·x^β then costs one `powf` per
/// rep-month (for a_e^β) instead of one per utility evaluation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffortGrid {
    effort: [f64; POINTS],
    response: [f64; POINTS],
    /// The normal CDF's table, looked up once per simulation here so that the search's
    /// reach probabilities do not check its lazy initialisation at every point.
    normal: &'static NormalTable,
}

impl EffortGrid {
    /// The grid for behaviour `b`.
    pub(crate) fn new(b: &Behaviour) -> Self {
        let [lo, hi] = b.effort_range;
        let substep = (hi - lo) / (POINTS - 1) as f64;
        let effort: [f64; POINTS] = std::array::from_fn(|j| lo + substep * j as f64);
        EffortGrid {
            effort,
            response: effort.map(|x| x.powf(b.selling_elasticity)),
            normal: normal::table(),
        }
    }

    /// A grid that lives for the rest of the program, for tests' hand-built situations.
    #[cfg(test)]
    pub(crate) fn leaked(b: &Behaviour) -> &'static EffortGrid {
        Box::leak(Box::new(EffortGrid::new(b)))
    }

    /// Effort at grid point `point`.
    pub(crate) fn effort(&self, point: usize) -> f64 {
        self.effort[point]
    }

    /// x^β at grid point `point`.
    pub(crate) fn response(&self, point: usize) -> f64 {
        self.response[point]
    }

    /// The normal CDF's table (§3.5, §3.6).
    #[inline(always)]
    pub(crate) fn normal(&self) -> &'static NormalTable {
        self.normal
    }

    /// The grid point of full effort, the top of `effort_range`.
    pub(crate) fn top(&self) -> usize {
        POINTS - 1
    }
}

/// U(x) = Pay(x) + Σ Bonus_k(x) + G(x) − C(x) − K(x) for one rep-month (§3.6).
struct Utility<'s, 'a> {
    s: &'s Situation<'a>,
    attention: &'s Attention,
    months_left: f64,
    /// Attainment now, att(achieved): where this period's remaining commission starts.
    att_now: f64,
    /// C(att_now), the cumulative commission multiplier there (§5.1).
    cumulative_now: f64,
    /// goal_value · reference pay for the period · κ: G at the operative goal.
    goal_scale: f64,
    operative: f64,
    /// n · effort_cost · reference_pay_rate · β · R0: C(x) = this · x²/2.
    cost_scale: f64,
    /// ratchet_foresight · reference_pay_rate · (1 + goal_value) · (up, down), when the
    /// ratchet applies to this rep-month: K(x) = this · gap.
    ratchet: Option<(f64, f64)>,
}

/// Most points [`Utility::at_points`] evaluates at once: the coarse grid.
const BATCH: usize = GRID;

impl<'s, 'a> Utility<'s, 'a> {
    fn new(s: &'s Situation<'a>, attention: &'s Attention, goal: &OperativeGoal) -> Self {
        let b = s.behaviour;
        let plan = s.plan;
        let reference_pay = b.reference_pay_rate * s.revenue_at_normal;
        let period_value = reference_pay * f64::from(plan.period_months);
        let ratchet = if s.more_periods {
            plan.ratchets()
        } else {
            None
        };
        let months_left = f64::from(s.months_left);
        let att_now = s.attainment(s.achieved);
        // The products below are the leading factors of each term, multiplied in the order
        // the terms always were, so hoisting them out of the search changes no bit.
        let ratchet_scale = b.ratchet_foresight * b.reference_pay_rate * (1.0 + b.goal_value);
        Utility {
            s,
            attention,
            months_left,
            att_now,
            cumulative_now: plan.cumulative.at(att_now),
            goal_scale: b.goal_value * period_value * goal.commitment,
            operative: goal.level,
            cost_scale: months_left
                * (b.effort_cost
                    * b.reference_pay_rate
                    * b.selling_elasticity
                    * s.revenue_at_normal),
            ratchet: ratchet
                .filter(|_| s.goal > 0.0)
                .map(|(up, down)| (ratchet_scale * up, ratchet_scale * down)),
        }
    }

    /// U(x) at the effort of each of `points` (at most [`BATCH`]) into `out`, one term at a
    /// time over all the points: the points are independent, so their divisions and
    /// exponentials overlap in the pipeline instead of waiting on one another. Each point's
    /// arithmetic is U(x)'s, in its order.
    fn at_points(&self, points: &[usize], out: &mut [f64]) {
        let s = self.s;
        let n = points.len();
        let mut r = [0.0; BATCH];
        let mut total = [0.0; BATCH];
        let mut att = [0.0; BATCH];
        for (i, &point) in points.iter().enumerate() {
            r[i] = self.attention.revenue(s.effort_grid, point);
            total[i] = s.achieved + self.months_left * r[i];
            att[i] = s.attainment(total[i]);
        }
        for ((pay, r), att) in out.iter_mut().zip(&r[..n]).zip(&att[..n]) {
            let from = (self.att_now, self.cumulative_now);
            *pay = s.plan.commission_from(self.months_left * r, from, *att);
        }
        self.add_bonuses(&r[..n], &mut out[..n]);
        for (i, &point) in points.iter().enumerate() {
            out[i] = self.net(out[i], point, total[i], att[i]);
        }
    }

    /// Adds each bonus's amount times its reach at monthly revenue `r[i]` onto `pay[i]`,
    /// bonus by bonus in the plan's order (so each point's sum is in that order).
    fn add_bonuses(&self, r: &[f64], pay: &mut [f64]) {
        let s = self.s;
        let w_rev = s.plan.goal_weights.revenue;
        for (bonus, w) in s.plan.bonuses.iter().zip(s.windows) {
            if w.goal > 0.0 && w_rev > 0.0 {
                let target = (bonus.at_attainment - s.other_attainment) / w_rev * w.goal;
                let months = f64::from(w.months_left);
                for (pay, &r) in pay.iter_mut().zip(r) {
                    let window_total = w.done + months * r;
                    *pay += bonus.amount * s.reach_over(window_total, r, w.months_sqrt, target);
                }
            } else {
                let p = if s.other_attainment >= bonus.at_attainment {
                    1.0
                } else {
                    0.0
                };
                for pay in pay.iter_mut() {
                    *pay += bonus.amount * p;
                }
            }
        }
    }

    /// U(x) from `pay` (commission and bonuses) at grid point `point`, where goal-metric
    /// revenue reaches `total` and attainment `att`: plus G, less C and K.
    fn net(&self, pay: f64, point: usize, total: f64, att: f64) -> f64 {
        let x = self.s.effort_grid.effort(point);
        let goal_term = self.goal_scale * (att / self.operative).min(1.0);
        let cost = self.cost_scale * x * x / 2.0;
        let ratchet_term = match self.ratchet {
            Some((up, down)) => {
                let gap = total - self.s.goal;
                let weight = if gap > 0.0 { up } else { down };
                weight * gap
            }
            None => 0.0,
        };
        pay + goal_term - cost - ratchet_term
    }
}

/// The grid point whose effort maximises U over an 11-point grid on `effort_range`, refined
/// by ±step/2 and ±step/4 around the best point; only strict improvements count, so ties go
/// to the lower effort.
// MODEL.md §3.6
pub(crate) fn choose_effort(
    s: &Situation<'_>,
    attention: &Attention,
    goal: &OperativeGoal,
) -> usize {
    let utility = Utility::new(s, attention, goal);
    let top = s.effort_grid.top();
    let mut u = [0.0; BATCH];
    // When no effort has a finite utility the search keeps the lowest.
    let mut best = (f64::NEG_INFINITY, 0);
    let coarse: [usize; GRID] = std::array::from_fn(|k| k * SUBSTEPS);
    utility.at_points(&coarse, &mut u);
    for (&point, &u) in coarse.iter().zip(&u) {
        if u > best.0 + STRICT_IMPROVEMENT {
            best = (u, point);
        }
    }
    // The refinements' points depend only on the coarse best, so they too are one batch;
    // the comparisons then run in REFINEMENTS' order.
    let centre = best.1;
    let mut refined = [0; REFINEMENTS.len()];
    let mut n = 0;
    for offset in REFINEMENTS.map(|k| (k * SUBSTEPS as f64) as isize) {
        if let Some(point) = centre.checked_add_signed(offset).filter(|&p| p <= top) {
            refined[n] = point;
            n += 1;
        }
    }
    utility.at_points(&refined[..n], &mut u[..n]);
    for (&point, &u) in refined[..n].iter().zip(&u) {
        if u > best.0 + STRICT_IMPROVEMENT {
            best = (u, point);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::documented::assert_documented;
    use crate::model::plan::{Bonus, Plan};
    use crate::model::rep::WindowView;
    use crate::model::rep::selling_attention;
    use crate::params::Behaviour;

    #[test]
    fn the_constants_here_are_the_ones_model_md_documents() {
        assert_documented("effort.rs::GRID", &[GRID as f64]);
        assert_documented("effort.rs::REFINEMENTS", &REFINEMENTS);
        assert_documented("effort.rs::STRICT_IMPROVEMENT", &[STRICT_IMPROVEMENT]);
        assert_documented("effort.rs::SUBSTEPS", &[SUBSTEPS as f64]);
    }

    fn plain_plan(rate: f64) -> Plan {
        crate::model::fixtures::plain_commission(rate)
    }

    /// No goal and no other period: effort answers pay alone.
    fn situation<'a>(plan: &'a Plan, b: &'a Behaviour, windows: &'a [WindowView]) -> Situation<'a> {
        Situation {
            goal: 0.0,
            more_periods: false,
            windows,
            ..crate::model::fixtures::situation(plan, b)
        }
    }

    /// The effort chosen with no goal, at a_e = 1 (no prospects, no mandated touches).
    fn effort_of(s: &Situation<'_>) -> f64 {
        let point = choose_effort(s, &selling_attention(s, 0.0), &NO_GOAL);
        s.effort_grid.effort(point)
    }

    #[test]
    fn the_grid_tabulates_x_to_the_beta_on_quarter_steps() {
        let b = Behaviour::default();
        let grid = EffortGrid::new(&b);
        let [lo, hi] = b.effort_range;
        assert_eq!(grid.effort(0), lo);
        assert!((grid.effort(grid.top()) - hi).abs() < 1e-12);
        let step = (hi - lo) / (GRID - 1) as f64;
        for point in 0..=grid.top() {
            let x = lo + step / SUBSTEPS as f64 * point as f64;
            assert!((grid.effort(point) - x).abs() < 1e-12);
            let relative = grid.response(point) / x.powf(b.selling_elasticity) - 1.0;
            assert!(relative.abs() < 1e-15, "point {point}");
        }
    }

    const NO_GOAL: OperativeGoal = OperativeGoal {
        level: 1.0,
        likelihood: 0.0,
        commitment: 0.0,
    };

    #[test]
    fn the_reference_commission_alone_gives_normal_effort() {
        // §3.6 "why this shape": plain commission at reference_pay_rate, no goal, a_e = 1
        // and effort_cost = 1 put the first-order condition at x = 1.
        let b = Behaviour {
            effort_cost: 1.0,
            ..Behaviour::default()
        };
        let plan = plain_plan(b.reference_pay_rate);
        let s = situation(&plan, &b, &[]);
        let x = effort_of(&s);
        assert!((x - 1.0).abs() <= 0.05, "effort {x}");
    }

    #[test]
    fn a_likely_bonus_raises_effort_and_an_earned_one_does_not() {
        let b = Behaviour::default();
        let mut plan = plain_plan(b.reference_pay_rate);
        let base = effort_of(&situation(&plan, &b, &[]));
        plan.bonuses.push(Bonus {
            at_attainment: 1.0,
            amount: 5_000.0,
            window_months: 3,
        });
        // A window goal that normal effort just about reaches: more effort makes it likely.
        let within_reach = [WindowView::new(0.0, 3, 33_000.0)];
        let pushed = effort_of(&situation(&plan, &b, &within_reach));
        assert!(pushed > base, "bonus in reach: {pushed} vs {base}");
        // Already far past the goal: the bonus is certain whatever the effort.
        let earned = [WindowView::new(100_000.0, 3, 33_000.0)];
        let relaxed = effort_of(&situation(&plan, &b, &earned));
        assert_eq!(relaxed, base);
    }

    #[test]
    fn the_search_stays_inside_the_effort_range() {
        let b = Behaviour::default();
        let plan = plain_plan(0.5); // a very rich commission pushes effort to the top
        let x = effort_of(&situation(&plan, &b, &[]));
        assert!((x - b.effort_range[1]).abs() < 1e-12, "{x}");
        let poor = plain_plan(0.0); // no pay at all: the lowest effort
        let x = effort_of(&situation(&poor, &b, &[]));
        assert!((x - b.effort_range[0]).abs() < 1e-12, "{x}");
    }

    /// The point every tabulated point's utility, tried lowest to highest with the search's
    /// strict-improvement rule, would give, and each point's utility.
    fn exhaustive(
        s: &Situation<'_>,
        attention: &Attention,
        goal: &OperativeGoal,
    ) -> (usize, Vec<f64>) {
        let utility = Utility::new(s, attention, goal);
        let all: Vec<usize> = (0..=s.effort_grid.top()).collect();
        let mut u = vec![0.0; all.len()];
        for (points, out) in all.chunks(BATCH).zip(u.chunks_mut(BATCH)) {
            utility.at_points(points, out);
        }
        let mut best = (f64::NEG_INFINITY, 0);
        for (point, &u) in u.iter().enumerate() {
            if u > best.0 + STRICT_IMPROVEMENT {
                best = (u, point);
            }
        }
        (best.1, u)
    }

    /// The search (15 of the 41 tabulated points) against all 41, over hand-built
    /// situations: the four bundled specs (accelerators, quarterly bonuses, one a ratchet)
    /// and a plain commission, bonuses from none to large, goals from easy to hopeless,
    /// early to late in the period. Its baseline for any search with fewer evaluations
    /// (issue 17): one of 11 evaluations agreed in all of these too, yet moved the golden
    /// KPIs by up to 1.3 standard errors (README, Simulator).
    #[test]
    fn the_search_agrees_with_trying_every_point() {
        use crate::model::rep::operative_goal;
        let b = Behaviour::default();
        let mut plans: Vec<Plan> = ["flat-growth", "stretch", "ratchet", "potential-based"]
            .map(crate::model::fixtures::plan)
            .into();
        plans.push(plain_plan(0.03));
        let (mut cases, mut agree, mut worst_loss) = (0, 0, 0.0_f64);
        let mut first_miss = None;
        for base in &plans {
            for amount in [None, Some(1_000.0), Some(5_000.0)] {
                let mut plan = base.clone();
                match amount {
                    Some(a) => plan.bonuses.iter_mut().for_each(|k| k.amount = a),
                    None => plan.bonuses.clear(),
                }
                for goal in [10_000.0, 20_000.0, 30_000.0, 45_000.0, 70_000.0] {
                    for done in [0.0, 0.3, 0.7, 1.1] {
                        for months_left in 1..=3 {
                            for more_periods in [true, false] {
                                for revenue_at_normal in [5_000.0, 10_000.0, 20_000.0] {
                                    let windows: Vec<WindowView> = plan
                                        .bonuses
                                        .iter()
                                        .map(|_| WindowView::new(done * goal, months_left, goal))
                                        .collect();
                                    let s = Situation {
                                        goal,
                                        achieved: done * goal,
                                        months_left,
                                        more_periods,
                                        revenue_at_normal,
                                        windows: &windows,
                                        ..crate::model::fixtures::situation(&plan, &b)
                                    };
                                    let attention = selling_attention(&s, 0.0);
                                    let target = operative_goal(&s, &attention);
                                    let found = choose_effort(&s, &attention, &target);
                                    let (every, u) = exhaustive(&s, &attention, &target);
                                    let range = u.iter().copied().fold(f64::MIN, f64::max)
                                        - u.iter().copied().fold(f64::MAX, f64::min);
                                    if found != every && first_miss.is_none() {
                                        first_miss = Some(format!(
                                            "point {found}, every point's best {every}: goal {goal}, done {done}, {months_left} months left, bonus {amount:?}, U {u:?}"
                                        ));
                                    }
                                    cases += 1;
                                    agree += usize::from(found == every);
                                    worst_loss =
                                        worst_loss.max((u[every] - u[found]) / range.max(1e-9));
                                }
                            }
                        }
                    }
                }
            }
        }
        let rate = agree as f64 / cases as f64;
        assert!(cases > 5_000);
        // 5,400 of 5,400 when this test was written.
        assert!(
            rate >= 0.995,
            "the search agrees in {rate:.4} of {cases} cases"
        );
        assert!(
            worst_loss <= 1e-4,
            "worst utility loss {worst_loss:.2e} of U's range"
        );
    }
}
