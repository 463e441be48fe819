//! Machine output of `pyimage check`: JSON (the core's one finding shape), SARIF 2.1.0 for code scanning, and
//! GitHub Actions workflow annotations.

use std::fmt::Write as _;

use pyimage_policy::check::{Origin, RULES, Severity};
use serde::Serialize;
use serde_json::json;

use pyimage_service::check::CheckReport;

use super::decision_text;

/// `--format json`: `config` (the file used), `files_scanned`, `skipped`, `errors` (files that could not be read or parsed) and `findings`
/// in the one JSON shape of [`pyimage_policy::check::Finding::to_json`].
pub fn json(report: &CheckReport, config_path: Option<&str>) -> serde_json::Result<String> {
    #[derive(Serialize)]
    struct Skipped<'a> {
        path: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        column: Option<usize>,
        reason: &'a str,
    }
    #[derive(Serialize)]
    struct Output<'a> {
        /// The configuration file used (none: built-in defaults).
        config: Option<&'a str>,
        files_scanned: usize,
        skipped: Vec<Skipped<'a>>,
        errors: &'a [pyimage_store::located::FileError],
        findings: Vec<pyimage_policy::check::finding::FindingJson<'a>>,
    }
    let value = Output {
        config: config_path,
        files_scanned: report.files_scanned,
        skipped: report
            .skipped
            .iter()
            .map(|skipped| Skipped {
                path: &skipped.path,
                line: skipped.line,
                column: skipped.column,
                reason: &skipped.message,
            })
            .collect(),
        errors: &report.errors,
        findings: report
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
pub fn sarif(report: &CheckReport, config_path: Option<&str>) -> serde_json::Result<String> {
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
    let results: Vec<_> = report
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
                "message": {"text": format!("{}\nFix: {}", finding.message, finding.fix)},
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
    // Files that could not be read or parsed, and files not checked, are tool execution notifications (errors and
    // notes): code scanning shows them as the run's problems, not as findings about the code.
    let notifications: Vec<_> = report
        .errors
        .iter()
        .map(|error| ("error", error))
        .chain(report.skipped.iter().map(|skipped| ("note", skipped)))
        .map(|(level, error)| {
            let mut region = json!({});
            if let Some(line) = error.line {
                region["startLine"] = json!(line);
            }
            if let Some(column) = error.column {
                region["startColumn"] = json!(column);
            }
            let mut location = json!({"artifactLocation": {"uri": error.path}});
            if error.line.is_some() {
                location["region"] = region;
            }
            json!({
                "level": level,
                "message": {"text": error.message},
                "locations": [{"physicalLocation": location}],
            })
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
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
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
pub fn github(report: &CheckReport, config_path: Option<&str>) -> String {
    let mut out = String::new();
    let problems = report
        .errors
        .iter()
        .map(|error| ("error", "pyimage could not read this file", error));
    let passed_over = (report.skipped.iter())
        .map(|skipped| ("notice", "pyimage did not check this file", skipped));
    for (command, title, file) in problems.chain(passed_over) {
        let mut place = format!("file={}", escape_property(&file.path));
        if let Some(line) = file.line {
            place.push_str(&format!(",line={line}"));
        }
        if let Some(column) = file.column {
            place.push_str(&format!(",col={column}"));
        }
        let _ = writeln!(
            out,
            "::{command} {place},title={title}::{}",
            escape_data(&file.message)
        );
    }
    for finding in &report.findings {
        let command = match finding.severity {
            Severity::Deny => "error",
            _ => "warning",
        };
        // The finding, what decided it, then the fix on its own line (`%0A` in the command).
        let mut message = finding.message.clone();
        for decision in &finding.decided_by {
            message.push_str(&format!(" ({})", decision_text(decision, config_path)));
        }
        message.push_str("\nFix: ");
        message.push_str(&finding.fix);
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
