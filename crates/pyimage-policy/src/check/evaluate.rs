//! [`evaluate_image`]: the one per-image decision. `check` calls it for every reference it locates in a file, the
//! admission webhook for every container image of an object; both get the same findings for the same reference in
//! the same environment.
//!
//! The decision: classify the image (official Python, declared mirror, look-alike, other), read its Python tag,
//! pick the environment of the [`Scope`], run every rule of [`RULES`], and drop what a configured `[[ignore]]`
//! covers. Findings come back without a location ([`Location::Reference`]); the caller knows where the image is
//! written and says so. Inline suppressions are a property of files and stay with `check`.

use std::collections::BTreeSet;

use pyimage_locate::dockerfile::Evaluation;
use pyimage_locate::manifests::NumericTag;
use pyimage_model::python::PythonTag;
use pyimage_model::reference::Reference;

use super::finding::{Finding, Location};
use super::policy::{Decision, Origin, Policy, Scope};
use super::rules::{self, RULES};
use super::{CheckContext, SiteKind};

/// One image to decide about, wherever it was found: a borrowed view of a Dockerfile's `ImageUse` or a manifest's
/// `ManifestImage`, handed to [`evaluate_image`].
#[derive(Debug, Clone, Copy)]
pub struct ImageToDecide<'a> {
    /// Where the image is used (`FROM`, a Compose service, a Kubernetes container…).
    pub site: SiteKind,
    /// The reference as written.
    pub written: &'a str,
    /// What it evaluates to (ARG and Compose interpolation applied), or why it cannot be evaluated.
    pub evaluation: &'a Evaluation,
    /// Whether build arguments or interpolation produced it.
    pub uses_args: bool,
    /// A Helm values tag written as an unquoted number, with what Helm renders (files only).
    pub numeric_tag: Option<&'a NumericTag>,
}

/// What [`evaluate_image`] decided about one image.
#[derive(Debug, Clone, Default)]
pub struct ImageDecision {
    /// Findings in rule order, including [`Severity::Allow`](super::Severity::Allow) ones (an inline suppression
    /// may name them); front ends report the others.
    pub findings: Vec<Finding>,
    /// Indexes of [`Policy::ignores`] that dropped a finding.
    pub used_ignores: BTreeSet<usize>,
}

impl ImageDecision {
    /// The findings a front end reports (warn and deny).
    pub fn reported(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.severity != super::Severity::Allow)
    }
}

/// Decides about one image in a scope: every rule's finding, with the environment and the settings that decided.
pub fn evaluate_image(
    image: &ImageToDecide<'_>,
    scope: &Scope,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> ImageDecision {
    let mut decision = ImageDecision::default();
    let (environment, environment_origin) = policy.environment_of(scope);
    let Some(settings) = policy.environments.get(environment) else {
        // The configuration rejects unknown environments; a forced one that does not exist decides nothing.
        return decision;
    };
    let (reference, reference_error, unresolvable) = match image.evaluation {
        Evaluation::Resolved {
            reference: Ok(reference),
            ..
        } => (Some(reference), None, None),
        Evaluation::Resolved {
            text,
            reference: Err(error),
        } => (None, Some((text.as_str(), error)), None),
        Evaluation::Unresolvable(why) => (None, None, Some(why)),
    };
    let source = reference.map_or(rules::Source::Other, |r| rules::classify(r, policy));
    let tag = reference
        .filter(|_| source.is_official_python())
        .map(|r| PythonTag::parse(r.tag().unwrap_or("latest")));
    let path = scope.path().unwrap_or_default();
    let check = rules::ImageCheck {
        site: image.site,
        written: image.written,
        reference,
        reference_error,
        unresolvable,
        uses_args: image.uses_args,
        numeric_tag: image.numeric_tag,
        source,
        tag,
        environment,
        settings,
        policy,
        today: context.today,
        path,
        lock: context.lock,
        signatures: context.signatures,
    };
    let shown = reference.map_or_else(|| image.written.to_owned(), Reference::familiar_string);
    for rule in RULES {
        let Some(check_fn) = rule.check else { continue };
        let Some(hit) = check_fn(&check) else {
            continue;
        };
        if let Some(index) = policy
            .ignores
            .iter()
            .position(|ignore| ignore.covers(rule.id, scope, reference))
        {
            decision.used_ignores.insert(index);
            continue;
        }
        let (severity, severity_origin) = policy.severity(rule);
        let mut decided_by = Vec::new();
        if !matches!(severity_origin, Origin::Default) {
            decided_by.push(Decision {
                what: "severity",
                origin: severity_origin,
            });
        }
        if !matches!(environment_origin, Origin::Default) {
            decided_by.push(Decision {
                what: "environment",
                origin: environment_origin.clone(),
            });
        }
        decided_by.extend(hit.decided_by);
        decision.findings.push(Finding {
            rule,
            severity,
            location: Location::Reference,
            reference: Some(shown.clone()),
            environment: Some(environment.to_owned()),
            message: hit.message,
            fix: hit.fix,
            labels: Vec::new(),
            decided_by,
        });
    }
    decision
}

/// Decides about a reference given as text (a container image of a Kubernetes object, a reference on the command
/// line): Docker's grammar decides whether it is a reference at all, then [`evaluate_image`].
pub fn evaluate_reference(
    text: &str,
    site: SiteKind,
    scope: &Scope,
    policy: &Policy,
    context: &CheckContext<'_>,
) -> ImageDecision {
    let evaluation = Evaluation::Resolved {
        text: text.to_owned(),
        reference: Reference::parse_normalized(text),
    };
    let image = ImageToDecide {
        site,
        written: text,
        evaluation: &evaluation,
        uses_args: false,
        numeric_tag: None,
    };
    evaluate_image(&image, scope, policy, context)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::check::{Date, FileKind, NamespaceRule, check_file};
    use pyimage_locate::dockerfile::ScanOptions;

    fn policy() -> Policy {
        let mut policy = Policy::default();
        policy.namespaces.push(
            NamespaceRule::new("prod-*", BTreeMap::new(), "prod", Origin::Default)
                .expect("valid glob"),
        );
        policy
    }

    fn rules_of(decision: &ImageDecision) -> Vec<&'static str> {
        decision.reported().map(|finding| finding.rule.id).collect()
    }

    #[test]
    fn a_namespace_decides_like_a_file_in_the_same_environment() {
        let policy = policy();
        let context = CheckContext {
            today: Date::ymd(2026, 11, 30),
            lock: None,
            build: &ScanOptions::default(),
            signatures: None,
        };
        let namespace = Scope::Namespace {
            name: "prod-eu".into(),
            labels: BTreeMap::new(),
        };
        let admitted = evaluate_reference(
            "python:3.9-slim",
            SiteKind::KUBERNETES,
            &namespace,
            &policy,
            &context,
        );
        assert_eq!(rules_of(&admitted), ["PY004", "PY006"]);
        assert!(
            admitted
                .reported()
                .all(|f| f.environment.as_deref() == Some("prod"))
        );
        let mut forced = policy.clone();
        forced.environment_override =
            Some(("prod".into(), Origin::CommandLine("--env prod".into())));
        let report = check_file(
            "k8s/pod.yaml",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: python:3.9-slim\n",
            FileKind::Manifest(pyimage_locate::ManifestKind::Kubernetes),
            &forced,
            &context,
        );
        let checked: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.rule.id, f.message.clone()))
            .collect();
        let decided: Vec<_> = admitted
            .reported()
            .map(|f| (f.rule.id, f.message.clone()))
            .collect();
        assert_eq!(checked, decided);
        // `python-evil` is not `python`, and a namespace outside the glob is dev.
        let dev = Scope::Namespace {
            name: "preprod".into(),
            labels: BTreeMap::new(),
        };
        let lookalike = evaluate_reference(
            "docker.io/library/python-evil:3.12",
            SiteKind::KUBERNETES,
            &dev,
            &policy,
            &context,
        );
        assert_eq!(rules_of(&lookalike), ["PY005"]);
        let invalid =
            evaluate_reference("Python:3.12", SiteKind::KUBERNETES, &dev, &policy, &context);
        assert_eq!(rules_of(&invalid), ["PY012"]);
    }
}

#[cfg(test)]
mod one_finding_per_span {
    use super::*;
    use crate::check::{Date, FileKind, check_file};
    use pyimage_locate::dockerfile::ScanOptions;

    #[test]
    fn an_anchor_merged_into_three_services_is_one_finding() {
        let policy = Policy {
            environment_override: Some(("prod".into(), Origin::CommandLine("--env prod".into()))),
            ..Policy::default()
        };
        let build = ScanOptions::default();
        let context = CheckContext {
            today: Date::ymd(2026, 11, 30),
            lock: None,
            build: &build,
            signatures: None,
        };
        let text = "x-base: &base\n  image: python:3.12-slim\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n  c:\n    <<: *base\n";
        let report = check_file(
            "compose.yaml",
            text,
            FileKind::Manifest(pyimage_locate::ManifestKind::Compose),
            &policy,
            &context,
        );
        let rules: Vec<(&str, usize)> = report
            .findings
            .iter()
            .map(|f| (f.rule.id, f.file().line))
            .collect();
        assert_eq!(rules, [("PY004", 2)]);
    }
}
