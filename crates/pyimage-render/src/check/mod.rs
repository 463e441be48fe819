//! The renderers of `pyimage check`: human (annotated source snippets), JSON, SARIF 2.1.0 and GitHub workflow
//! annotations. Each takes the whole [`CheckReport`](pyimage_service::check::CheckReport) and returns the text.

mod human;
mod machine;

pub use human::human;
pub use machine::{github, json, sarif};

use pyimage_policy::check::Decision;

/// The line that says which setting decided a finding.
fn decision_text(decision: &Decision, config_path: Option<&str>) -> String {
    decision.describe(config_path)
}
