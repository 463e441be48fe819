//! The walk over parsed documents that finds image references: Compose services and Kubernetes pod specs here,
//! the other kinds in [`super::sites`]. Every image goes through [`Finder::literal`] (one scalar holds the
//! reference) or `Finder::map` ([`super::maps`]: a map's keys assemble it), so spans, evaluation and
//! rewritability are decided in one place for every kind.

use std::collections::BTreeMap;

use crate::dockerfile::source::LineIndex;
use crate::dockerfile::{Evaluation, Unresolvable};
use pyimage_model::reference::Reference;

use super::yaml::{self, Document, Node};
use super::{ImageSite, ManifestImage, ManifestKind, Written};
use crate::pod::{self, OtherKinds};

/// Longest chain of nested `List` items followed.
const MAX_LIST_DEPTH: usize = 8;

/// How a scalar's text becomes a reference.
#[derive(Debug, Clone, Copy)]
pub(super) enum Dialect<'v> {
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
    /// `$NAME` / `${NAME}` take the defaults the file writes (GitLab `variables:`, Cloud Build `substitutions:`);
    /// any other is filled in when the pipeline runs (`what`), so the reference is unresolvable.
    Defaults {
        values: &'v BTreeMap<String, String>,
        what: &'static str,
    },
}

pub(super) struct Finder<'a> {
    pub(super) text: &'a str,
    lines: &'a LineIndex,
    variables: &'a BTreeMap<String, String>,
    /// Where each image found goes.
    each: &'a mut dyn FnMut(ManifestImage),
    pub(super) kubernetes_objects: bool,
}

impl<'a> Finder<'a> {
    pub(super) fn new(
        text: &'a str,
        lines: &'a LineIndex,
        variables: &'a BTreeMap<String, String>,
        each: &'a mut dyn FnMut(ManifestImage),
    ) -> Self {
        Finder {
            text,
            lines,
            variables,
            each,
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
                for (position, item) in document.sequence(items).enumerate() {
                    let item_prefix = format!("{prefix}items[{position}].");
                    self.kubernetes_object(document, index, item, item_prefix, depth + 1);
                }
            }
            return;
        }
        let images = pod::pod_images(document, object, kind.as_deref(), OtherKinds::Guess);
        let reported: std::collections::HashSet<usize> =
            images.iter().map(|image| image.image).collect();
        for image in images {
            let site = ImageSite::KubernetesPod {
                kind: kind.clone(),
                object: name.clone(),
                slot: image.slot,
                name: document.get_str(image.item, "name").map(str::to_owned),
            };
            let path = format!("{prefix}{}", image.dotted());
            self.literal(
                document,
                index,
                image.image,
                site,
                path,
                Dialect::Literal,
                "",
            );
        }
        // A custom resource: its embedded containers, wherever its kind keeps them ([`super::embedded`]).
        if let Some(kind) = kind.as_deref()
            && document.get(object, "apiVersion").is_some()
            && pod::pod_spec_path(kind).is_none()
        {
            let mut search = super::embedded::Embedded::new(kind, name, prefix, reported);
            self.embedded_containers(document, index, object, &mut search);
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
        dialect: Dialect<'_>,
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
        let (mut span, not_rewritable) = yaml::content_span(self.text, &scalar);
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
            numeric_tag: None,
            line: 0,
            column: 0,
        });
    }

    pub(super) fn evaluate(&self, value: &str, dialect: Dialect<'_>) -> Evaluation {
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
            Dialect::Defaults { values, what } => substitute(value, values, what),
        };
        // A template placeholder (`{{ app_image }}`, Jinja or Go templates in a file that still parses as YAML)
        // is filled in when the file is rendered: unresolvable here, not an invalid reference.
        let text = text.and_then(|text| match text.find("{{") {
            Some(at) if text[at..].contains("}}") => Err(Unresolvable::Runtime {
                name: placeholder_at(&text[at..]),
                what: "a template placeholder, filled in when the file is rendered".to_owned(),
            }),
            _ => Ok(text),
        });
        match text {
            Ok(text) => {
                let reference = Reference::parse_normalized(&text);
                Evaluation::Resolved { text, reference }
            }
            Err(unresolvable) => Evaluation::Unresolvable(unresolvable),
        }
    }

    pub(super) fn push(&mut self, mut image: ManifestImage) {
        let (line, column) = self.lines.position(self.text, image.span.start);
        image.line = line;
        image.column = column;
        (self.each)(image);
    }
}

/// `value` with each `$NAME` / `${NAME}` replaced by its default in `values` (`$$` is a literal `$`); a variable
/// without a default is set when the pipeline runs (`what`).
fn substitute(
    value: &str,
    values: &BTreeMap<String, String>,
    what: &str,
) -> Result<String, Unresolvable> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let from = &rest[at..];
        if let Some(after) = from.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        let (name, used) = variable_at(from).ok_or_else(|| Unresolvable::Runtime {
            name: expression_at(from),
            what: what.to_owned(),
        })?;
        match values.get(name) {
            Some(default) => out.push_str(default),
            None => {
                return Err(Unresolvable::Runtime {
                    name: expression_at(from),
                    what: what.to_owned(),
                });
            }
        }
        rest = &from[used..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The variable named at the start of `text` (`$NAME` or `${NAME}`) and the bytes it takes.
pub(super) fn variable_at(text: &str) -> Option<(&str, usize)> {
    let is_name = |c: char| c == '_' || c.is_ascii_alphanumeric();
    if let Some(inner) = text.strip_prefix("${") {
        let end = inner.find('}')?;
        let name = &inner[..end];
        return (!name.is_empty() && name.chars().all(is_name)).then_some((name, end + 3));
    }
    let rest = text.strip_prefix('$')?;
    let len = rest.find(|c: char| !is_name(c)).unwrap_or(rest.len());
    (len > 0).then_some((&rest[..len], len + 1))
}

/// The expression starting at `text` (`${{ matrix.python }}`, `${_TAG}`, `$CI_REGISTRY`).
/// The `{{ … }}` placeholder at the start of `text`, closing braces included.
fn placeholder_at(text: &str) -> String {
    match text.find("}}") {
        Some(end) => text[..end + 2].to_owned(),
        None => text.to_owned(),
    }
}

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
