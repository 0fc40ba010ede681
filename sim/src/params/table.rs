//! The behaviour parameter table: one row per parameter, everything else generated.
//!
//! `valid` is what the model accepts (validation rejects anything outside, and these bounds
//! must not move: results depend on them only through rejection). `plausible` is the range
//! the real value most likely lies in, inside `valid` and around the default, for
//! sensitivity analysis. Where two parameters are tied by a cross-field rule the plausible
//! range of each stops at the other's default, so varying one at a time never breaks it.
//! `unit` and `source` appear verbatim in sim/MODEL.md §7.1 (a test checks).
//!
//! Tags in sources as in sim/MODEL.md: [V] checked in the primary source or its abstract,
//! [S] seen only in a secondary write-up, [—] no figure found (§14 lists the references).

use std::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::{Bounds, ParameterInfo, PerTier, de_checked};

behaviour_parameters! {
    // --- demand -------------------------------------------------------------------------
    /// Elasticity of a partner's sell-through to the selling attention it gets.
    selling_elasticity: f64 = 0.34,
        valid [0.0, 1.0], plausible [0.2, 0.5], unit "elasticity",
        source "Albers, Mantrala & Sridhar (2010), uncorrected mean 0.34 [S]; provisional. Plausible: uncorrected means overstate, and the figure is secondary, so the range reaches lower (0.2) than higher (0.5)";
    /// Standard deviation of the monthly log market shock shared by all partners.
    market_volatility: f64 = 0.04,
        valid [0.0, 1.0], plausible [0.02, 0.08], unit "sd of log",
        source "calibration knob: a channel-wide month rarely moves more than a few percent beyond season and trend; half to double the default";
    /// Standard deviation of a partner's monthly log demand noise.
    demand_noise: f64 = 0.25,
        valid [0.0, 2.0], plausible [0.15, 0.4], unit "sd of log",
        source "calibration knob: one partner's month-to-month sell-through swings by tens of percent; fitted by `chanlab calibrate` where records exist";
    /// Attention a partner gets while its rep's seat is vacant, relative to normal.
    vacant_attention: f64 = 0.3,
        valid [0.0, 1.0], plausible [0.1, 0.5], unit "× normal",
        source "calibration knob: a manager or a neighbouring rep covers some of a vacant seat, but well under half of a rep's attention";

    // --- engagement ---------------------------------------------------------------------
    /// Mean engagement (0..1) of the partners a scenario starts with.
    initial_engagement: f64 = 0.65,
        valid [0.0, 1.0], plausible [0.5, 0.8], unit "0..1",
        source "calibration knob: a going channel's partners are mostly active, so the mean sits above `recovered_above` (0.45)";
    /// Engagement a partner keeps with no attention at all (the product's own pull).
    engagement_floor: f64 = 0.25,
        valid [0.0, 1.0], plausible [0.1, 0.35], unit "0..1",
        source "calibration knob: at or below `at_risk_below` (0.35), so a neglected partner can drift to risk";
    /// Touches per month at which a partner reaches half of the engagement above the floor.
    touches_for_half_engagement: PerTier = {A: 0.6, B: 0.3, C: 0.1},
        valid [0.001, 100.0],
        plausible {A: [0.3, 1.2], B: [0.15, 0.6], C: [0.05, 0.2]},
        unit "weighted touches/month",
        source "calibration knob: half to double the default per tier, keeping A > B > C at the same point of each range";
    /// Share of the gap to its target engagement a partner closes each month.
    engagement_speed: f64 = 0.15,
        valid [0.0, 1.0], plausible [0.08, 0.3], unit "share/month",
        source "calibration knob: the gap halves in 2 to 8 months (4.3 at the default), from a quarter to most of a year";
    /// Engagement lost per month of stock above normal cover that a rep pushed on a partner.
    pressure_penalty: f64 = 0.08,
        valid [0.0, 1.0], plausible [0.03, 0.15], unit "per month of stock",
        source "calibration knob: loading hurts the relationship (SEC v. Bristol-Myers Squibb 2004 shows the cost, not this size); about half to double the default";
    /// Engagement below which an active partner is at risk.
    at_risk_below: f64 = 0.35,
        valid [0.0, 1.0], plausible [0.25, 0.45], unit "0..1",
        source "calibration knob: ±0.1, stopping at `recovered_above`'s default (0.45)";
    /// Engagement above which an at-risk partner is active again.
    recovered_above: f64 = 0.45,
        valid [0.0, 1.0], plausible [0.35, 0.55], unit "0..1",
        source "calibration knob: ±0.1, stopping at `at_risk_below`'s default (0.35)";
    /// Monthly churn hazard of an at-risk partner.
    churn_hazard_at_risk: f64 = 0.06,
        valid [0.0, 1.0], plausible [0.02, 0.12], unit "per month",
        source "calibration knob; no benchmark found. Plausible: 22% to 78% of partners still at risk a year later have churned (52% at the default)";

    // --- inventory and partner program ---------------------------------------------------
    /// Normal stock a partner holds, in months of expected sell-through.
    cover_months: f64 = 1.0,
        valid [0.0, 12.0], plausible [0.5, 2.0], unit "months",
        source "calibration knob: two weeks to two months of stock for a reseller or distributor";
    /// Share of the gap to normal stock a partner's regular order closes.
    replenish_speed: f64 = 0.5,
        valid [0.0, 1.0], plausible [0.3, 0.8], unit "share",
        source "calibration knob: a monthly order closes a third to most of the gap";
    /// Most stock a partner will take on, in months of expected sell-through.
    max_cover_months: f64 = 3.0,
        valid [0.0, 24.0], plausible [2.0, 6.0], unit "months",
        source "calibration knob: at least `cover_months` (checked across fields); loading cases ran to several months of wholesaler stock (SEC v. Bristol-Myers Squibb 2004)";
    /// Partner's cost of holding stock, per month, as a share of its value.
    holding_cost: f64 = 0.02,
        valid [0.0, 1.0], plausible [0.015, 0.025], unit "share/month",
        source "calibration knob; 20–30 %/yr in blogs [S]. Plausible: 18–30 %/yr";
    /// Growth of partners' sell-in targets over their opening run rate.
    partner_target_growth: f64 = 0.05,
        valid [-0.9, 5.0], plausible [0.0, 0.15], unit "share",
        source "calibration knob: sell-in targets are set at or somewhat above the run rate";

    // --- vendor economics ---------------------------------------------------------------
    /// Vendor's gross margin on sell-in before incentives, rebates and discounts.
    vendor_gross_margin: f64 = 0.40,
        valid [0.0, 1.0], plausible [0.25, 0.6], unit "share of sell-in",
        source "calibration knob: hardware-like to software-like vendors; set it from the vendor's own accounts";
    /// Commission rate used as the yardstick of effort cost and goal value (money per unit
    /// of revenue); a rep paid this, with no goal, works at normal effort.
    reference_pay_rate: f64 = 0.03,
        valid [0.0001, 1.0], plausible [0.02, 0.05], unit "money per unit revenue",
        source "calibration knob: the bundled specs' 3% commission. Plausible: 2–5%, well under a sales-force cost of about 10% of revenue that includes salary (Chung, Steenburgh & Sudhir 2014, via HBS Working Knowledge [S])";

    // --- reps ---------------------------------------------------------------------------
    /// Standard deviation of reps' log skill.
    skill_spread: f64 = 0.25,
        valid [0.0, 2.0], plausible [0.15, 0.4], unit "sd of log",
        source "calibration knob: the 90th-percentile rep sells 1.5 to 2.8 times the 10th (1.9 at the default)";
    /// Months for a new rep to reach full productivity.
    rep_ramp_months: f64 = 9.2,
        valid [0.0, 60.0], plausible [5.0, 12.0], unit "months",
        source "CSO Insights (2018) 9.2 months [V]; linear shape assumed. Plausible: Bridge Group 2024 AE median 5 months [S] to a year";
    /// Mean months a seat stays vacant after a rep leaves.
    vacancy_months: f64 = 3.7,
        valid [1.0, 24.0], plausible [2.0, 6.0], unit "months",
        source "CSO Insights (2018) 3.7 months [V]. Plausible: about half to under twice the survey mean";
    /// Annual rep attrition with no missed goals.
    annual_attrition: f64 = 0.139,
        valid [0.0, 1.0], plausible [0.08, 0.25], unit "share/year",
        source "Alexander Group 13.9% [V]; CSO 15.7% [V]. Plausible: Alexander Group's ~8% best practice to segments with 1.5-year tenure (Bridge Group [S])";
    /// Added share of attrition hazard per consecutive missed goal period.
    attrition_per_miss: f64 = 0.25,
        valid [0.0, 10.0], plausible [0.1, 0.5], unit "× hazard per miss",
        source "calibration knob: realised attrition already runs above the input at the default (§9.1); half to double";
    /// Lowest and highest effort a rep can give, relative to normal.
    effort_range: [f64; 2] = [0.5, 1.5],
        valid [[0.0, 1.0], [1.0, 5.0]],
        plausible [[0.3, 0.7], [1.2, 2.0]],
        unit "× normal",
        source "calibration knob: the ceiling bounds how much a goal can add (about +15% of sell-through at 1.5, §9.1); a floor of 0.3–0.7 and a ceiling of 1.2–2";
    /// Steepness of the effort cost; 1.0 makes normal effort optimal at the reference pay.
    effort_cost: f64 = 1.0,
        valid [0.01, 100.0], plausible [0.5, 2.0], unit "–",
        source "calibration knob: 1 by construction (normal effort optimal at the reference pay); half to double";
    /// Value of reaching a committed goal, in periods' worth of reference pay.
    goal_value: f64 = 1.0,
        valid [0.0, 100.0], plausible [0.5, 2.0], unit "periods of reference pay",
        source "calibration knob: goals matter to reps about as much as a period's pay; half to double (0 models reps with no quota)";
    /// Probability of reaching the goal (at full effort) at which commitment is half.
    commitment_midpoint: f64 = 0.3,
        valid [0.0, 1.0], plausible [0.15, 0.5], unit "probability",
        source "calibration knob (Stedry & Kay 1964 qualitative). Plausible: reps give up somewhere between long odds and even odds";
    /// Spread of the commitment curve around its midpoint.
    commitment_spread: f64 = 0.08,
        valid [0.001, 1.0], plausible [0.04, 0.15], unit "probability",
        source "calibration knob: from a sharp to a gradual give-up; half to about double";
    /// Share of commitment lost per consecutive missed goal period.
    commitment_loss_per_miss: f64 = 0.15,
        valid [0.0, 1.0], plausible [0.05, 0.3], unit "share",
        source "calibration knob (Höpfner & Keith 2021 qualitative). Plausible: a third to double the default";
    /// Relative monthly uncertainty a rep sees in their own revenue.
    sales_uncertainty: f64 = 0.15,
        valid [0.001, 2.0], plausible [0.08, 0.3], unit "relative sd/month",
        source "calibration knob: below `demand_noise` (0.25) because a territory pools its partners; half to double";
    /// Standard deviation of the manager's log error in estimating a territory's potential.
    estimate_error: f64 = 0.25,
        valid [0.0, 2.0], plausible [0.1, 0.4], unit "sd of log",
        source "calibration knob: a manager misjudges a territory by 10–40%";
    /// Standard deviation of a rep's log error about their own territory.
    rep_knowledge_error: f64 = 0.05,
        valid [0.0, 2.0], plausible [0.02, 0.15], unit "sd of log",
        source "calibration knob: reps know their territory better than the manager (below `estimate_error`'s 0.1–0.4)";
    /// How much reps under a ratchet weigh the next goal's rise against this period's pay.
    ratchet_foresight: f64 = 0.5,
        valid [0.0, 1.0], plausible [0.25, 0.75], unit "0..1",
        source "calibration knob (Weitzman 1980 theory; LMZ 2004 no coefficients). Plausible: the middle half of the range; neither myopic nor fully forward-looking reps";
    /// Share by which reps understate their proposals under participative goal setting.
    sandbagging: f64 = 0.15,
        valid [0.0, 1.0], plausible [0.05, 0.3], unit "share",
        source "calibration knob; no verified estimate. Plausible: budgeting experiments find slack (Young 1985; Chow, Cooper & Waller 1988) but no transferable size";

    // --- period-end timing ----------------------------------------------------------------
    /// Price discount a customer needs per month a deal is pulled forward (a deal due `s`
    /// months ahead needs `pull_in_discount · s`, at most its whole price).
    pull_in_discount: f64 = 0.5,
        valid [0.0, 1.0], plausible [0.3, 0.7], unit "share of price per month",
        source "calibrated with `max_pull_in` to the quarter-end profile of real channels and Larkin (2014) [V] (§10, quarter-end and timing-discounts); deal discount [—]. Plausible: ±0.2, where the quarter profile stays near the recorded 1.21–1.30 last month";
    /// Reach of a pull-in, in months: of the deals due `s` months ahead the share
    /// `1 − s/max_pull_in` can be closed now, so at most `max_pull_in / 2` months of revenue.
    max_pull_in: f64 = 2.0,
        valid [0.0, 6.0], plausible [1.0, 3.0], unit "months",
        source "calibrated with `pull_in_discount` (§10). Plausible: pulling from next month only to a whole quarter ahead";
    /// Most of this month's revenue a rep past the cap can push into the next period.
    max_push_out: f64 = 0.5,
        valid [0.0, 1.0], plausible [0.25, 0.75], unit "share of month",
        source "calibration knob: a claim that reps past quota postpone sales (Misra & Nair 2011) was not confirmed [S], no size published; ±0.25";

    // --- mandated activities ----------------------------------------------------------------
    /// Partner touches per month reps make on their own, at normal effort, per tier.
    own_touches: PerTier = {A: 0.4, B: 0.15, C: 0.05},
        valid [0.0, 30.0],
        plausible {A: [0.2, 0.8], B: [0.08, 0.3], C: [0.02, 0.1]},
        unit "weighted touches/month",
        source "calibration knob: half to double the default per tier; a tier-A partner seen every 1 to 5 months unprompted";
    /// Share of a rep's month one partner touch takes.
    touch_time: f64 = 0.02,
        valid [0.0, 0.2], plausible [0.01, 0.05], unit "share of month",
        source "calibration knob: a touch with its travel and preparation takes two hours to a day of about 20 working days";
    /// Compliance with mandated activities that are neither assessed nor in goals.
    compliance_unmeasured: f64 = 0.35,
        valid [0.0, 1.0], plausible [0.2, 0.5], unit "share",
        source "calibration knob: unmeasured tasks are neglected (Kerr 1975 [V]; Kishore et al. 2013 [V]; §3.3), not to zero; ±0.15";
    /// Added compliance when mandated activities are fully weighted in the assessment.
    compliance_if_assessed: f64 = 0.45,
        valid [0.0, 1.0], plausible [0.25, 0.6], unit "share",
        source "calibration knob: measurement raises compliance most; ±0.2, capped so assessed compliance stays under certainty";
    /// Added compliance when mandated activities are fully weighted in the goals.
    compliance_if_in_goals: f64 = 0.35,
        valid [0.0, 1.0], plausible [0.2, 0.5], unit "share",
        source "calibration knob: ±0.15, below the assessment's uplift";
    /// Added compliance when all variable pay rides on the assessment.
    compliance_if_paid: f64 = 0.2,
        valid [0.0, 1.0], plausible [0.1, 0.35], unit "share",
        source "calibration knob: paying for a task gets it done (Holmström & Milgrom 1991 theory); half to under double";
    /// Standard deviation of regional managers' backing around the region's value.
    backing_spread: f64 = 0.1,
        valid [0.0, 1.0], plausible [0.05, 0.2], unit "sd",
        source "calibration knob: managers of one region differ a little in backing the process; half to double";

    // --- recruiting and lifecycle ---------------------------------------------------------
    /// Share of a rep's time spent recruiting when goals and assessment ignore recruiting.
    recruiting_share: f64 = 0.06,
        valid [0.0, 0.8], plausible [0.03, 0.12], unit "share of time",
        source "calibration knob: one to three days a month; half to double";
    /// Share of a rep's time spent recruiting when goals or assessment fully weight it.
    recruiting_share_if_measured: f64 = 0.25,
        valid [0.0, 0.8], plausible [0.15, 0.4], unit "share of time",
        source "calibration knob: a measured recruiting goal takes one to two days a week";
    /// Recruiting calls a rep makes in a full month of recruiting.
    calls_per_month: f64 = 20.0,
        valid [0.0, 500.0], plausible [10.0, 40.0], unit "calls",
        source "calibration knob: one to two prospect calls a working day; half to double";
    /// Probability that a call opens a negotiation with a prospect.
    call_conversion: f64 = 0.03,
        valid [0.0, 1.0], plausible [0.01, 0.06], unit "probability",
        source "calibration knob: a third to double the default";
    /// Mean months a negotiation lasts.
    negotiation_months: f64 = 3.0,
        valid [1.0, 36.0], plausible [2.0, 6.0], unit "months",
        source "calibration knob: new partner to first deal takes a median ≈ 4.7 months [S], of which the negotiation is part";
    /// Probability a negotiation ends in a signed contract.
    signing_probability: f64 = 0.5,
        valid [0.0, 1.0], plausible [0.3, 0.7], unit "probability",
        source "calibration knob: ±0.2";
    /// Months for a new partner to reach its full potential.
    partner_ramp_months: f64 = 9.0,
        valid [0.0, 60.0], plausible [5.0, 12.0], unit "months",
        source "calibration knob (~9 months practitioner [S], unverified). Plausible: first deal at ≈ 4.7 months [S] to a year";
    /// Engagement added to a new partner per onboarding training.
    engagement_per_training: f64 = 0.05,
        valid [0.0, 1.0], plausible [0.02, 0.1], unit "engagement",
        source "calibration knob: a training is worth a few months of normal attention; under half to double";

    // --- goal levels ------------------------------------------------------------------------
    /// Multiplier on every goal the strategy sets (a ratchet's first only): how much harder
    /// a channel's managers set goals than the strategy's rule. 1 in the bundled scenarios; a
    /// calibration fits it to the recorded goal attainment.
    goal_level_factor: f64 = 1.0,
        valid [0.1, 10.0], plausible [0.85, 1.2], unit "×",
        source "1 in bundled scenarios; fitted to recorded attainment by `chanlab calibrate` (§12). Plausible: managers set goals from 15% softer to 20% harder than the rule";
}
