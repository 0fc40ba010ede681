//! Text layout without font metrics: a conservative width estimate per character, wrapping to
//! a width and shortening names. The chart tests check text against the same estimate.

/// A character's width as a share of the font size, on the wide side of DejaVu Sans and
/// Verdana (their digits are about 0.64 em): text laid out with it fits whichever of the
/// style's fonts renders it.
pub(crate) const CHAR_EM: f64 = 0.64;
/// The same for bold text (DejaVu Sans Bold's digits are about 0.70 em).
pub(crate) const BOLD_EM: f64 = 0.70;

/// The estimated width of `chars` characters at `font_size`.
pub(crate) fn text_width(chars: usize, font_size: f64, bold: bool) -> f64 {
    chars as f64 * font_size * if bold { BOLD_EM } else { CHAR_EM }
}

/// At most `max` characters of `name`, with an ellipsis when shortened.
pub(super) fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// `text` broken at spaces into lines that fit `width` pixels at `font_size` by the
/// [`text_width`] estimate; a word longer than a line is split. Never empty.
pub(crate) fn wrap(text: &str, width: f64, font_size: f64, bold: bool) -> Vec<String> {
    let max = ((width / text_width(1, font_size, bold)).floor() as usize).max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= max {
                if gap == 1 {
                    current.push(' ');
                }
                current.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            let rest = word.split_off(max);
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}
