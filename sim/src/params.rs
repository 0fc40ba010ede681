//! Behaviour parameters: how reps, partners and regional managers respond.
//!
//! Every field has a default documented (with its unit and source) in `sim/MODEL.md`; a
//! scenario's `[behaviour]` table overrides any of them. The defaults describe a mid-size
//! B2B channel. Where no published figure exists the parameter is a calibration knob, and
//! MODEL.md says so.

use chanlab_shared::{Tier, ValidationError};
use serde::{Deserialize, Serialize};

/// A value per partner tier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerTier {
    /// Tier A.
    #[serde(rename = "A")]
    pub a: f64,
    /// Tier B.
    #[serde(rename = "B")]
    pub b: f64,
    /// Tier C.
    #[serde(rename = "C")]
    pub c: f64,
}

impl PerTier {
    /// The value for `tier`.
    pub fn get(&self, tier: Tier) -> f64 {
        match tier {
            Tier::A => self.a,
            Tier::B => self.b,
            Tier::C => self.c,
        }
    }

    fn check(&self, field: &str, lo: f64, hi: f64) -> Result<(), ValidationError> {
        for (tier, v) in [("A", self.a), ("B", self.b), ("C", self.c)] {
            check_range(&format!("{field}.{tier}"), v, lo, hi)?;
        }
        Ok(())
    }
}

/// How the people in the channel behave. See `sim/MODEL.md` for every equation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    // --- demand -------------------------------------------------------------------------
    /// Elasticity of a partner's sell-through to the selling attention it gets.
    pub selling_elasticity: f64,
    /// Standard deviation of the monthly log market shock shared by all partners.
    pub market_volatility: f64,
    /// Standard deviation of a partner's monthly log demand noise.
    pub demand_noise: f64,
    /// Attention a partner gets while its rep's seat is vacant, relative to normal.
    pub vacant_attention: f64,

    // --- engagement ---------------------------------------------------------------------
    /// Mean engagement (0..1) of the partners a scenario starts with.
    pub initial_engagement: f64,
    /// Engagement a partner keeps with no attention at all (the product's own pull).
    pub engagement_floor: f64,
    /// Touches per month at which a partner reaches half of the engagement above the floor.
    pub touches_for_half_engagement: PerTier,
    /// Share of the gap to its target engagement a partner closes each month.
    pub engagement_speed: f64,
    /// Engagement lost per month of stock above normal cover that a rep pushed on a partner.
    pub pressure_penalty: f64,
    /// Engagement below which an active partner is at risk.
    pub at_risk_below: f64,
    /// Engagement above which an at-risk partner is active again.
    pub recovered_above: f64,
    /// Monthly churn hazard of an at-risk partner.
    pub churn_hazard_at_risk: f64,

    // --- inventory and partner program ---------------------------------------------------
    /// Normal stock a partner holds, in months of expected sell-through.
    pub cover_months: f64,
    /// Share of the gap to normal stock a partner's regular order closes.
    pub replenish_speed: f64,
    /// Most stock a partner will take on, in months of expected sell-through.
    pub max_cover_months: f64,
    /// Partner's cost of holding stock, per month, as a share of its value.
    pub holding_cost: f64,
    /// Growth of partners' sell-in targets over their opening run rate.
    pub partner_target_growth: f64,

    // --- vendor economics ---------------------------------------------------------------
    /// Vendor's gross margin on sell-in before incentives, rebates and discounts.
    pub vendor_gross_margin: f64,
    /// Commission rate used as the yardstick of effort cost and goal value (money per unit
    /// of revenue); a rep paid this, with no goal, works at normal effort.
    pub reference_pay_rate: f64,

    // --- reps ---------------------------------------------------------------------------
    /// Standard deviation of reps' log skill.
    pub skill_spread: f64,
    /// Months for a new rep to reach full productivity.
    pub rep_ramp_months: f64,
    /// Mean months a seat stays vacant after a rep leaves.
    pub vacancy_months: f64,
    /// Annual rep attrition with no missed goals.
    pub annual_attrition: f64,
    /// Added share of attrition hazard per consecutive missed goal period.
    pub attrition_per_miss: f64,
    /// Lowest and highest effort a rep can give, relative to normal.
    pub effort_range: [f64; 2],
    /// Steepness of the effort cost; 1.0 makes normal effort optimal at the reference pay.
    pub effort_cost: f64,
    /// Value of reaching a committed goal, in periods' worth of reference pay.
    pub goal_value: f64,
    /// Probability of reaching the goal (at full effort) at which commitment is half.
    pub commitment_midpoint: f64,
    /// Spread of the commitment curve around its midpoint.
    pub commitment_spread: f64,
    /// Share of commitment lost per consecutive missed goal period.
    pub commitment_loss_per_miss: f64,
    /// Relative monthly uncertainty a rep sees in their own revenue.
    pub sales_uncertainty: f64,
    /// Standard deviation of the manager's log error in estimating a territory's potential.
    pub estimate_error: f64,
    /// Standard deviation of a rep's log error about their own territory.
    pub rep_knowledge_error: f64,
    /// How much reps under a ratchet weigh the next goal's rise against this period's pay.
    pub ratchet_foresight: f64,
    /// Share by which reps understate their proposals under participative goal setting.
    pub sandbagging: f64,

    // --- period-end timing ----------------------------------------------------------------
    /// Price discount a customer needs per month a deal is pulled forward (a deal due `s`
    /// months ahead needs `pull_in_discount · s`, at most its whole price).
    pub pull_in_discount: f64,
    /// Reach of a pull-in, in months: of the deals due `s` months ahead the share
    /// `1 − s/max_pull_in` can be closed now, so at most `max_pull_in / 2` months of revenue.
    pub max_pull_in: f64,
    /// Most of this month's revenue a rep past the cap can push into the next period.
    pub max_push_out: f64,

    // --- mandated activities ----------------------------------------------------------------
    /// Partner touches per month reps make on their own, at normal effort, per tier.
    pub own_touches: PerTier,
    /// Share of a rep's month one partner touch takes.
    pub touch_time: f64,
    /// Compliance with mandated activities that are neither assessed nor in goals.
    pub compliance_unmeasured: f64,
    /// Added compliance when mandated activities are fully weighted in the assessment.
    pub compliance_if_assessed: f64,
    /// Added compliance when mandated activities are fully weighted in the goals.
    pub compliance_if_in_goals: f64,
    /// Added compliance when all variable pay rides on the assessment.
    pub compliance_if_paid: f64,
    /// Standard deviation of regional managers' backing around the region's value.
    pub backing_spread: f64,

    // --- recruiting and lifecycle ---------------------------------------------------------
    /// Share of a rep's time spent recruiting when goals and assessment ignore recruiting.
    pub recruiting_share: f64,
    /// Share of a rep's time spent recruiting when goals or assessment fully weight it.
    pub recruiting_share_if_measured: f64,
    /// Recruiting calls a rep makes in a full month of recruiting.
    pub calls_per_month: f64,
    /// Probability that a call opens a negotiation with a prospect.
    pub call_conversion: f64,
    /// Mean months a negotiation lasts.
    pub negotiation_months: f64,
    /// Probability a negotiation ends in a signed contract.
    pub signing_probability: f64,
    /// Months for a new partner to reach its full potential.
    pub partner_ramp_months: f64,
    /// Engagement added to a new partner per onboarding training.
    pub engagement_per_training: f64,

    // --- goal levels ------------------------------------------------------------------------
    /// Multiplier on every goal the strategy sets (a ratchet's first only): how much harder
    /// a channel's managers set goals than the strategy's rule. 1 in the bundled scenarios; a
    /// calibration fits it to the recorded goal attainment.
    pub goal_level_factor: f64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            selling_elasticity: 0.34,
            market_volatility: 0.04,
            demand_noise: 0.25,
            vacant_attention: 0.3,
            initial_engagement: 0.65,
            engagement_floor: 0.25,
            touches_for_half_engagement: PerTier {
                a: 0.6,
                b: 0.3,
                c: 0.1,
            },
            engagement_speed: 0.15,
            pressure_penalty: 0.08,
            at_risk_below: 0.35,
            recovered_above: 0.45,
            churn_hazard_at_risk: 0.06,
            cover_months: 1.0,
            replenish_speed: 0.5,
            max_cover_months: 3.0,
            holding_cost: 0.02,
            partner_target_growth: 0.05,
            vendor_gross_margin: 0.40,
            reference_pay_rate: 0.03,
            skill_spread: 0.25,
            rep_ramp_months: 9.2,
            vacancy_months: 3.7,
            annual_attrition: 0.139,
            attrition_per_miss: 0.25,
            effort_range: [0.5, 1.5],
            effort_cost: 1.0,
            goal_value: 1.0,
            commitment_midpoint: 0.3,
            commitment_spread: 0.08,
            commitment_loss_per_miss: 0.15,
            sales_uncertainty: 0.15,
            estimate_error: 0.25,
            rep_knowledge_error: 0.05,
            ratchet_foresight: 0.5,
            sandbagging: 0.15,
            pull_in_discount: 0.5,
            max_pull_in: 2.0,
            max_push_out: 0.5,
            own_touches: PerTier {
                a: 0.4,
                b: 0.15,
                c: 0.05,
            },
            touch_time: 0.02,
            compliance_unmeasured: 0.35,
            compliance_if_assessed: 0.45,
            compliance_if_in_goals: 0.35,
            compliance_if_paid: 0.2,
            backing_spread: 0.1,
            recruiting_share: 0.06,
            recruiting_share_if_measured: 0.25,
            calls_per_month: 20.0,
            call_conversion: 0.03,
            negotiation_months: 3.0,
            signing_probability: 0.5,
            partner_ramp_months: 9.0,
            engagement_per_training: 0.05,
            goal_level_factor: 1.0,
        }
    }
}

impl Behaviour {
    /// Checks every parameter is in its meaningful range, naming the first that is not.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let unit = |field: &str, v: f64| check_range(field, v, 0.0, 1.0);
        check_range("selling_elasticity", self.selling_elasticity, 0.0, 1.0)?;
        check_range("market_volatility", self.market_volatility, 0.0, 1.0)?;
        check_range("demand_noise", self.demand_noise, 0.0, 2.0)?;
        unit("vacant_attention", self.vacant_attention)?;
        unit("initial_engagement", self.initial_engagement)?;
        unit("engagement_floor", self.engagement_floor)?;
        self.touches_for_half_engagement
            .check("touches_for_half_engagement", 0.001, 100.0)?;
        unit("engagement_speed", self.engagement_speed)?;
        unit("pressure_penalty", self.pressure_penalty)?;
        unit("at_risk_below", self.at_risk_below)?;
        unit("recovered_above", self.recovered_above)?;
        if self.recovered_above < self.at_risk_below {
            return Err(ValidationError::new(
                "recovered_above",
                format!(
                    "must be at least at_risk_below ({}), found {}",
                    self.at_risk_below, self.recovered_above
                ),
            ));
        }
        unit("churn_hazard_at_risk", self.churn_hazard_at_risk)?;
        check_range("cover_months", self.cover_months, 0.0, 12.0)?;
        unit("replenish_speed", self.replenish_speed)?;
        check_range(
            "max_cover_months",
            self.max_cover_months,
            self.cover_months,
            24.0,
        )?;
        unit("holding_cost", self.holding_cost)?;
        check_range(
            "partner_target_growth",
            self.partner_target_growth,
            -0.9,
            5.0,
        )?;
        unit("vendor_gross_margin", self.vendor_gross_margin)?;
        check_range("reference_pay_rate", self.reference_pay_rate, 0.0001, 1.0)?;
        check_range("skill_spread", self.skill_spread, 0.0, 2.0)?;
        check_range("rep_ramp_months", self.rep_ramp_months, 0.0, 60.0)?;
        check_range("vacancy_months", self.vacancy_months, 1.0, 24.0)?;
        unit("annual_attrition", self.annual_attrition)?;
        check_range("attrition_per_miss", self.attrition_per_miss, 0.0, 10.0)?;
        let [lo, hi] = self.effort_range;
        check_range("effort_range[0]", lo, 0.0, 1.0)?;
        check_range("effort_range[1]", hi, 1.0, 5.0)?;
        check_range("effort_cost", self.effort_cost, 0.01, 100.0)?;
        check_range("goal_value", self.goal_value, 0.0, 100.0)?;
        unit("commitment_midpoint", self.commitment_midpoint)?;
        check_range("commitment_spread", self.commitment_spread, 0.001, 1.0)?;
        unit("commitment_loss_per_miss", self.commitment_loss_per_miss)?;
        check_range("sales_uncertainty", self.sales_uncertainty, 0.001, 2.0)?;
        check_range("estimate_error", self.estimate_error, 0.0, 2.0)?;
        check_range("rep_knowledge_error", self.rep_knowledge_error, 0.0, 2.0)?;
        check_range("ratchet_foresight", self.ratchet_foresight, 0.0, 1.0)?;
        unit("sandbagging", self.sandbagging)?;
        unit("pull_in_discount", self.pull_in_discount)?;
        check_range("max_pull_in", self.max_pull_in, 0.0, 6.0)?;
        unit("max_push_out", self.max_push_out)?;
        self.own_touches.check("own_touches", 0.0, 30.0)?;
        check_range("touch_time", self.touch_time, 0.0, 0.2)?;
        unit("compliance_unmeasured", self.compliance_unmeasured)?;
        unit("compliance_if_assessed", self.compliance_if_assessed)?;
        unit("compliance_if_in_goals", self.compliance_if_in_goals)?;
        unit("compliance_if_paid", self.compliance_if_paid)?;
        unit("backing_spread", self.backing_spread)?;
        check_range("recruiting_share", self.recruiting_share, 0.0, 0.8)?;
        check_range(
            "recruiting_share_if_measured",
            self.recruiting_share_if_measured,
            0.0,
            0.8,
        )?;
        check_range("calls_per_month", self.calls_per_month, 0.0, 500.0)?;
        unit("call_conversion", self.call_conversion)?;
        check_range("negotiation_months", self.negotiation_months, 1.0, 36.0)?;
        unit("signing_probability", self.signing_probability)?;
        check_range("partner_ramp_months", self.partner_ramp_months, 0.0, 60.0)?;
        unit("engagement_per_training", self.engagement_per_training)?;
        check_range("goal_level_factor", self.goal_level_factor, 0.1, 10.0)?;
        Ok(())
    }
}

pub(crate) fn check_range(field: &str, v: f64, lo: f64, hi: f64) -> Result<(), ValidationError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            format!("expected a number between {lo} and {hi}, found {v}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Behaviour::default().validate(), Ok(()));
    }

    #[test]
    fn an_out_of_range_parameter_is_named() {
        let b = Behaviour {
            selling_elasticity: 1.5,
            ..Behaviour::default()
        };
        assert_eq!(b.validate().unwrap_err().field(), "selling_elasticity");
        let b = Behaviour {
            own_touches: PerTier {
                a: 1.0,
                b: -1.0,
                c: 0.0,
            },
            ..Behaviour::default()
        };
        assert_eq!(b.validate().unwrap_err().field(), "own_touches.B");
    }

    #[test]
    fn recovery_cannot_be_below_the_risk_threshold() {
        let b = Behaviour {
            at_risk_below: 0.5,
            recovered_above: 0.4,
            ..Behaviour::default()
        };
        assert_eq!(b.validate().unwrap_err().field(), "recovered_above");
    }

    #[test]
    fn a_partial_behaviour_table_keeps_the_other_defaults() {
        let b: Behaviour = toml::from_str("selling_elasticity = 0.2").unwrap();
        assert_eq!(b.selling_elasticity, 0.2);
        assert_eq!(b.demand_noise, Behaviour::default().demand_noise);
        assert!(toml::from_str::<Behaviour>("sellng_elasticity = 0.2").is_err());
    }
}

/// One line on each behaviour parameter: its name, what it means and its unit. Used by
/// `chanlab scenario init` and checked against the struct and sim/MODEL.md by tests.
pub const PARAMETERS: &[(&str, &str)] = &[
    (
        "selling_elasticity",
        "elasticity of a partner's sell-through to selling attention",
    ),
    (
        "market_volatility",
        "sd of the monthly log market shock shared by all partners",
    ),
    ("demand_noise", "sd of a partner's monthly log demand noise"),
    (
        "vacant_attention",
        "attention a partner gets while its rep's seat is vacant (normal = 1)",
    ),
    (
        "initial_engagement",
        "mean engagement (0..1) of the partners a scenario starts with",
    ),
    (
        "engagement_floor",
        "engagement a partner keeps with no attention at all",
    ),
    (
        "touches_for_half_engagement",
        "touches/month at which a partner gets half the engagement above the floor, per tier",
    ),
    (
        "engagement_speed",
        "share of the gap to its target engagement a partner closes per month",
    ),
    (
        "pressure_penalty",
        "engagement lost per month of stock a rep pushed on a partner",
    ),
    (
        "at_risk_below",
        "engagement below which an active partner is at risk",
    ),
    (
        "recovered_above",
        "engagement above which an at-risk partner is active again",
    ),
    (
        "churn_hazard_at_risk",
        "monthly churn probability of an at-risk partner",
    ),
    (
        "cover_months",
        "normal partner stock, months of expected sell-through",
    ),
    (
        "replenish_speed",
        "share of the gap to normal stock a regular order closes",
    ),
    (
        "max_cover_months",
        "most stock a partner will take on, months of sell-through",
    ),
    (
        "holding_cost",
        "partner's cost of holding stock, share of its value per month",
    ),
    (
        "partner_target_growth",
        "growth of partners' sell-in targets over their run rate",
    ),
    (
        "vendor_gross_margin",
        "vendor gross margin on sell-in before incentives, rebates, discounts",
    ),
    (
        "reference_pay_rate",
        "commission rate at which a rep with no goal works at normal effort",
    ),
    ("skill_spread", "sd of reps' log skill"),
    (
        "rep_ramp_months",
        "months for a new rep to reach full productivity",
    ),
    (
        "vacancy_months",
        "mean months a seat stays vacant after a rep leaves",
    ),
    (
        "annual_attrition",
        "annual rep attrition with no missed goals",
    ),
    (
        "attrition_per_miss",
        "added share of attrition hazard per consecutive missed period",
    ),
    (
        "effort_range",
        "lowest and highest effort relative to normal",
    ),
    (
        "effort_cost",
        "steepness of effort cost (1 = normal effort optimal at the reference pay)",
    ),
    (
        "goal_value",
        "value of reaching a committed goal, periods of reference pay",
    ),
    (
        "commitment_midpoint",
        "chance of reaching the goal at full effort at which commitment is half",
    ),
    (
        "commitment_spread",
        "spread of the commitment curve around its midpoint",
    ),
    (
        "commitment_loss_per_miss",
        "share of commitment lost per consecutive missed period",
    ),
    (
        "sales_uncertainty",
        "relative monthly uncertainty a rep sees in their own revenue",
    ),
    (
        "estimate_error",
        "sd of the manager's log error estimating territory potential",
    ),
    (
        "rep_knowledge_error",
        "sd of a rep's log error about their own territory",
    ),
    (
        "ratchet_foresight",
        "how much reps under a ratchet weigh the next goal's rise",
    ),
    (
        "sandbagging",
        "share by which participative proposals understate expectations",
    ),
    (
        "pull_in_discount",
        "price discount a customer needs per month a deal is pulled forward",
    ),
    (
        "max_pull_in",
        "months ahead a pull-in reaches (closable share of deals falls to 0 there)",
    ),
    (
        "max_push_out",
        "most of this month's revenue a rep past the cap can push out",
    ),
    (
        "own_touches",
        "partner touches/month reps make unprompted at normal effort, per tier",
    ),
    (
        "touch_time",
        "share of a rep's month one partner touch takes",
    ),
    (
        "compliance_unmeasured",
        "compliance with mandated activities nobody measures",
    ),
    (
        "compliance_if_assessed",
        "added compliance when activities are fully weighted in the assessment",
    ),
    (
        "compliance_if_in_goals",
        "added compliance when activities are fully weighted in goals",
    ),
    (
        "compliance_if_paid",
        "added compliance when all variable pay rides on the assessment",
    ),
    (
        "backing_spread",
        "sd of regional managers' backing around the region's value",
    ),
    (
        "recruiting_share",
        "share of rep time on recruiting when nothing measures it",
    ),
    (
        "recruiting_share_if_measured",
        "share of rep time on recruiting when goals/assessment weight it fully",
    ),
    (
        "calls_per_month",
        "recruiting calls in a full month of recruiting",
    ),
    ("call_conversion", "probability a call opens a negotiation"),
    ("negotiation_months", "mean months a negotiation lasts"),
    (
        "signing_probability",
        "probability a negotiation ends in a contract",
    ),
    (
        "partner_ramp_months",
        "months for a new partner to reach its potential",
    ),
    (
        "engagement_per_training",
        "engagement added to a new partner per onboarding training",
    ),
    (
        "goal_level_factor",
        "multiplier on the goals the strategy sets (a ratchet's first only); fitted to recorded attainment",
    ),
];

/// The `[behaviour]` table with every parameter at its default, commented out, one line of
/// explanation each: for `chanlab scenario init`.
pub fn commented_defaults() -> String {
    let defaults = toml::Value::try_from(Behaviour::default()).expect("defaults serialise");
    let table = defaults.as_table().expect("a table");
    let mut out = String::from(
        "# Behaviour parameters. Every one has a documented default (sim/MODEL.md); uncomment\n# a line to change it.\n[behaviour]\n",
    );
    for (name, doc) in PARAMETERS {
        let value = table.get(*name).map_or_else(String::new, |v| v.to_string());
        out.push_str(&format!("# {name} = {value}\n#   {doc}\n"));
    }
    out
}

#[cfg(test)]
mod documentation_tests {
    use super::*;

    #[test]
    fn every_parameter_is_documented_exactly_once() {
        let defaults = toml::Value::try_from(Behaviour::default()).unwrap();
        let fields: Vec<&String> = defaults.as_table().unwrap().keys().collect();
        let documented: Vec<&str> = PARAMETERS.iter().map(|(n, _)| *n).collect();
        for field in &fields {
            assert_eq!(
                documented.iter().filter(|d| **d == field.as_str()).count(),
                1,
                "{field}"
            );
        }
        assert_eq!(fields.len(), documented.len());
    }

    #[test]
    fn model_md_documents_every_parameter_with_its_default() {
        let model = include_str!("../MODEL.md");
        let defaults = toml::Value::try_from(Behaviour::default()).unwrap();
        let missing: Vec<&str> = PARAMETERS
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| !model.contains(&format!("`{name}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "sim/MODEL.md does not document: {missing:?}"
        );
        // Scalar defaults must appear in the parameter's table row as written in code.
        let mut wrong = Vec::new();
        for (name, value) in defaults.as_table().unwrap() {
            if let Some(v) = value.as_float() {
                let row = model
                    .lines()
                    .find(|l| l.starts_with('|') && l.contains(&format!("`{name}`")));
                if !row.is_some_and(|r| r.contains(&format!("{v}"))) {
                    wrong.push(format!("{name} = {v}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "MODEL.md's table rows lack these defaults: {wrong:?}"
        );
    }

    #[test]
    fn the_commented_defaults_parse_back_to_the_defaults_when_uncommented() {
        let text = commented_defaults();
        let uncommented: String = text
            .lines()
            .filter(|l| l.starts_with("# ") && !l.starts_with("#  ") && l.contains(" = "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let parsed: Behaviour = toml::from_str(&uncommented).unwrap();
        assert_eq!(parsed, Behaviour::default());
    }
}
