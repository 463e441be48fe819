//! Finding image references in YAML and JSON files — Compose, Kubernetes, CI pipelines, Kustomize, dev
//! containers, Cloud Build, Helm values — with the exact bytes each occupies.
//!
//! `pyimage check` reports every image where it is written, and `pin` rewrites it byte-minimally, so every
//! [`ManifestImage`] carries the span of the scalar's content as written: for `image: "python:3.12"` the bytes
//! inside the quotes, so a rewrite keeps the quotes. Values whose bytes are not their value (block scalars, escapes,
//! folded lines) are reported but marked not rewritable. One classifier ([`kind_for_path`]) names the kind of a
//! file from its path; one scanner ([`scan`]) reads every kind:
//!
//! * Compose: `services.<name>.image`, following `<<` merge keys and aliases (an `image: *ref` is reported where
//!   the anchor defines it), interpolated with the variables of `.env` / `--env-file` and the defaults written
//!   ([`interpolate`]). A service with `build:` names the image it builds there, not a base.
//! * Kubernetes, YAML (multi-document) or JSON (an object with `apiVersion` and `kind`): the images of every Pod
//!   spec as [`crate::pod`] describes them (the `image` of every entry of `containers`, `initContainers` and
//!   `ephemeralContainers`, the `image.reference` of image volumes; a Pod's `spec`, a workload's
//!   `spec.template.spec`, a CronJob's `spec.jobTemplate.spec.template.spec`, a PodTemplate's `template.spec`, and
//!   for other kinds wherever the workload kinds keep one), and in the `items` of `List` kinds. An object of a kind
//!   pyimage does not know (Argo `Workflow`, Tekton `Task`, an operator's custom resource) is also searched for
//!   embedded containers (`containers`/`sidecars`/`steps` lists, `container`/`script` maps: see the `embedded` module).
//! * GitHub Actions workflows (`.github/workflows/*.yml`): `jobs.<job>.container` (a string or its `image`),
//!   `jobs.<job>.services.<name>.image`, and `steps[].uses: docker://IMAGE`. A `${{ … }}` expression is filled in
//!   by the runner: a reference built from one is unresolvable, never guessed.
//! * GitLab CI (`.gitlab-ci.yml`): `image` and `services` at the top level, in `default` and in every job, each a
//!   string or a mapping's `name`; `$VARIABLES` are the pipeline's.
//! * Kustomize (`kustomization.yaml`): each entry of `images:` is the reference `newName` (else `name`) with
//!   `:newTag` and `@digest`; pinning writes (or inserts) its `digest:` key.
//! * Dev containers (`.devcontainer/devcontainer.json`, `.devcontainer.json`, JSON with comments): `image`.
//! * Cloud Build (`cloudbuild.yaml`, `cloudbuild.json`): `steps[].name`; `$SUBSTITUTIONS` are the build's.
//! * Helm values (`values.yaml`, `values-*.yaml`): at any depth, an `image:` string, or an `image:` map of
//!   `registry`, `repository`, `tag` and `digest` (the shape Bitnami and `helm create` use; `name` in place of
//!   `repository` when a `tag` is there too, as other charts write it); pinning writes an
//!   existing `digest:` key only, since only the chart's templates know whether they read one.
//!
//! Templated files (Helm's `{{ … }}`) are not YAML until rendered: they are reported as skipped, with the reason,
//! where a template action makes the YAML structure itself unparsable (a `{{- if … }}` line, an unquoted
//! `image: {{ .Values.image }}`, which YAML reads as a mapping whose key is a mapping). A `{{ … }}` inside a scalar
//! that parses is text: a ConfigMap holding Prometheus alert text or a workflow's `${{ github.sha }}` is checked.
//! Invalid YAML is an error with a line and column, never a panic.

mod embedded;
mod finder;
mod interpolate;
mod json;
mod kind;
mod maps;
mod sites;
mod yaml;

use std::collections::BTreeMap;

use crate::dockerfile::{Evaluation, Span};
use crate::pod::ImageSlot;
use pyimage_model::reference::Reference;

pub use interpolate::{DotenvError, interpolate, parse_dotenv};
pub use kind::{ManifestKind, kind_for_file_name, kind_for_path};
pub use yaml::NotRewritable;

/// Where in a manifest an image is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSite {
    /// `services.<service>.image` of a Compose file.
    ComposeService {
        /// The service's key under `services` (`web`).
        service: String,
    },
    /// An image of the Pod of a Kubernetes object ([`crate::pod`]): a container's or an image volume's.
    KubernetesPod {
        /// The object's `kind` (of the `items` entry for a `List`).
        kind: Option<String>,
        /// The object's `metadata.name`.
        object: Option<String>,
        /// What holds it (a container, init container, ephemeral container or image volume).
        slot: ImageSlot,
        /// The container's (or volume's) `name`.
        name: Option<String>,
    },
    /// A field of another kind of file (a workflow's `jobs.test.container`, a Kustomization's `images[0]`): the
    /// [`ManifestImage::path`] names it.
    Field {
        /// The kind of file.
        kind: ManifestKind,
    },
}

/// How the reference is written, which decides how it is pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// One scalar holds the whole reference (`image: python:3.12`): a digest goes right after it.
    Reference,
    /// The reference is assembled from keys of a map (Kustomize `images:` entries, Helm `image:` maps): the tag
    /// and digest have keys of their own.
    Map(MapParts),
}

/// A tag YAML reads as a number (see [`ManifestImage::numeric_tag`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumericTag {
    /// The tag as written (`3.10`).
    pub written: String,
    /// What Helm renders (`3.1`); equal to `written` when the number prints as written (`3.12`).
    pub rendered: String,
}

/// The keys of an image map, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapParts {
    /// The tag's content span (`newTag`, `tag`), when written literally.
    pub tag: Option<Span>,
    /// The digest's content span (`digest`), when the key is there and its value can be written in place (empty
    /// quotes hold an empty span).
    pub digest: Option<Span>,
    /// Where a digest is written when there is none yet: at an offset, after a prefix (`"\n  digest: "` for a new
    /// line, `" "` after a `digest:` with no value); or why it cannot be written.
    pub insert_digest: Result<(usize, String), String>,
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
    /// `text[span]`; for a [`Written::Map`], the reference assembled from the map's keys as written.
    pub written: String,
    /// The YAML string value (after unquoting, escapes and folding).
    pub value: String,
    /// The value evaluated (Compose interpolation) and parsed as Docker would.
    pub evaluation: Evaluation,
    /// Why replacing `span` would not replace the value exactly, if it would not.
    pub not_rewritable: Option<NotRewritable>,
    /// One scalar, or a map of keys.
    pub form: Written,
    /// Set for a Helm values tag written as an unquoted number (`tag: 3.10`): Helm reads it as a number and
    /// renders it as the number's shortest form (`3.1`), whatever the text says. The reference is evaluated as
    /// written; this says what the chart will really pull, for the policy to warn.
    pub numeric_tag: Option<NumericTag>,
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
    /// A Dockerfile template (`Dockerfile.j2`, `dockerfile.tmpl`): a placeholder stands where an image goes.
    TemplatedDockerfile,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Templated => f.write_str(
                "templated ({{ … }}): not YAML until rendered; check what your template engine renders (`helm template`, Ansible's template module, …), or exclude the file",
            ),
            SkipReason::TemplatedDockerfile => f.write_str(
                "templated (a {{ … }} placeholder where an image goes): not a Dockerfile until rendered; check the rendered Dockerfile, or write the base image literally (or as an ARG default) in the template",
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
    /// Set for a JSON file that is not a Kubernetes object (`package.json`): nothing to check in it.
    pub not_a_manifest: bool,
    /// Whether any document was a Kubernetes object (had `apiVersion` and `kind`).
    kubernetes_objects: bool,
}

/// Inputs that change how values evaluate.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanInputs<'a> {
    /// Compose interpolation variables (`.env` beside the file, `--env-file`s).
    pub variables: Option<&'a BTreeMap<String, String>>,
}

/// Scans a file of the given kind.
pub fn scan(kind: ManifestKind, text: &str, inputs: ScanInputs<'_>) -> ManifestScan {
    collect(|each| scan_each(kind, text, inputs, each))
}

/// Scans a file of the given kind, handing each image to `each` in document order as it is found instead of
/// keeping them (the result's `images` stays empty): `check` needs one at a time, and the images of a large file
/// all held at once would outweigh its text several times.
pub fn scan_each(
    kind: ManifestKind,
    text: &str,
    inputs: ScanInputs<'_>,
    each: &mut dyn FnMut(ManifestImage),
) -> ManifestScan {
    let empty = BTreeMap::new();
    let variables = inputs.variables.unwrap_or(&empty);
    let json = matches!(kind, ManifestKind::Json | ManifestKind::Devcontainer)
        || (kind == ManifestKind::CloudBuild && text.trim_start().starts_with('{'));
    if !json {
        return scan_parsed(text, text, Some(kind), variables, each);
    }
    // `package.json`, `tsconfig.json`…: not read at all.
    if kind == ManifestKind::Json && !(text.contains("\"apiVersion\"") && text.contains("\"kind\""))
    {
        return ManifestScan {
            not_a_manifest: true,
            ..ManifestScan::default()
        };
    }
    let cleaned = json::yaml_compatible(text);
    let mut scan = scan_parsed(text, &cleaned, Some(kind), variables, each);
    if kind == ManifestKind::Json && scan.error.is_none() && !scan.kubernetes_objects {
        scan.not_a_manifest = true;
    }
    scan
}

/// Runs a scan that hands images out, keeping them in its result.
fn collect(scan: impl FnOnce(&mut dyn FnMut(ManifestImage)) -> ManifestScan) -> ManifestScan {
    let mut images = Vec::new();
    let mut scanned = scan(&mut |image| images.push(image));
    scanned.images = images;
    scanned
}

/// Scans a Compose file (no interpolation variables).
pub fn scan_compose(text: &str) -> ManifestScan {
    scan(ManifestKind::Compose, text, ScanInputs::default())
}

/// Scans a file of Kubernetes manifests (one or more documents).
pub fn scan_kubernetes(text: &str) -> ManifestScan {
    let variables = BTreeMap::new();
    collect(|each| scan_parsed(text, text, Some(ManifestKind::Kubernetes), &variables, each))
}

/// Scans a YAML file of either kind, deciding per document: a top-level `services` mapping is Compose, anything
/// else is read as Kubernetes.
pub fn scan_yaml(text: &str) -> ManifestScan {
    let variables = BTreeMap::new();
    collect(|each| scan_parsed(text, text, None, &variables, each))
}

/// Scans `text`, parsing `parsed_text` (the same bytes, or a JSON copy with comments blanked); images go to
/// `each`.
fn scan_parsed(
    text: &str,
    parsed_text: &str,
    kind: Option<ManifestKind>,
    variables: &BTreeMap<String, String>,
    each: &mut dyn FnMut(ManifestImage),
) -> ManifestScan {
    let lines = crate::dockerfile::source::LineIndex::new(text);
    let parsed = yaml::parse(parsed_text);
    if let Some(at) = template_structure(parsed_text, &parsed) {
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
    let mut finder = finder::Finder::new(text, &lines, variables, each);
    for (index, document) in documents.iter().enumerate() {
        finder.document(document, index, kind);
    }
    scan.kubernetes_objects = finder.kubernetes_objects;
    scan
}

/// Where a template action (`{{`) makes the file unparsable as YAML, if it does: a `{{` the parser read as the
/// start of a flow mapping, or, when the parse failed, the first `{{` that is not inside a scalar read before the
/// failure. A `{{` inside a scalar that parses (Prometheus alert text, a workflow's `${{ github.sha }}`) is text.
fn template_structure(text: &str, parsed: &yaml::Parsed<'_>) -> Option<usize> {
    if parsed.template_structure.is_some() {
        return parsed.template_structure;
    }
    parsed.error.as_ref()?;
    let in_scalar = |at: usize| {
        parsed
            .scalar_spans()
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
