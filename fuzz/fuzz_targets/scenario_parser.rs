//! Any bytes into the scenario and spec parsers, as TOML and as JSON: an error is fine, a
//! panic is a bug. A scenario that parses runs for one short replication too.
#![no_main]

use chanlab_sim::engine::{self, RunOptions};
use chanlab_sim::files::{self, Format};
use chanlab_sim::scenario;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Toml, Format::Json] {
        let _ = files::parse_rules(text, format);
        let Ok(parsed) = scenario::parse(text, format, &|_| Err("no files".to_owned())) else {
            continue;
        };
        if parsed.partner_slots() * u64::from(parsed.file().horizon_months) > 20_000 {
            continue;
        }
        let parsed = parsed
            .with_overrides(Some(1), None)
            .expect("1 replication is valid");
        let options = RunOptions {
            threads: 1,
            shard: None,
        };
        engine::run(&parsed, &options, &|| {}).expect("a valid scenario runs");
    }
});
