//! The watcher against the local Docker Hub replica and a real SQLite store: what a poll costs (counted at the
//! client and in the token server's log), and every move recorded exactly as the seeder made it — rebuilds with
//! the package diff the replica's SBOMs carry, patch releases with their Python versions, index and platform
//! digests never confused.

use pyimage_model::{Platform, Reference};
use pyimage_policy::sbom::{Change, PackageChange};
use pyimage_service::Resolver;
use pyimage_service::watch::notify::Payload;
use pyimage_service::watch::{Changes, TagState, WatchOptions, Watcher};
use pyimage_store::{Store, StoreUrl};
use pyimage_testkit::{Replica, library_file};

const BEFORE: &str = "2026-08-04T164533-a3abd8e72539.txt";
const AFTER: &str = "2026-08-13T122654-73f6781860cc.txt";
const TAGS: &[&str] = &[
    "3.12-slim",
    "3.12",
    "3.12-alpine",
    "3.13-slim",
    "3.14-slim-bookworm",
];

fn references() -> Vec<Reference> {
    TAGS.iter()
        .map(|t| Reference::parse_normalized(&format!("python:{t}")).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_cost_heads_and_moves_are_recorded_as_the_replica_made_them() {
    let (replica, _) = Replica::start_seeded(library_file(BEFORE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreUrl::sqlite(&dir.path().join("history.db")))
        .await
        .unwrap();
    let watcher = Watcher::new(
        Resolver::new(crate::common::client_for(&replica.registry_url())),
        store.clone(),
        WatchOptions {
            platforms: vec![Platform::parse("linux/amd64").unwrap()],
            source: "test:1".into(),
        },
    );
    let refs = references();
    let stats = || watcher.resolver().client().stats();

    // First poll: every tag is new, read once.
    let first = watcher.poll(&refs).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(first.moves.len(), TAGS.len());
    assert!(
        first
            .moves
            .iter()
            .all(|e| e.kind == "new-tag" && e.seq == 1)
    );

    // A quiet poll: one HEAD per tag, no GET, no new token (the client keeps the repository's token).
    let before = stats();
    let tokens_before = replica.token_server().requests().len();
    let quiet = watcher.poll(&refs).await;
    let after = stats();
    assert_eq!((quiet.unchanged, quiet.moves.len()), (TAGS.len(), 0));
    assert_eq!(
        after.manifest_heads - before.manifest_heads,
        TAGS.len() as u64
    );
    assert_eq!(after.manifest_gets - before.manifest_gets, 0);
    assert_eq!(after.blob_gets - before.blob_gets, 0);
    assert!(replica.token_server().requests().len() - tokens_before <= 1);

    // A Debian rebuild of the 3.12 slim images: only 3.12-slim moves, a rebuild; the others cost a HEAD each.
    let old_truth = replica.ground_truth().unwrap();
    let rebuilt = replica
        .rebuild_where(|e| e.directory == "3.12/slim-trixie")
        .unwrap();
    let before = stats();
    let poll = watcher.poll(&refs).await;
    let after = stats();
    assert!(poll.errors.is_empty(), "{:?}", poll.errors);
    let moved: Vec<&str> = poll.moves.iter().map(|e| e.tag.as_str()).collect();
    assert_eq!(moved, ["3.12-slim"]);
    // GETs only for the moved tag: its index, one attestation manifest, two statements.
    assert_eq!(
        after.manifest_heads - before.manifest_heads,
        TAGS.len() as u64
    );
    assert_eq!(after.manifest_gets - before.manifest_gets, 2);
    assert_eq!(after.blob_gets - before.blob_gets, 2);
    let event = &poll.moves[0];
    let truth_move = rebuilt.moved("3.12-slim").unwrap();
    assert_eq!(event.kind, "rebuild");
    assert_eq!(event.seq, 2);
    assert_eq!(event.from_digest, truth_move.old_digest);
    assert_eq!(
        event.to_digest.as_deref(),
        Some(truth_move.new_digest.as_str())
    );
    let entry = rebuilt
        .truth
        .tag("3.12-slim")
        .unwrap()
        .entry()
        .unwrap()
        .clone();
    assert_eq!(event.python_from.as_deref(), Some("3.12.13"));
    assert_eq!(event.python_to.as_deref(), Some("3.12.13"));
    let state: TagState = serde_json::from_value(event.state.clone()).unwrap();
    // Platform digests are the platform manifests, not the index.
    assert_eq!(
        state.platforms,
        rebuilt.truth.tag("3.12-slim").unwrap().platform_digests()
    );
    assert!(
        !state
            .platforms
            .values()
            .any(|d| Some(d) == event.to_digest.as_ref())
    );
    assert_eq!(
        state.base_digest.as_deref(),
        Some(entry.base_digest.as_str())
    );
    assert_eq!(state.commit.as_deref(), Some(entry.git_commit.as_str()));
    let changes: Changes = serde_json::from_value(event.changes.clone()).unwrap();
    let old_entry = old_truth.tag("3.12-slim").unwrap().entry().unwrap();
    assert_eq!(
        changes
            .base_digest
            .as_ref()
            .map(|c| (c.from.clone(), c.to.clone())),
        Some((
            Some(old_entry.base_digest.clone()),
            Some(entry.base_digest.clone())
        ))
    );
    assert_eq!(changes.commit, None, "a rebuild keeps the commit");
    // The package diff is exactly what the replica's SBOMs changed between the two base epochs, as the testkit writes
    // it down (never computed with the diff under test).
    let expected: Vec<PackageChange> = pyimage_testkit::sbom::FIRST_REBUILD_DEBIAN_SLIM_UPGRADES
        .iter()
        .map(|(name, from, to)| PackageChange {
            name: (*name).to_owned(),
            change: Change::Upgraded,
            from: Some((*from).to_owned()),
            to: Some((*to).to_owned()),
        })
        .collect();
    assert_eq!(changes.packages, expected);
    assert!(
        changes
            .packages
            .iter()
            .all(|c| c.change == Change::Upgraded)
    );
    assert_eq!(changes.packages_platform.as_deref(), Some("linux/amd64"));
    let payload = Payload::of(event);
    assert_eq!(payload.packages, expected);
    assert!(
        payload.text.starts_with("python:3.12-slim rebuild sha256:"),
        "{}",
        payload.text
    );

    // The next official-images file: 3.12.13 → 3.12.14 is a patch move with both Python versions.
    let replayed = replica.replay_file(library_file(AFTER)).unwrap();
    let poll = watcher.poll(&refs).await;
    assert!(poll.errors.is_empty(), "{:?}", poll.errors);
    let slim = poll.moves.iter().find(|e| e.tag == "3.12-slim").unwrap();
    assert_eq!(slim.kind, "patch");
    assert_eq!(
        (slim.python_from.as_deref(), slim.python_to.as_deref()),
        (Some("3.12.13"), Some("3.12.14"))
    );
    assert_eq!(
        slim.to_digest.as_deref(),
        replayed.truth.digest("3.12-slim")
    );
    let changes: Changes = serde_json::from_value(slim.changes.clone()).unwrap();
    assert!(changes.commit.is_some(), "a new Python is a new commit");
    assert!(
        changes
            .packages
            .iter()
            .any(|c| c.name == "python" && c.to.as_deref() == Some("3.12.14")),
        "{:?}",
        changes.packages
    );
    // Every tag that moved in the replica moved in the store, once.
    for tag in TAGS {
        let recorded = poll.moves.iter().filter(|e| e.tag == *tag).count();
        assert_eq!(
            recorded,
            usize::from(replayed.moved(tag).is_some()),
            "{tag}"
        );
    }
    let timeline = store
        .timeline("docker.io/library/python", "3.12-slim", None)
        .await
        .unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["new-tag", "rebuild", "patch"]);
}
