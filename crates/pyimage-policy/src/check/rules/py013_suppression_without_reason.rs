//! PY013 `suppression-without-reason`: an inline `# pyimage: ignore[…]` without a reason.

declare_rule! {
    SuppressionWithoutReason,
    id: "PY013",
    name: "suppression-without-reason",
    severity: Deny,
    summary: "Inline suppression without a reason (it suppresses nothing).",
    what: "Reports a `# pyimage: ignore[RULE]` comment with no text after the closing bracket, or naming a rule \
that does not exist. Such a comment suppresses nothing.",
    why: "A suppression is a decision someone took; the reason is what lets the next reader judge whether it still \
holds.",
    example: "# pyimage: ignore[PY006]\nFROM python:3.9-slim",
    fix: "Write why: `# pyimage: ignore[PY006] legacy worker, replaced in Q3 (TICKET-123)`.",
    check: None,
}
