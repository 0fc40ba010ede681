//! One small SVG per validation experiment: its curves (the sweep, the fiscal-month profile)
//! and one row per check with the estimate, its 95% interval and the threshold the finding
//! sets, each row on its own scale.
//!
//! Same conventions as [`crate::chart`]: hand-written, deterministic, every text escaped.

use super::{CheckReport, Display, Expect, ExperimentReport, Panel};
use crate::chart::{
    STYLE, circle, colour, decimals_for, escape, fixed, line, line_coloured, nice_ticks, text,
};

const WIDTH: f64 = 900.0;
const LEFT: f64 = 100.0;
const RIGHT: f64 = 860.0;
const PANEL_HEIGHT: f64 = 230.0;
const PLOT_TOP: f64 = 40.0;
const PLOT_BOTTOM: f64 = 185.0;
const HEADER: f64 = 86.0;
const ROW: f64 = 40.0;
/// Check rows: label column, then the interval strip, then the value.
const STRIP: (f64, f64) = (420.0, 700.0);

/// Draws `report` as a standalone SVG document; `currency` labels money.
pub fn experiment_svg(report: &ExperimentReport, currency: &str) -> String {
    let rows: Vec<&CheckReport> = report
        .checks
        .iter()
        .filter(|c| c.expect != Expect::RisesThenFalls)
        .collect();
    let checks_height = if rows.is_empty() {
        0.0
    } else {
        40.0 + ROW * rows.len() as f64
    };
    let height = HEADER + PANEL_HEIGHT * report.panels.len() as f64 + checks_height + 10.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\">\n<style>{STYLE}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    let verdict = if report.passed { "PASS" } else { "FAIL" };
    text(
        &mut svg,
        24.0,
        30.0,
        "title",
        &format!("{verdict} · {}", report.title),
    );
    text(
        &mut svg,
        24.0,
        52.0,
        "sub",
        &format!("Published: {}", report.published),
    );
    text(
        &mut svg,
        24.0,
        70.0,
        "sub",
        &format!(
            "{} · {} replications per arm, seed {} · bars are 95% intervals",
            report.source, report.replications, report.seed
        ),
    );
    let mut y0 = HEADER;
    for panel in &report.panels {
        draw_panel(&mut svg, panel, y0, currency);
        y0 += PANEL_HEIGHT;
    }
    if !rows.is_empty() {
        text(&mut svg, 24.0, y0 + 24.0, "head", "Checks");
        text(
            &mut svg,
            STRIP.0,
            y0 + 24.0,
            "note",
            "each row on its own scale; dashed: what the finding needs",
        );
        for (i, check) in rows.iter().enumerate() {
            draw_check(&mut svg, check, y0 + 40.0 + ROW * i as f64, currency);
        }
    }
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

fn draw_check(svg: &mut String, check: &CheckReport, y: f64, currency: &str) {
    let mark = if check.passed { "✓" } else { "✗" };
    text(
        svg,
        24.0,
        y + 16.0,
        "name",
        &format!("{mark} {}", check.label),
    );
    let (Some(mean), Some(low), Some(high)) = (check.mean, check.ci95_low, check.ci95_high) else {
        text(svg, STRIP.0, y + 16.0, "note", "no interval");
        return;
    };
    let needs: Vec<f64> = match check.expect {
        Expect::Above(x) | Expect::Below(x) => vec![x],
        Expect::Between([a, b]) => vec![a, b],
        Expect::RisesThenFalls => Vec::new(),
    };
    let lo = needs.iter().copied().fold(low, f64::min);
    let hi = needs.iter().copied().fold(high, f64::max);
    let pad = (hi - lo).max(hi.abs() * 1e-3).max(1e-9) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| STRIP.0 + (v - lo) / (hi - lo) * (STRIP.1 - STRIP.0);
    line(svg, STRIP.0, y + 12.0, STRIP.1, y + 12.0, "grid");
    for n in needs {
        svg.push_str(&format!(
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#444\" \
             stroke-dasharray=\"4,3\"/>\n",
            x(n),
            y,
            y + 24.0
        ));
    }
    let c = colour(if check.passed { 2 } else { 1 });
    line_coloured(svg, x(low), y + 12.0, x(high), y + 12.0, c, 3.0);
    circle(svg, x(mean), y + 12.0, 4.5, c);
    let shown = match check.unit {
        Display::Money => format!("{} {currency}", check.unit.format(mean)),
        unit => unit.format(mean),
    };
    text(svg, STRIP.1 + 14.0, y + 16.0, "value", &shown);
}

fn draw_panel(svg: &mut String, panel: &Panel, y0: f64, currency: &str) {
    text(svg, 24.0, y0 + 20.0, "head", &panel.title);
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
        text(svg, LEFT, y0 + PLOT_TOP + 20.0, "note", "no finite values");
        return;
    }
    let ticks = nice_ticks(lo, hi, 4);
    let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let top = y0 + PLOT_TOP;
    let bottom = y0 + PLOT_BOTTOM;
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
