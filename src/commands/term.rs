//! How text output meets a terminal: colour and width, decided once by `main` from
//! `--color` and `--width` before any command runs.
//!
//! Colour follows cargo and ripgrep: on when standard output is a terminal, off under
//! `NO_COLOR` (any non-empty value) or in a pipe, and `--color always|never` overrides both.
//! Tables and notes are rendered with [`anstyle`] escapes in them and written through an
//! [`anstream::AutoStream`], which strips them when colour is off; text written to a file
//! goes through [`plain`] first.
//!
//! Width: `--width N`, else the terminal's width when standard output is one, else
//! unlimited (a pipe or a file gets every table whole, so scripts see one layout).

use std::io::IsTerminal;
use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};

use crate::cli::ColorWhen;

/// The width chosen at start-up: `None` is unlimited.
static WIDTH: OnceLock<Option<usize>> = OnceLock::new();

/// A check that held: PASS, a reproduced finding.
pub(crate) const GOOD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)))
    .bold();
/// A check that failed: FAIL.
pub(crate) const BAD: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
/// A significance marker (★: the interval excludes 0).
pub(crate) const MARK: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();

/// Sets the colour choice (for every [`anstream`] stream) and the width.
pub(crate) fn init(color: ColorWhen, width: Option<u16>) {
    let choice = match color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    let width = match width {
        Some(n) => Some(usize::from(n)),
        None if std::io::stdout().is_terminal() => {
            terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
        }
        None => None,
    };
    let _ = WIDTH.set(width);
}

/// The columns text output may use, `None` for no limit.
pub(crate) fn width() -> Option<usize> {
    WIDTH.get().copied().flatten()
}

/// `text` in `style` (escapes that the output stream keeps or strips).
pub(crate) fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// `text` without colour escapes, for a file.
pub(crate) fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// The columns `text` takes on a terminal: its characters, escapes not counted.
pub(crate) fn display_width(text: &str) -> usize {
    anstream::adapter::strip_str(text)
        .map(|s| s.chars().count())
        .sum()
}

/// Wraps every line of `text` longer than [`width`] at spaces, keeping its indentation
/// for the continuation lines; a word longer than the line is cut.
pub(crate) fn fit(text: &str) -> String {
    match width() {
        Some(w) => fit_to(text, w),
        None => text.to_owned(),
    }
}

/// [`fit`] to a given width.
pub(crate) fn fit_to(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if display_width(body) <= width {
            out.push_str(line);
            continue;
        }
        // Indentation is kept up to half the line, so a word always has room.
        let indent_len = (body.len() - body.trim_start_matches(' ').len()).min(width / 2);
        // Continuation lines are indented like the first, two more, while that leaves room.
        let indent = " ".repeat((indent_len + 2).min(width / 2));
        let mut current = " ".repeat(indent_len);
        let mut current_width = indent_len;
        let mut fresh = true;
        for word in body.split(' ').filter(|w| !w.is_empty()) {
            let mut word = word.to_owned();
            loop {
                let ww = display_width(&word);
                let gap = usize::from(!fresh);
                if current_width + gap + ww <= width {
                    if !fresh {
                        current.push(' ');
                    }
                    current.push_str(&word);
                    current_width += gap + ww;
                    fresh = false;
                    break;
                }
                if !fresh {
                    out.push_str(&current);
                    out.push('\n');
                    current = indent.clone();
                    current_width = indent.len();
                    fresh = true;
                    continue;
                }
                // A word longer than a whole line: cut it (plain text: no escapes inside).
                let room = width.saturating_sub(current_width).max(1);
                let plain_word = plain(&word);
                let cut: String = plain_word.chars().take(room).collect();
                let rest: String = plain_word.chars().skip(room).collect();
                current.push_str(&cut);
                out.push_str(&current);
                out.push('\n');
                current = indent.clone();
                current_width = indent.len();
                word = rest;
                if word.is_empty() {
                    break;
                }
            }
        }
        out.push_str(&current);
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_wraps_long_lines_at_spaces_and_cuts_long_words() {
        let text = "short\n  a line with several words that goes on\nabcdefghijklmnop\n\
                    \x20                     deeply indented words\n";
        let fitted = fit_to(text, 12);
        for line in fitted.lines() {
            assert!(line.chars().count() <= 12, "{line:?} in {fitted:?}");
        }
        assert!(
            fitted.starts_with("short\n  a line\n    with\n"),
            "{fitted:?}"
        );
        assert!(fitted.contains("abcdefghijkl\n  mnop\n"), "{fitted:?}");
    }

    #[test]
    fn stripping_keeps_every_character_that_is_not_an_escape() {
        // What a pipe gets: JSON and records' text pass through unchanged, C1 controls and
        // multi-byte characters included (serde_json writes those raw).
        let text = "a\u{9b}b é ★ \u{85} \u{9b}31m x \"\\u001b[31m\"";
        assert_eq!(plain(text), text);
    }

    #[test]
    fn colour_escapes_take_no_width() {
        let red = paint(BAD, "FAIL");
        assert_eq!(display_width(&red), 4);
        assert_eq!(plain(&red), "FAIL");
        assert_ne!(red, "FAIL");
    }
}
