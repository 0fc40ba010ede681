//! One test per seat-side mechanism, each on a hand-built seat.

use chanlab_shared::{LifecycleStage, Tier};

use super::*;
use crate::model::fixtures::{partner, plan, rep};
use crate::model::plan::ByTier;

fn choice() -> Choice {
    Choice {
        effort: 1.2,
        compliance: 0.8,
        recruiting: 0.3,
        attention: 1.1,
        pull_in: 600.0,
        push_out: 0.0,
        pull_discount: 0.05,
        expected_revenue: 6_000.0,
        commitment: 0.9,
    }
}

#[test]
fn a_seat_sees_only_its_selling_partners_and_counts_its_prospects() {
    let p = plan("potential-based");
    let b = Behaviour::default();
    let own = ByTier([3.0, 2.0, 1.0]);
    let partners = [
        partner(LifecycleStage::Active, Tier::A),
        partner(LifecycleStage::AtRisk, Tier::C),
        partner(LifecycleStage::Prospect, Tier::B),
        partner(LifecycleStage::Churned, Tier::B),
        partner(LifecycleStage::Negotiating, Tier::B),
    ];
    let t = territory(&partners, &p, &own, &b);
    assert_eq!(t.run_rate, 12_000.0, "two selling partners at 6,000");
    assert_eq!(
        t.mandated_touches,
        p.mandated_touches[Tier::A] + p.mandated_touches[Tier::C]
    );
    assert_eq!(t.own_touches, 4.0);
    assert_eq!(t.prospects, 1);
}

#[test]
fn a_seat_sees_its_goal_period_and_bonus_windows() {
    let p = plan("flat-growth");
    let b = Behaviour::default();
    let mut r = rep();
    r.windows = vec![(5_000.0, 10_000.0); p.bonuses.len()];
    let partners = [partner(LifecycleStage::Active, Tier::A)];
    let t = territory(&partners, &p, &ByTier([0.0; 3]), &b);
    let calendar = Calendar {
        anchor: 0,
        horizon: 24,
    };
    let goal = calendar.goal_month(1, 3);
    let mut windows = Vec::new();
    let s = situation(
        &r,
        &t,
        &p,
        &b,
        crate::model::effort::EffortGrid::leaked(&b),
        0.7,
        &calendar,
        1,
        &goal,
        &mut windows,
    );
    assert_eq!(s.months_left, 2);
    assert_eq!(s.revenue_at_normal, 6_000.0);
    assert_eq!(s.backing, 0.7);
    assert_eq!(s.goal, 30_000.0);
    assert_eq!(s.windows.len(), p.bonuses.len());
    for (w, bonus) in s.windows.iter().zip(&p.bonuses) {
        let left = calendar.window_months_left(1, bonus.window_months);
        assert_eq!(w.months_left, left);
        assert_eq!(
            w.goal,
            10_000.0 + 10_000.0 * f64::from(left),
            "goal so far + the rest"
        );
    }
}

#[test]
fn a_vacant_seat_gives_attention_only_and_the_last_month_times_nothing() {
    let b = Behaviour::default();
    let filled = seat_month(choice(), true, false, 4, &b);
    assert_eq!(filled.pull, 600.0 / 6_000.0);
    assert_eq!(filled.response, 1.1_f64.powf(b.selling_elasticity));
    let conversion = 0.3 * b.calls_per_month * b.call_conversion / 4.0;
    assert_eq!(filled.conversion, conversion.min(1.0));
    let last = seat_month(choice(), true, true, 4, &b);
    assert_eq!((last.pull, last.push), (0.0, 0.0));
    let vacant = seat_month(choice(), false, false, 4, &b);
    assert_eq!(vacant.choice.attention, b.vacant_attention);
    assert_eq!(
        (vacant.choice.compliance, vacant.conversion, vacant.pull),
        (0.0, 0.0, 0.0)
    );
    let flooded = seat_month(
        Choice {
            recruiting: 1.0,
            ..choice()
        },
        true,
        false,
        0,
        &Behaviour {
            calls_per_month: 1e6,
            ..Behaviour::default()
        },
    );
    assert_eq!(flooded.conversion, 1.0, "a chance, at most 1");
}

#[test]
fn misses_raise_the_quit_hazard_and_a_vacancy_ends_with_a_new_hire() {
    let b = Behaviour::default();
    let rates = Turnover::of(&b);
    let base = rates.monthly_quit;
    let u = base * 1.01; // just above the hazard without misses
    let draws = SeatDraws {
        u_quit: u,
        u_vacancy: 0.5,
        z_skill: 1.0,
    };
    let mut steady = rep();
    assert_eq!(turnover(&mut steady, draws, &rates, &b), None);
    assert_eq!(steady.tenure, 25.0);
    let mut missing = rep();
    missing.misses = 3;
    assert_eq!(
        turnover(&mut missing, draws, &rates, &b),
        Some(SeatEvent::Left)
    );
    assert!(!missing.filled);
    let vacancy = missing.vacancy_left;
    assert_eq!(vacancy, geometric(0.5, rates.vacancy_stay));
    for _ in 0..vacancy {
        assert_eq!(turnover(&mut missing, draws, &rates, &b), None);
    }
    assert_eq!(
        turnover(&mut missing, draws, &rates, &b),
        Some(SeatEvent::Hired)
    );
    assert!(missing.filled);
    assert_eq!((missing.tenure, missing.misses), (1.0, 0));
    assert_eq!(missing.skill, lognormal_unit_mean(b.skill_spread, 1.0));
}

#[test]
fn vacancies_are_geometric_and_capped() {
    assert_eq!(geometric(0.9, 0.0), 0, "no chance of staying vacant");
    assert_eq!(geometric(0.0, 0.5), 0);
    // P(stay ≥ k) = stay^k: u = 1 − 0.5^3.5 gives three whole months.
    assert_eq!(geometric(1.0 - 0.5_f64.powf(3.5), 0.5), 3);
    assert_eq!(geometric(1.0 - 1e-300, 0.999), MAX_VACANCY_MONTHS as u32);
    let rates = Turnover::of(&Behaviour {
        annual_attrition: 0.2,
        ..Behaviour::default()
    });
    assert!((1.0 - (1.0 - rates.monthly_quit).powi(12) - 0.2).abs() < 1e-12);
}

#[test]
fn the_seat_constants_are_the_ones_model_md_documents() {
    use crate::model::plan::assert_documented;
    assert_documented("seat.rs::MAX_VACANCY_MONTHS", &[MAX_VACANCY_MONTHS]);
    assert_documented("seat.rs::MIN_EXPECTED_REVENUE", &[MIN_EXPECTED_REVENUE]);
}
