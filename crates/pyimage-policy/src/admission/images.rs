//! Every image of a Pod-bearing object, with the JSON pointer of its field: containers, init containers,
//! ephemeral containers and image volumes of the Pod spec, wherever the kind keeps it. The object is either a
//! parsed JSON value or, as the webhook reads it, an [`ObjectView`]: only the members on the way to the images
//! (and the object's name), kept while the review is parsed, the rest of the object skipped in that same read.

use std::fmt;
use std::marker::PhantomData;

use pyimage_locate::pod::{self, OtherKinds};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::review::Text;

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

/// A JSON tree the Pod walk can read strings of.
trait JsonTree: pod::Tree {
    /// The string a node holds (`None` for any other node).
    fn text(&self, node: Self::Node) -> Option<std::borrow::Cow<'_, str>>;
}

/// The Pod walk of [`pyimage_locate::pod`] over a parsed value.
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

impl JsonTree for Json<'_> {
    fn text(&self, node: Self::Node) -> Option<std::borrow::Cow<'_, str>> {
        node.as_str().map(std::borrow::Cow::Borrowed)
    }
}

/// What the webhook reads of an object, kept as the review is parsed: the members whose keys lie on a way from the
/// object to its images or its name ([`is_read`]), in order and at any depth, strings borrowed from the body
/// unless escaped. Every other member is skipped in that same read (serde_json still checks it is well-formed), so
/// a review's `managedFields`, annotations, status and the rest of each container are never built, nor read twice.
/// Reading a key the Pod walk or the object's name asks about answers as [`Value::get`] does over the whole object
/// (a repeated key, which the API server never sends, reads as its first member); what the view dropped reads as
/// absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectView<'a> {
    /// An object: its members whose keys are read ([`is_read`]), in order.
    Object(Vec<(Text<'a>, ObjectView<'a>)>),
    /// An array: all its items.
    Array(Vec<ObjectView<'a>>),
    /// A string.
    Text(Text<'a>),
    /// A number, a boolean or null.
    Other,
}

impl<'a> ObjectView<'a> {
    /// The value of `key` in an object (the first member with that key); `None` for any other node, a missing key
    /// or one the view does not keep.
    pub fn get(&self, key: &str) -> Option<&ObjectView<'a>> {
        match self {
            ObjectView::Object(members) => members
                .iter()
                .find(|(name, _)| name.as_str() == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// The string a node holds (`None` for any other node).
    pub fn text(&self) -> Option<&str> {
        match self {
            ObjectView::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }
}

/// Whether [`ObjectView`] keeps members with this key: the keys of every path to a Pod spec
/// ([`pod::POD_SPECS`], [`pod::GUESSED_POD_SPECS`]), the image lists and fields of a Pod spec ([`ImageSlot`]),
/// `name` (of a container, a volume and the object's metadata), `metadata` and `generateName`. A `match`, not a
/// search of those tables, since it runs for every key of the object's kept nodes; a test holds it to them.
pub fn is_read(key: &str) -> bool {
    matches!(
        key,
        "metadata"
            | "name"
            | "generateName"
            | "spec"
            | "template"
            | "jobTemplate"
            | "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "volumes"
            | "image"
            | "reference"
    )
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for ObjectView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ViewVisitor;
        impl<'de> Visitor<'de> for ViewVisitor {
            type Value = ObjectView<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    if is_read(key.as_str()) {
                        members.push((key, map.next_value::<ObjectView<'de>>()?));
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ObjectView::Object(members))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<ObjectView<'de>>()? {
                    items.push(item);
                }
                Ok(ObjectView::Array(items))
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(ObjectView::Text(Text(std::borrow::Cow::Borrowed(text))))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(ObjectView::Text(Text(std::borrow::Cow::Owned(
                    text.to_owned(),
                ))))
            }

            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(ObjectView::Text(Text(std::borrow::Cow::Owned(text))))
            }

            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(ObjectView::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(ObjectView::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(ObjectView::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(ObjectView::Other)
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(ObjectView::Other)
            }
        }
        deserializer.deserialize_any(ViewVisitor)
    }
}

/// The Pod walk over an [`ObjectView`].
struct View<'v, 'a>(PhantomData<&'v ObjectView<'a>>);

impl<'v, 'a> pod::Tree for View<'v, 'a> {
    type Node = &'v ObjectView<'a>;

    fn get(&self, node: &'v ObjectView<'a>, key: &str) -> Option<&'v ObjectView<'a>> {
        node.get(key)
    }

    fn items(&self, node: &'v ObjectView<'a>) -> Vec<&'v ObjectView<'a>> {
        match node {
            ObjectView::Array(items) => items.iter().collect(),
            _ => Vec::new(),
        }
    }
}

impl JsonTree for View<'_, '_> {
    fn text(&self, node: Self::Node) -> Option<std::borrow::Cow<'_, str>> {
        node.text().map(std::borrow::Cow::Borrowed)
    }
}

/// Every image of `object` (a `kind`), in spec order: containers, init containers, ephemeral containers, volumes
/// ([`pod::pod_images`]). An empty or missing `image` (allowed in templates) is skipped; so is a non-string one.
pub fn object_images(kind: &str, object: &Value) -> Vec<ObjectImage> {
    images_of(&Json(PhantomData), object, kind)
}

/// [`object_images`] of an object kept as JSON text, read into an [`ObjectView`] (text that is not a JSON value
/// has no images).
pub fn raw_object_images(kind: &str, object: &RawValue) -> Vec<ObjectImage> {
    serde_json::from_str::<ObjectView<'_>>(object.get())
        .map(|view| view_images(kind, &view))
        .unwrap_or_default()
}

/// [`object_images`] of the view of an object the review parse kept.
pub fn view_images(kind: &str, object: &ObjectView<'_>) -> Vec<ObjectImage> {
    images_of(&View(PhantomData), object, kind)
}

fn images_of<T: JsonTree>(tree: &T, object: T::Node, kind: &str) -> Vec<ObjectImage> {
    pod::pod_images(tree, object, Some(kind), OtherKinds::Skip)
        .into_iter()
        .filter_map(|found| {
            let image = tree.text(found.image).filter(|image| !image.is_empty())?;
            Some(ObjectImage {
                pointer: found.pointer(),
                field: found.dotted(),
                name: tree
                    .get(found.item, "name")
                    .and_then(|name| tree.text(name))
                    .map(String::from)
                    .unwrap_or_default(),
                slot: found.slot,
                image: image.into_owned(),
            })
        })
        .collect()
}
