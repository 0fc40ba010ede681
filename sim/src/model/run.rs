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

use chanlab_shared::{LifecycleStage, Tier};
use rand::RngExt;
use rand_distr::StandardNormal;

use super::effort::EffortGrid;
use super::observe::{Observer, PartnerMonth, PeriodSettled, SeatEvent, SeatStart, SlotStart};
use super::outcome::{
    ATTAINMENT_BINS, Detail, Kpi, MonthDetail, Outcome, RegionOutcome, SeatOutcome, attainment_bin,
};
use super::periods::{projected_other_attainment, set_goal, settle_bonus, settle_period};
use super::plan::Plan;
use super::rep::{self, Situation, WindowView};
use super::state::{Partner, Rep};
use super::world::{World, lognormal_unit_mean};
use crate::params::Behaviour;
use crate::seed::ReplicationRng;

/// Partner margin the behaviour defaults are calibrated at; a richer margin raises partners'
/// baseline engagement, a thinner one lowers it.
const REFERENCE_PARTNER_MARGIN: f64 = 0.06;

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
    let horizon = world.market.len();
    // Periods of P months start where (t + anchor) mod P = 0: counted from the scenario's
    // period anchor (sim/MODEL.md §1), so a channel that starts mid-quarter starts with what
    // is left of the quarter, prorated like a period the horizon cuts short.
    let anchor = world.months_from_anchor;
    let phase = |t: usize, p: usize| (t as i64 + anchor).rem_euclid(p as i64) as usize;
    let beta = b.selling_elasticity;
    let effort_grid = EffortGrid::new(b);
    let round_months = round_months.max(1);
    let plan_at = |t: usize| plans[(t / round_months).min(plans.len() - 1)];
    let mut plan = plan_at(0);
    let half = [
        b.touches_for_half_engagement.a,
        b.touches_for_half_engagement.b,
        b.touches_for_half_engagement.c,
    ];
    let own = [b.own_touches.a, b.own_touches.b, b.own_touches.c];
    let monthly_quit = 1.0 - (1.0 - b.annual_attrition).powf(1.0 / 12.0);
    let vacancy_stay = 1.0 - 1.0 / b.vacancy_months.max(1.0);

    let mut partners: Vec<Partner> = Vec::with_capacity(world.partners.len());
    let mut reps: Vec<Rep> = Vec::with_capacity(world.reps.len());
    for (j, r) in world.reps.iter().enumerate() {
        let ramp = ramp(r.tenure, b.rep_ramp_months);
        let attention = (r.skill * ramp).powf(beta);
        let mut base = 0.0;
        for p in &world.partners[r.first..r.end] {
            let selling = p.stage.is_selling();
            partners.push(Partner {
                rep: j,
                tier: p.tier_slot,
                stage: p.stage,
                potential: p.potential,
                engagement: p.engagement,
                responsiveness: p.responsiveness,
                inventory: if selling {
                    b.cover_months * p.potential * p.engagement
                } else {
                    0.0
                },
                forecast: if selling {
                    p.potential * p.engagement
                } else {
                    0.0
                },
                months_selling: if selling { 1e6 } else { 0.0 },
                onboarding_left: 0,
                carry: -p.owed,
                target: 0.0,
                period_sell_in: 0.0,
            });
            if selling {
                base += p.potential * p.engagement;
            }
        }
        reps.push(Rep {
            region: r.region as usize,
            first: r.first,
            end: r.end,
            filled: true,
            vacancy_left: 0,
            skill: r.skill,
            tenure: r.tenure,
            knowledge: r.knowledge,
            estimate: r.estimate,
            baseline_monthly: base * attention * r.baseline_noise,
            misses: 0,
            goal: 0.0,
            last_goal: 0.0,
            last_actual: 0.0,
            touch_target: 0.0,
            recruit_target: 0.0,
            achieved: 0.0,
            commission_revenue: 0.0,
            touches_done: 0.0,
            recruiting_actions: 0.0,
            windows: vec![(0.0, 0.0); plan.bonuses.len()],
        });
    }

    if O::WANTS_OPENING {
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
                tier: chanlab_shared::Tier::ALL[p.tier],
                stage: p.stage,
                potential: p.potential,
                engagement: p.engagement,
            })
            .collect();
        observer.opening(&seats, &slots);
    }
    let mut detail = Detail {
        timing_volume: 0.0,
        goal_total: 0.0,
        months: Vec::with_capacity(horizon),
        seats: reps
            .iter()
            .map(|r| SeatOutcome {
                capacity: r.baseline_monthly,
                ..SeatOutcome::default()
            })
            .collect(),
        regions: world
            .regions
            .iter()
            .map(|r| RegionOutcome {
                backing: r.stated_backing,
                ..RegionOutcome::default()
            })
            .collect(),
    };
    let opening_inventory: f64 = partners.iter().map(|p| p.inventory).sum();
    let opening_churned = partners
        .iter()
        .filter(|p| p.stage == LifecycleStage::Churned)
        .count();
    let mut kpi = [0.0; Kpi::COUNT];
    let mut attainment = [0u32; ATTAINMENT_BINS];
    let mut rep_periods = 0.0;
    let mut rep_periods_at_goal = 0.0;
    let mut mandated_required = 0.0;
    let mut mandated_done = 0.0;
    let mut spike_sum = 0.0;
    let mut spike_periods = 0.0;
    let mut period_revenue = 0.0;
    let mut monthly_sell_through = vec![0.0; horizon];
    let mut monthly_sell_in = vec![0.0; horizon];
    let mut margin_given = 0.0;

    // Per-rep scratch for the month, reused.
    let mut choices = Vec::with_capacity(reps.len());
    let mut windows_view: Vec<WindowView> = Vec::with_capacity(plan.bonuses.len());

    for t in 0..horizon {
        if !std::ptr::eq(plan, plan_at(t)) {
            plan = plan_at(t);
            // A new round's plan: its bonus windows start now.
            for rep in reps.iter_mut() {
                rep.windows = vec![(0.0, 0.0); plan.bonuses.len()];
            }
        }
        let margin_pull = (plan.partner_margin / REFERENCE_PARTNER_MARGIN).powf(0.3);
        let floor = (b.engagement_floor * margin_pull).min(0.9);
        let period = plan.period_months.max(1) as usize;
        let target_period = plan.target_period_months.max(1) as usize;
        let mut month = MonthDetail::default();
        let month_in_period = phase(t, period);
        let period_start = t as i64 - month_in_period as i64;
        let first_here = period_start.max(0) as usize;
        let months_left = (period - month_in_period).min(horizon - t) as u32;
        let period_len_here =
            ((period_start + period as i64).min(horizon as i64) - first_here as i64) as f64;
        let more_periods = period_start + (period as i64) < horizon as i64;

        if month_in_period == 0 || t == 0 {
            for rep in reps.iter_mut() {
                set_goal(rep, plan, b, &partners, t, period, period_len_here);
                detail.goal_total += rep.goal;
            }
        }
        let target_phase = phase(t, target_period);
        if target_phase == 0 || t == 0 {
            let growth = 1.0 + b.partner_target_growth;
            let months = (target_period - target_phase) as f64;
            for p in partners.iter_mut() {
                p.period_sell_in = 0.0;
                p.target = growth * p.forecast * months;
            }
        }

        // Reps size up their territories and choose.
        choices.clear();
        for rep in &reps {
            let mut base = 0.0;
            let mut mandated = 0.0;
            let mut own_touches = 0.0;
            let mut prospects = 0usize;
            for p in &partners[rep.first..rep.end] {
                if p.stage.is_selling() {
                    base +=
                        p.potential * p.engagement * ramp(p.months_selling, b.partner_ramp_months);
                    mandated += plan.mandated_touches[Tier::ALL[p.tier]];
                    own_touches += own[p.tier];
                } else if p.stage == LifecycleStage::Prospect {
                    prospects += 1;
                }
            }
            let other = projected_other_attainment(rep, plan, month_in_period, months_left);
            windows_view.clear();
            for (k, bonus) in plan.bonuses.iter().enumerate() {
                let window = bonus.window_months as usize;
                let left = (window - phase(t, window)).min(horizon - t) as u32;
                let (done, goal_so_far) = rep.windows[k];
                let monthly_goal = rep.goal / period_len_here;
                windows_view.push(WindowView {
                    done,
                    months_left: left,
                    goal: goal_so_far + monthly_goal * f64::from(left),
                });
            }
            let situation = Situation {
                plan,
                behaviour: b,
                effort_grid: &effort_grid,
                revenue_at_normal: rep.knowledge * base,
                skill: rep.skill,
                // A new hire serves partners at least as well as an empty seat.
                ramp: ramp(rep.tenure, b.rep_ramp_months).max(b.vacant_attention),
                backing: world.regions[rep.region].backing,
                mandated_touches: mandated,
                own_touches,
                has_prospects: prospects > 0,
                goal: rep.goal,
                achieved: rep.achieved,
                months_left,
                other_attainment: other,
                misses: rep.misses,
                more_periods,
                windows: &windows_view,
            };
            let mut choice = rep::choose(&situation);
            if rep.filled {
                month.filled_reps += 1.0;
                if rep.goal > 0.0 && choice.commitment < 0.5 {
                    month.gave_up += 1.0;
                }
            }
            if t + 1 == horizon {
                // Nothing to borrow from or push into after the last simulated month.
                choice.pull_in = 0.0;
                choice.push_out = 0.0;
            }
            if !rep.filled {
                choice.attention = b.vacant_attention;
                choice.compliance = 0.0;
                choice.recruiting = 0.0;
                choice.effort = 0.0;
                choice.pull_in = 0.0;
                choice.push_out = 0.0;
            }
            let expected = choice.expected_revenue.max(1e-9);
            let pull = choice.pull_in / expected;
            let push = choice.push_out / expected;
            let conversion = (choice.recruiting * b.calls_per_month * b.call_conversion
                / prospects.max(1) as f64)
                .min(1.0);
            // Every partner of the rep gets the same attention: raise it to β once, here.
            let response = choice.attention.max(0.0).powf(beta);
            choices.push((choice, pull, push, conversion, response));
        }

        // Partners are served, sell and order.
        let market = world.market[t];
        let last_target_month = target_phase + 1 == target_period || t + 1 == horizon;
        let mut month_sell_in = 0.0;
        let mut month_sell_through = 0.0;
        for (slot, p) in partners.iter_mut().enumerate() {
            let z: f64 = rng.sample(StandardNormal);
            let u: f64 = rng.random();
            let stage_before = p.stage;
            let rep = &mut reps[p.rep];
            let (choice, pull, push, conversion, response) = choices[p.rep];
            match p.stage {
                LifecycleStage::Active | LifecycleStage::AtRisk => {}
                LifecycleStage::Prospect => {
                    if u < conversion {
                        p.stage = LifecycleStage::Negotiating;
                        rep.recruiting_actions += 1.0;
                        observer.stage_change(t, slot, stage_before, p.stage);
                    }
                    continue;
                }
                LifecycleStage::Negotiating => {
                    let resolve = 1.0 / b.negotiation_months;
                    if u < resolve * b.signing_probability {
                        p.stage = LifecycleStage::Contracted;
                        kpi[Kpi::PartnersSigned.index()] += 1.0;
                    } else if u < resolve {
                        p.stage = LifecycleStage::Lost;
                    }
                    if p.stage != stage_before {
                        observer.stage_change(t, slot, stage_before, p.stage);
                    }
                    continue;
                }
                LifecycleStage::Contracted => {
                    p.stage = LifecycleStage::Active;
                    p.months_selling = 0.0;
                    p.onboarding_left = plan.onboarding_months;
                    p.engagement =
                        (floor + 0.2 + plan.onboarding_trainings * b.engagement_per_training)
                            .min(1.0);
                    p.forecast = p.potential * p.engagement * ramp(0.0, b.partner_ramp_months);
                    // A target for what is left of the current target period.
                    let months_left = (target_period - target_phase) as f64;
                    p.target = (1.0 + b.partner_target_growth) * p.forecast * months_left;
                    observer.stage_change(t, slot, stage_before, p.stage);
                    continue;
                }
                LifecycleStage::Churned | LifecycleStage::Lost => continue,
            }

            // Service: touches and attention.
            let onboarding = if p.onboarding_left > 0 {
                plan.onboarding_visits
            } else {
                0.0
            };
            let mandated = plan.mandated_touches[Tier::ALL[p.tier]];
            // The compliant share of the rep's partners get the mandated cadence (or more, if
            // the rep would do more anyway); the rest get what the rep does unprompted.
            let unprompted = own[p.tier] * choice.effort;
            let (touches, done) = if rep.filled {
                let c = choice.compliance;
                (
                    c * mandated.max(unprompted) + (1.0 - c) * unprompted + onboarding,
                    c * mandated + (1.0 - c) * unprompted.min(mandated),
                )
            } else {
                (0.0, 0.0)
            };
            mandated_required += mandated;
            mandated_done += done;
            month.mandated_required += mandated;
            month.mandated_done += done;
            let region = &mut detail.regions[rep.region];
            region.mandated_required += mandated;
            region.mandated_done += done;
            rep.touches_done += touches;

            // Demand and deal timing.
            let ramp_p = ramp(p.months_selling, b.partner_ramp_months);
            let noise = lognormal_unit_mean(b.demand_noise, z);
            let natural = p.potential * p.engagement * ramp_p * market * noise * response;
            // Deals pulled in earlier are missing now; what this month cannot absorb stays
            // missing next month (a pull-in can reach further than one month ahead).
            let mut demand = natural + p.carry;
            p.carry = demand.min(0.0);
            demand = demand.max(0.0);
            let mut loading = 0.0;
            let mut held_back = 0.0;
            if plan.goal_on_sell_in {
                loading = pull * p.forecast;
                held_back = push;
                detail.timing_volume += push * sell_in_before_timing(p, b, natural);
            } else {
                // Deals pulled forward are owed by the months after: what is still owed
                // (−carry) never exceeds `max_pull_in` months of demand, and the months left
                // in the horizon must be able to repay it, so timing only moves revenue.
                let left = (horizon - t - 1) as f64;
                let room = (b.max_pull_in * natural).min(left * natural) + p.carry;
                let pulled = (pull * natural).min(room.max(0.0));
                // Push out a share of what would sell now, so sell-through stays ≥ 0.
                let pushed = push * demand;
                demand += pulled - pushed;
                p.carry += pushed - pulled;
                detail.timing_volume += pulled + pushed;
                kpi[Kpi::DiscountCost.index()] += choice.pull_discount * pulled;
            }
            let sell_through = demand;

            // Orders: replenish toward normal cover, load for a rebate step, never go negative.
            p.forecast = 0.7 * p.forecast + 0.3 * natural;
            let normal_stock = b.cover_months * p.forecast;
            let mut order =
                (sell_through + b.replenish_speed * (normal_stock - p.inventory)).max(0.0);
            order *= 1.0 - held_back;
            if last_target_month && p.target > 0.0 {
                let extra = rebate_loading(p, plan, b, order, sell_through);
                month.loaded += extra;
                order += extra;
            }
            // Stock a rep pushes on a partner stops where the partner's storage does.
            let room =
                (b.max_cover_months * p.forecast - (p.inventory + order - sell_through)).max(0.0);
            loading = loading.min(room);
            month.loaded += loading;
            order += loading;
            kpi[Kpi::DiscountCost.index()] += choice.pull_discount * loading;
            if plan.goal_on_sell_in {
                detail.timing_volume += loading;
            }
            order = order.max(sell_through - p.inventory);
            p.inventory += order - sell_through;
            debug_assert!(p.inventory >= -1e-6, "negative inventory {}", p.inventory);
            p.period_sell_in += order;

            // Engagement: toward what the attention earns, minus pressure from pushed stock.
            let target_engagement = floor + (1.0 - floor) * touches / (touches + half[p.tier]);
            p.engagement += b.engagement_speed * (target_engagement - p.engagement);
            if loading > 0.0 && p.forecast > 0.0 {
                p.engagement -= b.pressure_penalty * loading / p.forecast;
            }
            p.engagement = p.engagement.clamp(0.0, 1.0);

            // Stage.
            match p.stage {
                LifecycleStage::Active if p.engagement < b.at_risk_below => {
                    p.stage = LifecycleStage::AtRisk
                }
                LifecycleStage::AtRisk if p.engagement > b.recovered_above => {
                    p.stage = LifecycleStage::Active
                }
                LifecycleStage::AtRisk if u < b.churn_hazard_at_risk => {
                    p.stage = LifecycleStage::Churned;
                    kpi[Kpi::PartnersChurned.index()] += 1.0;
                }
                _ => {}
            }
            if p.stage != stage_before {
                observer.stage_change(t, slot, stage_before, p.stage);
            }
            p.months_selling += 1.0;
            p.onboarding_left = p.onboarding_left.saturating_sub(1);

            // Books.
            let goal_revenue = if plan.goal_on_sell_in {
                order
            } else {
                sell_through
            };
            rep.achieved += goal_revenue;
            detail.seats[p.rep].revenue += goal_revenue;
            for w in rep.windows.iter_mut() {
                w.0 += goal_revenue;
            }
            if rep.filled {
                // Nobody earns commission on what a vacant seat's partners buy.
                rep.commission_revenue += if plan.commission_on_sell_in {
                    order
                } else {
                    sell_through
                };
            }
            month_sell_in += order;
            month_sell_through += sell_through;
            observer.partner_month(
                t,
                slot,
                &PartnerMonth {
                    seat: p.rep,
                    sell_in: order,
                    sell_through,
                    touches,
                    mandated,
                    engagement: p.engagement,
                    expected: natural / (market * noise),
                },
            );
        }
        monthly_sell_in[t] = month_sell_in;
        monthly_sell_through[t] = month_sell_through;
        kpi[Kpi::SellIn.index()] += month_sell_in;
        kpi[Kpi::SellThrough.index()] += month_sell_through;
        period_revenue += if plan.goal_on_sell_in {
            month_sell_in
        } else {
            month_sell_through
        };

        // Reps come and go.
        for (seat, (rep, (choice, ..))) in reps.iter_mut().zip(&choices).enumerate() {
            if rep.filled {
                rep.recruiting_actions += choice.recruiting * b.calls_per_month;
            }
            let u_quit: f64 = rng.random();
            let u_vacancy: f64 = rng.random();
            let z_skill: f64 = rng.sample(StandardNormal);
            if rep.filled {
                let hazard = monthly_quit * (1.0 + b.attrition_per_miss * f64::from(rep.misses));
                if u_quit < hazard {
                    rep.filled = false;
                    kpi[Kpi::RepAttrition.index()] += 1.0;
                    rep.vacancy_left = geometric(u_vacancy, vacancy_stay);
                    observer.seat_event(t, seat, SeatEvent::Left);
                }
            } else if rep.vacancy_left > 0 {
                rep.vacancy_left -= 1;
            } else {
                rep.filled = true;
                rep.tenure = 0.0;
                rep.skill = lognormal_unit_mean(b.skill_spread, z_skill);
                rep.misses = 0;
                observer.seat_event(t, seat, SeatEvent::Hired);
            }
            rep.tenure += 1.0;
            for (k, bonus) in plan.bonuses.iter().enumerate() {
                rep.windows[k].1 += rep.goal / period_len_here;
                let window = bonus.window_months as usize;
                if phase(t, window) + 1 == window || t + 1 == horizon {
                    settle_bonus(rep, plan, k, &mut kpi);
                }
            }
        }

        // Periods that end this month.
        if month_in_period + 1 == period || t + 1 == horizon {
            for (index, (rep, seat)) in reps.iter_mut().zip(detail.seats.iter_mut()).enumerate() {
                if plan.goal_weights.revenue > 0.0 && rep.goal > 0.0 {
                    seat.post_goal_revenue += (rep.achieved - rep.goal).max(0.0);
                }
                let (goal, achieved) = (rep.goal, rep.achieved);
                let att = settle_period(rep, plan, &mut kpi);
                observer.period_settled(
                    t,
                    &PeriodSettled {
                        seat: index,
                        first_month: first_here,
                        goal,
                        achieved,
                        attainment: att.filter(|_| rep.filled),
                    },
                );
                if let (true, Some(att)) = (rep.filled, att) {
                    attainment[attainment_bin(att)] += 1;
                    rep_periods += 1.0;
                    month.periods_settled += 1.0;
                    if att >= 1.0 {
                        rep_periods_at_goal += 1.0;
                        month.periods_at_goal += 1.0;
                    }
                }
            }
            let months = (t + 1 - first_here) as f64;
            let last = if plan.goal_on_sell_in {
                month_sell_in
            } else {
                month_sell_through
            };
            if months > 1.0 && period_revenue > 0.0 {
                spike_sum += last / (period_revenue / months);
                spike_periods += 1.0;
            }
            period_revenue = 0.0;
        }
        if last_target_month {
            for p in partners.iter_mut() {
                if p.target > 0.0 && p.period_sell_in > 0.0 {
                    let rate = plan.rebate_rate(p.period_sell_in / p.target);
                    kpi[Kpi::RebateCost.index()] += rate * p.period_sell_in;
                }
            }
        }
        debug_check(&partners);
        margin_given += (plan.partner_margin - REFERENCE_PARTNER_MARGIN)
            .max(-b.vendor_gross_margin)
            * month_sell_in;
        month.inventory = partners.iter().map(|p| p.inventory).sum();
        month.kpis = kpi;
        detail.months.push(month);
    }

    let mut active = 0.0;
    let mut inventory = 0.0;
    for p in &partners {
        if p.stage.is_selling() {
            active += 1.0;
        }
        inventory += p.inventory;
    }
    // Stock-flow identity: what partners bought minus what they sold is what they hold.
    let flow = kpi[Kpi::SellIn.index()] - kpi[Kpi::SellThrough.index()];
    debug_assert!(
        (flow - (inventory - opening_inventory)).abs() <= 1e-6 * (1.0 + kpi[Kpi::SellIn.index()]),
        "sell-in − sell-through {flow} ≠ Δinventory {}",
        inventory - opening_inventory
    );
    debug_assert_eq!(
        (partners
            .iter()
            .filter(|p| p.stage == LifecycleStage::Churned)
            .count()
            - opening_churned) as f64,
        kpi[Kpi::PartnersChurned.index()],
        "churn count disagrees with the stages"
    );
    kpi[Kpi::PartnersActiveAtEnd.index()] = active;
    kpi[Kpi::ChannelInventoryAtEnd.index()] = inventory;
    kpi[Kpi::RepsAtGoal.index()] = if rep_periods > 0.0 {
        rep_periods_at_goal / rep_periods
    } else {
        0.0
    };
    kpi[Kpi::ProcessCompliance.index()] = if mandated_required > 0.0 {
        mandated_done / mandated_required
    } else {
        1.0
    };
    kpi[Kpi::PeriodEndSpike.index()] = if spike_periods > 0.0 {
        spike_sum / spike_periods
    } else {
        1.0
    };
    // Partner margin above the reference is the vendor's cost, month by month (a training
    // session may change it between rounds).
    kpi[Kpi::MarginAfterIncentives.index()] = b.vendor_gross_margin * kpi[Kpi::SellIn.index()]
        - margin_given
        - kpi[Kpi::IncentiveCost.index()]
        - kpi[Kpi::RebateCost.index()]
        - kpi[Kpi::DiscountCost.index()];
    Outcome {
        kpis: kpi,
        attainment,
        monthly_sell_through,
        monthly_sell_in,
        detail,
    }
}

/// What a partner would order this month before any deal timing: its sell-through plus the
/// replenishment toward normal cover (the base a rep's push-out holds back a share of).
fn sell_in_before_timing(p: &Partner, b: &Behaviour, natural: f64) -> f64 {
    let forecast = 0.7 * p.forecast + 0.3 * natural;
    (natural + b.replenish_speed * (b.cover_months * forecast - p.inventory)).max(0.0)
}

/// Extra stock a partner orders in the last month of its target period to reach the next
/// rebate step, when the rebate gained is worth more than holding the stock.
fn rebate_loading(p: &Partner, plan: &Plan, b: &Behaviour, order: f64, sell_through: f64) -> f64 {
    let sell_in = p.period_sell_in + order;
    let attainment = sell_in / p.target;
    let current = plan.rebate_rate(attainment);
    let Some(&super::plan::RebateStep {
        at_attainment: step,
        rate,
    }) = plan.rebates.iter().find(|r| r.at_attainment > attainment)
    else {
        return 0.0;
    };
    let extra = step * p.target * 1.001 - sell_in;
    let room = b.max_cover_months * p.forecast - (p.inventory + order - sell_through);
    if extra <= 0.0 || extra > room || p.forecast <= 0.0 {
        return 0.0;
    }
    let gain = rate * (sell_in + extra) - current * sell_in;
    let months_to_unwind = extra / p.forecast + 0.5;
    let cost = b.holding_cost * extra * months_to_unwind;
    if gain * p.responsiveness > cost {
        extra
    } else {
        0.0
    }
}

/// Ramp-up from 1/ramp_months in the first month to 1 after `ramp_months`.
pub(super) fn ramp(months: f64, ramp_months: f64) -> f64 {
    if ramp_months <= 1.0 {
        1.0
    } else {
        ((months + 1.0) / ramp_months).min(1.0)
    }
}

/// Months of vacancy: geometric with the given monthly probability of staying vacant.
fn geometric(u: f64, stay: f64) -> u32 {
    if stay <= 0.0 {
        return 0;
    }
    ((1.0 - u).ln() / stay.ln()).floor().clamp(0.0, 120.0) as u32
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
