//! `chanlab scenario ...`: the bundled scenarios, a commented template, and a scenario
//! calibrated from a data directory's records.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use chanlab_api::startup::open_storage;
use chanlab_api::storage::Store;
use chanlab_shared::{Month, Name, ProcessSpecId};
use chanlab_sim::from_records::{CalibrationReport, DEFAULT_CREDIBILITY_MONTHS, Options};
use chanlab_sim::{bundled, params};

use super::Outcome;
use crate::cli::ScenarioCommand;

/// Arguments of `chanlab scenario from-records`.
#[derive(Debug, clap::Args)]
pub(crate) struct FromRecordsArgs {
    /// The data directory of the records API (`chanlab serve` must not be running on it).
    #[arg(long, env = "CHANLAB_DATA_DIR", default_value = "./chanlab-data")]
    pub(crate) data_dir: PathBuf,
    /// Write the scenario to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Scenario format: commented TOML for people, or JSON (the API's `POST /scenarios` body).
    #[arg(long, value_enum, default_value_t = ScenarioFormat::Toml)]
    pub(crate) format: ScenarioFormat,
    /// Also write how each parameter was estimated, as JSON, to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) report: Option<PathBuf>,
    /// The scenario's name [default: "From records as of" and the month].
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Last month of history to use, e.g. 2026-11 [default: the latest month with sales].
    #[arg(long, value_name = "YYYY-MM")]
    pub(crate) as_of: Option<String>,
    /// Months to simulate.
    #[arg(long, default_value_t = 12)]
    pub(crate) horizon_months: u32,
    /// Replications.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=i64::from(chanlab_sim::scenario::MAX_REPLICATIONS)))]
    pub(crate) replications: u32,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// A bundled spec to compare with the published baseline (repeat for more).
    #[arg(long, value_name = "SPEC")]
    pub(crate) compare: Vec<String>,
    /// The baseline's process spec id [default: the most recently published spec].
    #[arg(long, value_name = "ID")]
    pub(crate) process_spec_id: Option<String>,
    /// Credibility constant k, in months: n months of history weigh n/(n+k).
    #[arg(long, default_value_t = DEFAULT_CREDIBILITY_MONTHS)]
    pub(crate) credibility_months: f64,
}

/// Formats of a scenario written by `from-records`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ScenarioFormat {
    /// TOML, with the estimates summarised in comments.
    Toml,
    /// JSON.
    Json,
}

pub(crate) fn run(command: ScenarioCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        ScenarioCommand::FromRecords(args) => from_records(args, out),
        ScenarioCommand::List { format } => {
            super::list_bundled(bundled::scenarios(), format.format, out)
        }
        ScenarioCommand::Show { name, format } => {
            // The parsed scenario, specs inline: what `POST /scenarios` takes.
            let as_json = |text: &str| -> anyhow::Result<String> {
                let no_files = |p: &str| Err(format!("bundled scenarios cannot refer to {p}"));
                let scenario =
                    chanlab_sim::scenario::parse(text, chanlab_sim::files::Format::Toml, &no_files)
                        .map_err(|e| anyhow!("bundled scenario {name}: {}", e.message))?;
                Ok(serde_json::to_string_pretty(scenario.file())? + "\n")
            };
            let scenarios = bundled::scenarios();
            super::show_bundled("scenario", &name, scenarios, format.format, &as_json, out)
        }
        ScenarioCommand::Init => {
            out.write_all(template().as_bytes())?;
            Ok(Outcome::Success)
        }
    }
}

/// The mid-size scenario with its `[behaviour]` table replaced by every parameter at its
/// default, commented, so a new user sees every knob in one file.
pub(crate) fn template() -> String {
    let base = bundled::find_scenario("mid-size").expect("bundled").text;
    let start = base.find("# Behaviour parameters").unwrap_or(base.len());
    let end = base[start..]
        .find("\n# The specs to compare")
        .map_or(base.len(), |i| start + i + 1);
    format!(
        "{}{}\n{}",
        &base[..start],
        params::commented_defaults(),
        &base[end..]
    )
}

fn from_records(args: FromRecordsArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let invalid = |what: &str, message: &str| -> anyhow::Result<Outcome> {
        writeln!(io::stderr().lock(), "error: {what}: {message}")?;
        Ok(Outcome::InvalidInput)
    };
    let name = match args.name.as_deref().map(Name::parse).transpose() {
        Ok(n) => n,
        Err(e) => return invalid("--name", e.message()),
    };
    let as_of = match args.as_of.as_deref().map(str::parse::<Month>).transpose() {
        Ok(m) => m,
        Err(e) => return invalid("--as-of", e.message()),
    };
    let spec = match args
        .process_spec_id
        .as_deref()
        .map(str::parse::<ProcessSpecId>)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => return invalid("--process-spec-id", e.message()),
    };
    let options = Options {
        name,
        as_of,
        start: None,
        horizon_months: args.horizon_months,
        replications: args.replications,
        seed: args.seed,
        compare: args.compare.clone(),
        credibility_months: args.credibility_months,
        ..Options::default()
    };
    if !args.data_dir.is_dir() {
        writeln!(
            io::stderr().lock(),
            "error: --data-dir: no data directory at {}\n  fix: give the directory `chanlab serve --data-dir` uses",
            args.data_dir.display()
        )?;
        return Ok(Outcome::InvalidInput);
    }
    let storage = open_storage(&args.data_dir).context(
        "opening the data directory (is `chanlab serve` running on it? then use POST /scenarios/from-records)",
    )?;
    let store = Store::new(std::sync::Arc::new(storage));
    let records = chanlab_api::simulation::load_records(&store)
        .map_err(|e| anyhow!("reading the records: {e}"))?;
    let calibrated = match chanlab_api::simulation::calibrate(&records, spec, &options) {
        Ok(c) => c,
        Err(e) => {
            let p = e.problem();
            let mut message = p.detail.unwrap_or(p.title);
            for f in &p.errors {
                let flag = match f.field.split('[').next().unwrap_or("") {
                    "process_spec_id" => "--process-spec-id".to_owned(),
                    other => format!("--{}", other.replace('_', "-")),
                };
                message = format!("{flag}: {}", f.message);
            }
            writeln!(io::stderr().lock(), "error: {message}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let file = calibrated.scenario.file();
    let text = match args.format {
        ScenarioFormat::Json => {
            let mut t = serde_json::to_string_pretty(file)?;
            t.push('\n');
            t
        }
        ScenarioFormat::Toml => format!(
            "{}{}",
            toml_header(&calibrated.report),
            file.to_toml()
                .map_err(|e| anyhow!("writing the scenario as TOML: {e}"))?
        ),
    };
    if let Some(path) = &args.report {
        let mut report = serde_json::to_string_pretty(&calibrated.report)?;
        report.push('\n');
        super::simulate::write_file(path, report.as_bytes())?;
    }
    match &args.out {
        Some(path) => super::simulate::write_file(path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    let r = &calibrated.report;
    let with_history = r
        .partners
        .iter()
        .filter(|p| p.months_of_history > 0)
        .count();
    let _ = writeln!(
        io::stderr().lock(),
        "{} partners ({with_history} with sales history), {} regions; baseline {:?} v{}; as of {}",
        r.partners.len(),
        r.regions.len(),
        r.baseline.name,
        r.baseline.version,
        r.as_of.map_or("(no sales)".to_owned(), |m| m.to_string()),
    );
    Ok(Outcome::Success)
}

/// Comments summarising how each parameter was estimated, above the TOML scenario.
fn toml_header(r: &CalibrationReport) -> String {
    let mut h =
        String::from("# Built by `chanlab scenario from-records` (method: sim/MODEL.md §12).\n");
    h.push_str(&format!(
        "# As of {}; sales window {} months, activity window {} months, credibility k = {} months.\n",
        r.as_of.map_or("(no sales)".to_owned(), |m| m.to_string()),
        r.sales_window_months,
        r.touch_window_months,
        r.credibility_months
    ));
    h.push_str(&format!(
        "# Baseline: the published spec {:?} v{} ({}).\n",
        r.baseline.name, r.baseline.version, r.baseline.process_spec_id
    ));
    for t in &r.tiers {
        h.push_str(&format!(
            "# Tier {:?}: {} partners, {} with history, mean potential {:.2} ({}).\n",
            t.tier,
            t.partners,
            t.with_history,
            t.mean_potential,
            snake(&t.method)
        ));
    }
    h.push_str("# channel.partners, in order: name | months | level | engagement (method) | potential (method)\n");
    for p in &r.partners {
        h.push_str(&format!(
            "#   {} | {} | {} | {} ({}) | {:.2} ({})\n",
            p.name.replace('\n', " "),
            p.months_of_history,
            p.level.map_or("-".to_owned(), |l| format!("{l:.2}")),
            p.engagement.map_or("-".to_owned(), |e| format!("{e:.3}")),
            snake(&p.engagement_method),
            p.potential,
            snake(&p.potential_method)
        ));
    }
    for n in &r.notes {
        h.push_str(&format!("# Note: {n}\n"));
    }
    h.push('\n');
    h
}

/// A method's name as JSON spells it (`tier_mean`).
fn snake<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
