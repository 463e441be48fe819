//! Human output of `pyimage check`: one annotated source snippet per finding (the offending span underlined, the
//! ARG defaults it was built from labelled, the settings that decided it), then a summary. What comes from files
//! is escaped ([`crate::terminal`]) before pyimage's own colours are added; a file name also keeps to its line
//! ([`name`]): a CI runner reads a line that starts with `::` as a workflow command.

use std::fmt::Write as _;

use pyimage_policy::check::Severity;

use pyimage_service::check::CheckReport;

use super::decision_text;
use crate::terminal::escape as esc;

/// A file name (or a message that names files) on one line: escaped as all human output, and its newlines written
/// `\n`, so that a name holding `\n::error …` cannot start a line of its own.
fn name(text: &str) -> String {
    esc(text).replace('\n', "\\n")
}

/// Human output: one annotated snippet per finding, then a summary.
pub fn human(report: &CheckReport, config_path: Option<&str>, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    for finding in &report.findings {
        let (level, code) = match finding.severity {
            Severity::Deny => ("error", "1;31"),
            _ => ("warning", "1;33"),
        };
        let _ = writeln!(
            out,
            "{}: {}",
            paint(
                code,
                &format!("{level}[{} {}]", finding.rule.id, finding.rule.name)
            ),
            esc(&finding.message)
        );
        let text = report.texts.get(&finding.file().path);
        let lines: Vec<&str> = text.map(|t| t.split('\n').collect()).unwrap_or_default();
        let max_line = finding
            .labels
            .iter()
            .map(|l| l.line)
            .chain(std::iter::once(finding.file().line))
            .max()
            .unwrap_or(1);
        let gutter = max_line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(
            out,
            "{pad}--> {}:{}:{}",
            name(&finding.file().path),
            finding.file().line,
            finding.file().column
        );
        let mut marks: Vec<(usize, usize, usize, char, String)> = vec![(
            finding.file().line,
            finding.file().column,
            if finding.file().end_line == finding.file().line {
                finding
                    .file()
                    .end_column
                    .saturating_sub(finding.file().column)
                    .max(1)
            } else {
                usize::MAX
            },
            '^',
            String::new(),
        )];
        for label in &finding.labels {
            marks.push((
                label.line,
                label.column,
                label.span.len().max(1),
                '-',
                label.message.clone(),
            ));
        }
        marks.sort_by_key(|m| (m.0, m.1));
        if lines.len() >= max_line {
            let _ = writeln!(out, "{pad} |");
            for (line, column, width, mark, message) in marks {
                let source = lines[line - 1].trim_end_matches('\r').replace('\t', " ");
                let source = source.trim_start_matches('\u{feff}');
                let available = source.chars().count().saturating_sub(column - 1).max(1);
                let width = width.min(available);
                let _ = writeln!(out, "{line:>gutter$} | {}", esc(source));
                let underline = mark.to_string().repeat(width);
                let label = if message.is_empty() {
                    String::new()
                } else {
                    format!(" {}", esc(&message))
                };
                let _ = writeln!(
                    out,
                    "{pad} | {}{}{}",
                    " ".repeat(column - 1),
                    paint(code, &underline),
                    label
                );
            }
            let _ = writeln!(out, "{pad} |");
        }
        if let Some(environment) = &finding.environment {
            let _ = writeln!(out, "{pad} = environment: {}", esc(environment));
        }
        for decision in &finding.decided_by {
            let _ = writeln!(
                out,
                "{pad} = {}",
                name(&decision_text(decision, config_path))
            );
        }
        let _ = writeln!(out, "{pad} = fix: {}", esc(&finding.fix));
        out.push('\n');
    }
    for skipped in &report.skipped {
        let _ = writeln!(out, "skipped: {}", name(&skipped.to_string()));
    }
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Deny)
        .count();
    let warnings = report.findings.len() - errors;
    let _ = writeln!(
        out,
        "{} error{}, {} warning{} in {} file{} checked ({} skipped, {} unreadable or invalid)",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        report.files_scanned,
        if report.files_scanned == 1 { "" } else { "s" },
        report.skipped.len(),
        report.errors.len()
    );
    out
}
