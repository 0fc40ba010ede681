//! A rep seat's month outside the choice itself: what the seat sees of its territory
//! (sim/MODEL.md §3.2), what its choice means for its partners, and who sits in it next
//! month (§3.14).

use chanlab_shared::LifecycleStage;

use super::calendar::{Calendar, GoalMonth};
use super::effort::EffortGrid;
use super::observe::SeatEvent;
use super::partner::SeatMonth;
use super::periods::projected_other_attainment;
use super::plan::{ByTier, Plan};
use super::rep::{Choice, Situation, WindowView};
use super::state::{Partner, Rep, ramp};
use super::world::lognormal_unit_mean;
use crate::params::Behaviour;

/// A seat's territory as its rep sizes it up at the start of a month (sim/MODEL.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Territory {
    /// Run rate of the selling partners at normal attention (potential × engagement × ramp).
    pub(super) run_rate: f64,
    /// Mandated weighted touches a month over the selling partners.
    pub(super) mandated_touches: f64,
    /// Touches the rep would make unprompted at normal effort.
    pub(super) own_touches: f64,
    /// Prospects the seat could recruit.
    pub(super) prospects: usize,
}

/// Sizes up `partners` (one seat's) under `plan`; `own` are the rep's unprompted touches per
/// tier slot.
// MODEL.md §3.2
pub(super) fn territory(
    partners: &[Partner],
    plan: &Plan,
    own: &ByTier<f64>,
    b: &Behaviour,
) -> Territory {
    let mut t = Territory::EMPTY;
    for p in partners {
        t.count(p, plan, own, b);
    }
    t
}

impl Territory {
    /// Nothing yet.
    pub(super) const EMPTY: Territory = Territory {
        run_rate: 0.0,
        mandated_touches: 0.0,
        own_touches: 0.0,
        prospects: 0,
    };

    /// Adds partner `p` as it stands.
    pub(super) fn count(&mut self, p: &Partner, plan: &Plan, own: &ByTier<f64>, b: &Behaviour) {
        if p.stage.is_selling() {
            self.run_rate += p.run_rate(b);
            self.mandated_touches += plan.mandated_touches[p.tier];
            self.own_touches += own[p.tier];
        } else if p.stage == LifecycleStage::Prospect {
            self.prospects += 1;
        }
    }
}

/// What a seat knows when its rep chooses this month (sim/MODEL.md §3.2): its territory,
/// its period so far and its bonus windows. `windows` is scratch space the view borrows.
// MODEL.md §3.2
#[allow(clippy::too_many_arguments)] // the month's terms, each from a different owner
pub(super) fn situation<'a>(
    rep: &Rep,
    territory: &Territory,
    plan: &'a Plan,
    b: &'a Behaviour,
    effort_grid: &'a EffortGrid,
    backing: f64,
    calendar: &Calendar,
    t: usize,
    goal: &GoalMonth,
    windows: &'a mut Vec<WindowView>,
) -> Situation<'a> {
    windows.clear();
    let monthly_goal = rep.goal / goal.len;
    for (k, bonus) in plan.bonuses.iter().enumerate() {
        let left = calendar.window_months_left(t, bonus.window_months);
        let (done, goal_so_far) = rep.windows[k];
        windows.push(WindowView::new(
            done,
            left,
            goal_so_far + monthly_goal * f64::from(left),
        ));
    }
    Situation {
        plan,
        behaviour: b,
        effort_grid,
        revenue_at_normal: rep.knowledge * territory.run_rate,
        skill: rep.skill,
        // A new hire serves partners at least as well as an empty seat.
        ramp: ramp(rep.tenure, b.rep_ramp_months).max(b.vacant_attention),
        backing,
        mandated_touches: territory.mandated_touches,
        own_touches: territory.own_touches,
        has_prospects: territory.prospects > 0,
        goal: rep.goal,
        achieved: rep.achieved,
        months_left: goal.months_left,
        other_attainment: projected_other_attainment(
            rep,
            plan,
            goal.month_in_period,
            goal.months_left,
        ),
        misses: rep.misses,
        more_periods: goal.more_periods,
        windows,
    }
}

/// The rep's choice as it reaches the seat's partners: no deal timing in the last simulated
/// month (nothing after it to borrow from or push into), attention only from a vacant seat,
/// and the shares, conversion and response every partner of the seat uses.
// MODEL.md §3.2
pub(super) fn seat_month(
    mut choice: Choice,
    filled: bool,
    last_month: bool,
    prospects: usize,
    b: &Behaviour,
) -> SeatMonth {
    if last_month {
        choice.pull_in = 0.0;
        choice.push_out = 0.0;
    }
    if !filled {
        choice.attention = b.vacant_attention;
        choice.compliance = 0.0;
        choice.recruiting = 0.0;
        choice.effort = 0.0;
        choice.pull_in = 0.0;
        choice.push_out = 0.0;
    }
    let expected = choice.expected_revenue.max(MIN_EXPECTED_REVENUE);
    SeatMonth {
        choice,
        filled,
        pull: choice.pull_in / expected,
        push: choice.push_out / expected,
        conversion: (choice.recruiting * b.calls_per_month * b.call_conversion
            / prospects.max(1) as f64)
            .min(1.0),
        // Every partner of the rep gets the same attention: raise it to β once, here.
        response: choice.attention.max(0.0).powf(b.selling_elasticity),
    }
}

/// A vacant seat's choice: nobody sits in it to choose, and [`seat_month`] gives its partners
/// attention only, so every field is moot (timing shares of nothing are nothing).
pub(super) const VACANT: Choice = Choice {
    effort: 0.0,
    compliance: 0.0,
    recruiting: 0.0,
    attention: 0.0,
    pull_in: 0.0,
    push_out: 0.0,
    pull_discount: 0.0,
    expected_revenue: 0.0,
    commitment: 0.0,
};

/// Expected revenue below which timing shares are taken against this floor instead (a seat
/// with nothing to sell pulls and pushes nothing).
const MIN_EXPECTED_REVENUE: f64 = 1e-9;

/// Monthly chances a seat's occupant leaves, and that a vacant seat stays vacant.
#[derive(Debug, Clone, Copy)]
pub(super) struct Turnover {
    /// Monthly quit hazard with no missed goals: 1 − (1 − annual)^(1/12).
    pub(super) monthly_quit: f64,
    /// Monthly chance a vacancy carries on: 1 − 1/vacancy months (at least one month).
    pub(super) vacancy_stay: f64,
}

impl Turnover {
    /// The rates of `b`.
    pub(super) fn of(b: &Behaviour) -> Self {
        Turnover {
            monthly_quit: 1.0 - (1.0 - b.annual_attrition).powf(1.0 / 12.0),
            vacancy_stay: 1.0 - 1.0 / b.vacancy_months.max(1.0),
        }
    }
}

/// A seat-month's three draws, in stream order.
#[derive(Debug, Clone, Copy)]
pub(super) struct SeatDraws {
    pub(super) u_quit: f64,
    pub(super) u_vacancy: f64,
    pub(super) z_skill: f64,
}

/// Who sits in the seat next month (sim/MODEL.md §3.14): a rep may leave, with a hazard that
/// rises with each consecutive miss, leaving the seat vacant for a geometric number of months;
/// a vacancy that ends is filled by a new hire of fresh skill and no tenure.
// MODEL.md §3.14
pub(super) fn turnover(
    rep: &mut Rep,
    d: SeatDraws,
    rates: &Turnover,
    b: &Behaviour,
) -> Option<SeatEvent> {
    let mut event = None;
    if rep.filled {
        let hazard = rates.monthly_quit * (1.0 + b.attrition_per_miss * f64::from(rep.misses));
        if d.u_quit < hazard {
            rep.filled = false;
            rep.vacancy_left = geometric(d.u_vacancy, rates.vacancy_stay);
            event = Some(SeatEvent::Left);
        }
    } else if rep.vacancy_left > 0 {
        rep.vacancy_left -= 1;
    } else {
        rep.filled = true;
        rep.tenure = 0.0;
        rep.skill = lognormal_unit_mean(b.skill_spread, d.z_skill);
        rep.misses = 0;
        event = Some(SeatEvent::Hired);
    }
    rep.tenure += 1.0;
    event
}

/// Longest vacancy, months: a cap so a pathological draw cannot leave a seat empty forever.
const MAX_VACANCY_MONTHS: f64 = 120.0;

/// Months of vacancy: geometric with the given monthly probability of staying vacant.
fn geometric(u: f64, stay: f64) -> u32 {
    if stay <= 0.0 {
        return 0;
    }
    ((1.0 - u).ln() / stay.ln())
        .floor()
        .clamp(0.0, MAX_VACANCY_MONTHS) as u32
}

#[cfg(test)]
#[path = "seat_tests.rs"]
mod tests;
