//! Every image of a Pod-bearing object, with the JSON pointer of its field: containers, init containers,
//! ephemeral containers and image volumes of the Pod spec, wherever the kind keeps it.

use std::marker::PhantomData;

use pyimage_locate::pod::{self, OtherKinds};
use serde_json::Value;

pub use pyimage_locate::pod::ImageSlot;

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

/// The JSON pointer of the Pod spec of `kind`, `None` for kinds that carry no Pod ([`pod::POD_SPECS`]).
pub fn pod_spec_pointer(kind: &str) -> Option<String> {
    pod::pod_spec_path(kind).map(|path| format!("/{}", path.join("/")))
}

/// The Pod walk of [`pyimage_locate::pod`] over JSON.
struct Json<'v>(PhantomData<&'v Value>);

impl<'v> pod::Tree for Json<'v> {
    type Node = &'v Value;

    fn get(&self, node: &'v Value, key: &str) -> Option<&'v Value> {
        node.get(key)
    }

    fn items(&self, node: &'v Value) -> Vec<&'v Value> {
        node.as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    }
}

/// Every image of `object` (a `kind`), in spec order: containers, init containers, ephemeral containers, volumes
/// ([`pod::pod_images`]). An empty or missing `image` (allowed in templates) is skipped; so is a non-string one.
pub fn object_images(kind: &str, object: &Value) -> Vec<ObjectImage> {
    pod::pod_images(&Json(PhantomData), object, Some(kind), OtherKinds::Skip)
        .into_iter()
        .filter_map(|found| {
            let image = found.image.as_str().filter(|image| !image.is_empty())?;
            Some(ObjectImage {
                pointer: found.pointer(),
                field: found.dotted(),
                name: found
                    .item
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                slot: found.slot,
                image: image.to_owned(),
            })
        })
        .collect()
}
