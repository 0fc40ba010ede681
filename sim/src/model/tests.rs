//! One test per mechanism: each moves the way its source says when its driver moves.

use chanlab_shared::ProcessRules;

use super::plan::Plan;
use super::rep::{Situation, choose, compliance};
use super::timing::{closable, depth_for};
use crate::bundled;
use crate::files::{Format, parse_rules};
use crate::params::Behaviour;

fn rules(name: &str) -> ProcessRules {
    parse_rules(bundled::find_spec(name).unwrap().text, Format::Toml).unwrap()
}

fn plan(name: &str) -> Plan {
    super::fixtures::plan(name)
}

/// A rep at the start of a quarter whose territory sells 10,000 a month at normal effort.
fn situation<'a>(plan: &'a Plan, b: &'a Behaviour, goal: f64) -> Situation<'a> {
    Situation {
        goal,
        ..super::fixtures::situation(plan, b)
    }
}

/// The flat-growth spec paid a plain `rate` commission: no accelerator, cap or bonus.
fn linear(rate: f64) -> Plan {
    super::fixtures::plain_commission(rate)
}

fn effort_at(plan: &Plan, b: &Behaviour, goal: f64) -> f64 {
    choose(&situation(plan, b, goal)).effort
}

#[test]
fn effort_rises_with_goal_difficulty_while_the_goal_is_attainable() {
    // Locke & Latham 2002: performance rises with difficulty for committed, able people.
    let p = linear(0.03);
    let b = Behaviour::default();
    // The territory sells 30,000 a quarter at normal effort, 34,600 at the most.
    let easy = effort_at(&p, &b, 25_000.0);
    let moderate = effort_at(&p, &b, 32_000.0);
    let hard = effort_at(&p, &b, 35_000.0);
    assert!(
        easy < moderate && moderate <= hard,
        "efforts {easy} {moderate} {hard}"
    );
}

#[test]
fn effort_collapses_when_the_goal_is_out_of_reach() {
    // Stedry & Kay 1964; Locke & Latham 2002: goals seen as impossible lose commitment.
    let p = linear(0.03);
    let b = Behaviour::default();
    let attainable = effort_at(&p, &b, 35_000.0);
    let impossible = effort_at(&p, &b, 60_000.0);
    assert!(
        impossible < attainable,
        "impossible {impossible} vs attainable {attainable}"
    );
}

#[test]
fn repeated_misses_erode_commitment() {
    // Höpfner & Keith 2021: failing a high goal lowers later motivation.
    let p = linear(0.03);
    let b = Behaviour::default();
    let fresh = choose(&situation(&p, &b, 34_000.0)).effort;
    let mut s = situation(&p, &b, 34_000.0);
    s.misses = 4;
    assert!(choose(&s).effort < fresh);
}

#[test]
fn a_richer_commission_buys_more_effort() {
    // Expectancy: effort follows pay (mechanism 2). With an easy goal only pay moves effort.
    let b = Behaviour::default();
    assert!(effort_at(&linear(0.08), &b, 10_000.0) > effort_at(&linear(0.03), &b, 10_000.0));
    assert!(effort_at(&linear(0.01), &b, 10_000.0) < effort_at(&linear(0.03), &b, 10_000.0));
}

#[test]
fn under_a_ratchet_reps_hold_back_above_goal() {
    // Weitzman 1980; Misra & Nair 2011: output above goal raises the next goal.
    let b = Behaviour::default();
    let ratchet = plan("ratchet");
    let flat = plan("flat-growth");
    let goal = 24_000.0; // easily beaten
    assert!(effort_at(&ratchet, &b, goal) < effort_at(&flat, &b, goal));
    let mut last = situation(&ratchet, &b, goal);
    last.more_periods = false;
    assert!(
        choose(&last).effort > effort_at(&ratchet, &b, goal),
        "no ratchet after the last period"
    );
}

#[test]
fn short_of_goal_in_the_last_month_a_rep_pulls_deals_in() {
    // Oyer 1998; Larkin 2014: deals are timed to cross thresholds.
    let p = plan("flat-growth");
    let b = Behaviour::default();
    let mut s = situation(&p, &b, 30_000.0);
    s.months_left = 1;
    s.achieved = 17_500.0; // about 1.1 months' revenue short of goal
    let choice = choose(&s);
    assert!(choice.pull_in > 0.0, "{choice:?}");
    // No more than the closable pipeline holds: half of `max_pull_in` months.
    assert!(choice.pull_in <= b.max_pull_in / 2.0 * choice.expected_revenue + 1e-9);
    assert!(choice.pull_discount > 0.0 && choice.pull_discount < 1.0);
    // Far short, the goal is out of reach of a pull-in: nothing is pulled.
    s.achieved = 0.0;
    assert_eq!(choose(&s).pull_in, 0.0);
}

#[test]
fn a_threshold_is_not_bought_with_a_discount_that_costs_the_rep_more() {
    // The rep bears the commission on the discount: a goal worth next to nothing is not
    // worth a discounted pull-in.
    let p = linear(0.03);
    let b = Behaviour::default();
    let faint = Behaviour {
        goal_value: 0.01,
        ..Behaviour::default()
    };
    let mut s = situation(&p, &b, 30_000.0);
    s.months_left = 1;
    s.achieved = 17_500.0;
    assert!(choose(&s).pull_in > 0.0);
    s.behaviour = &faint;
    assert_eq!(choose(&s).pull_in, 0.0);
}

#[test]
fn the_closable_pipeline_thins_out_with_reach() {
    // Of the deals due s months ahead the share 1 − s/reach can close now.
    assert!((closable(2.0, 2.0) - 1.0).abs() < 1e-12);
    assert!((closable(1.0, 2.0) - 0.75).abs() < 1e-12);
    assert!((closable(5.0, 2.0) - 1.0).abs() < 1e-12);
    assert_eq!(closable(1.0, 0.0), 0.0);
    for v in [0.0, 0.2, 0.75, 1.0] {
        let depth = depth_for(v, 2.0).unwrap();
        assert!((closable(depth, 2.0) - v).abs() < 1e-12, "{v}");
    }
    assert_eq!(depth_for(1.01, 2.0), None);
}

#[test]
fn in_an_accelerated_band_a_rep_pulls_the_next_periods_deals_in() {
    // Larkin 2014: an accelerating commission makes concentrating deals in one period pay.
    let p = plan("flat-growth"); // 1.5x from 100%, capped at 200%
    let b = Behaviour::default();
    let mut s = situation(&p, &b, 30_000.0);
    s.months_left = 1;
    s.achieved = 31_000.0; // past goal, more than a pull-in short of the cap
    let choice = choose(&s);
    // Deals are pulled while 1.5 × (1 − discount) beats the base rate: up to the deals whose
    // discount is 1/3, which every customer pulled in then gets.
    let depth = (1.0 - 1.0 / 1.5) / b.pull_in_discount;
    let expected = closable(depth, b.max_pull_in) * choice.expected_revenue;
    assert!(
        (choice.pull_in - expected).abs() < 1e-6,
        "pulls to where the accelerator stops paying for the discount: {choice:?}"
    );
    assert!(
        (choice.pull_discount - 1.0 / 3.0).abs() < 1e-9,
        "{choice:?}"
    );
    // A steeper accelerator (2x, no cap) reaches further, at a deeper discount.
    let steep = plan("stretch");
    let mut t = situation(&steep, &b, 30_000.0);
    t.months_left = 1;
    t.achieved = 31_000.0;
    let steeper = choose(&t);
    assert!(
        steeper.pull_in / steeper.expected_revenue > choice.pull_in / choice.expected_revenue,
        "{steeper:?}"
    );
    assert!((steeper.pull_discount - 0.5).abs() < 1e-9, "{steeper:?}");
    // With no period to come there is nothing to pull from.
    s.more_periods = false;
    assert_eq!(choose(&s).pull_in, 0.0);
    // Near the cap, only up to the cap.
    s.more_periods = true;
    s.achieved = 45_000.0;
    let near_cap = choose(&s);
    assert!(near_cap.pull_in < expected);
    assert!(near_cap.pull_in > 0.0);
}

#[test]
fn past_the_cap_a_rep_pushes_deals_out() {
    let p = plan("flat-growth"); // capped at 200% of goal
    let b = Behaviour::default();
    let mut s = situation(&p, &b, 10_000.0);
    s.months_left = 1;
    s.achieved = 19_000.0;
    let choice = choose(&s);
    assert!(choice.push_out > 0.0, "{choice:?}");
    assert_eq!(choice.pull_in, 0.0);
}

#[test]
fn what_gets_measured_gets_done_and_backing_scales_it() {
    // Kerr 1975; Holmström & Milgrom 1991; dual authority (PRODUCT.md).
    let b = Behaviour::default();
    let unmeasured = plan("flat-growth");
    let assessed = plan("potential-based"); // visits are 40% of the assessment, 20% of pay
    assert!(compliance(&assessed, &b, 1.0) > compliance(&unmeasured, &b, 1.0));
    assert!(compliance(&assessed, &b, 0.3) < compliance(&assessed, &b, 1.0));
    assert_eq!(compliance(&assessed, &b, 0.0), 0.0);
}

#[test]
fn measured_recruiting_takes_more_of_a_reps_time() {
    let b = Behaviour::default();
    let farming = plan("flat-growth");
    let mut recruiting_rules = rules("flat-growth");
    recruiting_rules.assessment.key_links = chanlab_shared::MetricWeights::new(vec![
        chanlab_shared::MetricWeight {
            metric: chanlab_shared::Metric::SellThrough,
            weight: chanlab_shared::Fraction::new(0.5).unwrap(),
        },
        chanlab_shared::MetricWeight {
            metric: chanlab_shared::Metric::RecruitingCalls,
            weight: chanlab_shared::Fraction::new(0.5).unwrap(),
        },
    ])
    .unwrap();
    let recruiting = Plan::compile(&recruiting_rules);
    let mut a = situation(&farming, &b, 30_000.0);
    a.has_prospects = true;
    let mut r = situation(&recruiting, &b, 30_000.0);
    r.has_prospects = true;
    assert!(choose(&r).recruiting > choose(&a).recruiting);
}

#[test]
fn commission_integrates_accelerators_and_stops_at_the_cap() {
    let p = plan("flat-growth"); // 3%, 1.5x from 100%, cap at 200%
    // From 0% to 100% of a 10,000 goal: plain rate.
    assert!((p.commission(10_000.0, 0.0, 1.0) - 300.0).abs() < 1e-9);
    // From 100% to 200%: accelerated.
    assert!((p.commission(10_000.0, 1.0, 2.0) - 450.0).abs() < 1e-9);
    // Beyond the cap nothing more.
    assert!((p.commission(10_000.0, 2.0, 3.0)).abs() < 1e-9);
    // Straddling the goal: half plain, half accelerated.
    assert!((p.commission(10_000.0, 0.5, 1.5) - 375.0).abs() < 1e-9);
}
