//! What `pin` and `update` print for people: one line per pinned reference (`file:line:col: pinned … -> …`), and
//! for `update` a Markdown report fit to paste as a pull-request body. Diffs (`--dry-run`) come first.

use std::fmt::Write as _;

use pyimage_service::pin::PinReport;
use pyimage_service::update::UpdateReport;

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

/// `update`'s report, fit to paste as a pull-request body; `would` with `--dry-run`.
pub fn update_human(report: &UpdateReport, would: bool, diffs: &str) -> String {
    let mut out = diffs.to_owned();
    if report.changes.is_empty() {
        out.push_str("All pinned Python images are current.\n");
    } else {
        let verb = if would { "would move" } else { "moved" };
        let _ = writeln!(
            out,
            "## Python base images: {} {verb}\n",
            report.changes.len()
        );
        out.push_str("| file | kind | from | to | Python | built |\n|---|---|---|---|---|---|\n");
        for change in &report.changes {
            let python = match (&change.old_python, &change.new_python) {
                (Some(old), Some(new)) if old != new => format!("{old} → {new}"),
                (_, Some(new)) => new.clone(),
                _ => "-".to_owned(),
            };
            let _ = writeln!(
                out,
                "| {}:{} | {} | `{}` | `{}` | {python} | {} |",
                change.path,
                change.line,
                change.kind.describe(),
                change.old,
                change.new,
                change.built.as_deref().unwrap_or("-")
            );
        }
    }
    if !report.available.is_empty() {
        out.push_str("\nAvailable but not applied:\n");
        for available in &report.available {
            let _ = writeln!(
                out,
                "- {}:{} `{}` → `{}`: {}",
                available.path,
                available.line,
                available.reference,
                available.available,
                available.why_not
            );
        }
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
    out
}
