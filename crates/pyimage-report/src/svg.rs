//! One tag's timeline as inline SVG: a band from the first observation to the page's time, one mark per move coloured
//! by kind, each with a `<title>` (the hover text: when, old → new digest, Python, top package changes), and a
//! `<title>`/`<desc>` pair for the whole picture so that screen readers get the same facts in words.

use std::fmt::Write as _;

use pyimage_model::time::date_of;

use crate::escape::{escape, short_digest};
use crate::palette::{BAND, MUTED, kind_colour};
use crate::{MoveKind, Timeline};

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 64.0;
const MARGIN: f64 = 24.0;
const AXIS_Y: f64 = 26.0;

/// The SVG of one timeline ending at `now`; `id` makes the element ids unique on the page.
pub fn timeline_svg(timeline: &Timeline, now: u64, id: &str) -> String {
    let start = timeline.first_seen.min(now);
    let span = now.saturating_sub(start).max(1) as f64;
    let x_of =
        |at: u64| MARGIN + (WIDTH - 2.0 * MARGIN) * (at.clamp(start, now) - start) as f64 / span;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"timeline\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">Digest timeline of {reference}</title>\
         <desc id=\"{id}-desc\">{desc}</desc>\
         <rect x=\"0\" y=\"6\" width=\"{WIDTH}\" height=\"40\" rx=\"6\" fill=\"{BAND}\"/>\
         <line x1=\"{MARGIN}\" y1=\"{AXIS_Y}\" x2=\"{x2}\" y2=\"{AXIS_Y}\" stroke=\"{MUTED}\" stroke-width=\"2\"/>",
        reference = escape(&timeline.reference),
        desc = escape(&describe(timeline, start, now)),
        x2 = WIDTH - MARGIN,
    );
    let mut previous_x = f64::NEG_INFINITY;
    let mut lane = 0_u8;
    for (index, step) in timeline.moves.iter().enumerate() {
        let x = x_of(step.at);
        // Marks closer than their own width share a spot: alternate them above and below the axis.
        lane = if x - previous_x < 14.0 {
            (lane + 1) % 3
        } else {
            0
        };
        previous_x = x;
        let y = AXIS_Y + [0.0, -11.0, 11.0][usize::from(lane)];
        let _ = write!(
            svg,
            "<g class=\"mark\" data-kind=\"{kind}\" data-index=\"{index}\"><title>{title}</title>\
             <circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"{colour}\" stroke=\"#ffffff\" stroke-width=\"1.5\"/></g>",
            kind = kind_slug(step.kind),
            title = escape(&crate::html::move_title(step)),
            colour = kind_colour(step.kind),
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{MARGIN}\" y=\"60\" font-size=\"12\" fill=\"{MUTED}\">{from}</text>\
         <text x=\"{end}\" y=\"60\" font-size=\"12\" fill=\"{MUTED}\" text-anchor=\"end\">{to}</text></svg>",
        from = date_of(start),
        to = date_of(now),
        end = WIDTH - MARGIN,
    );
    svg
}

/// The text alternative: how many moves of each kind between which dates, and where the tag points now.
fn describe(timeline: &Timeline, start: u64, now: u64) -> String {
    let mut counts: Vec<(MoveKind, usize)> = Vec::new();
    for step in &timeline.moves {
        match counts.iter_mut().find(|(kind, _)| *kind == step.kind) {
            Some((_, count)) => *count += 1,
            None => counts.push((step.kind, 1)),
        }
    }
    let kinds: Vec<String> = counts
        .iter()
        .map(|(kind, count)| format!("{count} {}", kind_label(*kind)))
        .collect();
    let mut text = format!(
        "{} move(s) of {} between {} and {}",
        timeline.moves.len(),
        timeline.reference,
        date_of(start),
        date_of(now)
    );
    if !kinds.is_empty() {
        let _ = write!(text, ": {}", kinds.join(", "));
    }
    if let Some(current) = &timeline.current_digest {
        let _ = write!(text, "; now {}", short_digest(current));
    }
    text
}

/// The kind as a CSS/data word.
pub fn kind_slug(kind: MoveKind) -> &'static str {
    match kind {
        MoveKind::Unchanged => "unchanged",
        MoveKind::Rebuild => "rebuild",
        MoveKind::Patch => "patch",
        MoveKind::NewerLine => "newer-line",
        MoveKind::Other => "other",
    }
}

/// The kind in a few words for the legend and tables.
pub fn kind_label(kind: MoveKind) -> &'static str {
    match kind {
        MoveKind::Unchanged => "unchanged",
        MoveKind::Rebuild => "rebuild",
        MoveKind::Patch => "patch release",
        MoveKind::NewerLine => "new line",
        MoveKind::Other => "other",
    }
}
