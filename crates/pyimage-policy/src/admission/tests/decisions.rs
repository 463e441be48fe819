//! Images of every kind, deny and warnings, agreement with `check`, normalised names.

use serde_json::Value;

use super::*;

#[test]
fn every_pod_bearing_kind_yields_its_images_with_pointers() {
    let cases = [
        (
            "admission.rs.WEBHOOK_BODY.json",
            vec!["/spec/containers/0/image"],
        ),
        (
            "pod_creation_with_init_container.json",
            vec!["/spec/containers/0/image", "/spec/initContainers/0/image"],
        ),
        (
            "privileged_ephemeral_container.json",
            vec![
                "/spec/containers/0/image",
                "/spec/containers/1/image",
                "/spec/ephemeralContainers/0/image",
            ],
        ),
        (
            "deployment_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "statefulset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "daemonset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "replicaset_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "replicationcontroller_creation_signed.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "job_creation.json",
            vec!["/spec/template/spec/containers/0/image"],
        ),
        (
            "cronjob_creation.json",
            vec!["/spec/jobTemplate/spec/template/spec/containers/0/image"],
        ),
    ];
    for (name, expected) in cases {
        let value = request_value(name);
        let object = value["object"].clone();
        let request = request(value);
        let images = view_images(&request.kind.kind, request.object.as_ref().expect("object"));
        // The same images as over the parsed object.
        assert_eq!(images, object_images(&request.kind.kind, &object), "{name}");
        let pointers: Vec<&str> = images.iter().map(|i| i.pointer.as_str()).collect();
        // Order within the spec may put init containers after containers; compare as sets.
        let mut sorted = pointers.clone();
        sorted.sort_unstable();
        let mut wanted = expected.clone();
        wanted.sort_unstable();
        assert_eq!(sorted, wanted, "{name}");
        for image in &images {
            assert_eq!(
                object.pointer(&image.pointer).and_then(Value::as_str),
                Some(image.image.as_str())
            );
        }
    }
    // PodTemplate and image volumes (no payload carries them: built from the Pod capture).
    let object = request_value("admission.rs.WEBHOOK_BODY.json")["object"].clone();
    let spec = object.get("spec").cloned().expect("spec");
    let mut spec = spec;
    spec["volumes"] =
        serde_json::json!([{"name": "models", "image": {"reference": "python:3.12-slim"}}]);
    let template = serde_json::json!({"template": {"spec": spec}});
    let images = object_images("PodTemplate", &template);
    assert_eq!(images.len(), 2);
    assert_eq!(
        images[1].pointer,
        "/template/spec/volumes/0/image/reference"
    );
    assert_eq!(images[1].field, "template.spec.volumes[0].image.reference");
    assert_eq!(images[1].slot, ImageSlot::Volume);
    assert!(object_images("Service", &template).is_empty());
}

#[test]
fn deny_names_object_container_image_rule_and_fix() {
    let request = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python:3.9-slim",
        "prod-eu",
    );
    let judged = judge(&request, &policy(), &context());
    let response = validate_response(&request, &judged);
    assert!(!response.allowed);
    assert_eq!(response.uid, request.uid.as_str());
    let status = response.status.expect("status");
    assert_eq!(status.code, 403);
    let message = status.message;
    for part in [
        "Deployment prod-eu/",
        "container \"",
        "image python:3.9-slim",
        "PY004",
        "PY006",
        "Fix:",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert_eq!(
        judged[0].located(request.describe_object())[0].location,
        crate::check::Location::Field {
            object: request.describe_object().to_owned(),
            field: "spec.template.spec.containers[0].image".into()
        }
    );
    // A dev namespace: allowed, the floating tag only warned about — each warning within 120 characters.
    let dev = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python:3.13-slim",
        "team-a",
    );
    let response = validate_response(&dev, &judge(&dev, &policy(), &context()));
    assert!(
        response.allowed && response.status.is_none(),
        "{response:?}"
    );
    // An untagged image in dev: allowed, warned about (PY001) — each warning within 120 characters.
    let untagged = with_image(
        "deployment_creation_signed.json",
        "/spec/template/spec/containers/0/image",
        "python",
        "team-a-with-a-rather-long-namespace-name",
    );
    let response = validate_response(&untagged, &judge(&untagged, &policy(), &context()));
    assert!(response.allowed);
    assert!(!response.warnings.is_empty());
    assert!(
        response
            .warnings
            .iter()
            .all(|w| w.chars().count() <= MAX_WARNING)
    );
}

#[test]
fn the_webhook_decides_exactly_as_check_does() {
    let mut prod = policy();
    prod.environment_override = Some(("prod".into(), Origin::CommandLine("--env prod".into())));
    for image in [
        "python:3.9-slim",
        "python:3.12",
        "python",
        "docker.io/library/python-evil:3.12",
        "pythonista/app:1",
    ] {
        let request = with_image(
            "deployment_creation_signed.json",
            "/spec/template/spec/containers/0/image",
            image,
            "prod-eu",
        );
        let admitted: Vec<_> = judge(&request, &prod, &context())
            .into_iter()
            .flat_map(|j| j.findings.to_vec())
            .map(|f| (f.rule.id, f.severity, f.message))
            .collect();
        let manifest = format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: {image}\n"
        );
        let checked: Vec<_> = check_file(
            "k8s/app.yaml",
            &manifest,
            FileKind::Manifest(pyimage_locate::ManifestKind::Kubernetes),
            &prod,
            &context(),
        )
        .findings
        .into_iter()
        .map(|f| (f.rule.id, f.severity, f.message))
        .collect();
        assert_eq!(admitted, checked, "{image}");
    }
}

#[test]
fn references_are_normalised_before_any_decision() {
    let scope = namespace_scope("prod-eu");
    let decide = |text: &str| -> Vec<&'static str> {
        evaluate_reference(text, SiteKind::KUBERNETES, &scope, &policy(), &context())
            .reported()
            .map(|f| f.rule.id)
            .collect()
    };
    let official = decide("python:3.12-slim");
    for same in [
        "docker.io/python:3.12-slim",
        "index.docker.io/library/python:3.12-slim",
        "library/python:3.12-slim",
    ] {
        assert_eq!(decide(same), official, "{same}");
    }
    assert!(decide("docker.io/library/python-evil:3.12-slim").contains(&"PY005"));
    assert!(!decide("pythonista/app:3.12").contains(&"PY004"));
}

/// The walk over the view of an object the review parse keeps finds what the walk over the whole parsed value
/// finds, whatever the strings and spacing hold: escaped quotes and backslashes, brackets and braces inside
/// strings, escaped keys (`contai\u006eers` is `containers`), non-string images, lists that are not lists,
/// pretty-printed and compact text.
#[test]
fn the_view_reads_what_a_parse_reads() {
    let objects = [
        r#"{"metadata":{"name":"a\"}]{[","annotations":{"x":"\\\\\"","y":"}}}]]]"}},"spec":{"containers":[{"name":"c\\","image":"python:3.12"},{"image":"busy\"box","name":"q"}],"volumes":[{"name":"v","image":{"reference":"python:3.11"}},{"name":"w","secret":{"n":[1,2.5e3,-0,true,false,null,{"a":[]}]}}]}}"#,
        r#"{ "spec" : { "initContainers" : [ { "image" : "python:3.9" , "name" : "i" } ] , "containers" : [ ] } }"#,
        "{\n  \"spec\": {\n    \"contai\\u006eers\": [\n      {\"image\": \"pyth\\u006fn:3.12\", \"name\": \"\\u00e9\"}\n    ]\n  }\n}",
        r#"{"spec":{"containers":[{"image":7,"name":"n"},{"image":null},{"image":""},{"image":["python"]},{"image":"ok","name":{"x":1}}],"ephemeralContainers":[{"image":"é:ü"}]}}"#,
        r#"{"spec":{"containers":{"image":"python"},"volumes":[{"image":"python"},{"image":{"reference":2}}]}}"#,
        r#"{"spec":[]}"#,
        r#"[]"#,
        r#"{"spec":{"containers":[{"image":"a"}]},"spec2":{"containers":[{"image":"b"}]}}"#,
        r#"{"metadata":{"spec":{"containers":[{"image":"x"}]}},"spec":{"template":{"spec":{"containers":[{"image":"y"}]}},"containers":[{"image":{"reference":"z"}}],"volumes":[{"image":"w","name":"v"}]}}"#,
    ];
    for text in objects {
        let raw: Box<serde_json::value::RawValue> =
            serde_json::from_str(text).expect("well-formed test JSON");
        let value: Value = serde_json::from_str(text).expect("well-formed test JSON");
        for kind in ["Pod", "Deployment", "CronJob", "PodTemplate", "Service"] {
            assert_eq!(
                raw_object_images(kind, &raw),
                object_images(kind, &value),
                "{kind} {text}"
            );
        }
    }
}

/// The view keeps every key the Pod walk follows, whatever the kind, and the object's name.
#[test]
fn the_view_keeps_every_key_the_walk_reads() {
    use pyimage_locate::pod::{GUESSED_POD_SPECS, POD_SPECS};
    let paths = POD_SPECS
        .iter()
        .map(|(_, path)| *path)
        .chain(GUESSED_POD_SPECS.iter().copied());
    let slots = ImageSlot::ALL
        .iter()
        .flat_map(|slot| std::iter::once(slot.list()).chain(slot.field().iter().copied()));
    let named = ["metadata", "name", "generateName"];
    for key in paths.flatten().copied().chain(slots).chain(named) {
        assert!(crate::admission::images::is_read(key), "{key}");
    }
}

mod view_property {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::super::{object_images, raw_object_images};

    /// Any JSON value, with strings drawn from characters that JSON escapes or that the text walk looks for.
    fn any_value() -> impl Strategy<Value = Value> {
        let text = "[a-z\"\\\\{}\\[\\],: \n\u{1}é😀]{0,8}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(text, inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// A Pod whose containers (some with an image, some not) sit among any other values.
    /// A container, with an image or without, among other members.
    fn any_container() -> impl Strategy<Value = Value> {
        (
            any_value(),
            prop::option::of("[a-z:.\"\\\\]{0,6}"),
            any_value(),
        )
            .prop_map(|(name, image, other)| {
                let mut item = Map::new();
                item.insert("other".into(), other);
                item.insert("name".into(), name);
                if let Some(image) = image {
                    item.insert("image".into(), Value::String(image));
                }
                Value::Object(item)
            })
    }

    fn any_pod() -> impl Strategy<Value = Value> {
        (
            prop::collection::vec(any_container(), 0..4),
            prop::collection::vec(any_container(), 0..3),
            any_value(),
            any_value(),
        )
            .prop_map(|(containers, templated, metadata, extra)| {
                serde_json::json!({
                    "metadata": metadata,
                    "spec": {
                        "extra": extra,
                        "containers": containers,
                        "volumes": [{"image": {"reference": "python:3.12"}}],
                        "template": {"spec": {"initContainers": templated}},
                    },
                })
            })
    }

    proptest! {
        #[test]
        fn the_view_walk_agrees_with_the_parsed_walk(pod in any_pod(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&pod)
            } else {
                serde_json::to_string(&pod)
            }.expect("serializable");
            let raw: Box<serde_json::value::RawValue> = serde_json::from_str(&text).expect("well-formed");
            for kind in ["Pod", "Deployment"] {
                prop_assert_eq!(raw_object_images(kind, &raw), object_images(kind, &pod));
            }
        }
    }
}

/// Remembered decisions are the decisions: for each (namespace, image), the first answer and the remembered one
/// are what deciding anew gives; another day decides anew (end-of-life dates move); the number kept is bounded.
#[test]
fn remembered_decisions_are_the_decisions() {
    let decisions = Decisions::default();
    let policy = policy();
    let pointer = "/spec/containers/0/image";
    let cases = [
        ("prod-eu", "python:3.9-slim"),
        ("dev", "python:3.9-slim"),
        ("prod-eu", "python:3.12-slim"),
        ("prod-eu", "docker.io/library/python-evil:3.12"),
        ("prod-eu", "Python:3.12"),
        ("prod-eu", "nginx:1.27"),
    ];
    let later = CheckContext {
        today: Date::ymd(2031, 1, 1),
        ..context()
    };
    for context in [context(), later] {
        for (namespace, image) in cases {
            let request = with_image("admission.rs.WEBHOOK_BODY.json", pointer, image, namespace);
            for _ in 0..2 {
                let remembered = judge_remembered(&request, &policy, &context, &decisions);
                let decided = judge(&request, &policy, &context);
                assert_eq!(
                    format!("{remembered:?}"),
                    format!("{decided:?}"),
                    "{namespace} {image}"
                );
            }
        }
        assert_eq!(decisions.len(), cases.len());
    }
    for minor in 0..Decisions::KEPT + 10 {
        let image = format!("python:3.{minor}");
        let request = with_image("admission.rs.WEBHOOK_BODY.json", pointer, &image, "dev");
        judge_remembered(&request, &policy, &context(), &decisions);
        assert!(decisions.len() <= Decisions::KEPT);
    }
    // An image longer than any reference is decided, not remembered.
    let decisions = Decisions::default();
    let long = format!("python:3.12-{}", "x".repeat(Decisions::LONGEST));
    let request = with_image("admission.rs.WEBHOOK_BODY.json", pointer, &long, "dev");
    let remembered = judge_remembered(&request, &policy, &context(), &decisions);
    assert_eq!(
        format!("{remembered:?}"),
        format!("{:?}", judge(&request, &policy, &context()))
    );
    assert!(decisions.is_empty());
}
