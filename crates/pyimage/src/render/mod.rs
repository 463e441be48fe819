//! Renderers of `pyimage check` results: human (annotated source snippets, [`human`]), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations ([`machine`]), and the rule documentation (`--list-rules`, `--explain`, [`rules`]). Each
//! takes the whole [`Outcome`] and returns the text to print. [`history`] renders `pyimage history`.

pub mod history;
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
    /// Files not checked, with the reason: a skip directive (at its line) or a file a walk does not read (a
    /// symlink, a FIFO).
    pub skipped: Vec<pyimage_store::located::FileError>,
    /// Files that could not be read or parsed, in path order (they are not counted in `files_scanned`).
    pub errors: Vec<pyimage_store::located::FileError>,
    /// Findings in path, then file order.
    pub findings: Vec<Finding>,
    /// Texts of the files findings point into (for snippets).
    pub texts: BTreeMap<String, String>,
}

impl Outcome {
    /// Puts everything in the order the renderers promise (findings by path, position and rule; skipped files and
    /// errors by path) and takes the run's file errors.
    pub fn finish(&mut self, mut errors: Vec<pyimage_store::located::FileError>) {
        self.findings.sort_by(|a, b| {
            let (fa, fb) = (a.file(), b.file());
            (fa.path.as_str(), fa.span.start, fa.line, a.rule.id).cmp(&(
                fb.path.as_str(),
                fb.span.start,
                fb.line,
                b.rule.id,
            ))
        });
        self.skipped.sort();
        errors.sort();
        self.errors = errors;
    }

    /// What the run came to: an input error when a file could not be read or parsed, a policy failure for a
    /// deny-level finding (input errors outrank it). Skipped files do not count.
    pub fn outcome(&self) -> pyimage_service::Outcome {
        use pyimage_core::check::Severity;
        use pyimage_service::{ErrorKind, Outcome};
        let denied = self.findings.iter().any(|f| f.severity == Severity::Deny);
        Outcome::OK
            .and_if(denied, ErrorKind::Policy)
            .and_if(!self.errors.is_empty(), ErrorKind::Input)
    }
}

pub(crate) fn decision_text(decision: &Decision, config_path: Option<&str>) -> String {
    decision.describe(config_path)
}
