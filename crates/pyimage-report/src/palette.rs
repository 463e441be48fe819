//! The page's colours, in one place so a test can hold every pair to WCAG 2 contrast: text at least 4.5:1 on its
//! background, timeline marks at least 3:1 against the timeline's background (non-text contrast).

use crate::MoveKind;

/// Page background.
pub const BACKGROUND: &str = "#ffffff";
/// Body text.
pub const TEXT: &str = "#1f2328";
/// Secondary text (times, sources).
pub const MUTED: &str = "#57606a";
/// Background of the timeline band and table headers.
pub const BAND: &str = "#f6f8fa";
/// Denied / stale.
pub const BAD: &str = "#b42318";
/// Allowed / current.
pub const GOOD: &str = "#1a7f37";

/// The colour of each move kind's marks and legend (also used as text colour in the legend and tables).
pub const KIND_COLOURS: [(MoveKind, &str); 4] = [
    (MoveKind::Rebuild, "#0b5cad"),
    (MoveKind::Patch, "#1a7f37"),
    (MoveKind::NewerLine, "#8250df"),
    (MoveKind::Other, "#9a6700"),
];

/// The colour of a move kind.
pub fn kind_colour(kind: MoveKind) -> &'static str {
    KIND_COLOURS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(MUTED, |(_, colour)| colour)
}

/// Every (foreground, background, minimum ratio, what) pair the page uses.
pub fn palette() -> Vec<(&'static str, &'static str, f64, &'static str)> {
    let mut pairs = vec![
        (TEXT, BACKGROUND, 4.5, "text"),
        (MUTED, BACKGROUND, 4.5, "secondary text"),
        (TEXT, BAND, 4.5, "table header text"),
        (MUTED, BAND, 4.5, "secondary text on the band"),
        (BAD, BACKGROUND, 4.5, "denied / stale text"),
        (GOOD, BACKGROUND, 4.5, "allowed / current text"),
    ];
    for (_, colour) in KIND_COLOURS {
        pairs.push((colour, BACKGROUND, 4.5, "move kind text"));
        pairs.push((colour, BAND, 3.0, "timeline mark"));
    }
    pairs
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours (1.0 … 21.0); `None` for text that is not such a colour.
pub fn contrast_ratio(foreground: &str, background: &str) -> Option<f64> {
    let a = relative_luminance(foreground)?;
    let b = relative_luminance(background)?;
    let (light, dark) = if a > b { (a, b) } else { (b, a) };
    Some((light + 0.05) / (dark + 0.05))
}

fn relative_luminance(colour: &str) -> Option<f64> {
    let hex = colour.strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let channel = |range: std::ops::Range<usize>| -> Option<f64> {
        let value = u8::from_str_radix(hex.get(range)?, 16).ok()?;
        let srgb = f64::from(value) / 255.0;
        Some(if srgb <= 0.040_45 {
            srgb / 12.92
        } else {
            ((srgb + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0..2)? + 0.7152 * channel(2..4)? + 0.0722 * channel(4..6)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_matches_known_ratios() {
        let black_white = contrast_ratio("#000000", "#ffffff").unwrap();
        assert!((black_white - 21.0).abs() < 1e-9, "{black_white}");
        assert!((contrast_ratio("#ffffff", "#ffffff").unwrap() - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1 threshold grey.
        let grey = contrast_ratio("#767676", "#ffffff").unwrap();
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
        assert_eq!(contrast_ratio("red", "#ffffff"), None);
    }

    #[test]
    fn every_colour_pair_of_the_page_is_readable() {
        for (foreground, background, minimum, what) in palette() {
            let ratio = contrast_ratio(foreground, background).unwrap();
            assert!(
                ratio >= minimum,
                "{what}: {foreground} on {background} is {ratio:.2}:1, needs {minimum}:1"
            );
        }
    }
}
