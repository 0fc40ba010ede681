//! `chanlab scenario ...`: the bundled scenarios and a commented template.

use std::io::Write;

use chanlab_sim::{bundled, params};

use super::Outcome;
use crate::cli::ScenarioCommand;

pub(crate) fn run(command: ScenarioCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        ScenarioCommand::List { format } => super::list_bundled(bundled::scenarios(), format, out),
        ScenarioCommand::Show { name } => {
            super::show_bundled("scenario", &name, bundled::scenarios(), out)
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
