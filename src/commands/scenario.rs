//! `chanlab scenario ...`: the bundled scenarios and a commented template.

use std::io::{self, Write};

use chanlab_sim::{bundled, params};

use super::Outcome;
use crate::cli::{OutputFormat, ScenarioCommand};

pub(crate) fn run(command: ScenarioCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        ScenarioCommand::List { format } => {
            let scenarios = bundled::scenarios();
            match format {
                OutputFormat::Text => {
                    let width = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
                    for s in scenarios {
                        writeln!(out, "{:width$}  {}", s.name, s.summary)?;
                    }
                }
                OutputFormat::Json => {
                    let list: Vec<_> = scenarios
                        .iter()
                        .map(|s| serde_json::json!({"name": s.name, "summary": s.summary}))
                        .collect();
                    serde_json::to_writer_pretty(&mut *out, &list)?;
                    writeln!(out)?;
                }
            }
            Ok(Outcome::Success)
        }
        ScenarioCommand::Show { name } => match bundled::find_scenario(&name) {
            Some(s) => {
                out.write_all(s.text.as_bytes())?;
                Ok(Outcome::Success)
            }
            None => {
                let known: Vec<&str> = bundled::scenarios().iter().map(|s| s.name).collect();
                writeln!(
                    io::stderr().lock(),
                    "error: there is no bundled scenario called {name:?}\n  fix: use one of: {}",
                    known.join(", ")
                )?;
                Ok(Outcome::InvalidInput)
            }
        },
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
