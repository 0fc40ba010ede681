//! How fast chanlab turns text into validated domain values.
//!
//! Spec and scenario files are parsed once per command, and the API parses a record on every
//! write, so these numbers bound the per-request cost of validation. Run with
//! `cargo bench --bench domain`; the README lists figures measured on the project's 2-core
//! machine.

use std::hint::black_box;

use chanlab_shared::{Currency, Money, Month, Partner};
use chanlab_sim::bundled;
use chanlab_sim::files::{Format, parse_rules};
use criterion::{Criterion, criterion_group, criterion_main};

fn spec_files(c: &mut Criterion) {
    let toml = bundled::find_spec("potential-based").expect("bundled").text;
    let rules = parse_rules(toml, Format::Toml).expect("valid");
    let json = serde_json::to_string(&rules).expect("serialises");

    let mut group = c.benchmark_group("process_spec");
    group.bench_function("parse_toml", |b| {
        b.iter(|| parse_rules(black_box(toml), Format::Toml))
    });
    group.bench_function("parse_json", |b| {
        b.iter(|| parse_rules(black_box(&json), Format::Json))
    });
    group.bench_function("to_json", |b| {
        b.iter(|| serde_json::to_string(black_box(&rules)))
    });
    group.finish();
}

fn records(c: &mut Criterion) {
    let partner = r#"{"id":"019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a03","name":"Nordic Distribution AB","kind":"distributor","tier":"A","region_id":"019ac9b2-3c4d-7e5f-8a6b-1c2d3e4f5a01","stage":"active"}"#;
    let mut group = c.benchmark_group("record");
    group.bench_function("partner_from_json", |b| {
        b.iter(|| serde_json::from_str::<Partner>(black_box(partner)))
    });
    group.bench_function("month_parse", |b| {
        b.iter(|| black_box("2026-11").parse::<Month>())
    });
    group.bench_function("money_parse_decimal", |b| {
        b.iter(|| Money::parse_decimal(black_box("1250.50"), Currency::EUR))
    });
    group.finish();
}

criterion_group!(benches, spec_files, records);
criterion_main!(benches);
