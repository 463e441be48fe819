//! [`Finding`]: one rule violation, with one JSON shape for every front end (`check --format json`, the admission
//! webhook's messages, reports), so that a finding means the same thing wherever it is shown.

use serde::Serialize;

use pyimage_locate::dockerfile::Span;

use super::policy::{Decision, Origin, Severity};
use super::rules::RuleMeta;

/// The bytes of a file a finding points at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileSpan {
    /// The file, `/`-separated, as shown to the user.
    pub path: String,
    /// The offending bytes.
    pub span: Span,
    /// 1-based first line.
    pub line: usize,
    /// 1-based first column, in characters.
    pub column: usize,
    /// 1-based last line.
    pub end_line: usize,
    /// 1-based column just after the last character (exclusive, as in SARIF).
    pub end_column: usize,
}

/// Where the image a finding is about was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A span of a file (`check`).
    File(FileSpan),
    /// A field of a Kubernetes object (admission): the object (`Deployment team-a/web`) and the field
    /// (`spec.template.spec.containers[0].image`).
    Field {
        /// The object, as `Kind namespace/name`.
        object: String,
        /// The field path (`spec.template.spec.containers[0].image`).
        field: String,
    },
    /// A reference on its own (given on the command line or by an API caller).
    Reference,
}

/// A secondary location of a finding (e.g. the ARG default a reference was built from), in the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The byte range of the related text (the ARG default, …).
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What these bytes are to the finding (`default of ARG PY`).
    pub message: String,
}

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The violated rule: its ID (`PY004`), name and documentation.
    pub rule: &'static RuleMeta,
    /// Its severity ([`Severity::Allow`] only before the front end drops it).
    pub severity: Severity,
    /// Where the image is written.
    pub location: Location,
    /// The image (evaluated text, or as written when it could not be evaluated).
    pub reference: Option<String>,
    /// The environment the image is decided in.
    pub environment: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub fix: String,
    /// Related locations in the same file.
    pub labels: Vec<Label>,
    /// The settings that decided severity, environment or requirement.
    pub decided_by: Vec<Decision>,
}

/// Where nothing is: the file span of findings that have none.
static NOWHERE: FileSpan = FileSpan {
    path: String::new(),
    span: Span { start: 0, end: 0 },
    line: 0,
    column: 0,
    end_line: 0,
    end_column: 0,
};

impl Finding {
    /// The file span, or an empty one (line 0) for findings that are not in a file.
    pub fn file(&self) -> &FileSpan {
        match &self.location {
            Location::File(file) => file,
            _ => &NOWHERE,
        }
    }

    /// The finding as JSON: `rule`, `name`, `severity`, the location (`path`, `line`, `column`, `end_line`,
    /// `end_column` for files; `object`, `field` for Kubernetes objects), `reference`, `environment`, `message`,
    /// `fix`, `labels` (`line`, `column`, `message`) and `decided_by` (`what`, `setting`, and `path`, `line`,
    /// `column` for configuration lines), in that order.
    pub fn to_json<'a>(&'a self, config_path: Option<&'a str>) -> FindingJson<'a> {
        let file = match &self.location {
            Location::File(file) => Some(file),
            _ => None,
        };
        let (object, field) = match &self.location {
            Location::Field { object, field } => (Some(object.as_str()), Some(field.as_str())),
            _ => (None, None),
        };
        FindingJson {
            rule: self.rule.id,
            name: self.rule.name,
            severity: self.severity.as_str(),
            path: file.map(|f| f.path.as_str()),
            line: file.map(|f| f.line),
            column: file.map(|f| f.column),
            end_line: file.map(|f| f.end_line),
            end_column: file.map(|f| f.end_column),
            object,
            field,
            reference: self.reference.as_deref(),
            environment: self.environment.as_deref(),
            message: &self.message,
            fix: &self.fix,
            labels: self
                .labels
                .iter()
                .map(|label| LabelJson {
                    line: label.line,
                    column: label.column,
                    message: &label.message,
                })
                .collect(),
            decided_by: self
                .decided_by
                .iter()
                .map(|decision| {
                    let at = match &decision.origin {
                        Origin::Config { line, column, .. } => Some((*line, *column)),
                        _ => None,
                    };
                    DecisionJson {
                        what: decision.what,
                        setting: decision.origin.describe(config_path),
                        path: at.map(|_| config_path.unwrap_or("pyimage.toml")),
                        line: at.map(|(line, _)| line),
                        column: at.map(|(_, column)| column),
                    }
                })
                .collect(),
        }
    }
}

/// The JSON shape of a [`Finding`], ready for serde (field order is the output order).
#[derive(Debug, Serialize)]
pub struct FindingJson<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    reference: Option<&'a str>,
    environment: Option<&'a str>,
    message: &'a str,
    fix: &'a str,
    labels: Vec<LabelJson<'a>>,
    decided_by: Vec<DecisionJson<'a>>,
}

#[derive(Debug, Serialize)]
struct LabelJson<'a> {
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Debug, Serialize)]
struct DecisionJson<'a> {
    what: &'a str,
    setting: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl Origin {
    /// Where the setting is, for people: `pyimage.toml:4: default-environment = "test"`, `command line --env prod`,
    /// `built-in default`.
    pub fn describe(&self, config_path: Option<&str>) -> String {
        match self {
            Origin::Default => "built-in default".to_owned(),
            Origin::Config { line, text, .. } => {
                format!("{}:{line}: {text}", config_path.unwrap_or("pyimage.toml"))
            }
            Origin::CommandLine(flag) => format!("command line {flag}"),
        }
    }
}

impl Decision {
    /// `environment set by pyimage.toml:10: pattern = "deploy/prod/**"`.
    pub fn describe(&self, config_path: Option<&str>) -> String {
        format!("{} set by {}", self.what, self.origin.describe(config_path))
    }
}
