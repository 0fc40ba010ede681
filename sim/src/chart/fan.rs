//! The comparison chart's fan of monthly sell-through per spec (median line, 5th–95th
//! percentile band) on calendar months with fiscal-year marks, and its legend.

use super::draw::{circle, colour, escape, line, line_coloured, point, rect_outline, text};
use super::layout::wrap;
use super::scale::{axis_label, finite, month_label, nice_ticks, range};
use super::{ChartContext, MARGIN, WIDTH};
use crate::engine::RunReport;
use crate::model::Unit;
use crate::stats::SummaryReport;

/// Fan chart plot area, from its top.
const FAN_LEFT: f64 = 80.0;
const FAN_RIGHT: f64 = 700.0;
const FAN_HEIGHT: f64 = 260.0;
/// Legend column beside the fan chart.
const LEGEND_LEFT: f64 = 720.0;

/// The monthly sell-through fan chart with its axes and legend; returns the y below it.
pub(super) fn fan_chart(
    svg: &mut String,
    report: &RunReport,
    context: &ChartContext<'_>,
    top: f64,
) -> f64 {
    svg.push_str(&format!(
        "<text x=\"{MARGIN}\" y=\"{top:.1}\" class=\"head\">Monthly sell-through ({}) \
         <tspan class=\"note\">line: median · band: 5th–95th percentile of replications\
         </tspan></text>\n",
        escape(context.currency)
    ));
    let fan_top = top + 26.0;
    let fan_bottom = fan_top + FAN_HEIGHT;
    let below = fan_bottom + 58.0;
    let months = report
        .specs
        .iter()
        .map(|s| s.monthly_sell_through.len())
        .max()
        .unwrap_or(0);
    let values = report.specs.iter().flat_map(|s| {
        s.monthly_sell_through
            .iter()
            .flat_map(|m| [m.p5, m.p50, m.p95])
    });
    let legend_bottom = legend(svg, report, fan_top);
    let Some((lo, hi)) = range(values) else {
        rect_outline(svg, FAN_LEFT, fan_top, FAN_RIGHT, fan_bottom);
        let mid = (fan_top + fan_bottom) / 2.0;
        text(
            svg,
            (FAN_LEFT + FAN_RIGHT) / 2.0,
            mid,
            "sub mid",
            "No monthly data",
        );
        return below.max(legend_bottom);
    };
    let ticks = nice_ticks(lo, hi, 5);
    let (y0, y1) = (ticks[0], ticks[ticks.len() - 1]);
    let y = |v: f64| fan_bottom - (v - y0) / (y1 - y0) * (fan_bottom - fan_top);
    let x = |month: usize| match months {
        0 | 1 => (FAN_LEFT + FAN_RIGHT) / 2.0,
        _ => FAN_LEFT + month as f64 / (months - 1) as f64 * (FAN_RIGHT - FAN_LEFT),
    };
    let step = ticks[1] - ticks[0];
    for &t in &ticks {
        line(svg, FAN_LEFT, y(t), FAN_RIGHT, y(t), "grid");
        let label = axis_label(t, step, y0.abs().max(y1.abs()), Unit::Money);
        text(svg, FAN_LEFT - 8.0, y(t) + 4.0, "tick end", &label);
    }
    if y0 > 0.0 {
        text(
            svg,
            FAN_LEFT - 8.0,
            fan_top - 8.0,
            "note",
            "axis does not start at zero",
        );
    }
    line(svg, FAN_LEFT, fan_bottom, FAN_RIGHT, fan_bottom, "axis");
    month_axis(svg, context, months, &x, fan_top, fan_bottom);
    // Bands first, so that no band covers another spec's median line.
    for (i, spec) in report.specs.iter().enumerate() {
        let colour = colour(i);
        let band = |m: &SummaryReport| finite(m.p5).zip(finite(m.p95));
        for run in runs(&spec.monthly_sell_through, band) {
            let upper = run.iter().map(|(m, (_, high))| point(x(*m), y(*high)));
            let lower = run.iter().rev().map(|(m, (low, _))| point(x(*m), y(*low)));
            let points: Vec<String> = upper.chain(lower).collect();
            svg.push_str(&format!(
                "<polygon points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.15\"/>\n",
                points.join(" ")
            ));
        }
    }
    for (i, spec) in report.specs.iter().enumerate() {
        let colour = colour(i);
        for run in runs(&spec.monthly_sell_through, |m| finite(m.p50)) {
            if let [(m, v)] = run[..] {
                circle(svg, x(m), y(v), 3.0, colour);
                continue;
            }
            let points: Vec<String> = run.iter().map(|(m, v)| point(x(*m), y(*v))).collect();
            svg.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" \
                 stroke-linejoin=\"round\"/>\n",
                points.join(" ")
            ));
        }
    }
    below.max(legend_bottom)
}

/// Calendar-month ticks under the fan chart (every 1, 3, 6 or 12 months, on quarter and
/// year boundaries) and a dashed line where each fiscal year after the first starts.
fn month_axis(
    svg: &mut String,
    context: &ChartContext<'_>,
    months: usize,
    x: &dyn Fn(usize) -> f64,
    fan_top: f64,
    fan_bottom: f64,
) {
    let month_step = [1, 3, 6, 12, 24, 60, 120]
        .into_iter()
        .find(|s| months / s <= 10)
        .unwrap_or(120);
    let at = |m: usize| context.start.plus(m as i32);
    let aligned_at = |m: usize| {
        at(m).is_some_and(|month| {
            (month.month() as usize - 1).is_multiple_of(month_step.min(12))
                && (month_step <= 12 || month.year().rem_euclid(month_step as i32 / 12) == 0)
        })
    };
    for m in 0..months {
        let Some(month) = at(m) else { continue };
        let aligned = aligned_at(m);
        // The first month is labelled too, unless the next label is too close to it.
        let first = m == 0 && (1..month_step.div_ceil(2)).all(|k| !aligned_at(k));
        if !(aligned || first || month_step == 1) {
            continue;
        }
        line(svg, x(m), fan_bottom, x(m), fan_bottom + 5.0, "axis");
        text(
            svg,
            x(m),
            fan_bottom + 18.0,
            "tick mid",
            &month_label(month),
        );
    }
    let mut fiscal = 0;
    for m in 1..months {
        let Some(month) = at(m) else { continue };
        if context.fiscal_year_start.months_until(month).rem_euclid(12) != 0 {
            continue;
        }
        fiscal += 1;
        svg.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#888\" \
             stroke-dasharray=\"4 3\"/>\n",
            x(m),
            fan_top,
            fan_bottom
        ));
        let label = format!("FY from {}", month_label(month));
        text(
            svg,
            x(m) + 4.0,
            fan_top + 12.0 + 12.0 * f64::from(fiscal % 2),
            "note",
            &label,
        );
    }
    let centre = (FAN_LEFT + FAN_RIGHT) / 2.0;
    text(
        svg,
        centre,
        fan_bottom + 36.0,
        "tick mid",
        "Month (dashed: a new fiscal year of goal periods)",
    );
}

/// The fan chart's legend, full names wrapped to the column; returns its bottom.
fn legend(svg: &mut String, report: &RunReport, top: f64) -> f64 {
    let text_left = LEGEND_LEFT + 33.0;
    let mut y = top + 6.0;
    for (i, spec) in report.specs.iter().enumerate() {
        let colour = colour(i);
        svg.push_str(&format!(
            "<rect x=\"{LEGEND_LEFT}\" y=\"{:.1}\" width=\"26\" height=\"14\" fill=\"{colour}\" \
             fill-opacity=\"0.15\"/>\n",
            y - 10.0
        ));
        line_coloured(
            svg,
            LEGEND_LEFT,
            y - 3.0,
            LEGEND_LEFT + 26.0,
            y - 3.0,
            colour,
            2.0,
        );
        let suffix = if spec.baseline { " (baseline)" } else { "" };
        let full = format!("{}{suffix}", spec.name);
        for line in wrap(&full, WIDTH - 10.0 - text_left, 12.0, false) {
            text(svg, text_left, y + 1.0, "name", &line);
            y += 15.0;
        }
        y += 9.0;
    }
    y
}

/// Maximal runs of consecutive months for which `pick` gives a value, with month indices.
fn runs<T: Copy>(
    months: &[SummaryReport],
    pick: impl Fn(&SummaryReport) -> Option<T>,
) -> Vec<Vec<(usize, T)>> {
    let mut out: Vec<Vec<(usize, T)>> = Vec::new();
    let mut current = Vec::new();
    for (m, summary) in months.iter().enumerate() {
        match pick(summary) {
            Some(v) => current.push((m, v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
