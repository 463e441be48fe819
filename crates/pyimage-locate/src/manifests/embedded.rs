//! Containers embedded in Kubernetes objects of kinds pyimage does not know: workflow engines, CI tasks and
//! operators' custom resources put containers in places of their own, and a list of kinds would always miss the
//! next one. So, for an object with `apiVersion` and a `kind` that is not a Pod-carrying kind of [`crate::pod`],
//! the whole object is searched (except `metadata` and `status`) for these shapes, at any depth:
//!
//! | shape | where it is used |
//! |---|---|
//! | `containers`, `initContainers`, `ephemeralContainers`: a list of maps with an `image` string | every Pod spec, wherever an operator nests it (KubeRay's `headGroupSpec.template.spec`, Argo's `containerSet`) |
//! | `sidecars`, `steps`: a list of maps with an `image` string | Argo templates' `sidecars`; Tekton `Task`/`Pipeline` `steps` (also inside a `taskSpec`) |
//! | `container`, `script`: a map with an `image` string | Argo `Workflow`/`WorkflowTemplate`/`CronWorkflow` templates |
//!
//! Each image is read as written (a literal reference: no variables are evaluated) and pinned like a Pod's.
//!
//! Not read, on purpose: an `image:` key anywhere else (a Spark application's `spec.image`, Tekton's
//! `stepTemplate.image`, a `HelmRelease`'s `values`, an operator's `spec.version`): such a field may be a repository
//! without tag, a default other keys override, a template, or not an image at all, and a guess would report what is
//! not there. Images in scalars (a ConfigMap holding YAML text) are
//! text. A document without `apiVersion` and `kind` keeps the narrower guess of [`crate::pod::GUESSED_POD_SPECS`].

use std::collections::HashSet;

use super::ImageSite;
use super::finder::{Dialect, Finder};
use super::yaml::{Document, Node};
use crate::pod::ImageSlot;

/// Lists whose items are containers (maps with an `image`).
const CONTAINER_LISTS: [&str; 5] = [
    "containers",
    "initContainers",
    "ephemeralContainers",
    "sidecars",
    "steps",
];

/// Keys whose value is one container (a map with an `image`).
const CONTAINER_MAPS: [&str; 2] = ["container", "script"];

/// Keys of an object never searched: they describe the object, not what it runs.
const NOT_SEARCHED: [&str; 2] = ["metadata", "status"];

/// Deepest node the search enters.
const MAX_DEPTH: usize = 48;

/// What a search of one object needs besides the document.
pub(super) struct Embedded<'k> {
    /// The object's `kind`.
    pub(super) kind: &'k str,
    /// The object's `metadata.name`.
    pub(super) object: Option<String>,
    /// The path of the object (`items[2].` in a `List`).
    pub(super) prefix: String,
    /// Image nodes already reported (by the Pod walk): not reported twice.
    pub(super) reported: HashSet<usize>,
    /// Mappings and sequences already searched: a node an alias repeats is searched once.
    visited: HashSet<usize>,
}

impl<'k> Embedded<'k> {
    pub(super) fn new(
        kind: &'k str,
        object: Option<String>,
        prefix: String,
        reported: HashSet<usize>,
    ) -> Self {
        Embedded {
            kind,
            object,
            prefix,
            reported,
            visited: HashSet::new(),
        }
    }
}

impl Finder<'_> {
    /// Reports every container image of `object` found in the shapes of this module.
    pub(super) fn embedded_containers(
        &mut self,
        document: &Document,
        index: usize,
        object: usize,
        search: &mut Embedded<'_>,
    ) {
        for (key, value) in document.entries(object) {
            if NOT_SEARCHED.contains(&key) {
                continue;
            }
            let path = format!("{}{key}", search.prefix);
            self.search_node(document, index, key, value, path, search, 1);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn search_node(
        &mut self,
        document: &Document,
        index: usize,
        key: &str,
        node: usize,
        path: String,
        search: &mut Embedded<'_>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH || !search.visited.insert(node) {
            return;
        }
        match document.node(node) {
            Some(Node::Sequence(_)) => {
                let holds_containers = CONTAINER_LISTS.contains(&key);
                for (position, item) in document.sequence(node).enumerate() {
                    let item_path = format!("{path}[{position}]");
                    if holds_containers {
                        self.container(document, index, key, item, &item_path, search);
                    }
                    self.search_node(document, index, key, item, item_path, search, depth + 1);
                }
            }
            Some(Node::Mapping(_)) => {
                if CONTAINER_MAPS.contains(&key) {
                    self.container(document, index, key, node, &path, search);
                }
                for (child, value) in document.entries(node) {
                    let child_path = format!("{path}.{child}");
                    self.search_node(document, index, child, value, child_path, search, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// The `image` of a container map held under `key`, when it is a string not reported yet.
    fn container(
        &mut self,
        document: &Document,
        index: usize,
        key: &str,
        item: usize,
        path: &str,
        search: &mut Embedded<'_>,
    ) {
        let Some(image) = document.get(item, "image") else {
            return;
        };
        if !matches!(document.node(image), Some(Node::Scalar(_))) || !search.reported.insert(image)
        {
            return;
        }
        let slot = match key {
            "initContainers" => ImageSlot::InitContainer,
            "ephemeralContainers" => ImageSlot::EphemeralContainer,
            _ => ImageSlot::Container,
        };
        let site = ImageSite::KubernetesPod {
            kind: Some(search.kind.to_owned()),
            object: search.object.clone(),
            slot,
            name: document.get_str(item, "name").map(str::to_owned),
        };
        self.literal(
            document,
            index,
            image,
            site,
            format!("{path}.image"),
            Dialect::Literal,
            "",
        );
    }
}
