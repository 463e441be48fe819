//! PY018 `unsigned-image`: an image that a `[[trust.signatures]]` rule covers, without the cosign signature the rule
//! asks for. The verdict is `crate::signatures::judge`'s, over the evidence the caller has: the signatures read at
//! the registry (`serve`), or what `pin` recorded in `pyimage.lock` (`check --locked`).

use super::{Hit, ImageCheck, shown};
use crate::signatures::{SignatureEvidence, SignatureVerdict, judge};
use pyimage_model::lock::LockMatch;

declare_rule! {
    UnsignedImage,
    id: "PY018",
    name: "unsigned-image",
    severity: Deny,
    summary: "Image that `[[trust.signatures]]` says must be signed, without a signature by one of the rule's keys.",
    what: "For an image a `[[trust.signatures]]` rule covers (its repository and the file's or namespace's \
environment), checks for a cosign signature over the image's digest by one of the rule's keys (and logged in Rekor \
when the rule says `transparency_log = true`). `pyimage check --locked` reads what `pyimage pin` verified and \
recorded in `pyimage.lock` (the key's name and fingerprint); `pyimage serve` and `pyimage verify` read the signatures \
at the registry — signature manifests tagged `sha256-<hex>.sig` and OCI 1.1 referrers. Without `--locked`, `check` \
cannot know and the rule is inactive.",
    why: "A signature by your organisation's key (or Docker's, for Docker Hardened Images) is the evidence that a \
copy in a private registry, or a vendor's image, is the one its publisher released. A signature by another key, a \
signature over another digest, or none at all is not that evidence.",
    example: "# pyimage.toml: [[trust.signatures]] images = [\"registry.acme.example/python/*\"], keys = [\"acme\"]\n\
FROM registry.acme.example/python/python:3.12-slim@sha256:…   # no signature by acme on this digest",
    fix: "Sign the digest with the organisation's key (`cosign sign --key cosign.key IMAGE@DIGEST`), then run \
`pyimage pin` to verify and record the signature; or use an image that is signed.",
    check: Some(check),
}

fn check(image: &ImageCheck<'_>) -> Option<Hit> {
    let reference = image.reference?;
    let rule = image.policy.signature_rule(image.environment, reference)?;
    let recorded;
    let evidence = match image.signatures {
        Some(facts) => {
            let evidence = facts.by_image.get(image.written);
            if facts.unknown_admits
                && matches!(evidence, Some(SignatureEvidence::Unavailable { .. }))
            {
                return None;
            }
            evidence
        }
        None => {
            // `check --locked`: the lock's record. Without a lock, or without an entry (PY008's finding), nothing.
            let LockMatch::Entry(entry) = image.lock?.lookup(reference) else {
                return None;
            };
            if reference
                .digest()
                .is_some_and(|d| d.as_str() != entry.digest)
            {
                return None; // PY008: the file does not carry the locked digest.
            }
            recorded = entry
                .signed_by
                .as_ref()
                .map(|key| SignatureEvidence::Verified {
                    key: key.clone(),
                    key_sha256: entry.signing_key.clone(),
                    logged: entry.signature_log_index.map(|log_index| {
                        crate::signatures::LogEntry {
                            log: "recorded in pyimage.lock".to_owned(),
                            log_index,
                            integrated_time: 0,
                        }
                    }),
                    found_at: None,
                    source: crate::signatures::EvidenceSource::Lock,
                });
            recorded.as_ref()
        }
    };
    let judgement = judge(rule, evidence, &image.policy.signing_keys);
    match judgement.verdict {
        SignatureVerdict::Accepted => None,
        SignatureVerdict::Refused | SignatureVerdict::Unknown => Some(Hit::new(
            format!("{}: {}", shown(image), judgement.message),
            judgement.fix,
        )),
    }
}
