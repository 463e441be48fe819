//! The engine client against a real dockerd (Debian's docker.io), over its unix socket and over TCP: ping,
//! version, inspect of a locally built image compared with what `docker image inspect` prints, a missing image,
//! and an unreachable address. No dockerd or containerd is left running afterwards.

use std::time::Duration;

use crate::dockerd::Dockerd;
use pyimage_engine::{EngineAddress, EngineClient, EngineError, parse_inspect};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_over_unix_socket_and_tcp_matches_the_docker_cli() {
    let port = free_port();
    let mut engine = Dockerd::start_with_tcp(&[], &[], Some(port));
    let pid = engine.pid().expect("dockerd wrote its pidfile");

    // A local image: FROM scratch + COPY, no network.
    let context = engine.dir().join("context");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("hello.txt"), "hello\n").unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /hello.txt\nENV PYTHON_VERSION=3.12.99\n",
    )
    .unwrap();
    engine.docker_ok(&[
        "build",
        "-q",
        "-t",
        "local/thing:1",
        context.to_str().unwrap(),
    ]);
    let cli_json = engine.docker_ok(&["image", "inspect", "local/thing:1"]);
    let from_cli = parse_inspect(cli_json.as_bytes(), "docker image inspect").unwrap();
    assert_eq!(from_cli.len(), 1);

    for address in [
        EngineAddress::parse(&engine.host()).unwrap(),
        EngineAddress::parse(&format!("tcp://127.0.0.1:{port}")).unwrap(),
    ] {
        let client = EngineClient::new(address.clone(), Duration::from_secs(30)).unwrap();
        let api = client.ping().await.unwrap();
        assert!(api.is_some(), "{address}: /_ping announces the API version");
        let version = client.version().await.unwrap();
        assert!(version.version.starts_with("20.10"), "{version:?}");
        assert_eq!(version.os, "linux");

        let image = client
            .inspect_image("local/thing:1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(image, from_cli[0], "{address}: API and CLI agree");
        assert_eq!(image.repo_tags, vec!["local/thing:1".to_owned()]);
        assert!(
            image.repo_digests.is_empty(),
            "built locally: no RepoDigest"
        );
        assert_eq!(image.env("PYTHON_VERSION"), Some("3.12.99"));
        assert_eq!(image.platform().as_deref(), Some("linux/amd64"));
        // By ID and ID prefix.
        let short = &image.id["sha256:".len().."sha256:".len() + 12];
        let by_id = client.inspect_image(short).await.unwrap().unwrap();
        assert_eq!(by_id.id, image.id);
        // Missing image.
        assert!(
            client
                .inspect_image("python:0.0-none")
                .await
                .unwrap()
                .is_none()
        );
        // Names that are no image reference never reach the engine.
        assert!(matches!(
            client.inspect_image("../../containers/json").await,
            Err(EngineError::BadName(_))
        ));
    }

    engine.stop();
    // Nothing of this engine is left running.
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "dockerd {pid} still runs"
    );
    let leftovers = crate::dockerd::running(&engine.dir().display().to_string());
    assert!(leftovers.is_empty(), "still running: {leftovers:?}");

    // Unreachable: the address is named, and it is classed as unreachable.
    let gone = EngineClient::new(
        EngineAddress::parse(&engine.host()).unwrap(),
        Duration::from_secs(5),
    )
    .unwrap();
    let error = gone.ping().await.unwrap_err();
    assert!(error.is_unreachable(), "{error}");
    assert!(error.to_string().contains(&engine.host()), "{error}");
}
