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

use chanlab_shared::Month;

use crate::engine::{ComparisonReport, RunReport, SpecReport};
use crate::model::{Kpi, Unit};
use crate::scenario::ScenarioFile;
use crate::stats::SummaryReport;

/// The KPIs that get a panel, in reading order.
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

/// A character's width as a share of the font size, on the wide side of DejaVu Sans and
/// Verdana (their digits are about 0.64 em): text laid out with it fits whichever of the
/// style's fonts renders it.
pub(crate) const CHAR_EM: f64 = 0.64;
/// The same for bold text (DejaVu Sans Bold's digits are about 0.70 em).
pub(crate) const BOLD_EM: f64 = 0.70;

/// The estimated width of `chars` characters at `font_size`.
pub(crate) fn text_width(chars: usize, font_size: f64, bold: bool) -> f64 {
    chars as f64 * font_size * if bold { BOLD_EM } else { CHAR_EM }
}

const WIDTH: f64 = 960.0;
const MARGIN: f64 = 40.0;
/// Fan chart plot area, from its top.
const FAN_LEFT: f64 = 80.0;
const FAN_RIGHT: f64 = 700.0;
const FAN_HEIGHT: f64 = 260.0;
/// Legend column beside the fan chart.
const LEGEND_LEFT: f64 = 720.0;
/// Paired panels: one full-width panel per KPI, a row per spec compared.
const PAIRED_PLOT: (f64, f64) = (250.0, 620.0);
/// Distribution panels: two columns of this width, rows of spec lines.
const PANEL_WIDTH: f64 = 425.0;
const PANEL_COLUMNS: [f64; 2] = [40.0, 495.0];
const PANEL_HEAD: f64 = 26.0;
const ROW_HEIGHT: f64 = 22.0;
const PANEL_AXIS: f64 = 34.0;
const PANEL_GAP: f64 = 20.0;
/// The thick bar of a 95% interval and the thin one of a 5th–95th percentile spread.
const INTERVAL_BAR: f64 = 10.0;
const SPREAD_BAR: f64 = 2.0;

pub(crate) const STYLE: &str = "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;fill:#222}\
.title{font-size:20px;font-weight:bold}.sub{font-size:13px;fill:#555}\
.head{font-size:14px;font-weight:bold}.note{font-size:11px;fill:#555;font-weight:normal}\
.tick{font-size:11px;fill:#555}.name{font-size:12px}.value{font-size:12px;font-weight:bold}\
.end{text-anchor:end}.mid{text-anchor:middle}.grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#999;stroke-width:1}";

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
    y = paired_section(&mut body, report, y);
    y = fan_chart(&mut body, report, context, y + 10.0);
    y = distribution_section(&mut body, report, context.currency, y + 10.0);
    let notes = [
        "Paired: every replication runs each spec on the same simulated channel with the same \
         luck, so a difference is measured within a replication and its interval is narrower \
         than the spreads suggest.",
        "Thick bars: 95% interval of a mean (where the average over many more runs would lie). \
         Thin bars: 5th–95th percentile of replications (9 in 10 simulated outcomes).",
        "The first goal period is a warm-up: the simulated channel starts with no deals owed from \
         an earlier period end, so its first months are not held down by repaying a pull-in and \
         its period-end spike is larger than later ones (sim/MODEL.md §9.2).",
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
fn paired_section(svg: &mut String, report: &RunReport, top: f64) -> f64 {
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

/// "N replications · paired comparison vs <baseline>".
fn subtitle(report: &RunReport) -> String {
    let n = report.replications;
    let plural = if n == 1 { "" } else { "s" };
    match report.specs.iter().find(|s| s.baseline) {
        Some(b) => format!("{n} replication{plural} · paired comparison vs {}", b.name),
        None => format!("{n} replication{plural}"),
    }
}

/// "Jan 27": a month as the axis labels it.
pub(crate) fn month_label(month: Month) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {:02}",
        NAMES[month.month() as usize - 1],
        month.year().rem_euclid(100)
    )
}

/// The monthly sell-through fan chart with its axes and legend; returns the y below it.
fn fan_chart(svg: &mut String, report: &RunReport, context: &ChartContext<'_>, top: f64) -> f64 {
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

/// The distribution panels, two per row; returns the y below them.
fn distribution_section(svg: &mut String, report: &RunReport, currency: &str, top: f64) -> f64 {
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

/// A spec's colour swatch and name, shortened to `max` characters with the full name as a
/// tooltip (the legend shows it whole), at the start of a panel row.
fn spec_name(svg: &mut String, spec: &SpecReport, index: usize, x0: f64, cy: f64, max: usize) {
    svg.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n",
        cy - 5.0,
        colour(index)
    ));
    let shown = shorten(&spec.name, max);
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

/// `text` broken at spaces into lines that fit `width` pixels at `font_size` by the
/// [`text_width`] estimate; a word longer than a line is split. Never empty.
pub(crate) fn wrap(text: &str, width: f64, font_size: f64, bold: bool) -> Vec<String> {
    let max = ((width / text_width(1, font_size, bold)).floor() as usize).max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= max {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            let rest = word.split_off(max);
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
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
pub(crate) mod check;
#[cfg(test)]
mod tests;
