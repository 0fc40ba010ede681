//! End-to-end tests of the `chanlab` binary: each test runs the real executable, as a user
//! would, and checks what it prints and how it exits.

mod calibrate;
mod conventions;
mod helpers;
mod openapi;
mod optimise;
mod scenario;
mod sensitivity;
mod simulate;
mod spec;
mod stdin;
mod sweep;
mod train;
mod validate;
