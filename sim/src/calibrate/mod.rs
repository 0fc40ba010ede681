//! Calibration: fit the behaviour parameters a channel's records identify, say which they
//! do not, and carry what stays uncertain into every run (sim/MODEL.md §12.2–12.4).
//!
//! Two kinds of estimate. Rates the records show directly (churn of at-risk partners,
//! signing, negotiation length, recruiting, rep attrition and its rise after missed goals,
//! regional backing from compliance with the spec's cadences) are read off the stage
//! history, the reps and the activity log by maximum likelihood, each with its interval.
//! Parameters the records show only through the whole model (demand noise, the market
//! shock, how far reps pull deals forward, partner stock loading, the value reps put on a
//! goal) are fitted by the method of simulated moments: the channel built from the records
//! is simulated over as many months as the records hold, at trial parameters, on common
//! random numbers, and the same named moments are read off the simulated records
//! ([`crate::synthesize`]) until they match the user's. The interval of a simulated-moments
//! estimate is the indirect-inference sandwich (1 + 1/S)·G⁻¹ΩG⁻ᵀ; a parameter whose
//! moment hardly moves across its plausible range, or whose interval spans most of it, is
//! not identified: it keeps its default, and the report says so.
//!
//! [`calibrate`] is pure (no I/O, no clock); the CLI's `chanlab calibrate`, the API's
//! `POST /scenarios/from-records` with `calibrate` and the backtest call it.

pub mod chart;
mod fit;
mod level;
mod moments;
mod simulated;

use std::collections::BTreeMap;

use chanlab_shared::{Month, RegionId};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use moments::Profile;
pub(crate) use moments::period_length;

use self::fit::Estimate;
use self::level::{match_level, timing_corrected_level};
use self::moments::{Moments, Window};
use self::simulated::{Read, Target, Trial, channel_targets, fit_simulated};
use crate::from_records::{self, Calibrated, FromRecordsError, Records};
use crate::model::SpecDemands;
use crate::params::Behaviour;
use crate::synthesize::synthesize;
use crate::uncertainty::{ParameterDraw, Scale, Uncertainty, scalar};

/// Fewest months of sales history a calibration reads (four quarters, or one year).
pub const MIN_MONTHS: u32 = 12;
/// Most months of history read (the most recent).
pub const MAX_MONTHS: u32 = 24;

/// How to calibrate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The scenario to build (as-of month, horizon, replications, seed, compared specs).
    pub scenario: from_records::Options,
    /// Simulated histories per moment evaluation (S).
    pub simulations: u32,
    /// Seed of the calibration's simulated histories (not the scenario's).
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            scenario: from_records::Options::default(),
            simulations: 8,
            seed: 1,
        }
    }
}

/// A calibrated scenario and how it was fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The scenario (fitted behaviour and backing, parameter uncertainty) and the
    /// per-partner estimates of [`from_records::build`].
    pub calibrated: Calibrated,
    /// The fit.
    pub fit: FitReport,
}

/// How each parameter was fitted, and to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FitReport {
    /// First month of the history read.
    pub first_month: Month,
    /// Last month (the as-of month).
    pub as_of: Month,
    /// Months read.
    pub months: u32,
    /// Simulated histories per evaluation.
    pub simulations: u32,
    /// Per parameter: estimate, interval and what it was fitted to.
    pub parameters: Vec<FittedParameter>,
    /// Per moment: recorded against simulated at the defaults and at the estimates.
    pub moments: Vec<MomentFit>,
    /// Channel sell-through level: the sum of the partners' recent deseasonalised levels,
    /// a month, and its standard error.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LevelEstimate))]
    pub level: (f64, f64),
    /// Per region (by name), the multiplier on its partners' potentials that makes the
    /// scenario sell the region's recorded level over its first six months.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::RegionScale>))]
    pub potential_scale: Vec<(String, f64)>,
    /// The within-period profile read off the records (first month of a goal period to
    /// last), when the records hold a complete period.
    pub profile: Option<Vec<f64>>,
    /// What else a reader should know.
    pub notes: Vec<String>,
}

/// One parameter's fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FittedParameter {
    /// The parameter (`demand_noise`, `backing.North`).
    pub parameter: String,
    /// Its default.
    pub default: f64,
    /// The value the calibrated scenario uses (the default when not identified).
    pub estimate: f64,
    /// 90% interval, when identified: lower and upper bound.
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 2))]
    pub interval: Option<[f64; 2]>,
    /// Whether the records identify it.
    pub identified: bool,
    /// How it was estimated.
    pub method: Method,
    /// The moments it was fitted to.
    pub moments: Vec<String>,
    /// Why it is or is not identified, in words.
    pub note: String,
}

/// How a parameter was estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = FitMethod))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Read off the records by maximum likelihood.
    Records,
    /// Fitted by simulated moments.
    SimulatedMoments,
    /// Not identified: the default.
    Default,
}

/// One moment: what the records show and what the model gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MomentFit {
    /// Its name (`profile.last`).
    pub moment: String,
    /// What it is.
    pub description: String,
    /// Read off the user's records.
    pub recorded: f64,
    /// Mean over simulated histories at the default parameters.
    pub simulated_default: Option<f64>,
    /// Mean over simulated histories at the estimates.
    pub simulated: Option<f64>,
    /// Sd across simulated histories at the estimates: how far a record set of this size
    /// strays by chance.
    pub sd: Option<f64>,
}

/// Why a calibration could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrateError {
    /// Building the scenario failed (an option, or records that make no channel).
    #[error(transparent)]
    Records(#[from] FromRecordsError),
    /// The records are too short or too thin to calibrate from.
    #[error("{0}")]
    TooShort(String),
}

/// Calibrates a scenario on `records` (sim/MODEL.md §12).
pub fn calibrate(records: Records<'_>, options: &Options) -> Result<Calibration, CalibrateError> {
    let defaults = Behaviour::default();
    let plain = from_records::build(records, &options.scenario)?;
    let report = &plain.report;
    let as_of = report.as_of.ok_or_else(|| {
        CalibrateError::TooShort(format!(
            "the records hold no sales: calibration needs at least {MIN_MONTHS} months of sales records (sell-through per partner and month)"
        ))
    })?;
    let first_sale = records
        .sales
        .iter()
        .filter(|s| s.sell_through().currency() == report.currency)
        .map(|s| s.month())
        .min()
        .unwrap_or(as_of);
    let available = (first_sale.months_until(as_of) + 1).max(0) as u32;
    if available < MIN_MONTHS {
        return Err(CalibrateError::TooShort(format!(
            "calibration needs at least {MIN_MONTHS} months of sales history ending at the as-of month {as_of}; the records hold {available} ({first_sale} to {as_of}): add {} more month(s) of sales records, or calibrate later",
            MIN_MONTHS - available
        )));
    }
    let months = available.min(MAX_MONTHS);
    let first = as_of.plus(1 - months as i32).expect("inside the records");
    let window = Window {
        first,
        last: as_of,
        currency: report.currency,
    };
    let recorded = Moments::of(&records, window, &defaults);
    let mut notes = Vec::new();
    let mut parameters = Vec::new();
    let mut behaviour = defaults.clone();
    let mut draws: Vec<ParameterDraw> = Vec::new();

    let start_backing = read_backing(&records, &recorded, &defaults, &mut parameters);
    read_rates(
        &records,
        &recorded,
        &mut behaviour,
        &mut parameters,
        &mut draws,
    );

    // The simulated-moments block: channel-wide targets, then each region's backing.
    let mut targets = channel_targets();
    for region in records.regions {
        if start_backing.contains_key(&region.id) {
            targets.push(Target {
                parameter: format!("backing.{}", region.name.as_str()),
                region: Some(region.id),
                moment: format!("compliance.{}", region.name.as_str()),
                description: format!(
                    "weighted touches logged per touch the spec's cadences ask of {}'s selling partners (visits 1, trainings 1.5, reviews 1.2)",
                    region.name.as_str()
                ),
                range: (0.02, 1.0),
                read: Read::Compliance(region.id),
            });
        }
    }
    let (block, absent): (Vec<Target>, Vec<Target>) = targets
        .into_iter()
        .partition(|t| t.read.of(&recorded).is_some_and(f64::is_finite));
    let history = |trial: &Trial, seeds: std::ops::Range<u64>| -> Vec<Moments> {
        let mut o = options.scenario.clone();
        o.as_of = Some(as_of);
        o.start = Some(first);
        o.horizon_months = months;
        o.replications = 1;
        o.compare = Vec::new();
        o.behaviour = trial.behaviour.clone();
        o.backing = trial.backing.clone();
        let Ok(built) = from_records::build(records, &o) else {
            return Vec::new();
        };
        seeds
            .into_par_iter()
            .filter_map(|s| {
                let synthetic = synthesize(&built.scenario, months, s).ok()?;
                let view = synthetic.records();
                // The synthetic records name their own regions: map them back by position.
                let mut m = Moments::of(&view, window, &trial.behaviour);
                m.touches = synthetic
                    .regions
                    .iter()
                    .zip(records.regions)
                    .filter_map(|(own, user)| m.touches.get(&own.id).map(|v| (user.id, *v)))
                    .collect();
                Some(m)
            })
            .collect()
    };
    let s = u64::from(options.simulations.max(2));
    let seeds = options.seed..options.seed + s;
    let start = Trial {
        behaviour: behaviour.clone(),
        backing: start_backing.clone(),
    };
    let fitted = fit_simulated(&block, &recorded, &start, &history, seeds);
    let mut moments_out = Vec::new();
    let mut trial = start.clone();
    for (j, target) in block.iter().enumerate() {
        let recorded_value = target
            .read
            .of(&recorded)
            .expect("the block holds recorded moments only");
        moments_out.push(MomentFit {
            moment: target.moment.clone(),
            description: target.description.clone(),
            recorded: recorded_value,
            simulated_default: fitted.at_default.get(j).copied(),
            simulated: fitted.at_estimate.get(j).copied(),
            sd: fitted.sd.get(j).copied(),
        });
        let default = if target.region.is_some() {
            1.0
        } else {
            *scalar(&mut defaults.clone(), &target.parameter).expect("a parameter")
        };
        match &fitted.results[j] {
            Some(e) => {
                let (lo, hi) = e.interval(target.range.0, target.range.1);
                trial.set(target, e.value);
                draws.push(draw(&target.parameter, e, target.range));
                parameters.push(FittedParameter {
                    parameter: target.parameter.clone(),
                    default,
                    estimate: e.value,
                    interval: Some([lo, hi]),
                    identified: true,
                    method: Method::SimulatedMoments,
                    moments: vec![target.moment.clone()],
                    note: format!(
                        "fitted so the simulated {} matches the recorded {:.4}",
                        target.moment, recorded_value
                    ),
                });
            }
            None => {
                // Not identified: the default (backing: 1, as without a calibration).
                if target.region.is_some() {
                    trial.set(target, 1.0);
                }
                parameters.push(FittedParameter {
                    parameter: target.parameter.clone(),
                    default,
                    estimate: default,
                    interval: None,
                    identified: false,
                    method: Method::Default,
                    moments: vec![target.moment.clone()],
                    note: fitted.why[j].clone(),
                });
            }
        }
    }
    for target in &absent {
        let default = if target.region.is_some() {
            1.0
        } else {
            *scalar(&mut defaults.clone(), &target.parameter).expect("a parameter")
        };
        parameters.push(FittedParameter {
            parameter: target.parameter.clone(),
            default,
            estimate: default,
            interval: None,
            identified: false,
            method: Method::Default,
            moments: vec![target.moment.clone()],
            note: format!(
                "the records do not show {}: the default stays",
                target.moment
            ),
        });
    }
    for m in extra_moments(&recorded) {
        moments_out.push(m);
    }
    let behaviour = trial.behaviour;
    let backing: BTreeMap<RegionId, f64> = trial
        .backing
        .into_iter()
        .filter(|(_, v)| *v < 1.0)
        .collect();

    // The scenario at the estimates, its level matched to the records', with what stays
    // uncertain.
    let mut o = options.scenario.clone();
    o.behaviour = behaviour;
    o.backing = backing;
    let level = timing_corrected_level(&recorded, window, &records, &defaults);
    o.potential_scale = match_level(records, &o, &recorded, level, options.seed)?;
    let mut calibrated = from_records::build(records, &o)?;
    let potential_log_sd = potential_uncertainty(&calibrated, &recorded);
    let level_se = recorded
        .levels
        .values()
        .map(|l| l.se * l.se)
        .sum::<f64>()
        .sqrt();
    let mut file = calibrated.scenario.file().clone();
    file.uncertainty = Some(Uncertainty {
        parameters: draws,
        potential_log_sd,
    });
    calibrated.scenario = crate::scenario::resolve(file, &|p| {
        Err(format!("a scenario from records cannot refer to {p}"))
    })
    .map_err(|e| FromRecordsError::Records(format!("the calibrated scenario is invalid: {e}")))?;
    if recorded.profile.is_none() {
        notes.push("the records hold no complete goal period of the published spec: the within-period profile is not read".to_owned());
    }
    notes.push(format!(
        "{} parameters not listed here keep their defaults (sim/MODEL.md §7.1): the records do not identify them",
        crate::params::FIELD_NAMES.len().saturating_sub(parameters.len())
    ));
    Ok(Calibration {
        calibrated,
        fit: FitReport {
            first_month: first,
            as_of,
            months,
            simulations: options.simulations.max(2),
            parameters,
            moments: moments_out,
            level: (level, level_se),
            potential_scale: records
                .regions
                .iter()
                .map(|r| {
                    let scale = o.potential_scale.get(&r.id).copied().unwrap_or(1.0);
                    (r.name.as_str().to_owned(), scale)
                })
                .collect(),
            profile: recorded.profile.as_ref().map(|p| p.factors.clone()),
            notes,
        },
    })
}

fn draw(parameter: &str, e: &Estimate, range: (f64, f64)) -> ParameterDraw {
    ParameterDraw {
        parameter: parameter.to_owned(),
        estimate: e.value.clamp(range.0, range.1),
        sd: if e.sd.is_finite() { e.sd.min(3.0) } else { 3.0 },
        scale: e.scale,
        min: range.0,
        max: range.1,
    }
}

/// Starting values of each region's backing from compliance, c = (touches − own) / (full
/// − own) and backing = c / the spec's drive (sim/MODEL.md §3.3, §3.9); the simulated
/// moments then correct them for what this leaves out (effort above normal, onboarding
/// visits). A region whose cadences ask nothing beyond what reps do unprompted says nothing
/// about backing and is reported as such.
fn read_backing(
    records: &Records<'_>,
    recorded: &Moments,
    b: &Behaviour,
    parameters: &mut Vec<FittedParameter>,
) -> BTreeMap<RegionId, f64> {
    let drive = SpecDemands::of(&records.baseline.rules, b).compliance_drive;
    let mut out = BTreeMap::new();
    for region in records.regions {
        let (touches, own, full) = recorded
            .touches
            .get(&region.id)
            .copied()
            .unwrap_or_default();
        let room = full - own;
        if room > 5.0 && drive > 0.05 && touches > 0.0 {
            let c = ((touches - own) / room).clamp(0.0, 1.0);
            out.insert(region.id, (c / drive.min(1.0)).clamp(0.05, 1.0));
        } else {
            parameters.push(FittedParameter {
                parameter: format!("backing.{}", region.name.as_str()),
                default: 1.0,
                estimate: 1.0,
                interval: None,
                identified: false,
                method: Method::Default,
                moments: vec![format!("compliance.{}", region.name.as_str())],
                note: "the spec mandates no touches beyond what reps do unprompted in this region, or nothing was logged: compliance says nothing about backing".to_owned(),
            });
        }
    }
    out
}

/// Rates read straight off the stage history, the reps and the activity log.
fn read_rates(
    records: &Records<'_>,
    m: &Moments,
    behaviour: &mut Behaviour,
    parameters: &mut Vec<FittedParameter>,
    draws: &mut Vec<ParameterDraw>,
) {
    let defaults = Behaviour::default();
    let demands = SpecDemands::of(&records.baseline.rules, &defaults);
    let mut put = |name: &str,
                   moment: &str,
                   estimate: Option<Estimate>,
                   enough: bool,
                   range: (f64, f64),
                   note: String| {
        let default = *scalar(&mut defaults.clone(), name).expect("a parameter");
        match estimate.filter(|_| enough) {
            Some(e) => {
                let value = e.value.clamp(range.0, range.1);
                let (lo, hi) = e.interval(range.0, range.1);
                *scalar(behaviour, name).expect("a parameter") = value;
                draws.push(draw(name, &Estimate { value, ..e }, range));
                parameters.push(FittedParameter {
                    parameter: name.to_owned(),
                    default,
                    estimate: value,
                    interval: Some([lo, hi]),
                    identified: true,
                    method: Method::Records,
                    moments: vec![moment.to_owned()],
                    note,
                });
            }
            None => parameters.push(FittedParameter {
                parameter: name.to_owned(),
                default,
                estimate: default,
                interval: None,
                identified: false,
                method: Method::Default,
                moments: vec![moment.to_owned()],
                note: format!("too few events in the records ({note}): the default stays"),
            }),
        }
    };
    put(
        "churn_hazard_at_risk",
        "churn",
        fit::probability(m.churn),
        m.churn.exposure >= 20.0,
        (0.0005, 0.9),
        format!(
            "{} churns in {} at-risk partner-months",
            m.churn.events, m.churn.exposure
        ),
    );
    put(
        "signing_probability",
        "signing",
        fit::probability(m.signing),
        m.signing.exposure >= 5.0,
        (0.01, 0.99),
        format!(
            "{} of {} resolved negotiations signed",
            m.signing.events, m.signing.exposure
        ),
    );
    let resolution = fit::rate(m.resolution).map(|e| Estimate {
        value: 1.0 / e.value,
        ..e
    });
    put(
        "negotiation_months",
        "negotiation.length",
        resolution,
        m.resolution.events >= 5.0,
        (1.0, 36.0),
        format!(
            "{} negotiations resolved over {} negotiating partner-months",
            m.resolution.events, m.resolution.exposure
        ),
    );
    let per_call = demands.recruiting_share * defaults.calls_per_month;
    let conversion = fit::rate(m.opened).map(|e| Estimate {
        value: e.value / per_call.max(1e-9),
        ..e
    });
    put(
        "call_conversion",
        "recruiting.opened",
        conversion,
        m.opened.events >= 3.0 && per_call > 0.0,
        (0.0005, 0.9),
        format!(
            "{} negotiations opened in {} rep-months with prospects",
            m.opened.events, m.opened.exposure
        ),
    );
    let attrition = fit::attrition(&m.departures, defaults.attrition_per_miss);
    let events: f64 = m.departures.iter().map(|r| r.events).sum();
    let exposure: f64 = m.departures.iter().map(|r| r.exposure).sum();
    let annual = attrition.map(|(h, _)| Estimate {
        value: 1.0 - (1.0 - h.value.min(0.99)).powi(12),
        ..h
    });
    put(
        "annual_attrition",
        "departures",
        annual,
        events >= 3.0,
        (0.001, 0.95),
        format!("{events} departures in {exposure} rep-months"),
    );
    let per_miss = attrition.and_then(|(_, a)| a);
    put(
        "attrition_per_miss",
        "departures.after_misses",
        per_miss,
        true,
        (0.0, 10.0),
        format!(
            "departures after consecutive missed goals: {:?} of {:?} rep-months",
            m.departures.map(|r| r.events),
            m.departures.map(|r| r.exposure)
        ),
    );
    let _ = records;
}

/// Moments shown for checking, beside the ones fitted.
fn extra_moments(m: &Moments) -> Vec<MomentFit> {
    let mut out = Vec::new();
    let mut add = |moment: &str, description: &str, value: Option<f64>| {
        if let Some(v) = value {
            out.push(MomentFit {
                moment: moment.to_owned(),
                description: description.to_owned(),
                recorded: v,
                simulated_default: None,
                simulated: None,
                sd: None,
            });
        }
    };
    add(
        "profile.first",
        "first month of a goal period over the period's monthly mean",
        m.profile.as_ref().map(Profile::first),
    );
    add(
        "attainment.sd",
        "sd of recorded revenue attainment",
        m.attainment.map(|a| a.1),
    );
    add(
        "attainment.at_goal",
        "share of recorded goal periods at or above 100%",
        m.attainment.map(|a| a.2),
    );
    add(
        "churn",
        "at-risk partners churning per at-risk partner-month",
        (m.churn.exposure > 0.0).then(|| m.churn.events / m.churn.exposure),
    );
    add(
        "signing",
        "share of resolved negotiations that signed",
        (m.signing.exposure > 0.0).then(|| m.signing.events / m.signing.exposure),
    );
    add("departures", "reps leaving per rep-month", {
        let e: f64 = m.departures.iter().map(|r| r.events).sum();
        let x: f64 = m.departures.iter().map(|r| r.exposure).sum();
        (x > 0.0).then(|| e / x)
    });
    out
}

/// Per explicit partner of the calibrated scenario, the sd of the log of its potential:
/// its level's standard error shrunk by its credibility weight; the tier's spread for a
/// partner without history.
fn potential_uncertainty(c: &Calibrated, m: &Moments) -> Vec<f64> {
    c.report
        .partners
        .iter()
        .map(|p| match (m.levels.get(&p.partner_id), p.credibility) {
            (Some(l), Some(w)) if l.level > 0.0 => (w * l.se / l.level).clamp(0.0, 3.0),
            _ => c
                .scenario
                .file()
                .channel
                .tiers
                .get(p.tier)
                .potential_spread
                .clamp(0.0, 3.0),
        })
        .collect()
}
