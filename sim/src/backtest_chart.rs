//! A backtest as a standalone SVG document: what the calibrated model forecast for the
//! held-out months, beside what the records show.
//!
//! [`svg`] draws, for the whole channel, the recorded sell-through of the twelve months up to
//! the cut ([`Backtest::history`]) as a line, the forecast of the held-out months as a fan
//! (5th–95th and 25th–75th percentile bands and the mean line), and each held-out month's
//! recorded sell-through as a point, so a reader sees at a glance whether the actuals fall
//! inside the bands. Like [`crate::chart`], the SVG is written by hand as text: the same
//! backtest always gives byte-identical output, and every piece of text is escaped.

use crate::backtest::{Backtest, ForecastRow};
use crate::chart::{STYLE, axis_label, circle, colour, escape, line, nice_ticks, text};
use crate::model::Unit;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 500.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 900.0;
const TOP: f64 = 120.0;
const BOTTOM: f64 = 390.0;
/// Recorded history and actuals.
const RECORDED: &str = "#222222";

/// Draws `backtest` as a standalone SVG document, 960 pixels wide; `currency` (e.g. `EUR`)
/// labels money.
pub fn svg(backtest: &Backtest, currency: &str) -> String {
    let rows: Vec<&ForecastRow> = backtest
        .rows
        .iter()
        .filter(|r| r.region.is_none())
        .collect();
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\">\n\
         <style>{STYLE}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    text(
        &mut svg,
        40.0,
        36.0,
        "title",
        "Backtest: the forecast of held-out months against the records",
    );
    let plural = if rows.len() == 1 { "" } else { "s" };
    text(
        &mut svg,
        40.0,
        58.0,
        "sub",
        &format!(
            "Calibrated on the records to {}; {} held-out month{plural} to {}; {} replications",
            backtest.cut,
            rows.len(),
            backtest.last,
            backtest.replications
        ),
    );
    svg.push_str(&format!(
        "<text x=\"40\" y=\"88\" class=\"head\">Monthly channel sell-through ({})</text>\n",
        escape(currency)
    ));
    legend(&mut svg);

    // One slot per month, from the first recorded month shown to the last held out.
    let months: Vec<String> = backtest
        .history
        .iter()
        .map(|(m, _)| m.to_string())
        .chain(rows.iter().map(|r| r.month.to_string()))
        .collect();
    let held_from = backtest.history.len();
    let values = backtest
        .history
        .iter()
        .map(|(_, v)| *v)
        .chain(rows.iter().flat_map(|r| [r.p5, r.p95, r.mean, r.actual]))
        .filter(|v| v.is_finite());
    let Some((lo, hi)) = values.fold(None, |acc: Option<(f64, f64)>, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    }) else {
        text(
            &mut svg,
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0,
            "sub mid",
            "No months to show",
        );
        svg.push_str("</svg>\n");
        return svg;
    };
    let ticks = nice_ticks(lo, hi, 5);
    let (y0, y1) = (ticks[0], ticks[ticks.len() - 1]);
    let y = |v: f64| BOTTOM - (v - y0) / (y1 - y0) * (BOTTOM - TOP);
    let slot = (RIGHT - LEFT) / months.len() as f64;
    let x = |i: usize| LEFT + slot * (i as f64 + 0.5);
    let step = ticks[1] - ticks[0];
    for &t in &ticks {
        line(&mut svg, LEFT, y(t), RIGHT, y(t), "grid");
        let label = axis_label(t, step, y0.abs().max(y1.abs()), Unit::Money);
        text(&mut svg, LEFT - 8.0, y(t) + 4.0, "tick end", &label);
    }
    line(&mut svg, LEFT, BOTTOM, RIGHT, BOTTOM, "axis");
    let rotate = months.len() > 14;
    for (i, month) in months.iter().enumerate() {
        line(&mut svg, x(i), BOTTOM, x(i), BOTTOM + 5.0, "axis");
        if rotate {
            svg.push_str(&format!(
                "<text x=\"{0:.1}\" y=\"{1:.1}\" class=\"tick end\" \
                 transform=\"rotate(-40 {0:.1} {1:.1})\">{2}</text>\n",
                x(i) + 4.0,
                BOTTOM + 16.0,
                escape(month)
            ));
        } else {
            text(&mut svg, x(i), BOTTOM + 18.0, "tick mid", month);
        }
    }
    // The cut: calibrated on what lies to its left.
    let cut_x = LEFT + slot * held_from as f64;
    if held_from > 0 {
        svg.push_str(&format!(
            "<line x1=\"{cut_x:.1}\" y1=\"{TOP:.1}\" x2=\"{cut_x:.1}\" y2=\"{BOTTOM:.1}\" \
             stroke=\"#777\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n"
        ));
        text(
            &mut svg,
            cut_x - 6.0,
            TOP + 12.0,
            "tick end",
            &format!("calibrated to {}", backtest.cut),
        );
    }

    let fan = colour(0);
    let at = |t: usize| x(held_from + t);
    band(&mut svg, &rows, &at, &y, slot, |r| (r.p5, r.p95), fan, 0.15);
    band(&mut svg, &rows, &at, &y, slot, |r| (r.p25, r.p75), fan, 0.3);
    let mean: Vec<(f64, f64)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.mean.is_finite())
        .map(|(t, r)| (at(t), y(r.mean)))
        .collect();
    polyline(&mut svg, &mean, fan, slot);
    let history: Vec<(f64, f64)> = backtest
        .history
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| v.is_finite())
        .map(|(i, (_, v))| (x(i), y(*v)))
        .collect();
    polyline(&mut svg, &history, RECORDED, slot);
    for (t, r) in rows.iter().enumerate() {
        if r.actual.is_finite() {
            circle(&mut svg, at(t), y(r.actual), 4.0, RECORDED);
        }
    }

    if let Some(s) = backtest.summary.iter().find(|s| s.scope == "channel") {
        let inside = rows
            .iter()
            .filter(|r| r.actual > 0.0 && r.in_p5_p95)
            .count();
        text(
            &mut svg,
            40.0,
            HEIGHT - 28.0,
            "sub",
            &format!(
                "Channel: mean bias {:+.1}%, mean absolute error {:.1}%, {inside} of {} held-out months inside P5–P95;",
                100.0 * s.mean_bias,
                100.0 * s.mape,
                s.rows,
            ),
        );
        text(
            &mut svg,
            40.0,
            HEIGHT - 10.0,
            "sub",
            &format!(
                "parameter uncertainty is {:.0}% of the P5–P95 width, the rest is luck.",
                100.0 * s.parameter_share_of_band
            ),
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The key, above the plot: swatches and lines, no circles (those are the actuals).
fn legend(svg: &mut String) {
    let entries: [(&str, &str); 5] = [
        ("band15", "forecast P5–P95"),
        ("band30", "forecast P25–P75"),
        ("mean", "forecast mean"),
        ("history", "recorded"),
        ("actual", "recorded, held out"),
    ];
    let fan = colour(0);
    // Each entry as wide as its label (by the charts' text-width estimate) plus its swatch.
    let mut x0 = LEFT;
    for (kind, label) in entries.iter() {
        let y0 = 106.0;
        match *kind {
            "band15" | "band30" => svg.push_str(&format!(
                "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"16\" height=\"10\" fill=\"{fan}\" \
                 fill-opacity=\"{}\"/>\n",
                y0 - 9.0,
                if *kind == "band15" { "0.15" } else { "0.3" }
            )),
            "actual" => svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" rx=\"4\" \
                 fill=\"{RECORDED}\"/>\n",
                x0 + 4.0,
                y0 - 8.0
            )),
            _ => {
                let stroke = if *kind == "mean" { fan } else { RECORDED };
                svg.push_str(&format!(
                    "<line x1=\"{x0:.1}\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\" \
                     stroke=\"{stroke}\" stroke-width=\"2\"/>\n",
                    y0 - 4.0,
                    x0 + 16.0
                ));
            }
        }
        text(svg, x0 + 20.0, y0, "tick", label);
        x0 += 30.0 + crate::chart::text_width(label.chars().count(), 11.0, false);
    }
}

/// A band between two percentiles over the held-out months: a polygon, or one bar per
/// month when there is a single month.
#[allow(clippy::too_many_arguments)] // the plot's two scales and the band's look
fn band(
    svg: &mut String,
    rows: &[&ForecastRow],
    at: &dyn Fn(usize) -> f64,
    y: &dyn Fn(f64) -> f64,
    slot: f64,
    pick: fn(&ForecastRow) -> (f64, f64),
    fill: &str,
    opacity: f64,
) {
    let ends: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .map(|(t, r)| (t, pick(r).0, pick(r).1))
        .filter(|(_, lo, hi)| lo.is_finite() && hi.is_finite())
        .collect();
    if ends.len() == 1 {
        let (t, lo, hi) = ends[0];
        let w = (slot * 0.5).min(24.0);
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{fill}\" \
             fill-opacity=\"{opacity}\"/>\n",
            at(t) - w / 2.0,
            y(hi),
            y(lo) - y(hi)
        ));
        return;
    }
    if ends.is_empty() {
        return;
    }
    let upper = ends
        .iter()
        .map(|(t, _, hi)| format!("{:.1},{:.1}", at(*t), y(*hi)));
    let lower = ends
        .iter()
        .rev()
        .map(|(t, lo, _)| format!("{:.1},{:.1}", at(*t), y(*lo)));
    let points: Vec<String> = upper.chain(lower).collect();
    svg.push_str(&format!(
        "<polygon points=\"{}\" fill=\"{fill}\" fill-opacity=\"{opacity}\"/>\n",
        points.join(" ")
    ));
}

/// A line through `points`, or a short dash for a single point.
fn polyline(svg: &mut String, points: &[(f64, f64)], stroke: &str, slot: f64) {
    match points {
        [] => {}
        [(x, y)] => {
            let half = (slot * 0.3).min(12.0);
            svg.push_str(&format!(
                "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{stroke}\" \
                 stroke-width=\"2\"/>\n",
                x - half,
                x + half
            ));
        }
        _ => {
            let p: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            svg.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"2\" \
                 stroke-linejoin=\"round\"/>\n",
                p.join(" ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::{ProfileCheck, Summary};
    use crate::calibrate::FitReport;
    use chanlab_shared::Month;

    fn month(text: &str) -> Month {
        text.parse().unwrap()
    }

    fn row(m: &str, region: Option<&str>, actual: f64) -> ForecastRow {
        ForecastRow {
            month: month(m),
            region: region.map(str::to_owned),
            actual,
            mean: 100.0,
            p5: 70.0,
            p25: 90.0,
            p50: 100.0,
            p75: 110.0,
            p95: 130.0,
            bias: (100.0 - actual) / actual,
            ape: ((100.0 - actual) / actual).abs(),
            in_p5_p95: (70.0..=130.0).contains(&actual),
            in_p25_p75: (90.0..=110.0).contains(&actual),
            width_at_estimates: 0.8,
        }
    }

    fn backtest() -> Backtest {
        Backtest {
            cut: month("2027-12"),
            last: month("2028-03"),
            replications: 50,
            rows: vec![
                row("2028-01", None, 95.0),
                row("2028-01", Some("North <&> South"), 40.0),
                row("2028-02", None, 140.0),
                row("2028-02", Some("North <&> South"), 60.0),
                row("2028-03", None, 105.0),
                row("2028-03", Some("North <&> South"), 50.0),
            ],
            summary: vec![Summary {
                scope: "channel".to_owned(),
                rows: 3,
                mean_bias: 0.02,
                mape: 0.1,
                coverage_p5_p95: 2.0 / 3.0,
                coverage_p25_p75: 1.0 / 3.0,
                parameter_share_of_band: 0.2,
            }],
            history: (1..=12)
                .map(|m| (month(&format!("2027-{m:02}")), 80.0 + f64::from(m)))
                .collect(),
            profile: ProfileCheck {
                recorded: None,
                simulated: None,
            },
            fit: FitReport {
                first_month: month("2026-12"),
                as_of: month("2027-12"),
                months: 13,
                simulations: 8,
                parameters: Vec::new(),
                moments: Vec::new(),
                level: (100.0, 5.0),
                potential_scale: Vec::new(),
                profile: None,
                notes: Vec::new(),
            },
        }
    }

    #[test]
    fn the_chart_is_an_svg_with_one_point_per_held_out_month_and_the_month_labels() {
        let svg = svg(&backtest(), "EUR");
        crate::chart::check::assert_text_fits(&svg);
        crate::chart::check::assert_renders(&svg);

        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 3, "one per channel actual");
        for m in ["2027-01", "2027-12", "2028-01", "2028-02", "2028-03"] {
            assert!(svg.contains(&format!(">{m}</text>")), "label {m}");
        }
        assert_eq!(svg.matches("<polygon").count(), 2, "two bands");
        assert!(svg.contains("(EUR)"));
        assert!(
            svg.contains("2 of 3 held-out months inside P5–P95"),
            "{svg}"
        );
        // Region names stay out of the channel's chart; nothing unescaped gets in.
        assert!(!svg.contains("North <&>"));
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    }

    #[test]
    fn the_same_backtest_gives_the_same_bytes_and_text_is_escaped() {
        let a = svg(&backtest(), "E<R");
        assert_eq!(a, svg(&backtest(), "E<R"));
        assert!(a.contains("(E&lt;R)"));
        assert!(!a.contains("E<R"));
    }

    #[test]
    fn one_held_out_month_and_no_history_still_draws() {
        let mut b = backtest();
        b.rows.truncate(1);
        b.history.clear();
        let svg = svg(&b, "EUR");
        crate::chart::check::assert_text_fits(&svg);
        crate::chart::check::assert_renders(&svg);
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains(">2028-01</text>"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
