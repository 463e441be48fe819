//! `pyimage serve` certificate rotation: the certificate and key are replaced while a connection is open (as
//! cert-manager renews them); new handshakes get the new certificate and the open connection keeps working.

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::serve_support::{Certs, Server, curl_get, served_fingerprint, write};
use crate::support::tempdir;

#[test]
fn a_rotated_certificate_is_served_without_dropping_connections() {
    let dir = tempdir("serve-rotate");
    let certs = Certs::new(dir.path());
    let first = crate::serve_support::fingerprint_of_file(&certs.cert);
    let config = write(dir.path(), "pyimage.toml", "");
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(
        &config,
        &[
            "--tls-cert",
            cert,
            "--tls-key",
            key,
            "--tls-reload-ms",
            "100",
        ],
    );
    assert_eq!(served_fingerprint(server.port), first);
    // One long-lived HTTP/1.1 connection (openssl s_client), used before and after the rotation.
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &format!("127.0.0.1:{}", server.port),
            "-servername",
            "localhost",
        ])
        .arg("-CAfile")
        .arg(&certs.ca)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = client.stdin.take().unwrap();
    let output = client.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut output = output;
        let mut buffer = [0u8; 4096];
        while let Ok(read) = output.read(&mut buffer) {
            if read == 0
                || tx
                    .send(String::from_utf8_lossy(&buffer[..read]).into_owned())
                    .is_err()
            {
                break;
            }
        }
    });
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    // An answer is complete when its body (`ok`, no newline) has arrived after the status line.
    let answered = |rx: &mpsc::Receiver<String>| {
        // A ceiling on waiting for the answer, not a claim about speed.
        let ceiling = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        while Instant::now() < ceiling {
            if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
                seen.push_str(&chunk);
            }
            if seen.contains("HTTP/1.1 200") && seen.ends_with("\r\n\r\nok") {
                return true;
            }
        }
        false
    };
    input.write_all(request).unwrap();
    assert!(answered(&rx), "the first request on the open connection");
    let second = certs.issue("second");
    assert_ne!(second, first);
    // Polled until new handshakes get the new certificate; the ceiling only turns "never" into a failure.
    let ceiling = Instant::now() + Duration::from_secs(60);
    while served_fingerprint(server.port) != second {
        assert!(
            Instant::now() < ceiling,
            "the new certificate was not served within 60 s:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        server.log().contains("TLS certificate reloaded"),
        "{}",
        server.log()
    );
    // The connection opened before the rotation still answers.
    input.write_all(request).unwrap();
    assert!(answered(&rx), "the open connection survived the rotation");
    // New clients verify the new certificate against the same CA.
    assert_eq!(
        curl_get(&format!("{}/healthz", server.url), Some(&certs.ca)),
        (200, "ok".to_owned())
    );
    drop(input);
    let _ = client.kill();
    let _ = client.wait();
}

/// Runs Debian's `hey` (Go 1.19's crypto/tls, the Go of Kubernetes 1.26's API server) against `url`: the status
/// code distribution and error lines it printed.
fn hey(url: &str, extra: &[&str]) -> String {
    let output = Command::new("hey")
        .args(["-n", "4", "-c", "2", "-t", "20"])
        .args(extra)
        .arg(url)
        .output()
        .expect("hey runs (scripts/test installs Debian's hey)");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.split_once("Status code distribution:")
        .map(|(_, tail)| tail.to_owned())
        .unwrap_or(text)
}

#[test]
fn a_go_1_19_tls_client_is_answered_and_a_port_in_its_server_name_is_explained() {
    let dir = tempdir("serve-go-client");
    let certs = Certs::new(dir.path());
    let config = write(dir.path(), "pyimage.toml", "");
    let body = write(
        dir.path(),
        "review.json",
        &crate::serve_support::review("kube-rs/admission.rs.WEBHOOK_BODY.json").to_string(),
    );
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&config, &["--tls-cert", cert, "--tls-key", key]);
    // As the API server connects: the Service's DNS name as the server name, no port in it.
    let answered = hey(
        &format!("{}/validate", server.url),
        &[
            "-host",
            "localhost",
            "-m",
            "POST",
            "-T",
            "application/json",
            "-D",
            body.to_str().unwrap(),
        ],
    );
    assert!(
        answered.contains("[200]\t4 responses"),
        "{answered}\n{}",
        server.log()
    );
    // hey puts the URL's host:port into the TLS server name; RFC 6066 forbids it, rustls refuses the handshake
    // with `illegal_parameter`. The refusal stays (the API server never sends one), but the log must say why.
    let refused = hey(&format!("{}/healthz", server.url), &[]);
    assert!(refused.contains("illegal parameter"), "{refused}");
    let log = server.log();
    assert!(
        log.contains("TLS handshake refused")
            && log.contains("127.0.0.1:")
            && log.contains("not a DNS name"),
        "{log}"
    );
}
