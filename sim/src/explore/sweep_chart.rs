//! The chart of a sweep, a standalone SVG in the style of [`crate::chart`]: for one axis, a
//! line per spec of its paired difference from the baseline on one KPI with the 95%
//! interval as a band; for two axes, a heat map of one spec's paired difference over the
//! grid, each cell labelled, with a dot where the interval excludes zero.
//!
//! Written by hand as text: no clock, no randomness, so a report always gives the same bytes.

use super::sweep::{PointKpi, SweepReport};
use crate::chart::{
    STYLE, axis_label, circle, colour, escape, line, line_coloured, nice_ticks, text, value_label,
};
use crate::model::{Kpi, Unit};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 760.0;
const TOP: f64 = 100.0;
const BOTTOM: f64 = 480.0;

/// Draws `report`'s surface on `kpi`. `spec` picks the spec a two-axis heat map shows (an
/// index into the scenario's specs, not the baseline); a one-axis chart shows every spec.
pub fn sweep_svg(
    report: &SweepReport,
    kpi: Kpi,
    spec: usize,
    title: &str,
    currency: &str,
) -> String {
    // A long title wraps, and everything below it moves down as a group.
    let titles = crate::chart::wrap(title, WIDTH - 80.0, 20.0, true);
    let shift = 24.0 * (titles.len() - 1) as f64;
    let height = BOTTOM + 110.0 + shift;
    let mut svg = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n\
         <style>{STYLE}</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    for (i, line) in titles.iter().enumerate() {
        text(&mut svg, 40.0, 36.0 + 24.0 * i as f64, "title", line);
    }
    svg.push_str(&format!("<g transform=\"translate(0 {shift})\">\n"));
    let money = if kpi.unit() == Unit::Money {
        format!(" ({currency})")
    } else {
        String::new()
    };
    let sub = format!(
        "{}{money}: paired difference from {} · {} replications at every point",
        kpi.label(),
        report.baseline,
        report.replications
    );
    text(&mut svg, 40.0, 58.0, "sub", &sub);
    if report.axes.len() == 2 {
        heat_map(&mut svg, report, kpi, spec);
    } else {
        bands(&mut svg, report, kpi);
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

fn figure(report: &SweepReport, point: usize, spec: usize, kpi: Kpi) -> Option<&PointKpi> {
    report
        .points
        .get(point)?
        .specs
        .get(spec)?
        .kpis
        .get(kpi.index())
}

/// One axis: x the swept values, y the paired difference, one line and band per spec.
fn bands(svg: &mut String, report: &SweepReport, kpi: Kpi) {
    let xs = report.values.first().cloned().unwrap_or_default();
    let specs = report.points.first().map_or(0, |p| p.specs.len());
    let compared: Vec<usize> = (0..specs)
        .filter(|&j| !report.points[0].specs[j].baseline)
        .collect();
    let mut ys = vec![0.0];
    for &j in &compared {
        for p in 0..xs.len() {
            if let Some(f) = figure(report, p, j, kpi) {
                ys.extend([f.difference_low, f.difference_high].into_iter().flatten());
            }
        }
    }
    let finite = |v: &[f64]| {
        v.iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            })
    };
    let (xlo, xhi) = finite(&xs);
    let (xlo, xhi) = if xlo < xhi {
        (xlo, xhi)
    } else {
        (xlo - 1.0, xlo + 1.0)
    };
    let yticks = {
        let (lo, hi) = finite(&ys);
        nice_ticks(lo, hi, 6)
    };
    let (ylo, yhi) = (yticks[0], yticks[yticks.len() - 1]);
    let sx = |x: f64| LEFT + (x - xlo) / (xhi - xlo) * (RIGHT - LEFT);
    let sy = |y: f64| BOTTOM - (y - ylo) / (yhi - ylo) * (BOTTOM - TOP);
    let ystep = yticks.get(1).map_or(1.0, |t| t - yticks[0]);
    let magnitude = ylo.abs().max(yhi.abs());
    for &t in &yticks {
        line(svg, LEFT, sy(t), RIGHT, sy(t), "grid");
        let label = axis_label(t, ystep, magnitude, kpi.unit());
        text(svg, LEFT - 8.0, sy(t) + 4.0, "tick end", &label);
    }
    let xticks = nice_ticks(xlo, xhi, 6);
    let xstep = xticks.get(1).map_or(1.0, |t| t - xticks[0]);
    // A tick may miss the last value by a rounding error (0.6000000000000001 > 0.6).
    let slack = (xhi - xlo) * 1e-9;
    for &t in xticks
        .iter()
        .filter(|t| (xlo - slack..=xhi + slack).contains(*t))
    {
        line(svg, sx(t), BOTTOM, sx(t), BOTTOM + 4.0, "axis");
        let label = axis_label(t, xstep, xhi.abs(), Unit::Ratio);
        text(svg, sx(t), BOTTOM + 18.0, "tick mid", &label);
    }
    line(svg, LEFT, BOTTOM, RIGHT, BOTTOM, "axis");
    text(
        svg,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 40.0,
        "name mid",
        &report.axes[0],
    );
    svg.push_str(&format!(
        "<line x1=\"{LEFT:.1}\" y1=\"{y:.1}\" x2=\"{RIGHT:.1}\" y2=\"{y:.1}\" stroke=\"#555\" \
         stroke-dasharray=\"5 4\"/>\n",
        y = sy(0.0)
    ));
    for (n, &j) in compared.iter().enumerate() {
        let c = colour(j);
        let at = |p: usize| figure(report, p, j, kpi);
        let band: Vec<(f64, f64, f64)> = (0..xs.len())
            .filter_map(|p| {
                let f = at(p)?;
                Some((xs[p], f.difference_low?, f.difference_high?))
            })
            .collect();
        if band.len() > 1 {
            let upper = band
                .iter()
                .map(|(x, _, hi)| format!("{:.1},{:.1}", sx(*x), sy(*hi)));
            let lower = band
                .iter()
                .rev()
                .map(|(x, lo, _)| format!("{:.1},{:.1}", sx(*x), sy(*lo)));
            let points: Vec<String> = upper.chain(lower).collect();
            svg.push_str(&format!(
                "<polygon points=\"{}\" fill=\"{c}\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
                points.join(" ")
            ));
        }
        let means: Vec<(f64, f64)> = (0..xs.len())
            .filter_map(|p| Some((xs[p], at(p)?.difference?)))
            .collect();
        for pair in means.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            line_coloured(svg, sx(a.0), sy(a.1), sx(b.0), sy(b.1), c, 2.5);
        }
        for (x, y) in &means {
            circle(svg, sx(*x), sy(*y), 3.5, c);
        }
        let ly = TOP + 18.0 * n as f64;
        line_coloured(svg, RIGHT + 20.0, ly - 4.0, RIGHT + 40.0, ly - 4.0, c, 3.0);
        text(
            svg,
            RIGHT + 46.0,
            ly,
            "name",
            &report.points[0].specs[j].name,
        );
    }
    text(
        svg,
        40.0,
        BOTTOM + 70.0,
        "note",
        "Lines: mean paired difference from the baseline (dashed, 0). Bands: its 95% interval. \
         Every point runs on the same replications.",
    );
}

/// Two axes: rows the first axis, columns the second, the cell's colour the paired
/// difference (blue better, orange worse, by the KPI's better direction).
fn heat_map(svg: &mut String, report: &SweepReport, kpi: Kpi, spec: usize) {
    let (rows, cols) = (&report.values[0], &report.values[1]);
    let (w, h) = (
        (RIGHT - LEFT) / cols.len().max(1) as f64,
        (BOTTOM - TOP) / rows.len().max(1) as f64,
    );
    let largest = (0..report.points.len())
        .filter_map(|p| figure(report, p, spec, kpi)?.difference)
        .filter(|d| d.is_finite())
        .fold(0.0_f64, |m, d| m.max(d.abs()));
    let sign = if kpi.better() == Some(false) {
        -1.0
    } else {
        1.0
    };
    for (r, row) in rows.iter().enumerate() {
        let y = TOP + h * r as f64;
        text(
            svg,
            LEFT - 8.0,
            y + h / 2.0 + 4.0,
            "tick end",
            &fmt_axis(*row),
        );
        for (c, _) in cols.iter().enumerate() {
            let x = LEFT + w * c as f64;
            let f = figure(report, r * cols.len() + c, spec, kpi);
            let d = f.and_then(|f| f.difference).filter(|d| d.is_finite());
            let fill = d.map_or_else(|| "#eeeeee".to_owned(), |d| shade(sign * d, largest));
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\" \
                 stroke=\"#ffffff\"/>\n"
            ));
            if let Some(d) = d {
                let label = value_label(d, kpi.unit());
                text(svg, x + w / 2.0, y + h / 2.0 + 4.0, "value mid", &label);
                let clear = f.is_some_and(|f| {
                    matches!((f.difference_low, f.difference_high), (Some(a), Some(b)) if a > 0.0 || b < 0.0)
                });
                if clear {
                    circle(svg, x + w - 8.0, y + 8.0, 3.0, "#222222");
                }
            }
        }
    }
    for (c, col) in cols.iter().enumerate() {
        let x = LEFT + w * (c as f64 + 0.5);
        text(svg, x, BOTTOM + 18.0, "tick mid", &fmt_axis(*col));
    }
    text(
        svg,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 40.0,
        "name mid",
        &report.axes[1],
    );
    svg.push_str(&format!(
        "<text x=\"30\" y=\"{:.1}\" class=\"name mid\" transform=\"rotate(-90 30 {:.1})\">{}</text>\n",
        (TOP + BOTTOM) / 2.0,
        (TOP + BOTTOM) / 2.0,
        escape(&report.axes[0])
    ));
    let name = report
        .points
        .first()
        .and_then(|p| p.specs.get(spec))
        .map_or("", |s| s.name.as_str());
    // The key beside the map, wrapped to the space right of it.
    let room = WIDTH - 10.0 - (RIGHT + 20.0);
    let mut y = TOP + 14.0;
    for line in crate::chart::wrap(name, room, 14.0, true) {
        text(svg, RIGHT + 20.0, y, "head", &line);
        y += 18.0;
    }
    y += 2.0;
    for note in [
        "blue: better than the baseline",
        "orange: worse",
        "dot: 95% interval excludes 0",
    ] {
        for line in crate::chart::wrap(note, room, 11.0, false) {
            text(svg, RIGHT + 20.0, y, "note", &line);
            y += 16.0;
        }
    }
    text(
        svg,
        40.0,
        BOTTOM + 70.0,
        "note",
        "Cells: mean paired difference from the baseline at that point; every point runs on the \
         same replications.",
    );
}

/// A sweep value as written: up to four decimals, trailing zeros dropped.
fn fmt_axis(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Blue for better, orange for worse (Okabe–Ito hues), paler towards zero.
fn shade(better: f64, largest: f64) -> String {
    let t = if largest > 0.0 {
        (better.abs() / largest).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (r, g, b) = if better >= 0.0 {
        (0.0, 114.0, 178.0)
    } else {
        (213.0, 94.0, 0.0)
    };
    let mix = |c: f64| (255.0 + (c - 255.0) * (0.15 + 0.7 * t)).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(r), mix(g), mix(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_run_from_pale_to_full_and_keep_their_hue() {
        assert_eq!(shade(1.0, 1.0), "#2687be");
        assert_eq!(shade(-1.0, 1.0), "#db7626");
        assert_eq!(shade(0.0, 10.0), "#d9eaf3", "pale at zero");
        assert_eq!(shade(0.0, 0.0), shade(0.0, 1.0));
        assert_eq!(fmt_axis(0.30000000000000004), "0.3");
        assert_eq!(fmt_axis(2.0), "2");
    }
}
