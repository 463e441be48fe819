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
    // The page is not on the admission port: its own listener, and a NetworkPolicy that lets only the namespaces
    // labelled for it reach that port (the admission port stays open to the API server).
    let deployment =
        std::fs::read_to_string(root.join("deploy/kubernetes/deployment.yaml")).unwrap();
    assert!(
        deployment.contains("- --page-listen=0.0.0.0:8080")
            && deployment.contains("containerPort: 8080"),
        "the Deployment serves the page on its own port"
    );
    let policy =
        std::fs::read_to_string(root.join("deploy/kubernetes/networkpolicy.yaml")).unwrap();
    for required in [
        "kind: NetworkPolicy",
        "policyTypes: [\"Ingress\"]",
        "port: 8080",
        "pyimage.dev/drift-page: \"allowed\"",
        "port: 8443",
    ] {
        assert!(
            policy.contains(required),
            "networkpolicy.yaml lacks {required}"
        );
    }
    let kustomization =
        std::fs::read_to_string(root.join("deploy/kubernetes/kustomization.yaml")).unwrap();
    assert!(kustomization.contains("- networkpolicy.yaml"));
}
