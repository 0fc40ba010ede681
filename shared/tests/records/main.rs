//! Tests for chanlab's record types: the validating constructors that are not unit-tested
//! inside `shared/src`, JSON round trips of every public record, and deserialisation going
//! through the same checks as the constructors.

mod assessments;
mod contracts;
mod deserialisation;
mod goals;
mod helpers;
mod reps;
mod round_trips;
mod sales;
mod specs;
mod strategies;
