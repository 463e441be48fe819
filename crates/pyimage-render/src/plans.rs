//! What `pin` and `update` print: one line per pinned reference (`file:line:col: pinned … -> …`), each move of
//! `update` with what explains it, and `update --format markdown`, a pull-request body whose first line is its
//! title. Diffs (`--dry-run`) come first.

use std::fmt::Write as _;

use pyimage_policy::moves::MoveKind;
use pyimage_policy::sbom::{Change, PackageChange};
use pyimage_service::pin::PinReport;
use pyimage_service::update::UpdateReport;
use pyimage_service::update::explain::Explanation;

use crate::or_dash;

/// `pin`'s report; `would` when nothing was written (`--dry-run`, `--check`).
pub fn pin_human(report: &PinReport, would: bool, diffs: &str) -> String {
    let mut out = diffs.to_owned();
    let verb = if would { "would pin" } else { "pinned" };
    for change in &report.changes {
        let via = change
            .via_arg
            .as_ref()
            .map(|a| format!(" via {a}"))
            .unwrap_or_default();
        let python = change
            .python
            .as_ref()
            .map(|p| format!(", Python {p}"))
            .unwrap_or_default();
        let platform = change
            .platform
            .as_ref()
            .map(|p| format!(", {p} manifest"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}:{}:{}: {verb} {} -> {}{via}{platform}{python}",
            change.path, change.line, change.column, change.reference, change.pinned
        );
    }
    for skip in &report.skipped {
        let _ = writeln!(
            out,
            "{}:{}:{}: skipped {}: {}",
            skip.path, skip.line, skip.column, skip.reference, skip.reason
        );
    }
    for file in &report.skipped_files {
        let _ = writeln!(out, "{}: skipped: {}", file.path, file.message);
    }
    signature_lines(&mut out, &report.signatures);
    let lock = report
        .lock
        .as_ref()
        .map(|l| format!("; lock: {l}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{verb} {} reference(s) in {} file(s); {} skipped{lock}",
        report.changes.len(),
        report.files_changed,
        report.skipped.len(),
    );
    out
}

/// `update`'s report for a terminal: one line per move, held move and available move, each move followed by what
/// explains it; `would` with `--dry-run`.
pub fn update_human(report: &UpdateReport, would: bool, diffs: &str) -> String {
    let mut out = diffs.to_owned();
    let verb = if would { "would move" } else { "moved" };
    for change in &report.changes {
        let _ = writeln!(
            out,
            "{}:{}: {verb} {} -> {} ({}{})",
            change.path,
            change.line,
            change.old,
            change.new,
            change.kind.describe(),
            python_span(change.old_python.as_deref(), change.new_python.as_deref())
                .map(|p| format!(", Python {p}"))
                .unwrap_or_default()
        );
        if let Some(note) = &change.note {
            let _ = writeln!(out, "  {note}");
        }
        explanation_lines(&mut out, &change.explanation);
    }
    for held in &report.held {
        let eligible = held
            .eligible_at
            .as_ref()
            .map(|at| format!("; eligible {at}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}:{}: held {} -> {} ({}): {}{eligible}",
            held.path, held.line, held.reference, held.to, held.control, held.reason
        );
    }
    for available in &report.available {
        let _ = writeln!(
            out,
            "{}:{}: available {} -> {}: {}",
            available.path,
            available.line,
            available.reference,
            available.available,
            available.why_not
        );
    }
    for skip in &report.skipped {
        let _ = writeln!(
            out,
            "{}:{}: not moved {}: {}",
            skip.path, skip.line, skip.reference, skip.reason
        );
    }
    for file in &report.skipped_files {
        let _ = writeln!(out, "{}: skipped: {}", file.path, file.message);
    }
    signature_lines(&mut out, &report.signatures);
    if report.changes.is_empty() && report.held.is_empty() {
        out.push_str("All pinned Python images are current.\n");
    } else {
        let _ = writeln!(
            out,
            "{verb} {} reference(s); {} held back; {} available but not applied",
            report.changes.len(),
            report.held.len(),
            report.available.len()
        );
    }
    out
}

/// `3.12.13 → 3.12.14`, or the one version known.
fn python_span(old: Option<&str>, new: Option<&str>) -> Option<String> {
    match (old, new) {
        (Some(old), Some(new)) if old != new => Some(format!("{old} → {new}")),
        (_, Some(new)) => Some(new.to_owned()),
        (Some(old), None) => Some(old.to_owned()),
        (None, None) => None,
    }
}

/// How many package changes a terminal line or a table shows before counting the rest.
const PACKAGES_SHOWN: usize = 20;

fn explanation_lines(out: &mut String, explanation: &Explanation) {
    if let Some(served) = &explanation.first_served {
        let _ = writeln!(
            out,
            "  first served {} ({})",
            served.at,
            served.source.describe()
        );
    }
    if let Some(base) = &explanation.base_image {
        let _ = writeln!(
            out,
            "  base image: {} -> {}",
            or_dash(base.from.as_deref()),
            or_dash(base.to.as_deref())
        );
    }
    if let Some(commit) = &explanation.commit {
        let _ = writeln!(
            out,
            "  build commit: {} -> {}",
            or_dash(commit.from.as_deref()),
            or_dash(commit.to.as_deref())
        );
    }
    if !explanation.packages.is_empty() {
        let shown: Vec<String> = explanation
            .packages
            .iter()
            .take(PACKAGES_SHOWN)
            .map(PackageChange::describe)
            .collect();
        let more = explanation.packages.len().saturating_sub(PACKAGES_SHOWN);
        let _ = writeln!(
            out,
            "  packages ({}): {}{}",
            or_dash(explanation.packages_platform.as_deref()),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    for note in &explanation.unread {
        let _ = writeln!(out, "  not read: {note}");
    }
}

/// `update`'s report as a pull-request body: a `# title` line saying what moved (the example workflow takes it as
/// the pull request's title), then each move with its evidence, the moves held back and those available.
/// Registry text (package names and versions, image names) is escaped: it cannot add links, mentions or table
/// cells.
pub fn update_markdown(report: &UpdateReport, would: bool) -> String {
    // The title is registry text too (a package name): escaped like the rest, as the heading of the body.
    let mut out = format!("# {}\n\n", md_text(&update_title(report)));
    let verb = if would { "would move" } else { "moved" };
    if report.changes.is_empty() {
        out.push_str("No pinned Python base image moved.\n");
    } else {
        let _ = writeln!(
            out,
            "pyimage {verb} {} pinned Python base image reference(s). Each move below says why the digest changed \
             and what the new image holds.\n",
            report.changes.len()
        );
    }
    for change in &report.changes {
        let _ = writeln!(
            out,
            "## `{}` — {}\n",
            md_code(&change.old),
            change.kind.describe()
        );
        let _ = writeln!(
            out,
            "- **Where:** `{}:{}` (environment {})",
            md_code(&change.path),
            change.line,
            md_text(&change.environment)
        );
        let _ = writeln!(out, "- **Now:** `{}`", md_code(&change.new));
        if let Some(python) =
            python_span(change.old_python.as_deref(), change.new_python.as_deref())
        {
            let _ = writeln!(out, "- **Python:** {}", md_text(&python));
        }
        if let Some(note) = &change.note {
            let _ = writeln!(out, "- **Note:** {}", md_text(note));
        }
        explanation_markdown(&mut out, &change.explanation);
    }
    if !report.held.is_empty() {
        out.push_str("## Held back\n\n| where | reference | to | control | why | eligible |\n|---|---|---|---|---|---|\n");
        for held in &report.held {
            let _ = writeln!(
                out,
                "| `{}:{}` | `{}` | `{}` | {} | {} | {} |",
                md_code(&held.path),
                held.line,
                md_code(&held.reference),
                md_code(&held.to),
                held.control,
                md_text(&held.reason),
                held.eligible_at
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), md_text)
            );
        }
        out.push('\n');
    }
    if !report.available.is_empty() {
        out.push_str("## Available but not applied\n\n");
        for available in &report.available {
            let _ = writeln!(
                out,
                "- `{}:{}` `{}` → `{}`: {}",
                md_code(&available.path),
                available.line,
                md_code(&available.reference),
                md_code(&available.available),
                md_text(&available.why_not)
            );
        }
        out.push('\n');
    }
    for skip in &report.skipped {
        let _ = writeln!(
            out,
            "- not moved `{}:{}` `{}`: {}",
            md_code(&skip.path),
            skip.line,
            md_code(&skip.reference),
            md_text(&skip.reason)
        );
    }
    out
}

fn explanation_markdown(out: &mut String, explanation: &Explanation) {
    if let Some(served) = &explanation.first_served {
        let _ = writeln!(
            out,
            "- **First served:** {} ({})",
            md_text(&served.at),
            served.source.describe()
        );
    }
    if let Some(base) = &explanation.base_image {
        let _ = writeln!(
            out,
            "- **Base image:** `{}` → `{}`",
            md_code(or_dash(base.from.as_deref())),
            md_code(or_dash(base.to.as_deref()))
        );
    }
    if let Some(commit) = &explanation.commit {
        let shown =
            |c: &Option<String>| md_code(c.as_deref().map_or("-", |c| c.get(..12).unwrap_or(c)));
        let span = format!("`{}` → `{}`", shown(&commit.from), shown(&commit.to));
        match &commit.link {
            // The link is built from two 40-hex commits (see `update::explain`): nothing in it needs escaping.
            Some(link) => {
                let _ = writeln!(out, "- **docker-library/python:** [{span}]({link})");
            }
            None => {
                let _ = writeln!(out, "- **docker-library/python:** {span}");
            }
        }
    }
    if !explanation.packages.is_empty() {
        let security = explanation
            .packages
            .iter()
            .filter(|c| pyimage_policy::sbom::is_security_relevant(&c.name))
            .count();
        let _ = writeln!(
            out,
            "- **Packages ({}):** {} changed, {security} of them security-relevant\n",
            md_text(or_dash(explanation.packages_platform.as_deref())),
            explanation.packages.len()
        );
        out.push_str("| package | change | before | after |\n|---|---|---|---|\n");
        for change in explanation.packages.iter().take(PACKAGES_SHOWN) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_text(&change.name),
                change_word(change),
                md_text(or_dash(change.from.as_deref())),
                md_text(or_dash(change.to.as_deref()))
            );
        }
        let more = explanation.packages.len().saturating_sub(PACKAGES_SHOWN);
        if more > 0 {
            let _ = writeln!(out, "\n…and {more} more package change(s).");
        }
    }
    for note in &explanation.unread {
        let _ = writeln!(out, "- **Not read:** {}", md_text(note));
    }
    out.push('\n');
}

fn change_word(change: &PackageChange) -> &'static str {
    match change.change {
        Change::Added => "added",
        Change::Removed => "removed",
        Change::Upgraded => "upgraded",
        Change::Downgraded => "downgraded",
    }
}

/// What moved, in one line fit for a pull request's title: `python:3.12-slim: Debian rebuild (openssl 3.5.4-1 →
/// 3.5.4-2)`, `python:3.12.13-slim: Python 3.12.13 → 3.12.14`; several moves are counted after the first.
pub fn update_title(report: &UpdateReport) -> String {
    let Some(first) = report.changes.first() else {
        return match report.held.len() {
            0 => "Python base images: nothing moved".to_owned(),
            held => format!("Python base images: nothing moved, {held} held back"),
        };
    };
    let what = match first.kind {
        MoveKind::Rebuild => {
            let os = first
                .explanation
                .base_image
                .as_ref()
                .and_then(|b| b.to.as_deref())
                .map_or("", |base| {
                    if base.contains("/debian") || base.starts_with("debian") {
                        "Debian "
                    } else if base.contains("/alpine") || base.starts_with("alpine") {
                        "Alpine "
                    } else {
                        ""
                    }
                });
            let package = first
                .explanation
                .packages
                .first()
                .map(|p| format!(" ({})", p.describe()))
                .unwrap_or_default();
            format!("{os}rebuild{package}")
        }
        kind => match python_span(first.old_python.as_deref(), first.new_python.as_deref()) {
            Some(python) => format!("Python {python}"),
            None => kind.describe().to_owned(),
        },
    };
    let others = report.changes.len() - 1;
    let more = if others > 0 {
        format!(", and {others} more")
    } else {
        String::new()
    };
    // A title is one line of plain text: registry text in it loses control characters.
    one_line(&format!("{}: {what}{more}", first.old))
}

/// Registry text for a Markdown table cell or sentence: one line, with the characters that make links, emphasis,
/// mentions, HTML or cells escaped.
fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in one_line(text).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '@' | '~' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text inside a code span: one line, backticks replaced (a span cannot hold its own fence), pipes escaped for
/// tables.
fn md_code(text: &str) -> String {
    one_line(text).replace('`', "'").replace('|', "\\|")
}

/// Control and bidirectional formatting characters replaced: one visible line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// One line per signature checked by `pin`/`update`: recorded, or why not (then `check --locked` reports PY018).
pub fn signature_lines(
    out: &mut String,
    signatures: &[pyimage_service::signatures::LockedSignature],
) {
    for signature in signatures {
        let verdict = if signature.recorded() {
            "signature recorded"
        } else {
            "warning: not signed as the policy asks"
        };
        let _ = writeln!(
            out,
            "{}: {verdict}: {}",
            signature.reference, signature.check.judgement.message
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_text_cannot_escape_its_cell() {
        assert_eq!(
            md_text("a|b\n[x](y) <!channel> @team"),
            "a\\|b \\[x\\](y) \\<\\!channel\\> \\@team"
        );
        assert_eq!(md_code("x`y|z\u{202E}"), "x'y\\|z ");
    }
}
