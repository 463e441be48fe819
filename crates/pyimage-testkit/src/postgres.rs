//! A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, `initdb` into a temporary directory
//! and `pg_ctl start` on a free 127.0.0.1 port, trust authentication. PostgreSQL refuses to run as root, so as
//! root (CI) every command runs as the `postgres` system user (`runuser -u postgres`), which owns the directory.
//! The handle stops the server (`pg_ctl stop -m immediate`) and removes the directory when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

/// A running throwaway PostgreSQL server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Initializes and starts a server (≈2 s). Fails with what to install when the binaries are missing.
    pub fn start() -> Result<Postgres> {
        let bin = binaries().context(
            "PostgreSQL binaries not found (/usr/lib/postgresql/*/bin): apt-get install postgresql",
        )?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("pyimage-pg-").tempdir()?;
        if as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .context("chown of the PostgreSQL directory")?;
            if !status.success() {
                bail!(
                    "chown postgres {} failed (is there a postgres user?)",
                    dir.path().display()
                );
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let server = Postgres {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "pyimage",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
        )?;
        let options = format!(
            "-p {port} -h 127.0.0.1 -k {} -F -c fsync=off -c max_connections=50",
            server.dir.path().display()
        );
        let log = server.dir.path().join("server.log");
        server.run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                &data,
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
            ],
        )?;
        Ok(server)
    }

    /// The URL of the `postgres` database (`postgres://pyimage@127.0.0.1:PORT/postgres`).
    pub fn url(&self) -> String {
        format!("postgres://pyimage@127.0.0.1:{}/postgres", self.port)
    }

    /// A new empty database on the server, and its URL.
    pub fn database(&self, name: &str) -> Result<String> {
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "pyimage",
                name,
            ],
        )?;
        Ok(format!("postgres://pyimage@127.0.0.1:{}/{name}", self.port))
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .with_context(|| format!("running {}", path.display()))?;
        if !output.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            bail!(
                "{program} {args:?} failed: {}{}\n{log}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", &["stop", "-m", "immediate", "-w", "-D", &data]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The newest `/usr/lib/postgresql/<major>/bin` holding `pg_ctl`.
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).filter(|b| Path::exists(b))
}
