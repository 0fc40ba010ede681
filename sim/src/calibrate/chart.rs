//! The calibration's moments as a standalone SVG: per moment, what the records show against
//! what the model gives at the default parameters and at the estimates, each row on its own
//! scale, with the chance variation of records this size drawn around the estimate's value.
//! Deterministic text, every label escaped (the style of `crate::chart`).

use super::FitReport;
use crate::chart::{STYLE, circle, escape, fixed, line, line_coloured, nice_ticks, text};

const WIDTH: f64 = 960.0;
const LABEL_RIGHT: f64 = 300.0;
const PLOT_LEFT: f64 = 330.0;
const PLOT_RIGHT: f64 = 900.0;
const TOP: f64 = 96.0;
const ROW: f64 = 44.0;
/// Okabe–Ito: records black, defaults orange, estimates blue.
const RECORDED: &str = "#000000";
const DEFAULTS: &str = "#E69F00";
const ESTIMATE: &str = "#0072B2";

/// Draws the moments of `fit` that the model was simulated for.
pub fn svg(fit: &FitReport) -> String {
    let rows: Vec<_> = fit
        .moments
        .iter()
        .filter(|m| m.simulated.is_some())
        .collect();
    let height = TOP + ROW * rows.len().max(1) as f64 + 40.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {WIDTH} {height:.0}\" font-size=\"12\">\n<style>{STYLE}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    text(
        &mut svg,
        40.0,
        36.0,
        "title",
        "Calibration: the records against the model",
    );
    text(
        &mut svg,
        40.0,
        58.0,
        "sub",
        &format!(
            "{} to {} ({} months), {} simulated histories per evaluation",
            fit.first_month, fit.as_of, fit.months, fit.simulations
        ),
    );
    // Legend.
    let legend = [
        (RECORDED, "recorded"),
        (DEFAULTS, "model at the defaults"),
        (
            ESTIMATE,
            "model at the estimates (bar: ±2 sd of records this size)",
        ),
    ];
    let mut x = 40.0;
    for (colour, label) in legend {
        circle(&mut svg, x + 5.0, 78.0, 5.0, colour);
        text(&mut svg, x + 14.0, 82.0, "note", label);
        x += 24.0 + 7.0 * label.chars().count() as f64;
    }
    if rows.is_empty() {
        text(
            &mut svg,
            WIDTH / 2.0,
            TOP + 20.0,
            "sub mid",
            "No simulated moments",
        );
    }
    for (i, m) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let fitted: Vec<&str> = fit
            .parameters
            .iter()
            .filter(|p| p.moments.contains(&m.moment))
            .map(|p| p.parameter.as_str())
            .collect();
        text(&mut svg, LABEL_RIGHT, y - 2.0, "name end", &m.moment);
        text(
            &mut svg,
            LABEL_RIGHT,
            y + 12.0,
            "note end",
            &fitted.join(", "),
        );
        let sd = m.sd.unwrap_or(0.0);
        let at = m.simulated.unwrap_or(m.recorded);
        let values = [
            Some(m.recorded),
            m.simulated_default,
            Some(at - 2.0 * sd),
            Some(at + 2.0 * sd),
        ];
        let (lo, hi) = values
            .iter()
            .flatten()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if !(lo.is_finite() && hi.is_finite()) {
            continue;
        }
        let ticks = nice_ticks(lo, hi, 4);
        let (t0, t1) = (ticks[0], ticks[ticks.len() - 1]);
        let px = |v: f64| PLOT_LEFT + (v - t0) / (t1 - t0).max(1e-12) * (PLOT_RIGHT - PLOT_LEFT);
        line(&mut svg, PLOT_LEFT, y + 8.0, PLOT_RIGHT, y + 8.0, "axis");
        let step = if ticks.len() > 1 {
            ticks[1] - ticks[0]
        } else {
            1.0
        };
        let decimals = crate::chart::decimals_for(step).max(1);
        for t in &ticks {
            line(&mut svg, px(*t), y + 8.0, px(*t), y + 11.0, "axis");
            text(&mut svg, px(*t), y + 22.0, "tick mid", &fixed(*t, decimals));
        }
        line_coloured(
            &mut svg,
            px(at - 2.0 * sd),
            y,
            px(at + 2.0 * sd),
            y,
            ESTIMATE,
            3.0,
        );
        if let Some(d) = m.simulated_default {
            circle(&mut svg, px(d), y, 5.0, DEFAULTS);
        }
        circle(&mut svg, px(at), y, 5.0, ESTIMATE);
        svg.push_str(&format!(
            "<g><title>{}: recorded {}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" \
             fill=\"{RECORDED}\" transform=\"rotate(45 {:.1} {:.1})\"/></g>\n",
            escape(&m.moment),
            fixed(m.recorded, 4),
            px(m.recorded) - 4.0,
            y - 4.0,
            px(m.recorded),
            y
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::{FitReport, MomentFit};

    fn fit(moments: Vec<MomentFit>) -> FitReport {
        FitReport {
            first_month: "2027-01".parse().unwrap(),
            as_of: "2028-12".parse().unwrap(),
            months: 24,
            simulations: 8,
            parameters: Vec::new(),
            moments,
            level: (1.0, 0.1),
            potential_scale: Vec::new(),
            profile: None,
            notes: Vec::new(),
        }
    }

    fn moment(name: &str, simulated: Option<f64>) -> MomentFit {
        MomentFit {
            moment: name.to_owned(),
            description: String::new(),
            recorded: 1.2,
            simulated_default: Some(1.4),
            simulated,
            sd: Some(0.03),
        }
    }

    #[test]
    fn one_row_per_simulated_moment_with_the_recorded_value_marked() {
        let s = svg(&fit(vec![
            moment("profile.last", Some(1.21)),
            moment("a<b", Some(0.5)),
            moment("churn", None),
        ]));
        assert!(s.starts_with("<svg"));
        assert!(s.trim_end().ends_with("</svg>"));
        crate::chart::check::assert_text_fits(&s);
        crate::chart::check::assert_renders(&s);
        assert_eq!(
            s.matches("rotate(45").count(),
            2,
            "a diamond per simulated moment"
        );
        assert!(
            s.contains("a&lt;b") && !s.contains("a<b"),
            "labels are escaped"
        );
        assert!(
            !s.contains(">churn<"),
            "a moment the model was not simulated for has no row"
        );
        assert_eq!(
            s,
            svg(&fit(vec![
                moment("profile.last", Some(1.21)),
                moment("a<b", Some(0.5)),
                moment("churn", None)
            ]))
        );
    }
}
