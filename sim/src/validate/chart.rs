//! One small SVG per validation experiment: its curves (the sweep, the fiscal-month profile)
//! and one row per check with the estimate, its 95% interval, the threshold the finding sets
//! and, where the source gives one, the published value or range beside it. Checks in the
//! same unit share one ticked scale, so the same value sits at the same place in every row.
//!
//! Same conventions as [`crate::chart`]: hand-written, deterministic, every text escaped,
//! long titles and labels wrapped, never cut.

use super::{CheckReport, Display, Expect, ExperimentReport, Panel, Published};
use crate::chart::{
    STYLE, circle, colour, decimals_for, escape, fixed, line, line_coloured, nice_ticks, text, wrap,
};

const WIDTH: f64 = 900.0;
const LEFT: f64 = 100.0;
const RIGHT: f64 = 860.0;
const PANEL_HEIGHT: f64 = 230.0;
const PLOT_TOP: f64 = 40.0;
const PLOT_BOTTOM: f64 = 185.0;
/// Check rows: label column, then the interval strip, then the value.
const LABEL: (f64, f64) = (24.0, 385.0);
const STRIP: (f64, f64) = (400.0, 680.0);
/// A check row's height per line of its label (at least two lines: the simulated and the
/// published mark sit one above the other).
const LINE: f64 = 16.0;
/// The mark of a published figure.
const PUBLISHED: &str = "#555555";

/// Draws `report` as a standalone SVG document; `currency` labels money.
pub fn experiment_svg(report: &ExperimentReport, currency: &str) -> String {
    let rows: Vec<&CheckReport> = report
        .checks
        .iter()
        .filter(|c| c.expect != Expect::RisesThenFalls)
        .collect();
    let mut body = String::new();
    let verdict = if report.passed { "PASS" } else { "FAIL" };
    let mut y = 30.0;
    for line in wrap(
        &format!("{verdict} · {}", report.title),
        WIDTH - 48.0,
        20.0,
        true,
    ) {
        text(&mut body, 24.0, y, "title", &line);
        y += 24.0;
    }
    y -= 2.0;
    for sub in [
        format!("Published: {}", report.published),
        format!(
            "{} · {} replications per arm, seed {} · bars are 95% intervals",
            report.source, report.replications, report.seed
        ),
    ] {
        for line in wrap(&sub, WIDTH - 48.0, 13.0, false) {
            text(&mut body, 24.0, y, "sub", &line);
            y += 18.0;
        }
    }
    y -= 2.0;
    for panel in &report.panels {
        y += draw_panel(&mut body, panel, y, currency);
    }
    if !rows.is_empty() {
        y = draw_checks(&mut body, &rows, y, currency);
    }
    let height = y + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\">\n<style>{STYLE}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    svg.push_str(&body);
    svg.push_str("</svg>\n");
    svg
}

/// A tick label with as many decimals as the tick step needs.
fn tick_label(value: f64, step: f64, unit: Display, currency: &str) -> String {
    match unit {
        Display::Money => format!("{} {currency}", unit.format(value)),
        Display::Percent => format!("{}%", fixed(value * 100.0, decimals_for(step * 100.0))),
        Display::Ratio | Display::Count => fixed(value, decimals_for(step)),
    }
}

/// What a check's row must show on its scale: the interval, the thresholds and the
/// published figure.
fn extent(check: &CheckReport) -> Vec<f64> {
    let mut values: Vec<f64> = [check.mean, check.ci95_low, check.ci95_high]
        .into_iter()
        .flatten()
        .collect();
    values.extend(thresholds(&check.expect));
    if let Some(p) = check.published {
        let (a, b) = p.range();
        values.extend([a, b]);
    }
    values.retain(|v| v.is_finite());
    values
}

fn thresholds(expect: &Expect) -> Vec<f64> {
    match expect {
        Expect::Above(x) | Expect::Below(x) => vec![*x],
        Expect::Between([a, b]) => vec![*a, *b],
        Expect::RisesThenFalls => Vec::new(),
    }
}

fn unit_name(unit: Display) -> &'static str {
    match unit {
        Display::Ratio => "ratios",
        Display::Percent => "percentages",
        Display::Money => "money",
        Display::Count => "counts",
    }
}

/// The check rows, grouped by unit, each group on one ticked scale; returns the y below.
fn draw_checks(svg: &mut String, rows: &[&CheckReport], top: f64, currency: &str) -> f64 {
    let mut y = top + 24.0;
    text(svg, 24.0, y, "head", "Checks");
    y += 16.0;
    text(
        svg,
        24.0,
        y,
        "note",
        "dot and bar: simulated mean and 95% interval · dashed: what the finding needs · \
         grey diamond or band: the published figure",
    );
    y += 10.0;
    let mut units: Vec<Display> = Vec::new();
    for c in rows {
        if !units.contains(&c.unit) {
            units.push(c.unit);
        }
    }
    for unit in units {
        let group: Vec<&CheckReport> = rows.iter().copied().filter(|c| c.unit == unit).collect();
        let values: Vec<f64> = group.iter().flat_map(|c| extent(c)).collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        y += 14.0;
        if units_shown(rows) > 1 {
            text(
                svg,
                LABEL.0,
                y + 4.0,
                "note",
                &format!("Scale for {}", unit_name(unit)),
            );
        }
        if !lo.is_finite() {
            for check in &group {
                y = draw_check(svg, check, y, currency, None);
            }
            continue;
        }
        let ticks = nice_ticks(lo, hi, 5);
        let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
        let step = ticks[1] - ticks[0];
        let scale = move |v: f64| STRIP.0 + (v - t0) / (t1 - t0) * (STRIP.1 - STRIP.0);
        let rows_top = y + 10.0;
        let mut row_y = rows_top;
        for check in &group {
            row_y = draw_check(svg, check, row_y, currency, Some(&scale));
        }
        for &t in &ticks {
            line(svg, scale(t), rows_top, scale(t), row_y, "grid");
            text(
                svg,
                scale(t),
                row_y + 14.0,
                "tick mid",
                &tick_label(t, step, unit, currency),
            );
        }
        line(svg, STRIP.0, row_y, STRIP.1, row_y, "axis");
        y = row_y + 24.0;
    }
    y
}

fn units_shown(rows: &[&CheckReport]) -> usize {
    let mut units: Vec<Display> = rows.iter().map(|c| c.unit).collect();
    units.sort_by_key(|u| *u as u8);
    units.dedup();
    units.len()
}

/// One check's row from `top` on `scale`; returns the row's bottom.
fn draw_check(
    svg: &mut String,
    check: &CheckReport,
    top: f64,
    currency: &str,
    scale: Option<&dyn Fn(f64) -> f64>,
) -> f64 {
    let mark = if check.passed { "✓" } else { "✗" };
    let label = wrap(
        &format!("{mark} {}", check.label),
        LABEL.1 - LABEL.0,
        12.0,
        false,
    );
    for (i, part) in label.iter().enumerate() {
        text(svg, LABEL.0, top + 14.0 + LINE * i as f64, "name", part);
    }
    let bottom = top + LINE * label.len().max(2) as f64 + 8.0;
    let simulated_y = top + 10.0;
    let published_y = top + 10.0 + LINE;
    let (Some(x), Some(mean), Some(low), Some(high)) =
        (scale, check.mean, check.ci95_low, check.ci95_high)
    else {
        text(svg, STRIP.0, top + 14.0, "note", "no interval");
        return bottom;
    };
    for n in thresholds(&check.expect) {
        svg.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#444\" \
             stroke-dasharray=\"4,3\"/>\n",
            x(n),
            top,
            bottom - 4.0
        ));
    }
    let c = colour(if check.passed { 2 } else { 1 });
    line_coloured(svg, x(low), simulated_y, x(high), simulated_y, c, 8.0);
    circle(svg, x(mean), simulated_y, 4.5, c);
    let shown = |v: f64| match check.unit {
        Display::Money => format!("{} {currency}", check.unit.format(v)),
        unit => unit.format(v),
    };
    text(
        svg,
        STRIP.1 + 12.0,
        simulated_y + 4.0,
        "value",
        &format!("simulated {}", shown(mean)),
    );
    if let Some(p) = check.published {
        let (a, b) = p.range();
        match p {
            Published::Value(_) => svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{PUBLISHED}\" \
                 transform=\"rotate(45 {:.1} {:.1})\"/>\n",
                x(a) - 4.0,
                published_y - 4.0,
                x(a),
                published_y
            )),
            Published::Between(_) => {
                line_coloured(svg, x(a), published_y, x(b), published_y, PUBLISHED, 8.0)
            }
        }
        let words = if a == b {
            shown(a)
        } else {
            format!("{} to {}", shown(a), shown(b))
        };
        text(
            svg,
            STRIP.1 + 12.0,
            published_y + 4.0,
            "tick",
            &format!("published {words}"),
        );
    }
    bottom
}

/// One curve panel from `y0`; returns its height.
fn draw_panel(svg: &mut String, panel: &Panel, y0: f64, currency: &str) -> f64 {
    // A long title wraps beside the series key, and the plot moves down under it.
    let titles = wrap(&panel.title, RIGHT - 24.0 - 170.0, 14.0, true);
    for (i, line) in titles.iter().enumerate() {
        text(svg, 24.0, y0 + 20.0 + 16.0 * i as f64, "head", line);
    }
    let extra = 16.0 * (titles.len() - 1) as f64;
    let points = panel.series.iter().flat_map(|s| &s.points);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in points {
        lo = lo.min(p.low);
        hi = hi.max(p.high);
    }
    if let Some(r) = panel.reference {
        lo = lo.min(r);
        hi = hi.max(r);
    }
    if !lo.is_finite() || !hi.is_finite() {
        text(
            svg,
            LEFT,
            y0 + PLOT_TOP + extra + 20.0,
            "note",
            "no finite values",
        );
        return PANEL_HEIGHT + extra;
    }
    let ticks = nice_ticks(lo, hi, 4);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let top = y0 + PLOT_TOP + extra;
    let bottom = y0 + PLOT_BOTTOM + extra;
    let y = |v: f64| bottom - (v - t0) / (t1 - t0).max(1e-12) * (bottom - top);
    for &t in &ticks {
        line(svg, LEFT, y(t), RIGHT, y(t), "grid");
        text(
            svg,
            LEFT - 6.0,
            y(t) + 4.0,
            "tick end",
            &tick_label(t, step, panel.unit, currency),
        );
    }
    line(svg, LEFT, bottom, RIGHT, bottom, "axis");
    if let Some(r) = panel.reference {
        svg.push_str(&format!(
            "<line x1=\"{LEFT:.1}\" y1=\"{0:.1}\" x2=\"{RIGHT:.1}\" y2=\"{0:.1}\" \
             stroke=\"#444\" stroke-dasharray=\"5,4\"/>\n",
            y(r)
        ));
    }
    let slots = panel
        .series
        .iter()
        .map(|s| s.points.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let x = |j: usize| LEFT + (RIGHT - LEFT) * (j as f64 + 0.5) / slots as f64;
    if let Some(first) = panel.series.first() {
        for (j, p) in first.points.iter().enumerate() {
            text(svg, x(j), bottom + 16.0, "tick mid", &p.x);
        }
    }
    if !panel.x_label.is_empty() {
        text(
            svg,
            0.5 * (LEFT + RIGHT),
            bottom + 34.0,
            "note mid",
            &panel.x_label,
        );
    }
    for (k, series) in panel.series.iter().enumerate() {
        let c = colour(k);
        // A slight offset keeps overlapping intervals of several series apart.
        let dx = (k as f64 - (panel.series.len() as f64 - 1.0) / 2.0) * 6.0;
        let path: Vec<String> = series
            .points
            .iter()
            .enumerate()
            .map(|(j, p)| format!("{:.1},{:.1}", x(j) + dx, y(p.mean)))
            .collect();
        if path.len() > 1 {
            svg.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>\n",
                path.join(" ")
            ));
        }
        for (j, p) in series.points.iter().enumerate() {
            line_coloured(svg, x(j) + dx, y(p.low), x(j) + dx, y(p.high), c, 2.0);
            circle(svg, x(j) + dx, y(p.mean), 4.0, c);
        }
        if panel.series.len() > 1 {
            let lx = RIGHT - 160.0;
            let ly = y0 + 20.0 + 14.0 * k as f64;
            line_coloured(svg, lx, ly - 4.0, lx + 18.0, ly - 4.0, c, 3.0);
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{ly:.1}\" class=\"name\">{}</text>\n",
                lx + 24.0,
                escape(&series.name)
            ));
        }
    }
    PANEL_HEIGHT + extra
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Point, Series};

    #[test]
    fn the_chart_escapes_text_and_draws_every_point() {
        let report = ExperimentReport {
            id: "x".into(),
            title: "A <test> & more".into(),
            finding: String::new(),
            source: "S".into(),
            published: "P".into(),
            setup: String::new(),
            replications: 10,
            seed: 1,
            passed: true,
            checks: vec![CheckReport {
                label: "x > 1".into(),
                unit: Display::Ratio,
                mean: Some(1.2),
                ci95_low: Some(1.1),
                ci95_high: Some(1.3),
                expect: Expect::Above(1.0),
                published: None,
                passed: true,
                detail: String::new(),
                non_finite: 0,
            }],
            panels: vec![Panel {
                title: "T".into(),
                x_label: "x".into(),
                unit: Display::Ratio,
                series: vec![Series {
                    name: "s".into(),
                    points: (0..3)
                        .map(|i| Point {
                            x: i.to_string(),
                            mean: 1.0 + f64::from(i),
                            low: 0.5 + f64::from(i),
                            high: 1.5 + f64::from(i),
                        })
                        .collect(),
                }],
                reference: Some(1.0),
            }],
        };
        let svg = experiment_svg(&report, "EUR");
        crate::chart::check::assert_text_fits(&svg);
        crate::chart::check::assert_renders(&svg);
        assert!(svg.contains("PASS · A &lt;test&gt; &amp; more"));
        // Three curve points and one check.
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(svg.contains("✓ x &gt; 1"));
        assert!(svg.contains("stroke-dasharray"));
    }
}

#[cfg(test)]
mod scale_tests {
    use super::*;

    fn check(label: &str, unit: Display, mean: f64, published: Option<Published>) -> CheckReport {
        CheckReport {
            label: label.into(),
            unit,
            mean: Some(mean),
            ci95_low: Some(mean - 0.01),
            ci95_high: Some(mean + 0.01),
            expect: Expect::Above(0.0),
            published,
            passed: true,
            detail: String::new(),
            non_finite: 0,
        }
    }

    fn report(checks: Vec<CheckReport>) -> ExperimentReport {
        ExperimentReport {
            id: "ratchet".into(),
            title: "Removing the ratchet raises revenue, and the long title of this experiment \
                    goes on until quarterly bonuses pace the reps through every period"
                .into(),
            finding: String::new(),
            source: "Leone, Misra & Zimmerman (2004); a source line long enough to wrap onto \
                     a second line of the chart's subtitle, with more words still"
                .into(),
            published: "+9% revenue without the ratchet".into(),
            setup: String::new(),
            replications: 10,
            seed: 1,
            passed: true,
            checks,
            panels: Vec::new(),
        }
    }

    /// The x position of the `n`th simulated dot.
    fn dots(svg: &str) -> Vec<f64> {
        svg.match_indices("<circle cx=\"")
            .map(|(i, m)| {
                let rest = &svg[i + m.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn checks_in_one_unit_share_a_ticked_scale_with_the_published_value_beside() {
        let svg = experiment_svg(
            &report(vec![
                check(
                    "Sell-through, flat vs ratchet",
                    Display::Percent,
                    0.084,
                    None,
                ),
                check(
                    "Same order as published (3%–27%)",
                    Display::Percent,
                    0.084,
                    Some(Published::Value(0.09)),
                ),
                check("A ratio on a scale of its own", Display::Ratio, 1.2, None),
            ]),
            "EUR",
        );
        crate::chart::check::assert_text_fits(&svg);
        crate::chart::check::assert_renders(&svg);
        // The same +8.4% sits at the same place in both percent rows.
        let x = dots(&svg);
        assert_eq!(x.len(), 3);
        assert!((x[0] - x[1]).abs() < 0.05, "{x:?}");
        // Ticks label each scale, and the published value is drawn and named.
        assert!(
            svg.contains(">8%<") || svg.contains(">10%<"),
            "no percent ticks"
        );
        assert!(svg.contains("published +9.0%") && svg.contains("rotate(45"));
        assert!(svg.contains("Scale for percentages") && svg.contains("Scale for ratios"));
        // The long title is wrapped, every word kept.
        for word in ["quarterly", "bonuses", "pace", "reps", "period"] {
            assert!(svg.contains(word), "title lost {word}");
        }
    }

    #[test]
    fn a_sweep_axis_is_labelled_in_words() {
        let sweep = crate::validate::Sweep {
            arm: "stretch".into(),
            path: "goal_setting.strategy.uplift".into(),
            values: vec![0.1],
        };
        assert_eq!(
            sweep.axis_label(),
            "Stretch uplift over each territory's expected level"
        );
        let other = crate::validate::Sweep {
            path: "cadences.review_every_months".into(),
            ..sweep
        };
        assert_eq!(other.axis_label(), "cadences: review every months");
    }
}

#[cfg(test)]
mod bundled_tests {
    use super::*;

    /// Every bundled experiment's chart, from a few replications: text on the canvas and a
    /// real rendering.
    #[test]
    fn every_bundled_experiments_chart_fits_and_renders() {
        let options = crate::validate::RunOptions {
            replications: Some(4),
            seed: None,
            threads: 2,
        };
        for experiment in crate::validate::bundled() {
            let report = crate::validate::run(&experiment, &options, &|| {}).expect("runs");
            let svg = experiment_svg(&report, "EUR");
            crate::chart::check::assert_text_fits(&svg);
            crate::chart::check::assert_renders(&svg);
            assert!(!svg.contains("goal_setting.strategy"), "a raw field id");
        }
    }
}
