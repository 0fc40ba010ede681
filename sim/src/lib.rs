//! chanlab's simulator side: the Monte Carlo model of a sales channel, the files that describe
//! what to simulate, and the bundled library of examples.
//!
//! The [`model`] is a pure function of a scenario and a seed: it does
//! no I/O, reads no clock and uses no global random number generator. Every replication draws
//! from its own generator, made by [`seed::replication_rng`] from the run's seed and the
//! replication's index, which is what makes a run reproducible on any number of threads and
//! splittable into shards.
//!
//! Text goes in through [`files`], which turns TOML or JSON into validated domain values and
//! reports errors with the field path; reading the file from disk is the caller's job.

pub mod backtest;
pub mod backtest_chart;
pub mod bundled;
pub mod calibrate;
pub mod chart;
pub mod engine;
pub mod explore;
pub mod files;
pub mod from_records;
pub mod model;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod params;
pub mod scenario;
pub mod seed;
pub mod stats;
pub mod synthesize;
pub mod training;
pub mod uncertainty;
pub mod validate;
