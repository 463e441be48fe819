//! `GET /`: the drift page without a history store shows what admission decided lately — a denial and an
//! ImageReview — as a self-contained HTML document whose Content-Security-Policy loads nothing.

use crate::support::{PROD_NAMESPACES, served, with_image};

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
