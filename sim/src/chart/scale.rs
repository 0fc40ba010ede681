//! Numbers on a scale: the finite range of some values, round ticks over it, tick and value
//! labels in a KPI's unit, and calendar months as the axes name them. The other charts of the
//! simulator use these too.

use chanlab_shared::Month;

use crate::model::Unit;

/// The value, if it is a finite number.
pub(super) fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

/// The smallest and largest finite values, if there are any.
pub(super) fn range(values: impl Iterator<Item = Option<f64>>) -> Option<(f64, f64)> {
    values.filter_map(finite).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
    })
}

/// Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering `lo..=hi`, about
/// `target` intervals; always at least two ticks.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (lo, hi) = if hi - lo > hi.abs().max(lo.abs()) * 1e-9 {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    };
    let raw = (hi - lo) / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|f| f * magnitude)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor();
    let count = ((hi / step).ceil() - first).max(1.0) as usize;
    (0..=count.min(100))
        .map(|i| {
            let t = (first + i as f64) * step;
            if t.abs() < step * 1e-9 { 0.0 } else { t }
        })
        .collect()
}

/// The fewest decimals (up to 3) that show multiples of `step` exactly.
pub(crate) fn decimals_for(step: f64) -> usize {
    (0..3)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(3)
}

/// `value` rounded to `decimals`, without a "-0".
pub(crate) fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_owned()
    } else {
        text
    }
}

/// The divisor and suffix for compact money: 1.2M, 350k.
fn money_scale(magnitude: f64) -> (f64, &'static str) {
    match magnitude {
        m if m >= 1e9 => (1e9, "B"),
        m if m >= 1e6 => (1e6, "M"),
        m if m >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    }
}

/// A tick label: the same scale and number of decimals on every tick of an axis.
pub(crate) fn axis_label(value: f64, step: f64, magnitude: f64, unit: Unit) -> String {
    match unit {
        Unit::Money => {
            let (scale, suffix) = money_scale(magnitude);
            format!(
                "{}{suffix}",
                fixed(value / scale, decimals_for(step / scale))
            )
        }
        Unit::Share => format!("{}%", fixed(value * 100.0, decimals_for(step * 100.0))),
        Unit::Count | Unit::Ratio => fixed(value, decimals_for(step)),
    }
}

/// A value label: money compact with three significant digits, shares as percentages, counts
/// as whole numbers (one decimal below ten, where rounding would hide differences) and ratios
/// with two decimals.
pub(crate) fn value_label(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Money => {
            let (scale, suffix) = money_scale(value.abs());
            let scaled = value / scale;
            let decimals = match scaled.abs() {
                _ if scale == 1.0 => 0,
                a if a >= 99.95 => 0,
                a if a >= 9.995 => 1,
                _ => 2,
            };
            format!("{}{suffix}", fixed(scaled, decimals))
        }
        Unit::Share => format!("{}%", fixed(value * 100.0, 1)),
        Unit::Count if value.abs() < 9.95 => fixed(value, 1),
        Unit::Count => fixed(value, 0),
        Unit::Ratio => fixed(value, 2),
    }
}

/// "Jan 27": a month as the axis labels it.
pub(super) fn month_label(month: Month) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {:02}",
        NAMES[month.month() as usize - 1],
        month.year().rem_euclid(100)
    )
}
