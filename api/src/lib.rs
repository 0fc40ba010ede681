//! chanlab's REST API for a company's channel records.
//!
//! This crate will hold the actix-web server, its sled storage and its OpenAPI description.
//! The HTTP layer is thin: handlers parse requests into `chanlab_shared` values, call the same
//! library functions the CLI calls, and answer RFC 9457 problem+json on any rejection. Today
//! it holds the parts the records API is built on: the [`Problem`] error body and the
//! [`ApiDoc`] OpenAPI description of every domain schema, kept in `openapi/openapi.json` and
//! checked against the code by a test.

mod openapi;
mod problem;

pub use openapi::{ApiDoc, openapi_json};
pub use problem::{FieldError, Problem};
