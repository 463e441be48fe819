//! Where a Kubernetes object keeps the images of its Pod: the one description every reader of Pods uses — `check`'s
//! YAML/JSON locator (with byte spans), admission's JSON walker (`serve`) and the Gatekeeper export's Rego.
//!
//! * [`POD_SPECS`]: which kinds carry a Pod spec, and at which path.
//! * [`ImageSlot::ALL`]: which lists of a Pod spec hold images, and at which field of each item: `image` of
//!   `containers`, `initContainers` and `ephemeralContainers`, `image.reference` of `volumes` (image volumes).
//! * [`pod_images`]: the one walk over both, generic over [`Tree`] (get a key, iterate a sequence), so the YAML
//!   document and `serde_json::Value` are read the same way. It hands back the node of each image field; whether
//!   that node is a usable string is each reader's business (YAML's `image:` with no value, JSON's non-strings).

/// Where an image sits in a Pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// Every slot, in the order images are reported.
    pub const ALL: [ImageSlot; 4] = [
        ImageSlot::Container,
        ImageSlot::InitContainer,
        ImageSlot::EphemeralContainer,
        ImageSlot::Volume,
    ];

    /// The list of the Pod spec that holds it.
    pub fn list(self) -> &'static str {
        match self {
            ImageSlot::Container => "containers",
            ImageSlot::InitContainer => "initContainers",
            ImageSlot::EphemeralContainer => "ephemeralContainers",
            ImageSlot::Volume => "volumes",
        }
    }

    /// The keys from an item of the list to the image.
    pub fn field(self) -> &'static [&'static str] {
        match self {
            ImageSlot::Volume => &["image", "reference"],
            _ => &["image"],
        }
    }

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

const TEMPLATE: &[&str] = &["spec", "template", "spec"];
const JOB_TEMPLATE: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];

/// The kinds that carry a Pod spec, with its path (keys from the object).
pub const POD_SPECS: &[(&str, &[&str])] = &[
    ("Pod", &["spec"]),
    ("PodTemplate", &["template", "spec"]),
    ("Deployment", TEMPLATE),
    ("StatefulSet", TEMPLATE),
    ("DaemonSet", TEMPLATE),
    ("ReplicaSet", TEMPLATE),
    ("ReplicationController", TEMPLATE),
    ("Job", TEMPLATE),
    ("CronJob", JOB_TEMPLATE),
];

/// Where an object of another kind (a custom resource such as Argo's `Rollout`, or a document without `kind`) is
/// looked at when [`OtherKinds::Guess`]: where the workload kinds keep a Pod.
pub const GUESSED_POD_SPECS: &[&[&str]] = &[TEMPLATE, JOB_TEMPLATE];

/// The path of the Pod spec of `kind`, `None` for kinds that carry no Pod.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    POD_SPECS
        .iter()
        .find(|(known, _)| *known == kind)
        .map(|(_, path)| *path)
}

/// What to do with an object whose kind is not in [`POD_SPECS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherKinds {
    /// Nothing: it carries no Pod (admission, which is asked about the kinds it registered for).
    Skip,
    /// Look where the workload kinds keep a Pod ([`GUESSED_POD_SPECS`]): `check` reads files that may hold custom
    /// resources.
    Guess,
}

/// A tree [`pod_images`] can walk: the YAML document of the locator, or `serde_json::Value`.
pub trait Tree {
    /// A node of the tree.
    type Node: Copy;
    /// The value of `key` in a mapping (`None` for a missing key or any other node).
    fn get(&self, node: Self::Node, key: &str) -> Option<Self::Node>;
    /// The items of a sequence (none for any other node).
    fn items(&self, node: Self::Node) -> Vec<Self::Node>;
}

/// One image field of a Pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodImage<N> {
    /// The path of the Pod spec (keys from the object).
    pub spec: &'static [&'static str],
    /// What holds the image.
    pub slot: ImageSlot,
    /// The position of the item in its list.
    pub index: usize,
    /// The item (the container, or the volume).
    pub item: N,
    /// The node of the image field (`image`, or the volume's `image.reference`), whatever it holds.
    pub image: N,
}

impl<N> PodImage<N> {
    /// The field in dotted form (`spec.template.spec.containers[0].image`).
    pub fn dotted(&self) -> String {
        let mut dotted = String::with_capacity(64);
        for key in self.spec {
            dotted.push_str(key);
            dotted.push('.');
        }
        dotted.push_str(self.slot.list());
        push_index(&mut dotted, '[', self.index);
        dotted.push(']');
        for key in self.slot.field() {
            dotted.push('.');
            dotted.push_str(key);
        }
        dotted
    }

    /// The field as a JSON pointer (`/spec/template/spec/containers/0/image`).
    pub fn pointer(&self) -> String {
        let mut pointer = String::with_capacity(64);
        for key in self.spec {
            pointer.push('/');
            pointer.push_str(key);
        }
        pointer.push('/');
        pointer.push_str(self.slot.list());
        push_index(&mut pointer, '/', self.index);
        for key in self.slot.field() {
            pointer.push('/');
            pointer.push_str(key);
        }
        pointer
    }
}

/// `before` then `index` in decimal.
fn push_index(text: &mut String, before: char, index: usize) {
    use std::fmt::Write as _;
    text.push(before);
    // Writing to a String cannot fail.
    let _ = write!(text, "{index}");
}

/// Every image field of `object`, a `kind` (`None` when it has none), in spec order: per Pod spec, containers,
/// init containers, ephemeral containers, volumes. An item without the field is skipped.
pub fn pod_images<T: Tree>(
    tree: &T,
    object: T::Node,
    kind: Option<&str>,
    other: OtherKinds,
) -> Vec<PodImage<T::Node>> {
    let specs: Vec<&'static [&'static str]> = match kind.and_then(pod_spec_path) {
        Some(path) => vec![path],
        None if other == OtherKinds::Guess => GUESSED_POD_SPECS.to_vec(),
        None => Vec::new(),
    };
    let mut images = Vec::new();
    for spec_path in specs {
        let Some(spec) = follow(tree, object, spec_path) else {
            continue;
        };
        for slot in ImageSlot::ALL {
            let Some(list) = tree.get(spec, slot.list()) else {
                continue;
            };
            for (index, item) in tree.items(list).into_iter().enumerate() {
                if let Some(image) = follow(tree, item, slot.field()) {
                    images.push(PodImage {
                        spec: spec_path,
                        slot,
                        index,
                        item,
                        image,
                    });
                }
            }
        }
    }
    images
}

fn follow<T: Tree>(tree: &T, mut node: T::Node, path: &[&str]) -> Option<T::Node> {
    for key in path {
        node = tree.get(node, key)?;
    }
    Some(node)
}
