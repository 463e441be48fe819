//! Renderers of `pyimage check` results: human (annotated source snippets), JSON, SARIF 2.1.0 and GitHub workflow
//! annotations. Each takes the whole [`Outcome`] and returns the text to print.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pyimage_core::check::{Decision, Finding, Origin, RULES, Severity};
use serde::Serialize;
use serde_json::json;

/// Everything one run of `pyimage check` produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Number of files checked.
    pub files_scanned: usize,
    /// Files not checked: (path, line, column, reason).
    pub skipped: Vec<(String, usize, usize, String)>,
    /// Findings in path, then file order.
    pub findings: Vec<Finding>,
    /// Texts of the files findings point into (for snippets).
    pub texts: BTreeMap<String, String>,
}

fn decision_text(decision: &Decision, config_path: Option<&str>) -> String {
    decision.describe(config_path)
}

/// Human output: one annotated snippet per finding, then a summary.
pub fn human(outcome: &Outcome, config_path: Option<&str>, color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    for finding in &outcome.findings {
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
            finding.message
        );
        let text = outcome.texts.get(&finding.file().path);
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
            finding.file().path,
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
                let _ = writeln!(out, "{line:>gutter$} | {source}");
                let underline = mark.to_string().repeat(width);
                let label = if message.is_empty() {
                    String::new()
                } else {
                    format!(" {message}")
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
            let _ = writeln!(out, "{pad} = environment: {environment}");
        }
        for decision in &finding.decided_by {
            let _ = writeln!(out, "{pad} = {}", decision_text(decision, config_path));
        }
        let _ = writeln!(out, "{pad} = fix: {}", finding.fix);
        out.push('\n');
    }
    for (path, line, column, reason) in &outcome.skipped {
        let _ = writeln!(out, "skipped: {path}:{line}:{column}: {reason}");
    }
    let errors = outcome
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Deny)
        .count();
    let warnings = outcome.findings.len() - errors;
    let _ = writeln!(
        out,
        "{} error{}, {} warning{} in {} file{} checked ({} skipped)",
        errors,
        if errors == 1 { "" } else { "s" },
        warnings,
        if warnings == 1 { "" } else { "s" },
        outcome.files_scanned,
        if outcome.files_scanned == 1 { "" } else { "s" },
        outcome.skipped.len()
    );
    out
}

/// `--format json`: `files_scanned`, `skipped` and `findings` in the one JSON shape of
/// [`pyimage_core::check::Finding::to_json`].
pub fn json(outcome: &Outcome, config_path: Option<&str>) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Skipped<'a> {
        path: &'a str,
        line: usize,
        column: usize,
        reason: &'a str,
    }
    #[derive(Serialize)]
    struct Output<'a> {
        files_scanned: usize,
        skipped: Vec<Skipped<'a>>,
        findings: Vec<pyimage_core::check::finding::FindingJson<'a>>,
    }
    let value = Output {
        files_scanned: outcome.files_scanned,
        skipped: outcome
            .skipped
            .iter()
            .map(|(path, line, column, reason)| Skipped {
                path,
                line: *line,
                column: *column,
                reason,
            })
            .collect(),
        findings: outcome
            .findings
            .iter()
            .map(|finding| finding.to_json(config_path))
            .collect(),
    };
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Deny => "error",
        Severity::Warn => "warning",
        Severity::Allow => "none",
    }
}

/// `--format sarif`: one run, every rule's metadata, one result per finding; configuration lines that decided a
/// finding are related locations.
pub fn sarif(outcome: &Outcome, config_path: Option<&str>) -> anyhow::Result<String> {
    let rules: Vec<_> = RULES
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.what},
                "help": {
                    "text": format!("{}\n\nWhy: {}\n\nFix: {}", rule.what, rule.why, rule.fix),
                    "markdown": rule.markdown(),
                },
                "defaultConfiguration": {"level": sarif_level(rule.default_severity)},
            })
        })
        .collect();
    let results: Vec<_> = outcome
        .findings
        .iter()
        .map(|finding| {
            let index = RULES.iter().position(|r| r.id == finding.rule.id).unwrap_or(0);
            let related: Vec<_> = finding
                .decided_by
                .iter()
                .enumerate()
                .filter_map(|(id, decision)| match &decision.origin {
                    Origin::Config { line, column, .. } => Some(json!({
                        "id": id,
                        "physicalLocation": {
                            "artifactLocation": {"uri": config_path.unwrap_or("pyimage.toml")},
                            "region": {"startLine": line, "startColumn": column},
                        },
                        "message": {"text": decision_text(decision, config_path)},
                    })),
                    _ => None,
                })
                .collect();
            let mut result = json!({
                "ruleId": finding.rule.id,
                "ruleIndex": index,
                "level": sarif_level(finding.severity),
                "message": {"text": format!("{} Fix: {}", finding.message, finding.fix)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.file().path},
                        "region": {
                            "startLine": finding.file().line,
                            "startColumn": finding.file().column,
                            "endLine": finding.file().end_line,
                            "endColumn": finding.file().end_column.max(finding.file().column + usize::from(finding.file().end_line == finding.file().line)),
                        },
                    },
                }],
                "properties": {
                    "environment": finding.environment,
                    "reference": finding.reference,
                    "fix": finding.fix,
                },
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pyimage",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/pyimage/pyimage",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    Ok(serde_json::to_string_pretty(&log)? + "\n")
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `--format github`: workflow commands (`::error file=…,line=…::message`) that GitHub Actions shows as annotations.
pub fn github(outcome: &Outcome, config_path: Option<&str>) -> String {
    let mut out = String::new();
    for finding in &outcome.findings {
        let command = match finding.severity {
            Severity::Deny => "error",
            _ => "warning",
        };
        let mut message = format!("{} Fix: {}", finding.message, finding.fix);
        for decision in &finding.decided_by {
            message.push_str(&format!(" ({})", decision_text(decision, config_path)));
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&finding.file().path),
            finding.file().line,
            finding.file().column,
            finding.file().end_line,
            finding.file().end_column,
            escape_property(finding.rule.id),
            escape_data(&message)
        );
    }
    out
}
