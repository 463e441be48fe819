//! `pyimage-testkit serve --from FILE`, as a person starts it: it prints the registry, the token realm and a
//! `pyimage.toml` snippet, serves until SIGTERM, then stops its registry.

use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use pyimage_testkit::library_file;

/// Kills the server if the test fails before it stops it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and reads its output up to "serving until".
fn start_serve(file: &str) -> (Server, BufReader<std::process::ChildStdout>, String) {
    let file = library_file(file);
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_pyimage-testkit"))
            .args(["serve", "--from"])
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "server exited early:\n{printed}"
        );
        printed.push_str(&line);
        if line.starts_with("serving until") {
            break;
        }
    }
    (server, stdout, printed)
}

fn field(printed: &str, name: &str) -> String {
    printed
        .lines()
        .find_map(|line| line.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name:?} in:\n{printed}"))
        .trim()
        .to_owned()
}

#[test]
fn serve_prints_how_to_use_it_and_stops_on_sigterm() {
    let (mut server, mut stdout, printed) = start_serve("2026-08-13T122654-73f6781860cc.txt");
    let registry = field(&printed, "registry:");
    let host = registry.strip_prefix("http://").unwrap().to_owned();
    assert!(field(&printed, "token realm:").ends_with("/token"));
    assert!(printed.contains(&format!(
        "[registries.\"docker.io\"]\nendpoint = \"{registry}\"\ninsecure = true"
    )));

    let inspected = Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            &format!("docker://{host}/library/python:3.12-slim"),
        ])
        .output()
        .unwrap();
    assert!(
        inspected.status.success(),
        "{}",
        String::from_utf8_lossy(&inspected.stderr)
    );

    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut rest = String::new();
    while stdout.read_line(&mut rest).unwrap() > 0 {}
    assert!(server.0.wait().unwrap().success());
    assert!(rest.contains("stopped"), "{rest}");
    assert!(
        TcpStream::connect(&host).is_err(),
        "the registry still answers on {host}"
    );
}

#[test]
fn a_killed_server_still_stops_its_registry() {
    // SIGKILL gives the server no chance to drop anything: the registry's guardian notices its lifeline close.
    let (mut server, _stdout, printed) = start_serve("2025-08-06T142023-0cea934d4699.txt");
    let host = field(&printed, "registry:")
        .strip_prefix("http://")
        .unwrap()
        .to_owned();
    assert!(TcpStream::connect(&host).is_ok());
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    // Polled until the port is closed; the ceiling only turns a registry that never stops into a failure.
    let ceiling = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while TcpStream::connect(&host).is_ok() {
        assert!(
            std::time::Instant::now() < ceiling,
            "the registry still answers on {host} 60 s after its server was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
