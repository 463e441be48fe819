//! PY014 `unused-suppression`: an inline suppression or configured ignore that matches no finding.

declare_rule! {
    UnusedSuppression,
    id: "PY014",
    name: "unused-suppression",
    severity: Warn,
    summary: "Inline suppression or `[[ignore]]` entry that matches no finding.",
    what: "Reports a `# pyimage: ignore[RULE] reason` comment that suppressed nothing on its line (or the next \
instruction), and a configuration `[[ignore]]` entry that matched no finding in the files checked.",
    why: "Stale suppressions hide future problems: once the image is fixed, the comment would silently excuse the \
next regression.",
    example: "# pyimage: ignore[PY006] still on 3.9\nFROM python:3.13-slim",
    fix: "Delete the suppression (or the `[[ignore]]` entry).",
    check: None,
}
