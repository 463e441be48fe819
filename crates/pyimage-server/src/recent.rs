//! What the page shows of admission: the last decisions (a bounded ring, newest first) and each registry's last
//! lookup. Recorded by the handlers as they answer; read by `GET /`. Memory is bounded whatever the traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use pyimage_policy::admission::Judged;
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
        let environment = policy.namespace_environment(namespace);
        let rule = rule.map(|rule| move |text: &mut String| text.push_str(&rule));
        self.push(
            namespace,
            environment,
            |text| text.push_str(&object),
            &image,
            outcome,
            rule.as_ref().map(|write| write as &dyn Fn(&mut String)),
        );
    }

    /// Keeps one decision, the newest; the oldest is dropped past [`KEPT`].
    fn push(
        &self,
        namespace: &str,
        environment: &str,
        object: impl Fn(&mut String),
        image: &str,
        outcome: Outcome,
        rule: Option<&dyn Fn(&mut String)>,
    ) {
        let Ok(mut decisions) = self.decisions.lock() else {
            return;
        };
        // A full ring's oldest decision is written over in place: its text buffers are reused, so a decision
        // recorded costs no allocation once the ring is full, and no buffer another worker thread allocated is
        // freed here (which would take that thread's allocator lock on every request).
        let mut decision = if decisions.len() >= KEPT {
            decisions.truncate(KEPT);
            decisions.pop_back().unwrap_or_else(empty_decision)
        } else {
            empty_decision()
        };
        decision.at = pyimage_service::clock::unix_seconds();
        write_visible(&mut decision.namespace, namespace);
        decision.environment.clear();
        decision.environment.push_str(environment);
        decision.object.clear();
        object(&mut decision.object);
        if decision.object.as_bytes().contains(&0xE2) {
            let written = std::mem::take(&mut decision.object);
            write_visible(&mut decision.object, &written);
        }
        write_visible(&mut decision.image, image);
        decision.outcome = outcome;
        match rule {
            Some(write) => {
                let text = decision.rule.get_or_insert_with(String::new);
                text.clear();
                write(text);
            }
            None => decision.rule = None,
        }
        decisions.push_front(decision);
    }

    /// Records the validating webhook's judgement of each image of one object: its worst finding decides the
    /// outcome, and the rules of that severity are named.
    pub fn record_judged(&self, namespace: &str, object: &str, policy: &Policy, judged: &[Judged]) {
        // One object, one namespace: its environment is found once for all its images.
        let environment = policy.namespace_environment(namespace);
        for image in judged {
            let worst = image.findings.iter().map(|f| f.severity).max();
            let outcome = match worst {
                Some(Severity::Deny) => Outcome::Denied,
                Some(Severity::Warn) => Outcome::Warned,
                _ => Outcome::Allowed,
            };
            let rules = |text: &mut String| {
                let named = image.findings.iter().filter(|f| Some(f.severity) == worst);
                for (n, finding) in named.enumerate() {
                    if n > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(finding.rule.id);
                }
            };
            let has_rules = worst.is_some();
            self.push(
                namespace,
                environment,
                |text| {
                    text.push_str(object);
                    text.push_str(" (");
                    text.push_str(image.image.slot.noun());
                    text.push(' ');
                    text.push_str(&image.image.name);
                    text.push(')');
                },
                &image.image.image,
                outcome,
                has_rules.then_some(&rules as &dyn Fn(&mut String)),
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

/// A decision whose fields [`Recent::push`] fills.
fn empty_decision() -> AdmissionDecision {
    AdmissionDecision {
        at: 0,
        namespace: String::new(),
        environment: String::new(),
        object: String::new(),
        image: String::new(),
        outcome: Outcome::Allowed,
        rule: None,
    }
}

/// Requester text as the page shows it, written over `out`: bidirectional controls (which would reorder what the
/// reader sees, as `prod-\u{202e}nimda` reads "prod-admin") written as visible `\u{202e}` escapes, as the terminal
/// output does. The page's HTML escaping drops the other control characters.
fn write_visible(out: &mut String, text: &str) {
    out.clear();
    // Each of those controls is written in UTF-8 starting with the byte 0xE2: text without one is copied as it is.
    if !text.as_bytes().contains(&0xE2) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(recent: &Recent, namespace: &str, object: &str, image: &str, rule: Option<&str>) {
        recent.record(
            &Policy::default(),
            namespace,
            object.to_owned(),
            image.to_owned(),
            Outcome::Denied,
            rule.map(str::to_owned),
        );
    }

    #[test]
    fn a_full_ring_keeps_the_newest_decisions_each_written_whole_over_an_old_one() {
        let recent = Recent::default();
        // Long texts first, so the entries written over them later must not keep any of their bytes.
        for n in 0..KEPT {
            let long = "x".repeat(300);
            record(
                &recent,
                &format!("ns-{n}-{long}"),
                &long,
                &long,
                Some(&long),
            );
        }
        for n in 0..KEPT + 7 {
            let rule = n.is_multiple_of(2).then_some("PY004");
            record(
                &recent,
                &format!("team-{n}"),
                &format!("Pod p{n}"),
                "python:3.12",
                rule,
            );
        }
        let decisions = recent.section().decisions;
        assert_eq!(decisions.len(), KEPT);
        for (place, decision) in decisions.iter().enumerate() {
            let n = KEPT + 6 - place;
            assert_eq!(decision.namespace, format!("team-{n}"));
            assert_eq!(decision.object, format!("Pod p{n}"));
            assert_eq!(decision.image, "python:3.12");
            assert_eq!(
                decision.rule.as_deref(),
                n.is_multiple_of(2).then_some("PY004")
            );
        }
    }

    #[test]
    fn bidirectional_controls_are_shown_escaped_in_every_reused_field() {
        let recent = Recent::default();
        for _ in 0..KEPT + 1 {
            record(
                &recent,
                "prod-\u{202e}nimda",
                "Pod a\u{2066}b",
                "python\u{200f}:3.12",
                None,
            );
        }
        let newest = &recent.section().decisions[0];
        assert_eq!(newest.namespace, "prod-\\u{202e}nimda");
        assert_eq!(newest.object, "Pod a\\u{2066}b");
        assert_eq!(newest.image, "python\\u{200f}:3.12");
        assert_eq!(newest.rule, None);
    }
}
