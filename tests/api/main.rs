//! End-to-end tests of the records API: each test starts the real server on port 0 with its
//! own temporary data directory and talks HTTP to it.

mod access;
mod backtests;
mod backup;
mod concurrency;
mod crash;
mod crud;
mod csv;
mod csv_fuzz;
mod database_cli;
mod durability;
mod experiments;
mod fuzz_findings;
mod helpers;
mod instances;
mod lifecycle;
mod limits;
mod listing;
mod problems;
mod restart;
mod runs;
mod scenarios;
mod scorecards;
mod shared_runs;
mod storage_faults;
mod training;
mod writes;
