//! The scenario put together from the estimates (sim/MODEL.md §12, "The channel" and
//! "Potential"): the baseline and the compared specs, the name and description, the
//! regions' plans, the tier plans, and validation.

use std::collections::BTreeMap;

use chanlab_shared::{Currency, Month, Name, Notes, Probability, Tier};

use super::channel::{RegionDraft, seats};
use super::history::Windows;
use super::{FromRecordsError, Options, PartnerReport, Records};
use crate::bundled;
use crate::files::{self, Format};
use crate::scenario::{
    self, ExplicitPartner, RegionPlan, Scenario, ScenarioFile, SpecEntry, TierCounts, TierPlans,
};

/// sim/MODEL.md §12 "The channel": the published spec as the baseline, then the bundled
/// specs named in `compare`, each restated in the channel's currency and sized to its
/// territories (`bundled::restate`). A compared spec must not share the baseline's name.
pub(super) fn specs(
    records: Records<'_>,
    options: &Options,
    regions: &[RegionDraft],
    explicit: &[ExplicitPartner],
    currency: Currency,
) -> Result<Vec<SpecEntry>, FromRecordsError> {
    let mut specs = vec![SpecEntry {
        bundled: None,
        file: None,
        inline: Some(records.baseline.rules.clone()),
    }];
    for (i, name) in options.compare.iter().enumerate() {
        let field = format!("compare[{i}]");
        let Some(found) = bundled::find_spec(name) else {
            let known: Vec<&str> = bundled::specs().iter().map(|s| s.name).collect();
            return Err(FromRecordsError::Option {
                field,
                message: format!(
                    "no bundled spec is called {name:?}; known: {}",
                    known.join(", ")
                ),
            });
        };
        let rules =
            files::parse_rules(found.text, Format::Toml).map_err(|e| FromRecordsError::Option {
                field: field.clone(),
                message: e.to_string(),
            })?;
        // In the channel's currency, sized to its territories (bundled::restate).
        let per_seat =
            explicit.iter().map(|p| p.potential).sum::<f64>() / f64::from(seats(regions).max(1));
        let rules = bundled::restate(&rules, currency, per_seat).map_err(|message| {
            FromRecordsError::Option {
                field: field.clone(),
                message,
            }
        })?;
        if rules.name == records.baseline.rules.name {
            return Err(FromRecordsError::Option {
                field,
                message: format!(
                    "the published spec is already called {:?}; it is the baseline",
                    rules.name.as_str()
                ),
            });
        }
        specs.push(SpecEntry {
            bundled: None,
            file: None,
            inline: Some(rules),
        });
    }
    Ok(specs)
}

/// The scenario's name: the chosen one, or `From records as of <month>`.
pub(super) fn name(options: &Options, as_of: Option<Month>) -> Result<Name, FromRecordsError> {
    match &options.name {
        Some(n) => Ok(n.clone()),
        None => Name::parse(&match as_of {
            Some(m) => format!("From records as of {m}"),
            None => "From records".to_owned(),
        })
        .map_err(|e| FromRecordsError::Records(e.message().to_owned())),
    }
}

/// What the scenario was built from, in a sentence or two: partners, seats, regions, the
/// sales window and the baseline.
pub(super) fn description(
    records: Records<'_>,
    partners: &[PartnerReport],
    regions: &[RegionDraft],
    windows: &Windows,
) -> Notes {
    let selling = partners.iter().filter(|p| p.stage.is_selling()).count();
    Notes::parse(&format!(
        "Built from the records: {} partners ({selling} selling), {} seats in {} regions; potentials and engagement estimated from sales {} and the activity log (sim/MODEL.md §12). Baseline: the published spec {:?} v{}.",
        partners.len(),
        seats(regions),
        regions.len(),
        match (windows.sales_first, windows.as_of) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "(none recorded)".to_owned(),
        },
        records.baseline.rules.name.as_str(),
        records.baseline.version.get(),
    ))
    .unwrap_or_default()
}

/// sim/MODEL.md §12 "The channel": each region's plan, its seats and its regional
/// manager's backing (1.0 unless a calibration estimated it); its partners are explicit.
pub(super) fn region_plans(
    regions: &[RegionDraft],
    options: &Options,
) -> Result<Vec<RegionPlan>, FromRecordsError> {
    regions
        .iter()
        .map(|r| -> Result<RegionPlan, FromRecordsError> {
            let r = &r.report;
            Ok(RegionPlan {
                name: Name::parse(&r.name)
                    .map_err(|e| FromRecordsError::Records(e.message().to_owned()))?,
                reps: r.seats,
                backing: Probability::new(
                    options
                        .backing
                        .get(&r.region_id)
                        .copied()
                        .unwrap_or(1.0)
                        .clamp(0.0, 1.0),
                )
                .expect("clamped to 0..1"),
                partners: TierCounts::default(),
                prospects: 0,
            })
        })
        .collect()
}

/// sim/MODEL.md §12 "Potential": the default tier plans with their potentials set to the
/// tier means (spreads and recruit shares stay at the defaults).
pub(super) fn tier_plans(tier_mean: &BTreeMap<Tier, f64>) -> TierPlans {
    let mut tier_plans = TierPlans::default();
    tier_plans.a.potential = tier_mean[&Tier::A];
    tier_plans.b.potential = tier_mean[&Tier::B];
    tier_plans.c.potential = tier_mean[&Tier::C];
    tier_plans
}

/// Validates the assembled file: a refused horizon or replication count is the options'
/// fault, anything else the records'.
pub(super) fn resolve(file: ScenarioFile) -> Result<Scenario, FromRecordsError> {
    scenario::resolve(file, &|p| {
        Err(format!("a scenario from records cannot refer to {p}"))
    })
    .map_err(|e| match e.field.as_str() {
        "horizon_months" | "replications" => FromRecordsError::Option {
            field: e.field.clone(),
            message: e.message.clone(),
        },
        _ => FromRecordsError::Records(format!(
            "the records do not make a channel the simulator can run: {e}"
        )),
    })
}
