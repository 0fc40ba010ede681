//! chanlab's REST API for a company's channel records.
//!
//! An actix-web server over embedded sled storage, described by utoipa. The HTTP layer is
//! thin: handlers check the caller's token ([`auth`]), parse requests into `chanlab_shared`
//! values, run storage work off the HTTP workers ([`storage::Store`]) and answer; every
//! refusal is RFC 9457 problem+json ([`Problem`], [`error`]). An acknowledged write is on
//! disk: the answer waits for a flush shared by all concurrent writers.
//!
//! [`startup`] builds the server on a listener; [`routes`] has one module per resource;
//! the scorecards and compliance it serves are computed by `chanlab_shared::scorecard`;
//! [`simulation`] runs
//! scenarios in the background and loads the records a scenario is calibrated from;
//! [`training`] keeps training sessions and plays their rounds.

pub mod audit;
pub mod auth;
mod dispatch;
pub mod error;
pub mod events;
pub mod experiments;
pub mod extract;
mod jobs;
pub mod media;
pub mod metrics;
mod openapi;
mod problem;
pub mod records;
pub mod routes;
pub mod simulation;
pub mod startup;
pub mod state;
pub mod storage;
pub mod sweep;
pub mod synthetic;
pub mod telemetry;
pub mod training;
pub mod webhooks;

pub use openapi::{ApiDoc, openapi_json, operations};
pub use problem::{FieldError, Problem};
