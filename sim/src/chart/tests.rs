//! Tests of the comparison chart: well-formed XML, escaping, determinism, missing figures.

use super::check::{assert_renders, assert_text_fits};
use super::*;
use crate::engine::{ComparisonReport, KpiReport, RunOptions, SpecReport};
use crate::files::Format;
use crate::model::Unit;
use crate::stats::SummaryReport;

fn summary(mean: f64, spread: f64) -> SummaryReport {
    SummaryReport {
        n: 50,
        non_finite: 0,
        mean: Some(mean),
        std_error: Some(spread / 10.0),
        ci95_low: Some(mean - spread / 5.0),
        ci95_high: Some(mean + spread / 5.0),
        p5: Some(mean - spread),
        p50: Some(mean),
        p95: Some(mean + spread),
        min: Some(mean - 2.0 * spread),
        max: Some(mean + 2.0 * spread),
    }
}

fn empty_summary() -> SummaryReport {
    let mut s = summary(0.0, 0.0);
    (s.n, s.mean, s.std_error, s.ci95_low, s.ci95_high) = (0, None, None, None, None);
    (s.p5, s.p50, s.p95, s.min, s.max) = (None, None, None, None, None);
    s
}

fn spec(name: &str, baseline: bool, lift: f64) -> SpecReport {
    let kpis = Kpi::ALL
        .iter()
        .map(|&kpi| {
            let (mean, spread) = match kpi.unit() {
                Unit::Money => (3.0e7 * lift, 2.0e6),
                Unit::Share => (0.45 * lift, 0.08),
                Unit::Count => (12.0 * lift, 3.0),
                Unit::Ratio => (1.3 * lift, 0.1),
            };
            KpiReport {
                kpi,
                summary: summary(mean, spread),
                parameter_share: None,
            }
        })
        .collect();
    let months = (0..12).map(|m| summary((8.0e5 + 2.0e4 * m as f64) * lift, 9.0e4));
    SpecReport {
        name: name.to_owned(),
        baseline,
        kpis,
        attainment_histogram: vec![1; 21],
        monthly_sell_through: months.collect(),
        vs_baseline: Vec::new(),
    }
}

fn context<'a>(title: &'a str, currency: &'a str) -> ChartContext<'a> {
    let start = Month::new(2027, 1).expect("a month");
    ChartContext {
        title,
        currency,
        start,
        fiscal_year_start: start,
    }
}

/// The specs with their paired differences from the first baseline among them: the
/// difference of means, an interval a tenth of the spread either side, and a chance of
/// beating the baseline that grows with the difference.
fn report(mut specs: Vec<SpecReport>) -> RunReport {
    if let Some(base) = specs.iter().find(|s| s.baseline).cloned() {
        for s in specs.iter_mut().filter(|s| !s.baseline) {
            s.vs_baseline = s
                .kpis
                .iter()
                .zip(&base.kpis)
                .filter_map(|(k, b)| {
                    let d = k.summary.mean? - b.summary.mean?;
                    let spread = k.summary.p95? - k.summary.mean?;
                    let mut difference = summary(d, spread);
                    (difference.p5, difference.p50, difference.p95) = (None, None, None);
                    (difference.ci95_low, difference.ci95_high) =
                        (Some(d - spread / 10.0), Some(d + spread / 10.0));
                    Some(ComparisonReport {
                        kpi: k.kpi,
                        difference,
                        probability_better: if d > 0.0 { 0.98 } else { 0.02 },
                    })
                })
                .collect();
        }
    }
    RunReport {
        replications: 50,
        specs,
    }
}

/// Fails unless `xml` is well-formed: one root element, balanced tags, quoted attributes,
/// no stray `<` and only known entities, no characters XML 1.0 forbids.
fn assert_well_formed(xml: &str) {
    fn check_chars(text: &str) {
        assert!(!text.contains('<'), "raw '<' in {text:?}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i + 1..text[i..].find(';').map_or(text.len(), |e| i + e)];
            let numeric = entity.strip_prefix('#').is_some_and(|n| {
                let (digits, radix) = n.strip_prefix('x').map_or((n, 10), |h| (h, 16));
                !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
            });
            let named = ["amp", "lt", "gt", "quot", "apos"].contains(&entity);
            assert!(numeric || named, "bad entity &{entity}; in {text:?}");
        }
    }
    fn check_attributes(mut rest: &str) {
        let mut names = Vec::new();
        while !rest.trim().is_empty() {
            let (name, value) = rest.trim_start().split_once('=').expect("name=value");
            assert!(
                !name.is_empty() && !name.contains(char::is_whitespace),
                "{name:?}"
            );
            assert!(!names.contains(&name), "duplicate attribute {name}");
            names.push(name);
            let quote = value.chars().next().expect("attribute value");
            assert!(quote == '"' || quote == '\'', "unquoted attribute {name}");
            let end = value[1..].find(quote).expect("closing quote") + 1;
            check_chars(&value[1..end]);
            rest = &value[end + 1..];
            assert!(rest.is_empty() || rest.starts_with(char::is_whitespace));
        }
    }
    assert!(
        !xml.chars()
            .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    );
    let mut rest = xml.strip_prefix("<?xml ").expect("XML declaration");
    rest = &rest[rest.find("?>").expect("end of declaration") + 2..];
    let (mut stack, mut roots) = (Vec::new(), 0);
    while let Some(lt) = rest.find('<') {
        let between = &rest[..lt];
        assert!(
            !stack.is_empty() || between.trim().is_empty(),
            "text outside root"
        );
        check_chars(between);
        let gt = rest.find('>').expect("unclosed tag");
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched closing tag");
            continue;
        }
        let body = tag.strip_suffix('/').unwrap_or(tag);
        let name = body.split_whitespace().next().expect("tag name");
        assert!(
            name.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == ':')
        );
        check_attributes(&body[name.len()..]);
        roots += usize::from(stack.is_empty());
        if !tag.ends_with('/') {
            stack.push(name);
        }
    }
    assert!(
        rest.trim().is_empty() && stack.is_empty(),
        "unclosed {stack:?}"
    );
    assert_eq!(roots, 1, "one root element");
}

#[test]
fn chart_is_well_formed_and_names_every_spec_and_headline_kpi() {
    let names = ["Flat growth", "Stretch goals", "Potential-based", "Ratchet"];
    let specs = names
        .iter()
        .enumerate()
        .map(|(i, n)| spec(n, i == 0, 1.0 + 0.05 * i as f64));
    let svg = comparison_svg(
        &report(specs.collect()),
        &context("Four goal strategies", "EUR"),
    );
    assert_well_formed(&svg);
    for name in names {
        assert!(svg.contains(name), "missing spec {name}");
    }
    for kpi in HEADLINE {
        assert!(
            svg.contains(&escape(kpi.label())),
            "missing KPI {}",
            kpi.label()
        );
    }
    assert!(svg.contains("50 replications · paired comparison vs Flat growth"));
    assert!(svg.contains("Flat growth (baseline)"));
    assert!(svg.contains("(EUR)"));
}

#[test]
fn chart_escapes_markup_in_names_title_and_currency() {
    let specs = vec![
        spec("Base", true, 1.0),
        spec("Goals <&> \"quotas\"", false, 1.1),
    ];
    let svg = comparison_svg(&report(specs), &context("A & B <test>", "€<"));
    assert_well_formed(&svg);
    assert!(svg.contains("Goals &lt;&amp;&gt; &quot;quotas&quot;"));
    assert!(!svg.contains("<&>"));
    assert!(svg.contains("A &amp; B &lt;test&gt;"));
}

#[test]
fn chart_is_the_same_bytes_for_the_same_report() {
    let r = report(vec![spec("Base", true, 1.0), spec("Other", false, 0.9)]);
    assert_eq!(
        comparison_svg(&r, &context("T", "EUR")),
        comparison_svg(&r.clone(), &context("T", "EUR"))
    );
}

#[test]
fn chart_skips_missing_figures_without_failing() {
    let mut blank = spec("All missing", false, 1.0);
    for k in &mut blank.kpis {
        k.summary = empty_summary();
    }
    blank.monthly_sell_through = vec![empty_summary(); 12];
    let mut gappy = spec("Gappy", true, 1.0);
    gappy.monthly_sell_through[4] = empty_summary();
    gappy.kpis.retain(|k| k.kpi != Kpi::RepAttrition);
    for r in [
        report(vec![blank.clone()]),
        report(vec![gappy, blank.clone()]),
        report(vec![]),
    ] {
        let svg = comparison_svg(&r, &context("Missing", "USD"));
        assert_well_formed(&svg);
    }
    let svg = comparison_svg(&report(vec![blank]), &context("Missing", "USD"));
    assert!(svg.contains("No monthly data") && svg.contains(">no data<"));
    assert!(
        svg.contains(">50 replications<"),
        "no baseline, no comparison in the subtitle"
    );
}

#[test]
fn labels_follow_the_kpi_unit() {
    assert_eq!(value_label(1_234_567.0, Unit::Money), "1.23M");
    assert_eq!(value_label(45_600.0, Unit::Money), "45.6k");
    assert_eq!(value_label(-950.4, Unit::Money), "-950");
    assert_eq!(value_label(0.4567, Unit::Share), "45.7%");
    assert_eq!(value_label(312.4, Unit::Count), "312");
    assert_eq!(value_label(2.64, Unit::Count), "2.6");
    assert_eq!(value_label(1.2345, Unit::Ratio), "1.23");
    assert_eq!(
        axis_label(1_250_000.0, 250_000.0, 2e6, Unit::Money),
        "1.25M"
    );
    assert_eq!(axis_label(-0.0, 0.1, 1.0, Unit::Share), "0%");
    let tenths: Vec<f64> = nice_ticks(0.3, 0.9, 4)
        .iter()
        .map(|t| (t * 10.0).round())
        .collect();
    assert_eq!(tenths, [2.0, 4.0, 6.0, 8.0, 10.0]);
    let flat = nice_ticks(5.0, 5.0, 4);
    assert!(flat.len() >= 2 && flat[0] < 5.0 && flat[flat.len() - 1] > 5.0);
}

#[test]
fn chart_of_an_engine_run_is_well_formed() {
    let text = crate::bundled::find_scenario("mid-size")
        .expect("bundled")
        .text;
    let no_files = |path: &str| Err(format!("no files ({path})"));
    let scenario = crate::scenario::parse(text, Format::Toml, &no_files)
        .expect("valid scenario")
        .with_overrides(Some(12), None)
        .expect("valid override");
    let options = RunOptions {
        threads: 2,
        shard: None,
    };
    let run = crate::engine::run(&scenario, &options, &|| {}).expect("run");
    let svg = comparison_svg(&run.report(), &ChartContext::of(scenario.file()));
    assert_well_formed(&svg);
    assert_text_fits(&svg);
    assert_renders(&svg);
    for s in &run.report().specs {
        assert!(svg.contains(&escape(&s.name)));
    }
    // Set CHANLAB_CHART_SVG=/tmp/chart.svg to look at the result.
    if let Some(path) = std::env::var_os("CHANLAB_CHART_SVG") {
        std::fs::write(path, &svg).expect("write chart");
    }
}

#[test]
fn the_paired_panel_shows_the_compare_tables_differences() {
    let specs = vec![
        spec("Flat growth", true, 1.0),
        spec("Potential-based", false, 1.06),
        spec("Ratchet", false, 0.97),
    ];
    let r = report(specs);
    let svg = comparison_svg(&r, &context("Goal strategies", "EUR"));
    let paired_end = svg
        .find("Monthly sell-through")
        .expect("the fan chart follows");
    let paired = &svg[..paired_end];
    for kpi in HEADLINE {
        let figures = paired_figures(&r, kpi);
        assert_eq!(figures.len(), 2, "{}", kpi.label());
        for f in figures {
            let c = r
                .specs
                .iter()
                .find(|s| s.name == f.spec)
                .and_then(|s| s.vs_baseline.iter().find(|c| c.kpi == kpi))
                .expect("the report's comparison");
            // The figure is the report's difference, scaled as the table scales it.
            let base = r.specs[0].kpis.iter().find(|k| k.kpi == kpi).unwrap();
            let scale = match kpi.unit() {
                Unit::Money | Unit::Count => 100.0 / base.summary.mean.unwrap().abs(),
                Unit::Share => 100.0,
                Unit::Ratio => 1.0,
            };
            let close = |a: f64, b: Option<f64>| (a - b.unwrap() * scale).abs() < 1e-9;
            assert!(close(f.mean, c.difference.mean), "{f:?}");
            assert!(close(f.low, c.difference.ci95_low), "{f:?}");
            assert!(close(f.high, c.difference.ci95_high), "{f:?}");
            assert_eq!(f.probability_better, c.probability_better);
            let label = f.label();
            let (mean, interval) = label.split_once(' ').expect("mean and interval");
            let shown = format!(
                "{mean} <tspan class=\"note\">{interval} · beats it in {:.0}%</tspan>",
                100.0 * c.probability_better
            );
            assert!(paired.contains(&shown), "missing {shown}");
        }
    }
    // Sell-through +6.0% of the baseline, as the table would print it.
    assert!(paired.contains(">+6.0% <tspan"), "{paired}");
    assert!(paired.contains("beats it in 98%") && paired.contains("beats it in 2%"));
    assert!(paired.contains("Difference from the baseline, Flat growth"));
}

#[test]
fn the_month_axis_shows_calendar_months_and_fiscal_years() {
    let mut base = spec("Base", true, 1.0);
    base.monthly_sell_through = (0..36)
        .map(|m| summary(8.0e5 + 1.0e3 * m as f64, 9.0e4))
        .collect();
    let mut c = context("Three years", "EUR");
    c.start = Month::new(2027, 4).unwrap();
    c.fiscal_year_start = Month::new(2027, 4).unwrap();
    let svg = comparison_svg(&report(vec![base]), &c);
    // Half-yearly ticks on calendar half-years, and the scenario's start.
    for label in ["Apr 27", "Jul 27", "Jan 28", "Jul 28", "Jan 30"] {
        assert!(svg.contains(&format!(">{label}<")), "missing tick {label}");
    }
    assert!(!svg.contains(">Month<") && !svg.contains(">36<"));
    assert!(svg.contains(">FY from Apr 28<") && svg.contains(">FY from Apr 29<"));
    // The data sit far from zero, and the axis says it does not start there.
    assert!(svg.contains("axis does not start at zero"));
}

#[test]
fn long_names_and_titles_wrap_inside_the_canvas_and_render() {
    let long = "Potential-based goals with quarterly bonuses pacing the reps and a ratchet";
    let specs = vec![
        spec("Flat growth, the baseline we have always used", true, 1.0),
        spec(long, false, 1.05),
        spec("Stretch", false, 0.98),
    ];
    let title = "A very long scenario title that goes on to describe the channel, its tiers,                  its regions and everything else a planner wanted to say";
    let svg = comparison_svg(&report(specs), &context(title, "EUR"));
    assert_well_formed(&svg);
    assert_text_fits(&svg);
    assert_renders(&svg);
    // The legend holds every word of the full name.
    let legend = &svg[svg.find("Monthly sell-through").unwrap()..];
    for word in long.split(' ') {
        assert!(legend.contains(word), "legend lost {word}");
    }
    assert!(!legend[..legend.find("Each spec").unwrap()].contains('…'));
}

#[test]
fn wrapping_keeps_every_word_and_each_line_fits() {
    let text = "one two three four five six seven eight nine ten eleven twelve";
    let lines = wrap(text, 100.0, 12.0, false);
    assert!(lines.len() > 1);
    assert_eq!(lines.join(" "), text);
    for l in &lines {
        assert!(text_width(l.chars().count(), 12.0, false) <= 100.0, "{l}");
    }
    assert_eq!(wrap("", 100.0, 12.0, false), [""]);
    let split = wrap("abcdefghijklmnopqrstuvwxyz", 50.0, 12.0, false);
    assert_eq!(split.concat(), "abcdefghijklmnopqrstuvwxyz");
}
