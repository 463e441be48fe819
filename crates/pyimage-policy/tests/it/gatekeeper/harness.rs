//! The two deciders side by side: the exported Rego in regorus, with Gatekeeper's input shape, and
//! `pyimage_policy::check::evaluate_reference` in the namespace's scope.

use std::collections::{BTreeMap, BTreeSet};

use pyimage_locate::dockerfile::ScanOptions;
use pyimage_policy::check::{CheckContext, Date, Origin, Policy, Scope, Severity, SiteKind};
use pyimage_policy::config::{Overrides, Settings};
use pyimage_policy::export::gatekeeper::{self, Export, Target};
use serde_json::{Value, json};

/// The date every comparison runs on (passed to the Rego as the `today` parameter).
pub const TODAY: Date = Date::ymd(2026, 11, 30);

/// A deny-level finding: (rule ID, image as written).
pub type Denial = (String, String);

pub fn settings(text: &str) -> Settings {
    Settings::parse(text, "pyimage.toml", &Overrides::default())
        .unwrap_or_else(|error| panic!("test configuration: {error}\n{text}"))
}

/// A regorus engine holding the exported module, in Rego v1 mode or v0 (Gatekeeper's default for templates).
pub fn engine(rego: &str, v0: bool) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(v0);
    engine
        .add_policy("pyimagepolicy.rego".into(), rego.into())
        .unwrap_or_else(|error| panic!("the exported Rego does not compile: {error}"));
    engine
}

/// The YAML export parsed back: the template's Rego and each Constraint's parameters, as Gatekeeper reads them.
pub struct Parsed {
    pub rego: String,
    pub parameters: Vec<Value>,
}

pub fn export_parsed(policy: &Policy, target: &Target) -> (Export, Parsed) {
    let export = gatekeeper::export(policy, target, Some(TODAY))
        .unwrap_or_else(|error| panic!("export: {error}"));
    let yaml = export.to_yaml("pyimage.toml");
    let documents: Vec<Value> = yaml_serde::Deserializer::from_str(&yaml)
        .map(|document| {
            serde::Deserialize::deserialize(document)
                .unwrap_or_else(|e| panic!("YAML: {e}\n{yaml}"))
        })
        .collect();
    let template = &documents[0];
    assert_eq!(template["apiVersion"], "templates.gatekeeper.sh/v1");
    assert_eq!(template["kind"], "ConstraintTemplate");
    let kind = template["spec"]["crd"]["spec"]["names"]["kind"]
        .as_str()
        .expect("crd kind");
    assert_eq!(template["metadata"]["name"], kind.to_ascii_lowercase());
    let target_spec = &template["spec"]["targets"][0];
    assert_eq!(target_spec["target"], "admission.k8s.gatekeeper.sh");
    let rego = target_spec["rego"].as_str().expect("rego").to_owned();
    assert_eq!(
        rego, export.rego,
        "the block scalar holds the module unchanged"
    );
    let mut parameters = Vec::new();
    let mut names = BTreeSet::new();
    for constraint in &documents[1..] {
        assert_eq!(
            constraint["apiVersion"],
            "constraints.gatekeeper.sh/v1beta1"
        );
        assert_eq!(constraint["kind"], kind);
        let name = constraint["metadata"]["name"].as_str().expect("name");
        assert!(
            name.len() <= 63
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name} is not a DNS-1123 label"
        );
        assert!(names.insert(name.to_owned()), "duplicate constraint {name}");
        assert_eq!(constraint["spec"]["enforcementAction"], "deny");
        let kinds: BTreeSet<&str> = constraint["spec"]["match"]["kinds"]
            .as_array()
            .expect("kinds")
            .iter()
            .flat_map(|group| group["kinds"].as_array().expect("kinds").iter())
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(kinds.len(), 9, "{kinds:?}");
        parameters.push(constraint["spec"]["parameters"].clone());
    }
    assert_eq!(documents.len(), export.constraints.len() + 1);
    (export, Parsed { rego, parameters })
}

/// Gatekeeper's data for namespace labels (`data.inventory`, with Namespaces synced).
pub fn inventory(namespaces: &[(&str, BTreeMap<String, String>)]) -> Value {
    let mut synced = serde_json::Map::new();
    for (name, labels) in namespaces {
        synced.insert(
            (*name).to_owned(),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}),
        );
    }
    json!({"inventory": {"cluster": {"v1": {"Namespace": synced}}}})
}

/// What the Rego denies: `violation` of every Constraint, as (rule, image) pairs.
pub fn rego_denials(
    engine: &mut regorus::Engine,
    review: &Value,
    constraints: &[Value],
    data: &Value,
) -> BTreeSet<Denial> {
    engine.clear_data();
    engine
        .add_data_json(&data.to_string())
        .expect("inventory data");
    let mut out = BTreeSet::new();
    for parameters in constraints {
        let input = json!({"review": review, "parameters": parameters});
        engine.set_input_json(&input.to_string()).expect("input");
        let value = engine
            .eval_rule("data.pyimagepolicy.violation".into())
            .unwrap_or_else(|error| panic!("evaluation failed: {error}\ninput: {input}"));
        let json: Value = serde_json::from_str(&value.to_json_str().expect("json")).expect("json");
        for violation in json.as_array().cloned().unwrap_or_default() {
            let msg = violation["msg"].as_str().unwrap_or_default();
            let details = &violation["details"];
            let rule = details["rule"].as_str().expect("rule").to_owned();
            let image = details["image"].as_str().expect("image").to_owned();
            assert!(
                msg.contains(&rule)
                    && msg.contains("fix: ")
                    && msg.contains(details["where"].as_str().unwrap_or("?")),
                "message names the container, rule and fix: {msg}"
            );
            out.insert((rule, image));
        }
    }
    out
}

/// What pyimage's core denies for these images in this scope.
pub fn core_denials(images: &[String], scope: &Scope, policy: &Policy) -> BTreeSet<Denial> {
    let build = ScanOptions::default();
    let context = CheckContext {
        today: TODAY,
        lock: None,
        build: &build,
        signatures: None,
    };
    let mut out = BTreeSet::new();
    for image in images {
        let decision = pyimage_policy::check::evaluate_reference(
            image,
            SiteKind::KUBERNETES,
            scope,
            policy,
            &context,
        );
        for finding in decision.reported() {
            if finding.severity == Severity::Deny {
                out.insert((finding.rule.id.to_owned(), image.clone()));
            }
        }
    }
    out
}

/// The policy with every scope forced into `environment` (what `--env` means).
pub fn forced(policy: &Policy, environment: &str) -> Policy {
    let mut policy = policy.clone();
    policy.environment_override = Some((
        environment.to_owned(),
        Origin::CommandLine(format!("--env {environment}")),
    ));
    policy
}

/// Wraps an object into the AdmissionRequest Gatekeeper passes as `input.review`.
pub fn review(object: &Value, namespace: &str) -> Value {
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = match object["apiVersion"]
        .as_str()
        .unwrap_or("v1")
        .split_once('/')
    {
        Some((group, version)) => (group.to_owned(), version.to_owned()),
        None => (
            String::new(),
            object["apiVersion"].as_str().unwrap_or("v1").to_owned(),
        ),
    };
    json!({
        "uid": "00000000-0000-0000-0000-000000000000",
        "kind": {"group": group, "version": version, "kind": kind},
        "namespace": namespace,
        "operation": "CREATE",
        "object": object,
    })
}
