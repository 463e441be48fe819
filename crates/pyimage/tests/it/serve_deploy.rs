//! The files that deploy `pyimage serve`: the repository's Dockerfile passes `pyimage check --env prod`, and so do
//! the Kubernetes manifests of `deploy/kubernetes/` (their own image included).

use std::path::Path;

use crate::support::{pyimage, stderr, stdout};

#[test]
fn the_dockerfile_and_the_deploy_manifests_pass_check_in_prod() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = pyimage().today().current_dir(&root).run(&[
        "check",
        "--env",
        "prod",
        "Dockerfile",
        "deploy/kubernetes",
    ]);
    assert!(output.status.success(), "{}", stdout(&output));
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(text.contains("0 denied, 0 warnings"), "{text}");
    let webhooks = std::fs::read_to_string(root.join("deploy/kubernetes/webhooks.yaml")).unwrap();
    for required in [
        "cert-manager.io/inject-ca-from: pyimage-system/pyimage-serving",
        "sideEffects: None",
        "admissionReviewVersions: [\"v1\"]",
        "pods/ephemeralcontainers",
        "values: [\"kube-system\", \"pyimage-system\"]",
        "timeoutSeconds:",
        "failurePolicy:",
    ] {
        assert!(
            webhooks.contains(required),
            "webhooks.yaml lacks {required}"
        );
    }
}
