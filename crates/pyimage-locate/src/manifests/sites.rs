//! Where images live in CI pipelines, Kustomizations, dev containers, Cloud Build and Helm values: each kind is a
//! few key paths handed to [`Finder::literal`] or [`Finder::map`].

use std::collections::BTreeMap;

use super::finder::{Dialect, Finder, variable_at};
use super::maps::MapKeys;
use super::yaml::{Document, Node};
use super::{ImageSite, ManifestKind};

const GITHUB: Dialect<'static> = Dialect::Runtime {
    marker: "${{",
    what: "a GitHub Actions expression, evaluated by the runner",
};
/// Who sets a GitLab CI variable the file gives no default for.
const GITLAB: &str = "a GitLab CI variable, set when the pipeline runs";
/// Who sets a Cloud Build substitution the file gives no default for.
const CLOUD_BUILD: &str = "a Cloud Build substitution, set when the build runs";
const DEVCONTAINER: Dialect<'static> = Dialect::Runtime {
    marker: "${",
    what: "a dev container variable, set when the container is created",
};

/// Top-level GitLab CI keys that are not jobs.
const GITLAB_GLOBALS: [&str; 6] = [
    "variables",
    "workflow",
    "include",
    "stages",
    "spec",
    "cache",
];

/// Deepest mapping a Helm values walk enters.
const MAX_VALUES_DEPTH: usize = 32;

fn field(kind: ManifestKind) -> ImageSite {
    ImageSite::Field { kind }
}

/// Variables with a default written in the file: name → the node of its value.
type Defaults = BTreeMap<String, usize>;

/// The defaults of the `key:` map of `node` (GitLab `variables:`, Cloud Build `substitutions:`): each a string, or
/// (GitLab) a map whose `value` is one.
fn defaults(document: &Document, node: usize, key: &str) -> Defaults {
    let Some(map) = document.get(node, key) else {
        return Defaults::new();
    };
    document
        .entries(map)
        .into_iter()
        .filter_map(|(name, value)| {
            let value = match document.node(value) {
                Some(Node::Mapping(_)) => document.get(value, "value")?,
                _ => value,
            };
            document.scalar(value)?;
            Some((name.to_owned(), value))
        })
        .collect()
}

impl Finder<'_> {
    /// `jobs.<job>.container` (string or `image`), `jobs.<job>.services.<name>.image`, `steps[].uses: docker://…`.
    pub(super) fn github_workflow(&mut self, document: &Document, index: usize, root: usize) {
        let site = || field(ManifestKind::GithubWorkflow);
        let Some(jobs) = document.get(root, "jobs") else {
            return;
        };
        for (job, node) in document.entries(jobs) {
            if let Some(container) = document.get(node, "container") {
                match document.node(container) {
                    Some(Node::Mapping(_)) => {
                        if let Some(image) = document.get(container, "image") {
                            let path = format!("jobs.{job}.container.image");
                            self.literal(document, index, image, site(), path, GITHUB, "");
                        }
                    }
                    _ => {
                        let path = format!("jobs.{job}.container");
                        self.literal(document, index, container, site(), path, GITHUB, "");
                    }
                }
            }
            if let Some(services) = document.get(node, "services") {
                for (service, definition) in document.entries(services) {
                    if let Some(image) = document.get(definition, "image") {
                        let path = format!("jobs.{job}.services.{service}.image");
                        self.literal(document, index, image, site(), path, GITHUB, "");
                    }
                }
            }
            if let Some(steps) = document.get(node, "steps") {
                for (position, step) in document.sequence(steps).enumerate() {
                    if let Some(uses) = document.get(step, "uses") {
                        let path = format!("jobs.{job}.steps[{position}].uses");
                        self.literal(document, index, uses, site(), path, GITHUB, "docker://");
                    }
                }
            }
        }
    }

    /// `image` and `services` (strings or mappings with `name`) at the top level, in `default` and in every job.
    /// `$VARIABLES` take the defaults of the job's `variables:`, else the file's ([`Finder::with_defaults`]).
    /// (`include:`d files are not followed: this crate reads one text.)
    pub(super) fn gitlab_ci(&mut self, document: &Document, index: usize, root: usize) {
        let globals = defaults(document, root, "variables");
        self.gitlab_job(document, index, root, "", &globals);
        for (key, node) in document.entries(root) {
            if GITLAB_GLOBALS.contains(&key)
                || !matches!(document.node(node), Some(Node::Mapping(_)))
            {
                continue;
            }
            let mut variables = globals.clone();
            variables.extend(defaults(document, node, "variables"));
            self.gitlab_job(document, index, node, &format!("{key}."), &variables);
        }
    }

    fn gitlab_job(
        &mut self,
        document: &Document,
        index: usize,
        job: usize,
        prefix: &str,
        variables: &Defaults,
    ) {
        if let Some(image) = document.get(job, "image") {
            self.gitlab_image(document, index, image, format!("{prefix}image"), variables);
        }
        if let Some(services) = document.get(job, "services") {
            for (position, service) in document.sequence(services).enumerate() {
                self.gitlab_image(
                    document,
                    index,
                    service,
                    format!("{prefix}services[{position}]"),
                    variables,
                );
            }
        }
    }

    fn gitlab_image(
        &mut self,
        document: &Document,
        index: usize,
        node: usize,
        path: String,
        variables: &Defaults,
    ) {
        let site = field(ManifestKind::GitlabCi);
        match document.node(node) {
            Some(Node::Mapping(_)) => {
                if let Some(name) = document.get(node, "name") {
                    let path = format!("{path}.name");
                    self.with_defaults(document, index, name, site, path, variables, GITLAB);
                }
            }
            _ => self.with_defaults(document, index, node, site, path, variables, GITLAB),
        }
    }

    /// An image written with `$VARIABLES` that the file gives defaults for. A value that is one variable
    /// (`image: $PYTHON_IMAGE`) is read, and pinned, where the variable is defined, as a Compose anchor is: the
    /// one place that holds the whole reference. Other variables in a value are substituted; such a value is
    /// not pinned (a digest after it would not follow the variables).
    #[allow(clippy::too_many_arguments)]
    fn with_defaults(
        &mut self,
        document: &Document,
        index: usize,
        node: usize,
        site: ImageSite,
        path: String,
        variables: &Defaults,
        what: &'static str,
    ) {
        let values: BTreeMap<String, String> = variables
            .iter()
            .filter_map(|(name, &value)| {
                Some((name.clone(), document.scalar(value)?.value.to_owned()))
            })
            .collect();
        let dialect = Dialect::Defaults {
            values: &values,
            what,
        };
        let whole = document.scalar(node).and_then(|scalar| {
            let (name, used) = variable_at(scalar.value)?;
            (used == scalar.value.len()).then(|| variables.get(name).copied())?
        });
        let written_at = whole.unwrap_or(node);
        self.literal(document, index, written_at, site, path, dialect, "");
    }

    /// Each entry of `images:`: `newName` (else `name`), `newTag`, `digest`.
    pub(super) fn kustomization(&mut self, document: &Document, index: usize, root: usize) {
        const KEYS: MapKeys = MapKeys {
            registry: None,
            repository: &["newName", "name"],
            tag: "newTag",
            digest: "digest",
            no_insert: None,
            empty_tag: None,
            numbers: false,
        };
        let Some(images) = document.get(root, "images") else {
            return;
        };
        for (position, entry) in document.sequence(images).enumerate() {
            let path = format!("images[{position}]");
            self.map(
                document,
                index,
                entry,
                field(ManifestKind::Kustomization),
                path,
                &KEYS,
            );
        }
    }

    /// The top-level `image` of a dev container.
    pub(super) fn devcontainer(&mut self, document: &Document, index: usize, root: usize) {
        if let Some(image) = document.get(root, "image") {
            let site = field(ManifestKind::Devcontainer);
            self.literal(
                document,
                index,
                image,
                site,
                "image".to_owned(),
                DEVCONTAINER,
                "",
            );
        }
    }

    /// `steps[].name`: the builder image of each step; `$_SUBSTITUTIONS` take the defaults of `substitutions:`.
    pub(super) fn cloud_build(&mut self, document: &Document, index: usize, root: usize) {
        let Some(steps) = document.get(root, "steps") else {
            return;
        };
        let substitutions = defaults(document, root, "substitutions");
        for (position, step) in document.sequence(steps).enumerate() {
            if let Some(name) = document.get(step, "name") {
                let site = field(ManifestKind::CloudBuild);
                let path = format!("steps[{position}].name");
                self.with_defaults(
                    document,
                    index,
                    name,
                    site,
                    path,
                    &substitutions,
                    CLOUD_BUILD,
                );
            }
        }
    }

    /// At any depth: `image: REF`, or an `image:` map with `repository` (and `registry`, `tag`, `digest`), or
    /// with `name` and `tag`.
    pub(super) fn helm_values(
        &mut self,
        document: &Document,
        index: usize,
        node: usize,
        prefix: String,
        depth: usize,
    ) {
        const KEYS: MapKeys = MapKeys {
            registry: Some("registry"),
            repository: &["repository", "name"],
            tag: "tag",
            digest: "digest",
            no_insert: Some(
                "the chart's values have no `digest:` key, and only its templates know whether they would read one: pin the tag, or add digest support to the chart",
            ),
            empty_tag: Some(
                "empty in the values: the chart's templates choose it (often the chart's appVersion)",
            ),
            numbers: true,
        };
        if depth > MAX_VALUES_DEPTH {
            return;
        }
        match document.node(node) {
            Some(Node::Mapping(_)) => {
                for (key, value) in document.entries(node) {
                    let path = format!("{prefix}{key}");
                    if key == "image" {
                        let site = field(ManifestKind::HelmValues);
                        match document.node(value) {
                            Some(Node::Scalar(_)) => {
                                self.literal(
                                    document,
                                    index,
                                    value,
                                    site,
                                    path,
                                    Dialect::Literal,
                                    "",
                                );
                            }
                            // `repository` (Bitnami, `helm create`), or `name` with a `tag` (other charts).
                            Some(Node::Mapping(_))
                                if document.get(value, "repository").is_some()
                                    || (document.get(value, "name").is_some()
                                        && document.get(value, "tag").is_some()) =>
                            {
                                self.map(document, index, value, site, path, &KEYS);
                            }
                            _ => self.helm_values(
                                document,
                                index,
                                value,
                                format!("{path}."),
                                depth + 1,
                            ),
                        }
                    } else {
                        self.helm_values(document, index, value, format!("{path}."), depth + 1);
                    }
                }
            }
            Some(Node::Sequence(_)) => {
                let prefix = prefix.trim_end_matches('.').to_owned();
                for (position, item) in document.sequence(node).enumerate() {
                    self.helm_values(
                        document,
                        index,
                        item,
                        format!("{prefix}[{position}]."),
                        depth + 1,
                    );
                }
            }
            _ => {}
        }
    }
}
