//! Test helpers every chart kind's tests call: no text outside the canvas, and the document
//! renders to a non-blank PNG with a real renderer (resvg).
//!
//! Text extents are estimated, not measured: [`super::text_width`] (characters × font size ×
//! a conservative share of an em), from the text's anchor, its font size (the class's in
//! [`super::STYLE`], a `font-size` attribute, else the root's, else 16 px) and any
//! `rotate(...)` transform. The charts lay text out with the same estimate, so this checks
//! that the layout code used it everywhere.

use super::text_width;

/// A text element's estimated box, for messages.
#[derive(Debug)]
struct TextBox {
    content: String,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// Fails unless every `<text>` of `svg` lies within its `width` × `height` canvas.
pub(crate) fn assert_text_fits(svg: &str) {
    let (width, height) = canvas(svg);
    let root_size = root_attribute(svg, "font-size").and_then(|v| v.parse::<f64>().ok());
    let boxes = text_boxes(svg, root_size.unwrap_or(16.0));
    assert!(!boxes.is_empty(), "no text in the chart");
    for b in boxes {
        assert!(
            b.left >= -0.5 && b.right <= width + 0.5 && b.top >= -0.5 && b.bottom <= height + 0.5,
            "text outside the {width}×{height} canvas: {b:?}"
        );
    }
}

/// Fails unless `svg` parses and renders with resvg to a PNG with a fair share of
/// non-white pixels. Text uses the system's fonts (none installed only leaves text out).
pub(crate) fn assert_renders(svg: &str) {
    use resvg::{tiny_skia, usvg};
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    let tree = usvg::Tree::from_str(svg, &options).expect("resvg parses the chart");
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).expect("a canvas");
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let png = pixmap.encode_png().expect("PNG encoding");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let pixels = pixmap.pixels();
    let inked = pixels
        .iter()
        .filter(|p| p.alpha() > 0 && (p.red() < 200 || p.green() < 200 || p.blue() < 200))
        .count();
    assert!(
        inked * 1000 > pixels.len(),
        "the chart renders nearly blank: {inked} of {} pixels inked",
        pixels.len()
    );
    // Set CHANLAB_CHART_PNG_DIR=/tmp/charts to look at what was rendered.
    if let Some(dir) = std::env::var_os("CHANLAB_CHART_PNG_DIR") {
        let title = text_boxes(svg, 16.0)
            .first()
            .map(|b| b.content.clone())
            .unwrap_or_default();
        let name: String = title
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png);
    }
}

fn canvas(svg: &str) -> (f64, f64) {
    let number = |name| {
        root_attribute(svg, name)
            .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
            .unwrap_or_else(|| panic!("the root has no numeric {name}"))
    };
    (number("width"), number("height"))
}

fn root_attribute<'a>(svg: &'a str, name: &str) -> Option<&'a str> {
    let start = svg.find("<svg")?;
    let tag = &svg[start..start + svg[start..].find('>')?];
    attribute(tag, name)
}

/// The value of attribute `name` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The font size and boldness of a class list, by the shared style sheet.
fn class_font(class: &str) -> (Option<f64>, bool) {
    let mut size = None;
    let mut bold = false;
    for c in class.split_whitespace() {
        match c {
            "title" => (size, bold) = (Some(20.0), true),
            "sub" => size = Some(13.0),
            "head" => (size, bold) = (Some(14.0), true),
            "note" => (size, bold) = (Some(11.0), false),
            "tick" => size = Some(11.0),
            "name" => size = Some(12.0),
            "value" => (size, bold) = (Some(12.0), true),
            _ => {}
        }
    }
    (size, bold)
}

fn characters(escaped: &str) -> usize {
    let mut count = 0;
    let mut in_entity = false;
    for c in escaped.chars() {
        match c {
            '&' => {
                in_entity = true;
                count += 1;
            }
            ';' if in_entity => in_entity = false,
            _ if in_entity => {}
            _ => count += 1,
        }
    }
    count
}

fn text_boxes(svg: &str, default_size: f64) -> Vec<TextBox> {
    let mut out = Vec::new();
    let mut rest = svg;
    // The translation of each open <g>, so text inside a translated group is placed.
    let mut groups: Vec<(f64, f64)> = Vec::new();
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if rest.starts_with("</g>") {
            groups.pop();
            rest = &rest[4..];
            continue;
        }
        if rest.starts_with("<g>") || rest.starts_with("<g ") {
            let tag = &rest[..rest.find('>').expect("end of <g> tag")];
            if !tag.ends_with('/') {
                groups.push(
                    attribute(tag, "transform")
                        .and_then(translation)
                        .unwrap_or((0.0, 0.0)),
                );
            }
            rest = &rest[tag.len()..];
            continue;
        }
        if !rest.starts_with("<text") {
            rest = &rest[1..];
            continue;
        }
        let (gx, gy) = groups
            .iter()
            .fold((0.0, 0.0), |(x, y), (dx, dy)| (x + dx, y + dy));
        let tag_end = rest.find('>').expect("end of <text> tag");
        let tag = &rest[..tag_end];
        let close = rest.find("</text>").expect("</text>");
        let inner = &rest[tag_end + 1..close];
        rest = &rest[close..];
        let number = |name| attribute(tag, name).and_then(|v| v.parse::<f64>().ok());
        let (x, y) = (number("x").unwrap_or(0.0), number("y").unwrap_or(0.0));
        let class = attribute(tag, "class").unwrap_or("");
        let (class_size, bold) = class_font(class);
        let size = number("font-size").or(class_size).unwrap_or(default_size);
        // The element's own text and each <tspan>'s, each at its own size.
        let mut width = 0.0;
        let mut tallest = size;
        let mut content = String::new();
        let mut piece = inner;
        while !piece.is_empty() {
            match piece.find("<tspan") {
                Some(0) => {
                    let end = piece.find('>').expect("end of <tspan>");
                    let span_tag = &piece[..end];
                    let close = piece.find("</tspan>").expect("</tspan>");
                    let span = &piece[end + 1..close];
                    let (span_size, span_bold) =
                        class_font(attribute(span_tag, "class").unwrap_or(""));
                    let span_size = span_size.unwrap_or(size);
                    let span_bold = if span_size == size { bold } else { span_bold };
                    width += text_width(characters(span), span_size, span_bold);
                    tallest = tallest.max(span_size);
                    content.push_str(span);
                    piece = &piece[close + "</tspan>".len()..];
                }
                Some(at) => {
                    width += text_width(characters(&piece[..at]), size, bold);
                    content.push_str(&piece[..at]);
                    piece = &piece[at..];
                }
                None => {
                    width += text_width(characters(piece), size, bold);
                    content.push_str(piece);
                    piece = "";
                }
            }
        }
        let anchor = attribute(tag, "text-anchor").unwrap_or(if class.contains("end") {
            "end"
        } else if class.contains("mid") {
            "middle"
        } else {
            "start"
        });
        let left = match anchor {
            "end" => x - width,
            "middle" => x - width / 2.0,
            _ => x,
        };
        // Ascent about 0.8 em above the baseline, descent 0.25 em below.
        let corners = [
            (left, y - 0.8 * tallest),
            (left + width, y - 0.8 * tallest),
            (left, y + 0.25 * tallest),
            (left + width, y + 0.25 * tallest),
        ];
        let corners = match attribute(tag, "transform").and_then(rotation) {
            Some((angle, cx, cy)) => {
                let (sin, cos) = angle.to_radians().sin_cos();
                corners.map(|(px, py)| {
                    let (dx, dy) = (px - cx, py - cy);
                    (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
                })
            }
            None => corners,
        };
        let xs = corners.map(|c| c.0 + gx);
        let ys = corners.map(|c| c.1 + gy);
        out.push(TextBox {
            content,
            left: xs.iter().copied().fold(f64::INFINITY, f64::min),
            right: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            top: ys.iter().copied().fold(f64::INFINITY, f64::min),
            bottom: ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        });
    }
    out
}

/// The numbers of an SVG transform `name(a, b ...)`, if `transform` is one.
fn arguments(transform: &str, name: &str) -> Option<Vec<f64>> {
    transform
        .trim()
        .strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')?
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

/// `translate(dx dy)` (or `translate(dx)`).
fn translation(transform: &str) -> Option<(f64, f64)> {
    match arguments(transform, "translate")?[..] {
        [dx] => Some((dx, 0.0)),
        [dx, dy] => Some((dx, dy)),
        _ => None,
    }
}

/// `rotate(angle cx cy)` (or `rotate(angle)` about the origin).
fn rotation(transform: &str) -> Option<(f64, f64, f64)> {
    match arguments(transform, "rotate")?[..] {
        [a] => Some((a, 0.0, 0.0)),
        [a, cx, cy] => Some((a, cx, cy)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_past_the_right_edge_is_caught_and_text_inside_passes() {
        let svg = |x: f64, anchor: &str| {
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\">\
                 <text x=\"{x}\" y=\"20\" class=\"name{anchor}\">abcdefghij</text></svg>"
            )
        };
        // Ten characters at 12 px are about 77 px wide.
        let fits = |x, anchor| std::panic::catch_unwind(|| assert_text_fits(&svg(x, anchor)));
        assert!(fits(10.0, "").is_ok());
        assert!(fits(30.0, "").is_err());
        assert!(fits(95.0, " end").is_ok());
        assert!(fits(50.0, " mid").is_ok());
        assert!(fits(20.0, " mid").is_err());
    }

    #[test]
    fn rotated_text_is_measured_where_it_is_drawn() {
        let boxes = text_boxes(
            "<text x=\"30\" y=\"100\" class=\"name mid\" transform=\"rotate(-90 30 100)\">\
             abcdefghij</text>",
            16.0,
        );
        let b = &boxes[0];
        assert!(b.right - b.left < 20.0 && b.bottom - b.top > 70.0, "{b:?}");
    }
}
