//! Examples that ship inside the binary, so a new user has something to run and copy.
//!
//! Process specs live in `sim/specs/` and scenarios in `sim/scenarios/`, as TOML, embedded at
//! compile time; tests parse every one, so a bundled example can never be invalid.

/// A file that ships with chanlab: a process spec or a scenario.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// The name used on the command line, e.g. `potential-based` or `mid-size`.
    pub name: &'static str,
    /// One line on what it illustrates.
    pub summary: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

const SPECS: &[Bundled] = &[
    Bundled {
        name: "flat-growth",
        summary: "Goals are the opening run rate plus 8% a year for everyone; they never follow actuals.",
        text: include_str!("../specs/flat-growth.toml"),
    },
    Bundled {
        name: "ratchet",
        summary: "Next goal follows this period's actual, more after a beat than after a miss.",
        text: include_str!("../specs/ratchet.toml"),
    },
    Bundled {
        name: "potential-based",
        summary: "Goals are 70% of each territory's estimated potential; visits are assessed.",
        text: include_str!("../specs/potential-based.toml"),
    },
    Bundled {
        name: "stretch",
        summary: "Goals 30% above the expected level, with an accelerator and no cap.",
        text: include_str!("../specs/stretch.toml"),
    },
];

const SCENARIOS: &[Bundled] = &[
    Bundled {
        name: "mid-size",
        summary: "32 reps, 360 partners, 3 years: flat growth vs stretch vs potential-based vs ratchet.",
        text: include_str!("../scenarios/mid-size.toml"),
    },
    Bundled {
        name: "recruiting-vs-farming",
        summary: "Many prospects: revenue-only goals vs a scorecard that also rewards signing partners.",
        text: include_str!("../scenarios/recruiting-vs-farming.toml"),
    },
    Bundled {
        name: "dual-authority",
        summary: "Regional managers who don't back the process: does assessing mandated visits help?",
        text: include_str!("../scenarios/dual-authority.toml"),
    },
];

/// Every bundled scenario.
pub fn scenarios() -> &'static [Bundled] {
    SCENARIOS
}

/// The bundled scenario called `name`, if there is one.
pub fn find_scenario(name: &str) -> Option<&'static Bundled> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// Every bundled process spec.
pub fn specs() -> &'static [Bundled] {
    SPECS
}

/// The bundled spec called `name`, if there is one.
pub fn find_spec(name: &str) -> Option<&'static Bundled> {
    SPECS.iter().find(|s| s.name == name)
}

/// Monthly partner potential per rep seat of the bundled mid-size channel, in EUR: what the
/// bundled specs' money amounts (bonuses) were sized for.
pub const REFERENCE_POTENTIAL_PER_SEAT: f64 = 88_500.0;

/// A bundled spec's rules placed on a channel in `currency` with `potential_per_seat` of
/// monthly potential per seat (sim/MODEL.md §7.2). The bundled specs are written in EUR for
/// the mid-size channel; in EUR they are used as written. In another currency every amount
/// is restated in it in proportion to the channel's potential per seat over the mid-size
/// channel's ([`REFERENCE_POTENTIAL_PER_SEAT`]), so a bonus stays the same share of a
/// territory whatever the currency's unit, and rounded to the currency's minor unit.
pub fn restate(
    rules: &chanlab_shared::ProcessRules,
    currency: chanlab_shared::Currency,
    potential_per_seat: f64,
) -> Result<chanlab_shared::ProcessRules, String> {
    let eur = chanlab_shared::Currency::EUR;
    if currency == eur {
        return Ok(rules.clone());
    }
    let scale = if potential_per_seat.is_finite() && potential_per_seat > 0.0 {
        potential_per_seat / REFERENCE_POTENTIAL_PER_SEAT
    } else {
        1.0
    };
    let mut value = serde_json::to_value(rules).map_err(|e| e.to_string())?;
    restate_amounts(&mut value, eur, currency, scale);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// [`restate`] on a spec, or a patch to one, still in TOML (the training exercises' specs
/// and choices): every EUR `{amount_minor, currency}` table is restated in `currency`.
pub fn restate_toml(
    table: &mut toml::Table,
    currency: chanlab_shared::Currency,
    potential_per_seat: f64,
) {
    let eur = chanlab_shared::Currency::EUR;
    if currency == eur {
        return;
    }
    let scale = if potential_per_seat.is_finite() && potential_per_seat > 0.0 {
        potential_per_seat / REFERENCE_POTENTIAL_PER_SEAT
    } else {
        1.0
    };
    let Ok(mut value) = serde_json::to_value(&*table) else {
        return;
    };
    restate_amounts(&mut value, eur, currency, scale);
    if let Ok(restated) = serde_json::from_value::<toml::Table>(value) {
        *table = restated;
    }
}

/// Every `{amount_minor, currency}` object in `value` moved from `from` to `to` at `scale`.
fn restate_amounts(
    value: &mut serde_json::Value,
    from: chanlab_shared::Currency,
    to: chanlab_shared::Currency,
    scale: f64,
) {
    match value {
        serde_json::Value::Object(map) => {
            let is_money =
                map.len() == 2 && map.get("currency").and_then(|c| c.as_str()) == Some(from.code());
            if let (true, Some(minor)) =
                (is_money, map.get("amount_minor").and_then(|m| m.as_i64()))
            {
                let major = minor as f64 / 10f64.powi(from.minor_digits() as i32);
                let restated = (major * scale * 10f64.powi(to.minor_digits() as i32)).round();
                map.insert(
                    "amount_minor".to_owned(),
                    serde_json::json!(restated as i64),
                );
                map.insert("currency".to_owned(), serde_json::json!(to.code()));
            } else {
                for v in map.values_mut() {
                    restate_amounts(v, from, to, scale);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                restate_amounts(v, from, to, scale);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::{Format, parse_rules};
    use chanlab_shared::GoalStrategyKind;

    #[test]
    fn every_bundled_spec_is_valid() {
        let invalid: Vec<String> = specs()
            .iter()
            .filter_map(|s| {
                parse_rules(s.text, Format::Toml)
                    .err()
                    .map(|e| format!("{}: {e}", s.name))
            })
            .collect();
        assert!(invalid.is_empty(), "invalid bundled specs: {invalid:?}");
        assert!(specs().len() >= 4);
    }

    #[test]
    fn every_bundled_scenario_is_valid() {
        let no_files =
            |path: &str| Err(format!("bundled scenarios may not refer to files ({path})"));
        let invalid: Vec<String> = scenarios()
            .iter()
            .filter_map(|s| {
                crate::scenario::parse(s.text, Format::Toml, &no_files)
                    .err()
                    .map(|e| format!("{}: {e}", s.name))
            })
            .collect();
        assert!(invalid.is_empty(), "invalid bundled scenarios: {invalid:?}");
        assert!(scenarios().len() >= 3);
    }

    #[test]
    fn each_bundled_spec_uses_the_strategy_its_name_promises() {
        let expected = [
            ("flat-growth", GoalStrategyKind::FlatGrowth),
            ("ratchet", GoalStrategyKind::Ratchet),
            ("potential-based", GoalStrategyKind::PotentialBased),
            ("stretch", GoalStrategyKind::Stretch),
        ];
        for (name, kind) in expected {
            let rules = parse_rules(find_spec(name).unwrap().text, Format::Toml).unwrap();
            assert_eq!(rules.goal_setting.strategy.kind(), kind, "{name}");
        }
        assert!(find_spec("nonexistent").is_none());
    }
}
