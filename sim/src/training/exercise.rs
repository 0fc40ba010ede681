//! Exercise files: what the trainee is told, may decide, and is scored on.

use std::collections::BTreeMap;

use chanlab_shared::ProcessRules;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use super::session::TrainingError;
use crate::bundled;
use crate::files::{self, Format};
use crate::scenario::{self, Scenario};
use crate::validate::merge;

const BUNDLED: &[&str] = &[
    include_str!("../../exercises/stretch-goal-trap.toml"),
    include_str!("../../exercises/ratchet-sandbagging.toml"),
    include_str!("../../exercises/quarter-end-games.toml"),
    include_str!("../../exercises/recruit-or-farm.toml"),
    include_str!("../../exercises/unmeasured-process.toml"),
];

/// An exercise as written in its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFile {
    /// Short id, e.g. `stretch-goal-trap`.
    pub id: String,
    /// Title.
    pub title: String,
    /// The model mechanism the exercise is built around.
    pub mechanism: String,
    /// What the trainee reads first: the situation, the channel, what the company wants.
    pub briefing: String,
    /// Bundled scenario: the channel and how its people behave (its specs are ignored).
    pub scenario: String,
    /// Changes to the scenario (deep-merged), e.g. a smaller channel.
    #[serde(default)]
    pub scenario_patch: Table,
    /// Bundled spec in force before the trainee's first decision.
    pub spec: String,
    /// Changes to that spec (deep-merged) before any decision.
    #[serde(default)]
    pub spec_patch: Table,
    /// Rounds the trainee plays.
    pub rounds: u32,
    /// Months per round (3: a quarter).
    pub round_months: u32,
    /// Monte Carlo replications per simulation (luck shown as a band).
    pub replications: u32,
    /// Seed when the trainee gives none.
    pub seed: u64,
    /// The decisions taken each round.
    pub decisions: Vec<Decision>,
    /// How the outcome is scored.
    pub scoring: Scoring,
    /// What the debrief recommends and warns against.
    pub lesson: Lesson,
    /// Round figures the debrief discusses (ids as in round reports, e.g. `gave_up_share`),
    /// when they differ from the recommended plan's; all of them when empty.
    #[serde(default)]
    pub focus: Vec<String>,
}

/// One decision the trainee takes each round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Id used in policies and API requests.
    pub id: String,
    /// The question put to the trainee.
    pub question: String,
    /// Id of the choice taken when the trainee just presses Enter.
    pub default: String,
    /// The options.
    pub choices: Vec<Choice>,
}

/// One option of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Id used in policies and API requests.
    pub id: String,
    /// What the trainee sees.
    pub label: String,
    /// The change to the spec (deep-merged).
    #[serde(default)]
    pub patch: Table,
}

/// Points per unit of each outcome over the whole exercise; the score is their sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// In words, for the briefing.
    pub describe: String,
    /// Points per million of sell-through.
    #[serde(default)]
    pub sell_through: f64,
    /// Points per million of margin after incentives, rebates and discounts.
    #[serde(default)]
    pub margin: f64,
    /// Points per partner who churned.
    #[serde(default)]
    pub partners_churned: f64,
    /// Points per rep who left.
    #[serde(default)]
    pub reps_left: f64,
    /// Points per partner signed.
    #[serde(default)]
    pub partners_signed: f64,
    /// Points per partner active or at risk at the end.
    #[serde(default)]
    pub partners_active: f64,
}

/// The lesson: a policy is a choice id per decision id, kept every round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// What the debrief recommends.
    pub recommended: BTreeMap<String, String>,
    /// The tempting policy that loses.
    pub trap: BTreeMap<String, String>,
    /// The lesson in a few sentences.
    pub summary: String,
}

/// A loaded exercise, checked: every choice applied to the starting spec gives a valid spec
/// whose goal period, bonus windows and partner target period fit the rounds.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// The file.
    pub file: ExerciseFile,
    pub(super) scenario: Scenario,
    /// The starting spec as a TOML table.
    pub(super) spec: Table,
}

impl Exercise {
    /// The scenario the exercise runs on (its horizon is rounds × round months).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Index of `choice` in decision `d`'s choices.
    pub fn choice_index(&self, d: usize, choice: &str) -> Option<usize> {
        self.file.decisions[d]
            .choices
            .iter()
            .position(|c| c.id == choice)
    }

    /// The default choice of every decision.
    pub fn defaults(&self) -> Vec<usize> {
        (0..self.file.decisions.len())
            .map(|d| {
                self.choice_index(d, &self.file.decisions[d].default)
                    .expect("defaults checked at load")
            })
            .collect()
    }

    /// A policy given as decision id → choice id, as indices; names what is wrong.
    pub fn policy(&self, given: &BTreeMap<String, String>) -> Result<Vec<usize>, TrainingError> {
        for key in given.keys() {
            if !self.file.decisions.iter().any(|d| &d.id == key) {
                return Err(TrainingError::Decision {
                    field: key.clone(),
                    message: format!(
                        "no decision is called {key:?}; decisions: {}",
                        self.decision_ids()
                    ),
                });
            }
        }
        self.file
            .decisions
            .iter()
            .enumerate()
            .map(|(d, decision)| {
                let id = given.get(&decision.id).unwrap_or(&decision.default);
                self.choice_index(d, id)
                    .ok_or_else(|| TrainingError::Decision {
                        field: decision.id.clone(),
                        message: format!(
                            "no choice {id:?}; choices: {}",
                            decision
                                .choices
                                .iter()
                                .map(|c| c.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })
            })
            .collect()
    }

    fn decision_ids(&self) -> String {
        self.file
            .decisions
            .iter()
            .map(|d| d.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The spec in force under `policy` (choice indices, one per decision).
    pub fn rules(&self, policy: &[usize]) -> Result<ProcessRules, String> {
        let mut spec = self.spec.clone();
        for (d, &c) in policy.iter().enumerate() {
            merge(&mut spec, &self.file.decisions[d].choices[c].patch);
        }
        let text = toml::to_string(&spec).map_err(|e| e.to_string())?;
        files::parse_rules(&text, Format::Toml).map_err(|e| e.to_string())
    }

    /// Every fixed policy: one choice per decision, kept all rounds.
    pub fn fixed_policies(&self) -> Vec<Vec<usize>> {
        let mut all = vec![Vec::new()];
        for decision in &self.file.decisions {
            all = all
                .into_iter()
                .flat_map(|p: Vec<usize>| {
                    (0..decision.choices.len()).map(move |c| {
                        let mut q = p.clone();
                        q.push(c);
                        q
                    })
                })
                .collect();
        }
        all
    }

    /// The policy's choices in words.
    pub fn describe(&self, policy: &[usize]) -> String {
        policy
            .iter()
            .enumerate()
            .map(|(d, &c)| self.file.decisions[d].choices[c].label.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Every bundled exercise.
pub fn bundled() -> Vec<Exercise> {
    BUNDLED
        .iter()
        .map(|text| load(text).expect("bundled exercises are valid (tested)"))
        .collect()
}

/// The bundled exercise called `id`.
pub fn find(id: &str) -> Option<Exercise> {
    bundled().into_iter().find(|e| e.file.id == id)
}

/// Most fixed policies an exercise may have (the reference search tries them all).
const MAX_POLICIES: usize = 64;

/// Loads an exercise from TOML text.
pub fn load(text: &str) -> Result<Exercise, TrainingError> {
    let mut file: ExerciseFile = files::parse(text, Format::Toml).map_err(TrainingError::File)?;
    let invalid = |field: &str, message: String| TrainingError::Exercise {
        exercise: file.id.clone(),
        field: field.to_owned(),
        message,
    };
    if file.rounds == 0 || file.round_months == 0 || file.rounds * file.round_months > 120 {
        return Err(invalid(
            "rounds",
            "give 1 or more rounds of 1 or more months, 120 months at most".into(),
        ));
    }
    if file.replications < 2 {
        return Err(invalid("replications", "at least 2, for a band".into()));
    }
    let scenario_text = bundled::find_scenario(&file.scenario)
        .ok_or_else(|| {
            invalid(
                "scenario",
                format!("no bundled scenario {:?}", file.scenario),
            )
        })?
        .text;
    let mut table: Table = toml::from_str(scenario_text)
        .map_err(|e| invalid("scenario", format!("unreadable: {e}")))?;
    merge(&mut table, &file.scenario_patch);
    table.insert(
        "horizon_months".into(),
        Value::Integer(i64::from(file.rounds * file.round_months)),
    );
    table.insert(
        "replications".into(),
        Value::Integer(i64::from(file.replications)),
    );
    table.insert("seed".into(), Value::Integer(file.seed as i64));
    table.remove("baseline");
    let spec_text = bundled::find_spec(&file.spec)
        .ok_or_else(|| invalid("spec", format!("no bundled spec {:?}", file.spec)))?
        .text;
    let mut spec: Table =
        toml::from_str(spec_text).map_err(|e| invalid("spec", format!("unreadable: {e}")))?;
    merge(&mut spec, &file.spec_patch);
    // On a channel kept in another currency the exercise's money (the spec's and every
    // choice's) is restated in it, as bundled specs are (bundled::restate).
    let channel: Option<scenario::ScenarioFile> = {
        let mut probe = table.clone();
        probe.insert("specs".into(), Value::Array(Vec::new()));
        Value::Table(probe).try_into().ok()
    };
    if let Some(channel) = channel.filter(|c| c.currency != chanlab_shared::Currency::EUR) {
        let per_seat = scenario::potential_per_seat(&channel.channel);
        bundled::restate_toml(&mut spec, channel.currency, per_seat);
        for decision in &mut file.decisions {
            for choice in &mut decision.choices {
                bundled::restate_toml(&mut choice.patch, channel.currency, per_seat);
            }
        }
    }
    // The scenario's own specs are replaced by the starting spec; sessions run schedules.
    let mut entry = Table::new();
    entry.insert("inline".into(), Value::Table(spec.clone()));
    table.insert("specs".into(), Value::Array(vec![Value::Table(entry)]));
    let text = toml::to_string(&table).map_err(|e| invalid("scenario", e.to_string()))?;
    let no_files = |p: &str| Err(format!("exercises may not refer to files ({p})"));
    let scenario = scenario::parse(&text, Format::Toml, &no_files)
        .map_err(|e| invalid("scenario", format!("invalid after patching: {e}")))?;
    let exercise = Exercise {
        file: file.clone(),
        scenario,
        spec,
    };
    check(&exercise).map_err(|(field, message)| invalid(&field, message))?;
    Ok(exercise)
}

/// Decisions, lesson and every choice's spec make sense for the rounds.
fn check(e: &Exercise) -> Result<(), (String, String)> {
    let f = &e.file;
    if f.decisions.is_empty() {
        return Err(("decisions".into(), "give at least one decision".into()));
    }
    for (d, decision) in f.decisions.iter().enumerate() {
        if decision.choices.len() < 2 {
            return Err((
                format!("decisions[{d}].choices"),
                "a decision needs at least two choices".into(),
            ));
        }
        if e.choice_index(d, &decision.default).is_none() {
            return Err((
                format!("decisions[{d}].default"),
                format!("{:?} is not one of its choices", decision.default),
            ));
        }
    }
    let policies = e.fixed_policies();
    if policies.len() > MAX_POLICIES {
        return Err((
            "decisions".into(),
            format!(
                "{} fixed policies; at most {MAX_POLICIES} so the reference search stays quick",
                policies.len()
            ),
        ));
    }
    let round = f.round_months;
    for policy in &policies {
        let rules = e.rules(policy).map_err(|m| {
            (
                "decisions".into(),
                format!(
                    "the policy \"{}\" gives an invalid spec: {m}",
                    e.describe(policy)
                ),
            )
        })?;
        let months = |p: chanlab_shared::PeriodLength| p.months().unsigned_abs();
        let period = months(rules.goal_setting.period);
        let target = months(rules.partner_program.target_period());
        // A round may not end inside a goal or target period: the next round's rules would
        // start half-way through one. (Bonus windows may be longer; a change of plan starts
        // new ones.)
        if [period, target]
            .iter()
            .any(|&m| m == 0 || !round.is_multiple_of(m))
        {
            return Err((
                "decisions".into(),
                format!(
                    "under \"{}\" the goal period or partner target period does not divide a round of {round} months",
                    e.describe(policy)
                ),
            ));
        }
    }
    for (i, id) in f.focus.iter().enumerate() {
        if !super::session::metric_ids().any(|m| m == id) {
            return Err((
                format!("focus[{i}]"),
                format!(
                    "no round figure is called {id:?}; figures: {}",
                    super::session::metric_ids().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    for (field, policy) in [
        ("lesson.recommended", &f.lesson.recommended),
        ("lesson.trap", &f.lesson.trap),
    ] {
        e.policy(policy)
            .map_err(|err| (field.to_owned(), err.to_string()))?;
    }
    Ok(())
}
