//! `pyimage check`: a base-image policy over Dockerfiles, Compose files and Kubernetes manifests.
//!
//! The caller reads a file and hands its text, its path (relative, `/`-separated) and today's date to
//! [`check_file`], which scans it ([`pyimage_locate::dockerfile`], [`pyimage_locate::manifests`]), classifies every image
//! ([`rules::classify`]), picks the environment of the path ([`Policy::environment_for`]), runs the rules
//! ([`rules::RULES`]), applies configured ignores and inline suppressions ([`suppress`]), and returns
//! [`Finding`]s with exact spans and the configuration lines that decided them. Nothing here reads files or clocks.

pub mod content_trust;
pub mod eol;
pub mod evaluate;
pub mod finding;
pub mod inventory;
pub mod policy;
pub mod rules;
pub mod suppress;
pub mod vendors;

use std::collections::BTreeSet;

use pyimage_locate::dockerfile::{self, ArgUse, ImageKind, Span};
use pyimage_locate::manifests::{self, ManifestKind, SkipReason};
use pyimage_model::text::LineIndex;

pub use eol::Date;
pub use evaluate::{ImageDecision, ImageToDecide, evaluate_image, evaluate_reference};
pub use finding::{FileSpan, Finding, Label, Location};
pub use policy::{
    Decision, EnvSettings, Ignore, NamespaceRule, Origin, PathRule, Policy, Scope, Severity,
    SourcePattern,
};
pub use pyimage_locate::FileKind;
pub use rules::{RULES, RuleMeta, find_rule};

/// Where an image is used: an image of a Dockerfile (its instruction), or an image field of a manifest (its kind of
/// file: a Compose service, a Kubernetes Pod, a workflow's container, a Kustomization's `images:` entry, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiteKind {
    /// An image of a Dockerfile: `# syntax=`, `FROM`, `COPY --from`, `RUN --mount=from=`.
    Dockerfile(ImageKind),
    /// An image field of a manifest. Kubernetes JSON is [`ManifestKind::Kubernetes`] ([`SiteKind::of_manifest`]).
    Manifest(ManifestKind),
}

impl SiteKind {
    /// An image of a Kubernetes Pod (admission's, and `check`'s in Kubernetes YAML or JSON).
    pub const KUBERNETES: SiteKind = SiteKind::Manifest(ManifestKind::Kubernetes);

    /// Where an image of a file of `kind` is used.
    pub fn of_manifest(kind: ManifestKind) -> Self {
        match kind {
            ManifestKind::Json => SiteKind::KUBERNETES,
            other => SiteKind::Manifest(other),
        }
    }
}

/// What the check needs besides the policy.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// Today (end-of-life decisions).
    pub today: Date,
    /// `pyimage.lock`, with `--locked` (PY008 is inactive without it).
    pub lock: Option<&'a pyimage_model::lock::Lock>,
    /// `--build-arg`s: Dockerfile references are evaluated with them in place of the ARG defaults, as
    /// `docker build` would.
    pub build: &'a dockerfile::ScanOptions,
    /// Signatures read at registries (`serve`); without them PY018 reads what `pyimage.lock` records.
    pub signatures: Option<&'a crate::signatures::SignatureFacts>,
}

/// A file that was not checked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Why it was skipped (a Helm-style template, not YAML until rendered).
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
    /// A JSON file that is no Kubernetes object (`package.json`): not a file pyimage checks.
    pub not_a_manifest: bool,
}

/// With `--locked`, a PY008 that asks for `pyimage pin` on a reference `pin` refuses to pin (a digest after an
/// ARG, a shared ARG, a Compose variable, a value written as a block scalar) would send the user in a circle: say
/// why `pin` leaves it and what to change instead — the same reason `pin` prints.
fn explain_unpinnable(
    findings: &mut [Finding],
    text: &str,
    kind: FileKind,
    policy: &Policy,
    context: &CheckContext<'_>,
) {
    if context.lock.is_none() || !findings.iter().any(|f| f.rule.id == "PY008") {
        return;
    }
    let wanted = |reference: &pyimage_model::reference::Reference| {
        rules::pinned_by_pyimage(reference, policy)
    };
    let refusals: Vec<(usize, usize, String)> =
        pyimage_locate::pin::candidates(kind, text, context.build, &wanted)
            .into_iter()
            .filter_map(|candidate| {
                let refusal = candidate.site.err()?;
                Some((candidate.line, candidate.column, refusal.to_string()))
            })
            .collect();
    for finding in findings.iter_mut().filter(|f| f.rule.id == "PY008") {
        let (line, column) = (finding.file().line, finding.file().column);
        if let Some((_, _, refusal)) = refusals.iter().find(|(l, c, _)| *l == line && *c == column)
        {
            finding.fix = format!("`pyimage pin` leaves this reference as it is: {refusal}");
        }
    }
}

/// Checks one file: every image reference it holds is decided by [`evaluate_image`] in the file's scope, located
/// at its exact span (with the ARG defaults it was built from), then inline suppressions apply.
pub fn check_file(
    path: &str,
    text: &str,
    kind: FileKind,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> FileReport {
    let mut report = FileReport::default();
    let lines = LineIndex::new(text);
    let scope = Scope::file(path);
    let (environment, _) = policy.environment_of(&scope);
    let environment = environment.to_owned();
    let mut raw: Vec<Finding> = Vec::new();
    let mut visit = |image: ImageToDecide<'_>, span: Span, args: &[ArgUse]| {
        let decision = evaluate_image(&image, &scope, policy, context);
        report.used_ignores.extend(decision.used_ignores);
        for mut finding in decision.findings {
            finding.location = Location::File(file_span(path, text, &lines, span));
            // A default replaced by a build argument is not where the value came from.
            for arg in args.iter().filter(|arg| !arg.overridden) {
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
    let scanned = scan_images(text, kind, context, &mut visit);
    report.images = scanned.images;
    report.not_a_manifest = scanned.not_a_manifest;
    report.skipped = scanned.skipped;
    report.error = scanned.error;
    if report.skipped.is_none() && !report.not_a_manifest {
        for span in content_trust::find(text) {
            let mut finding = checker_finding(
                &rules::py017_docker_content_trust::DockerContentTrust::META,
                policy,
                "DOCKER_CONTENT_TRUST enables Docker Content Trust, retired for official images: after the Notary \
                 shutdown (2026-12-08) pulls of them fail with it"
                    .to_owned(),
                "remove it; pin the image by digest (`pyimage pin`) and check it with `pyimage verify`".to_owned(),
            );
            finding.location = Location::File(file_span(path, text, &lines, span));
            finding.environment = Some(environment.clone());
            raw.push(finding);
        }
    }

    // One finding per source span: a Compose anchor merged into three services is one image written once, so it
    // is one finding, not three (the same reference in the same environment decides the same way).
    let mut seen = BTreeSet::new();
    raw.retain(|finding| {
        seen.insert((
            finding.rule.id,
            finding.file().span.start,
            finding.file().span.end,
        ))
    });
    explain_unpinnable(&mut raw, text, kind, policy, context);
    // Configured ignores were applied by `evaluate_image`; inline suppressions are the file's own.
    let mut suppressions = suppress::find(text);
    let mut used_suppressions = vec![false; suppressions.len()];
    for finding in raw {
        let line = finding.file().line;
        let suppressed = suppressions.iter().position(|s| {
            s.target_line == line
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
                    suppression
                        .unknown
                        .iter()
                        .map(|name| match rules::suggest_rule(name) {
                            Some(rule) =>
                                format!("{name} (did you mean {} ({})?)", rule.id, rule.name),
                            None => name.clone(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
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
            let mut finding = checker_finding(rule, policy, message, fix.to_owned());
            finding.location = Location::File(file_span(path, text, &lines, suppression.span));
            finding.environment = Some(environment.clone());
            if finding.severity != Severity::Allow {
                report.findings.push(finding);
            }
        }
    }
    report
        .findings
        .sort_by(|a, b| (a.file().span.start, a.rule.id).cmp(&(b.file().span.start, b.rule.id)));
    report
}

/// What scanning a file for images came to, besides the images themselves.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Number of image references found.
    pub images: usize,
    /// A JSON file that is no Kubernetes object.
    pub not_a_manifest: bool,
    /// Why the file was skipped, if it was.
    pub skipped: Option<Skipped>,
    /// Why the file is not valid, if it is not (images before the error were still visited).
    pub error: Option<InputError>,
}

/// Scans `text` as a file of `kind` and hands `visit` every image reference it holds, with its span and, in a
/// Dockerfile, the ARG uses that built it: the one walk over a file's images that the check and the inventory share.
pub(crate) fn scan_images(
    text: &str,
    kind: FileKind,
    context: &CheckContext<'_>,
    visit: &mut dyn FnMut(ImageToDecide<'_>, Span, &[ArgUse]),
) -> Scanned {
    let mut scanned = Scanned::default();
    match kind {
        FileKind::Dockerfile => {
            let scan = dockerfile::scan_with(text, context.build);
            scanned.images = scan.images.len();
            // A Dockerfile template lists no images: it is skipped with the reason, as a YAML template is.
            scanned.skipped = scan.skipped.as_ref().map(|skipped| Skipped {
                reason: skipped.reason,
                line: skipped.line,
                column: skipped.column,
            });
            for image in &scan.images {
                let use_ = ImageToDecide {
                    site: SiteKind::Dockerfile(image.kind),
                    written: &image.written,
                    evaluation: &image.evaluation,
                    uses_args: !image.args.is_empty(),
                    numeric_tag: None,
                };
                visit(use_, image.span, &image.args);
            }
        }
        FileKind::Manifest(manifest) => {
            let inputs = manifests::ScanInputs {
                variables: Some(&context.build.variables),
            };
            let site = SiteKind::of_manifest(manifest);
            let mut images = 0;
            // One image at a time: a large file's images, all held at once, would outweigh its text.
            let scan = manifests::scan_each(manifest, text, inputs, &mut |image| {
                images += 1;
                let use_ = ImageToDecide {
                    site,
                    written: &image.written,
                    evaluation: &image.evaluation,
                    uses_args: false,
                    numeric_tag: image.numeric_tag.as_ref(),
                };
                visit(use_, image.span, &[]);
            });
            scanned.images = images;
            scanned.not_a_manifest = scan.not_a_manifest;
            scanned.skipped = scan.skipped.map(|skipped| Skipped {
                reason: skipped.reason,
                line: skipped.line,
                column: skipped.column,
            });
            scanned.error = scan.error.map(|error| InputError {
                message: error.message,
                line: error.line,
                column: error.column,
            });
        }
    }
    scanned
}

fn file_span(path: &str, text: &str, lines: &LineIndex, span: Span) -> FileSpan {
    let (line, column) = lines.position(text, span.start);
    let (end_line, end_column) = lines.position(text, span.end);
    FileSpan {
        path: path.to_owned(),
        span,
        line,
        column,
        end_line,
        end_column,
    }
}

/// A finding the checker raises itself (suppression problems, unused ignores), with its configured severity.
fn checker_finding(
    rule: &'static RuleMeta,
    policy: &Policy,
    message: String,
    fix: String,
) -> Finding {
    let (severity, origin) = policy.severity(rule);
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
        location: Location::Reference,
        reference: None,
        environment: None,
        message,
        fix,
        labels: Vec::new(),
        decided_by,
    }
}

/// Findings for configured ignores (`[[ignore]]`) that matched nothing, given the union of
/// [`FileReport::used_ignores`] over every file checked. They point at the configuration file.
pub fn unused_ignores(policy: &Policy, used: &BTreeSet<usize>) -> Vec<Finding> {
    let rule = &rules::py014_unused_suppression::UnusedSuppression::META;
    let mut out = Vec::new();
    for (index, ignore) in policy.ignores.iter().enumerate() {
        if used.contains(&index) {
            continue;
        }
        let (line, column, text) = match &ignore.origin {
            Origin::Config { line, column, text } => (*line, *column, text.clone()),
            _ => (1, 1, String::new()),
        };
        let mut finding = checker_finding(
            rule,
            policy,
            format!(
                "[[ignore]] of {} matches no finding in the files checked",
                ignore.rules.join(", ")
            ),
            "delete the [[ignore]] entry".to_owned(),
        );
        if finding.severity == Severity::Allow {
            return Vec::new();
        }
        finding.location = Location::File(FileSpan {
            path: policy
                .config_path
                .clone()
                .unwrap_or_else(|| "pyimage.toml".to_owned()),
            span: Span::default(),
            line,
            column,
            end_line: line,
            end_column: column + text.chars().count(),
        });
        out.push(finding);
    }
    out
}
