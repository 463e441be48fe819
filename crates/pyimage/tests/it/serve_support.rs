//! What the `pyimage serve` tests share: a running server (the real binary, killed by PID when dropped), a CA and
//! server certificates made with openssl, curl over TLS, the admission payloads of pyimage-server's test data and
//! JSONPatch application.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use crate::support::pyimage;

/// A running `pyimage serve`.
pub struct Server {
    child: Option<Child>,
    /// `https://127.0.0.1:PORT` (or `http://`).
    pub url: String,
    /// The port.
    pub port: u16,
    stderr: Arc<Mutex<String>>,
    /// The thread reading stderr: it ends when the process has exited and its last line is in `stderr`.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `pyimage --config CONFIG serve --listen 127.0.0.1:0 EXTRA…` and waits until it listens.
    pub fn start(config: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = pyimage()
            .config(config)
            .env("PYIMAGE_LOG", "info")
            .command_for_spawn(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pyimage serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("pyimage serve: listening on ") {
                    let _ = tx.send(url.to_owned());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        // A ceiling on waiting for the line, not a claim about start-up speed.
        let Ok(url) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("pyimage serve did not listen:\n{}", log.lock().unwrap());
        };
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        Server {
            child: Some(child),
            url,
            port,
            stderr: log,
            reader: Some(reader),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// The process's peak resident set so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGTERM and waits for the exit and the last line of its log.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let status = child.wait().expect("pyimage serve exits");
        // Its stderr is at its end once the process has exited: the reader has every line when it finishes.
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the stderr reader does not panic");
        }
        (status, self.log())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A CA and a server certificate for 127.0.0.1 / localhost, made by openssl in `dir`.
pub struct Certs {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server key (PEM).
    pub key: PathBuf,
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Certs {
    /// A new CA and a first server certificate.
    pub fn new(dir: &Path) -> Certs {
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=pyimage test CA",
        ]);
        openssl(dir, &args);
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        let certs = Certs {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            dir: dir.to_path_buf(),
        };
        certs.issue("first");
        certs
    }

    /// Issues a server certificate with a new key (`label` names its files) and moves it over `cert`/`key`
    /// (rename: the server never reads a half-written file). Returns the new certificate's SHA-256 fingerprint.
    pub fn issue(&self, label: &str) -> String {
        let (key, csr, pem) = (
            format!("{label}.key"),
            format!("{label}.csr"),
            format!("{label}.pem"),
        );
        openssl(
            &self.dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                "/CN=pyimage serve",
            ],
        );
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                "san.ext",
            ],
        );
        std::fs::rename(self.dir.join(&key), &self.key).unwrap();
        std::fs::rename(self.dir.join(&pem), &self.cert).unwrap();
        fingerprint_of_file(&self.cert)
    }
}

/// The SHA-256 fingerprint of a PEM certificate file.
pub fn fingerprint_of_file(path: &Path) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(path)
        .output()
        .expect("openssl runs");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The fingerprint of the certificate a new TLS connection to `port` is served.
pub fn served_fingerprint(port: u16) -> String {
    let script = format!(
        "openssl s_client -connect 127.0.0.1:{port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
    );
    let output = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("sh runs");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// POSTs `body` with curl (trusting `ca` when given): the HTTP status and the body.
pub fn curl(url: &str, ca: Option<&Path>, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args(["-sS", "--max-time", "20", "-w", "\n%{http_code}", "-H"]);
    command.arg(format!("Content-Type: {content_type}"));
    command.args(["--data-binary", "@-"]);
    if let Some(ca) = ca {
        command.arg("--cacert").arg(ca);
    }
    let mut child = command
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl runs");
    child.stdin.take().unwrap().write_all(body).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("curl {url}: {}", String::from_utf8_lossy(&output.stderr)));
    (code.parse().unwrap_or(0), body.to_owned())
}

/// GETs a path with curl: status and body.
pub fn curl_get(url: &str, ca: Option<&Path>) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args(["-sS", "--max-time", "20", "-w", "\n%{http_code}"]);
    if let Some(ca) = ca {
        command.arg("--cacert").arg(ca);
    }
    let output = command.arg(url).output().expect("curl runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.parse().unwrap_or(0), body.to_owned())
}

/// A payload of pyimage-server's admission test data (tests/data/admission there; SOURCES.md names each source).
pub fn payload(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../pyimage-server/tests/data/admission")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The payload as the API server sends it: a v1 AdmissionReview (bare kubewarden requests are wrapped).
pub fn review(name: &str) -> Value {
    let value = payload(name);
    let request = value.get("request").cloned().unwrap_or(value);
    serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// The response of an AdmissionReview answer.
pub fn response_of(body: &str) -> Value {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(value["apiVersion"], "admission.k8s.io/v1", "{body}");
    assert_eq!(value["kind"], "AdmissionReview", "{body}");
    value["response"].clone()
}

/// Applies a base64 JSONPatch (`response.patch`) to `object` with the json-patch crate.
pub fn apply_patch(object: &mut Value, patch_b64: &str) {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch_b64)
        .unwrap();
    let patch: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
    json_patch::patch(object, &patch).unwrap();
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}
