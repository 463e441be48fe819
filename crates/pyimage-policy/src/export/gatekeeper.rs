//! `pyimage export gatekeeper`: the policy of `pyimage.toml` as an OPA Gatekeeper ConstraintTemplate and
//! Constraints, for clusters that already run Gatekeeper instead of pyimage's admission webhook.
//!
//! The template's Rego (`policy.rego` and `model.rego` beside this file, one module) decides every image of a Pod-bearing object (Pod,
//! PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob; containers,
//! init containers, ephemeral containers and image volumes) the way [`crate::check::evaluate_reference`] does in a
//! namespace: Docker's reference grammar and normalisation, exact-name source matching (no prefix bypass), the
//! look-alike and typosquat rules, the tag model, end of life. Everything that varies with the configuration is a
//! Constraint parameter: the environment's float level, digest and pre-release settings, mirrors and allowed
//! sources (as anchored regexes), rule severities, `[[ignore]]` entries that apply to namespaces, the end-of-life
//! table, and an optional fixed `today`.
//!
//! Each Constraint enforces the rules whose configured severity is `deny` (`enforcementAction: deny`); warn-level
//! rules are left out. Every image rule that can fire in admission is implemented; PY008 (lock) and PY009 (ARGs)
//! never apply to admission. PY018 (signatures) needs the image's signatures from its registry, which Rego in
//! Gatekeeper does not have: a configuration with `[[trust.signatures]]` is refused rather than exported without it.
//!
//! With [`Target::Namespaces`] there is one Constraint per `[[namespaces]]` entry plus one for the default
//! environment; each carries the whole ordered list of entries and its own index, and the Rego applies it only when
//! its entry is the *first* that matches the namespace (name glob as a regex over `input.review.namespace`, labels
//! from Gatekeeper's synced inventory `data.inventory.cluster.v1.Namespace`), so first-match-wins holds exactly.
//! Namespace labels need Namespaces in Gatekeeper's sync configuration; the output says so when a rule uses them.

use serde_json::{Map, Value, json};

use crate::check::eol::EOL_TABLE;
use crate::check::policy::{EnvSettings, Policy};
use crate::check::{Date, RULES};

use pyimage_locate::pod;

use super::patterns::{glob_regex, typosquat_alternatives};
use super::yaml::write_mapping;

/// The ConstraintTemplate's name (the lower-cased Constraint kind, as Gatekeeper requires).
pub const TEMPLATE_NAME: &str = "pyimagepolicy";
/// The Constraint kind the template defines.
pub const CONSTRAINT_KIND: &str = "PyimagePolicy";
/// Gatekeeper's admission target.
pub const TARGET: &str = "admission.k8s.gatekeeper.sh";

/// Which Constraints to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One Constraint: every namespace in this environment (`--env ENV`).
    Environment(String),
    /// One Constraint per `[[namespaces]]` entry plus one for the default environment (`--namespaces`).
    Namespaces,
}

/// One Constraint: its name and parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// `metadata.name` (DNS-1123).
    pub name: String,
    /// `spec.parameters`, what the Rego sees as `input.parameters`.
    pub parameters: Value,
}

/// What the export produces: the Rego of the template and the Constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// The template's Rego module.
    pub rego: String,
    /// The Constraints, in configuration order (the default environment last).
    pub constraints: Vec<Constraint>,
    /// Whether some `[[namespaces]]` entry selects by labels (Namespaces must then be synced into Gatekeeper).
    pub uses_namespace_labels: bool,
}

/// The template's Rego module, with the typosquat regex in place.
pub fn rego() -> String {
    let alternatives = typosquat_alternatives();
    let lines: Vec<String> = alternatives
        .chunks(8)
        .map(|chunk| {
            let quoted: Vec<String> = chunk.iter().map(|a| format!("{a:?}")).collect();
            format!("\t{},", quoted.join(", "))
        })
        .collect();
    let module = format!(
        "{}\n{}",
        include_str!("policy.rego"),
        include_str!("model.rego")
    );
    module
        .replace("@TYPOSQUAT@", &lines.join("\n"))
        .replace("@POD_IMAGES@", &pod_images_rego())
}

/// The Rego rules that find the images of an object, written from [`pyimage_locate::pod`] (the description `check`
/// and admission read Pods with): `pod_spec(obj)` per kind of [`pod::POD_SPECS`], then one `image_uses` rule per
/// field shape of [`pod::ImageSlot::ALL`] (the container lists share one).
fn pod_images_rego() -> String {
    let path = |keys: &[&str]| format!("obj.{}", keys.join("."));
    let mut out = String::new();
    // Kinds that share a path share one rule (`kind in {…}`), in the order first written.
    let mut paths: Vec<(&[&str], Vec<&str>)> = Vec::new();
    for &(kind, keys) in pod::POD_SPECS {
        match paths.iter_mut().find(|(known, _)| *known == keys) {
            Some((_, kinds)) => kinds.push(kind),
            None => paths.push((keys, vec![kind])),
        }
    }
    for (keys, kinds) in &paths {
        let condition = match kinds.as_slice() {
            [kind] => format!("obj.kind == {kind:?}"),
            kinds => {
                let quoted: Vec<String> = kinds.iter().map(|kind| format!("{kind:?}")).collect();
                format!("obj.kind in {{{}}}", quoted.join(", "))
            }
        };
        out.push_str(&format!(
            "pod_spec(obj) := {} if {condition}\n\n",
            path(keys)
        ));
    }
    // Slots whose items keep the image at the same field share one rule over their lists.
    let mut shapes: Vec<(&[&str], Vec<pod::ImageSlot>)> = Vec::new();
    for slot in pod::ImageSlot::ALL {
        match shapes.iter_mut().find(|(field, _)| *field == slot.field()) {
            Some((_, slots)) => slots.push(slot),
            None => shapes.push((slot.field(), vec![slot])),
        }
    }
    let mut labels = Vec::new();
    for (field, slots) in &shapes {
        let image = format!("item.{}", field.join("."));
        let lists: Vec<String> = slots
            .iter()
            .map(|slot| format!("{:?}", slot.list()))
            .collect();
        out.push_str(&format!(
            "image_uses contains use if {{\n\tspec := pod_spec(input.review.object)\n\tsome list in [{}]\n\tsome item in spec[list]\n\tis_string({image})\n\tuse := {{\"where\": sprintf(\"%s \\\"%s\\\"\", [slot_label[list], object.get(item, \"name\", \"\")]), \"image\": {image}}}\n}}\n\n",
            lists.join(", ")
        ));
        labels.extend(
            slots
                .iter()
                .map(|slot| format!("{:?}: {:?}", slot.list(), slot.noun())),
        );
    }
    out.push_str(&format!("slot_label := {{{}}}", labels.join(", ")));
    out
}

/// Builds the export of `policy` for `target`; `today` fixes the end-of-life date (otherwise the Rego uses the
/// clock). Errors say what in the configuration cannot be exported exactly, and what to change.
pub fn export(policy: &Policy, target: &Target, today: Option<Date>) -> Result<Export, String> {
    if let Some(rule) = policy.signatures.first() {
        return Err(format!(
            "[[trust.signatures]] ({}) cannot be enforced by Gatekeeper: checking a cosign signature needs the \
             image's signatures from its registry, which a Rego policy does not have. Enforce it with `pyimage serve` \
             (or Sigstore's policy-controller, or Kyverno's verifyImages), and export a configuration without \
             [[trust.signatures]] for Gatekeeper",
            rule.at
        ));
    }
    let shared = shared_parameters(policy, today)?;
    let mut constraints = Vec::new();
    let mut uses_namespace_labels = false;
    match target {
        Target::Environment(environment) => {
            let settings = settings_of(policy, environment)?;
            let mut parameters = shared.clone();
            environment_parameters(&mut parameters, environment, settings);
            constraints.push(Constraint {
                name: format!("pyimage-{}", dns_label(environment)),
                parameters: Value::Object(parameters),
            });
        }
        Target::Namespaces => {
            let mut rules = Vec::new();
            for rule in &policy.namespaces {
                uses_namespace_labels |= !rule.labels.is_empty();
                let regex = glob_regex(&rule.pattern)
                    .map_err(|error| format!("[[namespaces]] name {:?}: {error}", rule.pattern))?;
                rules.push(json!({"pattern": rule.pattern, "regex": regex, "labels": rule.labels}));
            }
            let entries = policy
                .namespaces
                .iter()
                .enumerate()
                .map(|(index, rule)| (index as i64, rule.environment.as_str()))
                .chain([(-1, policy.default_environment.0.as_str())]);
            for (entry, environment) in entries {
                let settings = settings_of(policy, environment)?;
                let mut parameters = shared.clone();
                environment_parameters(&mut parameters, environment, settings);
                parameters.insert(
                    "namespaces".into(),
                    json!({"entry": entry, "rules": rules.clone()}),
                );
                let which = if entry < 0 {
                    "default".to_owned()
                } else {
                    (entry + 1).to_string()
                };
                constraints.push(Constraint {
                    name: format!("pyimage-ns-{which}-{}", dns_label(environment)),
                    parameters: Value::Object(parameters),
                });
            }
        }
    }
    Ok(Export {
        rego: rego(),
        constraints,
        uses_namespace_labels,
    })
}

fn settings_of<'a>(policy: &'a Policy, environment: &str) -> Result<&'a EnvSettings, String> {
    policy.environments.get(environment).ok_or_else(|| {
        format!(
            "unknown environment {environment:?}; pyimage.toml defines {}",
            policy
                .environments
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn environment_parameters(parameters: &mut Map<String, Value>, name: &str, settings: &EnvSettings) {
    parameters.insert("environment".into(), json!(name));
    parameters.insert("float".into(), json!(settings.float.as_str()));
    parameters.insert("digest".into(), json!(settings.digest));
    parameters.insert("prerelease".into(), json!(settings.prerelease));
}

fn shared_parameters(policy: &Policy, today: Option<Date>) -> Result<Map<String, Value>, String> {
    let mut severities = Map::new();
    for rule in RULES.iter().filter(|rule| rule.check.is_some()) {
        let (severity, _) = policy.severity(rule);
        severities.insert(rule.id.into(), json!(severity.as_str()));
    }
    let sources = |patterns: &[crate::check::SourcePattern], what: &str| {
        patterns
            .iter()
            .map(|pattern| {
                let regex = glob_regex(&pattern.normalized())
                    .map_err(|error| format!("[policy] {what} {:?}: {error}", pattern.written))?;
                Ok(json!({"pattern": pattern.written, "regex": regex}))
            })
            .collect::<Result<Vec<_>, String>>()
    };
    let mut ignores = Vec::new();
    for ignore in policy
        .ignores
        .iter()
        .filter(|ignore| ignore.paths.is_empty())
    {
        let images = ignore
            .images
            .iter()
            .map(|pattern| {
                glob_regex(&pattern.normalized())
                    .map_err(|error| format!("[[ignore]] image {:?}: {error}", pattern.written))
            })
            .collect::<Result<Vec<_>, String>>()?;
        ignores.push(json!({"rules": ignore.rules, "images": images}));
    }
    let mut eol: Vec<((u32, u32), Date, &str)> = EOL_TABLE
        .iter()
        .filter(|entry| !policy.eol.contains_key(&(entry.major, entry.minor)))
        .map(|entry| ((entry.major, entry.minor), entry.date, entry.source))
        .collect();
    eol.extend(
        policy
            .eol
            .iter()
            .map(|(line, (date, _))| (*line, *date, "configuration")),
    );
    eol.sort_by_key(|(line, _, _)| *line);
    let eol: Vec<Value> = eol
        .into_iter()
        .map(|((major, minor), date, source)| {
            json!({"major": major, "minor": minor, "year": date.year, "month": date.month,
                   "day": date.day, "date": date.to_string(), "source": source})
        })
        .collect();
    let mut parameters = Map::new();
    parameters.insert("level".into(), json!("deny"));
    parameters.insert("severities".into(), Value::Object(severities));
    // The configured mirrors, then the known public copies of the official image (the order classify() asks them).
    let (public_copies, known_vendors) = crate::check::vendors::builtin_patterns();
    let mut mirrors = sources(&policy.mirrors, "mirrors")?;
    let copies: Vec<_> = public_copies
        .iter()
        .map(|(pattern, _)| pattern.clone())
        .collect();
    mirrors.extend(sources(&copies, "built-in public copies")?);
    parameters.insert("mirrors".into(), json!(mirrors));
    parameters.insert(
        "vendorImages".into(),
        json!(sources(&policy.vendor_images, "vendor-images")?),
    );
    let vendors: Vec<_> = known_vendors
        .iter()
        .map(|(pattern, _)| pattern.clone())
        .collect();
    parameters.insert(
        "knownVendors".into(),
        json!(sources(&vendors, "built-in vendor images")?),
    );
    parameters.insert(
        "allowedSources".into(),
        json!(sources(&policy.allowed_sources, "allowed-sources")?),
    );
    parameters.insert("ignores".into(), json!(ignores));
    parameters.insert("eol".into(), json!(eol));
    if let Some(today) = today {
        parameters.insert("today".into(), json!(today.last_day().to_string()));
    }
    Ok(parameters)
}

/// A DNS-1123 label from an environment name (`Prod_EU` → `prod-eu`).
fn dns_label(name: &str) -> String {
    let label: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        "env".to_owned()
    } else {
        label.chars().take(40).collect()
    }
}

impl Export {
    /// The whole export as a multi-document YAML stream: the ConstraintTemplate, then each Constraint.
    pub fn to_yaml(&self, source: &str) -> String {
        let mut out = format!(
            "# Generated by `pyimage export gatekeeper` from {source}; regenerate instead of editing.\n\
             # Enforces the deny-level rules of `pyimage check` on every image of Pod-bearing objects.\n"
        );
        if self.uses_namespace_labels {
            out.push_str(
                "# [[namespaces]] entries select by labels: sync Namespaces into Gatekeeper (Config \
                 spec.sync.syncOnly: v1 Namespace), or those entries never match.\n",
            );
        }
        let mut rego = String::new();
        for line in self.rego.lines() {
            if !line.is_empty() {
                rego.push_str("        ");
                rego.push_str(line);
            }
            rego.push('\n');
        }
        out.push_str(&format!(
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {TEMPLATE_NAME}\n\
             spec:\n  crd:\n    spec:\n      names:\n        kind: {CONSTRAINT_KIND}\n      validation:\n\
             \x20       openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n\
             \x20 targets:\n    - target: {TARGET}\n      rego: |\n{rego}"
        ));
        for constraint in &self.constraints {
            out.push_str("---\n");
            let document = json!({
                "apiVersion": "constraints.gatekeeper.sh/v1beta1",
                "kind": CONSTRAINT_KIND,
                "metadata": {"name": constraint.name},
                "spec": {
                    "enforcementAction": "deny",
                    "match": {"kinds": [
                        {"apiGroups": [""], "kinds": ["Pod", "PodTemplate", "ReplicationController"]},
                        {"apiGroups": ["apps"], "kinds": ["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"]},
                        {"apiGroups": ["batch"], "kinds": ["CronJob", "Job"]},
                    ]},
                    "parameters": constraint.parameters,
                },
            });
            if let Value::Object(map) = &document {
                write_mapping(&mut out, map, 0);
            }
        }
        out
    }
}
