//! A policy search split over machines (sim/MODEL.md §13.4, "Shards").
//!
//! Successive halving is adaptive: which candidates rung 2 measures depends on what rung 1
//! measured. So a sharded search runs in stages, one per rung and one for the confirmation,
//! each split over shards by replications: every shard measures all of the stage's candidates
//! on its slice of the stage's replications and writes an [`OptimisePart`]; merging the
//! parts of a stage (exact sums, so any split gives the same numbers) ranks the rung and
//! gives the next [`OptimiseState`]. A state can also be finished on one machine, and a
//! finished state gives the same report, bit for bit, as the search run at once.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::run::{Prepared, Problem};
use super::{Halving, Score};
use crate::engine::{RunResult, Shard};
use crate::explore::ExploreError;
use crate::scenario::ScenarioFile;

/// What identifies a study: the scenario as given, the problem (threads aside) and the
/// candidates it drew. Every part and state carries it, so parts of another study, or a
/// state resumed with other flags, are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub(super) scenario: ScenarioFile,
    pub(super) problem: Problem,
    pub(super) candidates: Vec<Vec<f64>>,
}

/// The `kind` of a state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateKind {
    /// Always `optimise-state`.
    OptimiseState,
}

/// The `kind` of a part file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// Always `optimise-part`.
    OptimisePart,
}

/// Where a search stands between stages: the rungs ranked so far and, once the last rung is
/// ranked and the winner confirmed, the confirmation run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimiseState {
    /// `optimise-state`.
    pub kind: StateKind,
    /// The chanlab version that wrote it: states and parts merge within one version.
    pub chanlab_version: String,
    /// The study it belongs to.
    pub study: Study,
    /// The search so far.
    pub halving: Halving,
    /// The winner beside the baseline on the confirmation's replications, once run.
    pub confirmation: Option<RunResult>,
}

/// What one shard measured in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Work {
    /// One score per candidate of the rung, on the shard's replications.
    Rung(Vec<Score>),
    /// The winner and the baseline on the shard's confirmation replications.
    Confirm(Box<RunResult>),
}

/// One shard's measurements of one stage, for `chanlab merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimisePart {
    /// `optimise-part`.
    pub kind: PartKind,
    /// The state the stage started from.
    pub state: OptimiseState,
    /// Which shard, from 1.
    pub part: u32,
    /// Of how many.
    pub parts: u32,
    /// The replications this shard measured, `[start, end)`.
    pub replications: (u64, u64),
    /// What it measured.
    pub work: Work,
}

/// The next stage of a state, in words and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Rung `index` (from 1) of at most `of`: `candidates` on replications `[start, end)`.
    Rung {
        /// Which rung, from 1.
        index: usize,
        /// The rungs the search runs in all.
        of: usize,
        /// Candidates measured.
        candidates: usize,
        /// Replications `[start, end)`.
        replications: (u64, u64),
    },
    /// The winner confirmed on replications `[start, end)`.
    Confirm((u64, u64)),
    /// Nothing left: the state gives the report.
    Complete,
}

impl OptimiseState {
    /// What the next stage runs.
    pub fn stage(&self) -> Stage {
        let confirm = confirm_range(&self.study.problem);
        let left = self.halving.remaining();
        match left.first() {
            Some(&(candidates, replications)) => {
                let done = self.halving.rungs_done();
                Stage::Rung {
                    index: done + 1,
                    of: done + left.len(),
                    candidates,
                    replications,
                }
            }
            None if self.confirmation.is_none() => Stage::Confirm(confirm),
            None => Stage::Complete,
        }
    }

    /// Merges every shard of one stage into the state after it. The parts must come from
    /// one state and cover its stage exactly once: shards 1 to N of N.
    pub fn merge(mut parts: Vec<OptimisePart>) -> Result<OptimiseState, ExploreError> {
        let bad = |m: String| ExploreError::new("parts", m);
        let Some(first) = parts.first() else {
            return Err(bad("nothing to merge".to_owned()));
        };
        let (count, version) = (first.parts, env!("CARGO_PKG_VERSION"));
        if first.state.chanlab_version != version {
            return Err(bad(format!(
                "the parts were written by chanlab {}, this is {version}; merge with the \
                 version that wrote them",
                first.state.chanlab_version
            )));
        }
        for p in &parts[1..] {
            if p.state.study != first.state.study {
                return Err(bad(
                    "the parts come from different studies (scenario, seed, --vary, \
                     --objective, --constraint or search settings differ); merge the shards \
                     of one study"
                        .to_owned(),
                ));
            }
            if p.state != first.state || p.parts != count {
                return Err(bad(
                    "the parts come from different stages of the study; merge the shards of \
                     one stage (all written from the same --state) at a time"
                        .to_owned(),
                ));
            }
        }
        parts.sort_by_key(|p| p.part);
        let seen: Vec<u32> = parts.iter().map(|p| p.part).collect();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad(format!(
                "shard {}/{count} appears twice; pass each shard's file once",
                seen.windows(2).find(|w| w[0] == w[1]).map_or(0, |w| w[0])
            )));
        }
        if seen != (1..=count).collect::<Vec<_>>() {
            let missing: Vec<String> = (1..=count)
                .filter(|k| !seen.contains(k))
                .map(|k| format!("{k}/{count}"))
                .collect();
            return Err(bad(format!(
                "shards {} are missing: a rung is ranked on all of its replications, so merge \
                 every shard of the stage",
                missing.join(", ")
            )));
        }
        let mut state = parts[0].state.clone();
        let works: Vec<Work> = parts.into_iter().map(|p| p.work).collect();
        match works.first() {
            Some(Work::Rung(_)) => {
                let mut total: Option<Vec<Score>> = None;
                for work in works {
                    let Work::Rung(scores) = work else {
                        return Err(bad("the parts mix a rung and a confirmation".to_owned()));
                    };
                    match &mut total {
                        None => total = Some(scores),
                        Some(sum) => {
                            if sum.len() != scores.len() {
                                return Err(bad(
                                    "the parts score different numbers of candidates".to_owned()
                                ));
                            }
                            for (a, b) in sum.iter_mut().zip(&scores) {
                                a.merge(b);
                            }
                        }
                    }
                }
                state.halving.feed(total.unwrap_or_default())?;
            }
            Some(Work::Confirm(_)) => {
                let runs = works
                    .into_iter()
                    .map(|w| match w {
                        Work::Confirm(r) => Ok(*r),
                        Work::Rung(_) => {
                            Err(bad("the parts mix a rung and a confirmation".to_owned()))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let span = (super::CONFIRM_START, u64::MAX);
                let merged =
                    RunResult::merge_in(runs, Some(span)).map_err(|e| bad(e.to_string()))?;
                state.confirmation = Some(merged);
            }
            None => unreachable!("parts is not empty"),
        }
        Ok(state)
    }
}

impl Prepared {
    /// The study's first state: nothing measured yet.
    pub fn start(&self) -> OptimiseState {
        let p = &self.problem;
        let maximise = p.objective.better() != Some(false);
        OptimiseState {
            kind: StateKind::OptimiseState,
            chanlab_version: env!("CARGO_PKG_VERSION").to_owned(),
            study: self.study.clone(),
            halving: Halving::new(
                self.study.candidates.len(),
                maximise,
                &p.constraints,
                p.settings.replications,
            )
            .expect("prepare checked the candidates and replications"),
            confirmation: None,
        }
    }

    /// Refuses a state written for another study or by another version, naming what differs.
    pub fn check(&self, state: &OptimiseState) -> Result<(), ExploreError> {
        let bad = |m: &str, fix: &str| ExploreError::new("--state", m.to_owned()).with_fix(fix);
        if state.chanlab_version != env!("CARGO_PKG_VERSION") {
            return Err(bad(
                &format!(
                    "it was written by chanlab {}, this is {}",
                    state.chanlab_version,
                    env!("CARGO_PKG_VERSION")
                ),
                "resume with the version that started the study",
            ));
        }
        let (mine, theirs) = (&self.study, &state.study);
        if mine.scenario != theirs.scenario {
            return Err(bad(
                "it belongs to another scenario (or seed)",
                "give the scenario and --seed the study started with",
            ));
        }
        if mine.problem != theirs.problem || mine.candidates != theirs.candidates {
            return Err(bad(
                "it belongs to a study with other --spec, --vary, --objective, --constraint, \
                 --candidates, --replications or --confirm",
                "give the flags it started with",
            ));
        }
        if state.halving.candidates() != mine.candidates.len() {
            return Err(bad(
                "its search does not match its candidates: it is damaged",
                "write it again with `chanlab merge` from the parts of its stage",
            ));
        }
        Ok(())
    }

    /// Runs part `shard` of the next stage of `state` ([`Prepared::check`]ed): its slice of
    /// the stage's replications for every candidate of the stage.
    pub fn run_shard(
        &self,
        state: &OptimiseState,
        shard: Shard,
        progress: &(dyn Fn() -> ControlFlow<()> + Sync),
    ) -> Result<OptimisePart, ExploreError> {
        let (range, work) = match state.stage() {
            Stage::Complete => {
                return Err(ExploreError::new("--state", "the search is complete")
                    .with_fix("drop --shard to print its report and write the best spec"));
            }
            Stage::Rung { replications, .. } => {
                let range = slice(replications, shard)?;
                let (alive, _) = state.halving.next().expect("a rung is next");
                (range, Work::Rung(self.evaluate(alive, range, progress)?))
            }
            Stage::Confirm(replications) => {
                let range = slice(replications, shard)?;
                let winner = state.halving.search().expect("the search is done").winner;
                (
                    range,
                    Work::Confirm(Box::new(self.confirm(winner, range, progress)?)),
                )
            }
        };
        Ok(OptimisePart {
            kind: PartKind::OptimisePart,
            state: state.clone(),
            part: shard.index(),
            parts: shard.count(),
            replications: range,
            work,
        })
    }

    /// How many times [`Prepared::run_shard`] calls `progress`.
    pub fn shard_ticks(&self, state: &OptimiseState, shard: Shard) -> u64 {
        match state.stage() {
            Stage::Rung {
                candidates,
                replications,
                ..
            } => slice(replications, shard).map_or(0, |(a, b)| {
                candidates.div_ceil(super::run::PER_RUN) as u64 * (b - a)
            }),
            Stage::Confirm(replications) => slice(replications, shard).map_or(0, |(a, b)| b - a),
            Stage::Complete => 0,
        }
    }
}

/// The confirmation's replications: fresh, far above any the search uses.
pub(super) fn confirm_range(problem: &Problem) -> (u64, u64) {
    let start = super::CONFIRM_START;
    (start, start + problem.settings.confirm.max(2))
}

/// Shard `shard`'s slice of the replications `[start, end)`; refused when it would be empty.
fn slice((start, end): (u64, u64), shard: Shard) -> Result<(u64, u64), ExploreError> {
    let (a, b) = shard.range(end - start);
    if a == b {
        return Err(ExploreError::new(
            "--shard",
            format!(
                "this stage has {} replications, fewer than the {} shards",
                end - start,
                shard.count(),
            ),
        )
        .with_fix(format!(
            "use at most {} shards (or raise --replications)",
            end - start
        )));
    }
    Ok((start + a, start + b))
}
