//! The TUF client against Sigstore's real repository metadata (testdata/trust/tuf: root v15, timestamp v762,
//! snapshot v165, targets v14, as signed by Sigstore's keyholders and online key): the chain verifies down to the
//! embedded `trusted_root.json`; a changed byte, a signature short of the threshold, an expired file, a changed target
//! each fail with their own check. What the real files cannot show (a root rotation, a rollback, a version skipped)
//! is shown on a small repository signed in the test with P-256 keys of its own: real signatures, not mocks.

use base64::Engine as _;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use pyimage_model::time::parse_rfc3339_utc;
use pyimage_trust::root::EMBEDDED_TRUSTED_ROOT;
use pyimage_trust::tuf::{
    Check, EMBEDDED_TUF_ROOT, FileToFetch, MAX_ROOT_ROTATIONS, MAX_SNAPSHOT_BYTES, Repository,
    TRUSTED_ROOT_TARGET, TufError, canonical_json,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::read;

/// A time at which every real file is current: the day after the repository's HEAD (the timestamp expires on
/// 2026-08-28).
fn before_expiry() -> u64 {
    parse_rfc3339_utc("2026-08-22T00:00:00Z").unwrap()
}

fn real(file: &str) -> Vec<u8> {
    read(&format!("tuf/{file}"))
}

/// The real chain verified as far as the targets metadata.
fn verified(now: u64) -> Repository {
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.root_update_finished(now).unwrap();
    repo.update_timestamp(&real("timestamp.json"), now).unwrap();
    repo.update_snapshot(&real("snapshot.json"), now).unwrap();
    repo.update_targets(&real("targets.json"), now).unwrap();
    repo
}

/// `bytes` with the first `from` replaced by `to` (same length: the JSON stays valid).
fn replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains(from), "{from} is not in the file");
    text.replacen(from, to, 1).into_bytes()
}

/// The file with only the signatures `keep` selects.
fn with_signatures(bytes: &[u8], keep: impl Fn(usize) -> bool) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(bytes).unwrap();
    let signatures: Vec<Value> = value["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, s)| s.clone())
        .collect();
    value["signatures"] = Value::Array(signatures);
    serde_json::to_vec(&value).unwrap()
}

fn check_of(result: Result<(), TufError>) -> Check {
    result.unwrap_err().check
}

#[test]
fn the_embedded_tuf_root_is_sigstores_v15_and_signed_by_itself() {
    assert_eq!(EMBEDDED_TUF_ROOT.as_bytes(), real("root.json").as_slice());
    let repo = Repository::new(EMBEDDED_TUF_ROOT.as_bytes()).unwrap();
    assert_eq!(repo.versions().root, 15);
    assert_eq!(repo.next_root().path, "16.root.json");
}

#[test]
fn sigstores_metadata_verifies_down_to_the_embedded_trusted_root() {
    let now = before_expiry();
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.root_update_finished(now).unwrap();
    repo.update_timestamp(&real("timestamp.json"), now).unwrap();
    assert_eq!(
        repo.snapshot_file().unwrap(),
        FileToFetch {
            path: "165.snapshot.json".to_owned(),
            max_bytes: MAX_SNAPSHOT_BYTES
        }
    );
    repo.update_snapshot(&real("snapshot.json"), now).unwrap();
    assert_eq!(repo.targets_file().unwrap().path, "14.targets.json");
    repo.update_targets(&real("targets.json"), now).unwrap();
    assert_eq!(
        repo.target_file(TRUSTED_ROOT_TARGET).unwrap(),
        FileToFetch {
            path: "targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json"
                .to_owned(),
            max_bytes: 6787
        }
    );
    repo.verify_target(TRUSTED_ROOT_TARGET, EMBEDDED_TRUSTED_ROOT.as_bytes(), now)
        .unwrap();
    assert_eq!(
        repo.versions().to_string(),
        "root v15, timestamp v762, snapshot v165, targets v14"
    );
    assert_eq!(
        repo.expires(),
        parse_rfc3339_utc("2026-08-28T19:25:56Z").unwrap()
    );
}

#[test]
fn a_target_other_than_the_signed_one_is_refused() {
    let now = before_expiry();
    let repo = verified(now);
    let changed = replaced(
        EMBEDDED_TRUSTED_ROOT.as_bytes(),
        "rekor.sigstore.dev",
        "rekor.sigstore.dex",
    );
    let error = repo
        .verify_target(TRUSTED_ROOT_TARGET, &changed, now)
        .unwrap_err();
    assert_eq!(error.check, Check::LengthOrHash);
    assert!(
        error
            .to_string()
            .starts_with("trusted_root.json: has sha256 ")
            && error.to_string().contains("but targets v14 says 6494e21e"),
        "{error}"
    );
    let truncated = &EMBEDDED_TRUSTED_ROOT.as_bytes()[..100];
    assert_eq!(
        check_of(repo.verify_target(TRUSTED_ROOT_TARGET, truncated, now)),
        Check::LengthOrHash
    );
    assert_eq!(
        check_of(repo.target_file("no-such-target.json").map(|_| ())),
        Check::Missing
    );
}

#[test]
fn one_changed_byte_of_any_signed_body_breaks_its_signatures() {
    let now = before_expiry();
    // root: one digit of its expiry.
    let root = replaced(
        &real("root.json"),
        "2026-11-20T13:58:18Z",
        "2026-11-20T13:58:19Z",
    );
    let error = Repository::new(&root).unwrap_err();
    assert_eq!(error.check, Check::Signatures, "{error}");
    assert_eq!(error.metadata, "root.json v15");
    // timestamp: its version.
    let mut repo = Repository::new(&real("root.json")).unwrap();
    let timestamp = replaced(
        &real("timestamp.json"),
        "\"version\": 762",
        "\"version\": 763",
    );
    let error = repo.update_timestamp(&timestamp, now).unwrap_err();
    assert_eq!(error.check, Check::Signatures, "{error}");
    assert_eq!(
        error.to_string(),
        "timestamp.json v763: carries valid signatures of 0 of the 1 timestamp keys of root v15; 1 are needed \
         (the metadata was altered or signed by keys the trusted root does not name: it must not be used; if it \
         persists, tell the repository's operators)"
    );
    // snapshot: the targets version it lists.
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.update_timestamp(&real("timestamp.json"), now).unwrap();
    let snapshot = replaced(&real("snapshot.json"), "\"version\": 14", "\"version\": 15");
    assert_eq!(
        check_of(repo.update_snapshot(&snapshot, now)),
        Check::Signatures
    );
    // targets: the length of trusted_root.json.
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.update_timestamp(&real("timestamp.json"), now).unwrap();
    repo.update_snapshot(&real("snapshot.json"), now).unwrap();
    let targets = replaced(
        &real("targets.json"),
        "\"length\": 6787",
        "\"length\": 6788",
    );
    assert_eq!(
        check_of(repo.update_targets(&targets, now)),
        Check::Signatures
    );
}

#[test]
fn signatures_short_of_the_threshold_are_refused() {
    let now = before_expiry();
    // Root and targets: 3 of 5 keys. Three signatures are enough, two are not.
    Repository::new(&with_signatures(&real("root.json"), |i| i < 3)).unwrap();
    let error = Repository::new(&with_signatures(&real("root.json"), |i| i < 2)).unwrap_err();
    assert_eq!(error.check, Check::Signatures);
    assert!(
        error
            .detail
            .contains("2 of the 5 root keys of root v15; 3 are needed"),
        "{error}"
    );
    // A signature repeated does not count twice.
    let mut doubled: Value = serde_json::from_slice(&real("root.json")).unwrap();
    let first = doubled["signatures"][0].clone();
    doubled["signatures"] = json!([first.clone(), first.clone(), first]);
    assert_eq!(
        Repository::new(&serde_json::to_vec(&doubled).unwrap())
            .unwrap_err()
            .check,
        Check::Signatures
    );
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.update_timestamp(&real("timestamp.json"), now).unwrap();
    repo.update_snapshot(&real("snapshot.json"), now).unwrap();
    assert_eq!(
        check_of(repo.update_targets(&with_signatures(&real("targets.json"), |i| i < 2), now)),
        Check::Signatures
    );
    // Timestamp: its one online key.
    let mut repo = Repository::new(&real("root.json")).unwrap();
    assert_eq!(
        check_of(repo.update_timestamp(&with_signatures(&real("timestamp.json"), |_| false), now)),
        Check::Signatures
    );
    // The timestamp signed by a root key instead of the timestamp key: not the role's key.
    let mut swapped: Value = serde_json::from_slice(&real("timestamp.json")).unwrap();
    swapped["signatures"][0]["keyid"] =
        json!("e71a54d543835ba86adad9460379c7641fb8726d164ea766801a1c522aba7ea2");
    assert_eq!(
        check_of(repo.update_timestamp(&serde_json::to_vec(&swapped).unwrap(), now)),
        Check::Signatures
    );
}

#[test]
fn expired_metadata_is_refused_at_a_later_now() {
    let expiry = parse_rfc3339_utc("2026-08-28T19:25:56Z").unwrap();
    let mut repo = Repository::new(&real("root.json")).unwrap();
    repo.update_timestamp(&real("timestamp.json"), expiry - 1)
        .unwrap();
    let mut repo = Repository::new(&real("root.json")).unwrap();
    let error = repo
        .update_timestamp(&real("timestamp.json"), expiry)
        .unwrap_err();
    assert_eq!(error.check, Check::Expired);
    assert!(
        error.to_string().starts_with(
            "timestamp.json v762: expired at 2026-08-28T19:25:56Z (now 2026-08-28T19:25:56Z) (the repository was \
             not re-signed in time (a freeze attack, or a stale mirror)"
        ),
        "{error}"
    );
    // Root v15 expired on 2026-11-20: with no v16, the update ends there.
    let today = parse_rfc3339_utc("2026-12-07T00:00:00Z").unwrap();
    let error = repo.root_update_finished(today).unwrap_err();
    assert_eq!(error.check, Check::Expired);
    assert_eq!(error.metadata, "root.json v15");
    // A verified chain does not yield its target once any part of it has expired.
    let repo = verified(before_expiry());
    assert_eq!(
        check_of(repo.verify_target(
            TRUSTED_ROOT_TARGET,
            EMBEDDED_TRUSTED_ROOT.as_bytes(),
            expiry
        )),
        Check::Expired
    );
}

#[test]
fn steps_out_of_order_are_refused() {
    let repo = Repository::new(&real("root.json")).unwrap();
    assert_eq!(check_of(repo.snapshot_file().map(|_| ())), Check::Order);
    assert_eq!(check_of(repo.targets_file().map(|_| ())), Check::Order);
    let mut repo = Repository::new(&real("root.json")).unwrap();
    assert_eq!(
        check_of(repo.update_snapshot(&real("snapshot.json"), before_expiry())),
        Check::Order
    );
    assert_eq!(
        check_of(repo.verify_target(TRUSTED_ROOT_TARGET, b"{}", before_expiry())),
        Check::Order
    );
}

#[test]
fn metadata_of_another_role_or_not_json_is_a_format_error() {
    let mut repo = Repository::new(&real("root.json")).unwrap();
    let error = repo
        .update_timestamp(&real("snapshot.json"), before_expiry())
        .unwrap_err();
    assert_eq!(error.check, Check::Format);
    assert!(error.detail.contains("is snapshot metadata"), "{error}");
    assert_eq!(
        Repository::new(b"<html>not found</html>")
            .unwrap_err()
            .check,
        Check::Format
    );
}

/// A key of a test repository: a fixed P-256 scalar, so runs are reproducible (ECDSA signing is deterministic).
struct TestKey {
    signing: SigningKey,
    id: String,
}

fn test_key(n: u8) -> TestKey {
    let signing = SigningKey::from_bytes(&[n; 32].into()).unwrap();
    TestKey {
        id: hex(&Sha256::digest(pem(&signing).as_bytes())),
        signing,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key as TUF metadata writes it: a PEM SubjectPublicKeyInfo.
fn pem(key: &SigningKey) -> String {
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65-byte point) }
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    der.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
}

fn sign(signed: &Value, keys: &[&TestKey]) -> Vec<u8> {
    let canonical = canonical_json(signed).unwrap();
    let signatures: Vec<Value> = keys
        .iter()
        .map(|key| {
            let signature: p256::ecdsa::Signature = key.signing.sign(&canonical);
            json!({"keyid": key.id, "sig": hex(signature.to_der().as_bytes())})
        })
        .collect();
    serde_json::to_vec_pretty(&json!({"signatures": signatures, "signed": signed})).unwrap()
}

const FAR: &str = "2030-01-01T00:00:00Z";

/// A root whose four roles all use `keys` with `threshold`.
fn test_root(version: u64, keys: &[&TestKey], threshold: u64) -> Value {
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    let role = json!({"keyids": ids, "threshold": threshold});
    json!({
        "_type": "root",
        "spec_version": "1.0",
        "version": version,
        "expires": FAR,
        "consistent_snapshot": true,
        "keys": keys.iter().map(|k| (k.id.clone(), json!({
            "keytype": "ecdsa",
            "scheme": "ecdsa-sha2-nistp256",
            "keyval": {"public": pem(&k.signing)},
        }))).collect::<serde_json::Map<String, Value>>(),
        "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role},
    })
}

fn test_timestamp(version: u64, snapshot: u64, snapshot_bytes: Option<&[u8]>) -> Value {
    let mut meta = json!({"version": snapshot});
    if let Some(bytes) = snapshot_bytes {
        meta["length"] = json!(bytes.len());
        meta["hashes"] = json!({"sha256": hex(&Sha256::digest(bytes))});
    }
    json!({"_type": "timestamp", "spec_version": "1.0", "version": version, "expires": FAR,
           "meta": {"snapshot.json": meta}})
}

fn test_snapshot(version: u64, targets: u64) -> Value {
    json!({"_type": "snapshot", "spec_version": "1.0", "version": version, "expires": FAR,
           "meta": {"targets.json": {"version": targets}}})
}

#[test]
fn a_root_rotation_needs_the_old_and_the_new_keys() {
    let now = before_expiry();
    let (a, b, c) = (test_key(1), test_key(2), test_key(3));
    let v1 = sign(&test_root(1, &[&a], 1), &[&a]);
    // v2 hands the root over to b: signed by a (the old root's key) and b (its own).
    let v2 = sign(&test_root(2, &[&b], 1), &[&a, &b]);
    let mut repo = Repository::new(&v1).unwrap();
    repo.update_root(&v2).unwrap();
    assert_eq!(repo.versions().root, 2);
    repo.root_update_finished(now).unwrap();
    // v3 signed by its own key only (c), not by v2's (b): refused, whatever it claims.
    let error = repo
        .update_root(&sign(&test_root(3, &[&c], 1), &[&c]))
        .unwrap_err();
    assert_eq!(error.check, Check::Signatures);
    assert!(
        error
            .detail
            .contains("must be signed by the current root v2's root keys"),
        "{error}"
    );
    // v3 signed by b only, but naming c: not signed by its own keys.
    assert_eq!(
        check_of(repo.update_root(&sign(&test_root(3, &[&c], 1), &[&b]))),
        Check::Signatures
    );
    // A version skipped (v4 after v2), properly signed.
    let error = repo
        .update_root(&sign(&test_root(4, &[&c], 1), &[&b, &c]))
        .unwrap_err();
    assert_eq!(error.check, Check::Version);
    assert!(
        error.detail.contains("root v2 must be followed by v3"),
        "{error}"
    );
    // A failed update leaves the trusted root as it was.
    assert_eq!(repo.versions().root, 2);
    repo.update_root(&sign(&test_root(3, &[&c], 1), &[&b, &c]))
        .unwrap();
    assert_eq!(repo.next_root().path, "4.root.json");
}

#[test]
fn root_rotations_are_capped() {
    let key = test_key(7);
    let mut repo = Repository::new(&sign(&test_root(1, &[&key], 1), &[&key])).unwrap();
    for version in 2..=MAX_ROOT_ROTATIONS + 1 {
        repo.update_root(&sign(&test_root(version, &[&key], 1), &[&key]))
            .unwrap();
    }
    let error = repo
        .update_root(&sign(
            &test_root(MAX_ROOT_ROTATIONS + 2, &[&key], 1),
            &[&key],
        ))
        .unwrap_err();
    assert_eq!(error.check, Check::Rotations);
}

#[test]
fn older_metadata_than_verified_before_is_a_rollback() {
    let now = before_expiry();
    let key = test_key(9);
    let root = sign(&test_root(1, &[&key], 1), &[&key]);
    // The cache holds timestamp v5 (naming snapshot v5) and snapshot v5 (naming targets v3).
    let mut repo = Repository::new(&root).unwrap();
    repo.remember_timestamp(&sign(&test_timestamp(5, 5, None), &[&key]))
        .unwrap();
    repo.remember_snapshot(&sign(&test_snapshot(5, 3), &[&key]))
        .unwrap();
    // An older timestamp.
    let error = repo
        .update_timestamp(&sign(&test_timestamp(4, 5, None), &[&key]), now)
        .unwrap_err();
    assert_eq!(error.check, Check::Rollback);
    assert_eq!(error.metadata, "timestamp.json v4");
    // A newer timestamp naming an older snapshot.
    assert_eq!(
        check_of(repo.update_timestamp(&sign(&test_timestamp(6, 4, None), &[&key]), now)),
        Check::Rollback
    );
    // A newer timestamp and snapshot, but the snapshot names an older targets version.
    repo.update_timestamp(&sign(&test_timestamp(6, 6, None), &[&key]), now)
        .unwrap();
    let error = repo
        .update_snapshot(&sign(&test_snapshot(6, 2), &[&key]), now)
        .unwrap_err();
    assert_eq!(error.check, Check::Rollback);
    assert!(
        error
            .detail
            .contains("lists targets.json v2, older than v3"),
        "{error}"
    );
    repo.update_snapshot(&sign(&test_snapshot(6, 3), &[&key]), now)
        .unwrap();
    // Metadata the current root's keys did not sign is not remembered (a rotated or forged cache).
    let other = test_key(10);
    assert_eq!(
        check_of(repo.remember_timestamp(&sign(&test_timestamp(99, 99, None), &[&other]))),
        Check::Signatures
    );
}

#[test]
fn the_snapshot_must_be_the_one_the_timestamp_describes() {
    let now = before_expiry();
    let key = test_key(11);
    let root = sign(&test_root(1, &[&key], 1), &[&key]);
    let snapshot = sign(&test_snapshot(8, 1), &[&key]);
    // Another version than the timestamp names.
    let mut repo = Repository::new(&root).unwrap();
    repo.update_timestamp(&sign(&test_timestamp(1, 9, None), &[&key]), now)
        .unwrap();
    let error = repo.update_snapshot(&snapshot, now).unwrap_err();
    assert_eq!(error.check, Check::Version);
    // The timestamp gives the snapshot's length and hash: other bytes are refused before being parsed.
    let mut repo = Repository::new(&root).unwrap();
    repo.update_timestamp(&sign(&test_timestamp(1, 8, Some(&snapshot)), &[&key]), now)
        .unwrap();
    assert_eq!(
        repo.snapshot_file().unwrap().max_bytes,
        snapshot.len() as u64
    );
    let resigned = sign(&test_snapshot(8, 1), &[&key, &key]);
    assert_eq!(
        check_of(repo.update_snapshot(&resigned, now)),
        Check::LengthOrHash
    );
    repo.update_snapshot(&snapshot, now).unwrap();
}

#[test]
fn a_key_of_another_scheme_never_counts() {
    let key = test_key(12);
    let mut root = test_root(1, &[&key], 1);
    root["keys"][&key.id]["scheme"] = json!("ed25519");
    root["keys"][&key.id]["keytype"] = json!("ed25519");
    assert_eq!(
        Repository::new(&sign(&root, &[&key])).unwrap_err().check,
        Check::Signatures
    );
}

#[test]
fn without_consistent_snapshots_files_have_plain_names() {
    let now = before_expiry();
    let key = test_key(13);
    let mut root = test_root(1, &[&key], 1);
    root["consistent_snapshot"] = json!(false);
    let mut repo = Repository::new(&sign(&root, &[&key])).unwrap();
    repo.update_timestamp(&sign(&test_timestamp(1, 1, None), &[&key]), now)
        .unwrap();
    assert_eq!(repo.snapshot_file().unwrap().path, "snapshot.json");
    repo.update_snapshot(&sign(&test_snapshot(1, 1), &[&key]), now)
        .unwrap();
    assert_eq!(repo.targets_file().unwrap().path, "targets.json");
    let target = b"{}";
    let targets = json!({"_type": "targets", "spec_version": "1.0", "version": 1, "expires": FAR,
        "targets": {"x.json": {"length": 2, "hashes": {"sha256": hex(&Sha256::digest(target))}}}});
    repo.update_targets(&sign(&targets, &[&key]), now).unwrap();
    assert_eq!(repo.target_file("x.json").unwrap().path, "targets/x.json");
    repo.verify_target("x.json", target, now).unwrap();
}
