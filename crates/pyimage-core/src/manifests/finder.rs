//! The walk over parsed documents that finds image references: Compose services and Kubernetes pod specs here,
//! the other kinds in [`super::sites`]. Every image goes through [`Finder::literal`] (one scalar holds the
//! reference) or [`Finder::map`] (a map's keys assemble it), so spans, evaluation and rewritability are decided in
//! one place for every kind.

use std::collections::BTreeMap;

use crate::dockerfile::source::LineIndex;
use crate::dockerfile::{Evaluation, Span, Unresolvable};
use crate::reference::Reference;

use super::yaml::{self, Document, Node};
use super::{ContainerField, ImageSite, ManifestImage, ManifestKind, MapParts, Written};

/// Longest chain of nested `List` items followed.
const MAX_LIST_DEPTH: usize = 8;

/// How a scalar's text becomes a reference.
#[derive(Debug, Clone, Copy)]
pub(super) enum Dialect {
    /// As written.
    Literal,
    /// Compose interpolation (`${VAR:-default}`), with the `.env` / `--env-file` variables.
    Compose,
    /// A value the running system fills in where `marker` appears (`${{` in GitHub Actions, `$` in GitLab CI and
    /// Cloud Build): unresolvable there, with `what` saying who fills it in.
    Runtime {
        marker: &'static str,
        what: &'static str,
    },
}

/// The keys of an image map and whether a missing `digest:` may be inserted.
pub(super) struct MapKeys {
    pub(super) registry: Option<&'static str>,
    /// Repository keys, first present wins (`newName` before `name`).
    pub(super) repository: &'static [&'static str],
    pub(super) tag: &'static str,
    pub(super) digest: &'static str,
    /// Why a digest key may not be inserted (None: it may).
    pub(super) no_insert: Option<&'static str>,
    /// What a missing or empty tag means, when it is not "no image at all".
    pub(super) empty_tag: Option<&'static str>,
}

pub(super) struct Finder<'a> {
    pub(super) text: &'a str,
    lines: &'a LineIndex,
    variables: &'a BTreeMap<String, String>,
    pub(super) images: Vec<ManifestImage>,
    pub(super) kubernetes_objects: bool,
}

impl<'a> Finder<'a> {
    pub(super) fn new(
        text: &'a str,
        lines: &'a LineIndex,
        variables: &'a BTreeMap<String, String>,
    ) -> Self {
        Finder {
            text,
            lines,
            variables,
            images: Vec::new(),
            kubernetes_objects: false,
        }
    }

    /// Finds the images of one document of a file of `kind` (`None`: Compose or Kubernetes, per document).
    pub(super) fn document(
        &mut self,
        document: &Document,
        index: usize,
        kind: Option<ManifestKind>,
    ) {
        let Some(root) = document.root else { return };
        let kind = kind.unwrap_or_else(|| {
            if matches!(
                document
                    .get(root, "services")
                    .and_then(|s| document.node(s)),
                Some(Node::Mapping(_))
            ) {
                ManifestKind::Compose
            } else {
                ManifestKind::Kubernetes
            }
        });
        match kind {
            ManifestKind::Compose => self.compose(document, index, root),
            ManifestKind::Kubernetes | ManifestKind::Json => {
                self.kubernetes_object(document, index, root, String::new(), 0);
            }
            ManifestKind::GithubWorkflow => self.github_workflow(document, index, root),
            ManifestKind::GitlabCi => self.gitlab_ci(document, index, root),
            ManifestKind::Kustomization => self.kustomization(document, index, root),
            ManifestKind::Devcontainer => self.devcontainer(document, index, root),
            ManifestKind::CloudBuild => self.cloud_build(document, index, root),
            ManifestKind::HelmValues => self.helm_values(document, index, root, String::new(), 0),
        }
    }

    fn compose(&mut self, document: &Document, index: usize, root: usize) {
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
            self.literal(document, index, image, site, path, Dialect::Compose, "");
        }
    }

    fn kubernetes_object(
        &mut self,
        document: &Document,
        index: usize,
        object: usize,
        prefix: String,
        depth: usize,
    ) {
        let kind = document.get_str(object, "kind").map(str::to_owned);
        if kind.is_some() && document.get(object, "apiVersion").is_some() {
            self.kubernetes_objects = true;
        }
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
        if let Some(spec) = document.get(object, "spec") {
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
                    self.literal(
                        document,
                        index,
                        image,
                        site,
                        image_path,
                        Dialect::Literal,
                        "",
                    );
                }
            }
        }
    }

    /// An image written as one scalar, after `prefix` (`docker://`) when one is given (a value without it is not
    /// an image).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn literal(
        &mut self,
        document: &Document,
        index: usize,
        node: usize,
        site: ImageSite,
        path: String,
        dialect: Dialect,
        prefix: &str,
    ) {
        let Some(scalar) = document.scalar(node) else {
            return;
        };
        // `image:` with no value (null) names nothing.
        if scalar.value.is_empty() && scalar.style == saphyr_parser::ScalarStyle::Plain {
            return;
        }
        let Some(value) = scalar.value.strip_prefix(prefix) else {
            return;
        };
        let (mut span, not_rewritable) = yaml::content_span(self.text, scalar);
        if not_rewritable.is_none() {
            span.start += prefix.len();
        }
        let evaluation = self.evaluate(value, dialect);
        self.push(ManifestImage {
            site,
            path,
            document: index,
            span,
            written: self.text.get(span.range()).unwrap_or("").to_owned(),
            value: value.to_owned(),
            evaluation,
            not_rewritable,
            form: Written::Reference,
            line: 0,
            column: 0,
        });
    }

    fn evaluate(&self, value: &str, dialect: Dialect) -> Evaluation {
        let text = match dialect {
            Dialect::Literal => Ok(value.to_owned()),
            Dialect::Compose => super::interpolate(value, self.variables),
            Dialect::Runtime { marker, what } => match value.find(marker) {
                None => Ok(value.to_owned()),
                Some(at) => Err(Unresolvable::Runtime {
                    name: expression_at(&value[at..]),
                    what: what.to_owned(),
                }),
            },
        };
        match text {
            Ok(text) => {
                let reference = Reference::parse_normalized(&text);
                Evaluation::Resolved { text, reference }
            }
            Err(unresolvable) => Evaluation::Unresolvable(unresolvable),
        }
    }

    /// An image assembled from a map's keys (`repository`, `tag`, `digest`…). The finding points at the tag (else
    /// the repository) as written.
    pub(super) fn map(
        &mut self,
        document: &Document,
        index: usize,
        map: usize,
        site: ImageSite,
        path: String,
        keys: &MapKeys,
    ) {
        let scalar_of = |key: &str| {
            document
                .own_entry(map, key)
                .and_then(|(k, v)| Some((k, v, document.scalar(v)?)))
        };
        let Some((repository_key, _, repository)) =
            keys.repository.iter().find_map(|key| scalar_of(key))
        else {
            return;
        };
        if repository.value.is_empty() {
            return;
        }
        let registry = keys
            .registry
            .and_then(&scalar_of)
            .map(|(_, _, s)| s.value.clone())
            .filter(|r| !r.is_empty() && r != "~" && r != "null");
        let tag = scalar_of(keys.tag).filter(|(_, _, s)| !is_null(&s.value));
        let digest = scalar_of(keys.digest);
        let digest_value = digest
            .as_ref()
            .map(|(_, _, s)| s.value.clone())
            .filter(|d| !is_null(d));
        if tag.is_none() && digest_value.is_none() && keys.empty_tag.is_none() {
            // A Kustomize entry that only renames keeps the tag of the manifest it applies to: checked there.
            return;
        }
        let mut assembled = match &registry {
            Some(registry) => format!("{}/{}", registry.trim_end_matches('/'), repository.value),
            None => repository.value.clone(),
        };
        if let Some((_, _, tag)) = &tag {
            assembled = format!("{assembled}:{}", tag.value);
        }
        if let Some(digest) = &digest_value {
            assembled = format!("{assembled}@{digest}");
        }
        let (tag_span, tag_rewritable) = match &tag {
            Some((_, _, tag)) => {
                let (span, how) = yaml::content_span(self.text, tag);
                (Some(span), how.is_none())
            }
            None => (None, false),
        };
        let (repository_span, repository_how) = yaml::content_span(self.text, repository);
        let span = tag_span.unwrap_or(repository_span);
        let evaluation = match (&tag, keys.empty_tag) {
            (None, Some(what)) if digest_value.is_none() => {
                Evaluation::Unresolvable(Unresolvable::Runtime {
                    name: keys.tag.to_owned(),
                    what: what.to_owned(),
                })
            }
            _ => self.evaluate(&assembled, Dialect::Literal),
        };
        let digest_span = digest.as_ref().and_then(|(_, _, d)| {
            let (span, how) = yaml::content_span(self.text, d);
            // A plain null (`digest:`) has no bytes to write into; quotes (`digest: ""`) do.
            let quoted = d.style != saphyr_parser::ScalarStyle::Plain;
            (how.is_none() && (quoted || !is_null(&d.value))).then_some(span)
        });
        let insert_digest = match &digest {
            Some((key, _, value)) => self.fill_digest(document, *key, value, digest_span),
            None => match keys.no_insert {
                Some(why) => Err(why.to_owned()),
                None => match (&tag, tag_span) {
                    (Some((key, _, _)), Some(value)) => {
                        self.new_line_after(document, *key, value.end, keys.digest)
                    }
                    _ => self.new_line_after(
                        document,
                        repository_key,
                        repository_span.end,
                        keys.digest,
                    ),
                },
            },
        };
        self.push(ManifestImage {
            site,
            path,
            document: index,
            span,
            written: assembled.clone(),
            value: assembled,
            evaluation,
            not_rewritable: if tag.is_some() { None } else { repository_how },
            form: Written::Map(MapParts {
                tag: tag_span.filter(|_| tag_rewritable),
                digest: digest_span,
                insert_digest,
            }),
            line: 0,
            column: 0,
        });
    }

    /// Where a digest goes in an existing `digest:` key without one: inside empty quotes, or after the colon of
    /// a key with no value.
    fn fill_digest(
        &self,
        document: &Document,
        key: usize,
        value: &yaml::Scalar,
        span: Option<Span>,
    ) -> Result<(usize, String), String> {
        if !is_null(&value.value) {
            return Err("a digest is already written".to_owned());
        }
        match value.style {
            saphyr_parser::ScalarStyle::SingleQuoted | saphyr_parser::ScalarStyle::DoubleQuoted => {
                span.map(|span| (span.start, String::new()))
                    .ok_or_else(|| "the digest value cannot be rewritten in place".to_owned())
            }
            saphyr_parser::ScalarStyle::Plain if value.value.is_empty() => {
                let key_end = document
                    .scalar(key)
                    .map(|k| yaml::content_span(self.text, k).0.end)
                    .unwrap_or(0);
                let rest = self.text.get(key_end..).unwrap_or("");
                let line_rest = rest.split(['\n', '\r']).next().unwrap_or("");
                let after_colon = line_rest.strip_prefix(':').map(str::trim_start);
                match after_colon {
                    Some(after) if after.is_empty() || after.starts_with('#') => {
                        Ok((key_end + 1, " ".to_owned()))
                    }
                    _ => Err("write the digest after `digest:` by hand".to_owned()),
                }
            }
            _ => Err(format!("replace `{}` after `digest:` by hand", value.value)),
        }
    }

    /// A new `KEY: ` line after the line of `after` (a key of a block mapping whose value is on its line), at the
    /// same indentation, keeping the file's line ending.
    fn new_line_after(
        &self,
        document: &Document,
        after: usize,
        value_end: usize,
        key: &str,
    ) -> Result<(usize, String), String> {
        let refuse = || {
            Err(format!(
                "the map is not a block mapping with one key per line: add `{key}: sha256:…` by hand"
            ))
        };
        let Some(key_scalar) = document.scalar(after) else {
            return refuse();
        };
        let key_start = yaml::content_span(self.text, key_scalar).0.start;
        let line_start = self
            .text
            .get(..key_start)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |n| n + 1);
        let before = self.text.get(line_start..key_start).unwrap_or("x");
        let indent_ok = before.chars().all(|c| c == ' ')
            || before
                .trim_start_matches(' ')
                .strip_prefix('-')
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == ' '));
        if !indent_ok {
            return refuse();
        }
        // The value must end on the key's line: the new line goes right after it.
        let line_end = self
            .text
            .get(key_start..)
            .and_then(|rest| rest.find('\n'))
            .map(|n| key_start + n);
        if line_end.is_some_and(|end| value_end > end) {
            return refuse();
        }
        let indent = " ".repeat(before.len());
        Ok(match line_end {
            Some(end) if end > 0 && self.text.as_bytes().get(end - 1) == Some(&b'\r') => {
                (end - 1, format!("\r\n{indent}{key}: "))
            }
            Some(end) => (end, format!("\n{indent}{key}: ")),
            None => (self.text.len(), format!("\n{indent}{key}: ")),
        })
    }

    fn push(&mut self, mut image: ManifestImage) {
        let (line, column) = self.lines.position(self.text, image.span.start);
        image.line = line;
        image.column = column;
        self.images.push(image);
    }
}

/// YAML's null, or an empty value.
fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// The expression starting at `text` (`${{ matrix.python }}`, `${_TAG}`, `$CI_REGISTRY`).
fn expression_at(text: &str) -> String {
    if let Some(inner) = text.strip_prefix("${{") {
        return match inner.find("}}") {
            Some(end) => format!("${{{{{}}}}}", &inner[..end]),
            None => text.to_owned(),
        };
    }
    if let Some(inner) = text.strip_prefix("${") {
        return match inner.find('}') {
            Some(end) => format!("${{{}}}", &inner[..end]),
            None => text.to_owned(),
        };
    }
    let rest = text.strip_prefix('$').unwrap_or(text);
    let len = rest
        .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    format!("${}", &rest[..len])
}
