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
