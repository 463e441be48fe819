//! The pure crates — pyimage-model, pyimage-locate, pyimage-policy — must
//! stay free of I/O. Each crate's clippy.toml forbids the std entry points; this one test, for all of them, also
//! catches what clippy cannot see: `use` of I/O modules (whose functions might be called through a re-export or
//! alias) and dependencies that bring an I/O runtime.
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::expect_used,
    clippy::unwrap_used
)]

use std::fs;
use std::path::{Path, PathBuf};

/// Paths whose mere mention in library code means I/O.
const FORBIDDEN_PATHS: &[&str] = &[
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "std::time::SystemTime",
    "std::time::Instant",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "std::thread::spawn",
    "tokio::",
    "reqwest::",
    "hyper::",
];

/// The pure crates, as directories beside this crate's (this one included).
const PURE_CRATES: &[&str] = &["pyimage-model", "pyimage-locate", "pyimage-policy"];

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// Crates that must never be a dependency of a pure crate.
const FORBIDDEN_DEPENDENCIES: &[&str] = &[
    "tokio",
    "reqwest",
    "hyper",
    "async-std",
    "mio",
    "ureq",
    "rusqlite",
    "libc",
    "nix",
    "socket2",
    "walkdir",
    "ignore",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn library_sources_name_no_io_module() {
    let mut files = Vec::new();
    for name in PURE_CRATES {
        let before = files.len();
        rust_files(&crate_dir(name).join("src"), &mut files);
        assert!(files.len() > before, "found the sources of {name}");
    }
    assert!(files.len() >= 50, "found the sources");
    let mut offences = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("readable");
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for forbidden in FORBIDDEN_PATHS {
                if code.contains(forbidden) {
                    offences.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "I/O in a pure crate:\n{}",
        offences.join("\n")
    );
}

#[test]
fn no_io_runtime_among_dependencies() {
    for crate_name in PURE_CRATES {
        let manifest =
            fs::read_to_string(crate_dir(crate_name).join("Cargo.toml")).expect("manifest");
        let mut in_dependencies = false;
        let mut ours = Vec::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                in_dependencies = line == "[dependencies]";
                continue;
            }
            if !in_dependencies {
                continue;
            }
            let name = line.split(['=', ' ', '.']).next().unwrap_or_default();
            assert!(
                !FORBIDDEN_DEPENDENCIES.contains(&name),
                "{crate_name} must not depend on {name} (I/O belongs in the shell crates)"
            );
            if name.starts_with("pyimage-") {
                ours.push(name.to_owned());
            }
        }
        // model ← locate ← policy ← core: each uses only the crates below it.
        let allowed: &[&str] = match *crate_name {
            "pyimage-model" => &[],
            "pyimage-locate" => &["pyimage-model"],
            "pyimage-policy" => &["pyimage-model", "pyimage-locate"],
            _ => &["pyimage-model", "pyimage-locate", "pyimage-policy"],
        };
        for name in &ours {
            assert!(
                allowed.contains(&name.as_str()),
                "{crate_name} must not depend on {name}: the pure crates depend only downwards \
                 (model ← locate ← policy)"
            );
        }
    }
}

#[test]
fn clippy_configuration_forbids_io_entry_points() {
    for crate_name in PURE_CRATES {
        let config =
            fs::read_to_string(crate_dir(crate_name).join("clippy.toml")).expect("clippy.toml");
        for entry in [
            "std::fs::read_to_string",
            "std::fs::File",
            "std::env::var",
            "std::net::TcpStream",
            "std::process::Command",
            "std::time::SystemTime::now",
            "std::time::Instant::now",
        ] {
            assert!(
                config.contains(&format!("\"{entry}\"")),
                "{crate_name}/clippy.toml must forbid {entry}"
            );
        }
    }
}
