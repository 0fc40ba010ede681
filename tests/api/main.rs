//! End-to-end tests of the records API: each test starts the real server on port 0 with its
//! own temporary data directory and talks HTTP to it.

mod access;
mod audit;
mod backtests;
mod backup;
mod concurrency;
mod conformance;
mod crash;
mod crud;
mod csv;
mod csv_fuzz;
mod csv_kinds;
mod csv_large;
mod database_cli;
mod durability;
mod experiments;
mod fuzz_findings;
mod helpers;
mod instances;
mod lifecycle;
mod limits;
mod listing;
mod object_scope;
mod operability;
mod problems;
mod protocol;
mod restart;
mod runs;
mod scenarios;
mod scorecards;
mod shared_runs;
mod storage_faults;
mod tokens;
mod training;
mod webhooks;
mod writes;
