//! The three readers of a Pod's images — `check`'s locator (YAML with spans), admission's `object_images` (JSON)
//! and the exported Gatekeeper Rego (in regorus) — fed the same objects, must find the same images at the same
//! fields: the hand-written list below, which is what `pyimage_locate::pod` describes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use pyimage_locate::manifests::{self, ImageSite};
use pyimage_locate::pod::{self, ImageSlot};
use pyimage_policy::admission::object_images;
use pyimage_policy::config::{Overrides, Settings};
use pyimage_policy::export::gatekeeper::{self, Target};
use serde_json::{Value, json};

/// A Deployment with every kind of image field (and a volume that holds no image), and a CronJob.
const MANIFEST: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: python:3.12-slim
      containers:
        - name: app
          image: python:3.12
        - name: sidecar
          image: "docker.io/library/busybox:1.36"
      ephemeralContainers:
        - name: debug
          image: python:3.13-alpine
      volumes:
        - name: config
          configMap: {name: cfg}
        - name: wheels
          image:
            reference: python:3.11
            pullPolicy: IfNotPresent
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: job
              image: python:3.10
          volumes:
            - name: tools
              image: {reference: "ghcr.io/acme/tools:1"}
"#;

/// (kind, field, slot, name, image) of every image, by hand.
const EXPECTED: &[(&str, &str, ImageSlot, &str, &str)] = &[
    (
        "Deployment",
        "spec.template.spec.containers[0].image",
        ImageSlot::Container,
        "app",
        "python:3.12",
    ),
    (
        "Deployment",
        "spec.template.spec.containers[1].image",
        ImageSlot::Container,
        "sidecar",
        "docker.io/library/busybox:1.36",
    ),
    (
        "Deployment",
        "spec.template.spec.initContainers[0].image",
        ImageSlot::InitContainer,
        "migrate",
        "python:3.12-slim",
    ),
    (
        "Deployment",
        "spec.template.spec.ephemeralContainers[0].image",
        ImageSlot::EphemeralContainer,
        "debug",
        "python:3.13-alpine",
    ),
    (
        "Deployment",
        "spec.template.spec.volumes[1].image.reference",
        ImageSlot::Volume,
        "wheels",
        "python:3.11",
    ),
    (
        "CronJob",
        "spec.jobTemplate.spec.template.spec.containers[0].image",
        ImageSlot::Container,
        "job",
        "python:3.10",
    ),
    (
        "CronJob",
        "spec.jobTemplate.spec.template.spec.volumes[0].image.reference",
        ImageSlot::Volume,
        "tools",
        "ghcr.io/acme/tools:1",
    ),
];

/// (kind, field, slot, name, image), the way every reader is compared.
type Found = BTreeSet<(String, String, ImageSlot, String, String)>;

fn expected() -> Found {
    EXPECTED
        .iter()
        .map(|&(kind, field, slot, name, image)| {
            (kind.into(), field.into(), slot, name.into(), image.into())
        })
        .collect()
}

fn objects() -> Vec<Value> {
    yaml_serde::Deserializer::from_str(MANIFEST)
        .map(|document| serde::Deserialize::deserialize(document).expect("YAML"))
        .collect()
}

#[test]
fn check_locator_finds_every_image_of_the_pod_with_its_span() {
    let scan = manifests::scan_kubernetes(MANIFEST);
    assert!(scan.error.is_none(), "{:?}", scan.error);
    let mut found = Found::new();
    for image in &scan.images {
        let ImageSite::KubernetesPod {
            kind, slot, name, ..
        } = &image.site
        else {
            panic!("not a Pod image: {image:?}");
        };
        assert_eq!(&MANIFEST[image.span.range()], image.value, "{}", image.path);
        assert!(image.not_rewritable.is_none(), "{}", image.path);
        found.insert((
            kind.clone().unwrap_or_default(),
            image.path.clone(),
            *slot,
            name.clone().unwrap_or_default(),
            image.value.clone(),
        ));
    }
    assert_eq!(found, expected());
    assert_eq!(scan.images.len(), EXPECTED.len());
}

#[test]
fn admission_finds_every_image_of_the_pod() {
    let mut found = Found::new();
    let mut count = 0;
    for object in objects() {
        let kind = object["kind"].as_str().expect("kind").to_owned();
        for image in object_images(&kind, &object) {
            count += 1;
            let dotted = image.pointer.trim_start_matches('/').replace('/', ".");
            assert!(
                dotted.starts_with(image.field.split('[').next().unwrap_or("")),
                "pointer {} and field {} disagree",
                image.pointer,
                image.field
            );
            found.insert((
                kind.clone(),
                image.field,
                image.slot,
                image.name,
                image.image,
            ));
        }
    }
    assert_eq!(found, expected());
    assert_eq!(count, EXPECTED.len());
}

#[test]
fn exported_rego_finds_every_image_of_the_pod() {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    engine
        .add_policy("pyimagepolicy.rego".into(), gatekeeper::rego())
        .expect("the exported Rego compiles");
    // The Rego names an image by slot and name (`init container "migrate"`), not by field.
    let mut found = BTreeSet::new();
    for object in objects() {
        let kind = object["kind"].as_str().expect("kind").to_owned();
        let input = json!({"review": {"kind": {"kind": kind}, "object": object}, "parameters": {}});
        engine.set_input_json(&input.to_string()).expect("input");
        let uses = engine
            .eval_rule("data.pyimagepolicy.image_uses".into())
            .expect("image_uses evaluates");
        let uses: Value = serde_json::from_str(&uses.to_json_str().expect("json")).expect("json");
        for image_use in uses.as_array().expect("a set") {
            found.insert((
                kind.clone(),
                image_use["where"].as_str().expect("where").to_owned(),
                image_use["image"].as_str().expect("image").to_owned(),
            ));
        }
    }
    let expected: BTreeSet<(String, String, String)> = EXPECTED
        .iter()
        .map(|&(kind, _, slot, name, image)| {
            (
                kind.into(),
                format!("{} \"{name}\"", slot.noun()),
                image.into(),
            )
        })
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn gatekeeper_constraints_match_the_kinds_that_carry_a_pod() {
    let settings = Settings::parse("", "pyimage.toml", &Overrides::default()).expect("defaults");
    let export = gatekeeper::export(&settings.policy, &Target::Environment("prod".into()), None)
        .expect("export");
    let yaml = export.to_yaml("pyimage.toml");
    let constraint: Value = yaml_serde::Deserializer::from_str(&yaml)
        .nth(1)
        .map(|document| serde::Deserialize::deserialize(document).expect("YAML"))
        .expect("a Constraint");
    let matched: BTreeSet<&str> = constraint["spec"]["match"]["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .flat_map(|group| group["kinds"].as_array().expect("kinds").iter())
        .filter_map(Value::as_str)
        .collect();
    let carried: BTreeSet<&str> = pod::POD_SPECS.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(matched, carried);
}
