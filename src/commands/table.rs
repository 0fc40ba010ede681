//! Text and CSV renderings of a run's figures.

use std::fmt::Write as _;

use chanlab_sim::engine::{RunReport, RunResult, SpecReport};
use chanlab_sim::model::{Kpi, Unit};
use chanlab_sim::stats::SummaryReport;

use super::term;

/// Specs side by side: the baseline's mean, each other spec's mean and its paired difference
/// from the baseline with a 95% interval; ★ marks a KPI's winner when the interval excludes 0.
pub(crate) fn compare(result: &RunResult, report: &RunReport) -> String {
    let mut out = header(result, report);
    let base = &report.specs[result.baseline];
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["".to_owned()];
    for s in &report.specs {
        head.push(if s.baseline {
            format!("{} (baseline)", s.name)
        } else {
            s.name.clone()
        });
    }
    rows.push(head);
    for kpi in Kpi::ALL {
        let base_mean = mean(base, kpi);
        let winner = winner(report, kpi);
        let mut row = vec![kpi.label().to_owned()];
        for (i, s) in report.specs.iter().enumerate() {
            let star = term::paint(term::MARK, "★");
            let mark = if winner == Some(i) {
                format!(" {star}")
            } else {
                String::new()
            };
            let value = fmt_value(kpi, mean(s, kpi));
            let cell = match s.vs_baseline.iter().find(|c| c.kpi == kpi) {
                Some(c) => format!("{value}  {}{mark}", fmt_diff(kpi, &c.difference, base_mean)),
                None => {
                    let se = s
                        .kpis
                        .iter()
                        .find(|k| k.kpi == kpi)
                        .and_then(|k| k.summary.std_error);
                    match se {
                        Some(se) => format!("{value} ±{}{mark}", fmt_value(kpi, Some(1.96 * se))),
                        None => format!("{value}{mark}"),
                    }
                }
            };
            row.push(cell);
        }
        rows.push(row);
    }
    out.push_str(&layout(&rows));
    out.push('\n');
    let _ = writeln!(
        out,
        "Differences are paired (same channel and shocks in each replication): mean difference and its 95% interval,"
    );
    let _ = writeln!(
        out,
        "as % of the baseline for money and counts, in points for shares. ★ marks the best spec where its interval excludes 0."
    );
    for kpi in [Kpi::SellThrough, Kpi::MarginAfterIncentives] {
        let chances: Vec<String> = report
            .specs
            .iter()
            .filter_map(|s| {
                s.vs_baseline
                    .iter()
                    .find(|c| c.kpi == kpi)
                    .map(|c| format!("{} {:.0}%", s.name, 100.0 * c.probability_better))
            })
            .collect();
        if !chances.is_empty() {
            let _ = writeln!(
                out,
                "Chance of beating the baseline on {}: {}.",
                kpi.label().to_lowercase(),
                chances.join(", ")
            );
        }
    }
    out.push_str(&parameter_shares(report));
    term::fit(&out)
}

/// For a calibrated scenario, how much of each spec's sell-through and margin P5–P95 range
/// is parameter uncertainty (the rest is luck); empty otherwise.
fn parameter_shares(report: &RunReport) -> String {
    let mut out = String::new();
    for kpi in [Kpi::SellThrough, Kpi::MarginAfterIncentives] {
        let shares: Vec<String> = report
            .specs
            .iter()
            .filter_map(|s| {
                s.kpis
                    .iter()
                    .find(|k| k.kpi == kpi)
                    .and_then(|k| k.parameter_share)
                    .map(|p| format!("{} {:.0}%", s.name, 100.0 * p))
            })
            .collect();
        if !shares.is_empty() {
            let _ = writeln!(
                out,
                "Parameter uncertainty (what the records leave open) in the P5–P95 range of {}: {}.",
                kpi.label().to_lowercase(),
                shares.join(", ")
            );
        }
    }
    out
}

/// Each spec on its own: mean, 95% interval of the mean and the spread over replications.
pub(crate) fn each(result: &RunResult, report: &RunReport) -> String {
    let mut out = header(result, report);
    for s in &report.specs {
        let _ = writeln!(
            out,
            "\n{}{}",
            s.name,
            if s.baseline { " (baseline)" } else { "" }
        );
        let mut rows = vec![
            ["", "mean", "95% interval", "P5", "median", "P95"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for k in &s.kpis {
            let r = &k.summary;
            let f = |v: Option<f64>| fmt_value(k.kpi, v);
            rows.push(vec![
                k.kpi.label().to_owned(),
                f(r.mean),
                format!("{} – {}", f(r.ci95_low), f(r.ci95_high)),
                f(r.p5),
                f(r.p50),
                f(r.p95),
            ]);
        }
        out.push_str(&layout(&rows));
    }
    term::fit(&out)
}

/// One row per spec and KPI, with the paired comparison where there is one.
pub(crate) fn csv(report: &RunReport) -> String {
    let mut out = String::from(
        "spec,baseline,kpi,unit,n,non_finite,mean,std_error,ci95_low,ci95_high,p5,p50,p95,diff_mean,diff_ci95_low,diff_ci95_high,probability_better\n",
    );
    let num = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x}"));
    for s in &report.specs {
        for k in &s.kpis {
            let r = &k.summary;
            let cmp = s.vs_baseline.iter().find(|c| c.kpi == k.kpi);
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&s.name),
                s.baseline,
                k.kpi.name(),
                unit_name(k.kpi.unit()),
                r.n,
                r.non_finite,
                num(r.mean),
                num(r.std_error),
                num(r.ci95_low),
                num(r.ci95_high),
                num(r.p5),
                num(r.p50),
                num(r.p95),
                num(cmp.and_then(|c| c.difference.mean)),
                num(cmp.and_then(|c| c.difference.ci95_low)),
                num(cmp.and_then(|c| c.difference.ci95_high)),
                cmp.map_or(String::new(), |c| format!("{}", c.probability_better)),
            );
        }
    }
    out
}

fn header(result: &RunResult, report: &RunReport) -> String {
    let sc = &result.scenario;
    let partial = if result.is_complete() {
        String::new()
    } else {
        " (partial)".to_owned()
    };
    format!(
        "{}\n{} replications{partial} · {} months from {} · seed {} · amounts in {}\n\n",
        sc.name, report.replications, sc.horizon_months, sc.start, sc.seed, sc.currency
    )
}

fn mean(s: &SpecReport, kpi: Kpi) -> Option<f64> {
    s.kpis
        .iter()
        .find(|k| k.kpi == kpi)
        .and_then(|k| k.summary.mean)
}

/// The spec to mark for `kpi`: the best whose paired interval excludes 0 in the good
/// direction, or the baseline when every other spec is surely worse.
fn winner(report: &RunReport, kpi: Kpi) -> Option<usize> {
    let higher = kpi.better()?;
    let sign = if higher { 1.0 } else { -1.0 };
    let mut best: Option<(usize, f64)> = None;
    let mut all_worse = true;
    let mut any_other = false;
    for (i, s) in report.specs.iter().enumerate() {
        let Some(c) = s.vs_baseline.iter().find(|c| c.kpi == kpi) else {
            continue;
        };
        any_other = true;
        let (Some(lo), Some(hi), Some(m)) = (
            c.difference.ci95_low,
            c.difference.ci95_high,
            c.difference.mean,
        ) else {
            all_worse = false;
            continue;
        };
        let (good_lo, good_hi) = (sign * lo, sign * hi);
        let surely_better = good_lo.min(good_hi) > 0.0;
        let surely_worse = good_lo.max(good_hi) < 0.0;
        if !surely_worse {
            all_worse = false;
        }
        if surely_better && best.is_none_or(|(_, b)| sign * m > b) {
            best = Some((i, sign * m));
        }
    }
    match best {
        Some((i, _)) => Some(i),
        None if any_other && all_worse => report.specs.iter().position(|s| s.baseline),
        None => None,
    }
}

pub(crate) fn fmt_diff(kpi: Kpi, d: &SummaryReport, base_mean: Option<f64>) -> String {
    let (Some(m), Some(lo), Some(hi)) = (d.mean, d.ci95_low, d.ci95_high) else {
        return "n/a".to_owned();
    };
    match kpi.unit() {
        Unit::Money | Unit::Count => match base_mean {
            Some(b) if b.abs() > 1e-12 => {
                let p = |x: f64| 100.0 * x / b.abs();
                format!("{:+.1}% [{:+.1}, {:+.1}]", p(m), p(lo), p(hi))
            }
            // No baseline level to relate to: show the absolute difference in the KPI's unit.
            _ => {
                let f = |x: f64| {
                    let v = fmt_value(kpi, Some(x.abs()));
                    format!("{}{v}", if x < 0.0 { "-" } else { "+" })
                };
                format!("{} [{}, {}] abs", f(m), f(lo), f(hi))
            }
        },
        Unit::Share => format!(
            "{:+.1}pp [{:+.1}, {:+.1}]",
            100.0 * m,
            100.0 * lo,
            100.0 * hi
        ),
        Unit::Ratio => format!("{:+.3} [{:+.3}, {:+.3}]", m, lo, hi),
    }
}

pub(crate) fn fmt_value(kpi: Kpi, v: Option<f64>) -> String {
    let Some(v) = v else { return "n/a".to_owned() };
    match kpi.unit() {
        Unit::Money => fmt_money(v),
        // Shares and counts cannot be negative; an interval's lower end can dip below 0 only
        // through the normal approximation, so show it at 0.
        Unit::Share => format!("{:.1}%", 100.0 * v.max(0.0)),
        Unit::Count => format!("{:.1}", v.max(0.0)),
        Unit::Ratio => format!("{v:.3}"),
    }
}

/// Money as every chanlab table shows it (`65.16M`, `3.5k`), the validation table included.
fn fmt_money(v: f64) -> String {
    chanlab_sim::validate::Display::Money.format(v)
}

pub(crate) fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Money => "money",
        Unit::Share => "share",
        Unit::Count => "count",
        Unit::Ratio => "ratio",
    }
}

pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Left-aligns the first column and right-aligns the rest, two spaces apart, within
/// [`term::width`]: a table too wide is split into column groups, each led by the first
/// column, and one too wide even for a single column is stacked (one `header: cell` line
/// per cell under each row's label).
pub(crate) fn layout(rows: &[Vec<String>]) -> String {
    layout_to(rows, term::width())
}

/// [`layout`] within `limit` columns (`None`: unlimited).
pub(crate) fn layout_to(rows: &[Vec<String>], limit: Option<usize>) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| term::display_width(s))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..cols).map(width).collect();
    let Some(limit) = limit else {
        return grid(rows, &widths, &(0..cols).collect::<Vec<_>>());
    };
    let total: usize = widths.iter().skip(1).map(|w| w + 2).sum::<usize>() + widths[0];
    if total <= limit || cols < 2 {
        return term::fit_to(&grid(rows, &widths, &(0..cols).collect::<Vec<_>>()), limit);
    }
    let widest = widths.iter().skip(1).max().copied().unwrap_or(0);
    if widths[0] + 2 + widest > limit {
        return term::fit_to(&stacked(rows), limit);
    }
    // Column groups: as many columns after the first as fit beside it.
    let mut out = String::new();
    let mut group = vec![0];
    let mut used = widths[0];
    for c in 1..cols {
        if used + 2 + widths[c] > limit {
            out.push_str(&grid(rows, &widths, &group));
            out.push('\n');
            group = vec![0];
            used = widths[0];
        }
        group.push(c);
        used += 2 + widths[c];
    }
    out.push_str(&grid(rows, &widths, &group));
    out
}

/// The columns `columns` of `rows` as a grid.
fn grid(rows: &[Vec<String>], widths: &[usize], columns: &[usize]) -> String {
    let mut out = String::new();
    let empty = String::new();
    for row in rows {
        let mut line = String::new();
        for &c in columns {
            let cell = row.get(c).unwrap_or(&empty);
            let pad = " ".repeat(widths[c] - term::display_width(cell));
            if c == 0 {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str("  ");
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Each row after the first (the header) as its label, then `  header: cell` lines.
fn stacked(rows: &[Vec<String>]) -> String {
    let Some((head, body)) = rows.split_first() else {
        return String::new();
    };
    let mut out = String::new();
    for row in body {
        out.push_str(row.first().map(String::as_str).unwrap_or(""));
        out.push('\n');
        for (c, cell) in row.iter().enumerate().skip(1) {
            match head.get(c).filter(|h| !h.is_empty()) {
                Some(h) => out.push_str(&format!("  {h}: {cell}\n")),
                None => out.push_str(&format!("  {cell}\n")),
            }
        }
    }
    out
}
