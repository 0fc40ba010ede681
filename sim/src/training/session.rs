//! Playing an exercise: rounds, their reports, the score and the debrief.

use rayon::prelude::*;
use serde::Serialize;

use super::exercise::Exercise;
use crate::files::FileError;
use crate::model::{Kpi, Outcome, Schedule, simulate_schedule};
use crate::stats::{Moments, Summary};
use crate::validate::Display;

/// Why an exercise or a move in it was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    /// The exercise file is not valid TOML for an exercise.
    #[error("{0}")]
    File(FileError),
    /// The exercise refers to something missing or cannot be played.
    #[error("exercise {exercise}: {field}: {message}")]
    Exercise {
        /// Its id.
        exercise: String,
        /// Field path in the exercise file.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A decision given for a round is not one the exercise offers.
    #[error("{field}: {message}")]
    Decision {
        /// The decision id.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// Every round has been played.
    #[error("the session is finished: all {rounds} rounds have been played")]
    Finished {
        /// Rounds in the exercise.
        rounds: u32,
    },
    /// The debrief needs every round played.
    #[error("the debrief comes after the last round: {played} of {rounds} rounds played")]
    NotFinished {
        /// Rounds played.
        played: usize,
        /// Rounds in the exercise.
        rounds: u32,
    },
    /// Replications out of range.
    #[error("replications: {0}")]
    Replications(String),
}

/// A figure over replications: its mean and the band luck puts around it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Band {
    /// Mean over replications.
    pub mean: f64,
    /// 5th percentile.
    pub p5: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Band {
    fn of(summary: &Summary) -> Band {
        let r = summary.report();
        let mean = r.mean.unwrap_or(f64::NAN);
        Band {
            mean,
            p5: r.p5.unwrap_or(mean),
            p95: r.p95.unwrap_or(mean),
        }
    }
}

/// One figure of a round, in the words of the domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricReport {
    /// Id, e.g. `gave_up_share`.
    pub id: &'static str,
    /// Label, e.g. "Reps who judged the goal out of reach".
    pub label: &'static str,
    /// How it is shown.
    pub unit: Display,
    /// The figure over replications.
    pub value: Band,
}

/// What happened in one round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundReport {
    /// 1-based.
    pub round: u32,
    /// First and last simulated month of the round (0-based, inclusive).
    pub months: [u32; 2],
    /// The decisions in force: (question, choice label).
    pub decisions: Vec<(String, String)>,
    /// The figures.
    pub metrics: Vec<MetricReport>,
}

/// A fixed policy's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyScore {
    /// Decision id → choice id.
    pub choices: Vec<(String, String)>,
    /// In words.
    pub description: String,
    /// Mean score over replications.
    pub score: f64,
}

/// The end of a session: the score, where it stands, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Debrief {
    /// The trainee's score over replications.
    pub score: Band,
    /// How the score is made.
    pub scoring: String,
    /// Share of the fixed policies (every choice kept all rounds) whose mean score the
    /// trainee's beats, ties counting half: 1 means better than all of them.
    pub percentile: f64,
    /// The best fixed policy found by trying them all.
    pub best: PolicyScore,
    /// The naive policy: every default kept all rounds.
    pub naive: PolicyScore,
    /// The policy the lesson recommends.
    pub recommended: PolicyScore,
    /// Trainee minus recommended, mean and 95% interval (paired over replications).
    pub versus_recommended: [f64; 3],
    /// The lesson.
    pub lesson: String,
    /// The mechanisms that drove the outcome, with the trainee's own numbers, largest first.
    pub findings: Vec<String>,
}

/// A training session: an exercise, its seed and replications, and the decisions so far.
#[derive(Debug, Clone)]
pub struct Session {
    exercise: Exercise,
    scenario: crate::scenario::Scenario,
    decisions: Vec<Vec<usize>>,
    /// The outcomes of `decisions` when the last round played computed them, so the
    /// debrief and history after it do not simulate the same schedule again.
    last: Option<Vec<Outcome>>,
}

impl Session {
    /// Starts a session; `seed` and `replications` default to the exercise's.
    pub fn new(
        exercise: &Exercise,
        seed: Option<u64>,
        replications: Option<u32>,
    ) -> Result<Session, TrainingError> {
        if replications.is_some_and(|r| !(2..=2_000).contains(&r)) {
            return Err(TrainingError::Replications(
                "a session runs 2 to 2,000 replications".into(),
            ));
        }
        let scenario = exercise
            .scenario()
            .clone()
            .with_overrides(replications, seed)
            .map_err(|e| TrainingError::Replications(e.message().to_owned()))?;
        Ok(Session {
            exercise: exercise.clone(),
            scenario,
            decisions: Vec::new(),
            last: None,
        })
    }

    /// Rebuilds a session from decisions already taken (choice indices per round).
    pub fn replay(
        exercise: &Exercise,
        seed: Option<u64>,
        replications: Option<u32>,
        decisions: &[Vec<usize>],
    ) -> Result<Session, TrainingError> {
        let mut s = Session::new(exercise, seed, replications)?;
        for d in decisions {
            s.check(d)?;
            s.decisions.push(d.clone());
        }
        Ok(s)
    }

    /// The exercise.
    pub fn exercise(&self) -> &Exercise {
        &self.exercise
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.scenario.file().seed
    }

    /// Replications per simulation.
    pub fn replications(&self) -> u32 {
        self.scenario.file().replications
    }

    /// Choice indices per decision, per round played.
    pub fn decisions(&self) -> &[Vec<usize>] {
        &self.decisions
    }

    /// Whether every round has been played.
    pub fn finished(&self) -> bool {
        self.decisions.len() >= self.exercise.file.rounds as usize
    }

    fn check(&self, policy: &[usize]) -> Result<(), TrainingError> {
        let decisions = &self.exercise.file.decisions;
        if policy.len() != decisions.len()
            || policy
                .iter()
                .zip(decisions)
                .any(|(&c, d)| c >= d.choices.len())
        {
            return Err(TrainingError::Decision {
                field: "decisions".into(),
                message: format!("give one choice for each of {} decisions", decisions.len()),
            });
        }
        if self.finished() {
            return Err(TrainingError::Finished {
                rounds: self.exercise.file.rounds,
            });
        }
        Ok(())
    }

    /// Plays the next round with `policy` (a choice index per decision) and reports it.
    pub fn play(&mut self, policy: &[usize]) -> Result<RoundReport, TrainingError> {
        self.check(policy)?;
        self.decisions.push(policy.to_vec());
        self.last = None;
        let outcomes = self.simulate(&self.decisions)?;
        let report = self.round_report(self.decisions.len() - 1, &outcomes);
        self.last = Some(outcomes);
        Ok(report)
    }

    /// The outcomes of the rounds played: the last round's simulation, or a new one for a
    /// replayed session.
    fn played(&self) -> Result<std::borrow::Cow<'_, [Outcome]>, TrainingError> {
        Ok(match &self.last {
            Some(o) => std::borrow::Cow::Borrowed(o.as_slice()),
            None => std::borrow::Cow::Owned(self.simulate(&self.decisions)?),
        })
    }

    /// Every round played so far, recomputed (the history a session page shows).
    pub fn history(&self) -> Result<Vec<RoundReport>, TrainingError> {
        if self.decisions.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self.played()?;
        Ok((0..self.decisions.len())
            .map(|r| self.round_report(r, &outcomes))
            .collect())
    }

    fn simulate(&self, rounds: &[Vec<usize>]) -> Result<Vec<Outcome>, TrainingError> {
        let rules = rounds
            .iter()
            .map(|p| self.exercise.rules(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| TrainingError::Decision {
                field: "decisions".into(),
                message: m,
            })?;
        let schedule = Schedule::new(&rules, self.exercise.file.round_months as usize);
        Ok((0..u64::from(self.replications()))
            .into_par_iter()
            .map(|i| simulate_schedule(&self.scenario, &schedule, i))
            .collect())
    }

    fn round_report(&self, round: usize, outcomes: &[Outcome]) -> RoundReport {
        let len = self.exercise.file.round_months as usize;
        let (a, b) = (round * len, (round + 1) * len);
        let metrics = METRICS
            .iter()
            .map(|m| {
                let mut s = Summary::new();
                for o in outcomes {
                    s.add((m.read)(o, a, b));
                }
                MetricReport {
                    id: m.id,
                    label: m.label,
                    unit: m.unit,
                    value: Band::of(&s),
                }
            })
            .collect();
        let policy = &self.decisions[round];
        RoundReport {
            round: round as u32 + 1,
            months: [a as u32, b as u32 - 1],
            decisions: self
                .exercise
                .file
                .decisions
                .iter()
                .zip(policy)
                .map(|(d, &c)| (d.question.clone(), d.choices[c].label.clone()))
                .collect(),
            metrics,
        }
    }

    fn score(&self, o: &Outcome) -> f64 {
        let s = &self.exercise.file.scoring;
        s.sell_through * o.get(Kpi::SellThrough) / 1e6
            + s.margin * o.get(Kpi::MarginAfterIncentives) / 1e6
            + s.partners_churned * o.get(Kpi::PartnersChurned)
            + s.reps_left * o.get(Kpi::RepAttrition)
            + s.partners_signed * o.get(Kpi::PartnersSigned)
            + s.partners_active * o.get(Kpi::PartnersActiveAtEnd)
    }

    /// Scores of a fixed policy, one per replication.
    pub fn policy_scores(&self, policy: &[usize]) -> Result<Vec<f64>, TrainingError> {
        let rounds = vec![policy.to_vec()];
        Ok(self
            .simulate(&rounds)?
            .iter()
            .map(|o| self.score(o))
            .collect())
    }

    /// The score, where it stands among the fixed policies, and the mechanisms behind it.
    pub fn debrief(&self) -> Result<Debrief, TrainingError> {
        if !self.finished() {
            return Err(TrainingError::NotFinished {
                played: self.decisions.len(),
                rounds: self.exercise.file.rounds,
            });
        }
        let e = &self.exercise;
        let mine = self.played()?;
        let my_scores: Vec<f64> = mine.iter().map(|o| self.score(o)).collect();
        let mut summary = Summary::new();
        my_scores.iter().for_each(|&x| summary.add(x));
        let my_mean = mean(&my_scores);

        let recommended = e
            .policy(&e.file.lesson.recommended)
            .expect("checked at load");
        let policies = e.fixed_policies();
        let mut scored = Vec::with_capacity(policies.len());
        // The recommended policy is one of the fixed ones: keep its outcomes for the paired
        // comparison and the findings instead of simulating it twice.
        let mut rec_outcomes = Vec::new();
        for p in &policies {
            let outcomes = self.simulate(std::slice::from_ref(p))?;
            scored.push((
                p.clone(),
                mean(&outcomes.iter().map(|o| self.score(o)).collect::<Vec<_>>()),
            ));
            if *p == recommended {
                rec_outcomes = outcomes;
            }
        }
        let beaten: f64 = scored
            .iter()
            .map(|(_, s)| {
                if my_mean > *s {
                    1.0
                } else if my_mean == *s {
                    0.5
                } else {
                    0.0
                }
            })
            .sum();
        let policy_score = |p: &[usize], score: f64| PolicyScore {
            choices: p
                .iter()
                .enumerate()
                .map(|(d, &c)| {
                    let decision = &e.file.decisions[d];
                    (decision.id.clone(), decision.choices[c].id.clone())
                })
                .collect(),
            description: e.describe(p),
            score,
        };
        let best = scored
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("at least one policy");
        let naive = e.defaults();
        let naive_score = scored
            .iter()
            .find(|(p, _)| *p == naive)
            .map_or(f64::NAN, |x| x.1);
        let rec_scores: Vec<f64> = rec_outcomes.iter().map(|o| self.score(o)).collect();
        let mut diff = Moments::new();
        for (x, y) in my_scores.iter().zip(&rec_scores) {
            diff.add(x - y);
        }
        let (lo, hi) = diff.interval95().unwrap_or((f64::NAN, f64::NAN));
        Ok(Debrief {
            score: Band::of(&summary),
            scoring: e.file.scoring.describe.clone(),
            percentile: beaten / scored.len() as f64,
            best: policy_score(&best.0, best.1),
            naive: policy_score(&naive, naive_score),
            recommended: policy_score(&recommended, mean(&rec_scores)),
            versus_recommended: [diff.mean().unwrap_or(f64::NAN), lo, hi],
            lesson: e.file.lesson.summary.clone(),
            findings: findings(
                &mine,
                &rec_outcomes,
                e.file.rounds as usize * e.file.round_months as usize,
                &e.file.focus,
            ),
        })
    }
}

/// Ids of the figures a round report carries.
pub(super) fn metric_ids() -> impl Iterator<Item = &'static str> {
    METRICS.iter().map(|m| m.id)
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// A figure read from one replication's outcome over months `[a, b)`.
struct Metric {
    id: &'static str,
    label: &'static str,
    unit: Display,
    read: fn(&Outcome, usize, usize) -> f64,
    /// For the debrief: what the figure shows about the model, `{you}` and `{rec}` filled in.
    finding: &'static str,
}

/// The change of a running KPI total over months `[a, b)`.
fn delta(o: &Outcome, kpi: Kpi, a: usize, b: usize) -> f64 {
    let at = |t: usize| o.detail.months[t].kpis[kpi.index()];
    at(b - 1) - if a == 0 { 0.0 } else { at(a - 1) }
}

fn ratio_over(
    o: &Outcome,
    a: usize,
    b: usize,
    num: fn(&crate::model::MonthDetail) -> f64,
    den: fn(&crate::model::MonthDetail) -> f64,
) -> f64 {
    let months = &o.detail.months[a..b];
    let d: f64 = months.iter().map(den).sum();
    if d > 0.0 {
        months.iter().map(num).sum::<f64>() / d
    } else {
        f64::NAN
    }
}

const METRICS: &[Metric] = &[
    Metric {
        id: "sell_through",
        label: "Sell-through",
        unit: Display::Money,
        read: |o, a, b| delta(o, Kpi::SellThrough, a, b),
        finding: "Sell-through came to {you}, against {rec} under the recommended plan.",
    },
    Metric {
        id: "attainment",
        label: "Rep goal periods at goal",
        unit: Display::Percent,
        read: |o, a, b| ratio_over(o, a, b, |m| m.periods_at_goal, |m| m.periods_settled),
        finding: "{you} of rep goal periods ended at goal ({rec} recommended): goals set how hard they are, and whether reps believe in them.",
    },
    Metric {
        id: "gave_up_share",
        label: "Reps who judged the goal out of reach",
        unit: Display::Percent,
        read: |o, a, b| ratio_over(o, a, b, |m| m.gave_up, |m| m.filled_reps),
        finding: "Reps judged their goal out of reach in {you} of rep-months ({rec} recommended); a rep who gives up on a goal stops stretching for it (goal commitment, Locke & Latham).",
    },
    Metric {
        id: "reps_left",
        label: "Reps who left",
        unit: Display::Count,
        read: |o, a, b| delta(o, Kpi::RepAttrition, a, b),
        finding: "{you} reps left ({rec} recommended): every missed goal raises the chance a rep quits, and a vacant seat sells at a third of the pace.",
    },
    Metric {
        id: "partners_churned",
        label: "Partners churned",
        unit: Display::Count,
        read: |o, a, b| delta(o, Kpi::PartnersChurned, a, b),
        finding: "{you} partners churned ({rec} recommended): partners who are not visited, or are pushed stock, disengage and leave.",
    },
    Metric {
        id: "partners_signed",
        label: "Partners signed",
        unit: Display::Count,
        read: |o, a, b| delta(o, Kpi::PartnersSigned, a, b),
        finding: "{you} new partners signed ({rec} recommended): reps recruit when recruiting is measured, and only then.",
    },
    Metric {
        id: "compliance",
        label: "Mandated visits done",
        unit: Display::Percent,
        read: |o, a, b| ratio_over(o, a, b, |m| m.mandated_done, |m| m.mandated_required),
        finding: "{you} of mandated visits were done ({rec} recommended): visits get done where they are assessed and the regional manager backs them, and by reps who are working their territory.",
    },
    Metric {
        id: "discounts",
        label: "Pull-in discounts",
        unit: Display::Money,
        read: |o, a, b| delta(o, Kpi::DiscountCost, a, b),
        finding: "Reps granted {you} of discounts to pull deals into a quarter ({rec} recommended): an accelerator makes concentrating deals pay (Larkin).",
    },
    Metric {
        id: "loaded",
        label: "Stock loaded beyond demand",
        unit: Display::Money,
        read: |o, a, b| o.detail.months[a..b].iter().map(|m| m.loaded).sum(),
        finding: "{you} of stock was loaded onto partners beyond what they sell ({rec} recommended): a rebate step or a sell-in goal invites channel stuffing.",
    },
    Metric {
        id: "inventory",
        label: "Channel inventory at round end",
        unit: Display::Money,
        read: |o, _, b| o.detail.months[b - 1].inventory,
        finding: "Partners held {you} of stock at the end ({rec} recommended).",
    },
];

/// The mechanisms where the trainee's run differs from the recommended plan's with a 95%
/// interval excluding zero, largest standardised difference first.
fn findings(mine: &[Outcome], rec: &[Outcome], horizon: usize, focus: &[String]) -> Vec<String> {
    let mut found: Vec<(f64, String)> = Vec::new();
    for m in METRICS {
        if !focus.is_empty() && !focus.iter().any(|f| f == m.id) {
            continue;
        }
        let mut d = Moments::new();
        let (mut you, mut them) = (Moments::new(), Moments::new());
        for (x, y) in mine.iter().zip(rec) {
            let (a, b) = ((m.read)(x, 0, horizon), (m.read)(y, 0, horizon));
            you.add(a);
            them.add(b);
            d.add(a - b);
        }
        let (Some((lo, hi)), Some(se), Some(mean)) = (d.interval95(), d.std_error(), d.mean())
        else {
            continue;
        };
        if lo > 0.0 || hi < 0.0 {
            let show = |s: &Moments| {
                s.mean().map_or("n/a".into(), |v| {
                    m.unit.format(v).trim_start_matches('+').to_owned()
                })
            };
            let text = m
                .finding
                .replace("{you}", &show(&you))
                .replace("{rec}", &show(&them));
            found.push(((mean / se.max(1e-12)).abs(), text));
        }
    }
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().map(|(_, t)| t).collect()
}
