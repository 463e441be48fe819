//! `pyimage serve` under the attacks of issue 23, as the real binary with the shipped Deployment's memory limit
//! (128 MiB) as the ceiling of its peak resident set: request bodies that stop just short of their end, one HTTP/2
//! connection carrying many such streams, and thousands of connections that never finish a TLS handshake.
//! After each attack the server still answers.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;

use crate::serve_support::{Certs, Server, curl_get, write};
use crate::support::tempdir;

/// The shipped Deployment's memory limit (deploy/kubernetes/deployment.yaml), in KiB.
const DEPLOYMENT_LIMIT_KIB: u64 = 128 * 1024;
/// A body just under the 8 MiB cap, of which all but the last bytes are sent.
const ALMOST_MAX: usize = 8 * 1024 * 1024 - 1024;
const SENT: usize = ALMOST_MAX - 16;

/// Asserts the peak resident set is under the Deployment's limit, then ends the attack (`held`, the attacker's
/// connections) and asserts the server answers again.
fn assert_under_limit<T>(server: &Server, ca: Option<&Path>, attack: &str, held: T) {
    let peak = server.peak_rss_kib();
    eprintln!("{attack}: peak RSS {peak} KiB");
    assert!(
        peak < DEPLOYMENT_LIMIT_KIB,
        "{attack}: peak RSS {peak} KiB, over the Deployment's 128 MiB"
    );
    drop(held);
    // The server notices the closed connections as it reads them; polled, with a ceiling that turns "never" into a
    // failure.
    let url = format!("{}/healthz", server.url);
    let ceiling = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, _) = curl_get(&url, ca);
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < ceiling,
            "{attack}: the server does not answer after the attack:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn forty_unfinished_bodies_stay_under_the_deployment_memory_limit() {
    let dir = tempdir("serve-slow-bodies");
    let config = write(dir.path(), "pyimage.toml", "");
    let server = Server::start(&config, &[]);
    let port = server.port;
    let chunk = vec![b' '; SENT];
    // Each connection sends its headers and all but the last 16 bytes of its body, then stays open.
    let held: Vec<TcpStream> = std::thread::scope(|scope| {
        let senders: Vec<_> = (0..40)
            .map(|_| {
                let chunk = &chunk;
                scope.spawn(move || {
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                    let head = format!(
                        "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {ALMOST_MAX}\r\n\r\n"
                    );
                    // The server may answer early (503) and close: that is a refusal, not a failure.
                    let _ = stream
                        .write_all(head.as_bytes())
                        .and_then(|()| stream.write_all(chunk));
                    stream
                })
            })
            .collect();
        senders.into_iter().map(|s| s.join().unwrap()).collect()
    });
    assert_under_limit(&server, None, "40 unfinished 8 MiB bodies", held);
}

#[test]
fn one_http2_connection_with_forty_unfinished_streams_stays_under_the_deployment_memory_limit() {
    let dir = tempdir("serve-h2-streams");
    let config = write(dir.path(), "pyimage.toml", "");
    let server = Server::start(&config, &[]);
    let port = server.port;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let held = runtime.block_on(async move {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (client, connection) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(connection);
        let chunk = bytes::Bytes::from(vec![b' '; SENT]);
        let mut held = Vec::new();
        let mut answers = Vec::new();
        for _ in 0..40 {
            let request = http::Request::post("http://127.0.0.1/validate")
                .header("content-type", "application/json")
                .header("content-length", ALMOST_MAX.to_string())
                .body(())
                .unwrap();
            // Past the server's stream limit the client queues the stream until one ends.
            let mut client = client.clone();
            let Ok(()) = futures_ready(&mut client).await else {
                break;
            };
            let Ok((answer, mut body)) = client.send_request(request, false) else {
                break;
            };
            // Queued by the client, sent as the server's flow-control windows allow.
            let _ = body.send_data(chunk.clone(), false);
            held.push(body);
            answers.push(answer);
        }
        // Every stream has either been refused or is held open, its body unfinished: wait for the refusals (a
        // stream still open has no answer; the ceiling turns a server that reads everything into a failure below).
        let mut refused = 0;
        for answer in answers {
            if let Ok(Ok(response)) =
                tokio::time::timeout(std::time::Duration::from_millis(500), answer).await
            {
                assert_ne!(response.status(), 200);
                refused += 1;
            }
        }
        (held, refused)
    });
    eprintln!("HTTP/2: {} streams refused", held.1);
    assert_under_limit(
        &server,
        None,
        "one HTTP/2 connection, 40 unfinished 8 MiB streams",
        (held, runtime),
    );
}

/// Waits until the connection may open another stream.
async fn futures_ready(
    client: &mut h2::client::SendRequest<bytes::Bytes>,
) -> Result<(), h2::Error> {
    std::future::poll_fn(|cx| client.poll_ready(cx)).await
}

#[test]
fn four_thousand_unfinished_tls_handshakes_stay_under_the_deployment_memory_limit() {
    let dir = tempdir("serve-trickle");
    let certs = Certs::new(dir.path());
    let config = write(dir.path(), "pyimage.toml", "");
    let (cert, key) = (certs.cert.to_str().unwrap(), certs.key.to_str().unwrap());
    let server = Server::start(&config, &["--tls-cert", cert, "--tls-key", key]);
    let port = server.port;
    // The first bytes of a TLS record carrying a ClientHello, then nothing.
    let mut held = Vec::new();
    for _ in 0..4000 {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
            break;
        };
        let _ = stream.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]);
        held.push(stream);
    }
    assert_under_limit(
        &server,
        Some(&certs.ca),
        "4,000 unfinished TLS handshakes",
        held,
    );
}

#[test]
fn four_thousand_unfinished_request_headers_stay_under_the_deployment_memory_limit() {
    let dir = tempdir("serve-headers");
    let config = write(dir.path(), "pyimage.toml", "");
    let server = Server::start(&config, &[]);
    // Each connection sends a request line and 60 KB of one header that never ends.
    let mut head = b"POST /validate HTTP/1.1\r\nHost: x\r\nX-Trickle: ".to_vec();
    head.resize(60 * 1024, b'a');
    let mut held = Vec::new();
    for _ in 0..4000 {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", server.port)) else {
            break;
        };
        // Refused connections (the limit) close: that is the defence, not a failure.
        let _ = stream.set_nonblocking(true);
        let _ = stream.write(&head);
        held.push(stream);
    }
    assert_under_limit(&server, None, "4,000 unfinished request headers", held);
}

#[test]
fn one_client_address_cannot_hold_every_connection() {
    let dir = tempdir("serve-per-client");
    let config = write(dir.path(), "pyimage.toml", "");
    let server = Server::start(&config, &[]);
    // 600 idle connections from 127.0.0.1, more than the listener's 512: each is counted from its accept until the
    // first-request time (10 s) ends it.
    let mut held = Vec::new();
    for _ in 0..600 {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", server.port)) else {
            break;
        };
        held.push(stream);
    }
    // Another client (the API server) connecting from another address is still served.
    let other = std::process::Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            "--interface",
            "127.0.0.2",
            "-o",
            "/dev/null",
        ])
        .args(["-w", "%{http_code}"])
        .arg(format!("{}/healthz", server.url))
        .output()
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&other.stdout),
        "200",
        "a request from 127.0.0.2 while 127.0.0.1 holds 600 connections: {}\n{}",
        String::from_utf8_lossy(&other.stderr),
        server.log()
    );
    // The address holding its share is turned away.
    let (status, _) = curl_get(&format!("{}/healthz", server.url), None);
    assert_eq!(status, 0, "a further connection from 127.0.0.1 is closed");
    assert!(
        server.log().contains("from one client address"),
        "the per-client limit is logged:\n{}",
        server.log()
    );
    drop(held);
}
