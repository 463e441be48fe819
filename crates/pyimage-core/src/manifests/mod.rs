//! Finding image references in Compose files and Kubernetes manifests, with the exact bytes each occupies.
//!
//! `pyimage check` reports the `image:` fields of Compose services and of Kubernetes containers where they are
//! written, and may later rewrite them byte-minimally, so every [`ManifestImage`] carries the span of the scalar's
//! content as written: for `image: "python:3.12"` the bytes inside the quotes, so a rewrite keeps the quotes. Values
//! whose bytes are not their value (block scalars, escapes, folded lines) are reported but marked not rewritable.
//!
//! * Compose: `services.<name>.image`, following `<<` merge keys and aliases (an `image: *ref` is reported where
//!   the anchor defines it). Interpolation is evaluated with its defaults (`${VAR:-python:3.12}`); without a
//!   default (`${VAR}`) the value is in the caller's environment and the reference is reported as unresolvable.
//! * Kubernetes (multi-document): the `image` of every entry of `containers`, `initContainers` and
//!   `ephemeralContainers` in a Pod's `spec`, in any `spec.template.spec` (Deployment, StatefulSet, DaemonSet,
//!   ReplicaSet, Job, ReplicationController, and custom resources that embed a pod template), in a CronJob's
//!   `spec.jobTemplate.spec.template.spec`, in a PodTemplate's `template.spec`, and in the `items` of `List` kinds.
//!
//! Templated files (Helm's `{{ … }}`) are not YAML until rendered: they are reported as skipped, with the reason,
//! where a template action makes the YAML structure itself unparsable (a `{{- if … }}` line, an unquoted
//! `image: {{ .Values.image }}`, which YAML reads as a mapping whose key is a mapping). A `{{ … }}` inside a scalar
//! that parses is text: a ConfigMap holding Prometheus alert text or a workflow's `${{ github.sha }}` is checked.
//! Invalid YAML is an error with a line and column, never a panic.

mod yaml;

use crate::dockerfile::{Evaluation, Span, Unresolvable};
use crate::reference::Reference;

pub use yaml::NotRewritable;

/// Which kind of manifest a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// A Compose file.
    Compose,
    /// Kubernetes manifests.
    Kubernetes,
}

/// The manifest kind a file name suggests: Compose for `compose.yaml`, `compose.yml`, `docker-compose.yml`,
/// `docker-compose.yaml` and their override variants (`compose.override.yaml`, `docker-compose.prod.yml`);
/// Kubernetes for any other `.yaml` / `.yml`; `None` otherwise. ASCII case is ignored.
pub fn kind_for_file_name(file_name: &str) -> Option<ManifestKind> {
    let lower = file_name.to_ascii_lowercase();
    let stem = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))?;
    let compose = ["compose", "docker-compose"].iter().any(|base| {
        stem == *base
            || stem
                .strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.'))
    });
    Some(if compose {
        ManifestKind::Compose
    } else {
        ManifestKind::Kubernetes
    })
}

/// Which container list a Kubernetes image is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerField {
    /// `containers`.
    Containers,
    /// `initContainers`.
    InitContainers,
    /// `ephemeralContainers`.
    EphemeralContainers,
}

impl ContainerField {
    const ALL: [ContainerField; 3] = [
        ContainerField::Containers,
        ContainerField::InitContainers,
        ContainerField::EphemeralContainers,
    ];

    /// The field name in a pod spec.
    pub fn key(self) -> &'static str {
        match self {
            ContainerField::Containers => "containers",
            ContainerField::InitContainers => "initContainers",
            ContainerField::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// Where in a manifest an image is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSite {
    /// `services.<service>.image` of a Compose file.
    ComposeService {
        /// The service's key under `services` (`web`).
        service: String,
    },
    /// A container of a Kubernetes object.
    KubernetesContainer {
        /// The object's `kind` (of the `items` entry for a `List`).
        kind: Option<String>,
        /// The object's `metadata.name`.
        object: Option<String>,
        /// The container list it is in (`containers`, `initContainers`, `ephemeralContainers`).
        field: ContainerField,
        /// The container's `name`.
        container: Option<String>,
    },
}

/// One image reference found in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestImage {
    /// Where it is used.
    pub site: ImageSite,
    /// The key path, e.g. `services.web.image` or `spec.template.spec.containers[0].image`.
    pub path: String,
    /// 0-based index of the YAML document in the file.
    pub document: usize,
    /// The scalar's content as written: inside the quotes for a quoted scalar, without a tag or anchor.
    pub span: Span,
    /// `text[span]`.
    pub written: String,
    /// The YAML string value (after unquoting, escapes and folding).
    pub value: String,
    /// The value evaluated (Compose interpolation) and parsed as Docker would.
    pub evaluation: Evaluation,
    /// Why replacing `span` would not replace the value exactly, if it would not.
    pub not_rewritable: Option<NotRewritable>,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, in characters.
    pub column: usize,
}

impl ManifestImage {
    /// The evaluated text (after Compose interpolation with defaults), if it could be evaluated.
    pub fn text(&self) -> Option<&str> {
        match &self.evaluation {
            Evaluation::Resolved { text, .. } => Some(text),
            Evaluation::Unresolvable(_) => None,
        }
    }

    /// The parsed reference, if the value is a valid one.
    pub fn reference(&self) -> Option<&Reference> {
        match &self.evaluation {
            Evaluation::Resolved {
                reference: Ok(reference),
                ..
            } => Some(reference),
            _ => None,
        }
    }
}

/// A manifest that was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Why it was not scanned (a Helm-style template, not YAML until rendered).
    pub reason: SkipReason,
    /// Where the reason shows (e.g. the first `{{`).
    pub span: Span,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Why a manifest was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// It contains template actions (`{{ … }}`, as in Helm charts): it is not YAML until rendered.
    Templated,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Templated => f.write_str(
                "templated ({{ … }}): render it (e.g. helm template) and scan the output",
            ),
        }
    }
}

/// Invalid YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid YAML at line {line}, column {column}: {message}")]
pub struct YamlError {
    /// The parser's message.
    pub message: String,
    /// Byte offset of the error in the text.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// Everything found in one manifest file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManifestScan {
    /// Image references, in document order.
    pub images: Vec<ManifestImage>,
    /// Set when the file was not scanned.
    pub skipped: Option<Skipped>,
    /// Set when the YAML is invalid; images of the documents before the error are still listed.
    pub error: Option<YamlError>,
    /// Number of documents read.
    pub documents: usize,
}

/// Scans a Compose file.
pub fn scan_compose(text: &str) -> ManifestScan {
    scan_as(text, Some(ManifestKind::Compose))
}

/// Scans a file of Kubernetes manifests (one or more documents).
pub fn scan_kubernetes(text: &str) -> ManifestScan {
    scan_as(text, Some(ManifestKind::Kubernetes))
}

/// Scans a YAML file of either kind, deciding per document: a top-level `services` mapping is Compose, anything
/// else is read as Kubernetes.
pub fn scan_yaml(text: &str) -> ManifestScan {
    scan_as(text, None)
}

fn scan_as(text: &str, kind: Option<ManifestKind>) -> ManifestScan {
    let lines = crate::dockerfile::source::LineIndex::new(text);
    let parsed = yaml::parse(text);
    if let Some(at) = template_structure(text, &parsed) {
        let (line, column) = lines.position(text, at);
        return ManifestScan {
            skipped: Some(Skipped {
                reason: SkipReason::Templated,
                span: Span::new(at, at + 2),
                line,
                column,
            }),
            ..ManifestScan::default()
        };
    }
    let documents = parsed.documents;
    let mut scan = ManifestScan {
        documents: documents.len(),
        error: parsed.error.map(|e| YamlError {
            message: e.message,
            offset: e.offset,
            line: e.line,
            column: e.column,
        }),
        ..ManifestScan::default()
    };
    let mut finder = Finder {
        text,
        lines: &lines,
        images: Vec::new(),
    };
    for (index, document) in documents.iter().enumerate() {
        let Some(root) = document.root else { continue };
        let compose = match kind {
            Some(kind) => kind == ManifestKind::Compose,
            None => matches!(
                document
                    .get(root, "services")
                    .and_then(|s| document.node(s)),
                Some(yaml::Node::Mapping(_))
            ),
        };
        if compose {
            finder.compose(document, index, root);
        } else {
            finder.kubernetes_object(document, index, root, String::new(), 0);
        }
    }
    scan.images = finder.images;
    scan
}

/// Where a template action (`{{`) makes the file unparsable as YAML, if it does: a `{{` the parser read as the
/// start of a flow mapping, or, when the parse failed, the first `{{` that is not inside a scalar read before the
/// failure. A `{{` inside a scalar that parses (Prometheus alert text, a workflow's `${{ github.sha }}`) is text.
fn template_structure(text: &str, parsed: &yaml::Parsed) -> Option<usize> {
    if parsed.template_structure.is_some() {
        return parsed.template_structure;
    }
    parsed.error.as_ref()?;
    let in_scalar = |at: usize| {
        parsed
            .scalars
            .iter()
            .any(|scalar| scalar.start <= at && at < scalar.end)
    };
    // A `#` at a line start or after a blank, outside any scalar, starts a comment: a `{{` after it is text too.
    let in_comment = |at: usize| {
        let line_start = text
            .get(..at)
            .and_then(|before| before.rfind('\n'))
            .map_or(0, |newline| newline + 1);
        let line = text.get(line_start..at).unwrap_or("");
        line.match_indices('#').any(|(hash, _)| {
            let blank_before = line
                .get(..hash)
                .is_none_or(|before| before.is_empty() || before.ends_with([' ', '\t']));
            blank_before && !in_scalar(line_start + hash)
        })
    };
    text.match_indices("{{")
        .map(|(at, _)| at)
        .find(|&at| !in_scalar(at) && !in_comment(at))
}

/// Longest chain of nested `List` items followed.
const MAX_LIST_DEPTH: usize = 8;

struct Finder<'a> {
    text: &'a str,
    lines: &'a crate::dockerfile::source::LineIndex,
    images: Vec<ManifestImage>,
}

impl Finder<'_> {
    fn compose(&mut self, document: &yaml::Document, index: usize, root: usize) {
        let Some(services) = document.get(root, "services") else {
            return;
        };
        for (service, node) in document.entries(services) {
            let Some(image) = document.get(node, "image") else {
                continue;
            };
            // With `build:`, `image:` names the image Compose builds and tags, not a base it pulls.
            if document.get(node, "build").is_some() {
                continue;
            }
            let site = ImageSite::ComposeService {
                service: service.to_owned(),
            };
            let path = format!("services.{service}.image");
            self.image(document, index, image, site, path, true);
        }
    }

    fn kubernetes_object(
        &mut self,
        document: &yaml::Document,
        index: usize,
        object: usize,
        prefix: String,
        depth: usize,
    ) {
        let kind = document.get_str(object, "kind").map(str::to_owned);
        let name = document
            .get(object, "metadata")
            .and_then(|metadata| document.get_str(metadata, "name"))
            .map(str::to_owned);
        if let Some(items) = document.get(object, "items")
            && kind.as_deref().is_some_and(|k| k.ends_with("List"))
        {
            if depth < MAX_LIST_DEPTH {
                for (position, &item) in document.sequence(items).iter().enumerate() {
                    let item_prefix = format!("{prefix}items[{position}].");
                    self.kubernetes_object(document, index, item, item_prefix, depth + 1);
                }
            }
            return;
        }
        let mut pod_specs: Vec<(usize, String)> = Vec::new();
        let spec = document.get(object, "spec");
        if let Some(spec) = spec {
            if kind.as_deref() == Some("Pod") {
                pod_specs.push((spec, format!("{prefix}spec")));
            }
            if let Some(template_spec) = document
                .get(spec, "template")
                .and_then(|template| document.get(template, "spec"))
            {
                pod_specs.push((template_spec, format!("{prefix}spec.template.spec")));
            }
            if let Some(job_pod_spec) = document
                .get(spec, "jobTemplate")
                .and_then(|job| document.get(job, "spec"))
                .and_then(|job_spec| document.get(job_spec, "template"))
                .and_then(|template| document.get(template, "spec"))
            {
                pod_specs.push((
                    job_pod_spec,
                    format!("{prefix}spec.jobTemplate.spec.template.spec"),
                ));
            }
        }
        if kind.as_deref() == Some("PodTemplate")
            && let Some(template_spec) = document
                .get(object, "template")
                .and_then(|template| document.get(template, "spec"))
        {
            pod_specs.push((template_spec, format!("{prefix}template.spec")));
        }
        for (pod_spec, path) in pod_specs {
            for field in ContainerField::ALL {
                let Some(list) = document.get(pod_spec, field.key()) else {
                    continue;
                };
                for (position, &container) in document.sequence(list).iter().enumerate() {
                    let Some(image) = document.get(container, "image") else {
                        continue;
                    };
                    let site = ImageSite::KubernetesContainer {
                        kind: kind.clone(),
                        object: name.clone(),
                        field,
                        container: document.get_str(container, "name").map(str::to_owned),
                    };
                    let image_path = format!("{path}.{}[{position}].image", field.key());
                    self.image(document, index, image, site, image_path, false);
                }
            }
        }
    }

    fn image(
        &mut self,
        document: &yaml::Document,
        index: usize,
        node: usize,
        site: ImageSite,
        path: String,
        compose: bool,
    ) {
        let Some(scalar) = document.scalar(node) else {
            return;
        };
        // `image:` with no value (null) names nothing.
        if scalar.value.is_empty() && scalar.style == saphyr_parser::ScalarStyle::Plain {
            return;
        }
        let (span, not_rewritable) = yaml::content_span(self.text, scalar);
        let (line, column) = self.lines.position(self.text, span.start);
        let evaluation = if compose {
            compose_evaluation(&scalar.value)
        } else {
            Evaluation::Resolved {
                text: scalar.value.clone(),
                reference: Reference::parse_normalized(&scalar.value),
            }
        };
        self.images.push(ManifestImage {
            site,
            path,
            document: index,
            span,
            written: self.text.get(span.range()).unwrap_or("").to_owned(),
            value: scalar.value.clone(),
            evaluation,
            not_rewritable,
            line,
            column,
        });
    }
}

/// Compose interpolates `$VAR` / `${VAR…}` from the environment and `.env`, which pyimage does not read. As with
/// Dockerfile ARGs, a value is evaluated with its defaults: `${VAR:-default}` and `${VAR-default}` give the
/// default, `${VAR:+alt}` / `${VAR+alt}` give nothing (the variable is taken as unset); `$VAR`, `${VAR}` and
/// `${VAR:?err}` have no value and make the reference unresolvable. `$$` is a literal `$`.
fn compose_evaluation(value: &str) -> Evaluation {
    match interpolate(value) {
        Ok(text) => {
            let reference = Reference::parse_normalized(&text);
            Evaluation::Resolved { text, reference }
        }
        Err(unresolvable) => Evaluation::Unresolvable(unresolvable),
    }
}

fn interpolate(value: &str) -> Result<String, Unresolvable> {
    interpolate_nested(value, 0)
}

/// [`interpolate`] inside `depth` enclosing defaults: nesting is bounded (as in Dockerfiles) so a hostile file is
/// an error, not a stack overflow.
fn interpolate_nested(value: &str, nesting: usize) -> Result<String, Unresolvable> {
    let limit = crate::dockerfile::MAX_NESTING;
    if nesting > limit {
        return Err(Unresolvable::Syntax {
            message: format!("substitutions nested more than {limit} deep: not evaluated"),
        });
    }
    let mut text = String::new();
    let mut rest = value;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            text.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let name_len = braced
                .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
                .unwrap_or(braced.len());
            let name = braced[..name_len].to_owned();
            let modifier = &braced[name_len..];
            // The expression ends at the matching `}` (defaults may hold nested `${…}`).
            let mut depth = 1usize;
            let mut close = None;
            for (offset, c) in modifier.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(offset);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(close) = close else {
                return Err(Unresolvable::ComposeVariable { name });
            };
            let operator = &modifier[..close];
            if name.is_empty() {
                return Err(Unresolvable::ComposeVariable { name });
            }
            if let Some(default) = operator
                .strip_prefix(":-")
                .or_else(|| operator.strip_prefix('-'))
            {
                text.push_str(&interpolate_nested(default, nesting + 1)?);
            } else if operator.starts_with(":+") || operator.starts_with('+') {
                // Unset variable: the alternative is not used.
            } else if operator.starts_with(":?") || operator.starts_with('?') {
                return Err(Unresolvable::Required { name });
            } else {
                return Err(Unresolvable::ComposeVariable { name });
            }
            rest = &modifier[close + 1..];
        } else if after.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic()) {
            let name_len = after
                .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
                .unwrap_or(after.len());
            return Err(Unresolvable::ComposeVariable {
                name: after[..name_len].to_owned(),
            });
        } else {
            text.push('$');
            rest = after;
        }
    }
    text.push_str(rest);
    Ok(text)
}
