//! Health, readiness and metrics, and the bodies the webhook refuses: a wrong content type (415), malformed and
//! wrong-kind reviews on every admission endpoint (400, counted, the server still healthy), and a body over the
//! cap (413).

use crate::support::{PROD_NAMESPACES, not_ready, served};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let starting = not_ready(PROD_NAMESPACES, None);
    assert_eq!(starting.get("/healthz").await.text(), "ok");
    let answer = starting.get("/readyz").await;
    assert_eq!(
        (answer.status.as_u16(), answer.text().as_str()),
        (503, "starting")
    );

    let server = served(PROD_NAMESPACES, None);
    let answer = server.get("/healthz").await;
    assert_eq!(
        (answer.status.as_u16(), answer.text().as_str()),
        (200, "ok")
    );
    let answer = server.get("/readyz").await;
    assert_eq!(
        (answer.status.as_u16(), answer.text().as_str()),
        (200, "ready")
    );
    let answer = server.get("/metrics").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.headers["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = answer.text();
    // Families without labels are there from the start; labelled ones appear with their first request.
    for family in [
        "# TYPE pyimage_break_glass counter",
        "pyimage_break_glass_total 0",
        "pyimage_digest_cache_hits_total 0",
        "# EOF",
    ] {
        assert!(text.contains(family), "{family:?} not in:\n{text}");
    }
    // Only the listed routes: anything else is 404, a GET of an admission endpoint is 405.
    assert_eq!(server.get("/nothing-here").await.status, 404);
    assert_eq!(server.get("/validate").await.status, 405);
    let answer = server
        .send(
            "POST",
            "/validate",
            "application/json",
            crate::support::review("kube-rs/admission.rs.WEBHOOK_BODY.json")
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(answer.status, 200);
    let text = server.metrics().await;
    for sample in [
        "pyimage_admission_requests_total{endpoint=\"validate\",decision=\"allow\"} 1",
        "pyimage_admission_review_duration_seconds_count{endpoint=\"validate\"} 1",
    ] {
        assert!(text.contains(sample), "{sample:?} not in:\n{text}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_refused_counted_and_leave_the_server_healthy() {
    let server = served(PROD_NAMESPACES, None);
    // Every admission endpoint, five kinds of bad body each: not JSON, a review with a non-object request, bytes
    // that are not UTF-8, a JSON array, and a review without a request.
    let bodies: [&[u8]; 5] = [
        b"{",
        b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":7}}",
        &[0xff, 0xfe, 0x00],
        b"[]",
        b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":null}",
    ];
    let mut refused = 0;
    for endpoint in ["/validate", "/mutate", "/imagepolicy", "/validate/prod"] {
        for body in bodies {
            let answer = server
                .send("POST", endpoint, "application/json", body.to_vec())
                .await;
            assert_eq!(
                answer.status,
                400,
                "{endpoint} {:?}: {}",
                String::from_utf8_lossy(body),
                answer.text()
            );
            refused += 1;
        }
    }
    // A review of another version or kind is not ours.
    for (endpoint, body) in [
        (
            "/validate",
            "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"x\"}}",
        ),
        (
            "/imagepolicy",
            "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"spec\":{}}",
        ),
    ] {
        let answer = server
            .send(
                "POST",
                endpoint,
                "application/json",
                body.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(answer.status, 400, "{endpoint}: {}", answer.text());
        assert!(answer.text().contains("expected"), "{}", answer.text());
        refused += 1;
    }
    // Not JSON by its content type: 415.
    for endpoint in ["/validate", "/mutate", "/imagepolicy"] {
        let answer = server
            .send("POST", endpoint, "text/plain", b"{}".to_vec())
            .await;
        assert_eq!(answer.status, 415, "{endpoint}: {}", answer.text());
    }
    let answer = server.send("POST", "/validate", "", b"{}".to_vec()).await;
    assert_eq!(answer.status, 415, "no content type: {}", answer.text());
    // `application/json; charset=utf-8` is JSON.
    let answer = server
        .send(
            "POST",
            "/validate",
            "application/json; charset=utf-8",
            b"[]".to_vec(),
        )
        .await;
    assert_eq!(answer.status, 400);
    refused += 1;

    assert_eq!(server.get("/healthz").await.status, 200);
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(&format!(
            "pyimage_errors_total{{kind=\"malformed\"}} {refused}"
        )),
        "{refused} malformed:\n{metrics}"
    );
    assert!(
        metrics.contains("pyimage_errors_total{kind=\"content-type\"} 4"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_and_one_at_the_cap_is_read() {
    let server = served(PROD_NAMESPACES, None);
    let over = vec![b' '; pyimage_server::MAX_BODY + 1];
    let answer = server
        .send("POST", "/validate", "application/json", over)
        .await;
    assert_eq!(answer.status, 413, "{}", answer.text());
    // At the cap the body is read (and, being only spaces, is malformed JSON).
    let at = vec![b' '; pyimage_server::MAX_BODY];
    let answer = server.send("POST", "/mutate", "application/json", at).await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert_eq!(server.get("/healthz").await.status, 200);
}
