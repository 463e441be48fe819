//! Differential test of `pyimage export gatekeeper`: the exported Rego, run by regorus with Gatekeeper's input
//! (`input.review` = the AdmissionRequest, `input.parameters` = a Constraint's parameters, `data.inventory` = synced
//! Namespaces), must deny exactly the (rule, image) pairs that `evaluate_reference` denies in the same scope — for
//! real admission payloads and for generated objects of every Pod-bearing kind, every image field, many references,
//! several configurations, every environment and namespace mapping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod generate;
mod harness;

use std::collections::{BTreeMap, BTreeSet};

use pyimage_policy::check::{Policy, Scope};
use pyimage_policy::export::gatekeeper::{self, Target};
use serde_json::Value;

use generate::{KINDS, Rng, images_of, object, references};
use harness::*;

const MAPPED: &str = r#"
[policy]
mirrors = ["registry.example.com/dockerhub/library/python", "mirror.example.com/*"]
allowed-sources = ["ghcr.io/acme/*", "docker.io/library/debian", "tiangolo/*", "localhost:5000/?ython"]
vendor-images = ["ghcr.io/vendor/python", "cimg/*"]

[environments.prod]
digest = true

[environments.staging]
float = "minor"
digest = false
prerelease = false

[[namespaces]]
match = "prod-*"
environment = "prod"

[[namespaces]]
match = "prod-eu?"
environment = "staging"

[[namespaces]]
labels = { tier = "staging" }
environment = "staging"

[[namespaces]]
match = "ci-*-test"
labels = { team = "a" }
environment = "test"

[policy.eol]
"3.12" = "2026-01-01"
"3.10" = "2030-01"

[rules]
untagged = "deny"
unknown-tag-parts = "deny"
PY015 = "deny"
PY002 = "deny"
PY007 = "warn"

[[ignore]]
rules = ["PY005"]
images = ["bitnami/python"]
reason = "vetted"

[[ignore]]
rules = ["PY004"]
paths = ["legacy/**"]
reason = "path ignores never cover namespaces"
"#;

const STRICT: &str = r#"
[policy]
default-environment = "prod"
allowed-sources = ["*"]

[environments.prod]
float = "patch"
digest = true

[[namespaces]]
match = "sandbox"
environment = "dev"

[rules]
PY006 = "warn"
PY011 = "deny"
"#;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn namespaces() -> Vec<(&'static str, BTreeMap<String, String>)> {
    vec![
        ("prod-eu", labels(&[])),
        ("prod-eu1", labels(&[("tier", "staging")])),
        ("preprod-eu", labels(&[])),
        ("default", labels(&[("tier", "staging")])),
        ("ci-x-test", labels(&[("team", "a")])),
        ("ci-x-test", labels(&[("team", "b")])),
        ("sandbox", labels(&[])),
        ("", labels(&[])),
    ]
}

/// Compares the two deciders on `objects` for `policy`, every environment (`--env`) and the namespace mapping.
fn compare(policy: &Policy, objects: &[Value], rules_seen: &mut BTreeSet<String>) -> usize {
    let all_namespaces = namespaces();
    let mut compared = 0;
    let mut targets: Vec<Target> = policy
        .environments
        .keys()
        .cloned()
        .map(Target::Environment)
        .collect();
    targets.push(Target::Namespaces);
    for target in &targets {
        let (_, parsed) = export_parsed(policy, target);
        let mut engine = engine(&parsed.rego, false);
        // `--env` ignores the namespace; the mapping is compared in every namespace.
        let namespaces = match target {
            Target::Environment(_) => &all_namespaces[..1],
            Target::Namespaces => &all_namespaces[..],
        };
        for (namespace, namespace_labels) in namespaces {
            let data = inventory(&[(namespace, namespace_labels.clone())]);
            let scope = Scope::Namespace {
                name: (*namespace).to_owned(),
                labels: namespace_labels.clone(),
            };
            let oracle_policy = match target {
                Target::Environment(environment) => forced(policy, environment),
                Target::Namespaces => policy.clone(),
            };
            for object in objects {
                let review = review(object, namespace);
                let rego = rego_denials(&mut engine, &review, &parsed.parameters, &data);
                let core = core_denials(&images_of(object), &scope, &oracle_policy);
                assert_eq!(
                    rego,
                    core,
                    "\ntarget {target:?}, namespace {namespace:?} {namespace_labels:?}\nobject {object}\n\
                     only Rego: {:?}\nonly core: {:?}",
                    rego.difference(&core).collect::<Vec<_>>(),
                    core.difference(&rego).collect::<Vec<_>>()
                );
                rules_seen.extend(rego.into_iter().map(|(rule, _)| rule));
                compared += 1;
            }
        }
    }
    compared
}

fn generated_objects(seed: u64, references_count: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    let references = references(&mut rng, references_count);
    references
        .chunks(5)
        .enumerate()
        .map(|(index, chunk)| object(index, chunk))
        .collect()
}

#[test]
fn generated_objects_decide_like_the_core() {
    let objects = generated_objects(0x5eed, 400);
    let mut rules_seen = BTreeSet::new();
    for text in ["", MAPPED, STRICT] {
        let settings = settings(text);
        let compared = compare(&settings.policy, &objects, &mut rules_seen);
        assert!(compared > 100, "{compared}");
    }
    // Every rule the export enforces was exercised, denying something somewhere.
    let expected = [
        "PY001", "PY002", "PY003", "PY004", "PY005", "PY006", "PY007", "PY010", "PY011", "PY012",
        "PY015",
    ];
    assert_eq!(
        rules_seen,
        expected
            .map(str::to_owned)
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn every_name_and_tag_decides_like_the_core() {
    // Exhaustive over the generator's names × tags (one object per name), in the mapped configuration.
    let settings = settings(MAPPED);
    let mut rng = Rng::new(7);
    let all = references(&mut rng, 3000);
    let distinct: BTreeSet<String> = all.into_iter().collect();
    let distinct: Vec<String> = distinct.into_iter().collect();
    let objects: Vec<Value> = distinct
        .chunks(8)
        .enumerate()
        .map(|(i, c)| object(i, c))
        .collect();
    let (_, parsed) = export_parsed(&settings.policy, &Target::Environment("prod".into()));
    let mut engine = engine(&parsed.rego, false);
    let policy = forced(&settings.policy, "prod");
    let scope = Scope::Namespace {
        name: "x".into(),
        labels: BTreeMap::new(),
    };
    let data = inventory(&[]);
    for object in &objects {
        let rego = rego_denials(&mut engine, &review(object, "x"), &parsed.parameters, &data);
        assert_eq!(
            rego,
            core_denials(&images_of(object), &scope, &policy),
            "{object}"
        );
    }
}

#[test]
fn real_admission_payloads_decide_like_the_core() {
    let settings = settings(MAPPED);
    // Copied from /work/shared/data/admission (testdata/SOURCES.md names their upstream).
    for (file, text) in [
        (
            "kube-rs-webhook-body.json",
            include_str!("testdata/kube-rs-webhook-body.json"),
        ),
        (
            "kubewarden-unprivileged-pod.json",
            include_str!("testdata/kubewarden-unprivileged-pod.json"),
        ),
        (
            "kubernetes-api-admissionreview.json",
            include_str!("testdata/kubernetes-api-admissionreview.json"),
        ),
    ] {
        let payload: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let review = payload.get("request").cloned().unwrap_or(payload);
        let namespace = review["namespace"].as_str().unwrap_or_default().to_owned();
        let scope = Scope::Namespace {
            name: namespace.clone(),
            labels: BTreeMap::new(),
        };
        for target in [Target::Environment("prod".into()), Target::Namespaces] {
            let (_, parsed) = export_parsed(&settings.policy, &target);
            let mut engine = engine(&parsed.rego, false);
            let policy = match &target {
                Target::Environment(environment) => forced(&settings.policy, environment),
                Target::Namespaces => settings.policy.clone(),
            };
            let rego = rego_denials(&mut engine, &review, &parsed.parameters, &inventory(&[]));
            let core = core_denials(&images_of(&review["object"]), &scope, &policy);
            assert_eq!(rego, core, "{file} {target:?}");
            if file != "kubernetes-api-admissionreview.json"
                && matches!(target, Target::Environment(_))
            {
                assert!(
                    !rego.is_empty(),
                    "{file}: prod denies {:?}",
                    images_of(&review["object"])
                );
            }
        }
    }
}

#[test]
fn the_prefix_pitfall_does_not_exist() {
    // gatekeeper-library's k8sallowedrepos matches by prefix: `python` admits `python-evil`, `myregistry.io` admits
    // `myregistry.io.malicious.com`. Here sources are whole names.
    let settings = settings(
        "[policy]\nallowed-sources = [\"myregistry.io/*\"]\nmirrors = [\"myregistry.io/python\"]\n",
    );
    let (_, parsed) = export_parsed(&settings.policy, &Target::Environment("dev".into()));
    let mut engine = engine(&parsed.rego, false);
    let images: Vec<String> = [
        "python-evil:3.12",
        "myregistry.io.malicious.com/python:3.12",
        "myregistry.io.malicious.com/tool:1",
        "myregistry.io/python:3.12",
        "myregistry.io/tool:1",
    ]
    .map(str::to_owned)
    .to_vec();
    let object = object(0, &images);
    let denied = rego_denials(
        &mut engine,
        &review(&object, "x"),
        &parsed.parameters,
        &inventory(&[]),
    );
    let denied_images: BTreeSet<&str> = denied.iter().map(|(_, image)| image.as_str()).collect();
    assert_eq!(
        denied_images,
        BTreeSet::from([
            "python-evil:3.12",
            "myregistry.io.malicious.com/python:3.12",
            "myregistry.io.malicious.com/tool:1"
        ])
    );
}

#[test]
fn the_module_compiles_as_gatekeeper_templates_default_rego_and_uses_the_clock_without_today() {
    let settings = settings("");
    let export = gatekeeper::export(&settings.policy, &Target::Environment("dev".into()), None)
        .expect("export");
    // Gatekeeper evaluates template Rego as v0 unless told otherwise; `import rego.v1` makes the module both.
    engine(&export.rego, true);
    let mut engine = engine(&export.rego, false);
    let object = object(0, &["python:3.8".to_owned(), "python:3.14".to_owned()]);
    let denied = rego_denials(
        &mut engine,
        &review(&object, "x"),
        &[export.constraints[0].parameters.clone()],
        &inventory(&[]),
    );
    // 3.8 ended in 2024, 3.14 ends in 2030-10: true on any clock this test will run on.
    assert_eq!(
        denied,
        BTreeSet::from([("PY006".to_owned(), "python:3.8".to_owned())])
    );
}

#[test]
fn exports_that_cannot_be_exact_are_refused() {
    let error = gatekeeper::export(
        &settings("[policy]\nmirrors = [\"ghcr.io/{a,b}/python\"]\n").policy,
        &Target::Namespaces,
        None,
    )
    .expect_err("alternations are refused");
    assert!(
        error.contains("mirrors") && error.contains("{a,b}"),
        "{error}"
    );
    let error = gatekeeper::export(
        &settings("[[namespaces]]\nmatch = \"team-[ab]\"\nenvironment = \"prod\"\n").policy,
        &Target::Namespaces,
        None,
    )
    .expect_err("classes are refused");
    assert!(error.contains("team-[ab]"), "{error}");
    let error = gatekeeper::export(
        &settings("").policy,
        &Target::Environment("qa".into()),
        None,
    )
    .expect_err("unknown env");
    assert!(error.contains("qa") && error.contains("prod"), "{error}");
    // Signature rules need registry answers Rego does not have: refused, not exported without them.
    let error = gatekeeper::export(
        &settings("[[trust.signatures]]\nimages = [\"dhi.io/python\"]\nkeys = [\"dhi\"]\n").policy,
        &Target::Namespaces,
        None,
    )
    .expect_err("signature rules are refused");
    assert!(
        error.contains("pyimage.toml:1") && error.contains("pyimage serve"),
        "{error}"
    );
    let _ = KINDS;
}
