//! SVG as text: the shared style sheet and palette, escaping, and the few elements the charts
//! draw (text, lines, circles, outlines, a spec's swatch and name).

use super::layout::shorten;
use crate::engine::SpecReport;

/// Okabe–Ito colours, safe for the common kinds of colour blindness; yellow last because it
/// is hard to see on white.
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

pub(crate) const STYLE: &str = "text{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;fill:#222}\
.title{font-size:20px;font-weight:bold}.sub{font-size:13px;fill:#555}\
.head{font-size:14px;font-weight:bold}.note{font-size:11px;fill:#555;font-weight:normal}\
.tick{font-size:11px;fill:#555}.name{font-size:12px}.value{font-size:12px;font-weight:bold}\
.end{text-anchor:end}.mid{text-anchor:middle}.grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#999;stroke-width:1}";

pub(crate) fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

/// A spec's colour swatch and name, shortened to `max` characters with the full name as a
/// tooltip (the legend shows it whole), at the start of a panel row.
pub(super) fn spec_name(
    svg: &mut String,
    spec: &SpecReport,
    index: usize,
    x0: f64,
    cy: f64,
    max: usize,
) {
    svg.push_str(&format!(
        "<rect x=\"{x0}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>\n",
        cy - 5.0,
        colour(index)
    ));
    let shown = shorten(&spec.name, max);
    named_text(svg, x0 + 16.0, cy + 4.0, "name", &shown, &spec.name);
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

pub(super) fn point(x: f64, y: f64) -> String {
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
pub(super) fn named_text(svg: &mut String, x: f64, y: f64, class: &str, shown: &str, full: &str) {
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

pub(super) fn rect_outline(svg: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
    svg.push_str(&format!(
        "<rect x=\"{x1:.1}\" y=\"{y1:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" \
         class=\"grid\"/>\n",
        x2 - x1,
        y2 - y1
    ));
}
