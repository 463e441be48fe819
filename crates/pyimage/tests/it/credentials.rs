//! Credentials from the Docker client's configuration, end to end: a `credsStore` helper and an `auths` entry are
//! used to authenticate at the replica's token server, and no secret reaches the output or the debug log.
//!
//! The test starts a replica of its own: it counts the token server's requests, which other tests would add to.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use base64::Engine;
use pyimage_testkit::{Replica, newest_library_file};

use crate::support::{pyimage, stderr, stdout, tempdir};

fn run(dir: &Path, config: &Path, docker_config: &Path, path_prefix: Option<&Path>) -> Output {
    let mut command = pyimage()
        .config(config)
        .env("DOCKER_CONFIG", docker_config)
        .current_dir(dir);
    if let Some(prefix) = path_prefix {
        let path = std::env::var("PATH").unwrap_or_default();
        command = command.env("PATH", format!("{}:{path}", prefix.display()));
    }
    command.run(&["-vv", "resolve", "python:3.12-slim"])
}

#[test]
fn credentials_from_helper_and_auths_reach_the_token_server_and_nowhere_else() {
    let (replica, _) = Replica::start_seeded(newest_library_file().unwrap()).unwrap();
    let user = replica.credentials().username.clone();
    let password = replica.credentials().password.clone();
    let dir = tempdir("credentials");
    let dir = dir.path();
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let config = dir.join("pyimage.toml");
    std::fs::write(&config, replica.pyimage_toml()).unwrap();

    // 1. A credsStore helper (`docker-credential-pyimagetest get`), as Docker Desktop or pass would provide.
    let helper = dir.join("bin/docker-credential-pyimagetest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\necho \"$server\" > \"{}\"\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$server\"\n",
            dir.join("asked").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let helper_config = dir.join("helper");
    std::fs::create_dir_all(&helper_config).unwrap();
    std::fs::write(
        helper_config.join("config.json"),
        r#"{"credsStore":"pyimagetest"}"#,
    )
    .unwrap();

    replica.token_server().clear_requests();
    let output = run(dir, &config, &helper_config, Some(&dir.join("bin")));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let asked = std::fs::read_to_string(dir.join("asked")).unwrap();
    assert_eq!(
        asked.trim(),
        "https://index.docker.io/v1/",
        "helpers are asked with Docker Hub's config key"
    );
    let requests = replica.token_server().requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].authenticated && requests[0].username.as_deref() == Some(user.as_str()));
    let everything = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        !everything.contains(&password),
        "password leaked into output or log"
    );
    assert!(
        everything.contains("DEBUG") || everything.contains("debug"),
        "the debug log was on"
    );

    // 2. An `auths` entry (base64 user:password) under Docker Hub's key.
    let auths_config = dir.join("auths");
    std::fs::create_dir_all(&auths_config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::write(
        auths_config.join("config.json"),
        format!(r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    replica.token_server().clear_requests();
    let output = run(dir, &config, &auths_config, None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = replica.token_server().requests();
    assert!(requests.iter().all(|r| r.authenticated), "{requests:?}");
    let everything = format!("{}{}", stdout(&output), stderr(&output));
    assert!(
        !everything.contains(&password) && !everything.contains(&auth),
        "secret leaked"
    );

    // 3. Wrong credentials: a clear error naming the token server, exit 3, still no secret.
    std::fs::write(
        auths_config.join("config.json"),
        r#"{"auths":{"https://index.docker.io/v1/":{"auth":"bWFsbG9yeTp3cm9uZy1wYXNzd29yZA=="}}}"#,
    )
    .unwrap();
    let output = run(dir, &config, &auths_config, None);
    assert_eq!(output.status.code(), Some(3));
    let text = stdout(&output);
    assert!(text.contains("credentials refused"), "{text}");
    assert!(!text.contains("wrong-password") && !stderr(&output).contains("wrong-password"));

    // 4. A malformed config.json is an error naming the file and line.
    std::fs::write(auths_config.join("config.json"), "{\n  \"auths\": [\n").unwrap();
    let output = run(dir, &config, &auths_config, None);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stdout(&output).contains("config.json:2:"),
        "{}",
        stdout(&output)
    );
}
