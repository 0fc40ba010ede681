//! Simulator throughput, in partner-months per second: one partner slot simulated for one
//! month in one replication, every compared spec counted (prospects included, since the
//! step visits them too). Run with `cargo bench --bench sim`; the README lists figures
//! measured on the project's 2-core machine.
//!
//! `draws/partner_month` is the floor: the bare random numbers a partner-month needs (one
//! normal, one uniform) from the same generator, so the README can say how close the whole
//! step comes to it.

use std::hint::black_box;

use chanlab_sim::engine::{self, RunOptions};
use chanlab_sim::files::Format;
use chanlab_sim::model::{CompiledSpecs, simulate_replication};
use chanlab_sim::scenario::{self, Scenario};
use chanlab_sim::seed::replication_rng;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::StandardNormal;

fn mid_size() -> Scenario {
    let text = chanlab_sim::bundled::find_scenario("mid-size")
        .expect("bundled")
        .text;
    scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned())).expect("valid")
}

fn partner_months(scenario: &Scenario, replications: u64) -> u64 {
    scenario.partner_slots()
        * u64::from(scenario.file().horizon_months)
        * scenario.specs().len() as u64
        * replications
}

fn replication(c: &mut Criterion) {
    let scenario = mid_size();
    let specs = CompiledSpecs::new(&scenario);
    let mut group = c.benchmark_group("replication");
    group.throughput(Throughput::Elements(partner_months(&scenario, 1)));
    let mut i = 0u64;
    group.bench_function("mid_size_all_specs", |b| {
        b.iter(|| {
            i += 1;
            black_box(simulate_replication(&scenario, &specs, i))
        })
    });
    group.finish();
}

fn engine_threads(c: &mut Criterion) {
    let scenario = mid_size().with_overrides(Some(64), None).expect("valid");
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(partner_months(&scenario, 64)));
    for threads in [1, 2] {
        group.bench_function(format!("mid_size_64_replications_{threads}_threads"), |b| {
            b.iter(|| {
                engine::run(
                    &scenario,
                    &RunOptions {
                        threads,
                        shard: None,
                    },
                    &|| {},
                )
                .expect("runs")
            })
        });
    }
    group.finish();
}

fn draws(c: &mut Criterion) {
    let mut group = c.benchmark_group("draws");
    const N: u64 = 100_000;
    group.throughput(Throughput::Elements(N));
    group.bench_function("partner_month", |b| {
        let mut rng = replication_rng(1, 1);
        b.iter(|| {
            let mut acc = 0.0;
            for _ in 0..N {
                let z: f64 = rng.sample(StandardNormal);
                let u: f64 = rng.random();
                acc += z + u;
            }
            black_box(acc)
        })
    });
    group.finish();
}

/// Issue 11's targets: calibrating a 400-partner, 24-month records set in at most 60 s on 2
/// cores, and a 3-month backtest of it in at most 90 s. The records are the bundled
/// mid-size channel synthesized over 24 months (480 partner slots, 400 with sales or in
/// talks; 32 seats).
fn calibration(c: &mut Criterion) {
    use chanlab_sim::backtest::{self, backtest};
    use chanlab_sim::calibrate::{Options, calibrate};
    let records = chanlab_sim::synthesize::synthesize(&mid_size(), 24, 7).expect("records");
    let view = records.records();
    let mut group = c.benchmark_group("calibration");
    group.sample_size(10);
    group.bench_function("calibrate_mid_size_24_months", |b| {
        b.iter(|| black_box(calibrate(view, &Options::default()).expect("a calibration")))
    });
    group.bench_function("backtest_mid_size_3_months_500_replications", |b| {
        let mut o = Options::default();
        o.scenario.replications = 500;
        let options = backtest::Options {
            holdout_months: 3,
            calibration: o,
        };
        b.iter(|| black_box(backtest(view, &options).expect("a backtest")))
    });
    group.finish();
}

criterion_group!(benches, replication, engine_threads, draws, calibration);
criterion_main!(benches);
