//! The pin and update planners against the local Docker Hub replica (Debian's docker-registry with token auth,
//! seeded from an official-images `library/python` file): what they plan is compared with the seeder's ground
//! truth, what they ask is counted at the client, and the error kinds of a missing tag and a dead registry are
//! checked — without any front end in between.

use pyimage_model::lock::Lock;
use pyimage_policy::check::policy::UpdatePolicy;
use pyimage_policy::check::{FileKind, Policy};
use pyimage_policy::moves::MoveKind;
use pyimage_registry::ClientOptions;
use pyimage_service::pin::{PinOptions, plan_pin};
use pyimage_service::update::{Controls, FileEnvironment, UpdatePlan, plan_update};
use pyimage_service::{ErrorKind, Resolver, SourceText};
use pyimage_testkit::{Replica, newest_library_file};

const NOW: &str = "2026-11-30T12:00:00Z";

fn dockerfile(shown: &str, text: &str) -> SourceText {
    SourceText {
        shown: shown.to_owned(),
        kind: FileKind::Dockerfile,
        text: text.to_owned(),
        variables: Default::default(),
    }
}

/// `plan_update` under the built-in policy, run to completion.
fn update(
    runtime: &tokio::runtime::Runtime,
    resolver: &Resolver,
    sources: &[(SourceText, FileEnvironment)],
    lock: &Lock,
) -> UpdatePlan {
    runtime.block_on(plan_update(
        resolver,
        sources,
        lock.clone(),
        &Policy::default(),
        &Default::default(),
        NOW,
        &Controls::default(),
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn pin_then_update_follow_the_registry_and_ask_only_what_they_must() {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let truth = &seeded.truth;
    let floating = truth.digest("3.12-slim").unwrap().to_owned();
    let exact_tag = truth
        .tag("3.12-slim")
        .and_then(|t| t.entry())
        .map(|e| e.most_specific_tag.clone())
        .unwrap();
    let runtime = runtime();
    let resolver = Resolver::new(crate::common::client_for(&replica.registry_url()));

    // Pin: two files naming the same reference, one naming an exact tag, one naming a tag that does not exist.
    let sources = vec![
        dockerfile(
            "a/Dockerfile",
            "FROM python:3.12-slim AS build\nFROM python:3.12-slim\n",
        ),
        dockerfile(
            "b/Dockerfile",
            &format!("FROM python:3.12-slim\nFROM python:{exact_tag}\nFROM python:no-such-tag\n"),
        ),
    ];
    let plan = runtime.block_on(plan_pin(
        &resolver,
        &sources,
        Lock::default(),
        &PinOptions::default(),
        NOW,
    ));
    assert_eq!(plan.rewrites.len(), 2);
    assert!(
        plan.rewrites[0]
            .new_text
            .contains(&format!("FROM python:3.12-slim@{floating} AS build\n")),
        "{}",
        plan.rewrites[0].new_text
    );
    let exact_digest = truth.digest(&exact_tag).unwrap();
    assert!(
        plan.rewrites[1]
            .new_text
            .contains(&format!("FROM python:{exact_tag}@{exact_digest}\n"))
    );
    // The missing tag is the user's problem (exit 2), reported on its line, and the rest is still pinned.
    assert_eq!(plan.failure, Some(ErrorKind::Input));
    assert_eq!(plan.skipped.len(), 1, "{:?}", plan.skipped);
    assert_eq!(plan.skipped[0].line, 3);
    let entry = plan.lock.get("python:3.12-slim").unwrap();
    assert_eq!(entry.digest, floating);
    let expected_python = truth
        .tag("3.12-slim")
        .unwrap()
        .entry()
        .unwrap()
        .python_version
        .clone();
    assert_eq!(entry.python.as_deref(), Some(expected_python.as_str()));
    assert_eq!(entry.resolved_at, NOW);
    assert_eq!(
        entry.platforms.len(),
        truth.tag("3.12-slim").unwrap().platform_digests().len()
    );

    // Update right after pin: nothing moved, and finding that out costs no manifest GET.
    let pinned: Vec<(SourceText, FileEnvironment)> = plan
        .rewrites
        .iter()
        .map(|rewrite| {
            let mut source = sources[rewrite.index].clone();
            source.text = rewrite.new_text.clone();
            let environment = FileEnvironment {
                name: "prod".to_owned(),
                update: UpdatePolicy::Digest,
                cooldown: None,
                promotion: None,
            };
            (source, environment)
        })
        .collect();
    let before = resolver.client().stats();
    let quiet = update(&runtime, &resolver, &pinned, &plan.lock);
    let after = resolver.client().stats();
    assert!(quiet.rewrites.is_empty(), "{:?}", quiet.rewrites);
    assert_eq!(quiet.failure, None, "{:?}", quiet.errors);
    assert_eq!(after.manifest_gets, before.manifest_gets);

    // A Debian security rebuild of the 3.12 slim images: prod (update = "digest") moves the digests, an
    // environment with update = "none" holds them.
    let advance = replica
        .rebuild_where(|entry| entry.tags.iter().any(|t| t == "3.12-slim"))
        .unwrap();
    let rebuilt = advance.truth.digest("3.12-slim").unwrap().to_owned();
    assert_ne!(rebuilt, floating);
    let resolver = Resolver::new(crate::common::client_for(&replica.registry_url()));
    let moved = update(&runtime, &resolver, &pinned, &plan.lock);
    assert_eq!(moved.failure, None, "{:?}", moved.errors);
    let changes: Vec<_> = moved.rewrites.iter().flat_map(|r| &r.changes).collect();
    assert!(!changes.is_empty());
    for change in &changes {
        assert_eq!(change.kind, MoveKind::Rebuild, "{change:?}");
        assert_eq!(change.old_python, change.new_python);
    }
    assert!(
        moved.rewrites[0]
            .new_text
            .contains(&format!("python:3.12-slim@{rebuilt}"))
    );
    assert_eq!(moved.lock.get("python:3.12-slim").unwrap().digest, rebuilt);
    let held: Vec<(SourceText, FileEnvironment)> = pinned
        .iter()
        .map(|(source, _)| {
            let environment = FileEnvironment {
                name: "frozen".to_owned(),
                update: UpdatePolicy::None,
                cooldown: None,
                promotion: None,
            };
            (source.clone(), environment)
        })
        .collect();
    let frozen = update(&runtime, &resolver, &held, &plan.lock);
    assert!(frozen.rewrites.is_empty());
}

#[test]
fn a_registry_nobody_answers_at_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let options = ClientOptions {
        max_retries: 0,
        ..ClientOptions::default()
    };
    let client = crate::common::client_with(&format!("http://127.0.0.1:{port}"), options);
    let resolver = Resolver::new(client);
    let sources = vec![dockerfile("Dockerfile", "FROM python:3.12-slim\n")];
    let plan = runtime().block_on(plan_pin(
        &resolver,
        &sources,
        Lock::default(),
        &PinOptions::default(),
        NOW,
    ));
    assert!(plan.rewrites.is_empty());
    assert_eq!(plan.failure, Some(ErrorKind::Unreachable));
    assert_eq!(plan.failure, Some(ErrorKind::Unreachable));
}

/// `pin --platform linux/arm64` pins one platform's manifest; `update` keeps it a platform pin: nothing moves while
/// the tag stands still, and a rebuild moves it to the new arm64 manifest — never to the index digest.
#[test]
fn a_platform_pin_stays_a_platform_pin_through_update() {
    let (replica, seeded) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let arm64 = seeded.truth.tag("3.12-slim").unwrap().platform_digests()["linux/arm64/v8"].clone();
    let runtime = runtime();
    let resolver = Resolver::new(crate::common::client_for(&replica.registry_url()));
    let sources = vec![dockerfile("Dockerfile", "FROM python:3.12-slim\n")];
    let options = PinOptions {
        platform: pyimage_model::Platform::parse("linux/arm64"),
        ..PinOptions::default()
    };
    let plan = runtime.block_on(plan_pin(
        &resolver,
        &sources,
        Lock::default(),
        &options,
        NOW,
    ));
    assert_eq!(
        plan.rewrites[0].new_text,
        format!("FROM python:3.12-slim@{arm64}\n")
    );
    let pinned = vec![(
        dockerfile("Dockerfile", &plan.rewrites[0].new_text),
        FileEnvironment {
            name: "prod".to_owned(),
            update: UpdatePolicy::Digest,
            cooldown: None,
            promotion: None,
        },
    )];
    let quiet = update(&runtime, &resolver, &pinned, &plan.lock);
    assert!(quiet.rewrites.is_empty(), "{:?}", quiet.rewrites);
    let advance = replica
        .rebuild_where(|entry| entry.tags.iter().any(|t| t == "3.12-slim"))
        .unwrap();
    let rebuilt =
        advance.truth.tag("3.12-slim").unwrap().platform_digests()["linux/arm64/v8"].clone();
    assert_ne!(rebuilt, arm64);
    let resolver = Resolver::new(crate::common::client_for(&replica.registry_url()));
    let moved = update(&runtime, &resolver, &pinned, &plan.lock);
    assert_eq!(moved.failure, None, "{:?}", moved.errors);
    assert_eq!(
        moved.rewrites[0].new_text,
        format!("FROM python:3.12-slim@{rebuilt}\n")
    );
    assert_eq!(moved.lock.get("python:3.12-slim").unwrap().digest, rebuilt);
}
