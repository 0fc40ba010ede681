//! Behavioural validation: experiments that check the simulator reproduces published
//! findings about how sales people respond to goals and pay (`chanlab validate`).
//!
//! A manager should only trust a what-if result if the model behaves like real sales
//! organisations. Each finding is an [`ExperimentFile`]: a bundled scenario, the arms to
//! contrast (bundled specs with patches, optionally a sweep over one parameter), and checks
//! (a statistic computed per replication and what the published finding says it should be).
//! Experiments are data: the bundled ones live in `sim/validation/*.toml`, and a user can
//! write another in the same format and pass it to `chanlab validate --experiment FILE`.
//!
//! Arms of one experiment are run with the same seed and replication indices, so every
//! replication draws the same world for every arm (common random numbers): differences
//! between arms are paired per replication, which is what makes a few hundred replications
//! enough. Statistics are exact sums ([`crate::stats::Moments`]), so a result is the same on
//! any number of threads.
//!
//! sim/MODEL.md §10 lists the findings, how each experiment is set up and what had to change
//! in the model to pass them.

mod chart;
mod compile;
mod measure;
mod run;

use serde::{Deserialize, Serialize};

use crate::model::Kpi;

pub use chart::experiment_svg;
pub(crate) use compile::merge;
pub use compile::{Arm, Experiment, bundled, bundled_text, load};
pub use run::{CheckReport, ExperimentReport, Panel, Point, RunOptions, Series, run};

/// An experiment as written in a file (TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Short id used by `--only`, e.g. `fiscal-year-end`.
    pub id: String,
    /// One line for the table.
    pub title: String,
    /// The published finding, in words.
    pub finding: String,
    /// The source, as a citation.
    pub source: String,
    /// The published effect, as the table shows it next to the simulated one.
    pub published: String,
    /// How the experiment is set up, in words (for the report and MODEL.md).
    #[serde(default)]
    pub setup: String,
    /// Name of the bundled scenario whose channel and behaviour the arms run on (its own
    /// specs are replaced by the arms).
    pub scenario: String,
    /// Changes to the scenario before the arms are added: a TOML table deep-merged into the
    /// scenario file (tables merge key by key, anything else is replaced).
    #[serde(default)]
    pub scenario_patch: toml::Table,
    /// Replications when the command line gives none.
    pub replications: u32,
    /// The arms to contrast, in order.
    pub arms: Vec<ArmFile>,
    /// Optional sweep: replaces one arm by one arm per value of one spec parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
    /// What is measured and what the finding says it should be.
    pub checks: Vec<Check>,
}

/// One arm: a bundled spec with changes, on the experiment's scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmFile {
    /// Name used by checks.
    pub name: String,
    /// Bundled spec the arm starts from (`chanlab spec list`).
    pub spec: String,
    /// Changes to the spec: a TOML table deep-merged into it.
    #[serde(default)]
    pub patch: toml::Table,
    /// Whole sections of the spec to replace (e.g. an `incentive` with no cap, which a
    /// merge could not remove), applied before `patch`.
    #[serde(default)]
    pub replace: toml::Table,
    /// Behaviour parameters for this arm only (e.g. `goal_value = 0` for reps without a
    /// quota to commit to).
    #[serde(default)]
    pub behaviour: toml::Table,
}

/// One arm run at several values of one spec parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    /// The arm to sweep; it is replaced by arms named `"{arm} {value}"`.
    pub arm: String,
    /// Dotted path of the parameter in the spec, e.g. `goal_setting.strategy.uplift`.
    pub path: String,
    /// The values, in order.
    pub values: Vec<f64>,
}

impl Sweep {
    /// The swept parameter in words for a chart's axis: a known spec field by what it
    /// means, any other by its last path segments in words ("goal setting: uplift").
    pub fn axis_label(&self) -> String {
        match self.path.as_str() {
            "goal_setting.strategy.uplift" => {
                "Stretch uplift over each territory's expected level".to_owned()
            }
            "goal_setting.strategy.growth" => "Goal growth over last year's actual".to_owned(),
            "incentive.commission_rate" => "Commission rate".to_owned(),
            path => {
                let words = |s: &str| s.replace('_', " ");
                let mut parts: Vec<&str> = path.split('.').collect();
                let last = parts.pop().unwrap_or(path);
                match parts.first() {
                    Some(first) => format!("{}: {}", words(first), words(last)),
                    None => words(last),
                }
            }
        }
    }
}

/// A statistic and what the finding says about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// What the row says, e.g. "last month / months 4–9".
    pub label: String,
    /// What is computed per replication.
    pub statistic: Statistic,
    /// The condition for PASS.
    pub expect: Expect,
    /// How the value is shown.
    #[serde(default)]
    pub unit: Display,
    /// The published figure this statistic corresponds to, when the source gives one in the
    /// same unit: the chart draws it beside the simulated interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Published>,
}

/// A published figure: one value or a range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Published {
    /// One value, e.g. Oyer's +9%.
    Value(f64),
    /// A range, e.g. Larkin's 6–8% of revenue.
    Between([f64; 2]),
}

impl Published {
    /// The lowest and highest published value.
    pub fn range(self) -> (f64, f64) {
        match self {
            Published::Value(v) => (v, v),
            Published::Between([a, b]) => (a.min(b), a.max(b)),
        }
    }
}

/// A number computed from each replication's outcomes; its mean and 95% interval over
/// replications are reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Statistic {
    /// The measure in one arm.
    Value {
        /// The arm.
        arm: String,
        /// The measure.
        measure: Measure,
    },
    /// The measure in `arm` minus in `versus` (or their ratio minus one when `relative`).
    Difference {
        /// The arm.
        arm: String,
        /// The arm compared with.
        versus: String,
        /// The measure.
        measure: Measure,
        /// Report (arm / versus − 1) instead of (arm − versus).
        #[serde(default)]
        relative: bool,
    },
    /// Σ weight × measure(arm) over the terms (e.g. added minus shifted sales).
    Contrast {
        /// The terms.
        terms: Vec<Term>,
    },
    /// The measure across the sweep's arms: where it peaks, and whether the peak beats
    /// both ends.
    Peak {
        /// The measure.
        measure: Measure,
    },
}

/// One term of a [`Statistic::Contrast`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The arm.
    pub arm: String,
    /// The measure.
    pub measure: Measure,
    /// Its weight.
    pub weight: f64,
}

/// A number read from one arm's outcome in one replication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// A KPI over the horizon.
    Kpi {
        /// Which.
        kpi: Kpi,
    },
    /// One KPI as a share of another (e.g. discounts per unit of sell-through).
    Share {
        /// Numerator.
        of: Kpi,
        /// Denominator.
        per: Kpi,
    },
    /// Sell-through in month `month` (1–12) of the fiscal year, relative to the mean of
    /// months 4–9, over the horizon's whole years (the fiscal year starts with the scenario).
    FiscalMonth {
        /// 1–12.
        month: u32,
    },
    /// Sell-through in month `month` (1–3) of a quarter relative to that quarter's mean
    /// month, over the horizon's whole quarters (quarters start with the scenario): the
    /// within-quarter profile of a channel under quarterly goals.
    QuarterMonth {
        /// 1–3.
        month: u32,
        /// Only this quarter of the horizon (1 = the first), instead of all of them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quarter: Option<u32>,
    },
    /// A figure summed over a group of rep seats ranked by their opening capacity.
    Seats {
        /// Which seats.
        group: SeatGroup,
        /// Which figure.
        value: SeatValue,
    },
    /// Goal-metric revenue moved across period ends by deal timing.
    TimingVolume,
    /// Revenue goals set over the horizon, summed over seats and periods.
    GoalLevel,
    /// Share of mandated touches done in regions whose manager's backing, as the scenario
    /// states it, lies in `[backing_from, backing_to]`.
    Compliance {
        /// Lowest backing included.
        #[serde(default)]
        backing_from: f64,
        /// Highest backing included.
        #[serde(default = "one")]
        backing_to: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// A group of rep seats, ranked by opening capacity (territory × first occupant's skill).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatGroup {
    /// Every seat.
    All,
    /// The top fifth (rounded up).
    TopQuintile,
    /// The bottom half (rounded down).
    BottomHalf,
}

/// A per-seat figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatValue {
    /// Goal-metric revenue.
    Revenue,
    /// Goal-metric revenue beyond 100% of goal, summed over periods.
    PostGoalRevenue,
}

/// The condition a check's statistic must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// The whole 95% interval above the value.
    Above(f64),
    /// The whole 95% interval below the value.
    Below(f64),
    /// The mean within `[low, high]`.
    Between([f64; 2]),
    /// For [`Statistic::Peak`]: the peak is not at either end and beats both ends with
    /// 95% intervals excluding zero.
    RisesThenFalls,
}

/// How a check's value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    /// A plain number to three decimals (ratios).
    #[default]
    Ratio,
    /// A percentage.
    Percent,
    /// Money in the scenario's currency, major units.
    Money,
    /// A count, to one decimal (a mean over replications).
    Count,
}

impl Display {
    /// `value` as the table shows it.
    pub fn format(self, value: f64) -> String {
        match self {
            Display::Ratio => format!("{value:.3}"),
            Display::Count => format!("{value:.1}"),
            Display::Percent => format!("{:+.1}%", value * 100.0),
            Display::Money => {
                let (sign, v) = if value < 0.0 {
                    ("-", -value)
                } else {
                    ("", value)
                };
                if v >= 1e9 {
                    format!("{sign}{:.2}B", v / 1e9)
                } else if v >= 1e6 {
                    format!("{sign}{:.2}M", v / 1e6)
                } else if v >= 1e3 {
                    format!("{sign}{:.1}k", v / 1e3)
                } else {
                    format!("{sign}{v:.0}")
                }
            }
        }
    }
}

/// Why an experiment could not be loaded or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidateError {
    /// The file is not a valid experiment.
    #[error("{0}")]
    File(#[from] crate::files::FileError),
    /// The experiment refers to something that does not exist or cannot work.
    #[error("experiment {experiment}: {field}: {message}")]
    Invalid {
        /// The experiment's id.
        experiment: String,
        /// Field path in the experiment file, e.g. `arms[1].patch`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::Display;

    #[test]
    fn figures_are_shown_as_the_tables_show_them() {
        assert_eq!(Display::Money.format(65_160_000.0), "65.16M");
        assert_eq!(Display::Money.format(2_400_000_000.0), "2.40B");
        assert_eq!(Display::Money.format(-3_490.0), "-3.5k");
        assert_eq!(Display::Money.format(812.4), "812");
        assert_eq!(Display::Percent.format(0.051), "+5.1%");
        assert_eq!(Display::Count.format(4.75), "4.8");
        assert_eq!(Display::Ratio.format(1.4751), "1.475");
    }
}
