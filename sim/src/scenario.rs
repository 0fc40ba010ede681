//! Scenarios: a simulated channel, how its people behave, and the process specs to compare.
//!
//! A scenario file (TOML for people, JSON for programs) names the channel's regions with
//! their reps, partners by tier, prospects and how strongly each regional manager backs the
//! channel manager's process; the partner tiers' potential; optional behaviour overrides;
//! the horizon, replications and seed; and the process specs to compare, one of them the
//! baseline. A spec is given inline, by the name of a bundled spec, or by a file path that
//! the caller resolves (this module does no I/O).
//!
//! [`parse`] returns a [`Scenario`] whose specs are all inline and whose every cross-field
//! rule holds; serialising it gives a self-contained file that reruns the same experiment.

use std::collections::BTreeSet;

use chanlab_shared::{ProcessRules, Tier, ValidationError};
use serde::Serialize;

use crate::bundled;
use crate::files::{self, FileError, Format};
use crate::params::{Behaviour, check_range};

mod document;

pub use document::{
    Channel, ExplicitPartner, RegionPlan, ScenarioFile, SpecEntry, TierCounts, TierPlan, TierPlans,
};

/// Most months a scenario may simulate.
pub const MAX_HORIZON_MONTHS: u32 = 240;
/// Most replications a scenario may ask for.
pub const MAX_REPLICATIONS: u32 = 1_000_000;
/// Most process specs one scenario may compare.
pub const MAX_SPECS: usize = 12;
/// Most partner slots (partners plus prospects) a scenario may hold.
pub const MAX_PARTNERS: u64 = 200_000;

/// A validated scenario with every spec inline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Scenario {
    file: ScenarioFile,
    #[serde(skip)]
    specs: Vec<ProcessRules>,
    #[serde(skip)]
    baseline: usize,
}

impl Scenario {
    /// The scenario as a self-contained file (specs inline, behaviour complete).
    pub fn file(&self) -> &ScenarioFile {
        &self.file
    }

    /// The specs to compare, in file order.
    pub fn specs(&self) -> &[ProcessRules] {
        &self.specs
    }

    /// Index of the baseline spec in [`Scenario::specs`].
    pub fn baseline(&self) -> usize {
        self.baseline
    }

    /// Behaviour parameters in force.
    pub fn behaviour(&self) -> &Behaviour {
        &self.file.behaviour
    }

    /// Partner slots per replication: starting partners plus prospects.
    pub fn partner_slots(&self) -> u64 {
        let counted: u64 = self
            .file
            .channel
            .regions
            .iter()
            .map(|r| r.partners.total() + u64::from(r.prospects))
            .sum();
        counted + self.file.channel.partners.len() as u64
    }

    /// A copy with a different number of replications or seed (command-line overrides).
    pub fn with_overrides(
        mut self,
        replications: Option<u32>,
        seed: Option<u64>,
    ) -> Result<Self, ValidationError> {
        if let Some(r) = replications {
            check_replications(r)?;
            self.file.replications = r;
        }
        if let Some(s) = seed {
            self.file.seed = s;
        }
        Ok(self)
    }
}

/// Parses and validates a scenario. `resolve_file` turns a `file = "..."` spec reference
/// into that file's text (the caller decides where paths are relative to, or refuses).
pub fn parse(
    text: &str,
    format: Format,
    resolve_file: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Scenario, FileError> {
    let file: ScenarioFile = files::parse(text, format)?;
    resolve(file, resolve_file)
}

/// Monthly potential per rep seat of a channel: counted partners at their tier's
/// potential plus explicit partners, over the seats.
pub(crate) fn potential_per_seat(channel: &Channel) -> f64 {
    let counted: f64 = channel
        .regions
        .iter()
        .map(|r| {
            Tier::ALL
                .iter()
                .map(|t| f64::from(r.partners.get(*t)) * channel.tiers.get(*t).potential)
                .sum::<f64>()
        })
        .sum();
    let explicit: f64 = channel.partners.iter().map(|p| p.potential).sum();
    let seats: u32 = channel.regions.iter().map(|r| r.reps).sum();
    (counted + explicit) / f64::from(seats.max(1))
}

/// Validates an already deserialised scenario file and resolves its spec references.
pub fn resolve(
    mut file: ScenarioFile,
    resolve_file: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Scenario, FileError> {
    let mut specs = Vec::with_capacity(file.specs.len());
    for (i, entry) in file.specs.iter().enumerate() {
        let field = format!("specs[{i}]");
        let rules = match (&entry.bundled, &entry.file, &entry.inline) {
            (Some(name), None, None) => {
                let spec = bundled::find_spec(name).ok_or_else(|| {
                    let known: Vec<&str> = bundled::specs().iter().map(|s| s.name).collect();
                    whole(
                        format!("{field}.bundled"),
                        format!(
                            "no bundled spec is called {name:?}; known: {}",
                            known.join(", ")
                        ),
                    )
                })?;
                let rules = files::parse_rules(spec.text, Format::Toml)
                    .map_err(|e| whole(format!("{field}.bundled"), e.to_string()))?;
                bundled::restate(&rules, file.currency, potential_per_seat(&file.channel))
                    .map_err(|e| whole(format!("{field}.bundled"), e))?
            }
            (None, Some(path), None) => {
                let text = resolve_file(path).map_err(|e| whole(format!("{field}.file"), e))?;
                files::parse_rules(&text, Format::from_path(std::path::Path::new(path)))
                    .map_err(|e| whole(format!("{field}.file"), format!("in {path}: {e}")))?
            }
            (None, None, Some(rules)) => rules.clone(),
            _ => {
                return Err(whole(
                    field,
                    "give exactly one of `bundled = \"name\"`, `file = \"path\"` or an `[specs.inline]` table".to_owned(),
                ));
            }
        };
        specs.push(rules);
    }
    file.specs = specs
        .iter()
        .map(|rules| SpecEntry {
            bundled: None,
            file: None,
            inline: Some(rules.clone()),
        })
        .collect();
    let baseline =
        validate(&file, &specs).map_err(|e| whole(e.field().to_owned(), e.message().to_owned()))?;
    let scenario = Scenario {
        file,
        specs,
        baseline,
    };
    // A sweep's axes name specs, fields and parameters of this scenario: checked here so a
    // bad axis is reported when the file is read, not when the sweep starts.
    crate::explore::sweep::axes(&scenario).map_err(|e| whole(e.field, e.message))?;
    Ok(scenario)
}

fn whole(field: String, message: String) -> FileError {
    FileError {
        field,
        line: None,
        column: None,
        message,
    }
}

fn check_replications(r: u32) -> Result<(), ValidationError> {
    if (1..=MAX_REPLICATIONS).contains(&r) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "replications",
            format!("expected 1 to {MAX_REPLICATIONS}, found {r}"),
        ))
    }
}

/// Cross-field rules; returns the baseline's index.
fn validate(file: &ScenarioFile, specs: &[ProcessRules]) -> Result<usize, ValidationError> {
    if !(1..=MAX_HORIZON_MONTHS).contains(&file.horizon_months) {
        return Err(ValidationError::new(
            "horizon_months",
            format!(
                "expected 1 to {MAX_HORIZON_MONTHS} months, found {}",
                file.horizon_months
            ),
        ));
    }
    check_replications(file.replications)?;
    file.behaviour
        .validate()
        .map_err(|e| e.within("behaviour"))?;
    if let Some(u) = &file.uncertainty {
        let regions: Vec<&str> = file
            .channel
            .regions
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        u.check(&file.behaviour, &regions, file.channel.partners.len())?;
    }
    let channel = &file.channel;
    if channel.regions.is_empty() {
        return Err(ValidationError::new(
            "channel.regions",
            "expected at least one region",
        ));
    }
    let mut names = BTreeSet::new();
    for (i, region) in channel.regions.iter().enumerate() {
        let at = |e: ValidationError| e.at_index(i).within("channel.regions");
        if !names.insert(region.name.as_str()) {
            return Err(at(ValidationError::new(
                "name",
                format!("region {:?} is listed twice", region.name.as_str()),
            )));
        }
        let explicit = channel
            .partners
            .iter()
            .any(|p| p.region == region.name.as_str());
        let has_partners = region.partners.total() + u64::from(region.prospects) > 0 || explicit;
        if region.reps == 0 && has_partners {
            return Err(at(ValidationError::new(
                "reps",
                "a region with partners or prospects needs at least one rep",
            )));
        }
        if region.reps > 10_000 {
            return Err(at(ValidationError::new(
                "reps",
                format!("expected at most 10000, found {}", region.reps),
            )));
        }
    }
    if channel.regions.iter().all(|r| r.reps == 0) {
        return Err(ValidationError::new(
            "channel.regions",
            "the channel needs at least one rep",
        ));
    }
    for tier in Tier::ALL {
        let plan = channel.tiers.get(tier);
        let at = |e: ValidationError| e.within(&format!("channel.tiers.{tier:?}"));
        check_range("potential", plan.potential, 0.01, 1e12).map_err(at)?;
        check_range("potential_spread", plan.potential_spread, 0.0, 3.0).map_err(at)?;
        check_range("share_of_recruits", plan.share_of_recruits, 0.0, 1.0).map_err(at)?;
    }
    let recruit_shares: f64 = Tier::ALL
        .iter()
        .map(|t| channel.tiers.get(*t).share_of_recruits)
        .sum();
    if (recruit_shares - 1.0).abs() > 1e-3 {
        return Err(ValidationError::new(
            "channel.tiers",
            format!("share_of_recruits over A, B and C must sum to 1, found {recruit_shares:.3}"),
        ));
    }
    for (i, p) in channel.partners.iter().enumerate() {
        let at = |e: ValidationError| e.at_index(i).within("channel.partners");
        let Some(region) = channel.regions.iter().find(|r| r.name.as_str() == p.region) else {
            return Err(at(ValidationError::new(
                "region",
                format!("no region is called {:?}", p.region),
            )));
        };
        check_range("potential", p.potential, 0.0, 1e12).map_err(at)?;
        check_range("owed", p.owed, 0.0, 1e12).map_err(at)?;
        if let Some(owner) = p.owner
            && owner >= region.reps
        {
            return Err(at(ValidationError::new(
                "owner",
                format!(
                    "region {:?} has {} reps (0 to {}), found {owner}",
                    p.region,
                    region.reps,
                    region.reps.saturating_sub(1)
                ),
            )));
        }
    }
    let slots: u64 = channel
        .regions
        .iter()
        .map(|r| r.partners.total() + u64::from(r.prospects))
        .sum::<u64>()
        + channel.partners.len() as u64;
    if slots == 0 {
        return Err(ValidationError::new(
            "channel",
            "the channel has no partners and no prospects",
        ));
    }
    if slots > MAX_PARTNERS {
        return Err(ValidationError::new(
            "channel",
            format!("at most {MAX_PARTNERS} partners and prospects, found {slots}"),
        ));
    }
    if specs.is_empty() || specs.len() > MAX_SPECS {
        return Err(ValidationError::new(
            "specs",
            format!("expected 1 to {MAX_SPECS} specs, found {}", specs.len()),
        ));
    }
    let mut spec_names = BTreeSet::new();
    for (i, spec) in specs.iter().enumerate() {
        if !spec_names.insert(spec.name.as_str()) {
            return Err(ValidationError::new(
                format!("specs[{i}]"),
                format!(
                    "two specs are called {:?}; give each a distinct name",
                    spec.name.as_str()
                ),
            ));
        }
        for (k, bonus) in spec.incentive.threshold_bonuses().iter().enumerate() {
            if bonus.amount.currency() != file.currency {
                return Err(ValidationError::new(
                    format!("specs[{i}].incentive.threshold_bonuses[{k}].amount"),
                    format!(
                        "must be in the scenario's currency {}, found {}",
                        file.currency,
                        bonus.amount.currency()
                    ),
                ));
            }
        }
    }
    match &file.baseline {
        None => Ok(0),
        Some(name) => specs
            .iter()
            .position(|s| s.name.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                ValidationError::new(
                    "baseline",
                    format!(
                        "no spec is called {name:?}; the specs are: {}",
                        known.join(", ")
                    ),
                )
            }),
    }
}
