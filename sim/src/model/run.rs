//! The monthly step: one spec simulated over the horizon in one replication.
//!
//! Order within a month: goal periods start (goals set), partner target periods start;
//! each rep sizes up their territory and chooses effort, compliance, recruiting and deal
//! timing; each partner is served, sells through, orders, loads or unwinds stock, gains or
//! loses engagement and may change stage; reps may leave and vacant seats be filled; periods
//! that end this month are settled (commission, bonuses, rebates, misses).
//!
//! Every partner-month draws exactly one normal and one uniform, every rep-month three
//! numbers and nothing else draws, so the random stream stays aligned across specs: spec A
//! and spec B in replication *i* see the same demand shocks and the same event draws.
//! Partners are visited seat by seat, which is slot order (a seat's slots are contiguous).
//!
//! This file is only the month's order: each mechanism is a function of its own in
//! `calendar.rs`, `seat.rs`, `rep.rs`/`effort.rs`/`timing.rs`, `partner.rs` and
//! `periods.rs` (sim/MODEL.md §3 maps sections to functions), and every sum is the ledger's.

use chanlab_shared::{LifecycleStage, Tier};
use rand::RngExt;
use rand_distr::StandardNormal;

use super::calendar::{Calendar, GoalMonth};
use super::effort::EffortGrid;
use super::ledger::{Ledger, REFERENCE_PARTNER_MARGIN, SeatBooks};
use super::observe::{Observer, PartnerMonth, PeriodSettled, SeatEvent, SeatStart, SlotStart};
use super::outcome::Outcome;
use super::partner::{self, MonthTerms, SeatMonth, SeatService};
use super::periods::{set_goal, settle_bonus, settle_period};
use super::plan::{ByTier, Plan};
use super::rep::{self, WindowView};
use super::seat::{self, SeatDraws, Territory, Turnover};
use super::state::{self, Partner, Rep};
use super::world::{World, lognormal_unit_mean};
use crate::params::Behaviour;
use crate::seed::ReplicationRng;

/// Goal periods simulated before month 1 to find what each generated partner owes at the
/// start (sim/MODEL.md §9.2). One is not enough: its own first month owes nothing, so its
/// period end pulls in more than later ones and the first simulated period would open owing
/// more than usual; after two the owed amount is within the range of later periods.
pub(super) const WARM_UP_PERIODS: usize = 2;

/// Simulates on `world` for `horizon` months, drawing shocks from `rng`, under `plans[k]` in
/// months `[k·round_months, (k+1)·round_months)` (the last plan stays in force after its
/// round). One plan and `round_months` ≥ horizon is the ordinary run; several are a training
/// session, where the trainee re-decides each round. Round boundaries must fall on goal
/// period, bonus window and partner target period boundaries (the training module checks).
pub(crate) fn simulate<O: Observer>(
    world: &World,
    plans: &[&Plan],
    round_months: usize,
    b: &Behaviour,
    rng: &mut ReplicationRng,
    observer: &mut O,
) -> Outcome {
    let calendar = Calendar {
        anchor: world.months_from_anchor,
        horizon: world.market.len(),
    };
    let (mut reps, mut partners) = state::open(world, b, plans[0].bonuses.len());
    warm_up(world, plans[0], b, rng, &calendar, &mut partners);
    if O::WANTS_OPENING {
        observe_opening(&reps, &partners, observer);
    }
    let mut ledger = Ledger::open(world, &reps, &partners, calendar.horizon);
    let stretch = Stretch {
        calendar,
        months: calendar.horizon,
        market: &world.market,
    };
    let run = Run {
        reps: &mut reps,
        partners: &mut partners,
        ledger: &mut ledger,
        rng,
        observer,
    };
    run_months(world, plans, round_months, b, &stretch, run);
    ledger.finish(&partners, b)
}

/// Months simulated in one go: the calendar they are numbered in (its horizon counts every
/// month after them that deals may be pulled from) and the market multiplier of each.
struct Stretch<'a> {
    calendar: Calendar,
    months: usize,
    market: &'a [f64],
}

/// The state a stretch of months moves, and where its draws and events come from and go.
struct Run<'a, O> {
    reps: &'a mut Vec<Rep>,
    partners: &'a mut Vec<Partner>,
    ledger: &'a mut Ledger,
    rng: &'a mut ReplicationRng,
    observer: &'a mut O,
}

/// The warm-up (sim/MODEL.md §9.2): `WARM_UP_PERIODS` goal periods of the first plan (and
/// the months of a period the start cuts into) simulated before month 1 on a copy of the
/// opening state, from a stream of their own (the replication's stream jumped 2¹⁹² draws
/// ahead, so specs stay paired and the run's own draws are untouched). Only what each
/// generated partner selling at the start still owes is kept; everything else the warm-up
/// did is discarded, so month 1 opens on the channel as drawn.
fn warm_up(
    world: &World,
    plan: &Plan,
    b: &Behaviour,
    rng: &ReplicationRng,
    calendar: &Calendar,
    partners: &mut [Partner],
) {
    if !world.partners.iter().any(|p| p.warm_up) {
        return;
    }
    let period = plan.period_months.max(1) as usize;
    let months = WARM_UP_PERIODS * period + calendar.phase(0, period);
    let mut warm_rng = rng.clone();
    warm_rng.long_jump();
    let market: Vec<f64> = (0..months)
        .map(|_| lognormal_unit_mean(b.market_volatility, warm_rng.sample(StandardNormal)))
        .collect();
    let stretch = Stretch {
        calendar: Calendar {
            anchor: calendar.anchor - months as i64,
            horizon: months + calendar.horizon,
        },
        months,
        market: &market,
    };
    let (mut reps, mut warm) = state::open(world, b, plan.bonuses.len());
    let mut ledger = Ledger::open(world, &reps, &warm, months);
    let run = Run {
        reps: &mut reps,
        partners: &mut warm,
        ledger: &mut ledger,
        rng: &mut warm_rng,
        observer: &mut (),
    };
    run_months(world, &[plan], usize::MAX, b, &stretch, run);
    debug_assert_eq!(partners.len(), world.partners.len());
    for ((p, w), draw) in partners.iter_mut().zip(&warm).zip(&world.partners) {
        if draw.warm_up && p.stage.is_selling() {
            p.carry = w.carry;
        }
    }
}

/// Simulates the months of `stretch` on `run`'s state (sim/MODEL.md §3, in its order).
fn run_months<O: Observer>(
    world: &World,
    plans: &[&Plan],
    round_months: usize,
    b: &Behaviour,
    stretch: &Stretch<'_>,
    run: Run<'_, O>,
) {
    let Run {
        reps,
        partners,
        ledger,
        rng,
        observer,
    } = run;
    let calendar = stretch.calendar;
    let round_months = round_months.max(1);
    let plan_at = |t: usize| plans[(t / round_months).min(plans.len() - 1)];
    let mut plan = plan_at(0);
    let tiers = TierTerms::of(b);
    // x^β on the effort search's grid, once per simulation (sim/MODEL.md §3.6).
    let effort_grid = EffortGrid::new(b);
    let rates = Turnover::of(b);
    // Per-seat scratch for the month and the month's partner draws, reused.
    let mut seats: Vec<SeatMonth> = Vec::with_capacity(reps.len());
    // Each seat's territory as the next month opens, summed during the partners' month
    // under `territory_plan`; summed afresh when another plan comes into force.
    let mut territories: Vec<Territory> = Vec::with_capacity(reps.len());
    let mut territory_plan: Option<&Plan> = None;
    let mut windows: Vec<WindowView> = Vec::with_capacity(plan.bonuses.len());
    let mut shocks: Vec<(f64, f64)> = Vec::with_capacity(partners.len());

    for t in 0..stretch.months {
        if !std::ptr::eq(plan, plan_at(t)) {
            plan = plan_at(t);
            // A new round's plan: its bonus windows start now.
            for rep in reps.iter_mut() {
                rep.windows = vec![(0.0, 0.0); plan.bonuses.len()];
            }
        }
        let period = plan.period_months.max(1) as usize;
        let goal = calendar.goal_month(t, period);
        let target = calendar.target_month(t, plan.target_period_months.max(1) as usize);
        if goal.starts {
            for rep in reps.iter_mut() {
                set_goal(rep, plan, b, partners, t, period, goal.len);
                ledger.goal_set(rep.goal);
            }
        }
        if target.starts {
            set_partner_targets(partners, b, target.months_left);
        }

        // Reps size up their territories and choose.
        let month = SeatsMonth {
            t,
            plan,
            b,
            world,
            calendar: &calendar,
            goal: &goal,
            tiers: &tiers,
            effort_grid: &effort_grid,
        };
        if !territory_plan.is_some_and(|p| std::ptr::eq(p, plan)) {
            territories.clear();
            territories.extend(
                reps.iter()
                    .map(|r| seat::territory(&partners[r.first..r.end], plan, &tiers.own, b)),
            );
            territory_plan = Some(plan);
        }
        choose_all(&month, reps, &territories, &mut seats, &mut windows, ledger);

        // Partners are served, sell and order.
        let terms = MonthTerms {
            market: stretch.market[t],
            floor: engagement_floor(plan, b),
            target_months_left: target.months_left,
            last_target_month: target.ends,
            months_after: calendar.months_after(t),
        };
        let inventory = partners_month(
            &month,
            &terms,
            reps,
            partners,
            &seats,
            &mut territories,
            rng,
            &mut shocks,
            ledger,
            observer,
        );
        ledger.partners_done(t, plan);

        // Reps come and go; bonus windows that end are settled.
        staff_and_windows(&month, reps, &seats, &rates, rng, ledger, observer);

        if goal.ends {
            settle_periods(reps, plan, t, goal.first_month, ledger, observer);
        }
        if target.ends {
            ledger.rebates(partners, plan);
        }
        debug_check(partners);
        ledger.month_done(inventory, plan, b);
    }
}

/// The terms of a month every seat shares.
struct SeatsMonth<'a> {
    t: usize,
    plan: &'a Plan,
    b: &'a Behaviour,
    world: &'a World,
    calendar: &'a Calendar,
    goal: &'a GoalMonth,
    tiers: &'a TierTerms,
    effort_grid: &'a EffortGrid,
}

/// Every rep sizes up their territory and chooses (sim/MODEL.md §3.2–§3.7); `seats` gets
/// what each choice means for the seat's partners.
// MODEL.md §3.2
fn choose_all(
    m: &SeatsMonth<'_>,
    reps: &[Rep],
    territories: &[Territory],
    seats: &mut Vec<SeatMonth>,
    windows: &mut Vec<WindowView>,
    ledger: &mut Ledger,
) {
    seats.clear();
    for (rep, territory) in reps.iter().zip(territories) {
        if !rep.filled {
            // Nobody to choose: what a vacant seat's partners get is attention only.
            seats.push(seat::seat_month(
                seat::VACANT,
                false,
                m.calendar.is_last(m.t),
                territory.prospects,
                m.b,
            ));
            continue;
        }
        let backing = m.world.regions[rep.region].backing;
        let situation = seat::situation(
            rep,
            territory,
            m.plan,
            m.b,
            m.effort_grid,
            backing,
            m.calendar,
            m.t,
            m.goal,
            windows,
        );
        let choice = rep::choose(&situation);
        ledger.filled_seat(rep.goal > 0.0 && choice.commitment < COMMITTED);
        seats.push(seat::seat_month(
            choice,
            true,
            m.calendar.is_last(m.t),
            territory.prospects,
            m.b,
        ));
    }
}

/// After the partners' month: filled seats log their recruiting calls, reps come and go
/// (sim/MODEL.md §3.14, three draws a seat in seat order), and bonus windows that end are
/// settled (§5.2).
// MODEL.md §3.14
fn staff_and_windows<O: Observer>(
    m: &SeatsMonth<'_>,
    reps: &mut [Rep],
    seats: &[SeatMonth],
    rates: &Turnover,
    rng: &mut ReplicationRng,
    ledger: &mut Ledger,
    observer: &mut O,
) {
    let (plan, b) = (m.plan, m.b);
    for (index, (rep, seat)) in reps.iter_mut().zip(seats).enumerate() {
        if rep.filled {
            rep.recruiting_actions += seat.choice.recruiting * b.calls_per_month;
        }
        let draws = SeatDraws {
            u_quit: rng.random(),
            u_vacancy: rng.random(),
            z_skill: rng.sample(StandardNormal),
        };
        if let Some(event) = seat::turnover(rep, draws, rates, b) {
            if event == SeatEvent::Left {
                ledger.rep_left();
            }
            observer.seat_event(m.t, index, event);
        }
        for (k, bonus) in plan.bonuses.iter().enumerate() {
            rep.windows[k].1 += rep.goal / m.goal.len;
            if m.calendar.window_ends(m.t, bonus.window_months) {
                settle_bonus(rep, plan, k, ledger.kpis_mut());
            }
        }
    }
}

/// Commitment below which a rep has judged the goal out of reach (sim/MODEL.md §3.5).
pub(super) const COMMITTED: f64 = 0.5;

/// Exponent of the partner margin's pull on the engagement floor, and the floor's cap
/// (sim/MODEL.md §5.4).
pub(super) const MARGIN_PULL_EXPONENT: f64 = 0.3;
pub(super) const FLOOR_CAP: f64 = 0.9;

/// Engagement a partner keeps with no attention under `plan`'s partner margin (§5.4).
// MODEL.md §5.4
fn engagement_floor(plan: &Plan, b: &Behaviour) -> f64 {
    floor_at_margin(plan.partner_margin, b)
}

/// The engagement floor at partner margin `margin` (§5.4): from-records estimates read it
/// too, so it is stated once.
pub(crate) fn floor_at_margin(margin: f64, b: &Behaviour) -> f64 {
    let margin_pull = (margin / REFERENCE_PARTNER_MARGIN).powf(MARGIN_PULL_EXPONENT);
    (b.engagement_floor * margin_pull).min(FLOOR_CAP)
}

/// Per-tier terms of the behaviour, looked up by tier in the partner loop.
struct TierTerms {
    /// Touches for half the engagement above the floor.
    half: ByTier<f64>,
    /// Touches a rep makes unprompted at normal effort.
    own: ByTier<f64>,
}

impl TierTerms {
    fn of(b: &Behaviour) -> Self {
        let per_tier = |v: &crate::params::PerTier| ByTier(Tier::ALL.map(|t| v.get(t)));
        TierTerms {
            half: per_tier(&b.touches_for_half_engagement),
            own: per_tier(&b.own_touches),
        }
    }
}

/// Partner target periods start: each partner's target is its forecast grown, over the
/// period (sim/MODEL.md §3.1).
// MODEL.md §3.1
fn set_partner_targets(partners: &mut [Partner], b: &Behaviour, months: f64) {
    let growth = 1.0 + b.partner_target_growth;
    for p in partners.iter_mut() {
        p.period_sell_in = 0.0;
        p.target = growth * p.forecast * months;
    }
}

/// Every partner's month, seat by seat: a seat's partners are contiguous slots and seats are
/// in slot order, so the two draws of each partner-month come in slot order (the
/// common-random-number contract). Each seat's territory for next month is summed as its
/// partners finish theirs, saving a pass over the channel. Returns the channel's stock at
/// the month's end.
#[allow(clippy::too_many_arguments)] // the month loop's state, each from its owner
fn partners_month<O: Observer>(
    m: &SeatsMonth<'_>,
    terms: &MonthTerms,
    reps: &mut [Rep],
    partners: &mut [Partner],
    seats: &[SeatMonth],
    territories: &mut [Territory],
    rng: &mut ReplicationRng,
    shocks: &mut Vec<(f64, f64)>,
    ledger: &mut Ledger,
    observer: &mut O,
) -> f64 {
    draw_shocks(rng, partners.len(), shocks);
    let mut inventory = 0.0;
    let mut next_slot = 0;
    for (index, rep) in reps.iter_mut().enumerate() {
        debug_assert_eq!(
            rep.first, next_slot,
            "seats' slots are contiguous, in order"
        );
        next_slot = rep.end;
        let seat = &seats[index];
        let mut next = Territory::EMPTY;
        let mut books = SeatBooks::default();
        let seat_shocks = &shocks[rep.first..rep.end];
        let seat_partners = &mut partners[rep.first..rep.end];
        let service = SeatService::of(seat, m.plan, &m.tiers.own, &m.tiers.half, terms.floor);
        for (slot, (p, &(z, u))) in seat_partners.iter_mut().zip(seat_shocks).enumerate() {
            partner_month(PartnerMonthIn {
                t: m.t,
                slot: rep.first + slot,
                seat_index: index,
                p,
                seat,
                service: &service,
                terms,
                plan: m.plan,
                b: m.b,
                tiers: m.tiers,
                z,
                u,
                books: &mut books,
                observer,
            });
            next.count(p, m.plan, &m.tiers.own, m.b);
            inventory += p.inventory;
        }
        territories[index] = next;
        close_books(rep, index, &books, m.plan, ledger);
    }
    debug_assert_eq!(next_slot, partners.len(), "every slot has a seat");
    inventory
}

/// The month's two draws of every partner slot, the demand shock's normal then the event
/// uniform, in slot order: the stream the common-random-number contract fixes, drawn in one
/// tight loop into `shocks` before any partner's month uses them.
fn draw_shocks(rng: &mut ReplicationRng, slots: usize, shocks: &mut Vec<(f64, f64)>) {
    shocks.clear();
    shocks.extend((0..slots).map(|_| {
        let z: f64 = rng.sample(StandardNormal);
        let u: f64 = rng.random();
        (z, u)
    }));
}

/// Everything one partner-month reads and writes.
struct PartnerMonthIn<'a, O> {
    t: usize,
    slot: usize,
    seat_index: usize,
    p: &'a mut Partner,
    seat: &'a SeatMonth,
    /// The seat's service to each tier this month.
    service: &'a SeatService,
    terms: &'a MonthTerms,
    plan: &'a Plan,
    b: &'a Behaviour,
    tiers: &'a TierTerms,
    /// The partner-month's two draws: the demand shock and the event uniform.
    z: f64,
    u: f64,
    books: &'a mut SeatBooks,
    observer: &'a mut O,
}

/// One partner slot's month, mechanism by mechanism (sim/MODEL.md §3.8–§3.13), booked in the
/// ledger and told to the observer.
fn partner_month<O: Observer>(m: PartnerMonthIn<'_, O>) {
    let PartnerMonthIn {
        t,
        slot,
        seat_index,
        p,
        seat,
        service: seat_service,
        terms,
        plan,
        b,
        tiers,
        z,
        u,
        books,
        observer,
    } = m;
    let before = p.stage;
    let served = partner::pipeline(p, seat.conversion, u, plan, b, terms);
    if !served {
        if p.stage != before {
            match p.stage {
                LifecycleStage::Negotiating => books.recruiting_actions += 1.0,
                LifecycleStage::Contracted => books.signed += 1.0,
                _ => {}
            }
            observer.stage_change(t, slot, before, p.stage);
        }
        return;
    }
    let tier_service = &seat_service.0[p.tier];
    let service = tier_service.to(p);
    books.served(&service);

    let noise = lognormal_unit_mean(b.demand_noise, z);
    let natural = partner::natural_demand(p, terms.market, noise, seat.response);
    let timed = partner::deal_timing(p, seat, natural, plan, b, terms.months_after);
    let order = partner::order(p, &timed, natural, plan, b, terms.last_target_month);
    books.ordered(&timed, &order, seat.choice.pull_discount, plan);
    let target = tier_service.target(p, &service, tiers.half[p.tier], terms.floor);
    partner::engagement(p, target, order.rep_loading, b);
    if partner::stage_and_churn(p, u, b) {
        books.churned += 1.0;
    }
    if p.stage != before {
        observer.stage_change(t, slot, before, p.stage);
    }
    books.booked(order.sell_in, timed.sell_through);
    observer.partner_month(
        t,
        slot,
        &PartnerMonth {
            seat: seat_index,
            sell_in: order.sell_in,
            sell_through: timed.sell_through,
            touches: service.touches,
            mandated: service.mandated,
            engagement: p.engagement,
            expected: natural / (terms.market * noise),
        },
    );
}

/// A seat's month in its books (sim/MODEL.md §3.13): goal-metric revenue toward the period
/// and every bonus window, commission revenue while the seat is filled (nobody earns
/// commission on what a vacant seat's partners buy), touches and recruiting actions toward
/// activity goals; and the seat's page of the ledger.
// MODEL.md §3.13
fn close_books(rep: &mut Rep, index: usize, books: &SeatBooks, plan: &Plan, ledger: &mut Ledger) {
    rep.touches_done += books.touches;
    rep.recruiting_actions += books.recruiting_actions;
    let goal_revenue = books.goal_revenue(plan);
    rep.achieved += goal_revenue;
    for w in rep.windows.iter_mut() {
        w.0 += goal_revenue;
    }
    if rep.filled {
        rep.commission_revenue += books.commission_revenue(plan);
    }
    ledger.seat_done(index, rep.region, books, plan);
}

/// Goal periods that end this month are settled, seat by seat (sim/MODEL.md §3.15).
// MODEL.md §3.15
fn settle_periods<O: Observer>(
    reps: &mut [Rep],
    plan: &Plan,
    t: usize,
    first_month: usize,
    ledger: &mut Ledger,
    observer: &mut O,
) {
    for (index, rep) in reps.iter_mut().enumerate() {
        if plan.goal_weights.revenue > 0.0 && rep.goal > 0.0 {
            ledger.post_goal(index, (rep.achieved - rep.goal).max(0.0));
        }
        let (goal, achieved) = (rep.goal, rep.achieved);
        let att = settle_period(rep, plan, ledger.kpis_mut());
        observer.period_settled(
            t,
            &PeriodSettled {
                seat: index,
                first_month,
                goal,
                achieved,
                attainment: att.filter(|_| rep.filled),
            },
        );
        if let (true, Some(att)) = (rep.filled, att) {
            ledger.attained(att);
        }
    }
    ledger.period_ended(t, first_month, plan);
}

fn observe_opening<O: Observer>(reps: &[Rep], partners: &[Partner], observer: &mut O) {
    let seats: Vec<SeatStart> = reps
        .iter()
        .map(|r| SeatStart {
            region: r.region,
            tenure_months: r.tenure,
        })
        .collect();
    let slots: Vec<SlotStart> = partners
        .iter()
        .map(|p| SlotStart {
            seat: p.rep,
            tier: p.tier,
            stage: p.stage,
            potential: p.potential,
            engagement: p.engagement,
        })
        .collect();
    observer.opening(&seats, &slots);
}

#[cfg(debug_assertions)]
fn debug_check(partners: &[Partner]) {
    for p in partners {
        debug_assert!(p.inventory >= -1e-6, "negative inventory");
        debug_assert!(p.potential >= 0.0, "negative potential");
        debug_assert!(
            (0.0..=1.0).contains(&p.engagement),
            "engagement out of range"
        );
    }
}

#[cfg(not(debug_assertions))]
fn debug_check(_: &[Partner]) {}
