//! pyimage-core must stay free of I/O. clippy.toml forbids the std entry points; this test also catches what clippy
//! cannot see: `use` of I/O modules (whose functions might be called through a re-export or alias) and
//! dependencies that bring an I/O runtime.
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

/// Crates that must never be a dependency of the pure core.
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() >= 5, "found the sources");
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
        "I/O in pyimage-core:\n{}",
        offences.join("\n")
    );
}

#[test]
fn no_io_runtime_among_dependencies() {
    let manifest = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .expect("manifest");
    let mut in_dependencies = false;
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
            "pyimage-core must not depend on {name} (I/O belongs in the shell crates)"
        );
    }
}

#[test]
fn clippy_configuration_forbids_io_entry_points() {
    let config = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("clippy.toml"))
        .expect("clippy.toml");
    for entry in [
        "std::fs::read_to_string",
        "std::fs::File",
        "std::env::var",
        "std::net::TcpStream",
        "std::process::Command",
    ] {
        assert!(
            config.contains(&format!("\"{entry}\"")),
            "clippy.toml must forbid {entry}"
        );
    }
}
