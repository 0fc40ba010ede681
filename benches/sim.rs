//! Simulator throughput, in partner-months per second: one partner slot simulated for one
//! month in one replication, every compared spec counted (prospects included, since the
//! step visits them too). Run with `cargo bench --bench sim`; the README lists figures
//! measured on the project's 2-core machine.
//!
//! `floor_vs_model` is the one to quote for speed against the floor: in the same criterion
//! run, the bare random numbers the common-random-number contract forces on the mid-size
//! channel (sim/src/model/run.rs) and the whole replication, at the same throughput, so
//! their ratio is what the behavioural step costs over its draws. Before it runs it prints
//! (to stderr) the share of those partner-months that are a selling partner's, the ones
//! that do more than a stage draw. `scale` runs one replication at ×1, ×16 and ×256 the
//! mid-size channel: linear time shows as equal throughput.
//!
//! `draws/partner_month` is the older, narrower floor (one normal and one uniform per
//! partner-month, no log-normal, no rep draws), kept so earlier README figures can be
//! compared with.

use std::hint::black_box;

use chanlab_sim::engine::{self, RunOptions};
use chanlab_sim::files::Format;
use chanlab_sim::model::{
    CompiledSpecs, Observer, PartnerMonth, simulate_observed, simulate_replication,
};
use chanlab_sim::scenario::{self, Scenario};
use chanlab_sim::seed::replication_rng;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand_distr::StandardNormal;

fn mid_size() -> Scenario {
    let text = chanlab_sim::bundled::find_scenario("mid-size")
        .expect("bundled")
        .text;
    scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned())).expect("valid")
}

/// The mid-size channel with every region's reps, partners and prospects multiplied by
/// `factor`: the same channel per seat (so the specs' goals, sized per seat, mean the same),
/// `factor` times as many seats and slots. The scenario format has no size knob, so the
/// resolved file is edited and validated again.
fn mid_size_times(factor: u32) -> Scenario {
    let mut file = mid_size().file().clone();
    for region in &mut file.channel.regions {
        region.reps *= factor;
        region.partners.a *= factor;
        region.partners.b *= factor;
        region.partners.c *= factor;
        region.prospects *= factor;
    }
    scenario::resolve(file, &|_| Err("no files".to_owned())).expect("a valid scaled channel")
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

/// Counts the partner-months that reach [`Observer::partner_month`]: the engine calls it
/// for selling (active or at-risk) partners only.
#[derive(Default)]
struct SellingMonths(u64);

impl Observer for SellingMonths {
    fn partner_month(&mut self, _month: usize, _slot: usize, _event: &PartnerMonth) {
        self.0 += 1;
    }
}

/// The share of `scenario`'s partner-months that are a selling partner's, over the first
/// `replications` replications and every spec. Counted outside any timed loop (observing
/// costs time): criterion keeps one throughput per group, so the selling-only figure is this
/// share times the reported throughput, printed rather than measured twice.
fn selling_share(scenario: &Scenario, replications: u64) -> f64 {
    let specs = CompiledSpecs::new(scenario);
    let mut selling = SellingMonths::default();
    for i in 1..=replications {
        for spec in 0..scenario.specs().len() {
            simulate_observed(scenario, &specs, spec, i, true, &mut selling);
        }
    }
    selling.0 as f64 / partner_months(scenario, replications) as f64
}

/// The draws the common-random-number contract forces on one replication of `scenario`
/// (sim/src/model/run.rs): for every spec (each replays the replication's stream) and month,
/// every partner slot's standard normal and uniform and the demand log-normal made of the
/// normal (`lognormal_unit_mean` in sim/src/model/world.rs: exp(σz − σ²/2)), then every rep
/// seat's two uniforms and one normal, in the model's order. The world's own draws (once per
/// replication, not per month) are left out: the floor is what the monthly step must draw.
fn contract_draws(slots: u64, seats: u64, months: u32, specs: usize, sigma: f64, i: u64) -> f64 {
    let stream = replication_rng(1, i);
    let half_var = 0.5 * sigma * sigma;
    let mut acc = 0.0;
    for _ in 0..specs {
        let mut rng = stream.clone();
        for _ in 0..months {
            for _ in 0..slots {
                let z: f64 = rng.sample(StandardNormal);
                let u: f64 = rng.random();
                acc += (sigma * z - half_var).exp() + u;
            }
            for _ in 0..seats {
                let u_quit: f64 = rng.random();
                let u_vacancy: f64 = rng.random();
                let z_skill: f64 = rng.sample(StandardNormal);
                acc += u_quit + u_vacancy + z_skill;
            }
        }
    }
    acc
}

/// The floor against the model on the mid-size channel, at the same throughput.
#[expect(
    clippy::print_stderr,
    reason = "the selling share is a figure for the reader of the bench output"
)]
fn floor_vs_model(c: &mut Criterion) {
    let scenario = mid_size();
    let specs = CompiledSpecs::new(&scenario);
    let file = scenario.file();
    let slots = scenario.partner_slots();
    let seats: u64 = file.channel.regions.iter().map(|r| u64::from(r.reps)).sum();
    let months = file.horizon_months;
    let sigma = scenario.behaviour().demand_noise;
    let per_replication = partner_months(&scenario, 1);
    let share = selling_share(&scenario, 20);
    eprintln!(
        "floor_vs_model: {slots} slots, {seats} seats, {months} months, {} specs = {per_replication} partner-months a replication; {:.1}% of them selling (20 replications): selling partner-months/s = {share:.3} x the model's throughput",
        scenario.specs().len(),
        100.0 * share
    );
    let mut group = c.benchmark_group("floor_vs_model");
    group.throughput(Throughput::Elements(per_replication));
    let mut i = 0u64;
    group.bench_function("floor_contract_draws", |b| {
        b.iter(|| {
            i += 1;
            black_box(contract_draws(
                slots,
                seats,
                months,
                scenario.specs().len(),
                black_box(sigma),
                i,
            ))
        })
    });
    let mut i = 0u64;
    group.bench_function("model_mid_size_replication", |b| {
        b.iter(|| {
            i += 1;
            black_box(simulate_replication(&scenario, &specs, i))
        })
    });
    group.finish();
}

/// One replication at ×1, ×16 and ×256 the mid-size channel (480 → 122,880 slots, 32 →
/// 8,192 seats; the slot limit is 200,000), in partner-months: flat throughput is linear
/// time. Ten flat samples each (criterion's default linear sampling would run ×256, seconds
/// an iteration, 55 times), so the group takes about a minute.
fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    for factor in [1, 16, 256] {
        let scenario = mid_size_times(factor);
        let specs = CompiledSpecs::new(&scenario);
        group.throughput(Throughput::Elements(partner_months(&scenario, 1)));
        let mut i = 0u64;
        group.bench_function(format!("mid_size_x{factor}_replication"), |b| {
            b.iter(|| {
                i += 1;
                black_box(simulate_replication(&scenario, &specs, i))
            })
        });
    }
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

criterion_group!(
    benches,
    floor_vs_model,
    scale,
    replication,
    engine_threads,
    draws,
    calibration
);
criterion_main!(benches);
