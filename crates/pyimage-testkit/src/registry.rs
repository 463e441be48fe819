//! A running `docker-registry` (the CNCF distribution registry 2.8 Debian ships), on a free 127.0.0.1 port, with
//! its storage in a temporary directory. Dropping the handle kills the process (by PID) and removes the directory.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tempfile::TempDir;

/// The registry program; override with `PYIMAGE_TESTKIT_REGISTRY`.
const DEFAULT_PROGRAM: &str = "docker-registry";
/// How long a registry may take to answer `GET /v2/`.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a registry may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The shell script that runs the registry (`$0 serve $1`, log in `$2`, directory `$3`) and stops it — by PID —
/// as soon as its stdin reaches end of file: when the handle is dropped, and also when the test process exits
/// without dropping it (a replica in a `static`) or is killed. Then it removes the directory. It prints the
/// registry's PID first.
const GUARDIAN: &str = r#"
"$0" serve "$1" </dev/null >>"$2" 2>&1 &
registry=$!
echo "$registry"
exec 1>/dev/null
exec 3<&0 0</dev/null
( while IFS= read -r _ <&3; do :; done; kill "$registry" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$registry"
status=$?
kill "$watcher" 2>/dev/null
rm -rf "$3"
exit "$status"
"#;

/// Docker Hub-style token authentication for a registry.
#[derive(Debug, Clone)]
pub struct TokenAuth {
    /// Token endpoint (`http://127.0.0.1:PORT/token`).
    pub realm: String,
    /// Service name tokens are issued for (`registry.docker.io`).
    pub service: String,
    /// `iss` of the tokens.
    pub issuer: String,
    /// PEM of the certificate whose key signs tokens.
    pub root_cert_pem: String,
}

/// A running registry process.
#[derive(Debug)]
pub struct RegistryProcess {
    /// The shell that runs the registry and stops it when `lifeline` closes.
    guardian: Child,
    /// The write end of the guardian's stdin: closed on Drop, or by the kernel when this process exits.
    lifeline: Option<ChildStdin>,
    /// The registry's PID.
    pid: u32,
    addr: SocketAddr,
    auth: Option<TokenAuth>,
    dir: TempDir,
}

impl RegistryProcess {
    /// Starts a registry with no authentication (a private registry or a pull-through mirror's storage).
    pub fn start_plain() -> Result<Self> {
        Self::start(None)
    }

    /// Starts a registry that trusts tokens signed by `auth.root_cert_pem`, as Docker Hub's registry does.
    pub fn start_with_token_auth(auth: TokenAuth) -> Result<Self> {
        Self::start(Some(auth))
    }

    fn start(auth: Option<TokenAuth>) -> Result<Self> {
        let mut last_error = None;
        // A port found free can be taken by someone else before the registry binds it: try a few.
        for _ in 0..5 {
            match Self::try_start(auth.clone()) {
                Ok(registry) => return Ok(registry),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("registry did not start")))
    }

    fn try_start(auth: Option<TokenAuth>) -> Result<Self> {
        let dir = temporary_dir()?;
        let port = free_port()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config_yaml(dir.path(), addr, auth.as_ref())?)
            .context("writing the registry config")?;
        if let Some(auth) = &auth {
            std::fs::write(dir.path().join("token.crt"), &auth.root_cert_pem)
                .context("writing the token certificate")?;
        }
        let log_path = dir.path().join("registry.log");
        let log = std::fs::File::create(&log_path).context("creating the registry log")?;
        let program =
            std::env::var_os("PYIMAGE_TESTKIT_REGISTRY").unwrap_or_else(|| DEFAULT_PROGRAM.into());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(GUARDIAN)
            .arg(&program)
            .arg(&config_path)
            .arg(&log_path)
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting sh to run the registry")?;
        let lifeline = child.stdin.take();
        let mut pid_line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut pid_line)
                .context("reading the registry's PID")?;
        }
        let pid = pid_line.trim().parse().with_context(|| {
            format!(
                "starting {} (install Debian's docker-registry package)",
                Path::new(&program).display()
            )
        })?;
        let mut registry = RegistryProcess {
            guardian: child,
            lifeline,
            pid,
            addr,
            auth,
            dir,
        };
        registry.wait_ready()?;
        Ok(registry)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .guardian
                .try_wait()
                .context("waiting for the registry")?
            {
                bail!(
                    "docker-registry exited with {status} before it was ready:\n{}",
                    self.log()
                );
            }
            if let Ok(status) = http_status(self.addr, "/v2/")
                && (status == 200 || status == 401)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "docker-registry did not answer GET /v2/ within {READY_TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT`, the registry part of an image reference.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The token authentication it enforces, if any.
    pub fn token_auth(&self) -> Option<&TokenAuth> {
        self.auth.as_ref()
    }

    /// Its temporary directory (config, `token.crt`, `registry.log`, `data/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `manifest` (exact bytes) into the registry's filesystem storage as `repository:tag`, laid out as the
    /// distribution registry lays out what it accepted (`blobs/sha256/<ab>/<hex>/data`, the repository's revision
    /// and tag links); returns its digest. For real manifests whose layers are not available — a signed image of
    /// a published fixture — which a push would refuse (`MANIFEST_BLOB_UNKNOWN`): the registry then serves them by
    /// tag and digest like any other manifest. Pushing is the way for everything else.
    pub fn place_manifest(&self, repository: &str, tag: &str, manifest: &[u8]) -> Result<String> {
        use sha2::Digest as _;
        let hex: String = sha2::Sha256::digest(manifest)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let digest = format!("sha256:{hex}");
        let root = self.dir.path().join("data/docker/registry/v2");
        let write = |path: PathBuf, bytes: &[u8]| -> Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
        };
        write(
            root.join(format!("blobs/sha256/{}/{hex}/data", &hex[..2])),
            manifest,
        )?;
        let manifests = root.join(format!("repositories/{repository}/_manifests"));
        write(
            manifests.join(format!("revisions/sha256/{hex}/link")),
            digest.as_bytes(),
        )?;
        write(
            manifests.join(format!("tags/{tag}/current/link")),
            digest.as_bytes(),
        )?;
        write(
            manifests.join(format!("tags/{tag}/index/sha256/{hex}/link")),
            digest.as_bytes(),
        )?;
        Ok(digest)
    }

    /// The path of its log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        // Closing the lifeline makes the guardian kill the registry (by PID), wait for it and remove the
        // directory. Should it not exit in time, kill the registry and the guardian outright.
        drop(self.lifeline.take());
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.guardian.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &self.pid.to_string()])
            .status();
        let _ = self.guardian.kill();
        let _ = self.guardian.wait();
    }
}

/// A temporary directory for a registry, in memory (`/dev/shm`) when the machine has it: registry storage on a
/// disk makes seeding about twice as slow. `PYIMAGE_TESTKIT_TMPDIR` overrides the place.
fn temporary_dir() -> Result<TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("pyimage-testkit-registry-");
    let place = std::env::var_os("PYIMAGE_TESTKIT_TMPDIR")
        .map(PathBuf::from)
        .or_else(|| {
            let shm = Path::new("/dev/shm");
            shm.is_dir().then(|| shm.to_path_buf())
        });
    if let Some(place) = place
        && let Ok(dir) = builder.tempdir_in(&place)
    {
        return Ok(dir);
    }
    builder
        .tempdir()
        .context("creating the registry's temporary directory")
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

fn config_yaml(dir: &Path, addr: SocketAddr, auth: Option<&TokenAuth>) -> Result<String> {
    let quote = |text: &str| serde_json::to_string(text).context("quoting a config value");
    let data = dir.join("data");
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n  \
         cache:\n    blobdescriptor: inmemory\n  maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: {}\n  secret: pyimage-testkit\n",
        quote(&data.to_string_lossy())?,
        quote(&addr.to_string())?,
    );
    if let Some(auth) = auth {
        yaml.push_str(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            quote(&auth.realm)?,
            quote(&auth.service)?,
            quote(&auth.issuer)?,
            quote(&dir.join("token.crt").to_string_lossy())?,
        ));
    }
    Ok(yaml)
}

/// The status code of a plain HTTP/1.0 GET (enough to probe readiness without a runtime).
fn http_status(addr: SocketAddr, path: &str) -> Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])?.parse()?;
    Ok(status)
}
