//! The training sandbox: exercises a new channel manager plays round by round on a simulated
//! channel, then a score placed among the policies the simulator finds, and a debrief.
//!
//! An exercise is a TOML file (`sim/exercises/*.toml`, bundled): a briefing, a scenario and a
//! starting spec, the decisions the trainee takes each round (each choice is a patch to the
//! spec), the number of rounds, how the result is scored, and the lesson: which policy the
//! debrief recommends and which one is the trap. A test per exercise checks the lesson holds.
//!
//! A round is played by simulating the whole exercise horizon with the trainee's decisions
//! so far, the latest staying in force for the rounds to come ([`crate::model::Schedule`]).
//! Reps in the model look no further than their current goal period and bonus windows, so
//! the months already played come out identical every time: the channel carries on from
//! where the last round left it. Every policy is simulated on the same replications (same
//! worlds, same shocks), so comparisons between the trainee and the reference policies are
//! paired.

mod exercise;
mod session;

pub use exercise::{
    Choice, Decision, Exercise, ExerciseFile, Lesson, Scoring, bundled, find, load,
};
pub use session::{Band, Debrief, MetricReport, PolicyScore, RoundReport, Session, TrainingError};
