//! What the page shows of admission: the last decisions (a bounded ring, newest first) and each registry's last
//! lookup. Recorded by the handlers as they answer; read by `GET /`. Memory is bounded whatever the traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use pyimage_core::admission::{Judged, namespace_scope};
use pyimage_core::check::Policy;
use pyimage_core::check::policy::Severity;
use pyimage_report::{AdmissionDecision, AdmissionSection, Outcome, RegistryHealth};

/// Decisions kept for the page.
pub const KEPT: usize = 200;

/// The last decisions and registry lookups.
#[derive(Default)]
pub struct Recent {
    decisions: Mutex<VecDeque<AdmissionDecision>>,
    registries: Mutex<BTreeMap<String, RegistryHealth>>,
}

impl Recent {
    /// Records one image decision (the oldest is dropped past [`KEPT`]).
    pub fn record(&self, decision: AdmissionDecision) {
        if let Ok(mut decisions) = self.decisions.lock() {
            decisions.push_front(decision);
            decisions.truncate(KEPT);
        }
    }

    /// Records the validating webhook's judgement of each image of one object.
    pub fn record_judged(&self, namespace: &str, object: &str, policy: &Policy, judged: &[Judged]) {
        let (environment, _) = policy.environment_of(&namespace_scope(namespace));
        let at = pyimage_service::clock::unix_seconds();
        for image in judged {
            let worst = image.findings.iter().map(|f| f.severity).max();
            let outcome = match worst {
                Some(Severity::Deny) => Outcome::Denied,
                Some(Severity::Warn) => Outcome::Warned,
                _ => Outcome::Allowed,
            };
            let rules: Vec<&str> = image
                .findings
                .iter()
                .filter(|f| Some(f.severity) == worst)
                .map(|f| f.rule.id)
                .collect();
            let rule = (!rules.is_empty()).then(|| rules.join(", "));
            self.record(AdmissionDecision {
                at,
                namespace: namespace.to_owned(),
                environment: environment.to_owned(),
                object: format!(
                    "{object} ({} {})",
                    image.image.slot.noun(),
                    image.image.name
                ),
                image: image.image.image.clone(),
                outcome,
                rule,
            });
        }
    }

    /// Records a registry lookup's outcome.
    pub fn registry(&self, registry: &str, ok: bool, detail: String) {
        if let Ok(mut registries) = self.registries.lock() {
            registries.insert(
                registry.to_owned(),
                RegistryHealth {
                    registry: registry.to_owned(),
                    ok,
                    detail,
                },
            );
        }
    }

    /// The admission section of the page, now.
    pub fn section(&self) -> AdmissionSection {
        AdmissionSection {
            decisions: self
                .decisions
                .lock()
                .map(|d| d.iter().cloned().collect())
                .unwrap_or_default(),
            registries: self
                .registries
                .lock()
                .map(|r| r.values().cloned().collect())
                .unwrap_or_default(),
        }
    }
}
