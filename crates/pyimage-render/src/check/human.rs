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

/// `text`'s lines; in tests, counts the bytes split (the work rendering does per source file).
fn split_lines(text: &str) -> Vec<&str> {
    #[cfg(test)]
    tests::SPLIT.with(|split| split.set(split.get() + text.len()));
    text.split('\n').collect()
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
    let mut split: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
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
        // Split once per file: a file with 20,000 findings was split 20,000 times (quadratic).
        let lines: &[&str] = match report.texts.get(&finding.file().path) {
            Some(text) => split
                .entry(finding.file().path.as_str())
                .or_insert_with(|| split_lines(text)),
            None => &[],
        };
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
    let denied = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Deny)
        .count();
    let warnings = report.findings.len() - denied;
    let plural = |count: usize| if count == 1 { "" } else { "s" };
    let _ = write!(
        out,
        "{denied} denied, {warnings} warning{} in {} file{} checked, {} skipped",
        plural(warnings),
        report.files_scanned,
        plural(report.files_scanned),
        report.skipped.len(),
    );
    // A file not read is not "no errors": say so where the counts are read, before the errors on stderr.
    if !report.errors.is_empty() {
        let _ = write!(
            out,
            "; {} file{} could not be read or parsed (on stderr)",
            report.errors.len(),
            plural(report.errors.len())
        );
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyimage_locate::FileKind;
    use pyimage_locate::dockerfile::ScanOptions;
    use pyimage_policy::check::{CheckContext, Policy, check_file};

    thread_local! {
        /// Bytes of source text split into lines by this thread's renders.
        pub(super) static SPLIT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// A Dockerfile of `stages` end-of-life stages (each line one finding), checked as `check` does.
    fn report_of(stages: usize) -> CheckReport {
        let text: String = (0..stages)
            .map(|i| format!("FROM python:3.{}-slim AS s{i}\n", 8 + i % 2))
            .collect();
        let build = ScanOptions::default();
        let context = CheckContext {
            today: pyimage_model::time::Date::ymd(2026, 11, 23),
            lock: None,
            build: &build,
            signatures: None,
        };
        let file = check_file(
            "Dockerfile",
            &text,
            FileKind::Dockerfile,
            &Policy::default(),
            &context,
        );
        CheckReport {
            files_scanned: 1,
            skipped: Vec::new(),
            errors: Vec::new(),
            findings: file.findings,
            texts: [("Dockerfile".to_owned(), text)].into(),
        }
    }

    fn bytes_split(report: &CheckReport) -> usize {
        SPLIT.with(|split| split.set(0));
        let out = human(report, None, false);
        assert!(out.contains("-slim AS s"), "{out}");
        SPLIT.with(std::cell::Cell::get)
    }

    /// Twice the findings cost twice the work, not four times: each source file is split into lines once, however
    /// many findings point into it (20,000 findings in one file took 3.3 s, JSON 0.12 s).
    #[test]
    fn rendering_work_grows_linearly_with_findings() {
        let (small, large) = (report_of(1_000), report_of(2_000));
        assert!(small.findings.len() >= 1_000, "{}", small.findings.len());
        let (once, twice) = (bytes_split(&small), bytes_split(&large));
        assert!(
            twice <= 2 * once + once / 10,
            "1,000 findings split {once} bytes, 2,000 split {twice}"
        );
        assert_eq!(once, small.texts["Dockerfile"].len());
    }
}
