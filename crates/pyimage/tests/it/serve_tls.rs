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
