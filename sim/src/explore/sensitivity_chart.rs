//! The tornado chart of a sensitivity study: for one KPI, per compared spec, the parameters
//! that move its difference from the baseline most, as a standalone SVG.
//!
//! Written by hand like [`crate::chart`], in its style: no clock, no randomness, every text
//! escaped, so the same report always gives byte-identical output.

use crate::chart::{STYLE, axis_label, colour, escape, line, line_coloured, nice_ticks, text};
use crate::explore::sensitivity::{ComparisonSensitivity, SensitivityReport};
use crate::model::Kpi;

const WIDTH: f64 = 960.0;
const LABEL_RIGHT: f64 = 290.0;
const PLOT_LEFT: f64 = 300.0;
const PLOT_RIGHT: f64 = 860.0;
const ROW: f64 = 20.0;
const HEAD: f64 = 44.0;
const AXIS: f64 = 26.0;
const GAP: f64 = 18.0;
/// Parameters shown per spec: the rest have smaller μ*.
pub const TORNADO_ROWS: usize = 12;

/// Draws the tornado chart of `kpi` from `report`: one panel per compared spec, a bar per
/// parameter of length μ* pointing the way μ (the mean effect) points, a whisker of ± σ at
/// its end, and the noise floor as a grey band around zero. `title` heads the chart and
/// `currency` labels money.
pub fn tornado_svg(report: &SensitivityReport, kpi: Kpi, title: &str, currency: &str) -> String {
    let panels: Vec<&ComparisonSensitivity> =
        report.comparisons.iter().filter(|c| c.kpi == kpi).collect();
    let rows = |c: &ComparisonSensitivity| c.effects.len().min(TORNADO_ROWS) as f64;
    let body: f64 = panels
        .iter()
        .map(|c| HEAD + rows(c) * ROW + AXIS + GAP)
        .sum();
    let titles = crate::chart::wrap(title, WIDTH - 80.0, 20.0, true);
    let unit = match kpi.unit() {
        crate::model::Unit::Money => currency.to_owned(),
        crate::model::Unit::Share => "percentage points".to_owned(),
        _ => "count".to_owned(),
    };
    let sub = format!(
        "Sensitivity of the difference from {} in {} ({unit}) · {} plausible parameter sets, \
         {} replications each",
        panels
            .first()
            .map_or("the baseline", |c| c.baseline.as_str()),
        kpi.label().to_lowercase(),
        report.points,
        report.replications_per_point
    );
    let subs = crate::chart::wrap(&sub, WIDTH - 80.0, 13.0, false);
    let head = 90.0 + 24.0 * (titles.len() - 1) as f64 + 17.0 * (subs.len() - 1) as f64;
    let height = head + body + 60.0;
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n\
         <style>{STYLE}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    for (i, line) in titles.iter().enumerate() {
        text(&mut svg, 40.0, 36.0 + 24.0 * i as f64, "title", line);
    }
    let sub_top = 58.0 + 24.0 * (titles.len() - 1) as f64;
    for (i, line) in subs.iter().enumerate() {
        text(&mut svg, 40.0, sub_top + 17.0 * i as f64, "sub", line);
    }
    let mut y = head;
    for (i, c) in panels.iter().enumerate() {
        y = panel(&mut svg, c, i + 1, y) + GAP;
    }
    let notes = [
        "Bar: μ*, the mean absolute change of the difference when the parameter moves across its \
         whole plausible range",
        "(Morris elementary effects), pointing the way the mean change μ goes. Whisker: ± σ of \
         the changes (interactions, non-linearity).",
        "Grey band: the Monte Carlo noise floor; a bar inside it cannot be told from zero.",
    ];
    for (i, note) in notes.iter().enumerate() {
        text(&mut svg, 40.0, y + 14.0 * i as f64, "note", note);
    }
    svg.push_str("</svg>\n");
    svg
}

fn sentence(c: &ComparisonSensitivity) -> String {
    match &c.robustness {
        Some(r) => r.sentence.clone(),
        None => format!("{} − {}", c.spec, c.baseline),
    }
}

/// The panel's title and its wrapped sentence.
fn head_height(c: &ComparisonSensitivity) -> f64 {
    HEAD + 14.0 * (wrap(&sentence(c)).len().max(1) - 1) as f64
}

/// `text` broken into lines of notes that fit the chart's width.
fn wrap(text: &str) -> Vec<String> {
    crate::chart::wrap(text, WIDTH - 80.0, 11.0, false)
}

/// One spec's panel from `top`; returns its bottom.
fn panel(svg: &mut String, c: &ComparisonSensitivity, index: usize, top: f64) -> f64 {
    let head = sentence(c);
    svg.push_str(&format!(
        "<text x=\"40\" y=\"{:.1}\" class=\"head\">{} − {}</text>\n",
        top + 14.0,
        escape(&c.spec),
        escape(&c.baseline)
    ));
    for (i, part) in wrap(&head).iter().enumerate() {
        text(svg, 40.0, top + 32.0 + 14.0 * i as f64, "note", part);
    }
    let effects: Vec<_> = c.effects.iter().take(TORNADO_ROWS).collect();
    let rows_top = top + head_height(c);
    let rows_bottom = rows_top + effects.len() as f64 * ROW;
    let reach = effects
        .iter()
        .map(|e| (e.mu_star + e.sigma.unwrap_or(0.0)).max(e.noise_floor.unwrap_or(0.0)))
        .fold(0.0_f64, f64::max);
    if effects.is_empty() || reach <= 0.0 || !reach.is_finite() {
        text(
            svg,
            PLOT_LEFT,
            rows_top + 14.0,
            "tick",
            "no parameter moves this difference",
        );
        return rows_bottom.max(rows_top + ROW) + AXIS;
    }
    let ticks = nice_ticks(-reach, reach, 6);
    let (v0, v1) = (ticks[0], ticks[ticks.len() - 1]);
    let x = |v: f64| PLOT_LEFT + (v - v0) / (v1 - v0) * (PLOT_RIGHT - PLOT_LEFT);
    let step = ticks[1] - ticks[0];
    let unit = c.kpi.unit();
    for &t in &ticks {
        line(svg, x(t), rows_top, x(t), rows_bottom, "grid");
        let label = axis_label(t, step, v0.abs().max(v1.abs()), unit);
        text(svg, x(t), rows_bottom + 14.0, "tick mid", &label);
    }
    for (row, e) in effects.iter().enumerate() {
        let cy = rows_top + ROW * (row as f64 + 0.5);
        if let Some(f) = e.noise_floor.filter(|f| *f > 0.0) {
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#dddddd\"/>\n",
                x(-f),
                cy - ROW / 2.0 + 1.0,
                x(f) - x(-f),
                ROW - 2.0
            ));
        }
        text(svg, LABEL_RIGHT, cy + 4.0, "name end", &e.parameter);
        let sign = if e.mu < 0.0 { -1.0 } else { 1.0 };
        let end = sign * e.mu_star;
        line_coloured(svg, x(0.0), cy, x(end), cy, colour(index), 12.0);
        if let Some(s) = e.sigma {
            line_coloured(
                svg,
                x(end - sign * s),
                cy,
                x(end + sign * s),
                cy,
                "#222222",
                1.0,
            );
        }
    }
    line(svg, x(0.0), rows_top, x(0.0), rows_bottom, "axis");
    rows_bottom + AXIS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::sensitivity::{ParameterEffect, Robustness};

    fn report(effects: Vec<ParameterEffect>) -> SensitivityReport {
        SensitivityReport {
            points: 40,
            replications_per_point: 8,
            trajectories_redrawn: 0,
            comparisons: vec![ComparisonSensitivity {
                spec: "A <&>".into(),
                baseline: "B".into(),
                kpi: Kpi::SellThrough,
                mean_difference: Some(1.0),
                effects,
                robustness: Some(Robustness {
                    share_better: 0.9,
                    rule: None,
                    sentence: "A beats B".into(),
                }),
            }],
            best: Vec::new(),
        }
    }

    fn effect(name: &str, mu_star: f64, mu: f64) -> ParameterEffect {
        ParameterEffect {
            parameter: name.into(),
            mu_star,
            mu,
            sigma: Some(mu_star / 4.0),
            noise_floor: Some(mu_star / 10.0),
            above_noise: Some(true),
        }
    }

    #[test]
    fn the_chart_is_deterministic_escaped_and_draws_one_bar_per_parameter() {
        let r = report(vec![
            effect("goal_value", 2e5, -1e5),
            effect("sandbagging", 1e4, 1e4),
        ]);
        let svg = tornado_svg(&r, Kpi::SellThrough, "t", "EUR");
        assert_eq!(svg, tornado_svg(&r, Kpi::SellThrough, "t", "EUR"));
        crate::chart::check::assert_text_fits(&svg);
        crate::chart::check::assert_renders(&svg);
        assert!(svg.contains("A &lt;&amp;&gt;") && !svg.contains("A <&>"));
        assert_eq!(svg.matches("stroke-width=\"12\"").count(), 2);
        assert!(svg.ends_with("</svg>\n"));
    }

    #[test]
    fn long_sentences_wrap_inside_the_chart() {
        let lines = wrap(&"word ".repeat(100));
        let fits = |l: &String| crate::chart::text_width(l.chars().count(), 11.0, false) <= 880.0;
        assert!(lines.len() > 1 && lines.iter().all(fits));
    }

    #[test]
    fn a_difference_nothing_moves_says_so_instead_of_dividing_by_zero() {
        let r = report(vec![effect("sandbagging", 0.0, 0.0)]);
        let svg = tornado_svg(&r, Kpi::SellThrough, "t", "EUR");
        assert!(svg.contains("no parameter moves this difference") && !svg.contains("NaN"));
    }
}
