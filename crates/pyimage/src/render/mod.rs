//! Renderers of `pyimage check` results: human (annotated source snippets, [`human`]), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations ([`machine`]), and the rule documentation (`--list-rules`, `--explain`, [`rules`]). Each
//! takes the whole `pyimage_service::check::CheckReport` and returns the text to print. [`history`] renders `pyimage history`.

pub mod history;
mod human;
mod machine;
pub mod rules;
pub mod terminal;

pub use human::human;
pub use machine::{github, json, sarif};

use clap::ValueEnum;
use pyimage_core::check::Decision;

/// Output formats of `pyimage check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Annotated source snippets.
    Human,
    /// `{"config", "files_scanned", "skipped", "errors", "findings"}`.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

pub(crate) fn decision_text(decision: &Decision, config_path: Option<&str>) -> String {
    decision.describe(config_path)
}
