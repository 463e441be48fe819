//! A private registry over TLS with its own CA (Debian's docker-registry with `http.tls`, which also speaks HTTP/2):
//! `ca_file` makes it trusted, without it the certificate is refused; what is served equals what was copied in.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pyimage_model::Reference;
use pyimage_registry::{
    ClientOptions, CredentialStore, RegistriesConfig, RegistryClient, RegistryError,
    RegistrySettings, ResolveRequest,
};
use pyimage_testkit::{Replica, newest_library_file};

/// A docker-registry process serving TLS; killed when dropped.
struct TlsRegistry {
    child: Child,
    dir: PathBuf,
    host: String,
}

impl Drop for TlsRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(dir: &Path, args: &[&str]) {
    let output = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it (openssl), then the registry.
fn start_tls_registry() -> TlsRegistry {
    start_tls_registry_with("plain", None)
}

/// The same, named `name` (one directory per registry), with a token realm when given.
fn start_tls_registry_with(name: &str, token_realm: Option<&str>) -> TlsRegistry {
    let dir = std::env::temp_dir().join(format!("pyimage-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    run(
        &dir,
        &[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "certs/ca.crt",
            "-days",
            "1",
            "-subj",
            "/CN=pyimage test CA",
        ],
    );
    run(
        &dir,
        &[
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    run(
        &dir,
        &[
            "openssl",
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "certs/ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "1",
            "-extfile",
            "san.ext",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = format!(
        "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {data}\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n",
        data = dir.join("data").display(),
        cert = dir.join("server.crt").display(),
        key = dir.join("server.key").display(),
    );
    if let Some(realm) = token_realm {
        config.push_str(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: registry.docker.io\n    issuer: pyimage-test\n    rootcertbundle: {bundle}\n",
            bundle = dir.join("certs/ca.crt").display()
        ));
    }
    std::fs::write(dir.join("config.yml"), config).unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(dir.join("config.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry runs (scripts/test installs it)");
    let registry = TlsRegistry {
        child,
        dir,
        host: format!("127.0.0.1:{port}"),
    };
    // Polled until it listens; the ceiling only turns a registry that never starts into a failure.
    let ceiling = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(&registry.host).is_err() {
        assert!(
            Instant::now() < ceiling,
            "the TLS registry did not listen within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    registry
}

fn client(host: &str, ca_file: Option<PathBuf>) -> RegistryClient {
    client_with(host, ca_file, CredentialStore::anonymous())
}

fn client_with(
    host: &str,
    ca_file: Option<PathBuf>,
    credentials: CredentialStore,
) -> RegistryClient {
    let mut config = RegistriesConfig::default();
    config.hosts.insert(
        host.to_owned(),
        RegistrySettings {
            ca_file,
            ..RegistrySettings::default()
        },
    );
    let options = ClientOptions {
        max_retries: 0,
        ..ClientOptions::default()
    };
    RegistryClient::new(config, credentials, options).unwrap()
}

#[test]
fn private_tls_registry_is_trusted_through_ca_file_only() {
    let (replica, _) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let truth = replica.ground_truth().unwrap();
    let registry = start_tls_registry();
    let cert_dir = registry.dir.join("certs");
    // Copy one multi-platform image, byte for byte, with skopeo trusting our CA.
    let output = Command::new("skopeo")
        .args(["copy", "--all", "--src-tls-verify=false"])
        .arg(format!("--dest-cert-dir={}", cert_dir.display()))
        .arg(format!(
            "docker://{}/library/python:3.12-slim",
            replica.host()
        ))
        .arg(format!(
            "docker://{}/library/python:3.12-slim",
            registry.host
        ))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "skopeo copy: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let reference =
        Reference::parse_normalized(&format!("{}/library/python:3.12-slim", registry.host))
            .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let request = ResolveRequest {
        platforms: true,
        ..ResolveRequest::default()
    };
    let trusted = client(&registry.host, Some(cert_dir.join("ca.crt")));
    let resolution = runtime
        .block_on(trusted.resolve(&reference, &request))
        .unwrap();
    assert_eq!(
        resolution.digest.to_string(),
        truth.digest("3.12-slim").unwrap()
    );
    assert_eq!(resolution.registry, format!("https://{}", registry.host));
    assert_eq!(
        resolution.platforms.unwrap().len(),
        truth.tag("3.12-slim").unwrap().images.len()
    );

    // Without the CA the certificate is refused, and the error says so.
    let untrusted = client(&registry.host, None);
    let error = runtime
        .block_on(untrusted.resolve(&reference, &ResolveRequest::default()))
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::Unreachable { .. }),
        "{error}"
    );
    assert!(
        error.to_string().to_lowercase().contains("certificate"),
        "{error}"
    );

    // A CA file that is not PEM is a configuration error naming the file.
    let bogus = registry.dir.join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let error = runtime
        .block_on(
            client(&registry.host, Some(bogus.clone()))
                .resolve(&reference, &ResolveRequest::default()),
        )
        .unwrap_err();
    assert!(error.to_string().contains("bogus.pem"), "{error}");
}

/// Issue 15 #1: an HTTPS registry (not `insecure`) whose challenge names a plain-HTTP token realm must not get the
/// user's Basic credentials sent in clear text there: the token request is refused, naming the realm, and the
/// realm never sees a request.
#[test]
fn https_registry_with_a_plain_http_token_realm_gets_no_credentials() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The "token server": a plain TCP listener that records whether anyone connected.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    let registry = start_tls_registry_with("realm", Some(&realm));
    let config = registry.dir.join("docker-config.json");
    // base64("alice:pa55word-xyz")
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6cGE1NXdvcmQteHl6"}}}}}}"#,
            registry.host
        ),
    )
    .unwrap();
    let reference =
        Reference::parse_normalized(&format!("{}/library/python:3.12-slim", registry.host))
            .unwrap();
    let client = client_with(
        &registry.host,
        Some(registry.dir.join("certs/ca.crt")),
        CredentialStore::from_file(&config),
    );
    let error = runtime
        .block_on(client.resolve(&reference, &ResolveRequest::default()))
        .unwrap_err();
    assert!(matches!(error, RegistryError::Token { .. }), "{error}");
    let shown = error.to_string();
    assert!(shown.contains(&realm), "names the realm: {shown}");
    assert!(shown.contains("plain HTTP"), "{shown}");
    assert!(
        listener.accept().is_err(),
        "the plain-HTTP realm was contacted"
    );
}
