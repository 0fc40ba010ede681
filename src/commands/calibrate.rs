//! `chanlab records synthesize`, `chanlab calibrate` and `chanlab backtest`: a channel's
//! history written from a simulation with its truth beside it, a scenario fitted to a data
//! directory's records, and the forecast of held-out months set beside what was recorded.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use chanlab_api::simulation::{LoadedRecords, backtest_options, spec_in_force};
use chanlab_api::startup::open_storage;
use chanlab_api::storage::Store;
use chanlab_shared::Month;
use chanlab_sim::backtest::{self, Backtest, BacktestError};
use chanlab_sim::backtest_chart;
use chanlab_sim::calibrate::{self, CalibrateError, FitReport};
use chanlab_sim::from_records::Options;
use chanlab_sim::synthesize::synthesize;

use super::Outcome;
use crate::cli::ReportFormat;

/// Arguments of `chanlab records synthesize`.
#[derive(Debug, clap::Args)]
pub(crate) struct SynthesizeArgs {
    /// A scenario file or a bundled scenario: its channel, baseline spec and behaviour.
    pub(crate) scenario: String,
    /// Months of history to write.
    #[arg(long)]
    pub(crate) months: u32,
    /// Seed: the same seed writes the same records, ids included.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// A TOML file of behaviour parameters over the scenario's (the truth to recover).
    #[arg(long, value_name = "FILE")]
    pub(crate) behaviour: Option<PathBuf>,
    /// Write the records into a new data directory (as `chanlab serve` keeps them).
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "out",
        required_unless_present = "out"
    )]
    pub(crate) data_dir: Option<PathBuf>,
    /// Write the records as files into DIR instead: CSV in the API's import columns (reps,
    /// partners, sales, stage changes) and for regions and activities; JSON for the spec,
    /// goals, assessments and truth.json.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

/// Arguments of `chanlab calibrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct CalibrateArgs {
    /// The data directory of the records API (`chanlab serve` must not be running on it).
    #[arg(long, env = "CHANLAB_DATA_DIR", default_value = "./chanlab-data")]
    pub(crate) data_dir: PathBuf,
    /// Last month of history to use, e.g. 2026-11 [default: the latest month with sales].
    #[arg(long, value_name = "YYYY-MM")]
    pub(crate) as_of: Option<String>,
    /// Write the calibrated scenario (JSON, the API's `POST /scenarios` body) to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) scenario_out: Option<PathBuf>,
    /// The fit report's format.
    #[command(flatten)]
    pub(crate) format: crate::cli::FormatArg,
    /// Simulated histories per moment evaluation.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=64))]
    pub(crate) simulations: u32,
    /// Also draw the moments, recorded against the model, as an SVG chart in FILE.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) chart: Option<PathBuf>,
}

/// Arguments of `chanlab backtest`.
#[derive(Debug, clap::Args)]
pub(crate) struct BacktestArgs {
    /// The data directory of the records API.
    #[arg(long, env = "CHANLAB_DATA_DIR", default_value = "./chanlab-data")]
    pub(crate) data_dir: PathBuf,
    /// Months held out at the end of the records.
    #[arg(long)]
    pub(crate) holdout_months: u32,
    /// Replications of the forecast.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(10..=100_000))]
    pub(crate) replications: u32,
    /// Seed of the forecast.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::cli::ReportFormat::Text)]
    pub(crate) format: crate::cli::ReportFormat,
    /// Also write the chart (forecast fan, recorded history and held-out actuals) as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) chart: Option<PathBuf>,
}

pub(crate) fn synthesize_records(
    args: SynthesizeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let mut scenario = match super::simulate::load(&args.scenario)? {
        Ok(s) => s,
        Err(report) => {
            writeln!(io::stderr().lock(), "{report}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if let Some(path) = &args.behaviour {
        let text = super::read_input(path)?;
        let mut file = scenario.file().clone();
        let mut base = toml::Value::try_from(&file.behaviour).context("behaviour")?;
        let patch: toml::Value = match toml::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                writeln!(
                    io::stderr().lock(),
                    "error: {}: {e}\n  fix: write behaviour parameters as `name = value` lines (chanlab scenario init lists them)",
                    path.display()
                )?;
                return Ok(Outcome::InvalidInput);
            }
        };
        if let (Some(b), Some(p)) = (base.as_table_mut(), patch.as_table()) {
            for (k, v) in p {
                b.insert(k.clone(), v.clone());
            }
        }
        file.behaviour = match chanlab_sim::params::from_toml(base) {
            Ok(b) => b,
            // A bad name is about the whole table; a bad value names its field.
            Err(e) if e.field().is_empty() => {
                writeln!(
                    io::stderr().lock(),
                    "error: {}: {e}\n  fix: use the parameter names of `chanlab scenario init`",
                    path.display()
                )?;
                return Ok(Outcome::InvalidInput);
            }
            Err(e) => {
                let e = e.within("behaviour");
                writeln!(io::stderr().lock(), "error: {}: {e}", path.display())?;
                return Ok(Outcome::InvalidInput);
            }
        };
        scenario = match chanlab_sim::scenario::resolve(file, &|p| Err(format!("no file {p}"))) {
            Ok(s) => s,
            Err(e) => {
                writeln!(io::stderr().lock(), "error: {}: {e}", path.display())?;
                return Ok(Outcome::InvalidInput);
            }
        };
    }
    let records = match synthesize(&scenario, args.months, args.seed) {
        Ok(r) => r,
        Err(e) => {
            writeln!(io::stderr().lock(), "error: --{e}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (name, text) in record_files(&records)? {
            super::simulate::write_file(&dir.join(name), text.as_bytes())?;
        }
    }
    if let Some(dir) = &args.data_dir {
        let storage = open_storage(dir).context("opening the data directory")?;
        let store = Store::new(std::sync::Arc::new(storage));
        if let Err(e) = chanlab_api::synthetic::write_synthetic(&store, &records) {
            writeln!(
                io::stderr().lock(),
                "error: --data-dir {}: {e}",
                dir.display()
            )?;
            return Ok(Outcome::InvalidInput);
        }
        let truth = dir.join("truth.json");
        super::simulate::write_file(
            &truth,
            serde_json::to_string_pretty(&records.truth)?.as_bytes(),
        )?;
    }
    writeln!(
        out,
        "{} regions, {} reps ({} departed), {} partners, {} stage changes, {} sales records ({} to {}), {} activities, {} goals, {} assessments",
        records.regions.len(),
        records.reps.len(),
        records.reps.iter().filter(|r| r.left_on.is_some()).count(),
        records.partners.len(),
        records.stage_changes.len(),
        records.sales.len(),
        records.truth.first_month,
        records
            .truth
            .first_month
            .plus(records.truth.months as i32 - 1)
            .unwrap_or(records.truth.first_month),
        records.activities.len(),
        records.goals.len(),
        records.assessments.len(),
    )?;
    Ok(Outcome::Success)
}

/// The synthesized records as files: CSV in the API's import columns where an import exists
/// (reps, partners, sales, stage changes), CSV for the flat rest (regions, activities),
/// JSON for the spec, goals, scorecards and the truth.
fn record_files(
    r: &chanlab_sim::synthesize::SyntheticRecords,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    // An enum's JSON name (`at_risk`, `visit`).
    fn name<T: serde::Serialize>(v: &T) -> String {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
    fn money(m: &chanlab_shared::Money) -> String {
        let digits = m.currency().minor_digits() as usize;
        format!("{:.digits$}", m.to_major_f64())
    }
    fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> anyhow::Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(header)?;
        for row in rows {
            w.write_record(&row)?;
        }
        Ok(String::from_utf8(
            w.into_inner().map_err(|e| anyhow!("{e}"))?,
        )?)
    }
    let json =
        |v: &dyn erased::Json| -> anyhow::Result<String> { Ok(format!("{}\n", v.pretty()?)) };
    Ok(vec![
        (
            "regions.csv",
            table(
                &["id", "name", "regional_manager"],
                r.regions.iter().map(|x| {
                    vec![
                        x.id.to_string(),
                        x.name.to_string(),
                        x.regional_manager.to_string(),
                    ]
                }),
            )?,
        ),
        (
            "reps.csv",
            table(
                &["id", "name", "region_id", "hired_on", "status", "left_on"],
                r.reps.iter().map(|x| {
                    vec![
                        x.id.to_string(),
                        x.name.to_string(),
                        x.region_id.to_string(),
                        x.hired_on.to_string(),
                        name(&x.status),
                        x.left_on.map(|d| d.to_string()).unwrap_or_default(),
                    ]
                }),
            )?,
        ),
        (
            "partners.csv",
            table(
                &[
                    "id",
                    "name",
                    "kind",
                    "tier",
                    "region_id",
                    "owner_rep_id",
                    "stage",
                ],
                r.partners.iter().map(|x| {
                    vec![
                        x.id.to_string(),
                        x.name.to_string(),
                        name(&x.kind),
                        name(&x.tier),
                        x.region_id.to_string(),
                        x.owner_rep_id.map(|o| o.to_string()).unwrap_or_default(),
                        x.stage().to_string(),
                    ]
                }),
            )?,
        ),
        (
            "stage_changes.csv",
            table(
                &["partner_id", "from", "to", "on"],
                r.stage_changes.iter().map(|x| {
                    vec![
                        x.partner_id.to_string(),
                        x.from.to_string(),
                        x.to.to_string(),
                        x.on.to_string(),
                    ]
                }),
            )?,
        ),
        (
            "sales.csv",
            table(
                &[
                    "id",
                    "partner_id",
                    "month",
                    "currency",
                    "sell_in",
                    "sell_through",
                ],
                r.sales.iter().map(|x| {
                    vec![
                        x.id().to_string(),
                        x.partner_id().to_string(),
                        x.month().to_string(),
                        x.sell_in().currency().code().to_owned(),
                        money(&x.sell_in()),
                        money(&x.sell_through()),
                    ]
                }),
            )?,
        ),
        (
            "activities.csv",
            table(
                &["id", "rep_id", "partner_id", "date", "kind", "outcome"],
                r.activities.iter().map(|x| {
                    vec![
                        x.id.to_string(),
                        x.rep_id.to_string(),
                        x.partner_id.to_string(),
                        x.date.to_string(),
                        name(&x.kind),
                        name(&x.outcome),
                    ]
                }),
            )?,
        ),
        ("goals.json", json(&r.goals)?),
        ("assessments.json", json(&r.assessments)?),
        ("spec.json", json(&r.spec)?),
        ("truth.json", json(&r.truth)?),
    ])
}

/// Pretty JSON of any record list behind one `dyn` (so the file table above is one list).
mod erased {
    pub(super) trait Json {
        fn pretty(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn pretty(&self) -> serde_json::Result<String> {
            serde_json::to_string_pretty(self)
        }
    }
}

/// Loads a data directory's records, or says why not (exit 1).
fn load_records(dir: &std::path::Path) -> anyhow::Result<Result<LoadedRecords, String>> {
    if !dir.is_dir() {
        return Ok(Err(format!(
            "error: --data-dir: no data directory at {}\n  fix: give the directory `chanlab serve --data-dir` uses",
            dir.display()
        )));
    }
    let storage = open_storage(dir).context(
        "opening the data directory (is `chanlab serve` running on it? then use the API)",
    )?;
    let store = Store::new(std::sync::Arc::new(storage));
    let records = chanlab_api::simulation::load_records(&store)
        .map_err(|e| anyhow!("reading the records: {e}"))?;
    Ok(Ok(records))
}

pub(crate) fn calibrate_records(
    args: CalibrateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let as_of = match args.as_of.as_deref().map(str::parse::<Month>).transpose() {
        Ok(m) => m,
        Err(e) => {
            writeln!(io::stderr().lock(), "error: --as-of: {}", e.message())?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let records = match load_records(&args.data_dir)? {
        Ok(r) => r,
        Err(message) => {
            writeln!(io::stderr().lock(), "{message}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let Some(baseline) = spec_in_force(&records, as_of) else {
        writeln!(
            io::stderr().lock(),
            "error: --data-dir: no process spec is published\n  fix: publish the spec in force (POST /process-specs/{{id}}/publish); it is the baseline"
        )?;
        return Ok(Outcome::InvalidInput);
    };
    let options = calibrate::Options {
        scenario: Options {
            as_of,
            ..Options::default()
        },
        simulations: args.simulations,
        seed: 1,
    };
    let c = match calibrate::calibrate(records.view(baseline), &options) {
        Ok(c) => c,
        Err(e) => return refuse(&e.to_string(), matches!(e, CalibrateError::TooShort(_))),
    };
    if let Some(path) = &args.scenario_out {
        let text = serde_json::to_string_pretty(c.calibrated.scenario.file())?;
        super::simulate::write_file(path, format!("{text}\n").as_bytes())?;
    }
    if let Some(path) = &args.chart {
        super::simulate::write_file(path, calibrate::chart::svg(&c.fit).as_bytes())?;
    }
    match args.format.format {
        crate::cli::OutputFormat::Json => {
            writeln!(out, "{}", serde_json::to_string_pretty(&c.fit)?)?;
        }
        crate::cli::OutputFormat::Text => {
            out.write_all(super::term::fit(&fit_table(&c.fit)).as_bytes())?
        }
    }
    Ok(Outcome::Success)
}

fn refuse(message: &str, too_short: bool) -> anyhow::Result<Outcome> {
    let fix = if too_short {
        "\n  fix: calibrate on a longer history (the records' sales must span the months named)"
    } else {
        ""
    };
    writeln!(io::stderr().lock(), "error: {message}{fix}")?;
    Ok(Outcome::InvalidInput)
}

/// The fit as a table: parameters, then moments.
fn fit_table(f: &FitReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Calibrated on {} to {} ({} months), {} simulated histories per evaluation",
        f.first_month, f.as_of, f.months, f.simulations
    );
    let scales: Vec<String> = f
        .potential_scale
        .iter()
        .map(|(r, s)| format!("{r} {s:.3}"))
        .collect();
    let _ = writeln!(
        t,
        "Level: {:.0} a month (se {:.0}); potentials scaled to sell it: {}",
        f.level.0,
        f.level.1,
        scales.join(", ")
    );
    let _ = writeln!(
        t,
        "\n{:<28} {:>10} {:>10} {:>23}  {:<18} fitted to",
        "parameter", "default", "estimate", "90% interval", "method"
    );
    for p in &f.parameters {
        let interval = p.interval.map_or("not identified".to_owned(), |[lo, hi]| {
            format!("{lo:.4} – {hi:.4}")
        });
        let method = serde_json::to_value(p.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            t,
            "{:<28} {:>10.4} {:>10.4} {:>23}  {:<18} {}",
            p.parameter,
            p.default,
            p.estimate,
            interval,
            method,
            p.moments.join(", ")
        );
    }
    let _ = writeln!(
        t,
        "\n{:<22} {:>10} {:>12} {:>12} {:>8}",
        "moment", "recorded", "at defaults", "at estimate", "sd"
    );
    for m in &f.moments {
        let o = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.4}"));
        let _ = writeln!(
            t,
            "{:<22} {:>10.4} {:>12} {:>12} {:>8}",
            m.moment,
            m.recorded,
            o(m.simulated_default),
            o(m.simulated),
            o(m.sd)
        );
    }
    for p in f.parameters.iter().filter(|p| !p.identified) {
        let _ = writeln!(t, "note: {}: {}", p.parameter, p.note);
    }
    for n in &f.notes {
        let _ = writeln!(t, "note: {n}");
    }
    t
}

pub(crate) fn backtest_records(args: BacktestArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let records = match load_records(&args.data_dir)? {
        Ok(r) => r,
        Err(message) => {
            writeln!(io::stderr().lock(), "{message}")?;
            return Ok(Outcome::InvalidInput);
        }
    };
    let holdout = match backtest::holdout(&records.sales, args.holdout_months) {
        Ok(h) => h,
        Err(BacktestError::Holdout(m)) => {
            writeln!(io::stderr().lock(), "error: --holdout-months: {m}")?;
            return Ok(Outcome::InvalidInput);
        }
        Err(e) => return Err(e.into()),
    };
    let Some(baseline) = spec_in_force(&records, Some(holdout.cut)) else {
        writeln!(
            io::stderr().lock(),
            "error: --data-dir: no process spec is published\n  fix: publish the spec in force; it is the baseline"
        )?;
        return Ok(Outcome::InvalidInput);
    };
    let options = backtest_options(args.holdout_months, args.replications, args.seed);
    let b = match backtest::backtest(records.view(baseline), &options) {
        Ok(b) => b,
        Err(BacktestError::Holdout(m)) => {
            writeln!(io::stderr().lock(), "error: --holdout-months: {m}")?;
            return Ok(Outcome::InvalidInput);
        }
        Err(BacktestError::Calibrate(e)) => {
            return refuse(&e.to_string(), matches!(e, CalibrateError::TooShort(_)));
        }
    };
    if let Some(path) = &args.chart {
        let svg = backtest_chart::svg(&b, holdout.currency.code());
        super::simulate::write_file(path, svg.as_bytes())?;
    }
    match args.format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&b)?)?,
        ReportFormat::Csv => out.write_all(backtest_csv(&b).as_bytes())?,
        ReportFormat::Text => out.write_all(super::term::fit(&backtest_table(&b)).as_bytes())?,
    }
    Ok(Outcome::Success)
}

fn backtest_table(b: &Backtest) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Calibrated on the records to {}, forecast {} held-out month(s) to {} ({} replications)\n",
        b.cut,
        b.rows.iter().filter(|r| r.region.is_none()).count(),
        b.last,
        b.replications
    );
    let _ = writeln!(
        t,
        "{:<8} {:<14} {:>12} {:>12} {:>25} {:>8} {:>7} {:>7}",
        "month", "region", "actual", "forecast", "P5 – P95", "bias", "in 90%", "in 50%"
    );
    for r in &b.rows {
        let yes = |x: bool| if x { "yes" } else { "no" };
        let _ = writeln!(
            t,
            "{:<8} {:<14} {:>12.0} {:>12.0} {:>12.0} – {:<10.0} {:>+7.1}% {:>7} {:>7}",
            r.month.to_string(),
            r.region.as_deref().unwrap_or("channel"),
            r.actual,
            r.mean,
            r.p5,
            r.p95,
            100.0 * r.bias,
            yes(r.in_p5_p95),
            yes(r.in_p25_p75)
        );
    }
    for s in &b.summary {
        let _ = writeln!(
            t,
            "\n{}: mean bias {:+.1}%, MAPE {:.1}%, {:.0}% of actuals in P5–P95, {:.0}% in P25–P75; parameter uncertainty is {:.0}% of the P5–P95 width",
            s.scope,
            100.0 * s.mean_bias,
            100.0 * s.mape,
            100.0 * s.coverage_p5_p95,
            100.0 * s.coverage_p25_p75,
            100.0 * s.parameter_share_of_band
        );
    }
    let f = |v: &Option<Vec<f64>>| {
        v.as_ref().map_or("-".to_owned(), |p| {
            p.iter()
                .map(|x| format!("{x:.2}"))
                .collect::<Vec<_>>()
                .join(" / ")
        })
    };
    let _ = writeln!(
        t,
        "within-period profile: recorded {}, simulated {}",
        f(&b.profile.recorded),
        f(&b.profile.simulated)
    );
    t
}

fn backtest_csv(b: &Backtest) -> String {
    let mut t =
        String::from("month,region,actual,mean,p5,p25,p50,p75,p95,bias,ape,in_p5_p95,in_p25_p75\n");
    for r in &b.rows {
        let _ = writeln!(
            t,
            "{},{},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{:.6},{:.6},{},{}",
            r.month,
            r.region.as_deref().unwrap_or(""),
            r.actual,
            r.mean,
            r.p5,
            r.p25,
            r.p50,
            r.p75,
            r.p95,
            r.bias,
            r.ape,
            r.in_p5_p95,
            r.in_p25_p75
        );
    }
    t
}
