//! Every image of a Pod-bearing object, with the JSON pointer of its field: containers, init containers,
//! ephemeral containers and image volumes of the Pod spec, wherever the kind keeps it. The object is either a
//! parsed JSON value or, as the webhook reads it, unparsed JSON text ([`raw`]).

use std::marker::PhantomData;

use pyimage_locate::pod::{self, OtherKinds};
use serde_json::Value;
use serde_json::value::RawValue;

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

/// The Pod walk over unparsed JSON text. The walk asks one node for several keys (a Pod spec for its four image
/// lists, a container for its image and name): each object node's members are read once, on the first question,
/// and kept for the others.
#[derive(Default)]
struct Raw<'r> {
    /// By the address of the node's text (a node is a slice of the one body).
    read: std::cell::RefCell<std::collections::HashMap<usize, raw::Members<'r>>>,
}

impl<'r> pod::Tree for Raw<'r> {
    type Node = &'r RawValue;

    fn get(&self, node: &'r RawValue, key: &str) -> Option<&'r RawValue> {
        self.read
            .borrow_mut()
            .entry(node.get().as_ptr().addr())
            .or_insert_with(|| raw::Members::read(node))
            .get(key)
    }

    fn items(&self, node: &'r RawValue) -> Vec<&'r RawValue> {
        raw::items(node)
    }
}

impl<'r> JsonTree for Raw<'r> {
    fn text(&self, node: &'r RawValue) -> Option<std::borrow::Cow<'_, str>> {
        raw::text(node)
    }
}

/// Every image of `object` (a `kind`), in spec order: containers, init containers, ephemeral containers, volumes
/// ([`pod::pod_images`]). An empty or missing `image` (allowed in templates) is skipped; so is a non-string one.
pub fn object_images(kind: &str, object: &Value) -> Vec<ObjectImage> {
    images_of(&Json(PhantomData), object, kind)
}

/// [`object_images`] of an object kept as JSON text: only the path to the Pod spec and its image lists are read.
pub fn raw_object_images(kind: &str, object: &RawValue) -> Vec<ObjectImage> {
    images_of(&Raw::default(), object, kind)
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

/// Reading JSON text without building a tree: a key of an object, the items of an array, a string. Each call scans
/// the node's text (skipping what it does not need without allocating), so a walk down a path reads each level
/// once; what is not JSON of the expected kind reads as absent, as [`Value::get`] and [`Value::as_str`] answer.
pub mod raw {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::value::RawValue;

    use crate::admission::review::Text;

    /// The value of `key` in the object `node`, read up to that key (the first one when the key is repeated: the
    /// API server's JSON never repeats one); `None` when it has no such key or is not an object.
    pub fn get<'r>(node: &'r RawValue, key: &str) -> Option<&'r RawValue> {
        let found = std::cell::Cell::new(None);
        let mut reader = serde_json::Deserializer::from_str(node.get());
        // The visitor stops the read at the key with an error: the rest of the object is not scanned.
        let _ = reader.deserialize_any(Lookup { key, found: &found });
        found.get()
    }

    /// The members of one object node, read once (none when the node is not an object).
    pub(super) struct Members<'r> {
        members: Vec<(Text<'r>, &'r RawValue)>,
    }

    impl<'r> Members<'r> {
        /// Reads the members of `node`.
        pub(super) fn read(node: &'r RawValue) -> Members<'r> {
            let members = if node.get().starts_with('{') {
                serde_json::from_str(node.get())
                    .map(|map: MemberList<'r>| map.0)
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            Members { members }
        }

        /// The value of `key` (the first one when the key is repeated, as [`get`] answers).
        pub(super) fn get(&self, key: &str) -> Option<&'r RawValue> {
            self.members
                .iter()
                .find(|(name, _)| name.as_str() == key)
                .map(|(_, value)| *value)
        }
    }

    /// An object's members in order, keys and values borrowed.
    struct MemberList<'r>(Vec<(Text<'r>, &'r RawValue)>);

    impl<'de> serde::Deserialize<'de> for MemberList<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct MembersVisitor;
            impl<'de> Visitor<'de> for MembersVisitor {
                type Value = MemberList<'de>;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                    while let Some(key) = map.next_key::<Text<'de>>()? {
                        members.push((key, map.next_value::<&'de RawValue>()?));
                    }
                    Ok(MemberList(members))
                }
            }
            deserializer.deserialize_map(MembersVisitor)
        }
    }

    /// The items of the array `node` (none when it is not an array).
    pub fn items(node: &RawValue) -> Vec<&RawValue> {
        if !node.get().starts_with('[') {
            return Vec::new();
        }
        serde_json::from_str(node.get()).unwrap_or_default()
    }

    /// The string `node` holds, borrowed unless it has escapes (`None` when it is not a string).
    pub fn text(node: &RawValue) -> Option<Cow<'_, str>> {
        if !node.get().starts_with('"') {
            return None;
        }
        serde_json::from_str::<Text<'_>>(node.get())
            .ok()
            .map(|text| text.0)
    }

    struct Lookup<'k, 'de> {
        key: &'k str,
        found: &'k std::cell::Cell<Option<&'de RawValue>>,
    }

    impl<'de> Visitor<'de> for Lookup<'_, 'de> {
        type Value = Option<&'de RawValue>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while let Some(key) = map.next_key::<Text<'de>>()? {
                let value: &'de RawValue = map.next_value()?;
                if key.as_str() == self.key {
                    self.found.set(Some(value));
                    return Err(serde::de::Error::custom("found"));
                }
            }
            Ok(None)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
}
