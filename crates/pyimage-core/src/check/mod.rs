//! `pyimage check`: a base-image policy over Dockerfiles, Compose files and Kubernetes manifests.
//!
//! The caller reads a file and hands its text, its path (relative, `/`-separated) and today's date to
//! [`check_file`], which scans it ([`crate::dockerfile`], [`crate::manifests`]), classifies every image
//! ([`rules::classify`]), picks the environment of the path ([`Policy::environment_for`]), runs the rules
//! ([`rules::RULES`]), applies configured ignores and inline suppressions ([`suppress`]), and returns
//! [`Finding`]s with exact spans and the configuration lines that decided them. Nothing here reads files or clocks.

pub mod eol;
pub mod policy;
pub mod rules;
pub mod suppress;

use std::collections::BTreeSet;

use crate::dockerfile::{self, ArgUse, Evaluation, ImageKind, Span, source::LineIndex};
use crate::manifests::{self, ManifestKind, SkipReason};
use crate::python::PythonTag;
use crate::reference::Reference;

pub use eol::Date;
pub use policy::{
    Decision, EnvSettings, Ignore, NamespaceRule, Origin, PathRule, Policy, Scope, Severity,
    SourcePattern,
};
pub use rules::{RULES, RuleMeta, find_rule};

/// Which kind of file is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A Compose file.
    Compose,
    /// Kubernetes manifests.
    Kubernetes,
}

impl FileKind {
    /// The kind a file name suggests (see [`dockerfile::is_dockerfile_name`], [`manifests::kind_for_file_name`]).
    pub fn for_file_name(file_name: &str) -> Option<Self> {
        if dockerfile::is_dockerfile_name(file_name) {
            return Some(FileKind::Dockerfile);
        }
        manifests::kind_for_file_name(file_name).map(|kind| match kind {
            ManifestKind::Compose => FileKind::Compose,
            ManifestKind::Kubernetes => FileKind::Kubernetes,
        })
    }
}

/// Where an image is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiteKind {
    /// `# syntax=` directive.
    Syntax,
    /// `FROM`.
    From,
    /// `COPY --from`.
    CopyFrom,
    /// `RUN --mount=from=`.
    MountFrom,
    /// A Compose service's `image`.
    Compose,
    /// A Kubernetes container's `image`.
    Kubernetes,
}

/// An image as recorded in the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedImage {
    /// The tag, if the lock records one.
    pub tag: Option<String>,
    /// The digest (`sha256:…`).
    pub digest: String,
}

/// Access to `pyimage.lock` (next issue). [`CheckContext::lock`] is `None` until it exists, and PY008 is inactive.
pub trait LockLookup: std::fmt::Debug + Sync {
    /// The locked image for a reference used in `path`, if the lock has one.
    fn locked(&self, path: &str, reference: &Reference) -> Option<LockedImage>;
}

/// What the check needs besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// Today (end-of-life decisions).
    pub today: Date,
    /// The lock file, when there is one.
    pub lock: Option<&'a dyn LockLookup>,
}

/// A secondary location of a finding (e.g. the ARG default a reference was built from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What it is.
    pub message: String,
}

/// One rule violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: &'static RuleMeta,
    /// Its severity (never [`Severity::Allow`]: those are dropped).
    pub severity: Severity,
    /// The file (as given to [`check_file`], or the configuration file for unused `[[ignore]]` entries).
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
    /// The image (evaluated text, or as written when it could not be evaluated).
    pub reference: Option<String>,
    /// The environment the file is in.
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

/// A file that was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Why.
    pub reason: SkipReason,
    /// 1-based line where the reason shows.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A file that could not be read as what its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// What is wrong.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// The result of checking one file.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// Findings, in file order.
    pub findings: Vec<Finding>,
    /// Set when the file was skipped (Helm templates).
    pub skipped: Option<Skipped>,
    /// Set when the file is not valid (invalid YAML); findings before the error are kept.
    pub error: Option<InputError>,
    /// Indexes of [`Policy::ignores`] that matched something here.
    pub used_ignores: BTreeSet<usize>,
    /// Number of image references found.
    pub images: usize,
}

/// One image use, from either scanner.
struct Site<'a> {
    kind: SiteKind,
    written: &'a str,
    span: Span,
    evaluation: &'a Evaluation,
    args: &'a [ArgUse],
}

/// Checks one file.
pub fn check_file(
    path: &str,
    text: &str,
    kind: FileKind,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> FileReport {
    let mut report = FileReport::default();
    let lines = LineIndex::new(text);
    let (environment, environment_origin) = policy.environment_for(path);
    let Some(settings) = policy.environments.get(environment) else {
        // `Policy::validate` rejects unknown environments; nothing sensible to check against.
        return report;
    };
    let mut raw: Vec<Finding> = Vec::new();
    let mut visit = |site: Site<'_>| {
        let image = image_check(&site, policy, environment, settings, context, path);
        for rule in RULES {
            let Some(check) = rule.check else { continue };
            let Some(hit) = check(&image) else { continue };
            let mut finding = finding(
                rule,
                policy,
                path,
                text,
                &lines,
                site.span,
                hit.message,
                hit.fix,
            );
            finding.reference = Some(
                image
                    .reference
                    .map_or_else(|| site.written.to_owned(), |r| r.familiar_string()),
            );
            finding.environment = Some(environment.to_owned());
            if !matches!(environment_origin, Origin::Default) {
                finding.decided_by.push(Decision {
                    what: "environment",
                    origin: environment_origin.clone(),
                });
            }
            finding.decided_by.extend(hit.decided_by);
            for arg in site.args {
                if let Some(default) = arg.default_span {
                    let (line, column) = lines.position(text, default.start);
                    finding.labels.push(Label {
                        span: default,
                        line,
                        column,
                        message: format!("default of ARG {}", arg.name),
                    });
                }
            }
            raw.push(finding);
        }
    };
    match kind {
        FileKind::Dockerfile => {
            let scan = dockerfile::scan(text);
            report.images = scan.images.len();
            for image in &scan.images {
                visit(Site {
                    kind: match image.kind {
                        ImageKind::Syntax => SiteKind::Syntax,
                        ImageKind::From => SiteKind::From,
                        ImageKind::CopyFrom => SiteKind::CopyFrom,
                        ImageKind::MountFrom => SiteKind::MountFrom,
                    },
                    written: &image.written,
                    span: image.span,
                    evaluation: &image.evaluation,
                    args: &image.args,
                });
            }
        }
        FileKind::Compose | FileKind::Kubernetes => {
            let scan = if kind == FileKind::Compose {
                manifests::scan_compose(text)
            } else {
                manifests::scan_kubernetes(text)
            };
            report.images = scan.images.len();
            if let Some(skipped) = scan.skipped {
                report.skipped = Some(Skipped {
                    reason: skipped.reason,
                    line: skipped.line,
                    column: skipped.column,
                });
            }
            if let Some(error) = &scan.error {
                report.error = Some(InputError {
                    message: error.message.clone(),
                    line: error.line,
                    column: error.column,
                });
            }
            let site_kind = if kind == FileKind::Compose {
                SiteKind::Compose
            } else {
                SiteKind::Kubernetes
            };
            for image in &scan.images {
                visit(Site {
                    kind: site_kind,
                    written: &image.written,
                    span: image.span,
                    evaluation: &image.evaluation,
                    args: &[],
                });
            }
        }
    }

    // Configured ignores, then inline suppressions.
    let mut suppressions = suppress::find(text);
    let mut used_suppressions = vec![false; suppressions.len()];
    for finding in raw {
        let reference = finding
            .reference
            .as_deref()
            .and_then(|r| Reference::parse_normalized(r).ok());
        if let Some(index) = policy
            .ignores
            .iter()
            .position(|ignore| ignore.covers(finding.rule.id, path, reference.as_ref()))
        {
            report.used_ignores.insert(index);
            continue;
        }
        let suppressed = suppressions.iter().position(|s| {
            s.target_line == finding.line
                && !s.reason.is_empty()
                && s.rules.iter().any(|r| r.id == finding.rule.id)
        });
        if let Some(index) = suppressed {
            used_suppressions[index] = true;
            continue;
        }
        if finding.severity != Severity::Allow {
            report.findings.push(finding);
        }
    }
    for (index, suppression) in suppressions.drain(..).enumerate() {
        let problem = if suppression.reason.is_empty() {
            Some((
                &rules::py013_suppression_without_reason::SuppressionWithoutReason::META,
                "suppression without a reason: it suppresses nothing".to_owned(),
                "write why after the bracket: `# pyimage: ignore[PY006] replaced in Q3 (TICKET-1)`",
            ))
        } else if !suppression.unknown.is_empty() {
            Some((
                &rules::py013_suppression_without_reason::SuppressionWithoutReason::META,
                format!(
                    "suppression names unknown rule{} {}",
                    if suppression.unknown.len() == 1 {
                        ""
                    } else {
                        "s"
                    },
                    suppression.unknown.join(", ")
                ),
                "name rules by ID (PY001) or name (untagged); `pyimage check --list-rules` lists them",
            ))
        } else if !used_suppressions[index] {
            Some((
                &rules::py014_unused_suppression::UnusedSuppression::META,
                format!(
                    "suppression of {} matches no finding on line {}",
                    suppression
                        .rules
                        .iter()
                        .map(|r| r.id)
                        .collect::<Vec<_>>()
                        .join(", "),
                    suppression.target_line
                ),
                "delete the suppression",
            ))
        } else {
            None
        };
        if let Some((rule, message, fix)) = problem {
            let mut finding = finding(
                rule,
                policy,
                path,
                text,
                &lines,
                suppression.span,
                message,
                fix.to_owned(),
            );
            finding.environment = Some(environment.to_owned());
            if finding.severity != Severity::Allow {
                report.findings.push(finding);
            }
        }
    }
    report
        .findings
        .sort_by(|a, b| (a.span.start, a.rule.id).cmp(&(b.span.start, b.rule.id)));
    report
}

#[allow(clippy::too_many_arguments)]
fn finding(
    rule: &'static RuleMeta,
    policy: &Policy,
    path: &str,
    text: &str,
    lines: &LineIndex,
    span: Span,
    message: String,
    fix: String,
) -> Finding {
    let (severity, origin) = policy.severity(rule);
    let (line, column) = lines.position(text, span.start);
    let (end_line, end_column) = lines.position(text, span.end);
    let mut decided_by = Vec::new();
    if !matches!(origin, Origin::Default) {
        decided_by.push(Decision {
            what: "severity",
            origin,
        });
    }
    Finding {
        rule,
        severity,
        path: path.to_owned(),
        span,
        line,
        column,
        end_line,
        end_column,
        reference: None,
        environment: None,
        message,
        fix,
        labels: Vec::new(),
        decided_by,
    }
}

fn image_check<'a>(
    site: &'a Site<'a>,
    policy: &'a Policy,
    environment: &'a str,
    settings: &'a EnvSettings,
    context: &CheckContext<'a>,
    path: &'a str,
) -> rules::ImageCheck<'a> {
    let (reference, reference_error, unresolvable) = match site.evaluation {
        Evaluation::Resolved {
            reference: Ok(reference),
            ..
        } => (Some(reference), None, None),
        Evaluation::Resolved {
            text,
            reference: Err(error),
        } => (None, Some((text.as_str(), error)), None),
        Evaluation::Unresolvable(why) => (None, None, Some(why)),
    };
    let source = reference.map_or(rules::Source::Other, |r| rules::classify(r, policy));
    let tag = reference
        .filter(|_| source.is_official_python())
        .map(|r| PythonTag::parse(r.tag().unwrap_or("latest")));
    rules::ImageCheck {
        site: site.kind,
        written: site.written,
        reference,
        reference_error,
        unresolvable,
        uses_args: !site.args.is_empty(),
        source,
        tag,
        environment,
        settings,
        policy,
        today: context.today,
        path,
        lock: context.lock,
    }
}

/// Findings for configured ignores (`[[ignore]]`) that matched nothing, given the union of
/// [`FileReport::used_ignores`] over every file checked. They point at the configuration file.
pub fn unused_ignores(policy: &Policy, used: &BTreeSet<usize>) -> Vec<Finding> {
    let rule = &rules::py014_unused_suppression::UnusedSuppression::META;
    let (severity, origin) = policy.severity(rule);
    if severity == Severity::Allow {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, ignore) in policy.ignores.iter().enumerate() {
        if used.contains(&index) {
            continue;
        }
        let (line, column, text) = match &ignore.origin {
            Origin::Config { line, column, text } => (*line, *column, text.clone()),
            _ => (1, 1, String::new()),
        };
        let mut decided_by = Vec::new();
        if !matches!(origin, Origin::Default) {
            decided_by.push(Decision {
                what: "severity",
                origin: origin.clone(),
            });
        }
        out.push(Finding {
            rule,
            severity,
            path: policy
                .config_path
                .clone()
                .unwrap_or_else(|| "pyimage.toml".to_owned()),
            span: Span::default(),
            line,
            column,
            end_line: line,
            end_column: column + text.chars().count(),
            reference: None,
            environment: None,
            message: format!(
                "[[ignore]] of {} matches no finding in the files checked",
                ignore.rules.join(", ")
            ),
            fix: "delete the [[ignore]] entry".to_owned(),
            labels: Vec::new(),
            decided_by,
        });
    }
    out
}
