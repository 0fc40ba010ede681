//! `chanlab spec ...`: the bundled process specs, and checking spec files.

use std::io::{self, Write};
use std::path::PathBuf;

use chanlab_shared::{GoalStrategy, ProcessRules};
use chanlab_sim::bundled;
use chanlab_sim::files::{self, Format};

use super::Outcome;
use crate::cli::{OutputFormat, SpecCommand};

pub(crate) fn run(command: SpecCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        SpecCommand::List { format } => super::list_bundled(bundled::specs(), format.format, out),
        SpecCommand::Show { name, format } => {
            let as_json = |text: &str| -> anyhow::Result<String> {
                let rules = files::parse_rules(text, Format::Toml)
                    .map_err(|e| anyhow::anyhow!("bundled spec {name}: {}", e.message))?;
                Ok(serde_json::to_string_pretty(&rules)? + "\n")
            };
            super::show_bundled(
                "spec",
                &name,
                bundled::specs(),
                format.format,
                &as_json,
                out,
            )
        }
        SpecCommand::Check { files, format } => check(&files, format.format, out),
    }
}

fn check(paths: &[PathBuf], format: OutputFormat, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut valid = Vec::new();
    let mut any_invalid = false;
    let mut err = io::stderr().lock();
    for path in paths {
        let text = super::read_input(path)?;
        match files::parse_rules(&text, super::input_format(path, &text)) {
            Ok(rules) => {
                if format == OutputFormat::Text {
                    writeln!(out, "ok: {}: {}", path.display(), summary(&rules))?;
                }
                valid.push(rules);
            }
            Err(problem) => {
                any_invalid = true;
                let report = super::file_error_report(
                    &path.display().to_string(),
                    &problem,
                    "`chanlab spec show potential-based` prints a valid spec to compare with",
                );
                writeln!(err, "{report}")?;
            }
        }
    }
    if format == OutputFormat::Json {
        if let [one] = valid.as_slice() {
            serde_json::to_writer_pretty(&mut *out, one)?;
        } else {
            serde_json::to_writer_pretty(&mut *out, &valid)?;
        }
        writeln!(out)?;
    }
    Ok(if any_invalid {
        Outcome::InvalidInput
    } else {
        Outcome::Success
    })
}

/// One line on what a spec does, for a person checking it.
fn summary(rules: &ProcessRules) -> String {
    let goal = &rules.goal_setting;
    let strategy = match &goal.strategy {
        GoalStrategy::FlatGrowth { growth } => {
            format!("flat growth {:+.0}%/yr", growth.get() * 100.0)
        }
        GoalStrategy::Ratchet {
            growth,
            up_weight,
            down_weight,
        } => format!(
            "ratchet (up {:.0}%, down {:.0}%, {:+.0}%/yr)",
            up_weight.get() * 100.0,
            down_weight.get() * 100.0,
            growth.get() * 100.0
        ),
        GoalStrategy::PotentialBased { share_of_potential } => {
            format!(
                "{:.0}% of estimated potential",
                share_of_potential.get() * 100.0
            )
        }
        GoalStrategy::Stretch { uplift } => format!("stretch {:+.0}%", uplift.get() * 100.0),
        GoalStrategy::Participative {
            weight_on_proposal, ..
        } => {
            format!(
                "participative ({:.0}% on reps' proposals)",
                weight_on_proposal.get() * 100.0
            )
        }
        GoalStrategy::TieredThresholds { levels, .. } => {
            format!("{} tiered thresholds", levels.levels().len())
        }
        GoalStrategy::ActivityBased { targets } => {
            format!("activity-based ({} key links)", targets.targets().len())
        }
        GoalStrategy::BalancedScorecard { weights, .. } => {
            format!("balanced scorecard ({} metrics)", weights.weights().len())
        }
    };
    let assessed: Vec<String> = rules
        .assessment
        .key_links
        .weights()
        .iter()
        .map(|w| format!("{} {:.0}%", json_name(&w.metric), w.weight.get() * 100.0))
        .collect();
    let incentive = &rules.incentive;
    let cap = incentive.cap().map_or("no cap".to_owned(), |c| {
        format!("cap {:.0}%", c.get() * 100.0)
    });
    format!(
        "{:?} — goals: {strategy} per {} on {}; {}; assesses {}; commission {:.1}% of {}, {}, {cap}; partner margin {:.1}%, {}",
        rules.name.as_str(),
        json_name(&goal.period),
        json_name(&goal.metric),
        count(rules.cadences.cadences().len(), "cadence"),
        assessed.join(", "),
        incentive.commission_rate().get() * 100.0,
        json_name(&incentive.basis()),
        count(incentive.accelerators().len(), "accelerator"),
        rules.partner_program.base_margin().get() * 100.0,
        count(rules.partner_program.rebate_tiers().len(), "rebate step"),
    )
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The name a unit enum has in JSON and TOML, e.g. `sell_through`.
fn json_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
