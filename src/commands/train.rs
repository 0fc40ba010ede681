//! `chanlab train`: the training sandbox in a terminal. `play` asks each round's decisions,
//! with numbered choices and a default on Enter; it reads plain lines, so a script can pipe
//! the answers in.

use std::io::{self, BufRead, Write};

use chanlab_sim::training::{self, Debrief, Exercise, RoundReport, Session};
use chanlab_sim::validate::Display;

use super::Outcome;
use crate::cli::{FormatArg, OutputFormat};

/// The training sandbox's subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TrainCommand {
    /// List the exercises.
    List {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print an exercise's briefing and the decisions it asks for (`--format json`: what
    /// `GET /exercises/{id}` answers).
    Show {
        /// Exercise id, as `chanlab train list` shows it.
        exercise: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Play an exercise round by round; ends with the score and a debrief. With `--format
    /// json` the questions go to standard error and standard output gets one JSON document:
    /// the choices and figures of every round and the debrief.
    Play {
        /// Exercise id, as `chanlab train list` shows it.
        exercise: String,
        /// Seed: the same seed and answers replay the same session.
        #[arg(long)]
        seed: Option<u64>,
        /// Simulated channels per round (more: a tighter band, slower).
        #[arg(long, value_parser = clap::value_parser!(u32).range(2..=2000))]
        replications: Option<u32>,
        #[command(flatten)]
        format: FormatArg,
    },
}

pub(crate) fn run(command: TrainCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        TrainCommand::List { format } => list(format.format, out),
        TrainCommand::Show { exercise, format } => match find(&exercise)? {
            Some(e) => {
                match format.format {
                    OutputFormat::Text => briefing(&e, out)?,
                    OutputFormat::Json => {
                        serde_json::to_writer_pretty(
                            &mut *out,
                            &chanlab_api::training::detail_of(&e),
                        )?;
                        writeln!(out)?;
                    }
                }
                Ok(Outcome::Success)
            }
            None => Ok(Outcome::InvalidInput),
        },
        TrainCommand::Play {
            exercise,
            seed,
            replications,
            format,
        } => match find(&exercise)? {
            Some(e) => {
                let input = &mut io::stdin().lock();
                match format.format {
                    OutputFormat::Text => play(&e, seed, replications, input, out),
                    OutputFormat::Json => {
                        let mut transcript = io::stderr().lock();
                        play_json(&e, seed, replications, input, &mut transcript, out)
                    }
                }
            }
            None => Ok(Outcome::InvalidInput),
        },
    }
}

/// The exercise, or `None` after telling the user which ones exist.
fn find(id: &str) -> anyhow::Result<Option<Exercise>> {
    let found = training::find(id);
    if found.is_none() {
        let known: Vec<String> = training::bundled().into_iter().map(|e| e.file.id).collect();
        writeln!(
            io::stderr().lock(),
            "error: there is no exercise called {id:?}\n  fix: use one of: {}",
            known.join(", ")
        )?;
    }
    Ok(found)
}

fn list(format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let all = training::bundled();
    match format {
        OutputFormat::Text => {
            for e in &all {
                writeln!(out, "{:<22}{}", e.file.id, e.file.title)?;
                writeln!(out, "{:<22}{}", "", e.file.mechanism)?;
            }
        }
        OutputFormat::Json => {
            // The same entries `GET /exercises` answers.
            let list: Vec<_> = all.iter().map(chanlab_api::training::summary_of).collect();
            serde_json::to_writer_pretty(&mut *out, &list)?;
            writeln!(out)?;
        }
    }
    Ok(Outcome::Success)
}

fn briefing(e: &Exercise, out: &mut dyn Write) -> io::Result<()> {
    let f = &e.file;
    writeln!(out, "== {} ==\n", f.title)?;
    writeln!(out, "{}", f.briefing.trim_end())?;
    writeln!(
        out,
        "\nYou play {} rounds of {} months. Score: {}.",
        f.rounds, f.round_months, f.scoring.describe
    )?;
    writeln!(out, "Each round you decide:")?;
    for d in &f.decisions {
        writeln!(out, "  - {}", d.question)?;
    }
    Ok(())
}

/// A session played to the end, as `train play --format json` prints it.
#[derive(serde::Serialize)]
struct Played {
    exercise: String,
    seed: u64,
    replications: u32,
    rounds: Vec<PlayedRound>,
    debrief: Debrief,
}

/// One round: the choice id of each decision, and what happened.
#[derive(serde::Serialize)]
struct PlayedRound {
    choices: std::collections::BTreeMap<String, String>,
    report: RoundReport,
}

/// Plays `e` reading answers from `input`; the transcript goes to `out`.
pub(crate) fn play(
    e: &Exercise,
    seed: Option<u64>,
    replications: Option<u32>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    Ok(match session(e, seed, replications, input, out)? {
        Some(_) => Outcome::Success,
        None => Outcome::InvalidInput,
    })
}

/// Plays `e` with the questions and figures on `transcript` and one JSON document on `out`.
fn play_json(
    e: &Exercise,
    seed: Option<u64>,
    replications: Option<u32>,
    input: &mut dyn BufRead,
    transcript: &mut dyn Write,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let Some(played) = session(e, seed, replications, input, transcript)? else {
        return Ok(Outcome::InvalidInput);
    };
    serde_json::to_writer_pretty(&mut *out, &played)?;
    writeln!(out)?;
    Ok(Outcome::Success)
}

/// Plays a session; `None` when it could not start (reported on stderr).
fn session(
    e: &Exercise,
    seed: Option<u64>,
    replications: Option<u32>,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<Option<Played>> {
    let mut session = match Session::new(e, seed, replications) {
        Ok(s) => s,
        Err(err) => {
            writeln!(io::stderr().lock(), "error: {err}")?;
            return Ok(None);
        }
    };
    let mut rounds = Vec::new();
    briefing(e, out)?;
    writeln!(
        out,
        "\nWhat happened is simulated on {} copies of your channel (seed {}): figures are the\n\
         mean, with the range luck gave in 90 of 100 copies in brackets.",
        session.replications(),
        session.seed()
    )?;
    let mut input_ended = false;
    for round in 1..=e.file.rounds {
        let first = (round - 1) * e.file.round_months + 1;
        writeln!(
            out,
            "\n-- Round {round} of {} (months {first}–{}) --",
            e.file.rounds,
            first + e.file.round_months - 1
        )?;
        let mut policy = Vec::with_capacity(e.file.decisions.len());
        for (d, decision) in e.file.decisions.iter().enumerate() {
            let default = e.choice_index(d, &decision.default).unwrap_or(0);
            writeln!(out, "{}", decision.question)?;
            for (i, c) in decision.choices.iter().enumerate() {
                let mark = if i == default { "  [default]" } else { "" };
                writeln!(out, "  {}) {}{mark}", i + 1, c.label)?;
            }
            let chosen = loop {
                write!(out, "choice [{}]: ", default + 1)?;
                out.flush()?;
                let mut line = String::new();
                if input_ended || input.read_line(&mut line)? == 0 {
                    input_ended = true;
                    writeln!(out, "(end of input: the default)")?;
                    break default;
                }
                let answer = line.trim();
                if answer.is_empty() {
                    break default;
                }
                if let Ok(n) = answer.parse::<usize>()
                    && (1..=decision.choices.len()).contains(&n)
                {
                    break n - 1;
                }
                if let Some(i) = e.choice_index(d, answer) {
                    break i;
                }
                writeln!(
                    out,
                    "  answer 1–{} or a choice id ({}), or press Enter for the default",
                    decision.choices.len(),
                    decision
                        .choices
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )?;
            };
            policy.push(chosen);
        }
        let report = session.play(&policy)?;
        round_report(&report, out)?;
        let choices = e
            .file
            .decisions
            .iter()
            .zip(&policy)
            .map(|(d, &c)| (d.id.clone(), d.choices[c].id.clone()))
            .collect();
        rounds.push(PlayedRound { choices, report });
    }
    writeln!(
        io::stderr().lock(),
        "Scoring your run against every fixed policy…"
    )?;
    let summary = session.debrief()?;
    debrief(&summary, out)?;
    Ok(Some(Played {
        exercise: e.file.id.clone(),
        seed: session.seed(),
        replications: session.replications(),
        rounds,
        debrief: summary,
    }))
}

fn round_report(r: &RoundReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nRound {} — what happened:", r.round)?;
    for m in &r.metrics {
        if !m.value.mean.is_finite() {
            continue;
        }
        let show = |v: f64| plain(m.unit, v);
        writeln!(
            out,
            "  {:<38} {:>9}  ({} – {})",
            m.label,
            show(m.value.mean),
            show(m.value.p5),
            show(m.value.p95)
        )?;
    }
    Ok(())
}

/// A figure without the sign the validation table puts on percentages.
fn plain(unit: Display, v: f64) -> String {
    unit.format(v).trim_start_matches('+').to_owned()
}

fn debrief(d: &Debrief, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\n== Debrief ==")?;
    writeln!(
        out,
        "Your score: {:.1} (luck: {:.1} – {:.1}); {}.",
        d.score.mean, d.score.p5, d.score.p95, d.scoring
    )?;
    writeln!(
        out,
        "You beat {:.0}% of the fixed policies the simulator tried (one choice kept all year).",
        d.percentile * 100.0
    )?;
    writeln!(
        out,
        "  best fixed policy   {:>6.1}  {}",
        d.best.score, d.best.description
    )?;
    writeln!(
        out,
        "  the defaults        {:>6.1}  {}",
        d.naive.score, d.naive.description
    )?;
    writeln!(
        out,
        "  recommended         {:>6.1}  {}",
        d.recommended.score, d.recommended.description
    )?;
    let [m, lo, hi] = d.versus_recommended;
    writeln!(
        out,
        "You vs the recommended policy: {m:+.1} (95% interval {lo:+.1} to {hi:+.1}, same simulated channels)."
    )?;
    if !d.findings.is_empty() {
        writeln!(out, "\nWhat drove it:")?;
        for f in &d.findings {
            writeln!(out, "  - {f}")?;
        }
    }
    writeln!(out, "\nThe lesson: {}", d.lesson)?;
    Ok(())
}
