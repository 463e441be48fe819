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

/// The Pod walk over unparsed JSON text (each node a slice of the one body, [`raw`]). The walk asks one node for
/// several keys (a Pod spec for its four image lists, a container for its image and name): each object node's
/// members are read once, on the first question, and kept for the others.
#[derive(Default)]
struct Raw<'r> {
    /// By the address of the node's text.
    read: std::cell::RefCell<std::collections::HashMap<usize, raw::Members<'r>>>,
}

impl<'r> pod::Tree for Raw<'r> {
    type Node = &'r str;

    fn get(&self, node: &'r str, key: &str) -> Option<&'r str> {
        self.read
            .borrow_mut()
            .entry(node.as_ptr().addr())
            .or_insert_with(|| raw::Members::read(node))
            .get(key)
    }

    fn items(&self, node: &'r str) -> Vec<&'r str> {
        raw::items(node)
    }
}

impl<'r> JsonTree for Raw<'r> {
    fn text(&self, node: &'r str) -> Option<std::borrow::Cow<'_, str>> {
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
    images_of(&Raw::default(), object.get(), kind)
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

/// Reading JSON text without building a tree: a key of an object, the items of an array, a string. The text is an
/// AdmissionReview's object, which serde_json has already read whole and found well-formed when it parsed the
/// review ([`super::super::review::AdmissionReview::parse`]), so it is not checked again: each node is a slice of
/// the text, found by scanning its bytes for the ends of values (strings skipped to their closing quote with
/// `memchr`), which costs a fraction of a second parse. Text that is not well-formed JSON reads as absent from
/// where it stops making sense, never as a panic; what is not JSON of the expected kind reads as absent, as
/// [`Value::get`] and [`Value::as_str`] answer.
pub mod raw {
    use std::borrow::Cow;

    use crate::admission::review::Text;

    /// The value of `key` in the object `node`, read up to that key (the first one when the key is repeated: the
    /// API server's JSON never repeats one); `None` when it has no such key or is not an object.
    pub fn get<'r>(node: &'r str, key: &str) -> Option<&'r str> {
        members(node)
            .find(|(name, _)| name.as_ref() == key)
            .map(|(_, value)| value)
    }

    /// The members of one object node, read once (none when the node is not an object).
    pub(super) struct Members<'r> {
        members: Vec<(Cow<'r, str>, &'r str)>,
    }

    impl<'r> Members<'r> {
        /// Reads the members of `node`.
        pub(super) fn read(node: &'r str) -> Members<'r> {
            Members {
                members: members(node).collect(),
            }
        }

        /// The value of `key` (the first one when the key is repeated, as [`get`] answers).
        pub(super) fn get(&self, key: &str) -> Option<&'r str> {
            self.members
                .iter()
                .find(|(name, _)| name.as_ref() == key)
                .map(|(_, value)| *value)
        }
    }

    /// The items of the array `node` (none when it is not an array).
    pub fn items(node: &str) -> Vec<&str> {
        let bytes = node.as_bytes();
        let mut items = Vec::new();
        if bytes.first() != Some(&b'[') {
            return items;
        }
        let mut at = space(bytes, 1);
        if bytes.get(at) == Some(&b']') {
            return items;
        }
        while let Some(item) = value_end(bytes, at).and_then(|end| Some((node.get(at..end)?, end)))
        {
            items.push(item.0);
            at = space(bytes, item.1);
            if bytes.get(at) != Some(&b',') {
                break;
            }
            at = space(bytes, at + 1);
        }
        items
    }

    /// The string `node` holds, borrowed unless it has escapes (`None` when it is not a string).
    pub fn text(node: &str) -> Option<Cow<'_, str>> {
        let inner = node.strip_prefix('"')?.strip_suffix('"')?;
        if !inner.contains('\\') {
            return Some(Cow::Borrowed(inner));
        }
        serde_json::from_str::<Text<'_>>(node)
            .ok()
            .map(|text| text.0)
    }

    /// The members of the object `node` in order, keys decoded, values as slices (none when it is not an object).
    fn members(node: &str) -> impl Iterator<Item = (Cow<'_, str>, &str)> {
        let bytes = node.as_bytes();
        let mut at = if bytes.first() == Some(&b'{') {
            space(bytes, 1)
        } else {
            bytes.len()
        };
        std::iter::from_fn(move || {
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let key_end = string_end(bytes, at)?;
            let key = text(node.get(at..key_end)?)?;
            let colon = space(bytes, key_end);
            if bytes.get(colon) != Some(&b':') {
                return None;
            }
            let start = space(bytes, colon + 1);
            let end = value_end(bytes, start)?;
            let value = node.get(start..end)?;
            at = space(bytes, end);
            at = if bytes.get(at) == Some(&b',') {
                space(bytes, at + 1)
            } else {
                bytes.len()
            };
            Some((key, value))
        })
    }

    /// The index of the first byte at or after `at` that is not JSON whitespace.
    fn space(bytes: &[u8], mut at: usize) -> usize {
        while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at += 1;
        }
        at
    }

    /// The index past the string whose opening quote is at `at`.
    fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
        let mut at = at + 1;
        loop {
            at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
            if bytes.get(at) == Some(&b'"') {
                return Some(at + 1);
            }
            // A backslash and the character it escapes (the hex digits of `\u` hold no quote nor backslash).
            at += 2;
        }
    }

    /// The index past the value that starts at `at`: a string, an object or array (to its matching bracket;
    /// strings inside are skipped whole, so brackets in them do not count), or a number or literal.
    fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
        match bytes.get(at)? {
            b'"' => string_end(bytes, at),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut at = at;
                loop {
                    match bytes.get(at)? {
                        b'"' => {
                            at = string_end(bytes, at)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(at + 1);
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
            }
            _ => {
                let rest = bytes.get(at..)?;
                let len = rest
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(rest.len());
                Some(at + len)
            }
        }
    }
}
