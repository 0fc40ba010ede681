//! The training sandbox over HTTP: the stored session, the shapes the API answers, and the
//! blocking work of playing a round.
//!
//! The simulation is `chanlab_sim::training`; this module only keeps what a session needs to
//! be rebuilt (exercise id, seed, replications, the choices of each round) together with
//! what was computed for it (each round's report and, at the end, the debrief), so that
//! reading a session never simulates. Playing a round replays the rounds already played
//! ([`Session::replay`]) and simulates the next one; it runs on the blocking pool, never on
//! an HTTP worker.
//!
//! The response types mirror the simulator's report types: they are stored as well as
//! answered, so they read back (the simulator's types only serialise), and a figure that
//! has no value (a share of nothing) is `null` rather than a NaN JSON cannot carry.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use chanlab_sim::training::{self, Band, Debrief, Exercise, PolicyScore, Session, TrainingError};
use chanlab_sim::validate::Display;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// Most replications a session may ask for: the debrief simulates every fixed policy (up
/// to 64) on them; a whole session at 500 takes about 1.2 s on two cores.
pub const MAX_REPLICATIONS: u32 = 500;

static EXERCISES: OnceLock<Vec<Exercise>> = OnceLock::new();

/// Every bundled exercise, loaded and checked once. Blocking the first time (it parses the
/// exercises and checks every fixed policy), instant after.
pub fn exercises() -> &'static [Exercise] {
    EXERCISES.get_or_init(training::bundled)
}

/// The bundled exercises if they are loaded already.
pub fn loaded() -> Option<&'static [Exercise]> {
    EXERCISES.get().map(Vec::as_slice)
}

/// The bundled exercise `id`. Blocking the first time, like [`exercises`].
pub fn exercise(id: &str) -> Option<&'static Exercise> {
    exercises().iter().find(|e| e.file.id == id)
}

/// One option of a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChoiceView {
    /// The id to send in `decisions`.
    pub id: String,
    /// What it means.
    pub label: String,
}

/// A decision the trainee takes each round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionView {
    /// The key to send in `decisions`.
    pub id: String,
    /// The question put to the trainee.
    pub question: String,
    /// The choice taken when the decision is left out.
    pub default: String,
    /// The options.
    pub choices: Vec<ChoiceView>,
}

/// An exercise as `GET /exercises` lists it. The lesson (which policy the debrief
/// recommends, and the trap) is not shown: the debrief tells it once the session is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "unmeasured-process", "title": "The process nobody measures",
    "mechanism": "Mandated activities: done when assessed, and only where the regional manager backs them",
    "rounds": 4, "round_months": 3, "replications": 60, "seed": 505, "currency": "EUR",
    "decisions": [{"id": "assessment", "question": "Do mandated visits count in the quarterly assessment?", "default": "no",
        "choices": [{"id": "no", "label": "No: sell-through only"}, {"id": "yes", "label": "Yes: visits are half the assessment"}]}],
    "scoring": "twelve-month sell-through in € million, minus 0.3 per partner who churns"}))]
pub struct ExerciseSummary {
    /// Short id, e.g. `stretch-goal-trap`.
    pub id: String,
    /// Title.
    pub title: String,
    /// The model mechanism the exercise is built around.
    pub mechanism: String,
    /// Rounds the trainee plays.
    pub rounds: u32,
    /// Months per round (3: a quarter).
    pub round_months: u32,
    /// Replications per simulation when the session asks for none.
    pub replications: u32,
    /// Seed when the session gives none.
    pub seed: u64,
    /// Currency of the money figures (ISO 4217).
    pub currency: String,
    /// The decisions taken each round.
    pub decisions: Vec<DecisionView>,
    /// How the outcome is scored, in words.
    pub scoring: String,
}

/// An exercise with its briefing: what the trainee reads first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExerciseDetail {
    /// The exercise.
    #[serde(flatten)]
    pub exercise: ExerciseSummary,
    /// The situation, the channel and what the company wants.
    pub briefing: String,
}

/// Decisions of an exercise, as shown to the trainee.
pub fn decisions_of(e: &Exercise) -> Vec<DecisionView> {
    e.file
        .decisions
        .iter()
        .map(|d| DecisionView {
            id: d.id.clone(),
            question: d.question.clone(),
            default: d.default.clone(),
            choices: d
                .choices
                .iter()
                .map(|c| ChoiceView {
                    id: c.id.clone(),
                    label: c.label.clone(),
                })
                .collect(),
        })
        .collect()
}

/// The list entry of an exercise.
pub fn summary_of(e: &Exercise) -> ExerciseSummary {
    let f = &e.file;
    ExerciseSummary {
        id: f.id.clone(),
        title: f.title.clone(),
        mechanism: f.mechanism.clone(),
        rounds: f.rounds,
        round_months: f.round_months,
        replications: f.replications,
        seed: f.seed,
        currency: e.scenario().file().currency.code().to_owned(),
        decisions: decisions_of(e),
        scoring: f.scoring.describe.clone(),
    }
}

/// An exercise with its briefing.
pub fn detail_of(e: &Exercise) -> ExerciseDetail {
    ExerciseDetail {
        exercise: summary_of(e),
        briefing: e.file.briefing.trim().to_owned(),
    }
}

/// A figure over replications: its mean and the band luck put around it (5th to 95th
/// percentile). `null` when there was nothing to measure (a share of no goal periods).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BandView {
    /// Mean over replications.
    pub mean: Option<f64>,
    /// 5th percentile.
    pub p5: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl From<Band> for BandView {
    fn from(b: Band) -> Self {
        BandView {
            mean: finite(b.mean),
            p5: finite(b.p5),
            p95: finite(b.p95),
        }
    }
}

/// How a figure is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A plain number.
    Ratio,
    /// A share between 0 and 1.
    Percent,
    /// Money in major units of the exercise's currency.
    Money,
    /// A count (a mean over replications).
    Count,
}

impl From<Display> for Unit {
    fn from(d: Display) -> Self {
        match d {
            Display::Ratio => Unit::Ratio,
            Display::Percent => Unit::Percent,
            Display::Money => Unit::Money,
            Display::Count => Unit::Count,
        }
    }
}

/// One figure of a round, in the words of the domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricView {
    /// Id, e.g. `gave_up_share`.
    pub id: String,
    /// Label, e.g. "Reps who judged the goal out of reach".
    pub label: String,
    /// How it is shown.
    pub unit: Unit,
    /// The figure over replications.
    pub value: BandView,
}

/// A decision as taken in a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TakenDecision {
    /// The decision's id.
    pub decision: String,
    /// The question.
    pub question: String,
    /// The choice's id.
    pub choice: String,
    /// The choice in words.
    pub label: String,
}

/// What happened in one round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoundView {
    /// 1-based.
    pub round: u32,
    /// First simulated month of the round (0-based).
    pub first_month: u32,
    /// Last simulated month of the round (0-based, inclusive).
    pub last_month: u32,
    /// When it was played.
    #[schema(value_type = String, format = DateTime)]
    pub played_at: DateTime<Utc>,
    /// Every decision in force this round, defaults included.
    pub decisions: Vec<TakenDecision>,
    /// The figures.
    pub metrics: Vec<MetricView>,
}

impl RoundView {
    /// The round's choices as decision id → choice id.
    pub fn choices(&self) -> BTreeMap<String, String> {
        self.decisions
            .iter()
            .map(|d| (d.decision.clone(), d.choice.clone()))
            .collect()
    }
}

/// A fixed policy (one choice per decision, kept every round) and its score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyScoreView {
    /// Decision id → choice id.
    pub choices: BTreeMap<String, String>,
    /// In words.
    pub description: String,
    /// Mean score over replications.
    pub score: Option<f64>,
}

impl From<PolicyScore> for PolicyScoreView {
    fn from(p: PolicyScore) -> Self {
        PolicyScoreView {
            choices: p.choices.into_iter().collect(),
            description: p.description,
            score: finite(p.score),
        }
    }
}

/// A paired difference: its mean and 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Difference {
    /// Mean difference.
    pub mean: Option<f64>,
    /// Lower end of the 95% interval.
    pub low: Option<f64>,
    /// Upper end of the 95% interval.
    pub high: Option<f64>,
}

/// The end of a session: the score, where it stands among the policies the simulator
/// tried, and the mechanisms that drove it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DebriefView {
    /// The trainee's score over replications.
    pub score: BandView,
    /// How the score is made.
    pub scoring: String,
    /// Share of the fixed policies (every choice kept all rounds) whose mean score the
    /// trainee's beats, ties counting half: 1 means better than all of them.
    pub percentile: f64,
    /// How many fixed policies were tried.
    pub policies_tried: u32,
    /// The best fixed policy.
    pub best: PolicyScoreView,
    /// The naive policy: every default kept all rounds.
    pub naive: PolicyScoreView,
    /// The policy the lesson recommends.
    pub recommended: PolicyScoreView,
    /// The trainee's score minus the recommended policy's, paired over replications.
    pub versus_recommended: Difference,
    /// The lesson.
    pub lesson: String,
    /// The mechanisms that drove the outcome, with the trainee's own numbers, largest
    /// first.
    pub findings: Vec<String>,
}

impl DebriefView {
    fn new(d: Debrief, policies_tried: usize) -> Self {
        let [mean, low, high] = d.versus_recommended;
        DebriefView {
            score: d.score.into(),
            scoring: d.scoring,
            percentile: d.percentile,
            policies_tried: u32::try_from(policies_tried).unwrap_or(u32::MAX),
            best: d.best.into(),
            naive: d.naive.into(),
            recommended: d.recommended.into(),
            versus_recommended: Difference {
                mean: finite(mean),
                low: finite(low),
                high: finite(high),
            },
            lesson: d.lesson,
            findings: d.findings,
        }
    }
}

/// A stored training session: what rebuilds it and what was computed for it. The owner is
/// the token that created it, kept as the token's hash (never shown) with its id and label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSessionRecord {
    /// The session's id (a UUIDv7).
    pub id: Uuid,
    /// The exercise's id.
    pub exercise: String,
    /// The seed in use.
    pub seed: u64,
    /// Replications per simulation.
    pub replications: u32,
    /// The id of the token that created the session.
    pub token_id: Uuid,
    /// That token's label: who played.
    pub player: String,
    /// SHA-256 of that token, hex: who may play it.
    pub owner_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the last round was played.
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The rounds played, in order.
    #[serde(default)]
    pub rounds: Vec<RoundView>,
    /// Once every round is played.
    #[serde(default)]
    pub debrief: Option<DebriefView>,
}

/// A training session as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrainingSessionView {
    /// The session's id (a UUIDv7).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The exercise's id.
    pub exercise: String,
    /// The exercise's title.
    pub title: String,
    /// The seed: the same seed and decisions replay the same session.
    pub seed: u64,
    /// Replications per simulation.
    pub replications: u32,
    /// Who plays: the label of the token that created the session.
    pub player: String,
    /// The id of that token.
    #[schema(value_type = String, format = Uuid)]
    pub token_id: Uuid,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When the last round was played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
    /// Rounds in the exercise.
    pub rounds_total: u32,
    /// Rounds played so far.
    pub rounds_played: u32,
    /// Months per round.
    pub round_months: u32,
    /// Whether every round has been played.
    pub finished: bool,
    /// Currency of the money figures (ISO 4217).
    pub currency: String,
    /// What the trainee reads first.
    pub briefing: String,
    /// The decisions to take each round (`POST /training/sessions/{id}/rounds`).
    pub decisions: Vec<DecisionView>,
    /// Every round played: its decisions and what happened.
    pub rounds: Vec<RoundView>,
    /// Once finished: the mean score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Once finished: the score among the policies the simulator tried, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debrief: Option<DebriefView>,
}

/// The session as answered.
pub fn view_of(record: &TrainingSessionRecord, e: &Exercise) -> TrainingSessionView {
    TrainingSessionView {
        id: record.id,
        exercise: record.exercise.clone(),
        title: e.file.title.clone(),
        seed: record.seed,
        replications: record.replications,
        player: record.player.clone(),
        token_id: record.token_id,
        created_at: record.created_at,
        finished_at: record.finished_at,
        rounds_total: e.file.rounds,
        rounds_played: u32::try_from(record.rounds.len()).unwrap_or(u32::MAX),
        round_months: e.file.round_months,
        finished: record.debrief.is_some(),
        currency: e.scenario().file().currency.code().to_owned(),
        briefing: e.file.briefing.trim().to_owned(),
        decisions: decisions_of(e),
        rounds: record.rounds.clone(),
        score: record.debrief.as_ref().and_then(|d| d.score.mean),
        debrief: record.debrief.clone(),
    }
}

/// What `POST /training/sessions/{id}/rounds` answers: the round's report and, after the
/// last round, the score and debrief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoundResult {
    /// The session.
    #[schema(value_type = String, format = Uuid)]
    pub session_id: Uuid,
    /// What happened this round.
    pub report: RoundView,
    /// Rounds played so far, this one included.
    pub rounds_played: u32,
    /// Rounds in the exercise.
    pub rounds_total: u32,
    /// Whether this was the last round.
    pub finished: bool,
    /// After the last round: the mean score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// After the last round: the debrief.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debrief: Option<DebriefView>,
}

/// A training error as the API answers it: a bad choice is a 422 on `decisions.<id>`, a
/// finished session a 409, a bad replication count a 422 on `replications`.
pub fn api_error(err: TrainingError) -> ApiError {
    match err {
        TrainingError::Decision { field, message } => {
            let field = if field == "decisions" {
                field
            } else {
                format!("decisions.{field}")
            };
            ApiError::field(field, message)
        }
        TrainingError::Finished { .. } => ApiError::Conflict {
            detail: format!(
                "{err}; start a new session with POST /training/sessions to play again"
            ),
            allowed: Vec::new(),
        },
        TrainingError::Replications(message) => ApiError::field("replications", message),
        other => ApiError::Internal(other.to_string()),
    }
}

/// Checks the replications a session asks for (2 to [`MAX_REPLICATIONS`]).
pub fn check_replications(replications: Option<u32>) -> Result<(), ApiError> {
    match replications {
        Some(r) if !(2..=MAX_REPLICATIONS).contains(&r) => Err(ApiError::field(
            "replications",
            format!("a session over HTTP runs 2 to {MAX_REPLICATIONS} replications, found {r}"),
        )),
        _ => Ok(()),
    }
}

/// Plays the next round of `record` with `choices` (decision id → choice id; a decision
/// left out takes its default) and returns the record with the round (and, after the last
/// round, the debrief) added. Blocking: simulates.
pub fn play(
    record: &TrainingSessionRecord,
    e: &Exercise,
    choices: &BTreeMap<String, String>,
) -> Result<TrainingSessionRecord, ApiError> {
    if record.debrief.is_some() || record.rounds.len() >= e.file.rounds as usize {
        return Err(api_error(TrainingError::Finished {
            rounds: e.file.rounds,
        }));
    }
    let policy = e.policy(choices).map_err(api_error)?;
    let past = record
        .rounds
        .iter()
        .map(|r| e.policy(&r.choices()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            ApiError::Internal(format!(
                "stored session {} no longer fits exercise {}: {err}",
                record.id, record.exercise
            ))
        })?;
    let simulated = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut session = Session::replay(e, Some(record.seed), Some(record.replications), &past)?;
        let report = session.play(&policy)?;
        let debrief = if session.finished() {
            Some(session.debrief()?)
        } else {
            None
        };
        Ok::<_, TrainingError>((report, debrief))
    }))
    .map_err(|_| ApiError::Internal(format!("the simulation of session {} panicked", record.id)))?;
    let (report, debrief) = simulated.map_err(api_error)?;
    let now = Utc::now();
    let round = RoundView {
        round: report.round,
        first_month: report.months[0],
        last_month: report.months[1],
        played_at: now,
        decisions: e
            .file
            .decisions
            .iter()
            .zip(&policy)
            .map(|(d, &c)| TakenDecision {
                decision: d.id.clone(),
                question: d.question.clone(),
                choice: d.choices[c].id.clone(),
                label: d.choices[c].label.clone(),
            })
            .collect(),
        metrics: report
            .metrics
            .into_iter()
            .map(|m| MetricView {
                id: m.id.to_owned(),
                label: m.label.to_owned(),
                unit: m.unit.into(),
                value: m.value.into(),
            })
            .collect(),
    };
    let mut next = record.clone();
    next.rounds.push(round);
    if let Some(d) = debrief {
        next.debrief = Some(DebriefView::new(d, e.fixed_policies().len()));
        next.finished_at = Some(now);
    }
    Ok(next)
}

/// One finished session on an exercise's leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeaderboardEntry {
    /// 1 for the best score.
    pub rank: u32,
    /// The session.
    #[schema(value_type = String, format = Uuid)]
    pub session_id: Uuid,
    /// Who played: the label of the session's token.
    pub player: String,
    /// The id of that token.
    #[schema(value_type = String, format = Uuid)]
    pub token_id: Uuid,
    /// Mean score.
    pub score: Option<f64>,
    /// Share of the fixed policies the score beats (0 to 1).
    pub percentile: f64,
    /// The seed played.
    pub seed: u64,
    /// Replications per simulation.
    pub replications: u32,
    /// When the last round was played.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
}

/// An exercise's finished sessions, best score first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Leaderboard {
    /// The exercise's id.
    pub exercise: String,
    /// Its title.
    pub title: String,
    /// How the score is made.
    pub scoring: String,
    /// Finished sessions this board holds in all.
    pub sessions: u32,
    /// The best of them, best first (ties: the earlier finish first).
    pub entries: Vec<LeaderboardEntry>,
}

/// The leaderboard of `e` from its finished sessions, cut to `limit` entries.
pub fn leaderboard(
    e: &Exercise,
    mut finished: Vec<TrainingSessionRecord>,
    limit: usize,
) -> Leaderboard {
    finished.retain(|s| s.debrief.is_some());
    let score = |s: &TrainingSessionRecord| {
        s.debrief
            .as_ref()
            .and_then(|d| d.score.mean)
            .unwrap_or(f64::NEG_INFINITY)
    };
    finished.sort_by(|a, b| {
        score(b)
            .total_cmp(&score(a))
            .then(a.finished_at.cmp(&b.finished_at))
            .then(a.id.cmp(&b.id))
    });
    let sessions = u32::try_from(finished.len()).unwrap_or(u32::MAX);
    let entries = finished
        .into_iter()
        .take(limit)
        .enumerate()
        .map(|(i, s)| LeaderboardEntry {
            rank: u32::try_from(i + 1).unwrap_or(u32::MAX),
            session_id: s.id,
            score: s.debrief.as_ref().and_then(|d| d.score.mean),
            percentile: s.debrief.as_ref().map_or(0.0, |d| d.percentile),
            player: s.player,
            token_id: s.token_id,
            seed: s.seed,
            replications: s.replications,
            finished_at: s.finished_at,
        })
        .collect();
    Leaderboard {
        exercise: e.file.id.clone(),
        title: e.file.title.clone(),
        scoring: e.file.scoring.describe.clone(),
        sessions,
        entries,
    }
}
