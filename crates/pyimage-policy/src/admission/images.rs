//! Every image of a Pod-bearing object, with the JSON pointer of its field: containers, init containers,
//! ephemeral containers and image volumes of the Pod spec, wherever the kind keeps it.

use serde_json::Value;

/// Where an image sits in the Pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageSlot {
    /// `containers[*].image`.
    Container,
    /// `initContainers[*].image`.
    InitContainer,
    /// `ephemeralContainers[*].image`.
    EphemeralContainer,
    /// `volumes[*].image.reference`.
    Volume,
}

impl ImageSlot {
    /// How the slot is named in messages.
    pub fn noun(self) -> &'static str {
        match self {
            ImageSlot::Container => "container",
            ImageSlot::InitContainer => "init container",
            ImageSlot::EphemeralContainer => "ephemeral container",
            ImageSlot::Volume => "image volume",
        }
    }
}

/// One image of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectImage {
    /// The JSON pointer of the field (`/spec/template/spec/containers/0/image`), the path of a JSONPatch.
    pub pointer: String,
    /// The same field in dotted form (`spec.template.spec.containers[0].image`), for people.
    pub field: String,
    /// The container's (or volume's) name.
    pub name: String,
    /// What holds the image.
    pub slot: ImageSlot,
    /// The image as written.
    pub image: String,
}

/// The JSON pointer of the Pod spec of `kind`, `None` for kinds that carry no Pod.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/spec",
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "PodTemplate" => "/template/spec",
        _ => return None,
    })
}

/// Every image of `object` (a `kind`), in spec order: containers, init containers, ephemeral containers, volumes.
/// An empty or missing `image` (allowed in templates) is skipped; so is a non-string one.
pub fn object_images(kind: &str, object: &Value) -> Vec<ObjectImage> {
    let Some(prefix) = pod_spec_pointer(kind) else {
        return Vec::new();
    };
    let Some(spec) = object.pointer(prefix) else {
        return Vec::new();
    };
    let mut images = Vec::new();
    let lists = [
        ("containers", ImageSlot::Container),
        ("initContainers", ImageSlot::InitContainer),
        ("ephemeralContainers", ImageSlot::EphemeralContainer),
    ];
    for (list, slot) in lists {
        for (index, container) in items(spec, list) {
            if let Some(image) = container.get("image").and_then(Value::as_str) {
                push(
                    &mut images,
                    prefix,
                    list,
                    index,
                    "/image",
                    container,
                    slot,
                    image,
                );
            }
        }
    }
    for (index, volume) in items(spec, "volumes") {
        if let Some(image) = volume.pointer("/image/reference").and_then(Value::as_str) {
            let slot = ImageSlot::Volume;
            push(
                &mut images,
                prefix,
                "volumes",
                index,
                "/image/reference",
                volume,
                slot,
                image,
            );
        }
    }
    images
}

fn items<'v>(spec: &'v Value, list: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    spec.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

#[allow(clippy::too_many_arguments)]
fn push(
    images: &mut Vec<ObjectImage>,
    prefix: &str,
    list: &str,
    index: usize,
    leaf: &str,
    item: &Value,
    slot: ImageSlot,
    image: &str,
) {
    if image.is_empty() {
        return;
    }
    let pointer = format!("{prefix}/{list}/{index}{leaf}");
    let dotted_prefix = prefix.trim_start_matches('/').replace('/', ".");
    let dotted_leaf = leaf.replace('/', ".");
    images.push(ObjectImage {
        pointer,
        field: format!("{dotted_prefix}.{list}[{index}]{dotted_leaf}"),
        name: item
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        slot,
        image: image.to_owned(),
    });
}
