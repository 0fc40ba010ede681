//! Partner-months per second of a bundled scenario on one thread, for profiling the model
//! without the engine's threads or the CLI around it:
//!
//! ```text
//! cargo run --release -p chanlab-sim --example throughput -- mid-size 400
//! perf record -g target/release/examples/throughput mid-size 400
//! valgrind --tool=callgrind target/release/examples/throughput mid-size 20 floor
//! ```
//!
//! With a third argument `floor` it draws only what the common-random-number contract
//! forces on those replications (the `floor_vs_model` bench's `contract_draws`, repeated
//! here so that an instruction count of the model and of its floor come from one binary).
//!
//! The README's figures come from the criterion benches (`cargo bench --bench sim`); this
//! prints one run's figure, which is noisier.

use std::hint::black_box;
use std::time::Instant;

use chanlab_sim::files::Format;
use chanlab_sim::model::{CompiledSpecs, simulate_replication};
use chanlab_sim::seed::replication_rng;
use chanlab_sim::{bundled, scenario};
use rand::RngExt;
use rand_distr::StandardNormal;

/// benches/sim.rs `contract_draws`: per spec and month, each slot's normal, uniform and
/// demand log-normal, then each seat's two uniforms and a normal.
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

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "mid-size".into());
    let replications: u64 = args
        .next()
        .map_or(Ok(200), |a| a.parse())
        .map_err(|e| format!("replications: {e}"))?;
    let text = bundled::find_scenario(&name)
        .ok_or_else(|| format!("no bundled scenario {name}"))?
        .text;
    let scenario = scenario::parse(text, Format::Toml, &|_| Err("no files".to_owned()))
        .map_err(|e| e.to_string())?;
    let specs = CompiledSpecs::new(&scenario);
    let per_replication = scenario.partner_slots()
        * u64::from(scenario.file().horizon_months)
        * scenario.specs().len() as u64;
    let floor = args.next().is_some_and(|a| a == "floor");
    let file = scenario.file();
    let seats: u64 = file.channel.regions.iter().map(|r| u64::from(r.reps)).sum();
    let start = Instant::now();
    for r in 0..replications {
        if floor {
            black_box(contract_draws(
                scenario.partner_slots(),
                seats,
                file.horizon_months,
                scenario.specs().len(),
                black_box(scenario.behaviour().demand_noise),
                r,
            ));
        } else {
            black_box(simulate_replication(&scenario, &specs, r));
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    #[allow(clippy::print_stdout)] // the example's whole output
    {
        println!(
            "{name}: {replications} replications{}, {:.1} M partner-months/s on one thread",
            if floor {
                " (floor: the contract's draws)"
            } else {
                ""
            },
            (per_replication * replications) as f64 / seconds / 1e6
        );
    }
    Ok(())
}
