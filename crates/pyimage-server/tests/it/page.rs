//! `GET /`: the drift page without a history store shows what admission decided lately — a denial and an
//! ImageReview — as a self-contained HTML document whose Content-Security-Policy loads nothing.

use crate::support::{PROD_NAMESPACES, served, served_with_store, with_image};

#[tokio::test]
async fn the_page_shows_the_recent_decisions_and_loads_nothing() {
    let server = served(PROD_NAMESPACES, None);
    let denied = server
        .review(
            "/validate",
            &with_image(
                "kube-rs/admission.rs.WEBHOOK_BODY.json",
                "python:3.9-slim",
                "prod-shop",
            ),
        )
        .await;
    assert_eq!(denied["allowed"], false, "{denied}");

    let answer = server.get("/").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        answer.headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    );
    let html = answer.text();
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"),
        "{html}"
    );
    for part in [
        "no history store configured",
        "python:3.9-slim",
        "prod-shop",
    ] {
        assert!(html.contains(part), "{part:?} not on the page:\n{html}");
    }
    // Nothing external: no script, no stylesheet or image from elsewhere.
    assert!(!html.contains("<script src"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
}

/// Records `moves` moves of `repository:tag` in `store`, the newest `seconds_ago` seconds before now.
async fn record_moves(store: &pyimage_store::Store, tag: &str, moves: usize, seconds_ago: u64) {
    let now = pyimage_service::clock::unix_seconds();
    let mut from: Option<String> = None;
    for i in 0..=moves {
        let digest = format!("sha256:{:064x}", i + 1);
        let at = now - seconds_ago - (moves - i) as u64;
        let proposed = pyimage_store::Proposed {
            observation: pyimage_store::Observation {
                repository: "docker.io/library/python".into(),
                tag: tag.into(),
                digest: Some(digest.clone()),
                platforms: None,
                observed_at: pyimage_model::time::rfc3339_utc(at),
                source: "test".into(),
            },
            expected_from: from.clone(),
            kind: if from.is_none() { "new-tag" } else { "rebuild" }.into(),
            python_from: None,
            python_to: None,
            state: serde_json::json!({}),
            changes: serde_json::json!({}),
        };
        store.record(&proposed).await.unwrap();
        from = Some(digest);
    }
}

/// A store of many moves is shown as a bounded page: a window of recent moves, a cap per tag and on tags, and a line
/// saying how to see the rest with `pyimage history`.
#[tokio::test]
async fn the_page_of_a_large_store_is_bounded_and_says_how_to_see_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let url = pyimage_store::StoreUrl::parse(&format!(
        "sqlite:{}",
        dir.path().join("history.db").display()
    ))
    .unwrap();
    let store = pyimage_store::Store::open(&url).await.unwrap();
    record_moves(&store, "3.12-slim", 400, 60).await;
    for i in 0..300 {
        record_moves(&store, &format!("3.{i}-busy"), 1, 3600).await;
    }
    let server = served_with_store(PROD_NAMESPACES, store);
    let answer = server.get("/").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let html = answer.text();
    let rows = html.matches("<tr data-kind=").count();
    let timelines = html.matches("<details><summary>All ").count();
    assert!(
        timelines <= pyimage_server::PAGE_TAGS,
        "{timelines} timelines on the page"
    );
    assert!(
        rows <= pyimage_server::PAGE_TAGS * pyimage_server::PAGE_MOVES_PER_TAG
            && html.matches("python:3.12-slim").count() > 0,
        "{rows} moves on the page"
    );
    let slim = html
        .split("All ")
        .find(|part| {
            part.contains("python:3.12-slim</summary>") || part.contains("of python:3.12-slim")
        })
        .unwrap_or_default();
    assert!(
        slim.matches("<tr data-kind=").count() <= pyimage_server::PAGE_MOVES_PER_TAG,
        "3.12-slim: {} moves",
        slim.matches("<tr data-kind=").count()
    );
    assert!(html.contains("pyimage history"), "no pointer to the rest");
}

/// The page records only reviews shaped like the API server's (a uid, the requesting user, a real operation, not a
/// dry run): an invented review is answered but not shown, so it cannot push real decisions out. And what a
/// namespace or image carries of bidirectional controls is shown escaped, not obeyed by the browser.
#[tokio::test]
async fn only_api_server_shaped_reviews_are_recorded_and_bidi_controls_are_shown_escaped() {
    let server = served(PROD_NAMESPACES, None);
    let real = with_image(
        "kube-rs/admission.rs.WEBHOOK_BODY.json",
        "python:3.9-slim",
        "prod-\u{202e}nimda",
    );
    assert_eq!(server.review("/validate", &real).await["allowed"], false);
    let mut forged = with_image(
        "kube-rs/admission.rs.WEBHOOK_BODY.json",
        "python:3.8-slim",
        "prod-shop",
    );
    forged["request"]
        .as_object_mut()
        .unwrap()
        .remove("userInfo");
    assert_eq!(server.review("/validate", &forged).await["allowed"], false);
    let mut dry_run = with_image(
        "kube-rs/admission.rs.WEBHOOK_BODY.json",
        "python:3.7-slim",
        "prod-shop",
    );
    dry_run["request"]["dryRun"] = true.into();
    assert_eq!(server.review("/validate", &dry_run).await["allowed"], false);

    let html = server.get("/").await.text();
    assert!(html.contains("python:3.9-slim"), "the real review is shown");
    assert!(
        !html.contains("python:3.8-slim"),
        "the invented review is shown"
    );
    assert!(!html.contains("python:3.7-slim"), "the dry run is shown");
    for control in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}',
        '\u{2068}', '\u{2069}',
    ] {
        assert!(!html.contains(control), "{control:?} raw on the page");
    }
    assert!(
        html.contains("prod-\\u{202e}nimda"),
        "the control is shown escaped"
    );
}
