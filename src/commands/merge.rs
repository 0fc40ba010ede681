//! `chanlab merge`: the shards of one run, sweep, sensitivity study or stage of a policy
//! search. Every part says what it is (`"kind"`; a plain run's has none), so the parts are
//! read once here and handed, all of one kind, to the module that wrote them.

use std::io::{self, Write};
use std::path::PathBuf;

use serde_json::Value;

use super::Outcome;
use crate::cli::MergeArgs;

/// A part as read: its path (for messages) and its JSON.
pub(crate) type Part = (PathBuf, Value);

/// What a part of each kind is written by, for the fixes in messages.
fn written_by(kind: Option<&str>) -> &'static str {
    match kind {
        None => "`chanlab run --shard K/N --format json --out FILE`",
        Some("sweep") => "`chanlab compare SWEEP --shard K/N --out FILE`",
        Some("sensitivity") => "`chanlab sensitivity --shard K/N --out FILE`",
        Some("optimise-part") => "`chanlab optimise ... --shard K/N --out FILE`",
        Some(_) => "`chanlab run`, `compare`, `sensitivity` or `optimise` with --shard",
    }
}

/// Says `message` with `fix` on standard error; the merge failed on its input.
pub(crate) fn refuse(message: &str, fix: &str) -> anyhow::Result<Outcome> {
    writeln!(io::stderr().lock(), "error: {message}\n  fix: {fix}")?;
    Ok(Outcome::InvalidInput)
}

/// Reads a part of `kind` (as in [`written_by`]) as `T`, or refuses naming the file and
/// what writes such parts.
fn decode<T: serde::de::DeserializeOwned>(
    (path, value): Part,
    kind: Option<&str>,
) -> Result<T, anyhow::Result<Outcome>> {
    serde_json::from_value(value).map_err(|e| {
        let what = match kind {
            None => "result",
            Some("sweep") => "sweep result",
            Some("sensitivity") => "sensitivity result",
            Some(_) => "policy-search part",
        };
        refuse(
            &format!("{}: not a chanlab {what} ({e})", path.display()),
            &format!("pass files written by {}", written_by(kind)),
        )
    })
}

/// Reads every part as `T` ([`decode`]), or the refusal of the first that is not one.
pub(crate) fn decode_all<T: serde::de::DeserializeOwned>(
    parts: Vec<Part>,
    kind: Option<&str>,
) -> Result<Vec<T>, anyhow::Result<Outcome>> {
    parts.into_iter().map(|part| decode(part, kind)).collect()
}

pub(crate) fn run(args: MergeArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut parts: Vec<Part> = Vec::with_capacity(args.parts.len());
    for path in &args.parts {
        let text = super::read_input(path)?;
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => parts.push((path.clone(), value)),
            Err(e) => {
                return refuse(
                    &format!("{}: not a chanlab result ({e})", path.display()),
                    &format!(
                        "pass files written by {}, all of one kind",
                        written_by(Some(""))
                    ),
                );
            }
        }
    }
    let kind = |p: &Part| p.1.get("kind").and_then(Value::as_str).map(str::to_owned);
    let first = kind(&parts[0]);
    if let Some(other) = parts.iter().find(|p| kind(p) != first) {
        let name = |k: &Option<String>| match k.as_deref() {
            None => "run",
            Some("sweep") => "sweep",
            Some("sensitivity") => "sensitivity study",
            Some("optimise-part") => "policy search",
            Some(_) => "unknown kind of result",
        };
        return refuse(
            &format!(
                "{} is part of a {} and {} of a {}",
                other.0.display(),
                name(&kind(other)),
                parts[0].0.display(),
                name(&first)
            ),
            "merge the shards of one run, sweep, study or search stage at a time",
        );
    }
    match first.as_deref() {
        None => super::simulate::merge(parts, &args, out),
        Some("sweep") => super::simulate::merge_sweeps(parts, &args, out),
        Some("sensitivity") => super::sensitivity::merge(parts, &args, out),
        Some("optimise-part") => super::optimise::merge(parts, &args, out),
        Some(other) => refuse(
            &format!("{}: a {other:?} cannot be merged", parts[0].0.display()),
            &format!("pass files written by {}", written_by(Some(other))),
        ),
    }
}
