//! What the page shows of admission: the last decisions (a bounded ring, newest first) and each registry's last
//! lookup. Recorded by the handlers as they answer; read by `GET /`. Memory is bounded whatever the traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use pyimage_policy::admission::{Judged, namespace_scope};
use pyimage_policy::check::Policy;
use pyimage_policy::check::policy::Severity;
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
    /// Records what was done with one image of an object in `namespace` (the environment comes from the policy, as
    /// for the decision itself); the oldest decision is dropped past [`KEPT`].
    pub fn record(
        &self,
        policy: &Policy,
        namespace: &str,
        object: String,
        image: String,
        outcome: Outcome,
        rule: Option<String>,
    ) {
        let (environment, _) = policy.environment_of(&namespace_scope(namespace));
        self.push(namespace, environment, &object, &image, outcome, rule);
    }

    /// Keeps one decision, the newest; the oldest is dropped past [`KEPT`].
    fn push(
        &self,
        namespace: &str,
        environment: &str,
        object: &str,
        image: &str,
        outcome: Outcome,
        rule: Option<String>,
    ) {
        let decision = AdmissionDecision {
            at: pyimage_service::clock::unix_seconds(),
            namespace: visible(namespace),
            environment: environment.to_owned(),
            object: visible(object),
            image: visible(image),
            outcome,
            rule,
        };
        if let Ok(mut decisions) = self.decisions.lock() {
            decisions.push_front(decision);
            decisions.truncate(KEPT);
        }
    }

    /// Records the validating webhook's judgement of each image of one object: its worst finding decides the
    /// outcome, and the rules of that severity are named.
    pub fn record_judged(&self, namespace: &str, object: &str, policy: &Policy, judged: &[Judged]) {
        // One object, one namespace: its environment is found once for all its images.
        let (environment, _) = policy.environment_of(&namespace_scope(namespace));
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
            self.push(
                namespace,
                environment,
                &format!(
                    "{object} ({} {})",
                    image.image.slot.noun(),
                    image.image.name
                ),
                &image.image.image,
                outcome,
                (!rules.is_empty()).then(|| rules.join(", ")),
            );
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

/// Requester text as the page shows it: bidirectional controls (which would reorder what the reader sees, as
/// `prod-\u{202e}nimda` reads "prod-admin") written as visible `\u{202e}` escapes, as the terminal output does.
/// The page's HTML escaping drops the other control characters.
fn visible(text: &str) -> String {
    // Each of those controls is written in UTF-8 starting with the byte 0xE2: text without one is shown as it is.
    if !text.as_bytes().contains(&0xE2) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}
