//! Partner-months per second of a bundled scenario on one thread, for profiling the model
//! without the engine's threads or the CLI around it:
//!
//! ```text
//! cargo run --release -p chanlab-sim --example throughput -- mid-size 400
//! perf record -g target/release/examples/throughput mid-size 400
//! ```
//!
//! The README's figures come from the criterion benches (`cargo bench --bench sim`); this
//! prints one run's figure, which is noisier.

use std::hint::black_box;
use std::time::Instant;

use chanlab_sim::files::Format;
use chanlab_sim::model::{CompiledSpecs, simulate_replication};
use chanlab_sim::{bundled, scenario};

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
    let start = Instant::now();
    for r in 0..replications {
        black_box(simulate_replication(&scenario, &specs, r));
    }
    let seconds = start.elapsed().as_secs_f64();
    #[allow(clippy::print_stdout)] // the example's whole output
    {
        println!(
            "{name}: {replications} replications, {:.1} M partner-months/s on one thread",
            (per_replication * replications) as f64 / seconds / 1e6
        );
    }
    Ok(())
}
