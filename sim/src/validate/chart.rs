//! One small SVG per validation experiment: the sweep curve, the fiscal-month profile, and
//! each check's estimate with its 95% interval against the threshold the finding sets.
//!
//! Same conventions as [`crate::chart`]: hand-written, deterministic, every text escaped.

use super::{Display, ExperimentReport, Panel};
use crate::chart::{STYLE, circle, colour, escape, line, line_coloured, nice_ticks, text};

const WIDTH: f64 = 720.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 690.0;
const PANEL_HEIGHT: f64 = 230.0;
const PLOT_TOP: f64 = 40.0;
const PLOT_BOTTOM: f64 = 185.0;
const HEADER: f64 = 76.0;

/// Draws `report` as a standalone SVG document; `currency` labels money.
pub fn experiment_svg(report: &ExperimentReport, currency: &str) -> String {
    let height = HEADER + PANEL_HEIGHT * report.panels.len().max(1) as f64;
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
        &format!("{} — {verdict}", report.title),
    );
    text(
        &mut svg,
        24.0,
        50.0,
        "sub",
        &format!("Published: {}", report.published),
    );
    text(
        &mut svg,
        24.0,
        66.0,
        "sub",
        &format!(
            "{} · {} replications per arm, seed {} · bars are 95% intervals",
            report.source, report.replications, report.seed
        ),
    );
    for (i, panel) in report.panels.iter().enumerate() {
        draw_panel(&mut svg, panel, HEADER + PANEL_HEIGHT * i as f64, currency);
    }
    svg.push_str("</svg>\n");
    svg
}

fn label(value: f64, unit: Display, currency: &str) -> String {
    match unit {
        Display::Money => format!("{} {currency}", unit.format(value)),
        Display::Percent => format!("{:.0}%", value * 100.0),
        Display::Ratio => format!("{value:.2}"),
    }
}

fn draw_panel(svg: &mut String, panel: &Panel, y0: f64, currency: &str) {
    text(svg, 24.0, y0 + 20.0, "head", &panel.title);
    let points = panel.series.iter().flat_map(|s| &s.points);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in points.clone() {
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
            &label(t, panel.unit, currency),
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
            checks: vec![],
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
        assert!(svg.contains("A &lt;test&gt; &amp; more — PASS"));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("stroke-dasharray"));
    }
}
