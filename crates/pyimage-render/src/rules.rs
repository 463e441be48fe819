//! The rules' own documentation on the terminal: `pyimage check --list-rules` and `--explain RULE`.

use std::fmt::Write as _;

use pyimage_policy::check::{RULES, RuleMeta};

/// The rule documentation `--list-rules`, `--explain RULE` or `--rules-markdown` asked for, if any; an unknown
/// rule name is an error with a "did you mean".
pub fn requested(
    list_rules: bool,
    explain_rule: Option<&str>,
    markdown: bool,
) -> Result<Option<String>, String> {
    if list_rules {
        return Ok(Some(list()));
    }
    if let Some(name) = explain_rule {
        let Some(rule) = pyimage_policy::check::find_rule(name) else {
            return Err(format!(
                "--explain {name:?}: no such rule; {}",
                pyimage_policy::check::rules::unknown_rule_hint(name)
            ));
        };
        return Ok(Some(explain(rule)));
    }
    Ok(markdown.then(pyimage_policy::check::rules::rules_markdown))
}

/// One line per rule: ID, name, default severity, summary.
pub fn list() -> String {
    let mut out = String::new();
    for rule in RULES {
        let _ = writeln!(
            out,
            "{}  {:<28} {:<5} {}",
            rule.id, rule.name, rule.default_severity, rule.summary
        );
    }
    out
}

/// One rule's documentation: what it does, why, an example and the fix.
pub fn explain(rule: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} (default: {})\n",
        rule.id, rule.name, rule.default_severity
    );
    let _ = writeln!(out, "{}\n", rule.summary);
    let _ = writeln!(out, "What it does\n  {}\n", rule.what);
    let _ = writeln!(out, "Why\n  {}\n", rule.why);
    let _ = writeln!(out, "Example");
    for line in rule.example.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\nFix\n  {}", rule.fix);
    out
}
