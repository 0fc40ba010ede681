//! Hand-built states the mechanism tests share (test builds only): a bundled spec's plan, a
//! seat, a partner slot and a rep's situation. A test changes what it is about with struct
//! update syntax (`Situation { goal, ..situation(&p, &b) }`), so each reads as its scenario.

use chanlab_shared::{LifecycleStage, Tier};

use super::effort::EffortGrid;
use super::plan::Plan;
use super::rep::Situation;
use super::state::{Partner, Rep};
use crate::bundled;
use crate::files::{Format, parse_rules};
use crate::params::Behaviour;

/// The bundled spec `name`, compiled.
pub(super) fn plan(name: &str) -> Plan {
    Plan::compile(&rules(name))
}

fn rules(name: &str) -> chanlab_shared::ProcessRules {
    parse_rules(bundled::find_spec(name).unwrap().text, Format::Toml).unwrap()
}

/// The flat-growth spec paid a plain `rate` commission: no accelerator, cap or bonus.
pub(super) fn plain_commission(rate: f64) -> Plan {
    let mut r = rules("flat-growth");
    r.incentive = chanlab_shared::IncentivePlan::new(
        chanlab_shared::RevenueBasis::SellThrough,
        chanlab_shared::Fraction::new(rate).unwrap(),
        Vec::new(),
        None,
        Vec::new(),
    )
    .unwrap();
    Plan::compile(&r)
}

/// A filled seat with no partners of its own, two years in, a 30,000 goal, nothing booked.
pub(super) fn rep() -> Rep {
    Rep {
        region: 0,
        first: 0,
        end: 0,
        filled: true,
        vacancy_left: 0,
        skill: 1.0,
        tenure: 24.0,
        knowledge: 1.0,
        estimate: 1.0,
        baseline_monthly: 10_000.0,
        misses: 0,
        goal: 30_000.0,
        last_goal: 0.0,
        last_actual: 0.0,
        touch_target: 0.0,
        recruit_target: 0.0,
        achieved: 0.0,
        commission_revenue: 0.0,
        touches_done: 0.0,
        recruiting_actions: 0.0,
        windows: Vec::new(),
    }
}

/// A partner slot of `tier` in `stage` with 10,000 a month of potential at engagement 0.6
/// (a run rate of 6,000), long past its ramp-up, holding two months of cover, keen on
/// rebates.
pub(super) fn partner(stage: LifecycleStage, tier: Tier) -> Partner {
    Partner {
        rep: 0,
        tier,
        stage,
        potential: 10_000.0,
        engagement: 0.6,
        responsiveness: 1.0,
        inventory: 12_000.0,
        forecast: 6_000.0,
        months_selling: 100.0,
        ramp: 1.0,
        onboarding_left: 0,
        carry: 0.0,
        target: 0.0,
        period_sell_in: 0.0,
    }
}

/// A rep at the start of a quarter whose territory sells 10,000 a month at normal effort,
/// with a 30,000 goal, no prospects, no mandated touches and no bonus windows, another
/// period to come.
pub(super) fn situation<'a>(plan: &'a Plan, b: &'a Behaviour) -> Situation<'a> {
    Situation {
        plan,
        behaviour: b,
        effort_grid: EffortGrid::leaked(b),
        revenue_at_normal: 10_000.0,
        skill: 1.0,
        ramp: 1.0,
        backing: 1.0,
        mandated_touches: 0.0,
        own_touches: 0.0,
        has_prospects: false,
        goal: 30_000.0,
        achieved: 0.0,
        months_left: 3,
        other_attainment: 0.0,
        misses: 0,
        more_periods: true,
        windows: &[],
    }
}
