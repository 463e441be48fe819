//! The two moves Docker Hub makes, seen through skopeo: a rebuild (same tags, new digests) and a replay of a later
//! library file (changed entries move, unchanged ones stay, tags that left the file stay where they were).

use std::process::Command;

use pyimage_testkit::oci::sha256_digest;
use pyimage_testkit::{PushReason, Replica, library_file, newest_library_file};

/// The two newest files: 18 entries changed (among them 3.12.13 → 3.12.14 and 3.11.15 → 3.11.16); 3.13, 3.14
/// and 3.15-rc are unchanged.
const BEFORE_3_12_14: &str = "2026-08-10T135551-e04d48617b9d.txt";
const WITH_3_12_14: &str = "2026-08-13T122654-73f6781860cc.txt";

/// The digest of what skopeo fetches for a reference (tag or digest).
fn skopeo_digest(replica: &Replica, tag_or_digest: &str) -> String {
    let reference = replica.reference(tag_or_digest);
    let output = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{reference}"),
        ])
        .output()
        .expect("skopeo runs");
    assert!(
        output.status.success(),
        "skopeo inspect {reference}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    sha256_digest(&output.stdout)
}

#[test]
fn a_rebuild_moves_the_selected_tags_and_keeps_old_digests_fetchable() {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let before = seeded.truth;
    let rebuilt = replica
        .rebuild_where(|entry| entry.directory == "3.12/slim-trixie")
        .unwrap();
    let after = &rebuilt.truth;
    assert_eq!(rebuilt.stats.entries_built, 1);

    // The entry's own tags and the shared tags that include it moved; nothing else did.
    let moved: Vec<&str> = rebuilt.moves.iter().map(|m| m.tag.as_str()).collect();
    assert_eq!(
        moved,
        [
            "3.12-slim",
            "3.12-slim-trixie",
            "3.12.14-slim",
            "3.12.14-slim-trixie"
        ]
    );
    let slim = rebuilt.moved("3.12-slim").unwrap();
    assert_eq!(slim.kind, PushReason::Rebuilt);
    assert_eq!(slim.old_digest.as_deref(), before.digest("3.12-slim"));
    assert_ne!(slim.new_digest, slim.old_digest.clone().unwrap());
    assert!(rebuilt.retained.is_empty());

    // Same version and commit, new build, new base digest, new platform digests.
    let (old_entry, new_entry) = (
        before.tag("3.12-slim").unwrap().entry().unwrap(),
        after.tag("3.12-slim").unwrap().entry().unwrap(),
    );
    assert_eq!(new_entry.python_version, old_entry.python_version);
    assert_eq!(new_entry.git_commit, old_entry.git_commit);
    assert_eq!(new_entry.build, old_entry.build + 1);
    assert_ne!(new_entry.base_digest, old_entry.base_digest);
    let (old_amd64, new_amd64) = (
        &before.tag("3.12-slim").unwrap().platform_digests()["linux/amd64"],
        &after.tag("3.12-slim").unwrap().platform_digests()["linux/amd64"],
    );
    assert_ne!(old_amd64, new_amd64);

    // skopeo sees the new digest under the tag, the old one by digest, and an untouched tag unchanged.
    assert_eq!(skopeo_digest(&replica, "3.12-slim"), slim.new_digest);
    assert_eq!(
        skopeo_digest(&replica, slim.old_digest.as_ref().unwrap()),
        *slim.old_digest.as_ref().unwrap()
    );
    assert_eq!(skopeo_digest(&replica, old_amd64), *old_amd64);
    assert_eq!(
        skopeo_digest(&replica, "3.12-bookworm"),
        before.digest("3.12-bookworm").unwrap()
    );
    assert_eq!(after.digest("3.13-slim"), before.digest("3.13-slim"));

    // Rebuilding everything moves every tag.
    let all = replica.rebuild_all().unwrap();
    assert_eq!(all.moves.len(), all.truth.tags.len());
    assert!(all.moves.iter().all(|m| m.kind == PushReason::Rebuilt));
}

#[test]
fn a_replay_moves_changed_entries_keeps_the_rest_and_leaves_removed_tags_in_place() {
    let (replica, seeded) = Replica::start_seeded(library_file(BEFORE_3_12_14)).unwrap();
    let before = seeded.truth;
    assert_eq!(
        before
            .tag("3.12-slim")
            .unwrap()
            .entry()
            .unwrap()
            .python_version,
        "3.12.13"
    );
    let replayed = replica.replay_file(library_file(WITH_3_12_14)).unwrap();
    let after = &replayed.truth;
    eprintln!(
        "replay: {} entries built, {} moves, {} retained, {:.2?}",
        replayed.stats.entries_built,
        replayed.moves.len(),
        replayed.retained.len(),
        replayed.stats.elapsed
    );

    // Only the 18 entries whose commit changed are built anew.
    assert_eq!(replayed.stats.entries_built, 18);
    let slim = replayed.moved("3.12-slim").unwrap();
    assert_eq!(slim.kind, PushReason::Changed);
    assert_eq!(slim.old_digest.as_deref(), before.digest("3.12-slim"));
    assert_eq!(
        after
            .tag("3.12-slim")
            .unwrap()
            .entry()
            .unwrap()
            .python_version,
        "3.12.14"
    );
    assert_eq!(skopeo_digest(&replica, "3.12-slim"), slim.new_digest);
    assert_eq!(
        replayed.moved("3.12.14-slim").unwrap().kind,
        PushReason::Added
    );

    // Unchanged entries keep their digests.
    assert!(replayed.moved("3.14-slim").is_none());
    assert_eq!(after.digest("3.14-slim"), before.digest("3.14-slim"));
    assert_eq!(
        skopeo_digest(&replica, "3.14-slim"),
        before.digest("3.14-slim").unwrap()
    );

    // Tags that left the file stay where they were.
    assert!(replayed.retained.contains(&"3.12.13-slim".to_owned()));
    let old_tag = after.tag("3.12.13-slim").unwrap();
    assert!(!old_tag.in_file);
    assert_eq!(old_tag.digest, before.digest("3.12.13-slim").unwrap());
    assert_eq!(skopeo_digest(&replica, "3.12.13-slim"), old_tag.digest);

    // Every move is real: skopeo agrees with the ground truth on every moved tag.
    for tag_move in replayed.moves.iter().filter(|m| m.tag.starts_with("3.11")) {
        assert_eq!(
            skopeo_digest(&replica, &tag_move.tag),
            tag_move.new_digest,
            "{}",
            tag_move.tag
        );
    }
}
