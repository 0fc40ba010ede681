//! Each partner's estimates (sim/MODEL.md §12, "Engagement" and "Potential"): its
//! engagement from the activity log, its own potential from its level, its tier's mean, and
//! its potential shrunk towards that mean by credibility weighting.

use std::collections::{BTreeMap, HashMap};

use chanlab_shared::{LifecycleStage, Partner, PartnerId, Probability, RegionId, Tier};

use super::channel::RegionDraft;
use super::history::{ActivityLog, History, Level, Windows, owed_share};
use super::{
    EngagementMethod, Options, PartnerReport, PotentialMethod, TREND_MIN_MONTHS, TierMethod,
    TierReport, round_to,
};
use crate::params::Behaviour;
use crate::scenario::{ExplicitPartner, TierPlans};

/// What the records say about partners, for the first pass.
pub(super) struct Evidence<'a> {
    /// Sales histories by partner.
    pub(super) histories: &'a HashMap<PartnerId, History>,
    /// The activity log.
    pub(super) log: &'a ActivityLog,
    /// A window offset's within-period profile factor.
    pub(super) factor: &'a dyn Fn(f64) -> f64,
    /// Months of recent history the level is read over.
    pub(super) level_months: usize,
    /// The engagement a partner settles at with no touches, under the baseline's margin.
    pub(super) floor: f64,
    /// The behaviour parameters in force.
    pub(super) behaviour: &'a Behaviour,
}

/// One partner's own estimates, before shrinkage towards its tier's mean.
pub(super) struct Draft<'p> {
    partner: &'p Partner,
    region: usize,
    owner: Option<u32>,
    level: Option<Level>,
    n: u32,
    engagement: Engagement,
    own: Option<f64>,
}

/// A partner's starting engagement and how it was found.
struct Engagement {
    touches: Option<f64>,
    engagement: Option<f64>,
    method: EngagementMethod,
    clamped: bool,
}

/// sim/MODEL.md §12 "The channel" (owner seats), "Level" and "Potential" (the own
/// estimate p = level / e): the first pass over the partners, in records order. A partner
/// of an unknown region is left out (noted); one without an owner seat is dealt
/// round-robin (noted). Marks the regions that have partners.
pub(super) fn drafts<'p>(
    partners: &'p [Partner],
    regions: &mut [RegionDraft],
    region_index: &HashMap<RegionId, usize>,
    evidence: &Evidence<'_>,
    notes: &mut Vec<String>,
) -> Vec<Draft<'p>> {
    let mut drafts = Vec::with_capacity(partners.len());
    let mut unowned = 0usize;
    for p in partners {
        let Some(&region) = region_index.get(&p.region_id) else {
            notes.push(format!(
                "partner {} names region {} which is not in the records; left out",
                p.id, p.region_id
            ));
            continue;
        };
        let owner = p.owner_rep_id.and_then(|rep| {
            regions[region]
                .report
                .reps
                .iter()
                .position(|r| *r == rep)
                .map(|i| i as u32)
        });
        if owner.is_none() {
            unowned += 1;
        }
        regions[region].has_partners = true;
        let history = evidence.histories.get(&p.id);
        let n = history.map_or(0, History::months);
        let level = history.and_then(|h| h.level(evidence.factor, evidence.level_months));
        let engagement = engagement(p, evidence);
        let divisor = engagement
            .engagement
            .unwrap_or(evidence.behaviour.initial_engagement)
            .max(0.05);
        let own = level.as_ref().map(|l| l.level / divisor);
        drafts.push(Draft {
            partner: p,
            region,
            owner,
            level,
            n,
            engagement,
            own,
        });
    }
    if unowned > 0 {
        notes.push(format!(
            "{unowned} partner(s) have no owner rep, or one who left or works in another region: dealt round-robin to the region's seats"
        ));
    }
    drafts
}

/// sim/MODEL.md §12 "Engagement": a selling partner whose owner keeps the log settles at
/// floor + (1 − floor) · T / (T + half) for its weighted touches a month T; one whose owner
/// logged nothing starts at `initial_engagement`; either is then moved into its stage's
/// band. Partners not selling get none.
fn engagement(p: &Partner, evidence: &Evidence<'_>) -> Engagement {
    let behaviour = evidence.behaviour;
    let floor = evidence.floor;
    let logs = p
        .owner_rep_id
        .is_some_and(|r| evidence.log.logging_reps.contains(&r));
    let (touches, raw, method) = if !p.stage().is_selling() {
        (None, None, EngagementMethod::NotSelling)
    } else if logs {
        let t = evidence.log.touches_per_month(p.id);
        let half = behaviour.touches_for_half_engagement.get(p.tier);
        (
            Some(round_to(t, 3)),
            Some(floor + (1.0 - floor) * t / (t + half)),
            EngagementMethod::ActivityLog,
        )
    } else {
        (
            None,
            Some(behaviour.initial_engagement),
            EngagementMethod::Default,
        )
    };
    let (engagement, clamped) = match raw {
        None => (None, false),
        Some(e) => {
            let bounded = match p.stage() {
                LifecycleStage::AtRisk => e.min(behaviour.recovered_above),
                _ => e.max(behaviour.at_risk_below),
            };
            (Some(round_to(bounded, 3)), bounded != e)
        }
    };
    Engagement {
        touches,
        engagement,
        method,
        clamped,
    }
}

/// sim/MODEL.md §12 "Potential": each tier's mean of its partners' own estimates; a tier
/// with no history takes its default potential scaled like the tiers with history
/// (`scaled_default`), or the default when no partner has history.
pub(super) fn tier_means(drafts: &[Draft<'_>]) -> (Vec<TierReport>, BTreeMap<Tier, f64>) {
    let defaults = TierPlans::default();
    let mut tier_sum: BTreeMap<Tier, (f64, u32, u32)> = BTreeMap::new();
    let mut scale = (0.0, 0u32);
    for d in drafts {
        let entry = tier_sum.entry(d.partner.tier).or_default();
        entry.2 += 1;
        if let Some(own) = d.own {
            entry.0 += own;
            entry.1 += 1;
            scale.0 += own / defaults.get(d.partner.tier).potential;
            scale.1 += 1;
        }
    }
    let scale_factor = (scale.1 > 0).then(|| scale.0 / f64::from(scale.1));
    let mut tiers = Vec::new();
    let mut tier_mean: BTreeMap<Tier, f64> = BTreeMap::new();
    for tier in Tier::ALL {
        let (sum, with_history, partners) = tier_sum.get(&tier).copied().unwrap_or_default();
        let default = defaults.get(tier).potential;
        let (mean, method) = if with_history > 0 {
            (sum / f64::from(with_history), TierMethod::Records)
        } else if let Some(f) = scale_factor {
            (default * f, TierMethod::ScaledDefault)
        } else {
            (default, TierMethod::Default)
        };
        let mean = round_to(mean.max(0.01), 2);
        tier_mean.insert(tier, mean);
        tiers.push(TierReport {
            tier,
            partners,
            with_history,
            mean_potential: mean,
            method,
        });
    }
    (tiers, tier_mean)
}

/// sim/MODEL.md §12 "Owed deals": the share of a month the channel's selling partners
/// still owe from deals pulled into its last period end (noted when there is any).
pub(super) fn owed(
    drafts: &[Draft<'_>],
    channel: &[f64],
    windows: &Windows,
    period_months: u32,
    max_pull_in: f64,
    notes: &mut Vec<String>,
) -> f64 {
    let channel_level: f64 = drafts
        .iter()
        .filter(|d| d.partner.stage().is_selling())
        .filter_map(|d| d.level.as_ref().map(|l| l.level))
        .sum();
    let owed = owed_share(
        channel,
        windows.sales_first,
        windows.as_of,
        period_months,
        channel_level,
        max_pull_in,
    );
    if owed > 0.0 {
        notes.push(format!(
            "sell-through above the level since the last period end ({:.0}% of a month) is taken as deals pulled forward, owed back by the first simulated months",
            owed * 100.0
        ));
    }
    owed
}

/// sim/MODEL.md §12 "Potential": the second pass, each partner's own estimate shrunk
/// towards its tier's mean with weight n / (n + k), scaled by its region's
/// `potential_scale`; the scenario's explicit partners and their reports, in records order.
pub(super) fn potentials(
    drafts: Vec<Draft<'_>>,
    tier_mean: &BTreeMap<Tier, f64>,
    owed: f64,
    options: &Options,
    regions: &[RegionDraft],
) -> (Vec<ExplicitPartner>, Vec<PartnerReport>) {
    let k = options.credibility_months;
    let mut explicit = Vec::with_capacity(drafts.len());
    let mut partners = Vec::with_capacity(drafts.len());
    for d in drafts {
        let m = tier_mean[&d.partner.tier];
        let (potential, credibility, method) = match d.own {
            Some(own) => {
                let n = f64::from(d.n);
                let w = if n + k > 0.0 { n / (n + k) } else { 1.0 };
                let method = if d.n >= TREND_MIN_MONTHS {
                    PotentialMethod::History
                } else {
                    PotentialMethod::ShortHistory
                };
                (w * own + (1.0 - w) * m, Some(round_to(w, 3)), method)
            }
            None => (m, None, PotentialMethod::TierMean),
        };
        let scale = options
            .potential_scale
            .get(&d.partner.region_id)
            .copied()
            .unwrap_or(1.0);
        let potential = round_to((potential * scale).clamp(0.0, 1e12), 2);
        let region_name = regions[d.region].report.name.clone();
        explicit.push(ExplicitPartner {
            region: region_name.clone(),
            tier: d.partner.tier,
            potential,
            engagement: d
                .engagement
                .engagement
                .and_then(|e| Probability::new(e).ok()),
            stage: d.partner.stage(),
            owner: d.owner,
            owed: match (&d.level, d.partner.stage().is_selling()) {
                (Some(l), true) => round_to(owed * l.level, 2),
                _ => 0.0,
            },
        });
        partners.push(PartnerReport {
            partner_id: d.partner.id,
            name: d.partner.name.as_str().to_owned(),
            region: region_name,
            tier: d.partner.tier,
            stage: d.partner.stage(),
            owner_rep_id: d.partner.owner_rep_id,
            owner: d.owner,
            months_of_history: d.n,
            mean_sell_through: d.level.as_ref().map(|l| round_to(l.mean, 2)),
            trend_per_month: d
                .level
                .as_ref()
                .and_then(|l| l.trend.map(|t| round_to(t, 4))),
            level: d.level.as_ref().map(|l| round_to(l.level, 2)),
            touches_per_month: d.engagement.touches,
            engagement: d.engagement.engagement,
            engagement_method: d.engagement.method,
            engagement_clamped: d.engagement.clamped,
            own_potential: d.own.map(|o| round_to(o, 2)),
            credibility,
            potential,
            potential_method: method,
        });
    }
    (explicit, partners)
}
