//! A comparison chart of a run, as a standalone SVG document a channel manager can read without
//! knowing how it was computed.
//!
//! [`comparison_svg`] leads with what a comparison is for: per headline KPI and spec, the
//! paired difference from the baseline (its mean and 95% interval against a zero line, with
//! the chance of beating the baseline), read from the report's `vs_baseline`, the same figures
//! the compare table prints. Below it come a fan chart of monthly sell-through per spec
//! (median line and 5th–95th percentile band) on calendar months, and per KPI the spread over
//! replications, the mean and the 95% interval of the mean, as the secondary view.
//!
//! The SVG is written by hand as text: no dependency, no clock, no randomness, so the same
//! report always gives byte-identical output. Every piece of text from the report or the
//! caller is escaped, and a missing figure (`None`) leaves its mark out instead of failing.
//! Text is laid out with a conservative width estimate (`CHAR_EM` of the font size per
//! character) and wrapped rather than cut; the chart tests check every `<text>` stays on the
//! canvas by the same estimate and render every chart kind with resvg.
//!
//! Why not a plotting crate: plotters draws SVG but lays text out with its own font metrics
//! (or none, in its SVG backend), has no notion of paired intervals, fan bands or wrapped
//! titles, and adds a dependency tree to the simulator; charming renders through a JavaScript
//! runtime or writes ECharts options for a browser. The charts here are a few hundred lines
//! each, deterministic byte for byte, dependency-free and tested, so we keep them.
//!
//! The parts live in submodules: `paired` (the lead panels and [`PairedFigure`]), `fan` (the
//! monthly fan, its calendar axis and legend), `distribution` (the per-KPI spread panels),
//! `scale` (ranges, ticks, labels), `layout` (text width and wrapping) and `draw` (SVG
//! elements and the style sheet); the other charts of the simulator use the last three.

use chanlab_shared::Month;

use crate::engine::RunReport;
use crate::model::Kpi;
use crate::scenario::ScenarioFile;

mod distribution;
mod draw;
mod fan;
mod layout;
mod paired;
mod scale;

pub(crate) use draw::{STYLE, circle, colour, escape, line, line_coloured, text};
pub(crate) use layout::{text_width, wrap};
pub use paired::{PairedFigure, PairedUnit, paired_figures};
pub(crate) use scale::{axis_label, decimals_for, fixed, nice_ticks, value_label};

/// The KPIs that get a panel, in reading order.
const HEADLINE: [Kpi; 6] = [
    Kpi::SellThrough,
    Kpi::MarginAfterIncentives,
    Kpi::RepsAtGoal,
    Kpi::PartnersActiveAtEnd,
    Kpi::RepAttrition,
    Kpi::PeriodEndSpike,
];

/// The canvas width and its margin.
const WIDTH: f64 = 960.0;
const MARGIN: f64 = 40.0;
/// A spec's row in the paired and distribution panels, and the room under a panel's rows for
/// its tick labels.
const ROW_HEIGHT: f64 = 22.0;
const PANEL_AXIS: f64 = 34.0;
/// The thick bar of a 95% interval (the thin one of a spread is in `distribution`).
const INTERVAL_BAR: f64 = 10.0;

/// What the chart needs besides the report: its title, the currency money is in, and the
/// calendar the months fall on.
#[derive(Debug, Clone, Copy)]
pub struct ChartContext<'a> {
    /// Heads the chart (wrapped, never cut).
    pub title: &'a str,
    /// Labels money, e.g. `EUR`.
    pub currency: &'a str,
    /// The first simulated month: month 1 of the report.
    pub start: Month,
    /// A month a fiscal (goal) year starts in; years start every 12 months from it.
    pub fiscal_year_start: Month,
}

impl<'a> ChartContext<'a> {
    /// The scenario's name, currency, start and period anchor (its start when it has none).
    pub fn of(scenario: &'a ScenarioFile) -> Self {
        ChartContext {
            title: scenario.name.as_str(),
            currency: scenario.currency.code(),
            start: scenario.start,
            fiscal_year_start: scenario.period_anchor.unwrap_or(scenario.start),
        }
    }
}

/// Draws `report` as a standalone SVG document, 960 pixels wide.
///
/// Specs keep the report's order and get one colour each; the baseline is marked in the
/// legend and shown as a dashed line in the distribution panels.
pub fn comparison_svg(report: &RunReport, context: &ChartContext<'_>) -> String {
    let mut body = String::new();
    let mut y = 36.0;
    for line in wrap(context.title, WIDTH - 2.0 * MARGIN, 20.0, true) {
        text(&mut body, MARGIN, y, "title", &line);
        y += 24.0;
    }
    text(&mut body, MARGIN, y - 2.0, "sub", &subtitle(report));
    y += 30.0;
    y = paired::paired_section(&mut body, report, y);
    y = fan::fan_chart(&mut body, report, context, y + 10.0);
    y = distribution::distribution_section(&mut body, report, context.currency, y + 10.0);
    let notes = [
        "Paired: every replication runs each spec on the same simulated channel with the same \
         luck, so a difference is measured within a replication and its interval is narrower \
         than the spreads suggest.",
        "Thick bars: 95% interval of a mean (where the average over many more runs would lie). \
         Thin bars: 5th–95th percentile of replications (9 in 10 simulated outcomes).",
    ];
    for note in notes {
        for line in wrap(note, WIDTH - 2.0 * MARGIN, 11.0, false) {
            text(&mut body, MARGIN, y, "note", &line);
            y += 14.0;
        }
    }
    let height = y + 10.0;
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n\
         <style>{STYLE}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// "N replications · paired comparison vs <baseline>".
fn subtitle(report: &RunReport) -> String {
    let n = report.replications;
    let plural = if n == 1 { "" } else { "s" };
    match report.specs.iter().find(|s| s.baseline) {
        Some(b) => format!("{n} replication{plural} · paired comparison vs {}", b.name),
        None => format!("{n} replication{plural}"),
    }
}

#[cfg(test)]
pub(crate) mod check;
#[cfg(test)]
mod tests;
