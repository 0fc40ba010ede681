//! A comparison chart of a run, as a standalone SVG document a channel manager can read without
//! knowing how it was computed.
//!
//! [`comparison_svg`] draws, from a [`RunReport`]: a fan chart of monthly sell-through per spec
//! (median line and 5th–95th percentile band), and one small panel per headline KPI showing,
//! per spec, the spread over replications, the mean and the 95 % interval of the mean.
//!
//! The SVG is written by hand as text: no dependency, no clock, no randomness, so the same
//! report always gives byte-identical output. Every piece of text from the report or the
//! caller is escaped, and a missing figure (`None`) leaves its mark out instead of failing.

use crate::engine::{RunReport, SpecReport};
use crate::model::{Kpi, Unit};
use crate::stats::SummaryReport;

/// The KPIs that get a panel, in reading order (two per row).
const HEADLINE: [Kpi; 6] = [
    Kpi::SellThrough,
    Kpi::MarginAfterIncentives,
    Kpi::RepsAtGoal,
    Kpi::PartnersActiveAtEnd,
    Kpi::RepAttrition,
    Kpi::PeriodEndSpike,
];

/// Okabe–Ito colours, safe for the common kinds of colour blindness; yellow last because it
/// is hard to see on white.
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

const WIDTH: f64 = 960.0;
/// Fan chart plot area.
const FAN_LEFT: f64 = 80.0;
const FAN_RIGHT: f64 = 715.0;
const FAN_TOP: f64 = 110.0;
const FAN_BOTTOM: f64 = 370.0;
/// KPI panels: two columns of this width, rows of spec lines.
const PANELS_TOP: f64 = 462.0;
const PANEL_WIDTH: f64 = 425.0;
const PANEL_COLUMNS: [f64; 2] = [40.0, 495.0];
const PANEL_HEAD: f64 = 26.0;
const ROW_HEIGHT: f64 = 22.0;
const PANEL_AXIS: f64 = 24.0;
const PANEL_GAP: f64 = 20.0;

pub(crate) const STYLE: &str = "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;fill:#222}\
.title{font-size:20px;font-weight:bold}.sub{font-size:13px;fill:#555}\
.head{font-size:14px;font-weight:bold}.note{font-size:11px;fill:#555;font-weight:normal}\
.tick{font-size:11px;fill:#555}.name{font-size:12px}.value{font-size:12px;font-weight:bold}\
.end{text-anchor:end}.mid{text-anchor:middle}.grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#999;stroke-width:1}";

/// Draws `report` as a standalone SVG document, 960 pixels wide.
///
/// `title` heads the chart and `currency` (e.g. `EUR`) labels money. Specs keep the report's
/// order and get one colour each; the baseline is marked in the legend and shown as a dashed
/// line in the KPI panels.
pub fn comparison_svg(report: &RunReport, title: &str, currency: &str) -> String {
    let rows = report.specs.len().max(1) as f64;
    let panel_height = PANEL_HEAD + rows * ROW_HEIGHT + PANEL_AXIS;
    let panel_rows = HEADLINE.len().div_ceil(PANEL_COLUMNS.len()) as f64;
    let footnote_top = PANELS_TOP + panel_rows * (panel_height + PANEL_GAP) + 6.0;
    let height = footnote_top + 52.0;
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n\
         <style>{STYLE}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    text(&mut svg, 40.0, 36.0, "title", title);
    text(&mut svg, 40.0, 58.0, "sub", &subtitle(report));
    fan_chart(&mut svg, report, currency);
    svg.push_str(&format!(
        "<text x=\"40\" y=\"{}\" class=\"head\">Headline KPIs <tspan class=\"note\">\
         (dot: mean · thick bar: 95% interval of the mean · thin bar: 5th–95th percentile · \
         dashed line: baseline mean)</tspan></text>\n",
        PANELS_TOP - 14.0
    ));
    for (i, kpi) in HEADLINE.iter().enumerate() {
        let x = PANEL_COLUMNS[i % PANEL_COLUMNS.len()];
        let y = PANELS_TOP + (i / PANEL_COLUMNS.len()) as f64 * (panel_height + PANEL_GAP);
        kpi_panel(&mut svg, report, *kpi, currency, x, y);
    }
    let notes = [
        "Thin bars: 5th–95th percentile of replications (9 in 10 simulated outcomes fall inside).",
        "Thick bars: 95% interval of the mean (where the average over many more runs would lie).",
        "Every replication runs each spec on the same simulated channel with the same luck, so \
         differences between specs are paired comparisons.",
    ];
    for (i, note) in notes.iter().enumerate() {
        text(&mut svg, 40.0, footnote_top + 14.0 * i as f64, "note", note);
    }
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

/// The monthly sell-through fan chart with its axes and legend.
fn fan_chart(svg: &mut String, report: &RunReport, currency: &str) {
    svg.push_str(&format!(
        "<text x=\"40\" y=\"88\" class=\"head\">Monthly sell-through ({}) <tspan class=\"note\">\
         line: median · band: 5th–95th percentile of replications</tspan></text>\n",
        escape(currency)
    ));
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
    let Some((lo, hi)) = range(values) else {
        rect_outline(svg, FAN_LEFT, FAN_TOP, FAN_RIGHT, FAN_BOTTOM);
        let mid = (FAN_TOP + FAN_BOTTOM) / 2.0;
        text(
            svg,
            (FAN_LEFT + FAN_RIGHT) / 2.0,
            mid,
            "sub mid",
            "No monthly data",
        );
        return;
    };
    let ticks = nice_ticks(lo, hi, 5);
    let (y0, y1) = (ticks[0], ticks[ticks.len() - 1]);
    let y = |v: f64| FAN_BOTTOM - (v - y0) / (y1 - y0) * (FAN_BOTTOM - FAN_TOP);
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
    line(svg, FAN_LEFT, FAN_BOTTOM, FAN_RIGHT, FAN_BOTTOM, "axis");
    let month_step = [1, 3, 6, 12, 24, 60, 120, 240]
        .into_iter()
        .find(|s| months / s <= 8)
        .unwrap_or(months.max(1));
    for m in (1..=months).filter(|m| *m == 1 || m % month_step == 0) {
        line(
            svg,
            x(m - 1),
            FAN_BOTTOM,
            x(m - 1),
            FAN_BOTTOM + 5.0,
            "axis",
        );
        text(svg, x(m - 1), FAN_BOTTOM + 18.0, "tick mid", &m.to_string());
    }
    let centre = (FAN_LEFT + FAN_RIGHT) / 2.0;
    text(svg, centre, FAN_BOTTOM + 36.0, "tick mid", "Month");
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
    for (i, spec) in report.specs.iter().enumerate() {
        let top = FAN_TOP + 6.0 + 24.0 * i as f64;
        let colour = colour(i);
        svg.push_str(&format!(
            "<rect x=\"735\" y=\"{:.1}\" width=\"26\" height=\"14\" fill=\"{colour}\" \
             fill-opacity=\"0.15\"/>\n",
            top - 10.0
        ));
        line_coloured(svg, 735.0, top - 3.0, 761.0, top - 3.0, colour, 2.0);
        let suffix = if spec.baseline { " (baseline)" } else { "" };
        let shown = format!("{}{suffix}", shorten(&spec.name, 27 - suffix.len()));
        named_text(svg, 768.0, top + 1.0, "name", &shown, &spec.name);
    }
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
        spec_name(svg, spec, i, x0, cy);
        let colour = colour(i);
        let pair = |a, b| finite(a).zip(finite(b));
        if let Some((a, b)) = summary.and_then(|s| pair(s.p5, s.p95)) {
            line_coloured(svg, x(a), cy, x(b), cy, colour, 2.0);
        }
        if let Some((a, b)) = summary.and_then(|s| pair(s.ci95_low, s.ci95_high)) {
            line_coloured(svg, x(a), cy, x(b), cy, colour, 7.0);
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

/// A spec's colour swatch and (possibly shortened) name at the start of a panel row.
fn spec_name(svg: &mut String, spec: &SpecReport, index: usize, x0: f64, cy: f64) {
    svg.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n",
        cy - 5.0,
        colour(index)
    ));
    let shown = shorten(&spec.name, 22);
    named_text(svg, x0 + 16.0, cy + 4.0, "name", &shown, &spec.name);
}

pub(crate) fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// The value, if it is a finite number.
fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// The smallest and largest finite values, if there are any.
fn range(values: impl Iterator<Item = Option<f64>>) -> Option<(f64, f64)> {
    values.filter_map(finite).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
    })
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

/// Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering `lo..=hi`, about
/// `target` intervals; always at least two ticks.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (lo, hi) = if hi - lo > hi.abs().max(lo.abs()) * 1e-9 {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor();
    let count = ((hi / step).ceil() - first).max(1.0) as usize;
    (0..=count.min(100))
        .map(|i| {
            let t = (first + i as f64) * step;
            if t.abs() < step * 1e-9 { 0.0 } else { t }
        })
        .collect()
}

/// The fewest decimals (up to 3) that show multiples of `step` exactly.
pub(crate) fn decimals_for(step: f64) -> usize {
    (0..3)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(3)
}

/// `value` rounded to `decimals`, without a "-0".
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

/// The divisor and suffix for compact money: 1.2M, 350k.
fn money_scale(magnitude: f64) -> (f64, &'static str) {
    match magnitude {
        m if m >= 1e9 => (1e9, "B"),
        m if m >= 1e6 => (1e6, "M"),
        m if m >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    }
}

/// A tick label: the same scale and number of decimals on every tick of an axis.
pub(crate) fn axis_label(value: f64, step: f64, magnitude: f64, unit: Unit) -> String {
    match unit {
        Unit::Money => {
            let (scale, suffix) = money_scale(magnitude);
            format!(
                "{}{suffix}",
                fixed(value / scale, decimals_for(step / scale))
            )
        }
        Unit::Share => format!("{}%", fixed(value * 100.0, decimals_for(step * 100.0))),
        Unit::Count | Unit::Ratio => fixed(value, decimals_for(step)),
    }
}

/// A value label: money compact with three significant digits, shares as percentages, counts
/// as whole numbers (one decimal below ten, where rounding would hide differences) and ratios
/// with two decimals.
pub(crate) fn value_label(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Money => {
            let (scale, suffix) = money_scale(value.abs());
            let scaled = value / scale;
            let decimals = match scaled.abs() {
                _ if scale == 1.0 => 0,
                a if a >= 99.95 => 0,
                a if a >= 9.995 => 1,
                _ => 2,
            };
            format!("{}{suffix}", fixed(scaled, decimals))
        }
        Unit::Share => format!("{}%", fixed(value * 100.0, 1)),
        Unit::Count if value.abs() < 9.95 => fixed(value, 1),
        Unit::Count => fixed(value, 0),
        Unit::Ratio => fixed(value, 2),
    }
}

/// At most `max` characters of `name`, with an ellipsis when shortened.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Text safe for XML character data and attribute values; characters XML 1.0 forbids become
/// U+FFFD.
pub(crate) fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn point(x: f64, y: f64) -> String {
    format!("{x:.1},{y:.1}")
}

/// Text in the given CSS classes (`end` and `mid` anchor it at its end or middle).
pub(crate) fn text(svg: &mut String, x: f64, y: f64, class: &str, content: &str) {
    svg.push_str(&format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" class=\"{class}\">{}</text>\n",
        escape(content)
    ));
}

/// Text with the full name as a tooltip, for labels that may be shortened.
fn named_text(svg: &mut String, x: f64, y: f64, class: &str, shown: &str, full: &str) {
    svg.push_str(&format!(
        "<g><title>{}</title><text x=\"{x:.1}\" y=\"{y:.1}\" class=\"{class}\">{}</text></g>\n",
        escape(full),
        escape(shown)
    ));
}

pub(crate) fn line(svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
    svg.push_str(&format!(
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" class=\"{class}\"/>\n"
    ));
}

pub(crate) fn line_coloured(
    svg: &mut String,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    colour: &str,
    w: f64,
) {
    svg.push_str(&format!(
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\" \
         stroke-width=\"{w}\"/>\n"
    ));
}

pub(crate) fn circle(svg: &mut String, cx: f64, cy: f64, r: f64, colour: &str) {
    svg.push_str(&format!(
        "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r}\" fill=\"{colour}\" stroke=\"#ffffff\" \
         stroke-width=\"1.5\"/>\n"
    ));
}

fn rect_outline(svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
    svg.push_str(&format!(
        "<rect x=\"{x1:.1}\" y=\"{y1:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" \
         class=\"grid\"/>\n",
        x2 - x1,
        y2 - y1
    ));
}

#[cfg(test)]
mod tests;
