//! pyimage-render: what pyimage prints, as text, for every front end (the CLI, the server, CI integrations).
//!
//! Renderers take what a use case returned and give back text; they write to no stream of their own. What comes
//! from files and registries goes through [`terminal::escape`] before it reaches a terminal.
//!
//! * [`check`]: `pyimage check` as human snippets, JSON, SARIF 2.1.0 and GitHub workflow annotations;
//! * [`history`]: the recorded moves and the lock's standings (human, JSON, CSV);
//! * [`feed`]: the recorded history as a Renovate custom-datasource document;
//! * [`plans`]: what `pin` and `update` did, each move explained (`update --format markdown` is a pull-request body);
//! * [`rules`]: the rules' documentation (`--list-rules`, `--explain`);
//! * [`chain`]: `verify --chain`, the chain of trust link by link;
//! * [`provenance`]: one platform image's attestations, as `provenance` and `verify` show them;
//! * [`terminal`]: control characters made visible, and a writer that does it line by line.
#![deny(missing_docs)]

pub mod chain;
pub mod check;
pub mod docs;
pub mod feed;
pub mod history;
pub mod inventory;
pub mod plans;
pub mod provenance;
pub mod resolve;
pub mod rules;
pub mod terminal;
pub mod verify;

/// `-` for a missing value in human output.
pub fn or_dash(value: Option<&str>) -> &str {
    value.unwrap_or("-")
}
