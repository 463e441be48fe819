//! Differential check: on every real bundle, and on the wrong identity, issuer and digest cases, pyimage's verdict
//! agrees with `sigstore verify identity --offline` of sigstore-python (PyPI `sigstore`, which `scripts/test`
//! installs under the target directory) given the same trust root (testdata/trust/client-trust-config.json).

use std::path::PathBuf;
use std::process::Command;

use pyimage_trust::psf::{self, Fetched, Identities, PsfVerdict};
use pyimage_trust::root::TrustedRoot;
use pyimage_trust::sigstore::Identity;

use crate::testdata;

/// The sigstore-python release `scripts/test` installs.
const SIGSTORE: &str = "sigstore==4.5.1";

/// `PYIMAGE_SIGSTORE`, else the one `scripts/test` installs under the target directory, else `sigstore` on PATH.
/// None runs: the test fails with the command that installs it.
fn sigstore() -> PathBuf {
    // This test binary is target/<profile>/deps/it-…: the target directory is three levels up.
    let installed = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .map(|target| target.join("tools/sigstore/bin/sigstore"));
    let candidates = std::env::var_os("PYIMAGE_SIGSTORE")
        .map(PathBuf::from)
        .into_iter()
        .chain(installed)
        .chain([PathBuf::from("sigstore")]);
    let mut tried = Vec::new();
    for candidate in candidates {
        if Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate;
        }
        tried.push(candidate.display().to_string());
    }
    panic!(
        "no sigstore CLI runs (tried {}). scripts/test installs it; by hand:\n  \
         python3 -m venv target/tools/sigstore && target/tools/sigstore/bin/pip install {SIGSTORE}\n\
         (or set PYIMAGE_SIGSTORE to a sigstore executable)",
        tried.join(", ")
    );
}

/// One case: a bundle file, the digest asked about, the signer expected.
struct Case {
    bundle: &'static str,
    sha256: &'static str,
    identity: &'static str,
    issuer: &'static str,
}

const GOOGLE: &str = "https://accounts.google.com";
const GITHUB: &str = "https://github.com/login/oauth";

fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = vec![
        // Wrong identity, wrong issuer, wrong digest, the known-bad bundle.
        Case {
            bundle: "psf/bundles/Python-3.14.4.tar.xz.sigstore",
            sha256: "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8",
            identity: "thomas@python.org",
            issuer: GITHUB,
        },
        Case {
            bundle: "psf/bundles/Python-3.14.4.tar.xz.sigstore",
            sha256: "d923c51303e38e249136fc1bdf3568d56ecb03214efdef48516176d3d7faaef8",
            identity: "hugo@python.org",
            issuer: GOOGLE,
        },
        Case {
            bundle: "psf/bundles/Python-3.12.5.tgz.sigstore",
            sha256: "fa8a2e12c5e620b09f53e65bcd87550d2e5a1e2e04bf8ba991dcc55113876397",
            identity: "thomas@python.org",
            issuer: GOOGLE,
        },
        Case {
            bundle: "psf/known-bad/Python-3.12.5.tgz.sigstore",
            sha256: "38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405",
            identity: "thomas@python.org",
            issuer: GOOGLE,
        },
    ];
    // Every python.org bundle with its own digest and signer (bundles.csv).
    let text: &'static str = Box::leak(
        std::fs::read_to_string(testdata("psf/bundles.csv"))
            .unwrap()
            .into_boxed_str(),
    );
    for line in text.lines().skip(1).filter(|l| l.starts_with("bundles/")) {
        let f: Vec<&'static str> = line.split(',').collect();
        let bundle: &'static str = Box::leak(format!("psf/{}", f[0]).into_boxed_str());
        cases.push(Case {
            bundle,
            sha256: f[2],
            identity: f[4],
            issuer: f[5],
        });
    }
    cases
}

fn pyimage_accepts(case: &Case, root: &TrustedRoot) -> PsfVerdict {
    let mut identities = Identities::builtin();
    identities.set(
        "3.12",
        Identity {
            identity: case.identity.to_owned(),
            issuer: case.issuer.to_owned(),
        },
    );
    // The line's signer is the case's signer whatever the version: ask as a 3.12 release of this digest.
    let request = psf::request(Some("3.12.0"), Some(case.sha256), &identities).unwrap();
    psf::judge(
        &request,
        &Fetched::Bundle(std::fs::read(testdata(case.bundle)).unwrap()),
        root,
    )
}

#[test]
fn pyimage_agrees_with_sigstore_python_on_every_bundle() {
    let sigstore = sigstore();
    let root = TrustedRoot::embedded().unwrap();
    let cases = cases();
    assert_eq!(cases.len(), 13);
    // One sigstore process per case, in parallel: each spends most of its second starting Python.
    let outcomes: Vec<(bool, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| {
                let sigstore = &sigstore;
                scope.spawn(move || {
                    let output = Command::new(sigstore)
                        .arg("--trust-config")
                        .arg(testdata("client-trust-config.json"))
                        .args(["verify", "identity", "--offline", "--bundle"])
                        .arg(testdata(case.bundle))
                        .args([
                            "--cert-identity",
                            case.identity,
                            "--cert-oidc-issuer",
                            case.issuer,
                        ])
                        .arg(format!("sha256:{}", case.sha256))
                        .output()
                        .unwrap();
                    (
                        output.status.success(),
                        String::from_utf8_lossy(&output.stderr).into_owned(),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut accepted = 0;
    for (case, (theirs, stderr)) in cases.iter().zip(outcomes) {
        let ours = pyimage_accepts(case, &root);
        let ours_ok = matches!(ours, PsfVerdict::SignedByPsf { .. });
        assert_eq!(
            ours_ok,
            theirs,
            "{} as {} ({}) for {}: pyimage {ours:?}, sigstore-python {}\n{stderr}",
            case.bundle,
            case.identity,
            case.issuer,
            case.sha256,
            if theirs { "OK" } else { "FAIL" }
        );
        accepted += usize::from(ours_ok);
    }
    assert_eq!(
        accepted, 9,
        "the nine python.org bundles verify, the four other cases do not"
    );
}
