//! A real Docker engine for tests: Debian's `dockerd` started with every path in a temporary directory, networking
//! off (`bridge: none`, no iptables), optional registry mirrors and insecure registries (see ../shared/INFRA.md).
//!
//! dockerd runs under a small guardian shell: dropping [`Dockerd`] stops it (SIGTERM, then SIGKILL after 20 s),
//! and if the test process dies without dropping it, the guardian notices and stops dockerd too. dockerd stops the
//! containerd it started. Shared by the engine and CLI tests (`#[path]` include).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A running dockerd.
pub struct Dockerd {
    dir: tempfile::TempDir,
    guardian: Option<Child>,
    socket: PathBuf,
}

const GUARDIAN: &str = r#"
config="$1"; log="$2"; parent="$3"
dockerd --config-file "$config" >"$log" 2>&1 &
d=$!
stop() { kill -TERM "$d" 2>/dev/null; i=0; while kill -0 "$d" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.5; i=$((i+1)); done; kill -KILL "$d" 2>/dev/null; wait "$d" 2>/dev/null; exit 0; }
trap stop TERM INT HUP
while kill -0 "$parent" 2>/dev/null && kill -0 "$d" 2>/dev/null; do sleep 0.5 & wait $!; done
stop
"#;

impl Dockerd {
    /// Whether `dockerd` and `docker` are installed.
    pub fn available() -> bool {
        let found = |name: &str| {
            Command::new("sh")
                .args(["-c", &format!("command -v {name}")])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        found("dockerd") && found("docker") && found("containerd")
    }

    /// Starts dockerd. `insecure` are `host:port` registries allowed over plain HTTP, `mirrors` are Docker Hub
    /// mirror URLs (`http://127.0.0.1:PORT`).
    pub fn start(insecure: &[String], mirrors: &[String]) -> Dockerd {
        Dockerd::start_with_tcp(insecure, mirrors, None)
    }

    /// [`Dockerd::start`], also listening on `tcp://127.0.0.1:<port>` when given.
    pub fn start_with_tcp(insecure: &[String], mirrors: &[String], tcp: Option<u16>) -> Dockerd {
        assert!(
            Dockerd::available(),
            "these tests need a Docker engine: apt-get install docker.io (dockerd, containerd, docker)"
        );
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("pyi-dockerd-")
            .tempdir_in("/tmp")
            .expect("temporary directory");
        let root = dir.path();
        let socket = root.join("docker.sock");
        let config = serde_json::json!({
            "data-root": root.join("data"),
            "exec-root": root.join("exec"),
            "pidfile": root.join("docker.pid"),
            "hosts": std::iter::once(format!("unix://{}", socket.display()))
                .chain(tcp.map(|port| format!("tcp://127.0.0.1:{port}")))
                .collect::<Vec<_>>(),
            "iptables": false,
            "ip-forward": false,
            "ip-masq": false,
            "bridge": "none",
            "insecure-registries": insecure,
            "registry-mirrors": mirrors,
            "default-ulimits": {
                "nofile": {"Name": "nofile", "Soft": 1024, "Hard": 1024},
                "nproc": {"Name": "nproc", "Soft": 1024, "Hard": 1024}
            }
        });
        let config_path = root.join("daemon.json");
        std::fs::write(
            &config_path,
            serde_json::to_vec_pretty(&config).expect("json"),
        )
        .expect("write daemon.json");
        let guardian = Command::new("sh")
            .arg("-c")
            .arg(GUARDIAN)
            .arg("guardian")
            .arg(&config_path)
            .arg(root.join("dockerd.log"))
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .spawn()
            .expect("start the dockerd guardian");
        let mut dockerd = Dockerd {
            dir,
            guardian: Some(guardian),
            socket,
        };
        dockerd.wait_ready();
        dockerd
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ping = Command::new("curl")
                .args(["-sf", "--unix-socket"])
                .arg(&self.socket)
                .arg("http://docker/_ping")
                .output();
            if ping.is_ok_and(|o| o.status.success() && o.stdout == b"OK") {
                return;
            }
            if let Some(guardian) = self.guardian.as_mut()
                && let Ok(Some(status)) = guardian.try_wait()
            {
                panic!("dockerd exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer /_ping within 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `unix:///tmp/…/docker.sock`, for `DOCKER_HOST`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The temporary directory (for build contexts and saved files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// dockerd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// Runs the `docker` CLI against this engine.
    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .env("DOCKER_BUILDKIT", "0")
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("docker runs")
    }

    /// Runs `docker` and panics with its output (and dockerd's log) unless it succeeds; returns stdout.
    pub fn docker_ok(&self, args: &[&str]) -> String {
        let output = self.docker(args);
        assert!(
            output.status.success(),
            "docker {args:?} failed: {}\n{}\n--- dockerd log (tail) ---\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            tail(&self.log(), 40)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The PID of dockerd (from its pidfile).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("docker.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops dockerd (and the containerd it started) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut guardian) = self.guardian.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &guardian.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = guardian.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = guardian.kill();
            let _ = guardian.wait();
        }
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
        // Anything still mounted under the data root (overlay layers) would stop the directory's removal.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null",
                self.dir.path().display()
            ))
            .status();
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Whether any process whose command line mentions `needle` is running (for leak checks).
pub fn running(needle: &str) -> Vec<String> {
    let output = Command::new("pgrep").args(["-af", needle]).output();
    match output {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.contains("pgrep"))
            .map(str::to_owned)
            .collect(),
        Err(_) => Vec::new(),
    }
}
