//! Generated inputs: references that cover every branch of the decision (float levels, digests, pre-releases,
//! end of life, mirrors, look-alikes, typosquats, derived and other images, invalid text) and objects of every
//! Pod-bearing kind that carry them in every image field.

use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const DIGEST: &str = "sha256:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998";

const NAMES: &[&str] = &[
    "python",
    "library/python",
    "docker.io/python",
    "docker.io/library/python",
    "index.docker.io/library/python",
    "index.docker.io/python",
    "registry-1.docker.io/library/python",
    "localhost/python",
    "localhost:5000/python",
    "registry.example.com/dockerhub/library/python",
    "mirror.example.com/python",
    "mirror.example.com/python-evil",
    "registry.example.com/dockerhub/library/python-evil",
    "python-evil",
    "library/python-evil",
    "python3",
    "library/python3",
    "bitnami/python",
    "someone/python",
    "mcr.microsoft.com/devcontainers/python",
    "public.ecr.aws/lambda/python",
    "cimg/python",
    "registry.access.redhat.com/ubi9/python-311",
    "gcr.io/distroless/python3",
    "gcr.io/distroless/python3-debian12",
    "public.ecr.aws/docker/library/python",
    "mirror.gcr.io/library/python",
    "ghcr.io/vendor/python",
    "someone/python3.12",
    "pyhton",
    "pythn",
    "ptyhon",
    "pyth0n",
    "pythonn",
    "pyton",
    "pytho",
    "pyth",
    "xpython",
    "cpython",
    "tiangolo/uvicorn-gunicorn",
    "apache/beam_python3.12_sdk",
    "apache/beam_python3.8_sdk",
    "gcr.io/dataflow-templates-base/python39-template-launcher-base",
    "ghcr.io/astral-sh/uv",
    "rapidsai/base",
    "example.com/tools/app-py3.10",
    "someone/numpy3",
    "node",
    "debian",
    "alpine",
    "ghcr.io/acme/app",
    "ghcr.io/acme/tools/x",
    "ghcr.io/acmex/app",
    "quay.io/someone/tool",
    "myregistry.io.malicious.com/python",
    "myregistry.io/python",
    "docker.io/library/debian",
    "nginx",
    "ghcr.io/acme/python-base",
    "foo_bar.com/x",
    "[::1]:5000/python",
];

const TAGS: &[&str] = &[
    "",
    "latest",
    "3",
    "3-slim",
    "3.12",
    "3.12-slim",
    "3.12.14",
    "3.12.14-slim-bookworm",
    "3.13.9-alpine3.22",
    "3.15.0rc1",
    "3.15.0a7-slim",
    "3.15-rc",
    "3.15-rc-slim",
    "rc",
    "rc-slim-buster",
    "slim",
    "bookworm",
    "alpine3.20",
    "3.9",
    "3.9-slim",
    "3.9.25",
    "3.8.20",
    "2.7",
    "3.10",
    "3.10.19",
    "3.11-slim",
    "3.12-slimm",
    "3.12.14.1",
    "99999999999.1",
    "3.4294967296",
    "3.12.0b99999999999",
    "03.12",
    "python3.11",
    "python3.9-slim",
    "py312",
    "24.10-cuda12.5-py312",
    "0.5-python3.12-trixie-slim",
    "python3",
    "3.05",
    "2.60.0",
    "1",
    "20",
    "12",
    "v1.2.3",
    "Python3.9",
    "py3.8",
    "numpy38",
];

const BROKEN: &[&str] = &[
    "Python:3.12",
    "python:",
    "python@sha256:abc",
    ":3.12",
    "",
    "python:3.12 ",
    "UPPER/python:3",
    "a//b",
    "python@sha512:97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca399897490e383c4cffb12825431fa24e3d2b",
    "97490e383c4cffb12825431fa24e3d2b70e39fd691a8e33c46bf4c18edca3998",
    "python:-slim",
    "-python:3",
    "localhost:/python",
    "example.com:abc/python",
    "pYthon",
    "python::3",
];

/// `count` references: names × tags × digest, plus invalid text now and then.
pub fn references(rng: &mut Rng, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            if rng.below(12) == 0 {
                return rng.pick(BROKEN).to_owned();
            }
            let mut text = rng.pick(NAMES).to_owned();
            let tag = rng.pick(TAGS);
            if !tag.is_empty() {
                text.push(':');
                text.push_str(tag);
            }
            if rng.below(4) == 0 {
                text.push('@');
                text.push_str(DIGEST);
            }
            text
        })
        .collect()
}

/// Kinds and where their pod spec is.
pub const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("v1", "PodTemplate"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
];

const FIELDS: &[&str] = &[
    "containers",
    "initContainers",
    "ephemeralContainers",
    "volumes",
];

/// An object of `kind` whose pod spec holds `images`, spread over the container lists and image volumes.
pub fn object(kind: usize, images: &[String]) -> Value {
    let (api_version, kind) = KINDS[kind % KINDS.len()];
    let mut spec = serde_json::Map::new();
    for (index, image) in images.iter().enumerate() {
        let field = FIELDS[index % FIELDS.len()];
        let entry = if field == "volumes" {
            json!({"name": format!("v{index}"), "image": {"reference": image, "pullPolicy": "IfNotPresent"}})
        } else {
            json!({"name": format!("c{index}"), "image": image})
        };
        spec.entry(field)
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("a list")
            .push(entry);
    }
    // A volume without an image and a container without one are not images.
    spec.entry("volumes")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .expect("a list")
        .push(json!({"name": "data", "emptyDir": {}}));
    let pod = json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    let body = match kind {
        "Pod" => {
            return json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "p"}, "spec": pod["spec"]});
        }
        "PodTemplate" => {
            return json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "t"}, "template": pod});
        }
        "CronJob" => json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": pod}}}),
        _ => json!({"template": pod}),
    };
    json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "o"}, "spec": body})
}

/// The images of an object, read from the Kubernetes API shape (independently of the Rego).
pub fn images_of(object: &Value) -> Vec<String> {
    let spec = match object["kind"].as_str().unwrap_or_default() {
        "Pod" => &object["spec"],
        "PodTemplate" => &object["template"]["spec"],
        "CronJob" => &object["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &object["spec"]["template"]["spec"],
        _ => return Vec::new(),
    };
    let mut images = Vec::new();
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for container in spec[list].as_array().into_iter().flatten() {
            if let Some(image) = container["image"].as_str() {
                images.push(image.to_owned());
            }
        }
    }
    for volume in spec["volumes"].as_array().into_iter().flatten() {
        if let Some(image) = volume["image"]["reference"].as_str() {
            images.push(image.to_owned());
        }
    }
    images
}
