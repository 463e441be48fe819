//! Renderers of `pyimage check` results: human (annotated source snippets, [`human`]), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations ([`machine`]), and the rule documentation (`--list-rules`, `--explain`, [`rules`]). Each
//! takes the whole [`Outcome`] and returns the text to print.

mod human;
mod machine;
pub mod rules;
pub mod terminal;

pub use human::human;
pub use machine::{github, json, sarif};

use std::collections::BTreeMap;

use clap::ValueEnum;
use pyimage_core::check::{Decision, Finding};

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

/// Everything one run of `pyimage check` produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Number of files checked.
    pub files_scanned: usize,
    /// Files not checked: (path, line, column, reason).
    pub skipped: Vec<(String, usize, usize, String)>,
    /// Files that could not be read or parsed, in path order (they are not counted in `files_scanned`).
    pub errors: Vec<crate::files::FileError>,
    /// Findings in path, then file order.
    pub findings: Vec<Finding>,
    /// Texts of the files findings point into (for snippets).
    pub texts: BTreeMap<String, String>,
}

pub(crate) fn decision_text(decision: &Decision, config_path: Option<&str>) -> String {
    decision.describe(config_path)
}
