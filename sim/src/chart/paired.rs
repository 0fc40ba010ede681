//! The comparison chart's lead panels: per headline KPI, each spec's paired difference from
//! the baseline (mean, 95% interval and the chance of beating it), scaled as the compare table
//! prints them.

use super::draw::{circle, colour, escape, line, line_coloured, spec_name, text};
use super::layout::wrap;
use super::scale::{axis_label, decimals_for, finite, fixed, nice_ticks, range, value_label};
use super::{HEADLINE, INTERVAL_BAR, MARGIN, PANEL_AXIS, ROW_HEIGHT, WIDTH};
use crate::engine::{ComparisonReport, RunReport, SpecReport};
use crate::model::{Kpi, Unit};
use crate::stats::SummaryReport;

/// The plot's left and right edge: spec names to its left, the figures to its right.
const PAIRED_PLOT: (f64, f64) = (250.0, 620.0);

/// A paired difference as the chart and the compare table show it: scaled to a percentage of
/// the baseline's mean for money and counts, to percentage points for shares, as is for
/// ratios (and in the KPI's unit when the baseline's mean is zero or missing).
#[derive(Debug, Clone, PartialEq)]
pub struct PairedFigure {
    /// The spec compared with the baseline.
    pub spec: String,
    /// The KPI.
    pub kpi: Kpi,
    /// Mean difference, in `unit`.
    pub mean: f64,
    /// Its 95% interval, in `unit`.
    pub low: f64,
    /// Its 95% interval, in `unit`.
    pub high: f64,
    /// What the numbers are in.
    pub unit: PairedUnit,
    /// Share of paired replications in which the spec did better (ties count half).
    pub probability_better: f64,
}

/// The scale of a [`PairedFigure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedUnit {
    /// Percent of the baseline's mean.
    PercentOfBaseline,
    /// Percentage points.
    Points,
    /// The KPI's own unit.
    Absolute(Unit),
}

/// Every spec's paired difference from the baseline on `kpi`, in report order, from the
/// report's `vs_baseline` (no spec compared, no figure). The chart draws these; the compare
/// table prints the same numbers.
pub fn paired_figures(report: &RunReport, kpi: Kpi) -> Vec<PairedFigure> {
    let base_mean = report
        .specs
        .iter()
        .find(|s| s.baseline)
        .and_then(|b| kpi_summary(b, kpi))
        .and_then(|s| finite(s.mean));
    report
        .specs
        .iter()
        .filter_map(|s| {
            let c: &ComparisonReport = s.vs_baseline.iter().find(|c| c.kpi == kpi)?;
            let d = &c.difference;
            let (mean, low, high) = (finite(d.mean)?, finite(d.ci95_low)?, finite(d.ci95_high)?);
            let (scale, unit) = match (kpi.unit(), base_mean) {
                (Unit::Money | Unit::Count, Some(b)) if b.abs() > 1e-12 => {
                    (100.0 / b.abs(), PairedUnit::PercentOfBaseline)
                }
                (Unit::Share, _) => (100.0, PairedUnit::Points),
                (unit, _) => (1.0, PairedUnit::Absolute(unit)),
            };
            Some(PairedFigure {
                spec: s.name.clone(),
                kpi,
                mean: mean * scale,
                low: low * scale,
                high: high * scale,
                unit,
                probability_better: c.probability_better,
            })
        })
        .collect()
}

impl PairedFigure {
    /// "+4.0% [+2.1, +5.9]": the mean and interval as the chart labels them.
    pub fn label(&self) -> String {
        let (mean, interval) = self.labels();
        format!("{mean} {interval}")
    }

    /// "+4.0%" and "[+2.1, +5.9]".
    fn labels(&self) -> (String, String) {
        let (suffix, f): (&str, fn(f64) -> String) = match self.unit {
            PairedUnit::PercentOfBaseline => ("%", |v| format!("{v:+.1}")),
            PairedUnit::Points => ("pp", |v| format!("{v:+.1}")),
            PairedUnit::Absolute(Unit::Ratio) => ("", |v| format!("{v:+.2}")),
            PairedUnit::Absolute(_) => ("", |v| {
                let sign = if v < 0.0 { "-" } else { "+" };
                format!("{sign}{}", value_label(v.abs(), Unit::Money))
            }),
        };
        (
            format!("{}{suffix}", f(self.mean)),
            format!("[{}, {}]", f(self.low), f(self.high)),
        )
    }
}

fn kpi_summary(spec: &SpecReport, kpi: Kpi) -> Option<&SummaryReport> {
    spec.kpis.iter().find(|k| k.kpi == kpi).map(|k| &k.summary)
}

/// The paired-difference panels; returns the y below them.
pub(super) fn paired_section(svg: &mut String, report: &RunReport, top: f64) -> f64 {
    let Some(base) = report.specs.iter().find(|s| s.baseline) else {
        text(svg, MARGIN, top, "head", "Difference from the baseline");
        text(
            svg,
            MARGIN,
            top + 18.0,
            "note",
            "No baseline in this run: nothing to compare.",
        );
        return top + 30.0;
    };
    let heading = format!(
        "Difference from the baseline, {}, in paired replications",
        base.name
    );
    let mut y = top;
    for line in wrap(&heading, WIDTH - 2.0 * MARGIN, 14.0, true) {
        text(svg, MARGIN, y, "head", &line);
        y += 18.0;
    }
    for line in wrap(
        "dot: mean difference · bar: its 95% interval · line: no difference · right: the chance \
         of beating the baseline (share of replications in which the spec did better)",
        WIDTH - 2.0 * MARGIN,
        11.0,
        false,
    ) {
        text(svg, MARGIN, y, "note", &line);
        y += 14.0;
    }
    let compared = report.specs.iter().filter(|s| !s.baseline).count();
    if compared == 0 {
        text(
            svg,
            MARGIN,
            y + 4.0,
            "note",
            "Only the baseline was run: nothing to compare.",
        );
        return y + 16.0;
    }
    y += 8.0;
    for kpi in HEADLINE {
        y = paired_panel(svg, report, kpi, y) + 12.0;
    }
    y
}

/// One KPI's paired differences, a row per compared spec; returns the y below the panel.
fn paired_panel(svg: &mut String, report: &RunReport, kpi: Kpi, top: f64) -> f64 {
    let figures = paired_figures(report, kpi);
    let unit_text = match figures.first().map(|f| f.unit) {
        Some(PairedUnit::PercentOfBaseline) => "% of the baseline",
        Some(PairedUnit::Points) => "percentage points",
        _ => match kpi {
            Kpi::PeriodEndSpike => "ratio, 1 = no spike",
            _ => "difference",
        },
    };
    let better = match kpi.better() {
        Some(true) => " · higher is better",
        Some(false) => " · lower is better",
        None => "",
    };
    svg.push_str(&format!(
        "<text x=\"{MARGIN}\" y=\"{:.1}\" class=\"head\">{} <tspan class=\"note\">({}){better}\
         </tspan></text>\n",
        top + 14.0,
        escape(kpi.label()),
        escape(unit_text)
    ));
    let compared: Vec<(usize, &SpecReport)> = report
        .specs
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.baseline)
        .collect();
    let rows_top = top + 22.0;
    let rows_bottom = rows_top + compared.len() as f64 * ROW_HEIGHT;
    let (left, right) = PAIRED_PLOT;
    let values = figures
        .iter()
        .flat_map(|f| [Some(f.low), Some(f.high)])
        .chain([Some(0.0)]);
    let (lo, hi) = range(values).unwrap_or((-1.0, 1.0));
    let ticks = nice_ticks(lo, hi, 5);
    let (v0, v1) = (ticks[0], ticks[ticks.len() - 1]);
    let x = |v: f64| left + (v - v0) / (v1 - v0) * (right - left);
    let step = ticks[1] - ticks[0];
    for &t in &ticks {
        line(svg, x(t), rows_top, x(t), rows_bottom, "grid");
        let label = match figures.first().map(|f| f.unit) {
            Some(PairedUnit::PercentOfBaseline) => format!("{}%", signed(t, step)),
            Some(PairedUnit::Points) => format!("{}pp", signed(t, step)),
            Some(PairedUnit::Absolute(unit)) => axis_label(t, step, v0.abs().max(v1.abs()), unit),
            None => signed(t, step),
        };
        text(svg, x(t), rows_bottom + 14.0, "tick mid", &label);
    }
    svg.push_str(&format!(
        "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#333\" \
         stroke-width=\"1.5\"/>\n",
        x(0.0),
        rows_top - 4.0,
        rows_bottom + 2.0
    ));
    for (row, (index, spec)) in compared.iter().enumerate() {
        let cy = rows_top + ROW_HEIGHT * (row as f64 + 0.5);
        spec_name(svg, spec, *index, MARGIN, cy, 30);
        let colour = colour(*index);
        match figures.iter().find(|f| f.spec == spec.name) {
            Some(f) => {
                line_coloured(svg, x(f.low), cy, x(f.high), cy, colour, INTERVAL_BAR);
                circle(svg, x(f.mean), cy, 5.0, colour);
                let (mean, interval) = f.labels();
                svg.push_str(&format!(
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{} <tspan class=\"note\">\
                     {} · beats it in {:.0}%</tspan></text>\n",
                    right + 12.0,
                    cy + 4.0,
                    escape(&mean),
                    escape(&interval),
                    100.0 * f.probability_better
                ));
            }
            None => text(svg, right + 12.0, cy + 4.0, "tick", "no data"),
        }
    }
    rows_bottom + PANEL_AXIS
}

/// A tick with its sign: "+5", "0", "-2.5".
fn signed(value: f64, step: f64) -> String {
    let shown = fixed(value, decimals_for(step));
    if value > 0.0 && shown != "0" {
        format!("+{shown}")
    } else {
        shown
    }
}
