//! The comparison chart's secondary view: per headline KPI, each spec's spread over
//! replications, its mean and the 95% interval of the mean, two panels to a row.

use super::draw::{circle, colour, escape, line, line_coloured, rect_outline, spec_name, text};
use super::scale::{axis_label, finite, nice_ticks, range, value_label};
use super::{HEADLINE, INTERVAL_BAR, MARGIN, PANEL_AXIS, ROW_HEIGHT};
use crate::engine::RunReport;
use crate::model::{Kpi, Unit};
use crate::stats::SummaryReport;

/// Distribution panels: two columns of this width, rows of spec lines.
const PANEL_WIDTH: f64 = 425.0;
const PANEL_COLUMNS: [f64; 2] = [40.0, 495.0];
const PANEL_HEAD: f64 = 26.0;
const PANEL_GAP: f64 = 20.0;
/// The thin bar of a 5th–95th percentile spread.
const SPREAD_BAR: f64 = 2.0;

/// The distribution panels, two per row; returns the y below them.
pub(super) fn distribution_section(
    svg: &mut String,
    report: &RunReport,
    currency: &str,
    top: f64,
) -> f64 {
    text(svg, MARGIN, top, "head", "Each spec's outcomes");
    text(
        svg,
        MARGIN,
        top + 16.0,
        "note",
        "dot: mean · thick bar: 95% interval of the mean · thin bar: 5th–95th percentile of \
         replications · dashed: baseline mean",
    );
    let panels_top = top + 28.0;
    let rows = report.specs.len().max(1) as f64;
    let panel_height = PANEL_HEAD + rows * ROW_HEIGHT + PANEL_AXIS;
    for (i, kpi) in HEADLINE.iter().enumerate() {
        let x = PANEL_COLUMNS[i % PANEL_COLUMNS.len()];
        let y = panels_top + (i / PANEL_COLUMNS.len()) as f64 * (panel_height + PANEL_GAP);
        kpi_panel(svg, report, *kpi, currency, x, y);
    }
    let panel_rows = HEADLINE.len().div_ceil(PANEL_COLUMNS.len()) as f64;
    panels_top + panel_rows * (panel_height + PANEL_GAP) + 6.0
}

/// One KPI's panel: per spec, the spread, the mean and its interval, and the mean's value.
fn kpi_panel(svg: &mut String, report: &RunReport, kpi: Kpi, currency: &str, x0: f64, y0: f64) {
    let unit = kpi.unit();
    let unit_text = match (kpi, unit) {
        (Kpi::PeriodEndSpike, _) => "ratio, 1 = no spike",
        (_, Unit::Money) => currency,
        (_, Unit::Share) => "%",
        (_, Unit::Count) => "count",
        (_, Unit::Ratio) => "ratio",
    };
    let better = match kpi.better() {
        Some(true) => " · higher is better",
        Some(false) => " · lower is better",
        None => "",
    };
    svg.push_str(&format!(
        "<text x=\"{x0}\" y=\"{:.1}\" class=\"head\">{} <tspan class=\"note\">({}){better}</tspan>\
         </text>\n",
        y0 + 14.0,
        escape(kpi.label()),
        escape(unit_text)
    ));
    let summaries: Vec<Option<&SummaryReport>> = report
        .specs
        .iter()
        .map(|s| s.kpis.iter().find(|k| k.kpi == kpi).map(|k| &k.summary))
        .collect();
    let rows_top = y0 + PANEL_HEAD;
    let rows_bottom = rows_top + report.specs.len().max(1) as f64 * ROW_HEIGHT;
    let (left, right) = (x0 + 178.0, x0 + PANEL_WIDTH - 70.0);
    let values = summaries
        .iter()
        .flatten()
        .flat_map(|s| [s.p5, s.p95, s.ci95_low, s.ci95_high, s.mean]);
    let Some((lo, hi)) = range(values) else {
        rect_outline(svg, left, rows_top, right, rows_bottom);
        let mid = (rows_top + rows_bottom) / 2.0 + 4.0;
        text(svg, (left + right) / 2.0, mid, "tick mid", "no data");
        return;
    };
    let ticks = nice_ticks(lo, hi, 4);
    let (v0, v1) = (ticks[0], ticks[ticks.len() - 1]);
    let x = |v: f64| left + (v - v0) / (v1 - v0) * (right - left);
    let step = ticks[1] - ticks[0];
    for &t in &ticks {
        line(svg, x(t), rows_top, x(t), rows_bottom, "grid");
        let label = axis_label(t, step, v0.abs().max(v1.abs()), unit);
        text(svg, x(t), rows_bottom + 14.0, "tick mid", &label);
    }
    if v0 > 0.0 || v1 < 0.0 {
        text(
            svg,
            left,
            rows_bottom + 28.0,
            "note",
            "axis does not start at zero",
        );
    }
    let baseline_mean = report
        .specs
        .iter()
        .zip(&summaries)
        .find(|(s, _)| s.baseline)
        .and_then(|(_, s)| finite(s.and_then(|s| s.mean)));
    if let Some(b) = baseline_mean {
        svg.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#777\" \
             stroke-width=\"1\" stroke-dasharray=\"3 3\"/>\n",
            x(b),
            rows_top,
            rows_bottom
        ));
    }
    for (i, (spec, summary)) in report.specs.iter().zip(&summaries).enumerate() {
        let cy = rows_top + ROW_HEIGHT * (i as f64 + 0.5);
        spec_name(svg, spec, i, x0, cy, 22);
        let colour = colour(i);
        let pair = |a, b| finite(a).zip(finite(b));
        if let Some((a, b)) = summary.and_then(|s| pair(s.p5, s.p95)) {
            line_coloured(svg, x(a), cy, x(b), cy, colour, SPREAD_BAR);
        }
        if let Some((a, b)) = summary.and_then(|s| pair(s.ci95_low, s.ci95_high)) {
            line_coloured(svg, x(a), cy, x(b), cy, colour, INTERVAL_BAR);
        }
        let value_x = x0 + PANEL_WIDTH;
        match summary.and_then(|s| finite(s.mean)) {
            Some(mean) => {
                circle(svg, x(mean), cy, 4.0, colour);
                text(
                    svg,
                    value_x,
                    cy + 4.0,
                    "value end",
                    &value_label(mean, unit),
                );
            }
            None => text(svg, value_x, cy + 4.0, "tick end", "no data"),
        }
    }
}
